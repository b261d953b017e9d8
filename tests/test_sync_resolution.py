"""A sync resolves a batch's links from the notes its keys reach (store.py's reskeys table), not
from the whole vault: it must answer exactly as a full rebuild does, for the names that make
resolution hard (case variants, folders, conflict copies, attachments, aliases, citations)."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write
from test_sync import link_rows as _answers  # links, backlinks, unresolved, orphans, tags of every note
from vaultindex import Vault

FILES = [
    "Alpha.md",
    "alpha.md",
    "x/Alpha.md",
    "x/y/ALPHA.md",
    "Alpha.sync-conflict-20260101-120000-ABCDEFG.md",
    "x/Alpha (conflicted copy 2026-01-01).md",
    "y/Alpha (conflicted copy 2026-01-01).md",
    "Beta.md",
    "x/Beta.md",
    "@key1.md",
    "Gamma.png",
    "x/Gamma.png",
    "Gamma.png.md",
    "Delta.md",
]
BODIES = [
    "Links [[Alpha]] [[alpha]] [[x/Alpha]] [[y/alpha]] [[./Alpha]] [[../Beta]] [[Gamma.png]] [[Gamma]]\n",
    "---\naliases: [Nick, Beta]\n---\nSee [[Nick]] and [[Delta]] and [[Beta#H]].\n",
    "---\ncitekey: key1\n---\nCites [@key1] and [@key2] and 10.1000/abc.\n",
    "---\ndoi: 10.1000/abc\naliases: Gamma\n---\n[@Alpha] ![[Gamma.png]] [[Omega]]\n",
    "---\ncitekey: key2\naliases: [Nick]\n---\n[[Alpha.sync-conflict-20260101-120000-ABCDEFG]] [@key1]\n",
    "plain text, no links\n",
    "[[Alpha (conflicted copy 2026-01-01)]] [[Nick]]\n",
]
OPS = st.lists(
    st.tuples(st.sampled_from(["write", "delete"]), st.sampled_from(FILES), st.sampled_from(range(len(BODIES)))),
    min_size=1,
    max_size=6,
)


def _apply(root: Path, op: tuple[str, str, int]) -> None:
    kind, name, body = op
    path = root / name
    if kind == "delete":
        if path.exists():
            path.unlink()
        return
    if name.endswith(".png"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG" + bytes([body]))
    else:
        write(root, name, BODIES[body] + f"<!-- {kind} {body} -->\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(OPS, min_size=1, max_size=4), aliases=st.booleans())
def test_a_batch_resolves_as_a_full_rebuild_does(tmp_path_factory, steps, aliases):
    root = tmp_path_factory.mktemp("res") / "vault"
    root.mkdir()
    if aliases:
        write(root, ".vaultindex/config.toml", "resolve_aliases = true\n")
    for ops in steps:
        for op in ops:
            _apply(root, op)
        Vault.open(root).sync()
    copy = root.parent / "copy"
    shutil.copytree(root, copy)
    fresh = Vault.open(copy)
    fresh.sync(full=True)
    assert _answers(Vault.open(root)) == _answers(fresh)


def _same_as_full_rebuild(root: Path) -> None:
    copy = root.parent / "copy"
    shutil.copytree(root, copy)
    fresh = Vault.open(copy)
    fresh.sync(full=True)
    assert _answers(Vault.open(root)) == _answers(fresh)


def test_a_link_written_later_reaches_a_note_by_its_alias(tmp_path):
    root = tmp_path / "vault"
    write(root, ".vaultindex/config.toml", "resolve_aliases = true\n")
    write(root, "Beta.md", "---\naliases: [Nick]\n---\nhi\n")
    Vault.open(root).sync()
    write(root, "Alpha.md", "see [[Nick]]\n")
    vault = Vault.open(root)
    vault.sync()
    assert [(o.target, o.path) for o in vault.links("Alpha.md")] == [("Nick", "Beta.md")]
    _same_as_full_rebuild(root)


def test_a_link_written_later_skips_a_conflict_copy_whose_original_exists(tmp_path):
    root = tmp_path / "vault"
    write(root, "x/Alpha.md", "the original\n")
    write(root, "x/Alpha (conflicted copy 2026-01-01).md", "a copy of x/Alpha\n")
    write(root, "y/Alpha (conflicted copy 2026-01-01).md", "a note with an odd name (no y/Alpha.md)\n")
    Vault.open(root).sync()
    write(root, "Beta.md", "[[Alpha (conflicted copy 2026-01-01)]]\n")
    vault = Vault.open(root)
    vault.sync()
    [out] = vault.links("Beta.md")
    assert (out.status, out.path) == ("resolved", "y/Alpha (conflicted copy 2026-01-01).md")
    _same_as_full_rebuild(root)


def test_a_removed_bibliography_gives_its_citation_back_to_the_note_that_answers_it(tmp_path):
    # Found by test_sync's property once bib entries and reskeys met: [@Alpha] went to the bib
    # entry `alpha`; with the .bib gone it must reach Alpha.md again, as a full rebuild does.
    root = tmp_path / "vault"
    write(root, "refs.bib", "@misc{alpha, title={A}}\n")
    write(root, "Alpha.md", "---\ncitekey: key2020\n---\ncites [@Alpha] and [@gone].\n")
    write(root, "Other.md", "unrelated\n")
    Vault.open(root).sync()
    (root / "refs.bib").unlink()
    vault = Vault.open(root)
    vault.sync()
    assert [(o.target, o.status, o.path) for o in vault.links("Alpha.md")] == [
        ("Alpha", "resolved", "Alpha.md"), ("gone", "unresolved", None)]
    _same_as_full_rebuild(root)
