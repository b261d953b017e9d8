"""fsutil.py: atomic writes (a reader sees the old file or the new one, never half, and no
temporary file is left behind) and the retry and poll helpers."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from vaultindex import fsutil
from vaultindex.fsutil import create_new, poll, retry, temp_beside, write_atomically


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


def test_create_new_writes_a_free_name_and_never_replaces(tmp_path):
    target = tmp_path / "note.md"
    assert create_new(target, b"first\n")
    assert not create_new(target, b"second\n")  # taken: nothing written
    assert target.read_bytes() == b"first\n"
    (tmp_path / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    assert not create_new(tmp_path / "dangling.md", b"x")  # a dangling symlink takes the name too
    assert not (tmp_path / "nowhere.md").exists()
    assert _leftovers(tmp_path) == []


def test_create_new_in_an_open_folder(tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        assert create_new(Path("n.md"), b"hi", dir_fd=fd)
        assert not create_new(Path("n.md"), b"again", dir_fd=fd)
    finally:
        os.close(fd)
    assert (tmp_path / "n.md").read_bytes() == b"hi"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("code", [errno.EPERM, errno.EXDEV])
def test_create_new_renames_where_hard_links_cannot_be_made(tmp_path, monkeypatch, code):
    # exFAT, some network shares and FUSE file systems refuse hard links
    def no_link(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fsutil.os, "link", no_link)
    target = tmp_path / "note.md"
    assert create_new(target, b"first\n")
    assert not create_new(target, b"second\n")
    assert target.read_bytes() == b"first\n"
    assert _leftovers(tmp_path) == []


def test_create_new_raises_other_errors_and_leaves_nothing(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil.os, "link", full)
    with pytest.raises(OSError, match="No space left"):
        create_new(tmp_path / "note.md", b"x")
    assert list(tmp_path.iterdir()) == []
