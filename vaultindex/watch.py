"""Owns live sync's observer: watchdog's events go to the inbox, and `run` wires the loop to a Vault.

The only module that imports watchdog. `Observer` watches the vault folder with inotify (or the
platform's own observer), or by polling when inotify cannot watch every folder or refuses to
start (with a notice saying which setting to raise), and hands every event to the `Inbox`
(inbox.py: dirty paths and the debounce). `run` gives the loop (watchloop.py) the Vault's public
writer interface (`apply`, `reconcile`, `forget`, `write_tag_pages`, `writer_lock`) as its
`Index`. Events are hints and the disk is the truth, so every editor's way of saving (in place,
temp file then rename, vim's backup dance, JetBrains' safe write), renames, folder moves and
deletes all reduce to "look at these paths again".
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import warnings
from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserverVFS

from .config import ALWAYS_IGNORED_DIRS, CONFIG_FILE, STATE_DIR
from .errors import WatchError
from .inbox import FileEvent, Inbox, is_ignored_path, is_temp_name
from .models import SyncStats
from .scan import is_ignored_name
from .text import quote_path
from .watchloop import (
    DEFAULT_DEBOUNCE_MS,
    MAX_WAIT_MS,
    POLL_SECONDS,
    RESCAN_SECONDS,
    EventSource,
    Index,
    Notify,
    OnBatch,
    PageWrites,
    Progress,
    Watcher,
    WatchOptions,
    WatchStart,
    WatchSummary,
    batch_line,
)

if TYPE_CHECKING:
    from .vault import Vault

__all__ = [
    "EventSource", "Index", "Observer", "PageWrites", "WatchOptions", "WatchStart", "WatchSummary", "Watcher",
    "batch_line", "is_ignored_path", "is_temp_name", "run",
]

log = logging.getLogger(__name__)

class _BenignStopRace(logging.Filter):
    """watchdog may log an error when its emitter thread is stopped while reading; nothing is lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in str(record.msg)


_STOP_RACE = _BenignStopRace()


def _quiet_watchdog() -> None:
    """Silence two harmless watchdog messages when an observer starts (not at import; both calls
    are no-ops when repeated).

    watchdog warns when a folder it already watches is registered again (a folder made and then
    moved, for instance); it re-uses the same callback, so nothing is wrong, but the warning
    would print a screenful of internals in the user's terminal."""
    warnings.filterwarnings("ignore", message="Callback with id .* already exists", category=RuntimeWarning)
    logging.getLogger("watchdog.observers.inotify").addFilter(_STOP_RACE)


SYNC_WAIT_SECONDS = 10.0  # how long to wait for a running `sync` before giving up
SUGGESTED_WATCHES = 524288


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


def _new_native_observer() -> BaseObserver:
    """The platform's event observer (inotify on Linux); a function so tests can replace it."""
    from watchdog.observers import Observer

    return Observer()


def _mode_name(observer: BaseObserver) -> str:
    name = type(observer).__name__.removesuffix("Observer").lower()
    return name or "native"


# -- the observer (its threads hand events to the inbox) ----------------------------------------


class _EventSink(FileSystemEventHandler):
    """Hands watchdog's events to the inbox as FileEvents."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self.inbox.add(
                FileEvent(event.event_type, os.fsdecode(event.src_path), os.fsdecode(event.dest_path or ""), event.is_directory)
            )
        except Exception:  # never let a surprise kill watchdog's thread: look at everything instead
            log.debug("event %r could not be handled", event, exc_info=True)
            self.inbox.rescan()


# What a batch is told when a bibliography file outside the vault changed: the config that names
# it (a path in .vaultindex/, which the scan skips; every batch looks at the bibliography's stamps).
BIBLIOGRAPHY_MARK = f"{STATE_DIR}/{CONFIG_FILE}"


class _FileSink(FileSystemEventHandler):
    """The events of a few files in one folder outside the vault (the config's bibliography
    files): any event naming one of them marks the bibliography dirty; the folder's other
    files are not looked at."""

    def __init__(self, inbox: Inbox, folder: str, names: set[str]) -> None:
        super().__init__()
        self.inbox, self.folder, self.names = inbox, folder, names

    def dispatch(self, event: FileSystemEvent) -> None:
        for path in (event.src_path, event.dest_path):
            path = os.fsdecode(path or "")
            if path and os.path.dirname(path) == self.folder and os.path.basename(path) in self.names:
                self.inbox.mark([BIBLIOGRAPHY_MARK])
                return


class _OverflowAlarm(logging.Handler):
    """watchdog only logs a kernel queue overflow; this turns that log line into a full rescan."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__(logging.WARNING)
        self.inbox = inbox

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a log record whose arguments do not format is not an overflow
            return
        if "overflow" in message.lower():
            self.inbox.rescan(
                "The kernel's file-event queue overflowed (fs.inotify.max_queued_events): "
                "rescanning the whole vault."
            )


