"""Faults: writers killed with -9 at random moments, damaged index files, a full disk in the middle
of a commit, a lock left by a dead process, stray temporary files.

After every fault the next run must recover: exit 0, no traceback, and an index equal to a fresh
build of a copy of the vault (the same parsed notes, the same search answers). The kill moments
are random but seeded; the long manual run is

    VAULTINDEX_FAULT_TRIALS=100 /work/venv/bin/python -m pytest tests/test_faults.py -s

(default 20 trials per kind; VAULTINDEX_FAULT_SEED picks other moments). With -s every test
prints one `faults:` line with its figures, which docs/reliability.md quotes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EXAMPLE_VAULT, REPO, build_dir, copy_synced, index_dir
from vaultindex import Vault
from vaultindex.cli import cli as vaultindex_cli

TRIALS = int(os.environ.get("VAULTINDEX_FAULT_TRIALS", "20"))
SEED = int(os.environ.get("VAULTINDEX_FAULT_SEED", "9"))
NOTES = 150  # big enough that indexing is most of a run, small enough for 20 trials in seconds
WAIT = 60.0  # bound for anything that must finish: it catches a hang, it does not time anything

WORDS = (
    "scaling pruning distillation forgetting attention curriculum sparsity lottery ticket data "
    "diet transformer vision language memory gradient entropy kernel replay prompt adapter"
).split()
TAGS = ["t1", "t2", "t3", "ml/vision", "ml/nlp", "reading"]
FOLDERS = ["papers", "topics", "inbox", "papers/deep"]
QUERIES = ["scaling", "pruning distillation", "tag:t3", "path:papers/ memory", "title:paper", '"data diet"']


# -- a vault and ways to change it -----------------------------------------------------------------


def note_text(rng: random.Random, title: str, names: list[str]) -> str:
    links = " ".join(f"[[{rng.choice(names)}]]" for _ in range(rng.randint(0, 3))) if names else ""
    tags = ", ".join(rng.sample(TAGS, rng.randint(0, 2)))
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120)))
    cite = f" [@key{rng.randint(1, 9)}]" if rng.random() < 0.3 else ""
    return f"---\ntitle: {title}\ntags: [{tags}]\nyear: {rng.randint(1990, 2025)}\n---\n# {title}\n\n{links}{cite}\n{body}\n"


def make_vault(root: Path, n: int, rng: random.Random) -> None:
    names = [f"Paper {i}" for i in range(n)]
    for i, name in enumerate(names):
        path = root / FOLDERS[i % len(FOLDERS)] / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note_text(rng, name, names), encoding="utf-8")
    (root / "attachments").mkdir()
    (root / "attachments" / "fig.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (root / "inbox" / "Broken yaml.md").write_text("---\ntags: [a, b\n---\n# Broken\n[[Paper 1]]\n")


def _notes(root: Path) -> list[Path]:
    # Not into .vaultindex/: a running watch creates and removes Whoosh's temporary folder
    # there, and rglob fails with FileNotFoundError on a folder that vanishes under it.
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".vaultindex"]
        found += [Path(folder) / name for name in files if name.endswith(".md")]
    return sorted(found)


def mutate(root: Path, rng: random.Random, count: int) -> Counter:
    """`count` random changes of every kind an editor or a sync tool makes."""
    done: Counter = Counter()
    for _ in range(count):
        notes = _notes(root)
        names = [p.stem for p in notes]
        kind = rng.choice(["edit", "edit", "edit", "create", "delete", "rename", "touch", "replace"])
        if kind in ("delete", "rename") and len(notes) < 20:
            kind = "create"
        target = rng.choice(notes)
        if kind == "edit":
            target.write_text(note_text(rng, target.stem, names), encoding="utf-8")
        elif kind == "create":
            folder = root / rng.choice(FOLDERS)
            folder.mkdir(parents=True, exist_ok=True)
            title = f"New {rng.randrange(10**6)}"
            (folder / f"{title}.md").write_text(note_text(rng, title, names), encoding="utf-8")
        elif kind == "delete":
            target.unlink()
        elif kind == "rename":
            dest = root / rng.choice(FOLDERS) / f"Renamed {rng.randrange(10**6)}.md"
            dest.parent.mkdir(parents=True, exist_ok=True)
            target.rename(dest)
        elif kind == "touch":
            os.utime(target)
        else:  # an editor's atomic save: a temporary file renamed over the note
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(note_text(rng, target.stem, names), encoding="utf-8")
            os.replace(tmp, target)
        done[kind] += 1
    return done


# -- running vaultindex and checking the result ----------------------------------------------------


def command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "vaultindex", "--vault", str(root), *args]


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(root, *args), capture_output=True, text=True, timeout=WAIT, cwd=REPO)


def clean(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Exit 0 and nothing on stderr that looks like a failure."""
    assert result.returncode == 0, result.stderr
    for bad in ("Traceback", "Error:", "internal error"):
        assert bad not in result.stderr, result.stderr
    return result


