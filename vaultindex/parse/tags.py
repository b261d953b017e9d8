"""Owns tags: Obsidian's inline `#tag` grammar, frontmatter `tags`, and nested-tag expansion."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from .links import mask_links
from .markdown import line_starts, mask_code

# --------------------------------------------------------------------------------------------
# tags
# --------------------------------------------------------------------------------------------

# A tag starts with `#` at line start or after whitespace; its body excludes whitespace and
# ASCII punctuation except `_ - /`, and ends at a control character (C0, DEL, C1: a tag must
# never carry an ESC sequence to a terminal or a tag page). Unicode punctuation is cut off in `_clean_inline_tag`.
# (Patterns below start with a literal character so that the regex engine can skip ahead;
# conditions on the character before a match are lookbehinds placed after that literal.)
_TAG = re.compile(r"#(?<!\S#)([^\s\x00-\x1f\x7f-\x9f!-,.:-@\[-^`{-~]+)")


def _clean_inline_tag(raw: str) -> str:
    if not raw.isascii():
        for i, ch in enumerate(raw):
            if ch not in "_-/" and unicodedata.category(ch).startswith("P"):
                raw = raw[:i]
                break
    return raw.rstrip("/")


def _is_tag(tag: str) -> bool:
    """At least one character that is not a digit (`#1984` is not a tag)."""
    return bool(tag) and not tag.isdigit()


def tags_in(masked: str) -> list[tuple[str, int]]:
    """(tag as written, offset) in text whose code and links are already blanked."""
    found: list[tuple[str, int]] = []
    if "#" not in masked:
        return found
    for m in _TAG.finditer(masked):
        tag = _clean_inline_tag(m.group(1))
        if _is_tag(tag):
            found.append((tag, m.start()))
    return found


def find_inline_tags(text: str) -> list[tuple[str, int]]:
    """Inline `#tags` of a note body as (tag without `#`, 1-based line), case as written.

    Follows Obsidian's grammar; skips code, math, comments, escaped `\\#` and link text.
    """
    try:
        masked = mask_links(mask_code(text))
        starts = line_starts(text)
        return [(tag, bisect.bisect_right(starts, off)) for tag, off in tags_in(masked)]
    except Exception:  # noqa: BLE001 - a helper for other modules must not crash them either
        return []


def expand_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Lower-case tags with the parents of nested ones: "ml/vision" -> ("ml", "ml/vision")."""
    out: set[str] = set()
    for tag in tags:
        parts = [p for p in str(tag).strip().lstrip("#").lower().split("/") if p]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return tuple(sorted(out))


_FM_TAG_SPLIT = re.compile(r"[,\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def frontmatter_tags(value: Any) -> list[str]:
    """Frontmatter `tags`: a list, or a string split on commas and spaces; `#` optional; a tag
    ends at a control character, as an inline one does."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    tags = []
    for item in items:
        if item is None or isinstance(item, (dict, list, bool)):
            continue
        for part in _FM_TAG_SPLIT.split(str(item)):
            tag = _CONTROL.split(part, 1)[0].strip().removeprefix("#").rstrip("/")
            if _is_tag(tag):
                tags.append(tag)
    return tags
