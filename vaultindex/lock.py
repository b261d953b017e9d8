"""Owns the one-writer lock: only one process (a `sync` or a `watch`) writes the index at a time."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexLocked
from .fsutil import poll


@dataclass(frozen=True, slots=True)
class LockHolder:
    """What the lock file says about the process that took the lock: its pid and role."""

    pid: str
    role: str  # "sync", "watch", "tags write", ...


class WriterLock:
    """An OS file lock (freed by the kernel if the holder dies, so a stale lock never blocks).

    The file keeps the holder's pid and role, so a second writer can say who has the index.
    """

    def __init__(self, path: Path, prepare: Callable[[], None] | None = None):
        self.path = path
        self._prepare = prepare  # makes the folder the lock file lives in (see Vault)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, role: str, wait: float = 0.0) -> bool:
        """Take the lock, waiting up to `wait` seconds; False when another process holds it."""
        if self._fd is not None:
            return True
        if self._prepare is not None:
            self._prepare()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)

        def take() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        if not poll(take, wait):
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {role}\n".encode())
        self._fd = fd
        return True

    def acquire_or_raise(self, role: str, wait: float) -> None:
        info = self.holder_info()
        if info is not None and info.role == "watch" and self.is_held_elsewhere():
            # A watch holds the index for as long as it runs: waiting would not help.
            raise IndexLocked(
                f"a vaultindex watch is running on this vault (pid {info.pid}) and keeps the index up to date; "
                "stop it first to run this"
            )
        if not self.acquire(role, wait):
            raise IndexLocked(
                f"the index is being written by another vaultindex process ({self.holder()}); "
                "try again when it is done"
            )

    def is_held_elsewhere(self) -> bool:
        """Whether another process holds the lock now (a test: it is not taken)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the shared lock if we got it
        return False

    def holder_info(self) -> LockHolder | None:
        """Who wrote the lock file last (the holder, while the lock is held elsewhere); None
        when it cannot be read or is empty."""
        try:
            pid, _, role = self.path.read_text().strip().partition(" ")
        except (OSError, UnicodeDecodeError):
            return None
        return LockHolder(pid, role.strip()) if pid else None

    def holder(self) -> str:
        """The holder for a message: "pid 4242, vaultindex watch" (or "unknown process")."""
        return describe(self.holder_info())

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def describe(holder: LockHolder | None) -> str:
    """A lock holder for a message: "pid 4242, vaultindex watch" ("unknown process" for None)."""
    return f"pid {holder.pid}, vaultindex {holder.role}" if holder is not None else "unknown process"