def snapshot(root: Path) -> tuple[dict, dict]:
    """What the index says: every parsed note, and the notes each query finds."""
    vault = Vault.open(root)
    notes = {p: r.note for p, r in vault.catalog.records.items()}
    searches = {q: sorted(h.path for h in vault.search(q, limit=1000).hits) for q in QUERIES}
    assert vault.repaired is None, f"a query had to repair the index: {vault.repaired.rebuilt}"
    return notes, searches


def fresh(root: Path, tmp: Path) -> tuple[dict, dict]:
    """The same for a from-scratch sync of a copy of the vault."""
    copy = tmp / f"fresh-{time.monotonic_ns()}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".vaultindex"))
    Vault.open(copy).sync()
    try:
        return snapshot(copy)
    finally:
        shutil.rmtree(copy)


def assert_same(root: Path, want: tuple[dict, dict], what: str) -> None:
    notes, searches = snapshot(root)
    wanted_notes, wanted_searches = want
    missing = sorted(set(wanted_notes) - set(notes))
    extra = sorted(set(notes) - set(wanted_notes))
    differ = sorted(p for p in set(notes) & set(wanted_notes) if notes[p] != wanted_notes[p])
    assert not (missing or extra or differ), f"{what}: missing {missing[:5]}, extra {extra[:5]}, differ {differ[:5]}"
    assert searches == wanted_searches, what


def leftovers(root: Path) -> list[str]:
    """Temporary files a killed writer may leave: Whoosh's TOC and temp folder, a half-built
    generation beside the current one, staged small files."""
    state = index_dir(root)
    current = (state / "current").read_text().strip() if (state / "current").exists() else ""
    found = [*state.glob("b*/fulltext/_MAIN_*.toc.*"), *state.glob("b*/fulltext/MAIN.tmp"), *state.glob(".*.tmp"),
             *(p for p in state.glob("b*") if p.name != f"b{current}")]
    return sorted(p.relative_to(state).as_posix() for p in found)


