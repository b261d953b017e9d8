"""The fixes vaultindex makes to Whoosh's code, each tested on one whoosh3 version.

Applied by `apply()` (FullText calls it before its first search), not at import. On a whoosh3
version other than the tested one nothing is patched and a warning says so: the fix may be
wrong for code that changed, and pyproject.toml pins the tested range anyway.
"""

from __future__ import annotations

import logging
from typing import Any

TESTED_VERSION = "3.54"  # whoosh3 major.minor the patches were written against
log = logging.getLogger(__name__)
_applied: bool | None = None  # None: not tried yet


def applies_to(version: str) -> bool:
    """Whether the patches were tested on this whoosh3 version."""
    return version == TESTED_VERSION or version.startswith(TESTED_VERSION + ".")


def apply() -> bool:
    """Patch Whoosh once (True when patched)."""
    global _applied
    if _applied is None:
        import whoosh

        # Whoosh's own version string: importlib.metadata costs a fresh command about 50 ms.
        version = whoosh.versionstring()
        _applied = applies_to(version)
        if _applied:
            _fix_and_not_matcher()
        else:
            log.warning(
                "whoosh3 %s is not the tested %s: its NOT queries are not patched (vaultindex pins whoosh3>=3.54,<3.55)",
                version, TESTED_VERSION,
            )
    return _applied


def _fix_and_not_matcher() -> None:
    """Make `a NOT b` exclude b's first match too.

    Whoosh's AndNotMatcher (whoosh3 3.54 and the Whoosh it forks) only skips the prohibited
    documents at start when both sub-matchers begin on the same document; when the
    prohibited one begins earlier, the first matching document slips through, so
    `pruning -forgetting` could return a note about forgetting. Skipping forward at start,
    as it does after every step, fixes it (test_search.py has the regression test).
    """
    from whoosh.matching import binary

    def _find_first(self: Any) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    binary.AndNotMatcher._find_first = _find_first  # type: ignore[method-assign]
