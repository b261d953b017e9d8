"""Owns the watch loop: it sleeps on the inbox until a batch is due and applies it through an injected index.

No watchdog here and no Vault: an `EventSource` (watch.Observer, or a test's fake) fills the
`Inbox` from its own threads, and `Watcher` hands each due batch to `Index.apply(paths)`, or to
`Index.reconcile()` when the whole vault is to be compared (at start, after an overflow, every
few minutes). It checks that the vault folder and the source are alive, retries failed batches
with a growing delay, writes tag pages after a batch whose `SyncStats` says notes or attachments
changed (their own events never start another batch), and reports each batch to the callbacks
of `WatchOptions`. watch.py wires it to a Vault and to watchdog.
"""

from __future__ import annotations

import logging
import stat
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .errors import WatchError
from .inbox import Batch, Inbox, is_ignored_path
from .models import SyncStats

log = logging.getLogger("vaultindex.watch")

DEFAULT_DEBOUNCE_MS = 200  # quiet time after the last event before a batch is applied
MAX_WAIT_MS = 2000  # a continuous stream of saves is still applied at least this often
RESCAN_SECONDS = 300.0  # the whole vault is compared with the index this often
POLL_SECONDS = 1.0  # polling interval with --polling (or after falling back to it)
HEALTH_SECONDS = 5.0  # how often the observer threads and the vault folder are checked
RETRY_MAX_SECONDS = 60.0  # a failing batch is retried after 1, 2, 4, ... seconds, at most this
# A batch this large is applied with the observer stopped: Whoosh's writer forks for big batches,
# and forking while observer threads run can deadlock the children.
BIG_BATCH_PATHS = 2000

Notify = Callable[[str], None]
OnBatch = Callable[[SyncStats, tuple[str, ...]], None]
Progress = Callable[[int, int], None]


# -- results and options -------------------------------------------------------------------------


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


@dataclass(frozen=True)
class WatchOptions:
    """How a watch runs. Callbacks are called in the watching thread."""

    debounce_ms: int = DEFAULT_DEBOUNCE_MS  # quiet time after the last event
    max_wait_ms: int = MAX_WAIT_MS  # ... but a stream of saves is applied at least this often
    polling: bool = False  # poll instead of file-system events
    poll_seconds: float = POLL_SECONDS
    rescan_seconds: float = RESCAN_SECONDS  # the whole vault is reconciled this often
    health_seconds: float = HEALTH_SECONDS  # the observer and the vault folder are checked this often
    tag_pages: bool | None = None  # rewrite tag pages after batches; None: the vault's `[tags] watch`
    on_batch: OnBatch | None = None  # (stats, paths of the notes and attachments that changed)
    on_ready: Callable[[WatchStart], None] | None = None  # once watching has begun
    notify: Notify | None = None  # notices for the user; None: the `vaultindex.watch` logger
    progress: Progress | None = None  # of the initial reconcile
    skip_dirs: tuple[str, ...] = ()  # vault folders whose events are dropped (Config.skip_dirs)

    def __post_init__(self) -> None:
        if self.debounce_ms < 0:
            raise ValueError("debounce_ms must be >= 0")

    @property
    def quiet(self) -> float:
        return self.debounce_ms / 1000

    @property
    def cap(self) -> float:
        return max(self.max_wait_ms / 1000, self.quiet)


def batch_line(stats: SyncStats, paths: Iterable[str], when: datetime | None = None, limit: int = 3) -> str:
    """One line per batch: `12:04:31  +1 ~2 -0  14 ms  papers/A.md, papers/B.md and 1 more`."""
    clock = (when or datetime.now()).strftime("%H:%M:%S")
    listed = sorted(paths)
    shown = ", ".join(listed[:limit])
    if len(listed) > limit:
        shown += f" and {len(listed) - limit:,} more"
    counts = f"+{stats.added} ~{stats.modified} -{stats.removed}"
    if stats.bibliography is not None:  # `...  bibliography refs/library.bib: +1 ~0 -0 entries`
        shown = "; ".join(part for part in (shown, f"bibliography {stats.bibliography.summary}") if part)
    return f"{clock}  {counts}  {stats.seconds * 1000:.0f} ms  {shown}".rstrip()


# -- what the loop talks to ----------------------------------------------------------------------


@dataclass(frozen=True)
class PageWrites:
    """What writing the tag pages did: the files it wrote, deleted or renamed (both ends), and warnings."""

    paths: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()


class Index(Protocol):
    """The index the loop writes; the caller holds (or takes) the writer lock."""

    def apply(self, paths: Collection[str]) -> SyncStats: ...
    def reconcile(self, progress: Progress | None = None) -> SyncStats: ...
    def forget(self) -> None: ...  # after a failed batch: drop what is held in memory
    def write_tag_pages(self) -> PageWrites: ...