def kill_after(argv: list[str], delay: float) -> str:
    """Start a command, SIGKILL it after `delay` seconds; "killed", or "finished" when it was done first."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        proc.wait(delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(WAIT)
        proc.stderr.close()
        return "killed"
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.returncode == 0 and "Traceback" not in err, err
    return "finished"


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def report(name: str, **figures) -> None:
    print(f"\nfaults: {name}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items()))


# -- kill -9 of sync ------------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_during_a_full_sync_then_the_next_sync_recovers(tmp_path):
    rng = random.Random(SEED)
    root = tmp_path / "vault"
    make_vault(root, NOTES, rng)
    want = fresh(root, tmp_path)
    duration = timed(lambda: clean(cli(root, "sync", "--full")))
    tally: Counter = Counter()
    for trial in range(TRIALS):
        # Uniform over the whole run, a little past its usual end: start-up, scan, parse,
        # Whoosh's commit, the cache renames and the exit are all hit.
        delay = rng.uniform(0.0, 1.2 * duration)
        tally[kill_after(command(root, "sync", "--full"), delay)] += 1
        tally["temporary files left"] += bool(leftovers(root))
        # The next writer is never blocked by the dead one (--wait 0) and recovers.
        clean(cli(root, "sync", "--wait", "0"))
        assert_same(root, want, f"trial {trial}, killed after {delay:.3f} s")
        assert not leftovers(root), leftovers(root)
    assert "+0 ~0 -0" in clean(cli(root, "sync")).stderr
    assert tally["killed"] >= TRIALS // 2, tally
    report("kill -9 of sync --full", trials=TRIALS, notes=NOTES, **tally, errors=0)


@pytest.mark.slow
def test_kill_9_during_an_incremental_sync_of_many_changes(tmp_path):
    rng = random.Random(SEED + 1)
    root = tmp_path / "vault"
    make_vault(root, NOTES, rng)
    clean(cli(root, "sync"))
    changes = NOTES // 2
    mutate(root, rng, changes)
    duration = timed(lambda: clean(cli(root, "sync")))
    tally: Counter = Counter()
    kinds: Counter = Counter()
    for trial in range(TRIALS):
        kinds += mutate(root, rng, changes)
        delay = rng.uniform(0.0, 1.2 * duration)
        tally[kill_after(command(root, "sync"), delay)] += 1
        tally["temporary files left"] += bool(leftovers(root))
        clean(cli(root, "sync", "--wait", "0"))
        assert_same(root, fresh(root, tmp_path), f"trial {trial}, killed after {delay:.3f} s")
        assert not leftovers(root), leftovers(root)
    assert tally["killed"] >= TRIALS // 2, tally
    report(
        "kill -9 of an incremental sync", trials=TRIALS, changes_per_trial=changes,
        changes=", ".join(f"{k} {v}" for k, v in sorted(kinds.items())), **tally, errors=0,
    )


@pytest.mark.slow
def test_kill_9_during_a_multiprocess_build_leaves_no_writer_behind(tmp_path):
    """Big batches fork Whoosh sub-writers, which share the parent's lock files: killed with the
    parent, they must die too, or the index stays locked for good (it did, before the fix)."""
    psutil = pytest.importorskip("psutil")
    rng = random.Random(SEED + 2)
    root = tmp_path / "vault"
    make_vault(root, NOTES, rng)
    want = fresh(root, tmp_path)
    # The multi-process writer starts at fulltext.BIG_BATCH notes; lowered so that 150 notes use it.
    launcher = (
        "import sys, vaultindex.fulltext as f; f.BIG_BATCH = 20; "
        "from vaultindex.cli import main; sys.argv[0] = 'vaultindex'; main()"
    )
    argv = [sys.executable, "-c", launcher, "--vault", str(root), "sync", "--full"]
    trials = max(5, TRIALS // 4)
    killed_with_children = 0
    for trial in range(trials):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        parent = psutil.Process(proc.pid)
        children: list = []
        deadline = time.monotonic() + WAIT
        while proc.poll() is None and not children and time.monotonic() < deadline:
            children = parent.children()
            time.sleep(0.002)
        working: list = []
        if proc.poll() is None:
            # Sub-writers live only while the batch is written (tens of milliseconds here): kill
            # within a few milliseconds of the first one, while they wait for or chew documents.
            time.sleep(rng.uniform(0.0, 0.01))
            with contextlib.suppress(psutil.Error):
                working = [c for c in parent.children() if c.status() != psutil.STATUS_ZOMBIE]
            proc.send_signal(signal.SIGKILL)
            killed_with_children += bool(working)
        proc.wait(WAIT)
        # Every sub-writer is gone soon after its parent (zombies waiting for init do not count).
        deadline = time.monotonic() + 10
        alive = working
        while alive and time.monotonic() < deadline:
            alive = [c for c in alive if _running(c, psutil)]
            time.sleep(0.02)
        for orphan in alive:  # (the test's own cleanup: they would hold the index's locks for good)
            orphan.kill()
        assert not alive, f"trial {trial}: sub-writers {[c.pid for c in alive]} outlived their parent"
        clean(cli(root, "sync", "--wait", "0"))
        assert_same(root, want, f"multi-process trial {trial}")
    assert killed_with_children >= trials // 2
    report("kill -9 of a multi-process build", trials=trials, killed_with_sub_writers=killed_with_children, errors=0)


def _running(process, psutil) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# -- kill -9 of watch -----------------------------------------------------------------------------


class Editor(threading.Thread):
    """Random changes every few milliseconds until stopped."""

    def __init__(self, root: Path, rng: random.Random):
        super().__init__(daemon=True)
        self.root, self.rng = root, rng
        self.halt = threading.Event()
        self.done: Counter = Counter()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                self.done += mutate(self.root, self.rng, 1)
                self.halt.wait(self.rng.uniform(0.002, 0.03))
        except BaseException as exc:  # noqa: BLE001 (surfaced by the test)
            self.error = exc


@pytest.mark.slow
def test_kill_9_of_watch_while_files_change(tmp_path):
    rng = random.Random(SEED + 3)
    root = tmp_path / "vault"
    make_vault(root, NOTES, rng)
    clean(cli(root, "sync"))
    log = tmp_path / "watch.log"
    tally: Counter = Counter()
    edits: Counter = Counter()
    for trial in range(TRIALS):
        during_start = trial % 4 == 0
        if during_start:
            edits += mutate(root, rng, NOTES // 3)  # the start-up reconcile has work to do
        with open(log, "w") as err:
            proc = subprocess.Popen(
                command(root, "watch", "--debounce", "30"), stdout=subprocess.DEVNULL, stderr=err, cwd=REPO,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        editor = Editor(root, rng)
        try:
            if during_start:
                time.sleep(rng.uniform(0.0, 0.8))
            else:
                deadline = time.monotonic() + WAIT
                while "Watching" not in log.read_text() and proc.poll() is None:
                    assert time.monotonic() < deadline, "watch did not start"
                    time.sleep(0.01)
                assert proc.poll() is None, log.read_text()
                editor.start()
                time.sleep(rng.uniform(0.05, 1.0))
            outcome = "killed" if proc.poll() is None else "finished"
            proc.send_signal(signal.SIGKILL)
            proc.wait(WAIT)
        finally:
            editor.halt.set()
            if editor.is_alive():
                editor.join(WAIT)
        assert editor.error is None, editor.error
        edits += editor.done
        assert outcome == "killed", log.read_text()
        text = log.read_text()
        assert "Traceback" not in text and "Error" not in text, text
        tally["killed during start-up" if during_start else "killed while watching"] += 1
        tally["temporary files left"] += bool(leftovers(root))
        clean(cli(root, "sync", "--wait", "0"))
        assert_same(root, fresh(root, tmp_path), f"watch trial {trial}")
    report("kill -9 of watch", trials=TRIALS, file_changes=sum(edits.values()), **tally, errors=0)


# -- damaged index files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synced_template(tmp_path_factory) -> tuple[Path, tuple[dict, dict]]:
    root = tmp_path_factory.mktemp("template") / "vault"
    shutil.copytree(EXAMPLE_VAULT, root, ignore=shutil.ignore_patterns(".vaultindex"))
    Vault.open(root).sync()
    return root, snapshot(root)


TARGETS = {  # what to damage: globs under the index folder (the first file each matches)
    "TOC": ("b*/fulltext/_MAIN_*.toc",),
    "segment": ("b*/fulltext/*.seg",),
    "database": ("b*/store.sqlite",),
    "build pointer": ("current",),
    "marker": ("vaultindex-index.json",),
    "TOC and database": ("b*/fulltext/_MAIN_*.toc", "b*/store.sqlite"),
    "segment and database": ("b*/fulltext/*.seg", "b*/store.sqlite"),
}
# Which commands must find the damage, rebuild and say so. The others answer right without the
# damaged file: graph queries (backlinks) read the database and never open Whoosh, so a damaged
# TOC or segment shows at the next sync or search; a damaged database shows when a page it needs
# is read (sync checks every page); a damaged build pointer is a missing index, built again.
MUST_REBUILD = {
    "TOC": {"sync", "search"},
    "segment": {"sync", "search"},
    "database": {"sync"},
    "TOC and database": {"sync", "search"},
    "segment and database": {"sync", "search"},
}
DAMAGE = {
    "emptied": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "scrambled": lambda data: bytes((b * 7 + 13) % 256 for b in data),
}
QUERY_COMMANDS = {
    "sync": ["sync"],
    "search": ["search", "--paths", "-n", "50", "data pruning"],
    "backlinks": ["backlinks", "--json", "Beyond neural scaling laws"],
}


def invoke(root: Path, *args: str):
    result = CliRunner().invoke(vaultindex_cli, ["--vault", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_index_file_is_detected_and_rebuilt_never_a_traceback(synced_template, tmp_path, target, damage):
    template, want = synced_template
    expected = {}
    for name, args in QUERY_COMMANDS.items():
        expected[name] = invoke(template, *args).stdout
    for name, args in QUERY_COMMANDS.items():
        root = tmp_path / name
        copy_synced(template, root)
        for pattern in TARGETS[target]:
            victim = sorted(index_dir(root).glob(pattern))[0]
            victim.write_bytes(DAMAGE[damage](victim.read_bytes()))
        result = invoke(root, *args)
        assert result.exit_code == 0, result.output
        if name != "sync":
            assert result.stdout == expected[name], f"{name} answered differently with a {damage} {target}"
        if name in MUST_REBUILD.get(target, ()):
            assert "Rebuilding the index:" in result.stderr, result.stderr
        # Whatever the damage, one sync later the index and every cache are sound again.
        invoke(root, "sync")
        assert_same(root, want, f"after a {damage} {target} and `{name}`")
        assert_store_sound(root)
        assert "+0 ~0 -0" in invoke(root, "sync").stderr


def assert_store_sound(root: Path) -> None:
    """A new process reads every note from the database, which passes SQLite's own check."""
    vault = Vault.open(root)
    vault.store.check()
    assert len(vault.catalog.records) == len(list(vault.catalog.records.values()))
    assert vault.graph is not None and vault.repaired is None


