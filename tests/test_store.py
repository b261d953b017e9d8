"""The store: where the index lives, what it refuses, and what it never does to a user's files.

Issue 13 items 1, 2, 4, 8 and issue 14's location, pickle-free and two-machine rules, run as a
user would (the CLI in a subprocess, or CliRunner where a fault is injected in-process).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EXAMPLE_VAULT, REPO, build_dir, index_dir, write
from vaultindex import Vault
from vaultindex.cli import cli


def run(*args: str, env: dict | None = None, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "vaultindex", *args], capture_output=True, text=True, env=full_env, timeout=300
    )


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    dest = tmp_path / "vault"
    shutil.copytree(EXAMPLE_VAULT, dest, ignore=shutil.ignore_patterns(".vaultindex"))
    return dest


# -- issue 13.1: a symlinked state or index folder never costs the user a file --------------------------

def test_a_vaultindex_symlink_to_the_vault_itself_deletes_nothing(vault):
    # The user's own folders named like the index's insides.
    write(vault, "notes/Keep me.md", "# Keep me\nmy notes\n")
    write(vault, "index/Also mine.md", "# Also mine\n")
    (vault / ".vaultindex").symlink_to(vault, target_is_directory=True)
    before = tree(vault)
    for args in (("sync",), ("sync", "--full"), ("search", "pruning"), ("sync",)):
        proc = run("--vault", str(vault), *args)
        assert "Traceback" not in proc.stderr
    assert tree(vault) == before


def test_an_index_folder_that_is_a_symlink_is_refused(vault, tmp_path):
    mine = tmp_path / "mine"
    write(mine, "notes/precious.md", "# precious\n")
    write(mine, "index/also.txt", "x")
    link = tmp_path / "idx"
    link.symlink_to(mine, target_is_directory=True)
    before = tree(mine)
    for args in (("sync",), ("sync", "--full"), ("search", "pruning")):
        proc = run("--vault", str(vault), "--index-dir", str(link), *args)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith("Error: ") and "symlink" in proc.stderr
    assert tree(mine) == before


def test_an_index_folder_vaultindex_did_not_make_is_refused(vault, tmp_path):
    theirs = tmp_path / "theirs"
    write(theirs, "notes/precious.md", "# precious\n")
    write(theirs, "store.sqlite", "not ours")
    before = tree(theirs)
    proc = run("--vault", str(vault), "--index-dir", str(theirs), "sync", "--full")
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: ") and "not made by vaultindex" in proc.stderr
    assert tree(theirs) == before


def test_an_older_in_vault_index_is_removed_by_its_known_names_only(vault):
    state = vault / ".vaultindex"
    write(state, "config.toml", "resolve_aliases = false\n")
    write(state, "mine.txt", "the user's")
    for name in ("state.pickle", "graph.pickle", "version.json", "write.lock", "notes/00.pickle", "notes/63.pickle",
                 "index/_MAIN_3.toc", "index/MAIN_abc123.seg", "index/MAIN_WRITELOCK"):
        write(state, name, "old")
    write(state, "notes/my own note.md", "# mine\n")
    proc = run("--vault", str(vault), "sync")
    assert proc.returncode == 0, proc.stderr
    assert "Removed the old index inside the vault" in proc.stderr
    left = {p.relative_to(state).as_posix() for p in state.rglob("*") if p.is_file()}
    assert left == {"config.toml", "mine.txt", "notes/my own note.md"}
    assert run("--vault", str(vault), "sync").stderr.count("Removed the old index") == 0


# -- issue 13.2: a file name that is not UTF-8, and one note that cannot be indexed -----------------------

def test_a_note_named_with_bytes_that_are_not_utf8_is_indexed(vault):
    bad = os.fsencode(str(vault)) + b"/papers/bad-\xff.md"
    with open(bad, "wb") as fh:
        fh.write(b"---\ntitle: Undecodable name\n---\nA note about zymurgical fermentation. [[Beyond neural scaling laws]]\n")
    proc = run("--vault", str(vault), "sync", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rebuilt"] == ""
    found = run("--vault", str(vault), "search", "zymurgical", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout.encode("utf-8"))  # strict UTF-8
    assert len(hits) == 1 and hits[0]["title"] == "Undecodable name"
    back = run("--vault", str(vault), "backlinks", "Beyond neural scaling laws", "--json")
    assert back.returncode == 0, back.stderr
    assert any("bad-" in b["path"] for b in json.loads(back.stdout))
    # Incremental work on the index goes on: another sync, an edit, a removal.
    assert run("--vault", str(vault), "sync").returncode == 0
    os.unlink(bad)
    proc = run("--vault", str(vault), "sync", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["removed"] == 1
    assert "No notes match" in run("--vault", str(vault), "search", "zymurgical").stderr


def test_one_note_that_fails_to_index_is_its_own_diagnostic(vault, monkeypatch):
    from vaultindex import indexer

    real = indexer.parse_file

    def parse_file(path, *args, **kwargs):
        if path == "papers/LocoProp.md":
            raise RuntimeError("boom in the parser")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(indexer, "parse_file", parse_file)
    v = Vault.open(vault)
    stats = v.sync()
    assert not stats.rebuilt
    problems = [d for d in stats.diagnostics if d.path == "papers/LocoProp.md"]
    assert problems and "boom in the parser" in problems[0].message
    assert stats.notes > 10 and "papers/LocoProp.md" not in v.catalog.records
    assert v.search("pruning").hits


def test_a_failed_rebuild_leaves_the_good_index(vault, monkeypatch):
    import errno

    from vaultindex import indexer
    from vaultindex.errors import IndexWriteError

    v = Vault.open(vault)
    v.sync()
    expected = [h.path for h in v.search("pruning").hits]
    back = v.backlinks("Beyond neural scaling laws")
    real = indexer.parse_file
    count = {"n": 0}

    def parse_file(*args):
        count["n"] += 1
        if count["n"] == 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    monkeypatch.setattr(indexer, "parse_file", parse_file)
    with pytest.raises(IndexWriteError, match="as it was before"):
        Vault.open(vault).sync(full=True)
    again = Vault.open(vault)
    assert [h.path for h in again.search("pruning").hits] == expected
    assert again.backlinks("Beyond neural scaling laws") == back
    assert len([p for p in index_dir(vault).iterdir() if p.name.startswith("b")]) == 1  # the half build is gone


# -- issue 13.4: a folder that cannot be listed keeps its notes ---------------------------------------------

def test_an_unlistable_folder_keeps_its_notes_until_it_is_really_gone(vault, monkeypatch):
    # CI runs as root, for whom chmod 000 changes nothing: listing the folder fails in-process instead
    # (os.scandir raises PermissionError for it, as it does for a user without the right).
    runner = CliRunner()
    assert runner.invoke(cli, ["--vault", str(vault), "sync"]).exit_code == 0
    papers = sorted(p.relative_to(vault).as_posix() for p in (vault / "papers").rglob("*.md"))
    real_scandir = os.scandir
    blocked = os.path.join(str(vault), "papers")

    def scandir(path="."):
        if os.fspath(path).rstrip("/") == blocked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = runner.invoke(cli, ["--vault", str(vault), "sync", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["removed"] == 0
    assert any("papers" in w and "stay as they were indexed" in w for w in stats["warnings"])
    assert set(papers) <= set(Vault.open(vault).catalog.records)
    assert Vault.open(vault).backlinks("Beyond neural scaling laws")
    # Gone for real: now they go.
    monkeypatch.setattr(os, "scandir", real_scandir)
    shutil.rmtree(vault / "papers")
    stats = json.loads(runner.invoke(cli, ["--vault", str(vault), "sync", "--json"]).stdout)
    assert stats["removed"] == len(papers)


# -- issue 13.8 / 14.5: read-only use ----------------------------------------------------------------------

def _unprivileged() -> tuple[str, ...]:
    """A prefix that runs a command without root's power to write anywhere (CI runs as root)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("unshare") and subprocess.run(["unshare", "--user", "true"], capture_output=True).returncode == 0:
        return ("unshare", "--user")  # a user namespace: root without CAP_DAC_OVERRIDE, so modes count
    pytest.skip("running as root and cannot drop the right to write (no user namespaces)")