_OVERFLOW_LOGGER = "watchdog.observers.inotify_c"


def _polling_listdir(path: str | None) -> Iterator[os.DirEntry[str]]:
    """os.scandir without what vaultindex ignores (`.git/` can be huge) and without symlinked folders."""
    with os.scandir(path) as entries:
        kept = [
            e
            for e in entries
            if not (e.name in ALWAYS_IGNORED_DIRS or is_ignored_name(e.name))
            and not (e.is_symlink() and e.is_dir())
        ]
    return iter(kept)


class Observer:
    """watchdog's observer on the vault folder: inotify (or the platform's own), else polling.

    Falls back to polling, with a notice saying which setting to raise, when the vault has more
    folders than inotify may watch or inotify refuses to start."""

    def __init__(self, root: Path, polling: bool = False, poll_seconds: float = POLL_SECONDS,
                 files: Collection[Path] = ()) -> None:
        self.root = root
        self.files = tuple(files)  # files outside the vault whose folders are watched too (not recursively)
        self.polling = polling
        self.poll_seconds = poll_seconds
        self.mode = ""
        self.folders = 0
        self._observer: BaseObserver | None = None
        self._inbox: Inbox | None = None
        self._alarm: _OverflowAlarm | None = None

    def start(self, inbox: Inbox) -> None:
        _quiet_watchdog()
        if self._alarm is None:
            self._alarm = _OverflowAlarm(inbox)
            logging.getLogger(_OVERFLOW_LOGGER).addHandler(self._alarm)
        self._inbox = inbox
        sink = _EventSink(inbox)
        self.folders = count_folders(self.root)
        if not self.polling:
            limit = inotify_watch_limit()
            if limit is not None and self.folders > limit:
                inbox.notice(_too_many_folders(self.folders, limit))
                self.polling = True
        if not self.polling:
            observer = None
            try:
                observer = _new_native_observer()
                observer.schedule(sink, str(self.root), recursive=True)
                self._schedule_files(observer, inbox)
                observer.start()
                self._observer, self.mode = observer, _mode_name(observer)
                return
            except OSError as exc:
                _discard(observer)
                if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                    raise
                inbox.notice(_observer_failed(exc))
                self.polling = True
        polling = PollingObserverVFS(os.stat, _polling_listdir, polling_interval=self.poll_seconds)
        polling.schedule(sink, str(self.root), recursive=True)
        self._schedule_files(polling, inbox)
        polling.start()
        self._observer, self.mode = polling, "polling"

    def _schedule_files(self, observer: BaseObserver, inbox: Inbox) -> None:
        """Watch the folder of each outside file, that folder only; one that cannot be watched
        (gone, unreadable) is left to the periodic rescan, with a notice."""
        folders: dict[str, set[str]] = {}
        for file in self.files:
            folders.setdefault(os.path.dirname(file), set()).add(os.path.basename(file))
        for folder, names in folders.items():
            try:
                observer.schedule(_FileSink(inbox, folder, names), folder, recursive=False)
            except OSError as exc:
                inbox.notice(f"Cannot watch {quote_path(folder)} for the bibliography ({exc.strerror or exc}): "
                             f"its changes are read at the next rescan (every {RESCAN_SECONDS / 60:g} minutes).")

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        _discard(observer)

    def close(self) -> None:
        self.stop()
        if self._alarm is not None:
            logging.getLogger(_OVERFLOW_LOGGER).removeHandler(self._alarm)
            self._alarm = None

    def alive(self) -> bool:
        observer = self._observer
        return observer is not None and observer.is_alive() and all(e.is_alive() for e in list(observer.emitters))

    def remap(self) -> bool:
        """watchdog keeps a path per inotify watch and updates it when folders move; after some
        sequences (a folder moved out and back in, moves between nested folders) two paths share
        one watch and later events carry the wrong path. So after a folder appeared or moved: a
        fresh observer (a true map); the caller rescans for what was misnamed or lost meanwhile."""
        if self.mode == "polling" or self._inbox is None:
            return False
        self.stop()
        self.start(self._inbox)
        return True

    def check(self) -> None:
        """Folders made since the start may push inotify past its limit, where it fails silently."""
        if self.polling or self.mode != "inotify" or self._inbox is None:
            return
        limit = inotify_watch_limit()
        folders = count_folders(self.root)
        if limit is not None and folders > limit:
            self._inbox.notice(_too_many_folders(folders, limit))
            self.stop()
            self.polling = True
            self.start(self._inbox)


