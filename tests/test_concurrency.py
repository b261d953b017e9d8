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
    reader.graph  # the state and graph of the first commit in hand, the notes not yet read
    (tmp_path / "Linker 3.md").unlink()
    (tmp_path / "Linker 5.md").write_text("# Linker 5\n\nNo link any more.\n")
    Vault.open(tmp_path).sync()
    sources = sorted(b.path for b in reader.backlinks("Hub"))
    assert sources == [f"Linker {j}.md" for j in (0, 1, 2, 4, 6, 7)]
