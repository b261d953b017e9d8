"""Owns the watcher's inbox: file events become dirty vault-relative paths, held until a batch is due.

No observer here and no index: an event source (watchdog in watch.py, or a test's fake) hands
`FileEvent`s to `Inbox.add` from its own thread, and the watch loop waits on the inbox's
condition until a batch is due, a notice arrives or it is told to stop. Events are hints: a
created, modified, moved (both ends) or deleted path is only marked dirty, so an atomic save (a
temp file renamed onto the note), vim's backup dance and a move all reduce to "look at these
paths again". The empty path stands for the whole vault (a reconcile): after a queue overflow,
an event that could not be read, or the periodic rescan.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .config import ALWAYS_IGNORED_DIRS
from .scan import is_ignored_name

WHOLE_VAULT = ""  # the dirty path that means "compare the whole vault with the index"

# -- which paths matter --------------------------------------------------------------------------


def is_temp_name(name: str) -> bool:
    """Editors' scratch files: never notes, never worth a batch.

    The scanner's rules (hidden files, swap, backup and temp files), plus vim's `4913` write
    probe (4913, 5036, ... when taken), which lives for a moment and is not worth a batch.
    """
    if is_ignored_name(name):
        return True
    return name.isdigit() and int(name) >= 4913 and (int(name) - 4913) % 123 == 0


def is_ignored_path(rel: str, is_dir: bool = False) -> bool:
    """Whether an event on this vault-relative POSIX path can be dropped: the one filter of events.

    Every other file is handed to the index, which decides what it is (note, attachment,
    bibliography, excluded); extend this function, not the event handling, to drop more.
    """
    parts = rel.split("/")
    if any(part in ALWAYS_IGNORED_DIRS or is_ignored_name(part) for part in parts):
        return True
    return not is_dir and is_temp_name(parts[-1])


# -- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEvent:
    """One file-system event as an observer reports it: absolute paths, watchdog's kind names."""

    kind: str  # "created", "modified", "deleted", "moved", "closed", "opened", "closed_no_write"
    path: str
    dest: str = ""  # where a "moved" event's file went
    is_dir: bool = False


@dataclass(frozen=True)
class Batch:
    """Dirty paths taken from the inbox; `folders` appeared or moved (the observer's map may be stale)."""

    paths: frozenset[str]
    folders: frozenset[str] = frozenset()

    @property
    def whole_vault(self) -> bool:
        return WHOLE_VAULT in self.paths


_IGNORED_KINDS = frozenset({"opened", "closed_no_write"})