class EventSource(Protocol):
    """Something that hands file events (and notices) to an inbox: an observer, or a test's fake."""

    mode: str
    folders: int

    def start(self, inbox: Inbox) -> None: ...
    def stop(self) -> None: ...
    def alive(self) -> bool: ...
    def remap(self) -> bool: ...  # folders appeared or moved: restart if paths may be misnamed; True if restarted
    def check(self) -> None: ...  # the periodic check (the inotify limit)


# -- the loop ------------------------------------------------------------------------------------


Stamp = tuple[str, int, int] | None


def _stamp(path: Path) -> Stamp:
    """A file's (mtime, size), a folder's identity (another folder moved in is not the same)."""
    try:
        st = path.stat()
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return ("dir", st.st_dev, st.st_ino)
    return ("file", st.st_mtime_ns, st.st_size)


class _OwnWrites:
    """Files (and the folders made for them) that the watcher wrote and indexed itself: their
    events come back later and must not start another batch, unless the file changed since."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stamps: dict[str, Stamp] = {}

    def __bool__(self) -> bool:
        return bool(self._stamps)

    def remember(self, paths: Iterable[str]) -> None:
        for path in paths:
            self._stamps[path] = _stamp(self.root / path)
            parent = path.rpartition("/")[0]
            while parent and parent not in self._stamps:
                self._stamps[parent] = _stamp(self.root / parent)  # a folder made for a nested tag's page
                parent = parent.rpartition("/")[0]

    def drop(self, paths: Iterable[str]) -> set[str]:
        """The paths that are not (or no longer) the watcher's own writes."""
        keep = set()
        for path in paths:
            if path in self._stamps:
                if _stamp(self.root / path) == self._stamps[path]:
                    continue  # the event of a file vaultindex wrote (and indexed) itself
                del self._stamps[path]
            keep.add(path)
        return keep


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
        paths=tuple(sorted({*a.paths, *b.paths})),
        attachments=tuple(sorted({*a.attachments, *b.attachments})),
        bibliography=a.bibliography.merged(b.bibliography) if a.bibliography else b.bibliography,
    )


def _changed_paths(stats: SyncStats) -> tuple[str, ...]:
    """The notes and attachments a batch added, changed or removed."""
    return tuple(sorted({*stats.paths, *stats.attachments}))