# -- a full disk in the middle of a commit --------------------------------------------------------


class FullDisk:
    """Writes under .vaultindex/ fail with ENOSPC once `budget` bytes are written (None: no limit)."""

    def __init__(self, monkeypatch):
        import whoosh.filedb.filestore as filestore

        self.budget: int | None = None
        self.used = 0
        disk = self
        create_file = filestore.FileStorage.create_file
        write_bytes = Path.write_bytes

        def charge(n: int) -> int:
            """How many of n bytes fit; raises when none do."""
            fits = n if disk.budget is None else max(0, min(n, disk.budget - disk.used))
            disk.used += fits
            return fits

        class Limited:
            def __init__(self, raw):
                self._raw = raw

            def write(self, data):
                fits = charge(len(data))
                self._raw.write(bytes(data[:fits]))
                if fits < len(data):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return len(data)

            def __getattr__(self, name):
                return getattr(self._raw, name)

        def limited_create_file(storage, name, *args, **kwargs):
            f = create_file(storage, name, *args, **kwargs)
            f.file = Limited(f.file)
            return f

        def limited_write_bytes(path, data):
            if ".vaultindex" not in Path(path).parts:
                return write_bytes(path, data)
            fits = charge(len(data))
            write_bytes(path, bytes(data[:fits]))
            if fits < len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return len(data)

        monkeypatch.setattr(filestore.FileStorage, "create_file", limited_create_file)
        monkeypatch.setattr(Path, "write_bytes", limited_write_bytes)


