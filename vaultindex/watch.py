"""Owns live sync: file-system events become dirty paths, applied to the index in debounced batches.

The only module that imports watchdog. Events are hints and the disk is the truth: an event
only marks its paths (source and destination; a folder for a folder event) dirty, and after a
quiet moment `Vault.apply` compares every dirty path with the disk and writes the batch in one
commit. So every editor's way of saving (in place, temp file then rename, vim's backup dance,
JetBrains' safe write), renames, folder moves and deletes all reduce to "exists now or not".

Safety nets, because events can be late, merged or lost: a full reconcile at start (before any
observer thread exists, as a big rebuild forks Whoosh writers), a rescan of the whole vault every
few minutes and whenever the kernel's event queue overflows, and a health check that restarts a
dead observer. When inotify cannot watch every folder, watching switches to polling and says
which setting to raise.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.polling import PollingObserverVFS

from .config import ALWAYS_IGNORED_DIRS
from .errors import WatchError
from .models import SyncStats
from .scan import is_ignored_name

log = logging.getLogger(__name__)

# watchdog warns when a folder it already watches is registered again (a folder made and then
# moved, for instance); it re-uses the same callback, so nothing is wrong, but the warning would
# print a screenful of internals in the user's terminal.
warnings.filterwarnings("ignore", message="Callback with id .* already exists", category=RuntimeWarning)


class _BenignStopRace(logging.Filter):
    """watchdog may log an error when its emitter thread is stopped while reading; nothing is lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in str(record.msg)


logging.getLogger("watchdog.observers.inotify").addFilter(_BenignStopRace())

DEFAULT_DEBOUNCE_MS = 200  # quiet time after the last event before a batch is applied
MAX_WAIT_MS = 2000  # a continuous stream of saves is still applied at least this often
RESCAN_SECONDS = 300.0  # the whole vault is compared with the index this often
POLL_SECONDS = 1.0  # polling interval with --polling (or after falling back to it)
HEALTH_SECONDS = 5.0  # how often the observer threads are checked
IDLE_TICK = 0.05  # how often an idle loop looks for new events
RETRY_MAX_SECONDS = 60.0  # a failing batch is retried after 1, 2, 4, ... seconds, at most this
SYNC_WAIT_SECONDS = 10.0  # how long to wait for a running `sync` before giving up
# A batch this large is applied with the observer stopped: Whoosh's writer forks for big batches,
# and forking while observer threads run can deadlock the children.
BIG_BATCH_PATHS = 2000
SUGGESTED_WATCHES = 524288

Notify = Callable[[str], None]
OnBatch = Callable[[SyncStats, tuple], None]


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
    """Whether an event on this vault-relative POSIX path can be dropped."""
    parts = rel.split("/")
    if any(part in ALWAYS_IGNORED_DIRS or is_ignored_name(part) for part in parts):
        return True
    return not is_dir and is_temp_name(parts[-1])


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchStart:
    """What `on_ready` receives once the vault is reconciled and the observer runs."""

    stats: SyncStats  # the initial reconcile
    mode: str  # "inotify" (or the platform's observer) or "polling"
    folders: int  # folders under the vault (what inotify needs one watch each for)


@dataclass(frozen=True)
class WatchSummary:
    """What `run` returns when it stops."""

    batches: int = 0  # batches that changed something (on_batch calls)
    added: int = 0
    modified: int = 0
    removed: int = 0
    errors: int = 0  # batches that failed and were put back for a retry
    mode: str = ""


def batch_line(stats: SyncStats, paths: Iterable[str], when: datetime | None = None, limit: int = 3) -> str:
    """One line per batch: `12:04:31  +1 ~2 -0  14 ms  papers/A.md, papers/B.md and 1 more`."""
    clock = (when or datetime.now()).strftime("%H:%M:%S")
    listed = sorted(paths)
    shown = ", ".join(listed[:limit])
    if len(listed) > limit:
        shown += f" and {len(listed) - limit:,} more"
    counts = f"+{stats.added} ~{stats.modified} -{stats.removed}"
    return f"{clock}  {counts}  {stats.seconds * 1000:.0f} ms  {shown}".rstrip()


