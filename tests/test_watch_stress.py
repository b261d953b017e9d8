"""Randomized stress test of `watch`: random file operations at random short intervals while the
watcher runs in a thread and another process keeps querying; once things settle, the index and
the graph must equal a from-scratch sync of a copy of the vault.

    VAULTINDEX_STRESS_N=3000 /work/venv/bin/python -m pytest tests/test_watch_stress.py -s

runs the long version (default N = 300); VAULTINDEX_STRESS_SEED picks another sequence.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO
from test_watch import Running, eventually
from vaultindex import Vault
from vaultindex.config import ALWAYS_IGNORED_DIRS
from vaultindex.scan import is_ignored_name

# watchdog warns when it registers a folder it already watches (see watch.py); harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

N = int(os.environ.get("VAULTINDEX_STRESS_N", "300"))
SEED = int(os.environ.get("VAULTINDEX_STRESS_SEED", "20240501"))

NAMES = [
    "Alpha", "Beta", "Gamma", "Scaling laws", "LoRA", "Distillation", "Résumé", "Café notes",
    "Data diet", "Pruning", "Zeta", "Omega", "Kaplan", "Chinchilla", "Mixture of experts",
]
WORDS = ["scaling", "pruning", "distillation", "forgetting", "attention", "curriculum", "sparsity"]
TAGS = ["t1", "t2", "ml/vision", "ml/nlp", "reading", "to-do"]
FOLDERS = ["papers", "topics", "Inbox", "papers/deep", "Archive", "Archive/2023", "Templates"]
KEPT = "About this vault.md"  # never touched by the storm: `backlinks` and `links` ask about it


class Storm:
    """Random edits of every kind, made the way editors and users make them."""

    def __init__(self, root: Path, outside: Path, rng: random.Random):
        self.root = root
        self.outside = outside
        self.rng = rng
        self.count = 0
        self.done: Counter = Counter()
        self.skipped: Counter = Counter()
        self.tokens: dict[str, str] = {}  # token -> the note it was last written to

    # -- what is there ---------------------------------------------------------------------------
    def _walk(self) -> tuple[list[str], list[str]]:
        notes, folders = [], [""]
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in ALWAYS_IGNORED_DIRS and not is_ignored_name(d)]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            rel = "" if rel == "." else rel
            if rel:
                folders.append(rel)
            notes += [f"{rel}/{f}".lstrip("/") for f in filenames if f.endswith(".md") and not is_ignored_name(f)]
        return sorted(n for n in notes if n != KEPT), sorted(folders)

    def text(self, notes: list[str]) -> str:
        r = self.rng
        self.count += 1
        token = f"tok{self.count}x"
        links = [f"[[{Path(p).stem}]]" for p in r.sample(notes, min(len(notes), r.randint(0, 3)))]
        links += [f"[[{r.choice(NAMES)}]]", f"[[Missing {r.randint(1, 5)}]]"][: r.randint(0, 2)]
        tags = " ".join(f"#{t}" for t in r.sample(TAGS, r.randint(0, 2)))
        cites = f"[@key{r.randint(1, 6)}]" if r.random() < 0.3 else ""
        front = ""
        if r.random() < 0.7:
            front = f"---\ntitle: {r.choice(WORDS).title()} {self.count}\n"
            if r.random() < 0.3:
                front += f"aliases: [{r.choice(NAMES)}]\n"
            if r.random() < 0.2:
                front += f"citekey: key{r.randint(1, 6)}\n"
            if r.random() < 0.05:
                front += "tags: [unclosed\n"  # bad YAML: a diagnostic, never a crash
            front += "---\n"
        body = f"{front}# Heading {self.count}\n\n{token} {r.choice(WORDS)} {' '.join(links)} {tags} {cites}\n"
        return body * r.randint(1, 3)

    def _new_name(self) -> str:
        if self.rng.random() < 0.5:
            return self.rng.choice(NAMES)  # same names in several folders: ambiguous links
        return f"{self.rng.choice(NAMES)} {self.rng.randint(1, 10_000)}"

    def _mostly_free(self, path: Path) -> Path:
        """Usually a path nobody uses; sometimes an existing note, replaced (a rename onto it)."""
        if path.exists() and self.rng.random() < 0.85:
            return path.with_name(f"{path.stem} {self.rng.randint(1, 10_000)}{path.suffix}")
        return path

    def _write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    # -- operations --------------------------------------------------------------------------------
    def op_create(self, notes, folders):
        folder = self.rng.choice(folders + FOLDERS)
        path = self._mostly_free(self.root / folder / f"{self._new_name()}.md")
        self._write(path.relative_to(self.root).as_posix(), self.text(notes))

    def op_edit(self, notes, folders):
        self._write(self.rng.choice(notes), self.text(notes))

    def op_append(self, notes, folders):
        with open(self.root / self.rng.choice(notes), "a", encoding="utf-8") as fh:
            fh.write(f"\nMore {self.rng.choice(WORDS)} #{self.rng.choice(TAGS)}\n")

    def op_atomic(self, notes, folders):
        note = self.root / self.rng.choice(notes)
        temp = note.with_name(f".{note.name}.tmp{self.rng.randint(0, 999)}")
        temp.write_text(self.text(notes), encoding="utf-8")
        os.replace(temp, note)

    def op_vim(self, notes, folders):
        note = self.root / self.rng.choice(notes)
        swap = note.with_name(f".{note.name}.swp")
        swap.write_bytes(b"b0VIM")
        probe = note.with_name("4913")
        probe.write_bytes(b"")
        probe.unlink()
        backup = note.with_name(note.name + "~")
        os.rename(note, backup)
        note.write_text(self.text(notes), encoding="utf-8")
        backup.unlink()
        swap.unlink()

    def op_jetbrains(self, notes, folders):
        note = self.root / self.rng.choice(notes)
        tmp = note.with_name(note.name + "___jb_tmp___")
        old = note.with_name(note.name + "___jb_old___")
        tmp.write_text(self.text(notes), encoding="utf-8")
        os.rename(note, old)
        os.rename(tmp, note)
        old.unlink()

    def op_rename(self, notes, folders):
        note = self.root / self.rng.choice(notes)
        os.replace(note, self._mostly_free(note.with_name(self._new_name() + ".md")))

    def op_move(self, notes, folders):
        note = self.root / self.rng.choice(notes)
        dest = self.root / self.rng.choice(folders + FOLDERS)
        dest.mkdir(parents=True, exist_ok=True)
        os.replace(note, self._mostly_free(dest / note.name))

    def op_case_rename(self, notes, folders):
        note = self.root / self.rng.choice(notes)
        other = note.stem.swapcase() if note.stem.swapcase() != note.stem else note.stem + "X"
        os.replace(note, note.with_name(other + ".md"))

    def op_dir_move(self, notes, folders):
        movable = [f for f in folders if f]
        if not movable:
            return self.op_create(notes, folders)
        src = self.rng.choice(movable)
        parents = [f for f in folders if f != src and not f.startswith(src + "/")]
        parent = self.rng.choice(parents)
        name = self.rng.choice([Path(src).name + " moved", self.rng.choice(["Archive", "Old", "Moved", "deep"])])
        dest = self.root / parent / name
        if dest.exists():
            self.skipped["dir_move"] += 1
            return
        os.rename(self.root / src, dest)

    def op_delete(self, notes, folders):
        (self.root / self.rng.choice(notes)).unlink()

    def op_trash(self, notes, folders):
        note = self.root / self.rng.choice(notes)
        (self.root / ".trash").mkdir(exist_ok=True)
        os.replace(note, self.root / ".trash" / f"{self.count}-{note.name}")

    def op_recreate(self, notes, folders):
        rel = self.rng.choice(notes)
        (self.root / rel).unlink()
        self._write(rel, self.text(notes))

    def op_rmtree(self, notes, folders):
        candidates = [f for f in folders if f and sum(n.startswith(f + "/") for n in notes) <= 4]
        if not candidates:
            return self.op_delete(notes, folders)
        shutil.rmtree(self.root / self.rng.choice(candidates))

    def op_move_out(self, notes, folders):
        movable = [f for f in folders if f]
        src = self.root / (self.rng.choice(movable) if movable and self.rng.random() < 0.25 else self.rng.choice(notes))
        os.rename(src, self.outside / f"{self.count}-{src.name}")
        self.count += 1

    def op_move_in(self, notes, folders):
        waiting = sorted(self.outside.iterdir())
        if not waiting or self.rng.random() < 0.3:
            fresh = self.outside / f"{self.count}-Visitor {self.rng.randint(1, 99)}.md"
            fresh.write_text(self.text(notes), encoding="utf-8")
            waiting = [fresh]
        src = self.rng.choice(waiting)
        dest = self.root / self.rng.choice(folders) / src.name.split("-", 1)[-1]
        if dest.exists():
            self.skipped["move_in"] += 1
            return
        os.rename(src, dest)

    def op_touch(self, notes, folders):
        os.utime(self.root / self.rng.choice(notes))

    def op_attachment(self, notes, folders):
        path = self.root / self.rng.choice(folders) / f"fig-{self.rng.randint(1, 5)}.png"
        if path.exists() and self.rng.random() < 0.5:
            path.unlink()
        else:
            path.write_bytes(b"\x89PNG" + os.urandom(8))

    def op_noise(self, notes, folders):
        target = self.rng.choice([".obsidian/workspace.json", ".git/objects/ab/cd", ".obsidian/plugins/x/data.json"])
        self._write(target, str(self.rng.random()))

    WEIGHTS = {
        "create": 22, "edit": 14, "append": 5, "atomic": 10, "vim": 5, "jetbrains": 4, "rename": 7,
        "move": 7, "case_rename": 2, "dir_move": 4, "delete": 5, "trash": 2, "recreate": 4,
        "rmtree": 1, "move_out": 2, "move_in": 3, "touch": 3, "attachment": 3, "noise": 3,
    }

    def step(self) -> None:
        notes, folders = self._walk()
        kind = self.rng.choices(list(self.WEIGHTS), weights=list(self.WEIGHTS.values()))[0]
        if not notes and kind not in ("create", "noise", "move_in", "attachment"):
            kind = "create"
        try:
            getattr(self, f"op_{kind}")(notes, folders)
            self.done[kind] += 1
        except OSError:  # e.g. renaming a folder onto a non-empty one: a no-op for the vault
            self.skipped[kind] += 1

    def pause(self) -> None:
        roll = self.rng.random()
        if roll < 0.35:
            return
        time.sleep(self.rng.uniform(0, 0.005) if roll < 0.8 else self.rng.uniform(0.005, 0.08))


# -- what an index holds, comparably -----------------------------------------------------------------


def index_state(vault: Vault) -> dict:
    catalog = vault.catalog
    return {
        "notes": {p: (r.sha1, r.size, r.note) for p, r in catalog.records.items()},
        "attachments": set(catalog.attachments),
        "excluded": set(catalog.excluded),
    }


def graph_state(vault: Vault):
    graph = vault.catalog.graph
    if graph is None or not hasattr(graph, "edges"):
        return None
    nodes = {
        n: json.dumps(graph.node_attrs(n), sort_keys=True, default=str)
        for n in graph.to_networkx(include_generated=True).nodes
    }
    edges = sorted(
        (s, t, k, json.dumps(a, sort_keys=True, default=str)) for s, t, k, a in graph.edges(include_generated=True)
    )
    return nodes, edges


def fresh_copy(root: Path, dest: Path) -> Vault:
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".vaultindex"))
    vault = Vault.open(dest)
    vault.sync()
    return vault


def describe_difference(got: dict, want: dict) -> str:
    lines = []
    for key in ("attachments", "excluded"):
        if got[key] != want[key]:
            lines.append(f"{key}: extra {sorted(got[key] - want[key])[:5]}, missing {sorted(want[key] - got[key])[:5]}")
    extra = sorted(set(got["notes"]) - set(want["notes"]))
    missing = sorted(set(want["notes"]) - set(got["notes"]))
    stale = sorted(p for p in set(got["notes"]) & set(want["notes"]) if got["notes"][p] != want["notes"][p])
    lines.append(f"notes: extra {extra[:5]}, missing {missing[:5]}, different {stale[:5]}")
    return "; ".join(lines)


class QueryLoop:
    """Another process querying the index over and over while the watcher writes it."""

    QUERIES = [
        ["search", "--json", "-n", "5", "scaling"],
        ["backlinks", "--json", KEPT],
        ["search", "--json", "-n", "5", "tok7x OR scal*"],
        ["unresolved", "--json"],
        ["search", "--json", "-n", "5", "tag:t1"],
        ["links", "--json", KEPT],
        ["search", "--json", "-n", "5", "title:scaling"],
    ]

    def __init__(self, root: Path):
        self.root = root
        self.stop = threading.Event()
        self.runs = 0
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self.stop.is_set():
            query = self.QUERIES[i % len(self.QUERIES)]
            i += 1
            result = subprocess.run(
                [sys.executable, "-m", "vaultindex", "--vault", str(self.root), *query],
                capture_output=True, text=True, timeout=120, cwd=REPO,
            )
            self.runs += 1
            problem = ""
            if result.returncode != 0 or "Error" in result.stderr or "Traceback" in result.stderr:
                problem = f"exit {result.returncode}: {result.stderr.strip()[-400:]}"
            else:
                try:
                    json.loads(result.stdout)
                except ValueError as exc:
                    problem = f"bad JSON ({exc}): {result.stdout[:200]!r}"
            if problem:
                self.failures.append(f"{' '.join(query)}: {problem}")

    def __enter__(self) -> QueryLoop:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join(180)


@pytest.mark.slow
def test_random_operations_leave_the_index_equal_to_a_fresh_sync(example_copy, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    rng = random.Random(SEED)
    storm = Storm(example_copy, outside, rng)
    started = time.monotonic()
    with Running(example_copy) as w, QueryLoop(example_copy) as queries:
        for _ in range(N):
            storm.step()
            storm.pause()
        ops_seconds = time.monotonic() - started
        # The disk is final now: what a from-scratch sync of a copy finds is the answer.
        expected_vault = fresh_copy(example_copy, tmp_path / "fresh")
        expected = index_state(expected_vault)
        want_notes = {p: note for p, (_, _, note) in expected["notes"].items()}
        settle = max(60.0, N / 20)
        try:
            eventually(lambda: w.error is not None or w.state == want_notes, timeout=settle, what="index settles")
        except AssertionError:
            got = {p: n for p, n in w.state.items()}
            extra, missing = sorted(set(got) - set(want_notes)), sorted(set(want_notes) - set(got))
            stale = sorted(p for p in set(got) & set(want_notes) if got[p] != want_notes[p])
            raise AssertionError(f"seed {SEED}: extra {extra[:8]}, missing {missing[:8]}, different {stale[:8]}") from None
        settled_seconds = time.monotonic() - started
    assert w.error is None, w.error

    # In memory, in the watcher's own Vault.
    got = index_state(w.vault)
    assert got == expected, f"seed {SEED}: " + describe_difference(got, expected)
    assert graph_state(w.vault) == graph_state(expected_vault), f"seed {SEED}: the graph differs"

    # On disk: a new process would see the same (catalog cache and the Whoosh index itself).
    reopened = Vault.open(example_copy)
    assert index_state(reopened) == expected
    assert graph_state(reopened) == graph_state(expected_vault)
    # The full-text index has one document per note, no more (the store has the notes themselves).
    from vaultindex.store import decode_path

    documents = [decode_path(p) for p in reopened.fulltext.paths()]
    assert sorted(documents) == sorted(expected["notes"])  # no duplicates, none missing
    assert not reopened.sync(wait=0).changed

    # The full text is current: the newest words of some notes are found there.
    body_of = {p: (example_copy / p).read_text(encoding="utf-8") for p in expected["notes"]}
    for path in rng.sample(sorted(body_of), min(10, len(body_of))):
        token = next((w for w in body_of[path].split() if w.startswith("tok") and w.endswith("x")), None)
        if token:
            assert path in [h.path for h in reopened.search(token, limit=50).hits], (path, token)

    assert queries.runs > 0
    assert queries.failures == [], queries.failures[:5]

    summary = (
        f"stress N={N} seed={SEED}: {sum(storm.done.values())} operations in {ops_seconds:.1f} s "
        f"({dict(storm.done)}; skipped {dict(storm.skipped)}), {len(w.batches)} batches, "
        f"settled {settled_seconds - ops_seconds:.1f} s after the last operation, "
        f"{len(expected['notes'])} notes at the end, {queries.runs} queries from another process, 0 errors"
        + (f"; notices: {w.notices}" if w.notices else "")
    )
    print(summary)