def _read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = 0o555 if path.is_dir() else 0o444
        path.chmod(mode)


def _writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_read_only_index_folder_answers_queries_and_sync_says_it_cannot_write(vault, tmp_path):
    prefix = _unprivileged()
    idx = tmp_path / "idx"
    assert run("--vault", str(vault), "--index-dir", str(idx), "sync").returncode == 0
    write(vault, "papers/Brand new.md", "# Brand new\nquixotic words\n")  # the auto-sync would want to write
    _read_only(idx)
    before = tree(idx)
    try:
        proc = run("--vault", str(vault), "--index-dir", str(idx), "search", "pruning", "--paths", prefix=prefix)
        assert proc.returncode == 0, proc.stderr
        assert "papers/" in proc.stdout
        proc = run("--vault", str(vault), "--index-dir", str(idx), "backlinks", "Beyond neural scaling laws", prefix=prefix)
        assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
        proc = run("--vault", str(vault), "--index-dir", str(idx), "sync", prefix=prefix)
        assert proc.returncode == 1
        assert proc.stderr.startswith("Error: cannot write the index") and "Traceback" not in proc.stderr
        assert tree(idx) == before
    finally:
        _writable(idx)


def test_a_read_only_vault_with_its_index_in_the_cache_is_searched_and_synced(vault, tmp_path):
    prefix = _unprivileged()
    cache = tmp_path / "cache"
    cache.mkdir()
    _read_only(vault)
    try:
        env = {"XDG_CACHE_HOME": str(cache)}
        proc = run("--vault", str(vault), "sync", env=env, prefix=prefix)
        assert proc.returncode == 0, proc.stderr
        proc = run("--vault", str(vault), "search", "pruning", "--paths", env=env, prefix=prefix)
        assert proc.returncode == 0 and "papers/" in proc.stdout, proc.stderr
        assert not (vault / ".vaultindex").exists()
    finally:
        _writable(vault)