# -- inotify limits ------------------------------------------------------------------------------


def count_folders(root: Path) -> int:
    """Folders inotify needs a watch for: every folder under the vault (hidden ones too), itself included."""
    return sum(1 for _ in os.walk(root))


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def inotify_watch_limit() -> int | None:
    """fs.inotify.max_user_watches, or None where there is no such limit (not Linux)."""
    return _read_int("/proc/sys/fs/inotify/max_user_watches")


def _raise_hint(setting: str, value: int) -> str:
    return (
        f"To raise it: sudo sysctl {setting}={value} "
        f"(and add the line `{setting}={value}` to /etc/sysctl.d/90-inotify.conf to keep it after a reboot)."
    )


def _too_many_folders(folders: int, limit: int) -> str:
    value = max(SUGGESTED_WATCHES, 1 << (2 * folders).bit_length())
    return (
        f"This vault has {folders:,} folders but inotify allows {limit:,} watches per user "
        "(fs.inotify.max_user_watches), so some folders would silently go unwatched: watching by "
        f"polling instead (changes show up within about {POLL_SECONDS:g} s). "
        + _raise_hint("fs.inotify.max_user_watches", value)
    )


def _observer_failed(exc: OSError) -> str:
    if exc.errno == errno.EMFILE:
        limit = _read_int("/proc/sys/fs/inotify/max_user_instances")
        now = f" = {limit:,}" if limit else ""
        return (
            f"Too many inotify instances are open (fs.inotify.max_user_instances{now}): watching by polling "
            "instead. " + _raise_hint("fs.inotify.max_user_instances", 1024)
        )
    limit = inotify_watch_limit()
    now = f" = {limit:,}" if limit else ""
    return (
        f"The inotify watch limit is reached (fs.inotify.max_user_watches{now}, shared with other programs "
        "such as editors and sync clients): watching by polling instead. "
        + _raise_hint("fs.inotify.max_user_watches", max(SUGGESTED_WATCHES, 2 * (limit or 0)))
    )


def _new_native_observer():
    """The platform's event observer (inotify on Linux); a function so tests can replace it."""
    from watchdog.observers import Observer

    return Observer()


def _mode_name(observer: Any) -> str:
    name = type(observer).__name__.removesuffix("Observer").lower()
    return name or "native"


# -- event intake (runs in watchdog's thread) ----------------------------------------------------