@pytest.mark.slow
def test_a_full_disk_during_a_commit_is_one_error_and_the_old_index_still_answers(tmp_path, monkeypatch):
    disk = FullDisk(monkeypatch)
    template = tmp_path / "template"
    shutil.copytree(EXAMPLE_VAULT, template, ignore=shutil.ignore_patterns(".vaultindex"))
    invoke(template, "sync")

    def change(root: Path) -> None:
        lora = root / "papers" / "LoRA.md"
        lora.write_text(lora.read_text() + "\nzebrafish appended\n")
        (root / "New note.md").write_text("# New note\nzebrafish [[LoRA]]\n")
        (root / "papers" / "SimCLR.md").unlink()

    # How much a successful commit of these changes writes, to fail at points all through it.
    probe = tmp_path / "probe"
    copy_synced(template, probe)
    change(probe)
    disk.used = 0
    invoke(probe, "sync")
    total = disk.used
    assert total > 0
    fractions = [0.0, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]
    for fraction in fractions:
        root = tmp_path / f"full-{fraction}"
        copy_synced(template, root)
        before = snapshot(root)
        old_answer = invoke(root, "search", "--paths", "contrastive").stdout
        assert "papers/SimCLR.md" in old_answer
        change(root)
        disk.budget, disk.used = int(total * fraction), 0
        result = invoke(root, "sync")
        assert result.exit_code == 1, (fraction, result.output)
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("Error: cannot write the index"), result.stderr
        assert "No space left on device" in lines[-1] and "vaultindex sync" in lines[-1]
        # The disk is still full: queries answer from the index as it was.
        query = invoke(root, "search", "--paths", "contrastive")
        assert query.exit_code == 0 and query.stdout == old_answer, query.output
        assert snapshot(root) == before
        # Space again: the next sync takes the changes, and nothing temporary is left.
        disk.budget = None
        invoke(root, "sync")
        assert_same(root, fresh(root, tmp_path), f"after a full disk at {fraction:.0%} of a commit")
        assert not leftovers(root), leftovers(root)
    report("full disk during a commit", failure_points=len(fractions), bytes_per_commit=total, errors=0)


