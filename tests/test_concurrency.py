"""Readers never fail while another process writes; a second writer is told who holds the index."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from vaultindex import Vault
from vaultindex.errors import IndexLocked

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from vaultindex import Vault
    root = Path(sys.argv[1])
    for i in range(int(sys.argv[2])):
        for j in range(5):
            (root / f"churn/note {j}.md").write_text(f"# Churn {j}\\nversion {i} of zebrafish {j}\\n")
        if i % 3 == 2:
            (root / "churn/note 4.md").unlink()
        Vault.open(root).sync()
    print("done")
    """
)


@pytest.mark.slow
def test_searches_while_another_process_commits_never_fail(example_copy):
    (example_copy / "churn").mkdir()
    Vault.open(example_copy).sync()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(example_copy), "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    queries = errors = 0
    try:
        while writer.poll() is None:
            reader = Vault.open(example_copy)
            try:
                hits = reader.fulltext.search("zebrafish", 50)[0]
                # Every answer is some committed state: at most one hit per churn note.
                assert len({h.path for h in hits}) == len(hits) <= 5
                assert reader.search("data pruning").hits[0].path == "papers/Beyond neural scaling laws.md"
                queries += 1
            except Exception as exc:  # noqa: BLE001 - counting every kind of failure
                errors += 1
                print("reader error:", type(exc).__name__, exc)
    finally:
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert queries > 10
    assert errors == 0


def test_second_writer_waits_then_names_the_holder(example_copy):
    first = Vault.open(example_copy)
    first.sync()
    first._lock.acquire("watch")
    try:
        with pytest.raises(IndexLocked, match="vaultindex watch"):
            Vault.open(example_copy).sync(wait=0.2)
        # A query does not wait: the index is as the disk is (the quick look needs no lock)...
        same = Vault.open(example_copy).refresh()
        assert same is not None and not same.changed
        # ...and when the disk changed, it answers from the index as it is.
        (example_copy / "New while watched.md").write_text("New.\n", encoding="utf-8")
        assert Vault.open(example_copy).refresh() is None
    finally:
        first._lock.release()
    assert Vault.open(example_copy).sync(wait=0).notes > 0


def test_a_writer_waits_for_a_sync_then_names_it(example_copy):
    first = Vault.open(example_copy)
    first.sync()
    first._lock.acquire("sync")
    try:
        with pytest.raises(IndexLocked, match=r"another vaultindex process \(pid \d+, vaultindex sync\)"):
            Vault.open(example_copy).sync(wait=0.3)
    finally:
        first._lock.release()


def test_a_query_that_meets_a_newer_commit_halfway_is_asked_again_on_it(tmp_path):
    # The reader has the old graph in hand when a writer deletes a linking note and rewrites
    # that note's cache shard: the reader must answer from the new state, not fail.
    (tmp_path / "Hub.md").write_text("# Hub\n")
    for j in range(8):
        (tmp_path / f"Linker {j}.md").write_text(f"# Linker {j}\n\nSee [[Hub]].\n")
    Vault.open(tmp_path).sync()
    reader = Vault.open(tmp_path)
    _ = reader.graph  # the state and graph of the first commit in hand, the notes not yet read
    (tmp_path / "Linker 3.md").unlink()
    (tmp_path / "Linker 5.md").write_text("# Linker 5\n\nNo link any more.\n")
    Vault.open(tmp_path).sync()
    sources = sorted(b.path for b in reader.backlinks("Hub"))
    assert sources == [f"Linker {j}.md" for j in (0, 1, 2, 4, 6, 7)]


def _flaky(real, failures: int):
    """`real`, raising FileNotFoundError (a commit replaced a file meanwhile) the first `failures` calls."""
    calls = []

    def call(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            raise FileNotFoundError(2, "No such file or directory", "_MAIN_7.toc")
        return real(*args, **kwargs)

    return call, calls


@pytest.mark.parametrize("failures", [0, 3, 99])
def test_an_index_open_that_meets_a_commit_is_tried_again(tmp_path, monkeypatch, failures):
    from whoosh.filedb.filestore import FileStorage

    from vaultindex import fulltext
    from vaultindex.errors import IndexCorrupt

    fulltext.FullText(tmp_path / "ft").create()
    flaky, calls = _flaky(FileStorage.open_index, failures)  # how FullText opens its folder
    monkeypatch.setattr(FileStorage, "open_index", flaky)
    reader = fulltext.FullText(tmp_path / "ft", readonly=True)
    if failures < fulltext.OPEN_RETRIES:
        assert reader.matching_paths("zebrafish") == []
        assert len(calls) == failures + 1
    else:
        with pytest.raises(IndexCorrupt, match="kept changing while it was opened"):
            reader.open()
        assert len(calls) == fulltext.OPEN_RETRIES


@pytest.mark.parametrize("failures", [0, 3, 99])
def test_a_searcher_that_meets_a_commit_opens_the_index_again(tmp_path, monkeypatch, failures):
    from whoosh.filedb.filestore import FileStorage

    from vaultindex import fulltext
    from vaultindex.errors import IndexCorrupt

    fulltext.FullText(tmp_path / "ft").create()
    opened = []
    real_open = FileStorage.open_index
    searcher_calls: list[int] = []

    def open_dir(*args, **kwargs):
        ix = real_open(*args, **kwargs)
        opened.append(ix)
        real_searcher = ix.searcher

        def searcher(*a, **k):
            searcher_calls.append(1)
            if len(searcher_calls) <= failures:
                raise FileNotFoundError(2, "No such file or directory", "MAIN_x.seg")
            return real_searcher(*a, **k)

        ix.searcher = searcher
        return ix

    monkeypatch.setattr(FileStorage, "open_index", open_dir)
    reader = fulltext.FullText(tmp_path / "ft", readonly=True)
    if failures < fulltext.OPEN_RETRIES:
        assert reader.matching_paths("zebrafish") == []
        assert len(searcher_calls) == failures + 1
        assert len(opened) == failures + 1  # each failure forgets the index: opened afresh
    else:
        with pytest.raises(IndexCorrupt, match="kept changing while it was opened"):
            reader.matching_paths("zebrafish")
        assert len(searcher_calls) == fulltext.OPEN_RETRIES
