"""Owns the small file-system rules more than one module needs: writing a file atomically and
trying again.

An atomic write puts the bytes in a temporary file beside the target (same folder, so the
rename never crosses a file system), then renames it over the target: a reader (Obsidian, the
watcher, another vaultindex) sees the old file or the new one, never half of one. The
temporary file is `.NAME.PID.tmp`, a name the vault scan and the watcher ignore (hidden, and
`.tmp`); it is created exclusively and never through a symlink, and removed when anything
fails. Whoosh and SQLite write their own files; these are for the files vaultindex writes
itself (tag pages, exports, the index folder's marker and build pointer, note edits).

`create_new` makes a file only where the name is free: the temporary file is hard-linked to
the name, which never replaces anything (a note written by `new` or `note create`).

Retrying: `retry` runs an action again after errors that a short wait can cure (a reader that
opens the index while a writer replaces a file), and `poll` waits for a condition with a
deadline (a lock to become free, an edit to be indexed). Neither hides any other error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["create_new", "file_stamp", "poll", "read_file", "retry", "temp_beside", "write_atomically"]

T = TypeVar("T")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_TEMP_NAMES = 100  # `.NAME.PID.tmp`, then `.NAME.PID.1.tmp` ... when a name is taken


def temp_beside(target: Path, data: bytes, mode: int = 0o666, *, fsync: bool = False, dir_fd: int | None = None) -> Path:
    """A new temporary file beside `target` holding `data` (created exclusively, never through a
    symlink, with `mode` before the umask; flushed to disk with `fsync`). The caller renames or
    links it into place and removes it if that fails. With `dir_fd`, `target` (and the temporary
    file returned) are names in that open folder."""
    stem = f".{target.name}.{os.getpid()}"
    for attempt in range(_TEMP_NAMES):
        tmp = target.with_name(f"{stem}.tmp" if attempt == 0 else f"{stem}.{attempt}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode, dir_fd=dir_fd)
        except FileExistsError:
            continue
        try:
            with open(fd, "wb", closefd=True) as fh:
                fh.write(data)
                if fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        return tmp
    raise FileExistsError(f"no free temporary name beside {target.name} ({stem}.tmp and {_TEMP_NAMES - 1} more are taken)")


def write_atomically(target: Path, data: bytes, mode: int | None = None, *, fsync: bool = False) -> None:
    """Replace (or create) `target` with `data` in one rename. `mode`: the new file's permission
    bits exactly (None: 0o666 less the umask, as for any new file). Raises OSError; the target
    is then unchanged and no temporary file is left."""
    tmp = temp_beside(target, data, 0o666 if mode is None else mode, fsync=fsync)
    try:
        if mode is not None:
            os.chmod(tmp, mode)  # exactly `mode`, whatever the umask
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# A hard link cannot be made here: rename instead (after a last look that the name is free).
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV, errno.ENOSYS)


def create_new(target: Path, data: bytes, mode: int = 0o666, *, dir_fd: int | None = None) -> bool:
    """Create `target` holding `data` (flushed to disk), whole or not at all, and only if the
    name is free: False (nothing written) when it is taken, a dangling symlink included. A
    temporary file (`temp_beside`) is hard-linked to the name, which never replaces anything;
    on a file system without hard links it is renamed there after a last look that the name
    is free. Other errors raise OSError and leave nothing behind. `mode` before the umask;
    with `dir_fd`, `target` is a name in that open folder."""
    tmp = temp_beside(target, data, mode, fsync=True, dir_fd=dir_fd)
    try:
        try:
            os.link(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            try:
                os.lstat(target, dir_fd=dir_fd)
            except FileNotFoundError:
                os.rename(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            else:
                return False
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)


def retry(
    action: Callable[[], T],
    *,
    attempts: int,
    on: type[BaseException] | tuple[type[BaseException], ...],
    delay: Callable[[int], float] = lambda attempt: 0.01 * (attempt + 1),
    before_retry: Callable[[], None] | None = None,
) -> T:
    """`action()`, run again (up to `attempts` times in all) while it raises one of `on`,
    sleeping `delay(attempt)` seconds and calling `before_retry` between tries. The last
    error is raised when every attempt failed; any other error at once."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts):
        try:
            return action()
        except on:
            if attempt == attempts - 1:
                raise
            time.sleep(delay(attempt))
            if before_retry is not None:
                before_retry()
    raise AssertionError("unreachable")  # pragma: no cover


def poll(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Call `check` until it returns True (True) or `timeout` seconds have passed (False);
    always at least once, sleeping `interval` seconds between calls."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def file_stamp(file: str | os.PathLike) -> tuple[int | None, int | None]:
    """(size, mtime_ns) of a file, the stamp a bibliography file is recorded and compared by;
    (None, None) when it cannot be read."""
    try:
        st = os.stat(file)
    except OSError:
        return None, None
    return st.st_size, st.st_mtime_ns


def read_file(path: Path) -> bytes:
    """A regular file's bytes. Opened without blocking and checked, so that a FIFO put where a
    note was (between the scan and the read) is an error, not a wait for a writer that never comes."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return fh.read()