# -- issue 14: where the index lives, two machines, no pickle -------------------------------------------------

def test_the_index_lives_in_the_cache_folder_one_per_vault_private(vault, tmp_path):
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    assert run("--vault", str(vault), "sync", env=env).returncode == 0
    (folder,) = (cache / "vaultindex").iterdir()
    assert folder.name.startswith("vault-") and (folder.stat().st_mode & 0o777) == 0o700
    assert not (vault / ".vaultindex").exists()  # the vault holds only what a person writes
    info = json.loads(run("--vault", str(vault), "info", "--json", env=env).stdout)
    assert info["index_dir"] == str(folder)
    assert info["notes"] == len(list(vault.rglob("*.md"))) - 1  # the template is excluded
    assert info["generation"] >= 1 and info["size"] > 0 and info["last_sync"] and info["watch"] == ""
    text = run("--vault", str(vault), "info", env=env).stdout
    assert str(folder) in text and "not running" in text


def test_index_dir_from_the_environment_and_from_the_config(vault, tmp_path):
    there = tmp_path / "elsewhere"
    assert run("--vault", str(vault), "sync", env={"VAULTINDEX_INDEX_DIR": str(there)}).returncode == 0
    assert (there / "vaultindex-index.json").is_file()
    write(vault, ".vaultindex/config.toml", 'index_dir = ".vaultindex/idx"\n')
    assert run("--vault", str(vault), "sync").returncode == 0
    assert (vault / ".vaultindex/idx/vaultindex-index.json").is_file()
    proc = run("--vault", str(vault), "search", "pruning", "--paths")
    assert proc.returncode == 0 and "papers/" in proc.stdout


def test_two_machines_sharing_a_vault_each_keep_their_own_index(vault, tmp_path):
    one, two = {"XDG_CACHE_HOME": str(tmp_path / "one")}, {"XDG_CACHE_HOME": str(tmp_path / "two")}
    assert run("--vault", str(vault), "sync", env=one).returncode == 0
    write(vault, "papers/Only on two.md", "# Only on two\nsesquipedalian\n")
    assert run("--vault", str(vault), "sync", env=two).returncode == 0
    # Machine one has not synced since: its index does not have the note yet; two's has.
    assert run("--vault", str(vault), "search", "sesquipedalian", "--paths", env=two).stdout.strip() == "papers/Only on two.md"
    first = json.loads(run("--vault", str(vault), "info", "--json", env=one).stdout)
    second = json.loads(run("--vault", str(vault), "info", "--json", env=two).stdout)
    assert first["index_dir"] != second["index_dir"]
    assert first["notes"] + 1 == second["notes"]
    assert not (vault / ".vaultindex").exists()  # nothing for the sync tool to carry


class _Planted:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['PLANT_MARK']}",))


