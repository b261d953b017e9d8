"""fsutil.py: atomic writes (a reader sees the old file or the new one, never half, and no
temporary file is left behind) and the retry and poll helpers."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from vaultindex.fsutil import poll, retry, temp_beside, write_atomically


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_atomically_creates_and_replaces_leaving_no_temporary_file(tmp_path):
    target = tmp_path / "page.md"
    write_atomically(target, b"one\n")
    write_atomically(target, "two \u00fc\n".encode())
    assert target.read_bytes() == "two \u00fc\n".encode()
    assert _leftovers(tmp_path) == []


def test_write_atomically_sets_the_mode_asked_for_whatever_the_umask(tmp_path):
    target = tmp_path / "marker.json"
    old = os.umask(0o077)
    try:
        write_atomically(target, b"{}", 0o644)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "folder-in-the-way"
    target.mkdir()
    (target / "x").write_text("keep")
    with pytest.raises(OSError):
        write_atomically(target, b"new")  # os.replace cannot put a file over a folder
    assert (target / "x").read_text() == "keep"
    assert _leftovers(tmp_path) == []


def test_the_temporary_file_is_never_written_through_a_symlink(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    target = tmp_path / "page.md"
    (tmp_path / f".page.md.{os.getpid()}.tmp").symlink_to(outside)  # planted where our temp goes
    write_atomically(target, b"page")
    assert target.read_bytes() == b"page"
    assert outside.read_text() == "untouched"
    assert (tmp_path / f".page.md.{os.getpid()}.tmp").is_symlink()  # not ours: left alone


def test_temp_beside_is_hidden_and_ignored_by_the_vault_scan(tmp_path):
    from vaultindex.scan import is_ignored_name

    tmp = temp_beside(tmp_path / "note.md", b"x")
    assert tmp.parent == tmp_path and is_ignored_name(tmp.name)
    assert tmp.read_bytes() == b"x"


def test_a_reader_sees_the_old_text_or_the_new_never_a_part(tmp_path):
    target = tmp_path / "big.md"
    old, new = b"a" * 300_000, b"b" * 300_000
    write_atomically(target, old)
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            data = target.read_bytes()
            seen.add(data[:1] + data[-1:] + str(len(data)).encode())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(40):
            write_atomically(target, new if i % 2 else old)
    finally:
        done.set()
        reader.join()
    assert seen <= {b"aa300000", b"bb300000"}


def test_retry_runs_again_only_on_the_errors_asked_for():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise FileNotFoundError("a segment was replaced")
        return "opened"

    assert retry(flaky, attempts=5, on=FileNotFoundError, delay=lambda attempt: 0) == "opened"
    assert len(calls) == 3

    def broken() -> None:
        calls.append(1)
        raise ValueError("damaged")

    calls.clear()
    with pytest.raises(ValueError):
        retry(broken, attempts=5, on=FileNotFoundError, delay=lambda attempt: 0)
    assert len(calls) == 1


def test_retry_raises_the_last_error_when_every_attempt_failed():
    resets = []

    def always() -> None:
        raise FileNotFoundError("still changing")

    with pytest.raises(FileNotFoundError, match="still changing"):
        retry(always, attempts=3, on=FileNotFoundError, delay=lambda attempt: 0, before_retry=lambda: resets.append(1))
    assert len(resets) == 2  # between the three attempts


def test_poll_checks_at_least_once_and_gives_up_at_the_deadline():
    assert poll(lambda: True, timeout=0) is True
    ticks: list[int] = []

    def never() -> bool:
        ticks.append(1)
        return False

    assert poll(never, timeout=0.05, interval=0.01) is False
    assert 2 <= len(ticks) <= 20
