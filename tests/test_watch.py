"""`vaultindex watch` with real observers: every way editors save, moves, ignores, batching,
tag pages, the writer lock, fallbacks and shutdown.

Waits are "eventually within N seconds" loops that poll for the condition; nothing asserts
how fast anything happens.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from conftest import REPO, write
from vaultindex import SyncStats, Vault, watchloop
from vaultindex import watch as watch_module
from vaultindex.errors import WatchError
from vaultindex.inbox import Inbox
from vaultindex.watch import batch_line, is_ignored_path, is_temp_name

# watchdog warns when it registers a folder it already watches (see watch.py); harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

WAIT = 60.0  # generous: CI machines can be slow, and the wait ends as soon as the condition holds

LOCO = "papers/LocoProp.md"
LORA = "papers/LoRA.md"


def eventually(condition, timeout: float = WAIT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout:g} s")
        time.sleep(0.02)


def note_text(title: str, body: str = "", tags: str = "") -> str:
    front = f"---\ntitle: {title}\n" + (f"tags: [{tags}]\n" if tags else "") + "---\n"
    return f"{front}# {title}\n\n{body}\n"


class Running:
    """`watch.run` in a thread on a vault folder, recording what every batch did.

    `state` is a copy of the indexed notes taken in the watch thread after each batch, so the
    test thread never reads structures the watcher is changing. `applied` lists the paths of
    every `vault.apply` call (after it returned), and `[""]` for each reconcile of the whole
    vault after the start.
    """

    def __init__(self, root: Path, **options):
        self.root = root
        self.vault = Vault.open(root)
        self.options = {"debounce_ms": 100, **options}
        self.stop = threading.Event()
        self.batches: list[tuple[SyncStats, tuple]] = []
        self.applied: list[list[str]] = []
        self.notices: list[str] = []
        self.state: dict = {}
        self.start = None
        self.summary = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _snapshot(self) -> None:
        self.state = {p: r.note for p, r in self.vault.catalog.records.items()}

    def _on_batch(self, stats, paths) -> None:
        self.batches.append((stats, paths))
        self._snapshot()

    def _on_ready(self, start) -> None:
        self.start = start
        self._snapshot()
        self._ready.set()

    def _run(self) -> None:
        try:
            self.summary = watch_module.run(
                self.vault,
                self.stop,
                self._on_batch,
                notify=self.notices.append,
                on_ready=self._on_ready,
                **self.options,
            )
        except BaseException as exc:  # noqa: BLE001 (surfaced by the test)
            self.error = exc
        finally:
            self._ready.set()

    def __enter__(self) -> Running:
        original, reconcile = self.vault.apply, self.vault.reconcile

        def recording(paths):
            paths = sorted(paths)
            result = original(paths)
            self.applied.append(paths)
            return result

        def recording_reconcile(progress=None):
            result = reconcile(progress=progress)
            if self.start is not None:  # not the first one, before watching begins
                self.applied.append([""])
            return result

        self.vault.apply = recording
        self.vault.reconcile = recording_reconcile
        self._thread.start()
        assert self._ready.wait(WAIT), "watch did not start"
        if self.error is not None:
            raise self.error
        # The catch-up rescan right after the start, so that tests see only their own batches.
        eventually(lambda: [""] in self.applied, what="the catch-up rescan after the start")
        self.applied.clear()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "watch did not stop"
        if self.error is not None and exc_info[0] is None:
            raise self.error

    # -- conditions ---------------------------------------------------------------------------
    def has(self, path: str, title: str | None = None) -> bool:
        note = self.state.get(path)
        return note is not None and (title is None or note.title == title)

    def lacks(self, *paths: str) -> bool:
        return not any(p in self.state for p in paths)

    def wait(self, condition, what: str = "condition"):
        return eventually(lambda: self.error is not None or condition(), what=what) and self._raise()

    def _raise(self) -> bool:
        if self.error is not None:
            raise self.error
        return True

    def applied_paths(self) -> set[str]:
        return {p for call in self.applied for p in call}


def fresh_notes(root: Path, tmp: Path) -> dict:
    """The notes a from-scratch sync of a copy of the vault finds."""
    copy = tmp / f"fresh-{time.monotonic_ns()}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".vaultindex"))
    vault = Vault.open(copy)
    vault.sync()
    return {p: r.note for p, r in vault.catalog.records.items()}


# -- pure helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, temp",
    [
        ("4913", True),  # vim's write probe
        ("5036", True),  # ... its next try when 4913 is taken
        ("4914", False),
        ("4913.md", False),
        (".LoRA.md.swp", True),
        ("LoRA.md~", True),
        ("LoRA.md.tmp", True),
        ("LoRA.md___jb_tmp___", True),
        ("LoRA.md___jb_old___", True),
        (".#LoRA.md", True),  # emacs lock
        ("#LoRA.md#", True),  # emacs auto-save
        (".~lock.x.odt#", True),
        ("~$report.docx", True),
        ("LoRA.md", False),
        ("#hashtag notes.md", False),
        ("fig.png", False),
    ],
)
def test_temp_names(name, temp):
    assert is_temp_name(name) is temp


@pytest.mark.parametrize(
    "path, ignored",
    [
        (".obsidian/workspace.json", True),
        (".git/index", True),
        (".trash/Old.md", True),
        (".vaultindex/index/_MAIN_1.toc", True),
        ("papers/.hidden/x.md", True),
        ("papers/4913", True),
        ("papers/X.md", False),
        ("attachments/fig.png", False),
    ],
)
def test_ignored_paths(path, ignored):
    assert is_ignored_path(path) is ignored


def test_a_folder_named_like_a_probe_is_not_ignored():
    assert not is_ignored_path("4913", is_dir=True)


def test_batch_line_abbreviates_many_paths():
    stats = SyncStats(added=2, modified=1, removed=1, seconds=0.0124)
    when = datetime(2024, 5, 1, 9, 7, 3)
    assert batch_line(stats, ["papers/A.md"], when) == "09:07:03  +2 ~1 -1  12 ms  papers/A.md"
    many = batch_line(stats, [f"n{i}.md" for i in range(300)], when)
    assert many.endswith("n0.md, n1.md, n10.md and 297 more")


# -- every way of saving ---------------------------------------------------------------------------

@pytest.mark.slow
def test_plain_writes_create_and_edit(example_copy):
    with Running(example_copy) as w:
        write(example_copy, "papers/New paper.md", note_text("Zebrafish pruning", "about zebrafish"))
        w.wait(lambda: w.has("papers/New paper.md", "Zebrafish pruning"), "new note indexed")
        (example_copy / LOCO).write_text(note_text("LocoProp rewritten", "quokka"), encoding="utf-8")
        w.wait(lambda: w.has(LOCO, "LocoProp rewritten"), "edit in place indexed")
        with open(example_copy / LOCO, "a", encoding="utf-8") as fh:
            fh.write("\nAppended #appended-tag\n")
        w.wait(lambda: "appended-tag" in w.state[LOCO].tags, "append indexed")
        hits = Vault.open(example_copy).search("quokka").hits  # another reader sees it
        assert [h.path for h in hits] == [LOCO]


@pytest.mark.slow
def test_atomic_save_through_a_temp_file(example_copy):
    """Obsidian, VS Code, vim with backupcopy=no: write a temp file, then rename it onto the note."""
    with Running(example_copy) as w:
        for temp in (example_copy / "papers/.LocoProp.md.tmp-4711", example_copy / "papers/LocoProp.md.tmp"):
            title = f"Atomic {temp.name}"
            temp.write_text(note_text(title), encoding="utf-8")
            os.replace(temp, example_copy / LOCO)
            w.wait(lambda title=title: w.has(LOCO, title), "atomic save indexed")
        assert all(not p.endswith(".tmp") and "tmp-" not in p for p in w.applied_paths())


@pytest.mark.slow
def test_vim_default_save_and_swap_files(example_copy):
    """vim: swap file, the 4913 probe, note -> note~, a new note, delete the backup."""
    papers = example_copy / "papers"
    with Running(example_copy) as w:
        swap = papers / ".LocoProp.md.swp"
        swap.write_bytes(b"b0VIM 9.0" + b"\0" * 100)
        probe = papers / "4913"
        probe.write_bytes(b"")
        probe.unlink()
        os.rename(papers / "LocoProp.md", papers / "LocoProp.md~")
        (papers / "LocoProp.md").write_text(note_text("Saved by vim"), encoding="utf-8")
        (papers / "LocoProp.md~").unlink()
        with open(swap, "r+b") as fh:
            fh.write(b"b0VIM 9.1")
        w.wait(lambda: w.has(LOCO, "Saved by vim"), "vim save indexed")
        swap.unlink()
        write(example_copy, "Inbox/sentinel.md", "# Sentinel\n")
        w.wait(lambda: w.has("Inbox/sentinel.md"), "sentinel indexed")
        applied = w.applied_paths()
        assert not any(p.endswith(("~", ".swp", "4913")) for p in applied)
        assert LOCO in w.state and "papers/LocoProp.md~" not in w.state


@pytest.mark.slow
def test_jetbrains_safe_write(example_copy):
    papers = example_copy / "papers"
    with Running(example_copy) as w:
        tmp = papers / "LocoProp.md___jb_tmp___"
        tmp.write_text(note_text("Saved by PyCharm"), encoding="utf-8")
        os.rename(papers / "LocoProp.md", papers / "LocoProp.md___jb_old___")
        os.rename(tmp, papers / "LocoProp.md")
        (papers / "LocoProp.md___jb_old___").unlink()
        w.wait(lambda: w.has(LOCO, "Saved by PyCharm"), "JetBrains save indexed")
        assert not any("___jb_" in p for p in w.applied_paths())


@pytest.mark.slow
def test_rename_and_move_inside_the_vault(example_copy):
    with Running(example_copy) as w:
        os.rename(example_copy / LORA, example_copy / "papers/LoRA (2021).md")
        os.rename(example_copy / "papers/SimCLR.md", example_copy / "topics/SimCLR.md")
        w.wait(
            lambda: w.has("papers/LoRA (2021).md") and w.has("topics/SimCLR.md")
            and w.lacks(LORA, "papers/SimCLR.md"),
            "rename and move followed",
        )


@pytest.mark.slow
def test_moves_into_and_out_of_the_vault(example_copy, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "Visitor.md", note_text("Visitor"))
    for i in range(5):
        write(outside, f"box/sub/Boxed {i}.md", note_text(f"Boxed {i}"))
    with Running(example_copy) as w:
        os.rename(outside / "Visitor.md", example_copy / "Inbox/Visitor.md")
        os.rename(outside / "box", example_copy / "box")
        w.wait(
            lambda: w.has("Inbox/Visitor.md") and all(w.has(f"box/sub/Boxed {i}.md") for i in range(5)),
            "moved in",
        )
        os.rename(example_copy / "Inbox/Visitor.md", outside / "Visitor.md")
        os.rename(example_copy / "box", outside / "box-back")
        os.rename(example_copy / "papers/kaplan", outside / "kaplan")
        w.wait(
            lambda: w.lacks("Inbox/Visitor.md", "papers/kaplan/Scaling laws.md")
            and not any(p.startswith("box/") for p in w.state),
            "moved out",
        )


@pytest.mark.slow
def test_folder_rename_and_move_take_every_note_along(example_copy):
    topics = sorted(p.relative_to(example_copy).as_posix() for p in (example_copy / "topics").glob("*.md"))
    with Running(example_copy) as w:
        os.rename(example_copy / "papers/kaplan", example_copy / "papers/Kaplan et al")
        (example_copy / "Archive/2024").mkdir(parents=True)
        os.rename(example_copy / "topics", example_copy / "Archive/2024/topics")
        moved = [f"Archive/2024/{p}" for p in topics]
        w.wait(
            lambda: w.has("papers/Kaplan et al/Scaling laws.md")
            and all(w.has(p) for p in moved)
            and not any(p.startswith(("topics/", "papers/kaplan/")) for p in w.state),
            "folders followed",
        )


@pytest.mark.slow
def test_many_files_at_once_make_a_few_batches(example_copy, tmp_path):
    """A branch checkout: 300 notes written as fast as the disk takes them."""
    with Running(example_copy) as w:
        for i in range(300):
            write(example_copy, f"bulk/{i % 7}/Bulk note {i}.md", note_text(f"Bulk {i}", f"[[Bulk note {i + 1}]]"))
        w.wait(lambda: sum(p.startswith("bulk/") for p in w.state) == 300, "300 notes indexed")
        assert 1 <= len(w.batches) <= 10, [len(paths) for _, paths in w.batches]
        assert len(w.applied) <= 10
        assert w.state == fresh_notes(example_copy, tmp_path)


@pytest.mark.slow
def test_deletes(example_copy):
    with Running(example_copy) as w:
        (example_copy / LORA).unlink()
        shutil.rmtree(example_copy / "topics")
        w.wait(lambda: w.lacks(LORA) and not any(p.startswith("topics/") for p in w.state), "deleted")


@pytest.mark.slow
def test_case_only_rename(example_copy):
    with Running(example_copy) as w:
        os.rename(example_copy / LORA, example_copy / "papers/lora.md")
        w.wait(lambda: w.has("papers/lora.md") and w.lacks(LORA), "case-only rename followed")


@pytest.mark.slow
def test_ignored_places_and_temp_files_never_start_a_batch(example_copy):
    with Running(example_copy) as w:
        write(example_copy, ".obsidian/workspace.json", "{}")
        write(example_copy, ".git/objects/ab/cdef", "blob")
        write(example_copy, ".trash/Old.md", "# Old\n")
        write(example_copy, ".vaultindex/scratch.txt", "x")
        write(example_copy, "papers/.hidden.md", "# Hidden\n")
        write(example_copy, "papers/LocoProp.md~", "backup")
        write(example_copy, "papers/LocoProp.md___jb_old___", "old")
        write(example_copy, "papers/~$draft.docx", "lock")
        write(example_copy, "papers/#LocoProp.md#", "autosave")
        write(example_copy, "papers/4913", "")
        os.utime(example_copy / ".obsidian/app.json")
        write(example_copy, "Inbox/sentinel.md", "# Sentinel\n")
        w.wait(lambda: w.has("Inbox/sentinel.md"), "sentinel indexed")
        assert w.applied == [["Inbox/sentinel.md"]]
        assert [paths for _, paths in w.batches] == [("Inbox/sentinel.md",)]


@pytest.mark.slow
def test_attachments_are_followed(example_copy):
    with Running(example_copy) as w:
        (example_copy / "attachments/new-figure.png").write_bytes(b"\x89PNG fake")
        w.wait(lambda: any("attachments/new-figure.png" in paths for _, paths in w.batches), "attachment seen")
    assert "attachments/new-figure.png" in Vault.open(example_copy).catalog.attachments


@pytest.mark.slow
def test_a_bad_file_gives_a_diagnostic_and_the_loop_goes_on(example_copy):
    with Running(example_copy) as w:
        write(example_copy, "papers/Bad.md", "---\ntitle: [unclosed\n---\n# Bad\n")
        w.wait(lambda: w.has("papers/Bad.md"), "bad note indexed anyway")
        assert any(d.path == "papers/Bad.md" for stats, _ in w.batches for d in stats.diagnostics)
        write(example_copy, "papers/Good.md", note_text("Good"))
        w.wait(lambda: w.has("papers/Good.md", "Good"), "the next note")


@pytest.mark.slow
def test_a_failing_batch_is_reported_and_retried(example_copy):
    with Running(example_copy) as w:
        inner = w.vault.apply
        calls = {"n": 0}

        def flaky(paths):
            paths = list(paths)
            if any("Flaky" in p for p in paths) and calls["n"] == 0:
                calls["n"] += 1
                raise OSError(errno.EIO, "simulated disk error")
            return inner(paths)

        w.vault.apply = flaky
        write(example_copy, "papers/Flaky.md", note_text("Flaky"))
        w.wait(lambda: w.has("papers/Flaky.md"), "retried batch applied")
        assert any("Could not apply" in n and "simulated disk error" in n for n in w.notices)
        write(example_copy, "papers/After.md", note_text("After"))
        w.wait(lambda: w.has("papers/After.md"), "the loop goes on")


@pytest.mark.slow
def test_an_on_batch_error_does_not_stop_the_watch(example_copy):
    vault = Vault.open(example_copy)
    stop = threading.Event()
    seen: list[tuple] = []

    def on_batch(stats, paths):
        seen.append(paths)
        if len(seen) == 1:
            raise ValueError("plugin bug")

    notices: list[str] = []
    ready = threading.Event()
    thread = threading.Thread(
        target=watch_module.run, args=(vault, stop, on_batch),
        kwargs={"notify": notices.append, "debounce_ms": 50, "on_ready": lambda start: ready.set()},
    )
    thread.start()
    try:
        assert ready.wait(WAIT), "watch did not start"
        write(example_copy, "papers/One.md", "# One\n")
        eventually(lambda: any("papers/One.md" in p for p in seen), what="first batch")
        write(example_copy, "papers/Two.md", "# Two\n")
        eventually(lambda: any("papers/Two.md" in p for p in seen), what="second batch")
        assert any("plugin bug" in n for n in notices)
    finally:
        stop.set()
        thread.join(WAIT)


@pytest.mark.slow
def test_python_api_in_a_thread(example_copy):
    """What an editor plugin does: vault.watch in a thread, stop it with an Event."""
    vault = Vault.open(example_copy)
    stop = threading.Event()
    batches: list[tuple] = []
    ready = threading.Event()
    thread = threading.Thread(
        target=vault.watch,
        kwargs={"stop_event": stop, "on_batch": lambda s, p: batches.append(p), "on_ready": lambda start: ready.set()},
    )
    thread.start()
    try:
        assert ready.wait(WAIT), "watch did not start"  # the start-up reconcile is over
        write(example_copy, "Inbox/From plugin.md", "# From plugin\n")
        eventually(lambda: any("Inbox/From plugin.md" in p for p in batches), what="batch seen by the plugin")
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert not vault.writer_lock.held  # released on the way out
    assert Vault.open(example_copy).sync().changed is False


# -- tag pages -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_tag_pages_follow_and_their_writes_do_not_start_batches(example_copy):
    write(example_copy, ".vaultindex/config.toml", '[tags]\nwatch = true\ndir = "Tags"\n')
    with Running(example_copy) as w:
        assert any(p.startswith("Tags/") for p in w.state), "pages written and indexed at start"
        # A nested tag: its pages go in a new folder, which must not start a batch either.
        write(example_copy, "papers/Tagged.md", note_text("Tagged", "about #brand-new/marsupials"))
        page = "Tags/brand-new/marsupials (tag).md"
        w.wait(lambda: w.has(page) and w.has("Tags/brand-new (tag).md"), "the new tag's pages written and indexed")
        # Its own writes come back as events: they must not make another batch.
        write(example_copy, "Inbox/sentinel.md", "# Sentinel\n")
        w.wait(lambda: w.has("Inbox/sentinel.md"), "sentinel indexed")
        with_page = [call for call in w.applied if page in call]
        assert len(with_page) == 1, w.applied  # applied once, right after it was written
        assert w.applied[-1] == ["Inbox/sentinel.md"]
        # ... but a user's edit of a tag page is theirs, and followed.
        with open(example_copy / page, "a", encoding="utf-8") as fh:
            fh.write("\nMy own remark about quolls.\n")
        w.wait(lambda: sum(page in call for call in w.applied) == 2, "the user's edit of a page applied")


# -- safety nets -----------------------------------------------------------------------------------


@pytest.fixture
def deaf_to(monkeypatch):
    """Make the inbox miss every event about paths containing a marker (a lost event)."""
    original = Inbox.add

    def add(self, event):
        if "unheard" not in f"{event.path} {event.dest}":
            original(self, event)

    monkeypatch.setattr(Inbox, "add", add)


@pytest.mark.slow
def test_a_queue_overflow_rescans_the_vault(example_copy, deaf_to):
    with Running(example_copy) as w:
        write(example_copy, "papers/unheard.md", "# Unheard\n")
        write(example_copy, "Inbox/sentinel.md", "# Sentinel\n")  # heard, and applied after it
        w.wait(lambda: w.has("Inbox/sentinel.md"), "sentinel indexed")
        assert w.lacks("papers/unheard.md")
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost"
        )
        w.wait(lambda: w.has("papers/unheard.md"), "rescan after the overflow")
        assert any("overflow" in n for n in w.notices)


@pytest.mark.slow
def test_the_periodic_rescan_catches_lost_events(example_copy, deaf_to):
    with Running(example_copy, rescan_seconds=1.0) as w:
        write(example_copy, "papers/unheard too.md", "# Unheard too\n")
        w.wait(lambda: w.has("papers/unheard too.md"), "periodic rescan")


@pytest.mark.slow
def test_too_many_folders_for_inotify_switches_to_polling(example_copy, monkeypatch):
    monkeypatch.setattr(watch_module, "inotify_watch_limit", lambda: 3)
    with Running(example_copy, poll_seconds=0.2) as w:
        assert w.start.mode == "polling"
        notice = " ".join(w.notices)
        assert "fs.inotify.max_user_watches" in notice and "sysctl" in notice and "polling" in notice
        write(example_copy, "papers/Polled.md", note_text("Polled"))
        w.wait(lambda: w.has("papers/Polled.md"), "change seen by polling")


@pytest.mark.slow
@pytest.mark.parametrize("code, setting", [(errno.ENOSPC, "max_user_watches"), (errno.EMFILE, "max_user_instances")])
def test_an_inotify_error_at_start_switches_to_polling(example_copy, monkeypatch, code, setting):
    def refuse():
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(watch_module, "_new_native_observer", refuse)
    with Running(example_copy, poll_seconds=0.2) as w:
        assert w.start.mode == "polling"
        assert any(f"fs.inotify.{setting}" in n for n in w.notices)
        write(example_copy, "papers/Polled.md", note_text("Polled"))
        w.wait(lambda: w.has("papers/Polled.md"), "change seen by polling")


@pytest.mark.slow
def test_polling_follows_saves_and_folder_moves(example_copy):
    with Running(example_copy, polling=True, poll_seconds=0.2) as w:
        assert w.start.mode == "polling"
        tmp = example_copy / "papers/.LocoProp.md.tmp"
        tmp.write_text(note_text("Polled atomic"), encoding="utf-8")
        os.replace(tmp, example_copy / LOCO)
        os.rename(example_copy / "papers/kaplan", example_copy / "Kaplan")
        w.wait(
            lambda: w.has(LOCO, "Polled atomic") and w.has("Kaplan/Scaling laws.md")
            and w.lacks("papers/kaplan/Scaling laws.md"),
            "polling followed",
        )
        write(example_copy, ".obsidian/workspace.json", "{}")
        write(example_copy, "Inbox/sentinel.md", "# Sentinel\n")
        w.wait(lambda: w.has("Inbox/sentinel.md"), "sentinel")
        assert not any(p.startswith(".") for p in w.applied_paths())


@pytest.mark.slow
def test_a_huge_batch_is_applied_with_the_observer_stopped(example_copy, monkeypatch, tmp_path):
    monkeypatch.setattr(watchloop, "BIG_BATCH_PATHS", 40)
    with Running(example_copy) as w:
        for i in range(120):
            write(example_copy, f"checkout/Note {i}.md", note_text(f"Checkout {i}"))
        w.wait(lambda: sum(p.startswith("checkout/") for p in w.state) == 120, "all indexed")
        assert w.start.mode == "inotify"
        write(example_copy, "Inbox/after.md", "# After\n")  # the restarted observer still listens
        w.wait(lambda: w.has("Inbox/after.md"), "watching again after the big batch")
        assert w.state == fresh_notes(example_copy, tmp_path)


@pytest.mark.slow
def test_the_vault_folder_removed_stops_the_watch_with_an_error(example_copy):
    w = Running(example_copy)
    with pytest.raises(WatchError, match="is gone"), w:
        shutil.rmtree(example_copy)
        eventually(lambda: w.error is not None, what="watch ended")
        raise w.error


# -- one writer ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_watcher_is_refused_with_the_pid(example_copy):
    with Running(example_copy):
        with pytest.raises(WatchError, match=rf"a vaultindex watch is already running on this vault \(pid {os.getpid()}\)"):
            watch_module.run(Vault.open(example_copy), threading.Event())
        result = subprocess.run(
            [sys.executable, "-m", "vaultindex", "--vault", str(example_copy), "watch"],
            capture_output=True, text=True, timeout=60, cwd=REPO,
        )
        assert result.returncode == 1
        assert f"Error: a vaultindex watch is already running on this vault (pid {os.getpid()})" in result.stderr


# -- the command -----------------------------------------------------------------------------------


class Process:
    """`vaultindex watch` in a subprocess, its stderr collected line by line."""

    def __init__(self, vault: Path, *args: str):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vaultindex", "--vault", str(vault), "watch", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
        )
        self.err: list[str] = []
        self.out: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True).start()

    @staticmethod
    def _read(stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.err)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(WAIT)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_command_reports_batches_and_stops_cleanly_on_a_signal(example_copy, signum):
    p = Process(example_copy, "--debounce", "100", "--nl")
    try:
        eventually(lambda: p.saw("Watching") or p.proc.poll() is not None, what="watch started")
        assert p.saw("Watching"), p.err
        assert p.saw("Indexed 39 notes")
        write(example_copy, "papers/Typed.md", note_text("Typed"))
        eventually(lambda: p.saw("papers/Typed.md"), what="batch line")
        line = next(line for line in p.err if "papers/Typed.md" in line)
        assert "+1 ~0 -0" in line and " ms  " in line
        eventually(lambda: any("papers/Typed.md" in o for o in p.out), what="--nl line")
        p.proc.send_signal(signum)
        assert p.proc.wait(WAIT) == 0
        eventually(lambda: p.saw("Stopped after"), what="goodbye line")
    finally:
        p.close()
    stats = Vault.open(example_copy).sync(wait=0)  # the lock is free again
    assert "papers/Typed.md" in Vault.open(example_copy).catalog.records
    assert not stats.changed


@pytest.mark.slow
def test_the_start_line_counts_tag_pages_apart_from_notes(example_copy):
    """A new user read "Watching" after "Indexed 54 notes" on a vault of 39 notes: the 15 were tag pages."""
    write(example_copy, ".vaultindex/config.toml", '[tags]\nwatch = true\ndir = "Tags"\n')
    p = Process(example_copy)
    try:
        eventually(lambda: p.saw("Watching") or p.proc.poll() is not None, what="watch started")
        assert p.saw("Watching"), p.err
        pages = sum(1 for _ in (example_copy / "Tags").rglob("*.md"))
        assert pages > 0
        assert p.saw(f"Indexed 39 notes (+{pages} tag pages)"), p.err
        line = next(line for line in p.err if "Watching" in line)
        assert f": 39 notes, {pages} tag pages (inotify, " in line, line
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(WAIT) == 0
    finally:
        p.close()


def test_watch_help_has_examples():
    from click.testing import CliRunner

    from vaultindex.cli import cli

    result = CliRunner().invoke(cli, ["watch", "--help"])
    assert result.exit_code == 0
    assert "--debounce" in result.output and "--polling" in result.output and "Examples" in result.output


# -- warm-up: the first save is applied as fast as the others ----------------------------------------

_WARM_UP_PROBE = r"""
import os, sys, threading, time
from pathlib import Path
from vaultindex import Vault, watch
vault = Vault.open(sys.argv[1])  # (synced by another process: nothing here has parsed a note)
folder = vault.index_dir
before = sorted((p.name, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file() and not p.name.endswith("lock"))
ready, stop = threading.Event(), threading.Event()
loaded = {}

def on_ready(start):
    ready.set()

thread = threading.Thread(target=watch.run, args=(vault, stop), kwargs={"on_ready": on_ready, "debounce_ms": 50})
thread.start()
ready.wait(60)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not {"vaultindex.parse", "vaultindex.fulltext.writer", "whoosh.writing"} <= set(sys.modules):
    time.sleep(0.05)
loaded = sorted(m for m in ("vaultindex.parse", "vaultindex.fulltext.writer", "whoosh.writing") if m in sys.modules)
stop.set()
thread.join(30)
after = sorted((p.name, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file() and not p.name.endswith("lock"))
print(",".join(loaded))
print("unchanged" if [b for b in before if not b[0].endswith(("-wal", "-shm"))] == [a for a in after if not a[0].endswith(("-wal", "-shm"))] else "changed")
"""


def test_watch_prepares_the_write_path_before_the_first_save_and_writes_nothing(example_copy):
    """Once watching has begun, the parser and Whoosh's writer are loaded (the first save would
    otherwise pay 1-2 s for them) with no save yet, and the index files are as they were."""
    env = {**os.environ, "XDG_CACHE_HOME": str(example_copy.parent / "cache")}
    subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(example_copy), "sync"], env=env, check=True, capture_output=True, timeout=180)
    out = subprocess.run([sys.executable, "-c", _WARM_UP_PROBE, str(example_copy)], capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr
    loaded, files = out.stdout.split()
    assert loaded == "vaultindex.fulltext.writer,vaultindex.parse,whoosh.writing"
    assert files == "unchanged"


def test_the_loop_warms_the_index_up_once_before_any_batch(tmp_path):
    calls: list[str] = []

    class Index:
        def apply(self, paths):
            calls.append("apply")
            return SyncStats()

        def reconcile(self, progress=None):
            calls.append("reconcile")
            return SyncStats()

        def forget(self):
            pass

        def write_tag_pages(self):
            return watchloop.PageWrites()

        def warm_up(self):
            calls.append("warm_up")

    class Source:
        mode, folders = "fake", 1

        def start(self, inbox):
            pass

        def stop(self):
            pass

        def alive(self):
            return True

        def remap(self):
            return False

        def check(self):
            pass

    watcher = watchloop.Watcher(Index(), Source(), tmp_path, watchloop.WatchOptions(on_ready=lambda start: watcher.stop()))
    watcher.run()
    assert calls == ["reconcile", "warm_up"]