@pytest.mark.slow
def test_a_pickle_planted_in_the_index_folder_is_never_run(vault, tmp_path):
    mark = tmp_path / "pwned"
    os.environ["PLANT_MARK"] = str(mark)
    try:
        payload = pickle.dumps(_Planted())
    finally:
        del os.environ["PLANT_MARK"]
    assert run("--vault", str(vault), "sync").returncode == 0
    folder = index_dir(vault)
    whoosh = build_dir(vault) / "fulltext"
    planted = []
    for path in folder.rglob("*"):
        if path.is_file() and whoosh not in path.parents:
            path.write_bytes(payload)
            planted.append(path.relative_to(folder).as_posix())
    assert {"vaultindex-index.json", "current", "writer.lock"} <= set(planted)
    assert any(p.endswith("store.sqlite") for p in planted)
    # And where older versions kept their pickles, in the vault.
    for name in ("state.pickle", "graph.pickle", "notes/00.pickle"):
        write(vault, f".vaultindex/{name}", "")
        (vault / ".vaultindex" / name).write_bytes(payload)
    for args in (("search", "pruning"), ("backlinks", "Beyond neural scaling laws"), ("unresolved",), ("rank",),
                 ("info",), ("sync",), ("sync", "--full"), ("doctor",), ("tags", "list")):
        proc = run("--vault", str(vault), *args)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert not mark.exists(), f"{args} ran the planted pickle"


