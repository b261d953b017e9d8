"""The watcher's inbox and loop without inotify: a fake event source, a fake index, real threads.

Every wait here is "until this holds, at most WAIT seconds" on a condition that the fake index
or the callbacks notify; nothing sleeps for a fixed time to let something happen.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path

import pytest

from vaultindex.errors import WatchError
from vaultindex.inbox import FileEvent, Inbox
from vaultindex.models import SyncStats
from vaultindex.watchloop import PageWrites, Watcher, WatchOptions, WatchStart, WatchSummary

WAIT = 30.0


class Changes:
    """Things the watch thread does, and a way to wait for them from the test thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.log: list[tuple] = []

    def add(self, *entry: object) -> None:
        with self.cond:
            self.log.append((time.monotonic(), *entry))
            self.cond.notify_all()

    def until(self, condition: Callable[[], bool], what: str) -> None:
        with self.cond:
            if not self.cond.wait_for(condition, timeout=WAIT):
                raise AssertionError(f"{what}: not true within {WAIT:g} s; log: {self.log}")

    def kinds(self, kind: str) -> list[tuple]:
        with self.cond:
            return [entry[2:] for entry in self.log if entry[1] == kind]


class FakeIndex:
    """Records every call; a note "changes" when its path is applied, unless listed in `same`."""

    def __init__(self, changes: Changes, root: Path) -> None:
        self.changes = changes
        self.root = root
        self.same: set[str] = set()  # paths whose apply finds nothing new (a touch)
        self.fail: int = 0  # the next N applies raise
        self.pages: list[str] = []  # tag pages each write_tag_pages writes
        self.reconciled = 0

    def apply(self, paths: Collection[str]) -> SyncStats:
        paths = sorted(paths)
        if self.fail:
            self.fail -= 1
            self.changes.add("failed", paths)
            raise OSError(errno.EIO, "simulated disk error")
        changed = tuple(p for p in paths if p not in self.same)
        self.changes.add("apply", paths)
        return SyncStats(modified=len(changed), notes=10, paths=changed)

    def reconcile(self, progress: Callable[[int, int], None] | None = None) -> SyncStats:
        self.reconciled += 1
        self.changes.add("reconcile", self.reconciled)
        return SyncStats(unchanged=10, notes=10)

    def forget(self) -> None:
        self.changes.add("forget")

    def write_tag_pages(self) -> PageWrites:
        """Like tagpages.write_pages: a page is written only when its text changes."""
        written = set()
        for page in self.pages:
            path, text = self.root / page, f"# {page}\n"
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                written.add(page)
        self.changes.add("pages", tuple(sorted(written)))
        return PageWrites(frozenset(written))


class FakeSource:
    """An event source the test drives: `emit` hands an event to the inbox, as an observer would."""

    mode = "fake"
    folders = 1

    def __init__(self, root: Path, changes: Changes) -> None:
        self.root = root
        self.changes = changes
        self.inbox: Inbox | None = None
        self.running = False

    def start(self, inbox: Inbox) -> None:
        self.inbox, self.running = inbox, True
        self.changes.add("start")

    def stop(self) -> None:
        self.running = False
        self.changes.add("stop")

    def alive(self) -> bool:
        return self.running

    def remap(self) -> bool:
        return False

    def check(self) -> None:
        pass

    def emit(self, kind: str, rel: str, dest: str = "", is_dir: bool = False) -> None:
        assert self.inbox is not None
        full = str(self.root / rel) if rel else str(self.root)
        self.inbox.add(FileEvent(kind, full, str(self.root / dest) if dest else "", is_dir))


