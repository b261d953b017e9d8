"""The store keeps each note's links, citations and headings once: in their rows, not again in the
note's JSON (notejson.py), and every reader gives back the note as it was parsed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import EXAMPLE_VAULT, build_dir, write
from vaultindex import Vault
from vaultindex.indexer import parse_file
from vaultindex.models import Citation, Heading, Link, Note
from vaultindex.notejson import note_from_json, note_to_json, rows_hold
from vaultindex.scan import FileInfo
from vaultindex.store import Store


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    dest = tmp_path / "vault"
    shutil.copytree(EXAMPLE_VAULT, dest, ignore=shutil.ignore_patterns(".vaultindex"))
    write(dest, "cites.md", "# Intro\n\nAs [see @smith2020, p. 3; @doe2021] and [[Reading list#Top|the list]], ![[fig.png]].\n"
          "## Method\nMore [[Nowhere]] and 10.1000/xyz123 and arXiv:2206.14486.\n")
    write(dest, "accents.md", "# Über Straße\n\n[[Café crème|le café]] naïve.\n")
    return dest


def parsed(vault: Path, store: Store) -> dict[str, Note]:
    """Each indexed note as the parser reads its file now."""
    out = {}
    for rel in store.paths():
        data = (vault / rel).read_bytes()
        out[rel] = parse_file(rel, data, FileInfo(len(data), 0), "")[0].note
    return out


def test_every_reader_gives_back_the_parsed_notes_links_citations_and_headings(vault):
    Vault.open(vault).sync()
    store = Store(build_dir(vault) / "store.sqlite")
    expected = parsed(vault, store)
    assert len(expected) > 10 and any(n.citations for n in expected.values()) and any(n.headings for n in expected.values())
    try:
        for path, note in expected.items():
            assert store.note(path) == note, path
            record = store.record(path)
            assert record is not None and record.note == note
        assert {n.path: n for n in store.all_notes()} == expected
        assert {r.note.path: r.note for r in store.records()} == expected
        assert store.hit_fields(["cites.md", "accents.md"]) == {p: expected[p] for p in ("cites.md", "accents.md")}
    finally:
        store.close()


def test_the_note_json_does_not_repeat_what_the_link_and_heading_rows_hold(vault):
    Vault.open(vault).sync()
    db = sqlite3.connect(build_dir(vault) / "store.sqlite")
    try:
        contexts = {}
        for source, context in db.execute("SELECT source, context FROM links WHERE context != ''"):
            contexts.setdefault(source, []).append(context)
        assert contexts
        for path, data in db.execute("SELECT path, data FROM notejson"):
            fields = json.loads(data)
            assert not {"links", "citations", "headings"} & set(fields), path
            assert not any(json.dumps(c)[1:-1] in data for c in contexts.get(path, ()) if len(c) > 20), path
    finally:
        db.close()


def test_an_edit_and_a_removal_keep_the_rows_and_the_notes_in_step(vault):
    v = Vault.open(vault)
    v.sync()
    write(vault, "cites.md", "# Only heading\n\nNow [[About this vault]] only, and [@newkey].\n")
    (vault / "accents.md").unlink()
    v.sync()
    store = Store(build_dir(vault) / "store.sqlite")
    try:
        note = store.note("cites.md")
        assert note is not None
        assert [link.target for link in note.links] == ["About this vault"]
        assert [c.key for c in note.citations] == ["newkey"] and [h.text for h in note.headings] == ["Only heading"]
        assert store.note("accents.md") is None
        assert {n.path: n for n in store.all_notes()} == parsed(vault, store)
    finally:
        store.close()


def test_text_the_rows_cannot_hold_stays_in_the_json():
    odd = "bad \udcff byte"
    note = Note("a.md", "A", links=(Link("x", context=odd),), citations=(Citation("k"),), headings=(Heading(1, "H", 1),))
    assert not rows_hold(note)
    assert note_from_json(note_to_json(note)) == note
    plain = Note("b.md", "B", links=(Link("x", context="fine"),), headings=(Heading(2, "Über", 3),))
    assert rows_hold(plain)
    text = note_to_json(plain)
    assert "links" not in json.loads(text)
    assert note_from_json(text, ((Link("x", context="fine"),), (), (Heading(2, "Über", 3),))) == plain


# -- "did you mean" counts the notes of each word in the store, exactly, after edits and removals ----

def test_did_you_mean_follows_edits_and_removals_at_once(tmp_path):
    """A word gone from the vault is never offered, and counts follow edits: Whoosh's own counts
    kept a removed note's words until its segment was merged, so `zymorgy` still offered
    `zymurgy` (and then found nothing)."""
    root = tmp_path / "vault"
    write(root, "brew.md", "# Brewing\n\nNotes on zymurgy and yeast.\n")
    for i in range(3):
        write(root, f"other{i}.md", f"# Other {i}\n\nthe cache is warm, the bread is fresh\n")
    write(root, "k.md", "# K\n\nthe cacha is a tree\n")
    vault = Vault.open(root)
    vault.sync()
    assert vault.search("zymorgy").suggestion == "zymurgy"
    assert vault.search("cachx").suggestion == "cache"  # 3 notes over 1
    (root / "brew.md").unlink()
    for i in range(3):
        write(root, f"other{i}.md", f"# Other {i}\n\nthe bread is fresh\n")
    write(root, "k2.md", "# K2\n\nanother cacha\n")
    vault.sync()
    assert vault.search("zymorgy").suggestion is None
    assert vault.search("cachx").suggestion == "cacha"
    fresh = Vault.open(root)
    fresh.sync(full=True)
    for query in ("zymorgy", "cachx", "breaf"):
        assert fresh.search(query).suggestion == vault.search(query).suggestion
