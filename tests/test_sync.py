"""`Vault.sync`: incremental updates, rebuilds, and "incremental equals full rebuild"."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build_dir, write
from vaultindex import Vault
from vaultindex.store import decode_path


def stored(vault: Vault) -> dict:
    """What the index holds, comparable across vaults (file stamps left out)."""
    return {p: r.note for p, r in vault.catalog.records.items()}


def link_rows(vault: Vault) -> dict:
    """What the store's link rows answer, for every note."""
    paths = sorted(vault.catalog.records)
    return {
        "links": {p: vault.links(p) for p in paths},
        "backlinks": {p: vault.backlinks(p) for p in paths},
        "unresolved": vault.unresolved(),
        "orphans": vault.orphans(),
        "tags": vault.tags(),
    }


def graph_answers(vault: Vault) -> dict:
    """The same questions answered by graph.LinkGraph built from the notes (the reference)."""
    from vaultindex.tagpages import count_tags

    graph = vault.graph
    paths = sorted(vault.catalog.records)
    return {
        "links": {p: graph.links(p) for p in paths},
        "backlinks": {p: graph.backlinks(p) for p in paths},
        "unresolved": graph.unresolved(),
        "orphans": graph.orphans(),
        "tags": count_tags(vault.notes()),
    }


def test_first_sync_indexes_every_note_and_second_is_a_no_op(example_copy):
    vault = Vault.open(example_copy)
    first = vault.sync()
    n_notes = sum(1 for p in example_copy.rglob("*.md") if "Templates" not in p.parts)
    assert first.added == n_notes == first.notes
    again = Vault.open(example_copy).sync()
    assert (again.added, again.modified, again.removed) == (0, 0, 0)
    assert again.unchanged == n_notes