class Inbox:
    """Dirty paths waiting for a batch, the times that drive the debounce, and the loop's wake-up.

    Every method may be called from any thread. `wait` blocks on one condition that `add`,
    `mark`, `notice` and `stop` notify, so an idle watcher sleeps until something happens.
    """

    def __init__(self, root: str | os.PathLike[str], clock: Callable[[], float] = time.monotonic,
                 skip: Iterable[str] = ()) -> None:
        self.root = os.fspath(root).rstrip(os.sep)
        self.skip = tuple(skip)  # vault-relative folders whose events are dropped (Config.skip_dirs)
        self._prefix = self.root + os.sep
        self._clock = clock
        self._cond = threading.Condition()
        self._paths: set[str] = set()
        self._folders: set[str] = set()
        self._first = 0.0  # first event of the waiting batch
        self._last = 0.0  # latest event
        self._not_before = 0.0  # a failed batch is retried no sooner than this
        self._notices: list[str] = []
        self._stopped = False
        self._root_gone = False

    # -- from the event source's thread -----------------------------------------------------------
    def add(self, event: FileEvent) -> None:
        """Mark the paths of one event dirty (or drop the event when nothing in it matters)."""
        if event.kind in _IGNORED_KINDS:
            return
        if event.is_dir and event.kind == "modified":
            return  # a folder's "modified" only echoes its entries' events, which come on their own
        if event.is_dir and event.kind == "deleted" and event.path.rstrip(os.sep) == self.root:
            with self._cond:
                self._root_gone = True
                self._cond.notify_all()
            return
        dirty = [rel for path in (event.path, event.dest) if path and (rel := self.relative(path, event.is_dir)) is not None]
        if dirty:
            moved = event.is_dir and event.kind in ("moved", "created")
            self.mark(dirty, folders=dirty if moved else ())

    def relative(self, path: str, is_dir: bool = False) -> str | None:
        """The vault-relative POSIX path of an absolute one, or None when its events are dropped."""
        if not path.startswith(self._prefix):
            return None  # the vault folder itself, or outside the vault (a move in or out)
        rel = path[len(self._prefix) :]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        rel = rel.strip("/")
        if not rel or is_ignored_path(rel, is_dir):
            return None
        if any(rel == s or rel.startswith(s + "/") for s in self.skip):
            return None
        return rel

    def mark(self, paths: Iterable[str], folders: Iterable[str] = ()) -> None:
        now = self._clock()
        with self._cond:
            if not self._paths:
                self._first = now
            self._paths.update(paths)
            self._folders.update(folders)
            self._last = now
            self._cond.notify_all()

    def rescan(self, notice: str = "") -> None:
        """Ask for the whole vault to be compared with the index (with a notice for the user)."""
        if notice:
            self.notice(notice)
        self.mark([WHOLE_VAULT])

    def notice(self, text: str) -> None:
        """A message for the user, said by the loop's thread (the callbacks run there)."""
        with self._cond:
            self._notices.append(text)
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- from the loop's thread -------------------------------------------------------------------
    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def root_gone(self) -> bool:
        return self._root_gone

    def take_notices(self) -> list[str]:
        with self._cond:
            notices, self._notices = self._notices, []
            return notices

    def due_at(self, quiet: float, cap: float) -> float | None:
        """When the waiting batch is due (clock time), None when nothing waits.

        `quiet` seconds after the latest event, but no later than `cap` seconds after the first
        one (a stream of saves is still applied), and never before a failed batch may retry."""
        with self._cond:
            return self._due_at(quiet, cap)

    def _due_at(self, quiet: float, cap: float) -> float | None:
        if not self._paths:
            return None
        return max(min(self._last + quiet, self._first + cap), self._not_before)

    def wait(self, quiet: float, cap: float, deadline: float | None = None) -> bool:
        """Sleep until the loop has something to do; True when a batch is due.

        Returns when the inbox is stopped, a notice waits, the vault folder went, a batch is due
        (see `due_at`) or the clock passes `deadline` (None: no deadline of the caller's). The
        due time is looked at again after every event, under the same lock `add` takes, so no
        event is missed between looking and sleeping, and nothing wakes an idle loop."""
        with self._cond:
            while True:
                if self._stopped or self._notices or self._root_gone:
                    return False
                now = self._clock()
                due = self._due_at(quiet, cap)
                if due is not None and due <= now:
                    return True
                times = [t for t in (due, deadline) if t is not None]
                until = min(times) if times else None
                if until is not None and until <= now:
                    return False
                self._cond.wait(None if until is None else until - now)

    def take(self) -> Batch:
        """The waiting paths (and the folders among them that appeared or moved); the inbox is empty after."""
        with self._cond:
            paths, self._paths = self._paths, set()
            folders, self._folders = self._folders, set()
            self._not_before = 0.0
        if WHOLE_VAULT in paths:
            paths = {WHOLE_VAULT}  # a reconcile looks at every path anyway
        return Batch(frozenset(paths), frozenset(folders))

    def put_back(self, batch: Batch, delay: float) -> None:
        """A batch that failed: its paths wait again, for at least `delay` seconds."""
        self.mark(batch.paths, batch.folders)
        with self._cond:
            self._not_before = self._clock() + delay
