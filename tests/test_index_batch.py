"""The index batch: which Whoosh writer it uses, and that a cancel or a failure leaves no
sub-writer process and no lock behind."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from vaultindex import fulltext
from vaultindex.models import Note, Record


def record(i: int) -> Record:
    note = Note(f"n{i}.md", f"Note {i}")
    return Record(note, 10, 1, f"{i:040x}")


@pytest.fixture
def index(tmp_path):
    ft = fulltext.FullText(tmp_path / "index")
    ft.create()
    return ft


def fill(batch, count: int) -> None:
    for i in range(count):
        batch.add(record(i), f"word{i % 7} zebrafish")


def test_a_small_batch_is_written_by_this_process(index):
    batch = index.begin()
    fill(batch, 50)
    assert multiprocessing.active_children() == []
    batch.commit()
    assert len(index.matching_paths("zebrafish")) == 50


def test_a_big_batch_is_indexed_by_sub_writers_while_it_is_filled(index):
    batch = index.begin()
    fill(batch, fulltext.BIG_BATCH + 300)
    assert multiprocessing.active_children(), "the sub-writers should be at work already"
    batch.commit()
    assert multiprocessing.active_children() == []
    assert len(index.matching_paths("zebrafish")) == fulltext.BIG_BATCH + 300


def test_a_cancelled_big_batch_leaves_no_process_and_no_lock(index):
    batch = index.begin()
    fill(batch, fulltext.BIG_BATCH + 300)
    batch.cancel()
    assert multiprocessing.active_children() == []
    again = index.begin()  # Whoosh's lock was released: a new batch can commit
    fill(again, 10)
    again.commit()
    assert len(index.matching_paths("zebrafish")) == 10


def test_no_fork_while_other_threads_run(index):
    # watch's observer threads: forking beside them can deadlock the children
    halt = threading.Event()
    other = threading.Thread(target=halt.wait)
    other.start()
    try:
        batch = index.begin()
        fill(batch, fulltext.BIG_BATCH + 10)
        assert multiprocessing.active_children() == []
        batch.commit()
    finally:
        halt.set()
        other.join()
    assert len(index.matching_paths("zebrafish")) == fulltext.BIG_BATCH + 10


def test_a_batch_expected_big_starts_its_sub_writers_at_once(index):
    batch = index.begin(expected=fulltext.BIG_BATCH)
    fill(batch, 150)  # the first job file goes to a sub-writer after 100 documents
    assert multiprocessing.active_children()
    batch.commit()
    assert len(index.matching_paths("zebrafish")) == 150