class Watcher:
    """The loop: waits on the inbox, applies its batches to the index, says what happened.

    Runs in the calling thread until `stop()` (from any thread) or until the vault folder goes.
    `source` feeds the inbox from its own threads; the loop sleeps on the inbox's condition, so
    an idle watch wakes only for the health check and the periodic rescan."""

    def __init__(self, index: Index, source: EventSource, root: Path, options: WatchOptions = WatchOptions()) -> None:
        self.index = index
        self.source = source
        self.root = root
        self.options = options
        self.notify: Notify = options.notify or log.warning
        self.inbox = Inbox(root, skip=options.skip_dirs)
        self.own_writes = _OwnWrites(root)
        self.root_id: tuple[int, int] = (0, 0)
        self.pages_stale = False
        self.pages_warned: set[str] = set()
        self.failures = 0  # consecutive failed batches
        self.wakeups = 0  # times the loop woke up (what an idle watch costs)
        self.totals = {"batches": 0, "added": 0, "modified": 0, "removed": 0, "errors": 0}

    def stop(self) -> None:
        self.inbox.stop()

    # -- lifecycle ---------------------------------------------------------------------------------
    def run(self) -> WatchSummary:
        st = self.root.stat()
        self.root_id = (st.st_dev, st.st_ino)
        try:
            # Reconcile while this is the only thread: a big rebuild forks Whoosh writers.
            stats = self.index.reconcile(self.options.progress)
            if self.options.tag_pages:
                stats = self._with_tag_pages(stats)
            self.source.start(self.inbox)
            self.inbox.rescan()  # whatever changed between the reconcile's scan and the observer's start
            self._say_notices()
            if self.options.on_ready is not None:
                self.options.on_ready(WatchStart(stats, self.source.mode, self.source.folders))
            self._warm_up()
            self._loop()
        finally:
            self.source.stop()
        return WatchSummary(**self.totals, mode=self.source.mode)

    def _loop(self) -> None:
        health = self.options.health_seconds
        now = time.monotonic()
        next_rescan = now + self.options.rescan_seconds
        next_health = now + health
        while True:
            due = self.inbox.wait(self.options.quiet, self.options.cap, min(next_rescan, next_health))
            self.wakeups += 1
            if self.inbox.stopped:
                return
            self._say_notices()
            now = time.monotonic()
            if self.inbox.root_gone or now >= next_health:
                self._check_health()
                next_health = now + health
            if now >= next_rescan:
                self.source.check()
                self.inbox.rescan()
                next_rescan = now + self.options.rescan_seconds
            if due:
                self._batch(self.inbox.take())

    def _warm_up(self) -> None:
        """Prepare the write path once watching has begun (an index may offer `warm_up`), so
        that the first save is applied as fast as the others; a save meanwhile waits in the inbox."""
        warm_up: Callable[[], None] | None = getattr(self.index, "warm_up", None)
        if warm_up is None:
            return
        try:
            warm_up()
        except Exception:  # only a head start: the first batch does the same work if need be
            log.debug("warm-up failed", exc_info=True)

    def _say_notices(self) -> None:
        for notice in self.inbox.take_notices():
            self.notify(notice)

    # -- health ------------------------------------------------------------------------------------
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
        if self.source.alive():
            return
        self.notify("The file watcher stopped unexpectedly: restarting it and rescanning the vault.")
        if self._restart_source():
            self.inbox.rescan()

    def _restart_source(self) -> bool:
        self.source.stop()
        try:
            self.source.start(self.inbox)
        except OSError as exc:  # the health check tries again
            self.notify(f"Cannot watch the vault folder ({exc}); trying again in {self.options.health_seconds:g} s.")
            return False
        return True

    # -- batches -----------------------------------------------------------------------------------
    def _batch(self, batch: Batch) -> None:
        paths = self.own_writes.drop(batch.paths) if self.own_writes else set(batch.paths)
        if not paths:
            if self.pages_stale and self.options.tag_pages:
                self._report(self._with_tag_pages(SyncStats()), 0.0)
            return
        self._check_root()  # (a batch on a removed vault would write an index for nothing)
        started = time.perf_counter()
        try:
            if batch.folders and self.own_writes.drop(batch.folders) and self.source.remap():
                paths = {""}  # what was misnamed or lost while the observer restarted
            if len(paths) >= BIG_BATCH_PATHS:
                stats = self._reconcile_quiesced()
            elif "" in paths:
                stats = self.index.reconcile()
            else:
                stats = self.index.apply(sorted(paths))
        except WatchError:
            raise
        except Exception as exc:  # noqa: BLE001 - one failed batch is reported and retried; the watch goes on
            self._failed(Batch(frozenset(paths), batch.folders), exc)
            return
        if self.failures:
            self.notify("Batches are applied again.")
            self.failures = 0
        if self.options.tag_pages and (stats.changed or stats.attachments or self.pages_stale):
            stats = self._with_tag_pages(stats)
        self._report(stats, started)

    def _report(self, stats: SyncStats, started: float) -> None:
        changed = _changed_paths(stats)
        if not (changed or stats.diagnostics or stats.bibliography):
            return
        if started:
            stats = replace(stats, seconds=time.perf_counter() - started)
        self.totals["batches"] += 1
        self.totals["added"] += stats.added
        self.totals["modified"] += stats.modified
        self.totals["removed"] += stats.removed
        log.info("%s", batch_line(stats, changed))
        if self.options.on_batch is not None:
            try:
                self.options.on_batch(stats, changed)
            except Exception as exc:  # the caller's bug must not stop the watch
                log.debug("on_batch failed", exc_info=True)
                self.notify(f"on_batch raised {type(exc).__name__}: {exc}")

    def _reconcile_quiesced(self) -> SyncStats:
        """A huge batch (a branch checkout): stop the observer, reconcile the whole vault, restart."""
        self.source.stop()
        try:
            return self.index.reconcile()
        finally:
            self.inbox.rescan()  # what changed while nobody was watching
            self._restart_source()

    def _failed(self, batch: Batch, exc: Exception) -> None:
        self.failures += 1
        self.totals["errors"] += 1
        delay = min(RETRY_MAX_SECONDS, 2.0 ** (self.failures - 1))
        # The batch may have stopped half way: forget the in-memory state, reload it from disk.
        self.index.forget()
        self.inbox.put_back(batch, delay)
        log.debug("batch failed", exc_info=True)
        count = len(batch.paths)
        self.notify(
            f"Could not apply {count:,} changed path{'s' if count != 1 else ''} "
            f"({type(exc).__name__}: {exc}); retrying in {delay:g} s."
        )

    # -- tag pages: written after a batch that changed notes, and their own events never start another
    def _with_tag_pages(self, stats: SyncStats) -> SyncStats:
        try:
            pages = self.index.write_tag_pages()
            for warning in pages.warnings:
                if warning not in self.pages_warned:  # said once, not after every batch
                    self.pages_warned.add(warning)
                    self.notify(f"Tag pages: {warning}")
            written = {p for p in pages.paths if p and not is_ignored_path(p)}
            if written:
                stats = _merge(stats, self.index.apply(sorted(written)))
                self.own_writes.remember(written)
        except WatchError:
            raise
        except Exception as exc:
            self.pages_stale = True
            log.debug("tag pages failed", exc_info=True)
            self.notify(f"Could not write the tag pages ({type(exc).__name__}: {exc}); trying again later.")
            return stats
        self.pages_stale = False
        return stats