class _Inbox:
    """Dirty paths waiting for a batch, with the times that drive the debounce."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._first = 0.0  # first event of the waiting batch
        self._last = 0.0  # latest event
        self._not_before = 0.0  # a failed batch is retried no sooner than this
        self._folders: set[str] = set()  # folders that appeared or moved: watchdog's path map may be wrong
        self.notices: deque[str] = deque()  # messages from other threads, reported by the loop
        self.root_gone = False

    def mark(self, paths: Iterable[str], folders: Iterable[str] = ()) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._paths:
                self._first = now
            self._paths.update(paths)
            self._last = now
            self._folders.update(folders)

    def put_back(self, paths: Iterable[str], delay: float) -> None:
        self.mark(paths)
        with self._lock:
            self._not_before = time.monotonic() + delay

    def due_in(self, now: float, quiet: float, cap: float) -> float | None:
        """Seconds until the waiting batch is due (0: now), None when nothing waits."""
        with self._lock:
            if not self._paths:
                return None
            due = max(min(self._last + quiet, self._first + cap), self._not_before)
            return max(0.0, due - now)

    def take(self) -> tuple[set[str], set[str]]:
        """The waiting paths, and the folders among them that appeared or moved."""
        with self._lock:
            paths, self._paths = self._paths, set()
            folders, self._folders = self._folders, set()
            self._not_before = 0.0
            return paths, folders


class _EventSink(FileSystemEventHandler):
    """Turns watchdog events into dirty vault-relative paths; everything else is dropped here."""

    def __init__(self, root: Path, inbox: _Inbox) -> None:
        super().__init__()
        self.root = str(root)
        self.prefix = self.root.rstrip(os.sep) + os.sep
        self.inbox = inbox

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._take(event)
        except Exception:  # never let a surprise kill watchdog's thread: look at everything instead
            log.debug("event %r could not be handled", event, exc_info=True)
            self.inbox.mark([""])

    def _take(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        if event.is_directory and kind == "modified":
            # A folder's "modified" only echoes the events of its entries, which come on their own.
            return
        src = os.fsdecode(event.src_path)
        if event.is_directory and kind == "deleted" and src.rstrip(os.sep) == self.root:
            self.inbox.root_gone = True
            return
        dirty = [
            rel
            for path in (src, os.fsdecode(event.dest_path or ""))
            if (rel := self.relative(path, event.is_directory)) is not None
        ]
        if dirty:
            moved = event.is_directory and kind in ("moved", "created")
            self.inbox.mark(dirty, folders=dirty if moved else ())

    def relative(self, path: str, is_dir: bool) -> str | None:
        if not path.startswith(self.prefix):
            return None  # the vault folder itself, or outside the vault (a move in or out)
        rel = path[len(self.prefix) :]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        rel = rel.strip("/")
        if not rel or is_ignored_path(rel, is_dir):
            return None
        return rel


class _OverflowAlarm(logging.Handler):
    """watchdog only logs a kernel queue overflow; this turns that log line into a full rescan."""

    def __init__(self, inbox: _Inbox) -> None:
        super().__init__(logging.WARNING)
        self.inbox = inbox

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            return
        if "overflow" in message.lower():
            self.inbox.notices.append(
                "The kernel's file-event queue overflowed (fs.inotify.max_queued_events): "
                "rescanning the whole vault."
            )
            self.inbox.mark([""])


_OVERFLOW_LOGGER = "watchdog.observers.inotify_c"


def _polling_listdir(path: str | None) -> list[os.DirEntry]:
    """os.scandir without what vaultindex ignores (`.git/` can be huge) and without symlinked folders."""
    with os.scandir(path) as entries:
        return [
            e
            for e in entries
            if not (e.name in ALWAYS_IGNORED_DIRS or is_ignored_name(e.name))
            and not (e.is_symlink() and e.is_dir())
        ]


# -- own writes (tag pages) ----------------------------------------------------------------------


def _stamp(path: Path) -> tuple[int, int] | str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    return (st.st_mtime_ns, st.st_size)


def _tree_stamps(root: Path, folder: str) -> dict[str, Any]:
    """Every file and folder under `folder` (vault-relative) with its stamp."""
    out: dict[str, Any] = {}
    base = root / folder
    if not base.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(base):
        for name in (*dirnames, *filenames):
            full = Path(dirpath, name)
            out[full.relative_to(root).as_posix()] = _stamp(full)
    return out


_RESULT_FIELDS = ("written", "deleted", "removed", "changed", "created", "updated", "paths", "pages")


def _result_paths(result: Any, root: Path, depth: int = 0) -> set[str]:
    """Vault-relative paths named in whatever `tagpages.write_pages` returned (lists, dicts, objects)."""
    found: set[str] = set()
    if result is None or depth > 3:
        return found
    if isinstance(result, (str, os.PathLike)):
        path = os.fspath(result)
        if os.path.isabs(path):
            try:
                path = os.path.relpath(path, root)
            except ValueError:
                return found
            if path.startswith(".."):
                return found
        found.add(path.replace(os.sep, "/").strip("/"))
        return found
    if isinstance(result, Mapping):
        for key in _RESULT_FIELDS:
            if key in result:
                found |= _result_paths(result[key], root, depth + 1)
        return found
    if isinstance(result, (list, tuple, set, frozenset)):
        for item in result:
            found |= _result_paths(item, root, depth + 1)
        return found
    for key in ("path", *_RESULT_FIELDS):
        value = getattr(result, key, None)
        if value is not None and not callable(value):
            found |= _result_paths(value, root, depth + 1)
    return found


def _merge(a: SyncStats, b: SyncStats) -> SyncStats:
    return SyncStats(
        added=a.added + b.added,
        modified=a.modified + b.modified,
        removed=a.removed + b.removed,
        unchanged=b.unchanged,
        notes=b.notes,
        seconds=a.seconds + b.seconds,
        rebuilt=a.rebuilt or b.rebuilt,
        diagnostics=a.diagnostics + b.diagnostics,
    )


_MISSING = object()


# -- the loop ------------------------------------------------------------------------------------


class _Watcher:
    def __init__(
        self,
        vault: Any,
        stop: threading.Event,
        on_batch: OnBatch | None,
        debounce_ms: int,
        polling: bool,
        max_wait_ms: int,
        rescan_seconds: float,
        poll_seconds: float,
        notify: Notify,
        on_ready: Callable[[WatchStart], None] | None,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.vault = vault
        self.root = Path(vault.root)
        self.stop = stop
        self.on_batch = on_batch
        self.quiet = max(0, debounce_ms) / 1000
        self.cap = max(max_wait_ms / 1000, self.quiet)
        self.polling = polling
        self.rescan_seconds = rescan_seconds
        self.poll_seconds = poll_seconds
        self.notify = notify
        self.on_ready = on_ready
        self.progress = progress
        self.inbox = _Inbox()
        self.sink = _EventSink(self.root, self.inbox)
        self.alarm = _OverflowAlarm(self.inbox)
        self.observer: Any = None
        self.mode = ""
        self.folders = 0
        self.owns_lock = False
        self.root_id: tuple[int, int] = (0, 0)
        self.own_writes: dict[str, Any] = {}  # path -> stamp of a file vaultindex wrote itself
        self.pages_stale = False
        self.pages_unavailable_said = False
        self.pages_warned: set[str] = set()
        self.failures = 0  # consecutive failed batches
        self.totals = {"batches": 0, "added": 0, "modified": 0, "removed": 0, "errors": 0}

    # -- lifecycle ---------------------------------------------------------------------------------
    def run(self) -> WatchSummary:
        st = self.root.stat()
        self.root_id = (st.st_dev, st.st_ino)
        self._take_lock()
        try:
            # Reconcile while this is the only thread: a big rebuild forks Whoosh writers.
            stats = self.vault.reconcile(progress=self.progress)
            stats = self._with_tag_pages(stats, changed=set())[0] if self._pages_wanted() else stats
            logging.getLogger(_OVERFLOW_LOGGER).addHandler(self.alarm)
            self._start_observer()
            # Whatever changed between the reconcile's scan and the observer's start.
            self.inbox.mark([""])
            if self.on_ready is not None:
                self.on_ready(WatchStart(stats, self.mode, self.folders))
            self._loop()
        finally:
            self._stop_observer()
            logging.getLogger(_OVERFLOW_LOGGER).removeHandler(self.alarm)
            if self.owns_lock:
                self.vault.writer_lock.release()
        return WatchSummary(**self.totals, mode=self.mode)

    def _loop(self) -> None:
        now = time.monotonic()
        next_rescan = now + self.rescan_seconds
        next_health = now + HEALTH_SECONDS
        while not self.stop.is_set():
            now = time.monotonic()
            while self.inbox.notices:
                self.notify(self.inbox.notices.popleft())
            if self.inbox.root_gone or now >= next_health:
                self._check_health()
                next_health = now + HEALTH_SECONDS
            if now >= next_rescan:
                self._check_watch_limit()
                self.inbox.mark([""])
                next_rescan = now + self.rescan_seconds
            wait = self.inbox.due_in(now, self.quiet, self.cap)
            if wait is None or wait > 0:
                # New events only push the due time later, so sleeping until it is safe; the stop
                # event wakes the wait at once.
                self.stop.wait(IDLE_TICK if wait is None else min(wait, HEALTH_SECONDS))
                continue
            self._batch(*self.inbox.take())

    def _take_lock(self) -> None:
        lock = self.vault.writer_lock
        if lock.held:
            return  # the caller holds it (and keeps it)
        if lock.acquire("watch", 0.0):
            self.owns_lock = True
            return
        holder = lock.holder_info()
        if holder is not None and holder.role == "watch":
            raise WatchError(f"a vaultindex watch is already running on this vault (pid {holder.pid})")
        if lock.acquire("watch", SYNC_WAIT_SECONDS):  # a `sync` finishes, then we start
            self.owns_lock = True
            return
        raise WatchError(
            f"the index is being written by another vaultindex process ({lock.holder()}); "
            "try again when it is done"
        )

    def _ensure_lock(self) -> None:
        # Something in the batch path (a plugin calling vault.sync) may have released it.
        if not self.vault.writer_lock.held:
            if not self.vault.writer_lock.acquire("watch", SYNC_WAIT_SECONDS):
                raise WatchError("lost the index's writer lock to another process")
            self.owns_lock = True

    # -- observers ---------------------------------------------------------------------------------
    def _start_observer(self) -> None:
        self.folders = count_folders(self.root)
        if not self.polling:
            limit = inotify_watch_limit()
            if limit is not None and self.folders > limit:
                self.notify(_too_many_folders(self.folders, limit))
                self.polling = True
        if not self.polling:
            observer = None
            try:
                observer = _new_native_observer()
                observer.schedule(self.sink, str(self.root), recursive=True)
                observer.start()
                self.observer, self.mode = observer, _mode_name(observer)
                return
            except OSError as exc:
                _discard(observer)
                if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                    raise
                self.notify(_observer_failed(exc))
                self.polling = True
        observer = PollingObserverVFS(os.stat, _polling_listdir, polling_interval=self.poll_seconds)
        observer.schedule(self.sink, str(self.root), recursive=True)
        observer.start()
        self.observer, self.mode = observer, "polling"

    def _stop_observer(self) -> None:
        observer, self.observer = self.observer, None
        _discard(observer)

    def _check_root(self) -> None:
        """The vault folder must still be the one we started on (not removed, not replaced)."""
        try:
            st = self.root.stat()
            same = (st.st_dev, st.st_ino) == self.root_id and stat.S_ISDIR(st.st_mode)
        except OSError:
            same = False
        if self.inbox.root_gone or not same:
            raise WatchError(f"the vault folder {self.root} is gone; stopped watching")

    def _check_health(self) -> None:
        self._check_root()
        observer = self.observer
        if observer is not None and observer.is_alive() and all(e.is_alive() for e in list(observer.emitters)):
            return
        if observer is not None:
            self.notify("The file watcher stopped unexpectedly: restarting it and rescanning the vault.")
        try:
            self._restart_observer()
        except OSError as exc:  # tried again at the next check
            self.notify(f"Cannot watch the vault folder ({exc}); trying again in {HEALTH_SECONDS:g} s.")
            return
        self.inbox.mark([""])

    def _restart_observer(self) -> None:
        self._stop_observer()
        self._start_observer()

    def _check_watch_limit(self) -> None:
        # Folders made since the start may push inotify past its limit, where it fails silently.
        if self.polling or self.mode != "inotify":
            return
        limit = inotify_watch_limit()
        folders = count_folders(self.root)
        if limit is not None and folders > limit:
            self.notify(_too_many_folders(folders, limit))
            self._stop_observer()
            self.polling = True
            self._start_observer()

    # -- batches -------------------------------------------------------------------------------------
    def _batch(self, paths: set[str], folders: set[str] = frozenset()) -> None:
        paths = self._drop_own_writes(paths)
        # watchdog keeps a path per inotify watch and updates it when folders move; after some
        # sequences (a folder moved out and back in, moves between nested folders) two paths share
        # one watch and later events carry the wrong path. So after a folder appeared or moved: a
        # fresh observer (a true map), and a rescan of the whole vault for the events that were
        # misnamed or lost while the observer restarted.
        restart = bool(paths and self._drop_own_writes(folders)) and self.mode != "polling"
        if not paths:
            if self.pages_stale:
                self._after_batch(SyncStats(), set(), 0.0)
            return
        self._check_root()  # (a batch on a removed vault would recreate .vaultindex/ there)
        started = time.perf_counter()
        try:
            before = _fingerprint(self.vault.catalog)
        except Exception:  # an unreadable index: the apply rebuilds it
            before = ({}, frozenset())
        try:
            self._ensure_lock()
            if restart:
                self._restart_observer()
                paths = {""}
            if len(paths) >= BIG_BATCH_PATHS:
                stats = self._apply_quiesced()
            else:
                stats = self.vault.apply(paths)
        except WatchError:
            raise
        except Exception as exc:
            self._failed(paths, exc)
            return
        if self.failures:
            self.notify("Batches are applied again.")
            self.failures = 0
        changed = _changed(before, _fingerprint(self.vault.catalog))
        self._after_batch(stats, changed, started)

    def _after_batch(self, stats: SyncStats, changed: set[str], started: float) -> None:
        if (stats.changed or changed or self.pages_stale) and self._pages_wanted():
            stats, changed = self._with_tag_pages(stats, changed)
        if not (stats.changed or changed or stats.diagnostics):
            return
        if started:
            stats = SyncStats(**{**_fields(stats), "seconds": time.perf_counter() - started})
        self.totals["batches"] += 1
        self.totals["added"] += stats.added
        self.totals["modified"] += stats.modified
        self.totals["removed"] += stats.removed
        log.info("%s", batch_line(stats, changed))
        if self.on_batch is not None:
            try:
                self.on_batch(stats, tuple(sorted(changed)))
            except Exception as exc:  # the caller's bug must not stop the watch
                log.debug("on_batch failed", exc_info=True)
                self.notify(f"on_batch raised {type(exc).__name__}: {exc}")

    def _apply_quiesced(self) -> SyncStats:
        """A huge batch (a branch checkout): stop the observer, reconcile the whole vault, restart."""
        self._stop_observer()
        try:
            return self.vault.apply([""])
        finally:
            self.inbox.mark([""])  # what changed while nobody was watching
            try:
                self._start_observer()
            except OSError as exc:  # the health check tries again
                self.notify(f"Cannot watch the vault folder ({exc}); trying again in {HEALTH_SECONDS:g} s.")

    def _failed(self, paths: set[str], exc: Exception) -> None:
        self.failures += 1
        self.totals["errors"] += 1
        delay = min(RETRY_MAX_SECONDS, 2.0 ** (self.failures - 1))
        # The batch may have stopped half way: forget the in-memory state, reload it from disk.
        self.vault.forget()
        self.inbox.put_back(paths, delay)
        log.debug("batch failed", exc_info=True)
        self.notify(
            f"Could not apply {len(paths):,} changed path{'s' if len(paths) != 1 else ''} "
            f"({type(exc).__name__}: {exc}); retrying in {delay:g} s."
        )

    # -- tag pages: written after a batch, and their own events never start another -----------------
    def _pages_wanted(self) -> bool:
        return bool(getattr(getattr(self.vault.config, "tags", None), "watch", False))

    def _with_tag_pages(self, stats: SyncStats, changed: set[str]) -> tuple[SyncStats, set[str]]:
        try:
            from . import tagpages  # noqa: F401 - tag pages are optional: say so once if they cannot load
        except ImportError:
            if not self.pages_unavailable_said:
                self.notify("Tag pages are enabled in config.toml, but this vaultindex cannot write them.")
                self.pages_unavailable_said = True
            return stats, changed
        folder = self.vault.config.tags.dir.strip("/")
        before = _tree_stamps(self.root, folder)
        try:
            result = self.vault.write_tag_pages()
            for warning in getattr(result, "warnings", ()) or ():
                if str(warning) not in self.pages_warned:  # said once, not after every batch
                    self.pages_warned.add(str(warning))
                    self.notify(f"Tag pages: {warning}")
            after = _tree_stamps(self.root, folder)
            written = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
            written |= _result_paths(result, self.root)
            written = {p for p in written if p and not is_ignored_path(p)}
            if written:
                self._ensure_lock()
                stats = _merge(stats, self.vault.apply(written))
                for path in written:
                    self.own_writes[path] = _stamp(self.root / path)
                changed = changed | {p for p in written if p.lower().endswith(".md")}
        except WatchError:
            raise
        except Exception as exc:
            self.pages_stale = True
            log.debug("tag pages failed", exc_info=True)
            self.notify(f"Could not write the tag pages ({type(exc).__name__}: {exc}); trying again later.")
            return stats, changed
        self.pages_stale = False
        return stats, changed

    def _drop_own_writes(self, paths: set[str]) -> set[str]:
        if not self.own_writes:
            return paths
        keep = set()
        for path in paths:
            mine = self.own_writes.get(path, _MISSING)
            if mine is not _MISSING and _stamp(self.root / path) == mine:
                continue  # the event of a file vaultindex wrote (and indexed) itself
            self.own_writes.pop(path, None)
            keep.add(path)
        return keep


def _fingerprint(catalog: Any) -> tuple[dict[str, str], frozenset[str]]:
    """What a batch can change, cheaply: each note's content hash, and the attachments.

    Reads the catalog's stamps when it keeps them (no note is decoded), else its records.
    """
    stamps = getattr(catalog, "stamps", None)
    if isinstance(stamps, Mapping):
        hashes = {path: stamp[2] for path, stamp in stamps.items()}
    else:
        hashes = {path: record.sha1 for path, record in catalog.records.items()}
    return hashes, frozenset(catalog.attachments)


def _changed(before: tuple[dict, frozenset], after: tuple[dict, frozenset]) -> set[str]:
    """Notes added, removed or with new content, and attachments added or removed."""
    (old, old_files), (new, new_files) = before, after
    changed = {path for path, sha in new.items() if old.get(path) != sha}
    changed.update(path for path in old if path not in new)
    return changed | (old_files ^ new_files)


def _fields(stats: SyncStats) -> dict:
    return {name: getattr(stats, name) for name in SyncStats.__dataclass_fields__}


def _discard(observer: Any) -> None:
    if observer is None:
        return
    try:
        observer.stop()
    except Exception:
        log.debug("stopping the observer failed", exc_info=True)
    try:
        if observer.is_alive():
            observer.join(timeout=5)
    except RuntimeError:
        pass


def run(
    vault: Any,
    stop_event: threading.Event | None = None,
    on_batch: OnBatch | None = None,
    debounce_ms: int = DEFAULT_DEBOUNCE_MS,
    polling: bool = False,
    *,
    max_wait_ms: int = MAX_WAIT_MS,
    rescan_seconds: float = RESCAN_SECONDS,
    poll_seconds: float = POLL_SECONDS,
    notify: Notify | None = None,
    on_ready: Callable[[WatchStart], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WatchSummary:
    """Keep the vault's index in sync with the disk until `stop_event` is set.

    Runs in the calling thread (start it in a thread of your own to keep working; use another
    `Vault` object for queries there). First reconciles the whole vault, then applies changes in
    batches: a batch is due `debounce_ms` after the last event, or `max_wait_ms` after its first
    one when saves keep coming. `on_batch(stats, paths)` is called after each batch that changed
    something, with the notes and attachments that were added, changed or removed. `notify(text)`
    receives notices (polling fallback, a failed batch that will be retried); by default they go
    to the `vaultindex.watch` logger. `on_ready(WatchStart)` is called once watching has begun.

    Holds the index's writer lock all along: raises WatchError when another watch runs (or a
    `sync` does not finish within a few seconds). Stopping leaves events not yet applied to the
    next start's reconcile.
    """
    if debounce_ms < 0:
        raise ValueError("debounce_ms must be >= 0")
    watcher = _Watcher(
        vault,
        stop_event if stop_event is not None else threading.Event(),
        on_batch,
        debounce_ms,
        polling,
        max_wait_ms,
        rescan_seconds,
        poll_seconds,
        notify if notify is not None else log.warning,
        on_ready,
        progress,
    )
    return watcher.run()