def test_only_changed_files_are_touched(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    write(example_copy, "papers/New paper.md", "# New paper\nAbout #new-tag things.\n")
    (example_copy / "papers/LocoProp.md").write_text("# LocoProp\nRewritten.\n")
    (example_copy / "papers/SpanBERT.md").unlink()
    stats = Vault.open(example_copy).sync()
    assert (stats.added, stats.modified, stats.removed) == (1, 1, 1)


def test_touch_without_content_change_is_not_a_modification(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    target = example_copy / "papers/LocoProp.md"
    os.utime(target, ns=(1, 1))
    stats = Vault.open(example_copy).sync()
    assert (stats.added, stats.modified, stats.removed) == (0, 0, 0)
    # The new stamp is remembered: the next sync does not even hash the file.
    assert Vault.open(example_copy).catalog.records["papers/LocoProp.md"].mtime_ns == 1


def test_full_sync_rebuilds(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    stats = vault.sync(full=True)
    assert stats.rebuilt and stats.added == stats.notes


def test_version_change_triggers_a_rebuild_with_a_reason(example_copy):
    Vault.open(example_copy).sync()
    db = sqlite3.connect(build_dir(example_copy) / "store.sqlite")
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (json.dumps({"schema": -1, "parser": -1}),))
    db.close()
    stats = Vault.open(example_copy).sync()
    assert "another version" in stats.rebuilt
    assert stats.added == stats.notes


def test_corrupt_index_is_rebuilt_with_a_message(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    for f in (build_dir(example_copy) / "fulltext").iterdir():
        if f.suffix in (".toc", ".seg") or f.name.endswith(".toc"):
            f.write_bytes(b"garbage")
    stats = Vault.open(example_copy).sync()
    assert stats.rebuilt
    assert Vault.open(example_copy).search("data pruning").hits


def test_bad_frontmatter_is_reported_and_the_note_still_indexed(example_copy):
    stats = Vault.open(example_copy).sync()
    bad = [d for d in stats.diagnostics if d.path == "papers/Broken frontmatter draft.md"]
    assert bad and bad[0].line and bad[0].severity == "error"
    assert "papers/Broken frontmatter draft.md" in [
        h.path for h in Vault.open(example_copy).search("Chinchilla", limit=50).hits
    ]


def test_excluded_files_are_not_indexed_but_known(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    assert not any(p.startswith("Templates/") for p in vault.catalog.records)
    assert "Templates/Paper note template.md" in vault.catalog.excluded
    assert "attachments/fig-pruning.png" in vault.catalog.attachments


def test_apply_dirty_paths_matches_a_full_scan(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    shutil.move(example_copy / "topics", example_copy / "subjects")
    write(example_copy, "subjects/Extra.md", "# Extra\n")
    vault._lock.acquire("test")
    try:
        stats = vault.apply(["topics", "subjects"])
    finally:
        vault._lock.release()
    assert stats.removed == stats.added - 1 > 0
    fresh_dir = example_copy.parent / "fresh"
    shutil.copytree(example_copy, fresh_dir, ignore=shutil.ignore_patterns(".vaultindex"))
    fresh = Vault.open(fresh_dir)
    fresh.sync()
    assert stored(vault) == stored(fresh)


# -- incremental equals full rebuild --------------------------------------------------------------

NAMES = ["Alpha", "beta", "Gamma note", "Ωmega", "alpha"]
FOLDERS = ["", "papers/", "topics/deep/"]
BODIES = st.sampled_from(
    [
        "",
        "# Heading\nSee [[Alpha]] and [[beta#Heading]].\n",
        "---\ntitle: T\ntags: [x, y/z]\n---\nText #inline [@key2020] 10.1000/abc.\n",
        "---\ntags: [unclosed\n---\nbody with [[Gamma note|g]]\n",
        "plain words about data pruning\n",
        "---\ncitekey: key2020\n---\nThe paper itself; cites [@Alpha] and [@gone].\n",
        # A note naming its own bibliography: the batch's bibliography is planned again.
        "---\nbibliography: refs.bib\n---\nCites [@key2020] and [@alpha].\n",
        "---\nbibliography: [papers/refs.bib, missing.bib]\n---\nCites [@broken].\n",
    ]
)
# The bibliography: an edit to refs.bib re-resolves the citations of the keys it changes.
BIBS = st.sampled_from(
    [
        None,  # no refs.bib
        "",
        "@article{key2020, title={K}, year=2020}\n",
        "@article{key2020, title={K2}, doi={10.1000/abc}}\n@misc{alpha, title={A}}\n",
        "@article{broken, title={B\n@misc{gone, title={G}}\n@misc{Alpha, title={Upper}}\n",
    ]
)
OPS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["create", "modify", "delete", "rename", "move"]),
            st.sampled_from(FOLDERS),
            st.sampled_from(NAMES),
            st.sampled_from(FOLDERS),
            BODIES,
        ),
        st.tuples(st.just("bib"), st.sampled_from(FOLDERS), st.just(""), st.just(""), BIBS),
    ),
    min_size=1,
    max_size=12,
)


def _existing(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.md") if ".vaultindex" not in p.parts)


def _apply_op(root: Path, op: tuple) -> list[str]:
    """Do `op` in the vault; the vault-relative paths it touched (both ends of a move): what
    a watch's events would name."""
    kind, folder, name, other_folder, body = op
    if kind == "bib":
        (root / folder).mkdir(parents=True, exist_ok=True)
        if body is None:
            (root / folder / "refs.bib").unlink(missing_ok=True)
        else:
            write(root, f"{folder}refs.bib", body)
        return [f"{folder}refs.bib"]
    existing = _existing(root)
    if kind in ("create", "modify") or not existing:
        write(root, f"{folder}{name}.md", body + kind)
        return [f"{folder}{name}.md"]
    victim = existing[hash((folder, name)) % len(existing)]
    touched = [victim.relative_to(root).as_posix()]
    if kind == "delete":
        victim.unlink()
    elif kind == "rename":
        dest = victim.with_name(f"{name} renamed.md")
        victim.rename(dest)
        touched.append(dest.relative_to(root).as_posix())
    else:
        (root / other_folder).mkdir(parents=True, exist_ok=True)
        dest = root / other_folder / victim.name
        if not dest.exists():
            victim.rename(dest)
            touched.append(dest.relative_to(root).as_posix())
    return touched


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(OPS, st.booleans()), min_size=1, max_size=4))
def test_incremental_sync_equals_full_rebuild(tmp_path_factory, steps):
    """Each step's changes go in by a `sync` (the whole vault compared), or as a watch batch
    does: `apply` of the paths the changes touched (only their rows looked at)."""
    root = tmp_path_factory.mktemp("inc") / "vault"
    root.mkdir()
    vault = Vault.open(root)
    for ops, as_batch in steps:
        touched = [path for op in ops for path in _apply_op(root, op)]
        writer = Vault.open(root)
        if as_batch and writer._has_index():
            writer.writer_lock.acquire("test")
            try:
                writer.apply(touched)
            finally:
                writer.writer_lock.release()
        else:
            writer.sync()
    copy = root.parent / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".vaultindex"))
    fresh = Vault.open(copy)
    fresh.sync(full=True)
    incremental = Vault.open(root)
    assert stored(incremental) == stored(fresh)
    assert {decode_path(p) for p in incremental.fulltext.paths()} == set(stored(fresh))
    # The link rows, kept current incrementally, answer as a fresh build and as LinkGraph do.
    assert link_rows(incremental) == link_rows(fresh) == graph_answers(fresh)
    del vault


def test_a_damaged_database_is_rebuilt_and_a_noop_sync_writes_nothing(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    expected = stored(vault)
    build = build_dir(example_copy)
    files = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in build.iterdir() if p.is_file()}
    assert Vault.open(example_copy).sync().changed is False
    assert Vault.open(example_copy).backlinks("Beyond neural scaling laws")
    assert {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in build.iterdir() if p.is_file()} == files
    (build / "store.sqlite").write_bytes(b"damaged" * 1000)
    for extra in ("store.sqlite-wal", "store.sqlite-shm"):
        (build / extra).unlink(missing_ok=True)
    stats = Vault.open(example_copy).sync()
    assert stats.rebuilt
    assert stored(Vault.open(example_copy)) == expected
