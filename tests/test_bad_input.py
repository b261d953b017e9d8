"""Bad input: every hostile or broken file gives a diagnostic naming it, and everything else is indexed."""

from __future__ import annotations

import os
import resource
import time
import unicodedata
from pathlib import Path

import pytest

from conftest import write
from vaultindex import Vault

GOOD = "# Good note\nAbout data pruning and [[Other]].\n"


def _bytes(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


HOSTILE: dict[str, bytes] = {
    "yaml-unclosed.md": b"---\ntags: [a, b\n---\nbody\n",
    "yaml-tab.md": b"---\ntitle: x\n\tbad: indent\n---\nbody\n",
    "yaml-dup-anchor.md": b"---\na: *missing\n---\nbody\n",
    "yaml-bomb.md": (
        b"---\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        b"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n---\nbody\n"
    ),
    "yaml-python.md": b"---\nx: !!python/object/apply:os.system ['touch /tmp/vaultindex-pwned']\n---\nbody\n",
    "yaml-deep.md": b"---\nx: " + b"[" * 50_000 + b"\n---\nbody\n",
    "yaml-list.md": b"---\n- a\n- b\n---\nbody\n",
    "binary.md": bytes(range(256)) * 40,
    "latin1.md": "# Caf\u00e9 cr\u00e8me\n".encode("latin-1"),
    "utf16.md": "# UTF-16 note\nhello [[Other]]\n".encode("utf-16"),
    "empty.md": b"",
    "frontmatter-only.md": b"---\ntitle: Only frontmatter\n---\n",
    "long-line.md": b"# Long\n" + b"word " * 200_000 + b"\n",
    "many-lines.md": b"# Many\n" + b"line [[Other]] #tag\n" * 100_000,
    "many-links.md": b"# Links\n" + b"".join(b"[[Target %d]] " % i for i in range(10_000)) + b"\n",
    "nested.md": b"# Nested\n" + b"".join(b"  " * i + b"- item\n" for i in range(2000)) + b">" * 5000 + b" quote\n",
    "names/with spaces.md": GOOD.encode(),
    "names/hash#name.md": GOOD.encode(),
    "names/pipe|name.md": GOOD.encode(),
    "names/bracket[name.md": GOOD.encode(),
    "names/percent%20name.md": GOOD.encode(),
    "names/emoji \U0001f9e0.md": GOOD.encode(),
    unicodedata.normalize("NFD", "names/Caf\u00e9 NFD.md"): GOOD.encode(),
}


@pytest.fixture
def hostile_vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for rel, data in HOSTILE.items():
        _bytes(root, rel, data)
    write(root, "Other.md", GOOD)
    write(root, ".leading-dot.md", GOOD)
    os.symlink(root / "nowhere.md", root / "broken-link.md")
    (root / "loop").mkdir()
    os.symlink(root / "loop", root / "loop" / "self")
    _bytes(root, "huge.md", b"# Huge\n" + b"x" * (6 * 1024 * 1024))
    return root


def test_every_bad_file_is_reported_and_the_rest_indexed(hostile_vault):
    outside_before = set(hostile_vault.parent.iterdir())
    files_before = _snapshot(hostile_vault)
    started = time.perf_counter()
    stats = Vault.open(hostile_vault).sync()
    elapsed = time.perf_counter() - started
    vault = Vault.open(hostile_vault)
    indexed = set(vault.catalog.records)
    # Every readable note is indexed, whatever its content.
    for rel in HOSTILE:
        if rel != "binary.md":
            assert rel in indexed, rel
    assert "Other.md" in indexed
    reported = {d.path for d in stats.diagnostics}
    for rel in [
        "yaml-unclosed.md", "yaml-tab.md", "yaml-dup-anchor.md", "yaml-bomb.md", "yaml-python.md",
        "yaml-deep.md", "yaml-list.md", "binary.md", "latin1.md", "huge.md", "broken-link.md", "loop/self",
    ]:
        assert rel in reported, rel
    assert not os.path.exists("/tmp/vaultindex-pwned")
    # Nothing was written outside the vault's own state folder.
    assert set(hostile_vault.parent.iterdir()) == outside_before
    after = {p: s for p, s in _snapshot(hostile_vault).items() if not p.startswith(".vaultindex/")}
    assert after == files_before
    # Bounded: the whole hostile vault indexes in seconds, not minutes (a loose sanity bound).
    assert elapsed < 120
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 2_000_000  # KB: under 2 GB


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                st = path.stat()
                out[path.relative_to(root).as_posix()] = (st.st_mtime_ns, st.st_size)
    return out


def test_hostile_vault_still_answers_queries(hostile_vault):
    vault = Vault.open(hostile_vault)
    vault.sync()
    found = {h.path for h in vault.search("data pruning", limit=100).hits}
    assert "Other.md" in found and "names/emoji \U0001f9e0.md" in found
    assert vault.search("UTF-16 note").hits[0].path == "utf16.md"
    assert vault.search("Café").hits[0].path in {"latin1.md"}
    assert unicodedata.normalize("NFD", "names/Caf\u00e9 NFD.md") in found


def test_a_fifty_megabyte_note_is_skipped_with_a_diagnostic_by_default(tmp_path):
    root = tmp_path / "v"
    _bytes(root, "big.md", b"# Big\n" + b"lorem ipsum " * (50 * 1024 * 1024 // 12))
    write(root, "small.md", GOOD)
    stats = Vault.open(root).sync()
    assert [d.path for d in stats.diagnostics] == ["big.md"]
    assert set(Vault.open(root).catalog.records) == {"small.md"}