def _discard(observer: BaseObserver | None) -> None:
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


# -- a Vault as the loop's index -------------------------------------------------------------------


class _VaultIndex:
    """The loop's `Index` over a Vault's public writer interface, holding its writer lock.

    Looks the Vault's methods up at each call (a caller may wrap `vault.apply`)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.owns_lock = False

    def hold(self) -> None:
        """Take the writer lock for the whole watch (unless the caller holds it already)."""
        lock = self.vault.writer_lock
        if lock.held:
            return  # the caller holds it (and keeps it)
        if lock.acquire("watch", 0.0):
            self.owns_lock = True
            return
        holder = lock.holder()
        if holder.endswith("vaultindex watch"):
            raise WatchError(f"a vaultindex watch is already running on this vault ({holder.split(',')[0]})")
        if lock.acquire("watch", SYNC_WAIT_SECONDS):  # a `sync` finishes, then we start
            self.owns_lock = True
            return
        raise WatchError(f"the index is being written by another vaultindex process ({holder}); try again when it is done")

    def release(self) -> None:
        if self.owns_lock:
            self.vault.writer_lock.release()
            self.owns_lock = False

    def _ensure_lock(self) -> None:
        # Something in the batch path (a plugin calling vault.sync) may have released it.
        lock = self.vault.writer_lock
        if not lock.held:
            if not lock.acquire("watch", SYNC_WAIT_SECONDS):
                raise WatchError("lost the index's writer lock to another process")
            self.owns_lock = True

    def apply(self, paths: Collection[str]) -> SyncStats:
        self._ensure_lock()
        return self.vault.apply(paths)

    def reconcile(self, progress: Progress | None = None) -> SyncStats:
        self._ensure_lock()
        return self.vault.reconcile(progress=progress)

    def forget(self) -> None:
        self.vault.forget()

    def warm_up(self) -> None:
        self._ensure_lock()
        self.vault.warm_up()

    def write_tag_pages(self) -> PageWrites:
        self._ensure_lock()
        result = self.vault.write_tag_pages()
        paths = {*result.written, *result.deleted, *(p for pair in result.renamed for p in pair)}
        return PageWrites(frozenset(paths), tuple(str(w) for w in result.warnings))


def run(
    vault: Vault,
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
    progress: Progress | None = None,
    options: WatchOptions | None = None,
) -> WatchSummary:
    """Keep the vault's index in sync with the disk until `stop_event` is set.

    Runs in the calling thread (start it in a thread of your own to keep working; use another
    `Vault` object for queries there). First reconciles the whole vault, then applies changes in
    batches: a batch is due `debounce_ms` after the last event, or `max_wait_ms` after its first
    one when saves keep coming. `on_batch(stats, paths)` is called after each batch that changed
    something, with the notes and attachments that were added, changed or removed. `notify(text)`
    receives notices (polling fallback, a failed batch that will be retried); by default they go
    to the `vaultindex.watch` logger. `on_ready(WatchStart)` is called once watching has begun.
    `options` (a WatchOptions) gives all of these at once; the keywords are the common ones.

    Holds the index's writer lock all along: raises WatchError when another watch runs (or a
    `sync` does not finish within a few seconds). Stopping leaves events not yet applied to the
    next start's reconcile.
    """
    if options is None:
        options = WatchOptions(
            debounce_ms=debounce_ms, max_wait_ms=max_wait_ms, polling=polling, poll_seconds=poll_seconds,
            rescan_seconds=rescan_seconds, on_batch=on_batch, on_ready=on_ready, notify=notify, progress=progress,
        )
    if options.tag_pages is None:
        options = replace(options, tag_pages=bool(vault.config.tags.watch))
    if vault.config.skip_dirs:
        options = replace(options, skip_dirs=(*options.skip_dirs, *vault.config.skip_dirs))
    root = Path(vault.root)
    index = _VaultIndex(vault)
    from .bib import outside_files

    observer = Observer(root, options.polling, options.poll_seconds, outside_files(root, vault.config))
    watcher = Watcher(index, observer, root, options)
    index.hold()
    try:
        if stop_event is not None:
            # The caller's Event wakes the sleeping loop through one thread blocked on it (the
            # loop never polls it); the thread ends when the event is set, or with the process.
            threading.Thread(target=_wake_on, args=(stop_event, watcher), name="vaultindex-watch-stop", daemon=True).start()
        return watcher.run()
    finally:
        observer.close()
        index.release()


def _wake_on(stop: threading.Event, watcher: Watcher) -> None:
    stop.wait()
    watcher.stop()
