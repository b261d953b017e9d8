"""Whoosh is patched explicitly, once, and only on the whoosh3 version the patches were tested on."""

from __future__ import annotations

import subprocess
import sys

from vaultindex.fulltext.patches import TESTED_VERSION, applies_to


def test_the_patches_apply_to_the_tested_version_only() -> None:
    assert applies_to(TESTED_VERSION) and applies_to(TESTED_VERSION + ".0") and applies_to(TESTED_VERSION + ".7")
    assert not applies_to("3.55.0") and not applies_to(TESTED_VERSION + "0") and not applies_to("unknown")


def test_importing_the_full_text_patches_nothing_until_an_index_is_used(tmp_path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "import vaultindex.fulltext as ft\n"
        "from whoosh.matching import binary\n"
        "before = binary.AndNotMatcher._find_first.__module__\n"
        "ft.FullText(Path(sys.argv[1]))\n"
        "print(before, binary.AndNotMatcher._find_first.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["whoosh.matching.binary", "vaultindex.fulltext.patches"]