def test_a_read_only_index_folder_is_a_clear_error_too(tmp_path, monkeypatch):
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLE_VAULT, root, ignore=shutil.ignore_patterns(".vaultindex"))
    invoke(root, "sync")
    (root / "New.md").write_text("# New\nzebrafish\n")

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("vaultindex.store.Store.transaction", refuse)
    result = invoke(root, "sync")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write the index") and "Permission denied" in result.stderr


# -- the writer lock and stray files --------------------------------------------------------------


HOLD_LOCK = """
import sys, time
from pathlib import Path
from vaultindex.lock import WriterLock
from vaultindex import Vault
lock = Vault.open(sys.argv[1]).writer_lock
assert lock.acquire(sys.argv[2])
print("held", flush=True)
time.sleep(600)
"""


@pytest.mark.slow
@pytest.mark.parametrize("role", ["sync", "watch"])
def test_a_lock_left_by_a_killed_process_never_blocks_the_next_writer(example_copy, role):
    clean(cli(example_copy, "sync"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(example_copy), role], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        blocked = cli(example_copy, "sync", "--full", "--wait", "0")  # (a plain sync beside a watch exits 0)
        assert blocked.returncode == 1 and "Error:" in blocked.stderr and str(holder.pid) in blocked.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(WAIT)
        holder.stdout.close()
    # The lock file still names the dead process; the kernel has released its lock.
    assert str(holder.pid) in (index_dir(example_copy) / "writer.lock").read_text()
    (example_copy / "papers" / "New.md").write_text("# New\n")
    assert "+1 ~0 -0" in clean(cli(example_copy, "sync", "--wait", "0")).stderr


def test_stray_temporary_files_of_a_crashed_writer_are_cleaned(example_copy):
    clean(cli(example_copy, "sync"))
    state = index_dir(example_copy)
    build = build_dir(example_copy)
    strays = [
        build / "fulltext" / "_MAIN_7.toc.1795330441.1218357",  # Whoosh's TOC temp file
        build / "fulltext" / "MAIN.tmp" / "abc.doclist",  # Whoosh's temp folder
        state / ".current.4242.tmp",  # a staged build pointer
        state / "b99" / "store.sqlite",  # a half-built generation of a killed rebuild
        state / "b99" / "fulltext" / "_MAIN_1.toc",
    ]
    for stray in strays:
        stray.parent.mkdir(parents=True, exist_ok=True)
        stray.write_bytes(b"partial")
    assert leftovers(example_copy)
    clean(cli(example_copy, "sync"))
    assert not leftovers(example_copy) and not any(s.exists() for s in strays)
    assert (build / "fulltext" / "MAIN_WRITELOCK").exists()  # Whoosh's lock file is never removed
    assert "+0 ~0 -0" in clean(cli(example_copy, "sync")).stderr


# -- files that cannot be read ---------------------------------------------------------------------
# (tests/test_bad_input.py covers bad content; these are files that are not what they seem.)


def test_a_fifo_or_a_folder_named_like_a_note_never_blocks_sync(tmp_path):
    root = tmp_path / "vault"
    (root / "folder.md").mkdir(parents=True)
    (root / "folder.md" / "Inside.md").write_text("# Inside\n")
    (root / "Plain.md").write_text("# Plain\n[[Inside]]\n")
    os.mkfifo(root / "Pipe.md")
    clean(cli(root, "sync"))  # (a read of the FIFO would wait for a writer for ever: WAIT catches it)
    assert set(Vault.open(root).catalog.records) == {"Plain.md", "folder.md/Inside.md"}
    assert clean(cli(root, "search", "--paths", "plain")).stdout.split() == ["Plain.md"]


@pytest.mark.slow
def test_a_fifo_made_while_watch_runs_does_not_stop_it(tmp_path):
    """Before the fix, the watch opened the new FIFO to read it and waited for ever (even SIGTERM
    could not stop it): every later save went unindexed."""
    root = tmp_path / "vault"
    root.mkdir()
    (root / "Plain.md").write_text("# Plain\n")
    log = tmp_path / "watch.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(command(root, "watch", "--debounce", "30"), stdout=subprocess.DEVNULL, stderr=err,
                                cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + WAIT
        while "Watching" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        os.mkfifo(root / "Pipe.md")
        time.sleep(0.3)
        (root / "After.md").write_text("# After\n")
        while "After.md" not in Vault.open(root).catalog.records:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
    assert "Pipe.md" not in Vault.open(root).catalog.records


def test_an_unreadable_note_is_reported_by_name_and_the_rest_indexed(example_copy, monkeypatch):
    """Tests run as root, which reads any file: the refusal is simulated."""
    import vaultindex.indexer as indexer_module

    real = indexer_module.read_file

    def read(path):
        if Path(path).name == "LoRA.md":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path)

    monkeypatch.setattr(indexer_module, "read_file", read)
    stats = Vault.open(example_copy).sync()
    problems = [d for d in stats.diagnostics if d.path == "papers/LoRA.md"]
    assert problems and "Permission denied" in problems[0].message, stats.diagnostics
    indexed = set(Vault.open(example_copy).catalog.records)
    assert "papers/LoRA.md" not in indexed and len(indexed) == 38