@pytest.mark.slow
def test_during_a_full_rebuild_readers_answer_from_the_old_index_and_tags_write_waits(vault):
    # Enough notes that a rebuild takes seconds, each tagged so that there are many tag pages.
    for i in range(1500):
        write(vault, f"bulk/Bulk {i}.md", f"---\ntags: [bulk/t{i % 40}]\n---\n# Bulk {i}\nfiller words about pruning {i}\n[[LoRA]]\n")
    assert run("--vault", str(vault), "sync").returncode == 0
    assert run("--vault", str(vault), "tags", "write").returncode == 0
    pages = sorted(p.name for p in (vault / "Tags").rglob("*.md"))
    assert len(pages) > 40
    rebuild = subprocess.Popen(
        [sys.executable, "-m", "vaultindex", "--vault", str(vault), "sync", "--full"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    overlapped = 0
    try:
        while rebuild.poll() is None:
            found = run("--vault", str(vault), "search", "--paths", "-n", "5", "pruning")
            links = run("--vault", str(vault), "backlinks", "--json", "LoRA")
            during = rebuild.poll() is None
            assert found.returncode == 0 and found.stdout.strip(), found.stderr
            assert links.returncode == 0 and len(json.loads(links.stdout)) > 1500, links.stderr
            if during:
                overlapped += 1
                # It waits for the writer lock (10 s): then writes from the new index, or says it
                # could not; either way it never acts on a half-built one (main deleted pages here).
                tags = run("--vault", str(vault), "tags", "write")
                assert tags.returncode == 0 or "being written by another vaultindex process" in tags.stderr, tags.stderr
                assert sorted(p.name for p in (vault / "Tags").rglob("*.md")) == pages
    finally:
        rebuild.wait(300)
    assert rebuild.returncode == 0, rebuild.stderr
    assert overlapped >= 1, "the rebuild finished before any query ran: make the vault bigger"
    assert run("--vault", str(vault), "tags", "write").returncode == 0
    assert sorted(p.name for p in (vault / "Tags").rglob("*.md")) == pages


def test_a_full_disk_while_the_store_writes_is_one_error_and_both_stores_stay_as_they_were(vault, monkeypatch):
    # SQLite writes in C, out of reach of a Python ENOSPC: its own limit on the file's pages
    # (max_page_count) makes it fail as a full disk does, with SQLITE_FULL.
    from vaultindex import store as store_module
    from vaultindex.errors import IndexWriteError

    Vault.open(vault).sync()
    before = Vault.open(vault)
    old_search = [h.path for h in before.search("contrastive").hits]
    old_notes = {p: r.note for p, r in before.catalog.records.items()}
    assert "papers/SimCLR.md" in old_search
    real_open = store_module.Store._open

    def full_open(self):
        conn = real_open(self)
        if self.writable:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(store_module.Store, "_open", full_open)
    for i in range(40):
        write(vault, f"Flood {i}.md", f"# Flood {i}\n" + "words about contrastive learning " * 200 + "\n[[LoRA]]\n")
    (vault / "papers" / "SimCLR.md").unlink()
    with pytest.raises(IndexWriteError, match="No space left on device"):
        Vault.open(vault).sync()
    after = Vault.open(vault)
    assert [h.path for h in after.search("contrastive").hits] == old_search  # Whoosh was not committed either
    assert {p: r.note for p, r in after.catalog.records.items()} == old_notes
    monkeypatch.setattr(store_module.Store, "_open", real_open)
    stats = Vault.open(vault).sync()
    assert stats.added == 40 and stats.removed == 1
    assert "papers/SimCLR.md" not in [h.path for h in Vault.open(vault).search("contrastive", limit=100).hits]


# -- what is kept per state of the index (issue 14: PageRank stored, the Whoosh files' stamps) --------

def _fresh_rank(root: Path, by: str = "pagerank") -> list:
    """rank as the graph computes it now (the reference), never from the store."""
    from vaultindex.ranking import rank_notes

    return rank_notes(Vault.open(root).graph, 1000, by=by)


def test_rank_is_computed_once_per_state_of_the_index_and_kept(vault, monkeypatch):
    Vault.open(vault).sync()
    first = Vault.open(vault).rank(1000)
    assert first == _fresh_rank(vault) and len(first) > 10
    assert Vault.open(vault).rank(5, by="in") == _fresh_rank(vault, by="in")[:5]

    # A later rank (a fresh process, the MCP server) reads what was kept: no graph is built.
    from vaultindex import graph

    def no_graph(*args, **kwargs):
        raise AssertionError("rank built the whole graph again")

    with monkeypatch.context() as m:
        m.setattr(graph.LinkGraph, "build", no_graph)
        assert Vault.open(vault).rank(1000) == first
        assert Vault.open(vault).rank(3, by="in") == sorted(first, key=lambda r: (-r.in_degree, -r.pagerank, r.path))[:3]

    # An edit that adds links changes the ranks: the kept ones are not used, the new ones equal
    # the freshly computed ranks, and equal a full rebuild's.
    write(vault, "Hub of hubs.md", "".join(f"[[{r.path[:-3]}]]\n" for r in first[-5:]))
    write(vault, "Second hub.md", "[[Hub of hubs]] " + "".join(f"[[{r.path[:-3]}]] " for r in first[-3:]))
    Vault.open(vault).sync()
    after = Vault.open(vault).rank(1000)
    assert after != first
    assert after == _fresh_rank(vault)
    assert "Hub of hubs.md" in [r.path for r in after]
    Vault.open(vault).sync(full=True)
    assert Vault.open(vault).rank(1000) == after


def test_a_noop_sync_does_not_open_the_full_text_index_and_a_damaged_one_still_shows(vault, monkeypatch):
    Vault.open(vault).sync()
    from vaultindex import fulltext

    def no_check(self):
        raise AssertionError("a no-op sync opened every segment")

    with monkeypatch.context() as m:
        m.setattr(fulltext.FullText, "check", no_check)
        stats = Vault.open(vault).sync()
    assert (stats.added, stats.modified, stats.removed, stats.rebuilt) == (0, 0, 0, "")
    # Same size, new bytes (mtime moves): the stamps differ, so the segments are opened, and the
    # damage is found and rebuilt.
    segment = sorted(build_dir(vault).glob("fulltext/*.seg"))[0]
    segment.write_bytes(bytes((b * 7 + 13) % 256 for b in segment.read_bytes()))
    stats = Vault.open(vault).sync()
    assert stats.rebuilt
    assert Vault.open(vault).search("data pruning").hits


def test_tag_counts_alone_come_from_sql_and_equal_the_full_listing(synced_example):
    full = synced_example.tags()
    counts = synced_example.tags(notes=False)
    assert [(t.tag, t.count) for t in counts] == [(t.tag, t.count) for t in full] and full
    assert all(t.notes == () for t in counts)


def test_the_write_ahead_log_is_emptied_after_each_sync_even_with_readers_open(vault):
    # Every fresh query that is the first to open the database reads the whole log again: a log
    # left at its full size after `sync --full` made each fresh command at 10,000 notes 0.3 s slower.
    def log_bytes() -> int:
        wal = build_dir(vault) / "store.sqlite-wal"
        return wal.stat().st_size if wal.exists() else 0

    assert run("--vault", str(vault), "sync", "--full").returncode == 0
    assert log_bytes() == 0
    reader = Vault.open(vault)
    assert reader.backlinks("Beyond neural scaling laws")  # a reader's connection stays open
    note = next(vault.rglob("*.md"))
    note.write_text(note.read_text(encoding="utf-8") + "\nOne more line about pruning.\n", encoding="utf-8")
    assert run("--vault", str(vault), "sync").returncode == 0
    assert log_bytes() == 0
    reader.forget()
