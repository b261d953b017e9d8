"""lock.py: one writer at a time. A second writer is told who holds the index; a lock whose
holder died is free again; a watch holding the index is reported at once, not waited for."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from vaultindex.errors import IndexLocked
from vaultindex.lock import LockHolder, WriterLock


@pytest.fixture
def lock_path(tmp_path):
    return tmp_path / "index" / "writer.lock"


def _lock(path) -> WriterLock:
    return WriterLock(path, prepare=lambda: path.parent.mkdir(parents=True, exist_ok=True))


def test_one_writer_at_a_time_and_the_lock_file_names_it(lock_path):
    first, second = _lock(lock_path), _lock(lock_path)
    assert first.acquire("sync")
    assert first.held and first.acquire("sync")  # taking it again is a no-op
    assert not second.acquire("watch")
    assert second.is_held_elsewhere()
    assert second.holder_info() == LockHolder(str(os.getpid()), "sync")
    assert second.holder() == f"pid {os.getpid()}, vaultindex sync"
    first.release()
    assert not second.is_held_elsewhere()
    assert second.acquire("tags write")
    assert first.holder_info() == LockHolder(str(os.getpid()), "tags write")
    second.release()


def test_a_second_writer_waits_for_the_first_then_takes_the_lock(lock_path):
    first, second = _lock(lock_path), _lock(lock_path)
    first.acquire("sync")
    threading.Timer(0.2, first.release).start()
    started = time.monotonic()
    assert second.acquire("sync", wait=5.0)
    assert 0.15 <= time.monotonic() - started < 4.0
    second.release()


def test_a_writer_that_cannot_wait_is_told_who_has_the_index(lock_path):
    first, second = _lock(lock_path), _lock(lock_path)
    first.acquire("sync")
    with pytest.raises(IndexLocked, match=rf"another vaultindex process \(pid {os.getpid()}, vaultindex sync\)"):
        second.acquire_or_raise("sync", wait=0.1)
    first.release()


def test_a_running_watch_is_reported_at_once_instead_of_waited_for(lock_path):
    watch, sync = _lock(lock_path), _lock(lock_path)
    watch.acquire("watch")
    started = time.monotonic()
    with pytest.raises(IndexLocked, match=rf"a vaultindex watch is running on this vault \(pid {os.getpid()}\)"):
        sync.acquire_or_raise("sync", wait=30.0)
    assert time.monotonic() - started < 5.0
    watch.release()


@pytest.mark.parametrize("content", [b"", b"\xff\xfe not text", b"   \n"])
def test_an_unreadable_or_empty_lock_file_names_an_unknown_process(lock_path, content):
    lock_path.parent.mkdir(parents=True)
    lock_path.write_bytes(content)
    lock = _lock(lock_path)
    assert lock.holder_info() is None
    assert lock.holder() == "unknown process"


def test_the_lock_of_a_killed_writer_is_free_again(lock_path):
    lock_path.parent.mkdir(parents=True)
    code = (
        "import sys, time; from pathlib import Path; from vaultindex.lock import WriterLock; "
        "lock = WriterLock(Path(sys.argv[1])); assert lock.acquire('sync'); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(lock_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = _lock(lock_path)
        assert not lock.acquire("sync")
        assert lock.holder_info() == LockHolder(str(holder.pid), "sync")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock.acquire("sync", wait=2.0)  # the kernel dropped the dead process's lock
    lock.release()


def test_the_lock_file_is_never_followed_through_a_symlink(lock_path, tmp_path):
    lock_path.parent.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    lock_path.symlink_to(outside)
    with pytest.raises(OSError):
        _lock(lock_path).acquire("sync")
    assert outside.read_text() == "untouched"


@pytest.mark.parametrize(
    ("written", "watch", "writer", "state_writer"),
    [
        ("{pid} watch", "pid {pid}", "pid {pid}, vaultindex watch", "watch"),
        ("{pid} sync", "", "pid {pid}, vaultindex sync", "sync"),
        ("{pid} tags write", "", "pid {pid}, vaultindex tags write", "tags write"),
        ("{pid} ", "", "pid {pid}, vaultindex ", "unknown"),  # no role written
        ("", "", "unknown process", "unknown process"),  # the lock file says nothing
    ],
)
def test_info_and_index_state_name_the_holder_from_the_lock_file(example_copy, written, watch, writer, state_writer):
    # `info --json` (watch, writer) and Vault.index_state (MCP's freshness) while another
    # vaultindex holds the writer lock, whatever its lock file says.
    from click.testing import CliRunner

    from vaultindex import Vault
    from vaultindex.cli import cli

    pid = str(os.getpid())
    Vault.open(example_copy).sync()
    holder = Vault.open(example_copy)
    assert holder.writer_lock.acquire("watch")
    try:
        holder.writer_lock.path.write_text(written.format(pid=pid))
        result = CliRunner().invoke(cli, ["--vault", str(example_copy), "info", "--json"])
        assert result.exit_code == 0, result.output
        facts = json.loads(result.stdout)
        assert (facts["watch"], facts["writer"]) == (watch.format(pid=pid), writer.format(pid=pid))
        assert Vault.open(example_copy).index_state().writer == state_writer
        assert holder.index_state().writer == "this process"
    finally:
        holder.writer_lock.release()
    facts = json.loads(CliRunner().invoke(cli, ["--vault", str(example_copy), "info", "--json"]).stdout)
    assert (facts["watch"], facts["writer"]) == ("", "")
    assert Vault.open(example_copy).index_state().writer == ""