class Harness:
    """A Watcher over the fakes, run in a thread, with its callbacks recorded."""

    def __init__(self, root: Path, catch_up: bool = True, **options: object) -> None:
        self.catch_up = catch_up
        self.changes = Changes()
        self.root = root
        self.index = FakeIndex(self.changes, root)
        self.source = FakeSource(root, self.changes)
        self.notices: list[str] = []
        self.start: WatchStart | None = None
        self.summary: WatchSummary | None = None
        self.error: BaseException | None = None
        opts = {"debounce_ms": 50, **options}
        self.watcher = Watcher(
            self.index, self.source, root,
            WatchOptions(on_batch=self._on_batch, on_ready=self._on_ready, notify=self._notify, **opts),  # type: ignore[arg-type]
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_batch(self, stats: SyncStats, paths: tuple[str, ...]) -> None:
        self.changes.add("batch", paths)

    def _on_ready(self, start: WatchStart) -> None:
        self.start = start
        self.changes.add("ready")

    def _notify(self, text: str) -> None:
        self.notices.append(text)
        self.changes.add("notice", text)

    def _run(self) -> None:
        try:
            self.summary = self.watcher.run()
        except BaseException as exc:  # noqa: BLE001 (surfaced by the test)
            self.error = exc
        finally:
            self.changes.add("ended")

    def __enter__(self) -> Harness:
        self.thread.start()
        self.changes.until(lambda: bool(self.changes.kinds("ready")) or bool(self.changes.kinds("ended")), "ready")
        # The catch-up reconcile right after the start (the second one), so tests see only theirs.
        if self.catch_up:
            self.changes.until(lambda: self.index.reconciled >= 2, "the catch-up reconcile")
        return self

    def __exit__(self, *exc: object) -> None:
        self.watcher.stop()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the loop did not stop"

    def applied(self) -> list[list[str]]:
        return [entry[0] for entry in self.changes.kinds("apply")]

    def wait_applied(self, path: str) -> None:
        self.changes.until(lambda: any(path in call for call in self.applied()), f"{path} applied")


# -- the inbox alone: which paths, and when --------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_batch_is_due_after_a_quiet_moment_or_at_the_cap(tmp_path):
    clock = Clock()
    inbox = Inbox(tmp_path, clock=clock)
    assert inbox.due_at(0.2, 2.0) is None
    inbox.mark(["a.md"])
    clock.now += 0.1
    inbox.mark(["b.md"])
    assert inbox.due_at(0.2, 2.0) == pytest.approx(100.3)  # quiet time after the latest event
    for _ in range(40):  # a save every 0.1 s for 4 s: never quiet
        clock.now += 0.1
        inbox.mark(["a.md"])
    assert inbox.due_at(0.2, 2.0) == pytest.approx(102.0)  # the cap: 2 s after the first event
    assert inbox.take().paths == {"a.md", "b.md"}
    assert inbox.due_at(0.2, 2.0) is None


def test_events_reduce_to_the_paths_to_look_at_again(tmp_path):
    inbox = Inbox(tmp_path)

    def event(kind: str, rel: str, dest: str = "", is_dir: bool = False) -> None:
        inbox.add(FileEvent(kind, str(tmp_path / rel), str(tmp_path / dest) if dest else "", is_dir))

    # an atomic save: a temp file written, then renamed onto the note
    event("created", "papers/.LocoProp.md.tmp-4711")
    event("modified", "papers/.LocoProp.md.tmp-4711")
    event("moved", "papers/.LocoProp.md.tmp-4711", "papers/LocoProp.md")
    # vim: the 4913 probe, note -> note~, a new note, the backup deleted
    event("created", "papers/4913")
    event("deleted", "papers/4913")
    event("moved", "papers/LoRA.md", "papers/LoRA.md~")
    event("created", "papers/LoRA.md")
    event("deleted", "papers/LoRA.md~")
    # a rename, a delete, a folder moved in from outside, ignored places, events that say nothing
    event("moved", "Inbox/Old.md", "Inbox/New.md")
    event("deleted", "topics/Gone.md")
    event("moved", "../elsewhere/box", "box", is_dir=True)
    event("created", ".obsidian/workspace.json")
    event("modified", ".git/index")
    event("modified", "papers", is_dir=True)
    event("opened", "papers/SimCLR.md")
    event("closed_no_write", "papers/SimCLR.md")
    batch = inbox.take()
    assert batch.paths == {"papers/LocoProp.md", "papers/LoRA.md", "Inbox/Old.md", "Inbox/New.md", "topics/Gone.md", "box"}
    assert batch.folders == {"box"}
    assert not batch.whole_vault


def test_the_whole_vault_stands_for_every_path_and_the_root_going_is_noticed(tmp_path):
    inbox = Inbox(tmp_path)
    inbox.mark(["a.md", "b.md"])
    inbox.rescan("The kernel's file-event queue overflowed")
    batch = inbox.take()
    assert batch.whole_vault and batch.paths == {""}
    assert inbox.take_notices() == ["The kernel's file-event queue overflowed"]
    inbox.add(FileEvent("deleted", str(tmp_path), "", True))
    assert inbox.root_gone
    assert inbox.wait(0.05, 2.0, None) is False  # returns at once: the loop must look


# -- the loop over a fake source ----------------------------------------------------------------------


def test_a_burst_of_saves_is_one_apply_after_the_quiet_time(tmp_path):
    with Harness(tmp_path, debounce_ms=150) as h:
        assert h.start is not None and h.start.mode == "fake"
        for i in range(200):
            h.source.emit("modified", f"papers/Note {i % 5}.md")
        last_event = time.monotonic()
        h.wait_applied("papers/Note 0.md")
        h.source.emit("created", "Inbox/sentinel.md")
        h.wait_applied("Inbox/sentinel.md")
        assert h.applied() == [[f"papers/Note {i}.md" for i in range(5)], ["Inbox/sentinel.md"]]
        applied_at = next(e[0] for e in h.changes.log if e[1] == "apply")
        assert applied_at - last_event >= 0.15  # not before the quiet time
        assert [e[0] for e in h.changes.kinds("batch")] == [tuple(f"papers/Note {i}.md" for i in range(5)), ("Inbox/sentinel.md",)]


def test_a_stream_of_saves_is_still_applied_at_the_cap(tmp_path):
    with Harness(tmp_path, debounce_ms=200, max_wait_ms=600) as h:
        first = time.monotonic()
        while not h.applied() and time.monotonic() - first < WAIT:
            h.source.emit("modified", "papers/Busy.md")
            with h.changes.cond:
                h.changes.cond.wait(0.05)  # the next save in 50 ms: never 200 ms of quiet
        assert h.applied(), "never applied while saves kept coming"
        applied_at = next(e[0] for e in h.changes.log if e[1] == "apply")
        assert applied_at - first >= 0.6


def test_moves_deletes_and_an_atomic_save_are_applied_as_paths(tmp_path):
    with Harness(tmp_path) as h:
        h.source.emit("created", "papers/LocoProp.md.tmp")
        h.source.emit("moved", "papers/LocoProp.md.tmp", "papers/LocoProp.md")
        h.source.emit("moved", "papers/LoRA.md", "topics/LoRA.md")
        h.source.emit("deleted", "papers/SimCLR.md")
        h.wait_applied("papers/LocoProp.md")
        assert h.applied() == [["papers/LoRA.md", "papers/LocoProp.md", "papers/SimCLR.md", "topics/LoRA.md"]]


def test_an_overflow_reconciles_the_whole_vault_and_says_so(tmp_path):
    with Harness(tmp_path) as h:
        assert h.source.inbox is not None
        h.source.emit("modified", "papers/A.md")
        h.source.inbox.rescan("The kernel's file-event queue overflowed (fs.inotify.max_queued_events)")
        h.changes.until(lambda: h.index.reconciled >= 3, "reconcile after the overflow")
        assert h.applied() == []  # the reconcile covers papers/A.md too
        assert any("overflowed" in n for n in h.notices)


def test_an_apply_that_raises_is_reported_retried_and_the_loop_goes_on(tmp_path):
    with Harness(tmp_path) as h:
        h.index.fail = 1
        h.source.emit("created", "papers/Flaky.md")
        h.wait_applied("papers/Flaky.md")  # the retry, about a second later
        assert h.changes.kinds("failed") == [(["papers/Flaky.md"],)]
        assert h.changes.kinds("forget") == [()]  # the half-done batch's memory dropped
        assert any("Could not apply 1 changed path (OSError" in n and "retrying in 1 s" in n for n in h.notices)
        h.source.emit("created", "papers/After.md")
        h.wait_applied("papers/After.md")
        assert "Batches are applied again." in h.notices
    assert h.error is None and h.summary is not None
    assert (h.summary.errors, h.summary.batches, h.summary.modified) == (1, 2, 2)


def test_an_on_batch_that_raises_is_said_and_the_loop_goes_on(tmp_path):
    h = Harness(tmp_path)
    calls: list[tuple[str, ...]] = []

    def on_batch(stats: SyncStats, paths: tuple[str, ...]) -> None:
        calls.append(paths)
        h.changes.add("batch", paths)
        if len(calls) == 1:
            raise ValueError("plugin bug")

    h.watcher.options = WatchOptions(debounce_ms=50, on_batch=on_batch, on_ready=h._on_ready, notify=h._notify)
    with h:
        h.source.emit("created", "One.md")
        h.changes.until(lambda: ("One.md",) in calls, "first batch")
        h.source.emit("created", "Two.md")
        h.changes.until(lambda: ("Two.md",) in calls, "second batch")
    assert any("on_batch raised ValueError: plugin bug" in n for n in h.notices)


def test_stop_ends_the_loop_at_once_and_leaves_waiting_paths_to_the_next_start(tmp_path):
    with Harness(tmp_path, catch_up=False, debounce_ms=60_000, max_wait_ms=60_000) as h:
        h.source.emit("modified", "papers/Pending.md")
        asked = time.monotonic()
        h.watcher.stop()
        h.changes.until(lambda: bool(h.changes.kinds("ended")), "loop ended")
        ended = next(e[0] for e in h.changes.log if e[1] == "ended")
        assert ended - asked < 5.0  # not after a debounce of a minute
    assert h.applied() == [] and h.summary is not None and h.summary.batches == 0
    assert h.changes.kinds("stop"), "the source was stopped"


def test_an_idle_loop_sleeps_instead_of_polling(tmp_path):
    """The loop on main woke every 50 ms when idle (about 20 times in a second)."""
    with Harness(tmp_path) as h:
        before = h.watcher.wakeups
        threading.Event().wait(1.0)  # the idle second being measured (not a synchronisation)
        assert h.watcher.wakeups - before <= 1


def test_the_vault_folder_going_stops_the_loop_with_an_error(tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    h = Harness(vault)
    with h:
        vault.rmdir()
        h.source.emit("deleted", "", is_dir=True)
        h.changes.until(lambda: bool(h.changes.kinds("ended")), "loop ended")
    assert isinstance(h.error, WatchError) and "is gone" in str(h.error)


def test_tag_pages_follow_changes_told_by_sync_stats_and_their_events_start_no_batch(tmp_path):
    with Harness(tmp_path, tag_pages=True) as h:
        assert len(h.changes.kinds("pages")) == 1  # written once at the start
        h.index.pages = ["Tags/nested/marsupials (tag).md"]
        h.index.same = {"papers/Touched.md"}
        h.source.emit("modified", "papers/Touched.md")  # its apply changes nothing
        h.wait_applied("papers/Touched.md")
        h.source.emit("modified", "papers/Edited.md")  # this one changes a note
        h.changes.until(lambda: len(h.changes.kinds("pages")) == 2, "pages written after the change")
        page = "Tags/nested/marsupials (tag).md"
        h.changes.until(lambda: any(page in call for call in h.applied()), "the page indexed")
        # The pages' own events (the file and the folder made for it) come back: no batch.
        h.source.emit("created", "Tags/nested", is_dir=True)
        h.source.emit("created", page)
        h.source.emit("modified", page)
        h.source.emit("created", "Inbox/sentinel.md")
        h.changes.until(lambda: ("Inbox/sentinel.md",) in [e[0] for e in h.changes.kinds("batch")], "the sentinel's batch")
        assert h.applied()[-1] == ["Inbox/sentinel.md"]
        assert sum(page in call for call in h.applied()) == 1
        assert len(h.changes.kinds("pages")) == 3  # the sentinel changed a note too
        batches = [e[0] for e in h.changes.kinds("batch")]
        assert ("papers/Touched.md",) not in batches  # nothing changed: no batch line
        assert any("papers/Edited.md" in paths and page in paths for paths in batches)
