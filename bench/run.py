"""The benchmark: one command that measures vaultindex and the alternatives on generated vaults.

    python bench/run.py                      # N = 1,000 and 10,000 (about 6 minutes on 2 cores)
    python bench/run.py --sizes 50000 --skip obsidiantools   # the manual 50k run (merged in)
    python bench/run.py --quick              # fewer repeats, for a smoke test

For each size it generates a vault (bench/generate.py) under bench/vaults/ (git-ignored) and
measures, each command in a fresh process as a user would run it:

vaultindex: `sync --full`, no-op `sync`, `sync` after editing 1 and 100 notes, `search`
(wall), in-process `Vault.search` p50/p95, `backlinks` (wall), the latency from a file save
to the change being visible to `search` and `backlinks` run while `watch` runs, peak RSS of
sync and watch, the index size on disk, `--help` wall time.
Alternatives, same vault, same run: SQLite FTS5 (build + bm25 queries), ripgrep (the same
queries, `rg -l -i -w`), obsidiantools (`Vault(path).connect()`).

Writes bench/results/results.json (merged by size, so a later `--sizes 50000` run adds to
it), results.md (tables with targets, pass/fail and ratios) and results.png.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from probes import percentile  # noqa: E402

PY = sys.executable
# The CLI under test is the working tree's, whatever is installed.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
ENV.pop("VAULTINDEX_VAULT", None)
# As a user runs it: an installed package has its bytecode cached. With PYTHONDONTWRITEBYTECODE
# set (some shells and CI images set it) every fresh process compiles vaultindex's modules
# again, about 0.1 s of each figure below.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
ENV["NO_COLOR"] = "1"
VI = [PY, "-m", "vaultindex"]

# Targets from the issues (2 cores, 10,000 notes). (key, label, target, unit, alternative key)
TARGETS = {
    "full_sync_s": 20.0,
    "noop_sync_s": 0.4,  # issue 14
    "edit1_sync_s": 0.6,  # issue 14
    "cli_search_s": 0.5,
    "search_p50_s": 0.030,
    "cli_backlinks_s": 0.25,  # issue 14
    "cli_unresolved_s": 0.4,  # issue 14
    "cli_tags_s": 0.4,  # issue 14
    "graph_edit_p50_s": 0.050,
    "watch_p95_s": 1.0,
    "watch_rss_mb": 400.0,
    "help_s": 0.25,
}

# Queries every tool can run: words (ANDed) and phrases. Plain ASCII words of the generated
# vocabulary, no hyphens (FTS5 syntax), from frequent to rare.
COMMON_QUERIES = [
    "pruning",
    "data pruning",
    "catastrophic forgetting",
    "diffusion guidance",
    '"double descent"',
    "calibration ensemble uncertainty",
    "model",
    "spectral laplacian oversmoothing",
    "sharpness",
    "{rare}",
]
# vaultindex-only features, measured in-process and reported apart.
FEATURE_QUERIES = [
    "prun*",
    "tag:ml/vision segmentation",
    "year:>2020 distillation",
    "prunning",  # a typo: the did-you-mean path
    "author:Tanaka pruning",
]


# ------------------------------------------------------------------------------------------------
# Running processes
# ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    rc: int
    out: str
    err: str
    maxrss_mb: float  # peak RSS of the largest of the process and its waited-for children (ru_maxrss)
    tree_mb: float | None = None  # peak of the summed RSS of the process and all its children (sampled)


def run(cmd, *, cwd=None, timeout: float = 3600.0, shell: bool = False, check: bool = True, tree: bool = False) -> Run:
    """Run a command in a fresh process; wall time, exit code, output and peak RSS (wait4;
    with tree, also the sampled peak of the whole process tree: Whoosh's sub-writers count)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=ENV, shell=shell)
        timer = threading.Timer(timeout, lambda: _kill(proc.pid))
        timer.start()
        sampler = TreeSampler(proc.pid) if tree else None
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            if sampler:
                sampler.stop()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Run(wall, proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), usage.ru_maxrss / 1024, sampler.peak_mb if sampler else None)
    if check and result.rc != 0:
        shown = cmd if isinstance(cmd, str) else " ".join(map(str, cmd))
        raise RuntimeError(f"command failed ({result.rc}): {shown}\n{result.err[-2000:]}")
    return result


class TreeSampler:
    """Samples the summed RSS of a process and its descendants every 0.1 s, in a thread."""

    def __init__(self, pid: int):
        import psutil

        self._psutil = psutil
        self._pid = pid
        self.peak_mb = 0.0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        psutil = self._psutil
        while not self._halt.is_set():
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(self._pid)
                total = p.memory_info().rss
                for child in p.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        total += child.memory_info().rss
                self.peak_mb = max(self.peak_mb, total / 2**20)
            self._halt.wait(0.1)

    def stop(self) -> None:
        self._halt.set()
        self._thread.join()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def vi(vault: Path, *args: str, check: bool = True, timeout: float = 3600.0, tree: bool = False) -> Run:
    return run([*VI, "--vault", str(vault), *args], check=check, timeout=timeout, tree=tree)


def median(values):
    return statistics.median(values) if values else None


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def index_folder(vault: Path) -> Path:
    """Where vaultindex keeps the vault's index (the cache folder set in main())."""
    return Path(json.loads(vi(vault, "info", "--json").out)["index_dir"])


def du(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(folder, name))
    return total


def edit_note(path: Path, marker: str, link: str | None = None, atomic: bool = False) -> None:
    """Append a paragraph with a new word (and a link): what a user's save looks like."""
    text = path.read_text(encoding="utf-8")
    extra = f"\nAdded while benchmarking: {marker}" + (f" see [[{link}]]" if link else "") + ".\n"
    if atomic:  # Obsidian / VS Code style: write a temp file, then rename it over the note
        tmp = path.with_name(f".{path.name}.bench.tmp")
        tmp.write_text(text + extra, encoding="utf-8")
        os.replace(tmp, path)
    else:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(extra)


def marker_word(i: int, salt: str) -> str:
    """A unique letters-only word that no note contains (zqx + salt + base-26 of i)."""
    letters = ""
    i += 26 * 26
    while i:
        i, r = divmod(i, 26)
        letters = chr(97 + r) + letters
    return f"zqx{salt}{letters}"


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, n: int, args, work: Path):
        self.n = n
        self.args = args
        self.work = work
        self.quick = args.quick
        self.reps = 1 if args.quick else args.repeats
        self.metrics: dict[str, dict] = {}
        self.alternatives: dict[str, dict] = {}
        self.skipped: list[str] = []
        self.rng = random.Random(n * 31 + args.seed)

    def put(self, key: str, value, unit: str, samples=None, **extra) -> None:
        entry = {"value": value, "unit": unit}
        if samples is not None:
            entry["samples"] = [round(s, 4) for s in samples]
        entry.update(extra)
        self.metrics[key] = entry
        shown = f"{value:.3f}" if isinstance(value, float) else value
        log(f"  N={self.n:,} {key} = {shown} {unit}")

    # -- setup ----------------------------------------------------------------------------------
    def generate(self) -> None:
        words = self.args.vocabulary
        self.vault = self.work / (f"n{self.n}-s{self.args.seed}" + (f"-v{words}" if words else ""))
        log(f"N={self.n:,}: generating the vault in {self.vault}")
        self.info = generate.generate(self.vault, self.n, self.args.seed, vocabulary_size=words)
        self.paths = list(self.info.paths)
        papers = [p for p in self.paths if p.startswith("papers/")]
        deg = self.info.in_degree
        self.hub = self.info.hubs[0]
        ranked = sorted(papers, key=lambda p: (deg[p], p))
        self.typical = ranked[len(ranked) // 2]  # median in-degree
        self.lonely = [p for p in ranked if deg[p] == 0]  # no backlinks: targets for the watch test
        self.rng.shuffle(self.lonely)
        rare = self.info.vocabulary[len(self.info.vocabulary) // 3]
        self.queries = [q.replace("{rare}", rare) for q in COMMON_QUERIES]
        help_text = run([*VI, "--help"]).out
        self.has = {cmd: any(line.strip().startswith(cmd + " ") or line.strip() == cmd for line in help_text.splitlines()) for cmd in ("backlinks", "watch")}
        log(f"  commands present: {self.has}")

    # -- vaultindex ---------------------------------------------------------------------------
    def help_time(self) -> None:
        runs = [run([*VI, "--help"]).wall for _ in range(7)]
        base = [run([PY, "-c", "pass"]).wall for _ in range(5)]
        self.put("help_s", median(runs), "s", runs, python_startup_s=round(median(base), 4))

    def full_sync(self) -> None:
        walls, rss, inside = [], [], []
        for _ in range(self.reps if self.n <= 20000 else 1):
            r = vi(self.vault, "sync", "--full", "--json", tree=True)
            walls.append(r.wall)
            rss.append(max(r.tree_mb or 0.0, r.maxrss_mb))
            with contextlib.suppress(ValueError):
                inside.append(json.loads(r.out)["seconds"])
        self.put("full_sync_s", median(walls), "s", walls, in_process_s=median(inside))
        self.put("sync_rss_mb", max(rss), "MB", rss)  # all processes: the sub-writers hold the postings
        index_dir = index_folder(self.vault)  # outside the vault (issue 14): ask `vaultindex info`
        whoosh = sum(du(p / "fulltext") for p in index_dir.glob("b*"))
        self.put("index_mb", du(index_dir) / 1e6, "MB", None, whoosh_only_mb=round(whoosh / 1e6, 2))

    def noop_sync(self) -> None:
        vi(self.vault, "sync")  # settle
        runs = [vi(self.vault, "sync") for _ in range(5)]
        self.put("noop_sync_s", median([r.wall for r in runs]), "s", [r.wall for r in runs])
        self.put("noop_sync_rss_mb", max(r.maxrss_mb for r in runs), "MB")

    def edit_sync(self, count: int) -> None:
        walls = []
        notes = [p for p in self.paths]
        for rep in range(self.reps):
            chosen = self.rng.sample(notes, count)
            for j, p in enumerate(chosen):
                edit_note(self.vault / p, marker_word(rep * 1000 + j, f"e{count}"))
            r = vi(self.vault, "sync")
            walls.append(r.wall)
            if f"~{count}" not in r.err:
                log(f"  warning: sync after editing {count} notes said: {r.err.strip()[-200:]}")
        self.put(f"edit{count}_sync_s", median(walls), "s", walls)

    def cli_search(self) -> None:
        # As a user sees it (titles, tags and snippets, which read the hits' files), and with
        # --paths (no snippets; what scripts and the watch probe use).
        walls, paths_walls = [], []
        per_query = {}
        for q in self.queries[:5]:
            runs = [vi(self.vault, "search", q).wall for _ in range(max(3, self.reps))]
            paths_walls += [vi(self.vault, "search", q, "--paths").wall for _ in range(max(3, self.reps))]
            per_query[q] = median(runs)
            walls += runs
        self.put("cli_search_s", median(walls), "s", walls, per_query=per_query, paths_only_s=median(paths_walls))

    def inproc_search(self) -> None:
        qfile = self.work / "queries.json"
        qfile.write_text(json.dumps(self.queries))
        reps = 3 if self.quick else 10
        r = run([PY, str(HERE / "probes.py"), "search", str(self.vault), str(qfile), str(reps)])
        data = json.loads(r.out)
        self.put("search_p50_s", data["p50_s"], "s", None, p95_s=data["p95_s"], first_search_s=data["first_search_s"], per_query=data["per_query_median_s"], hits=data["hits"])
        self.put("search_p95_s", data["p95_s"], "s")
        self.inproc = data
        qfile.write_text(json.dumps(FEATURE_QUERIES))
        r = run([PY, str(HERE / "probes.py"), "search", str(self.vault), str(qfile), str(max(1, reps // 2))], check=False)
        if r.rc == 0:
            data = json.loads(r.out)
            self.put("feature_search_p50_s", data["p50_s"], "s", None, p95_s=data["p95_s"], per_query=data["per_query_median_s"])
        else:
            log(f"  feature queries failed: {r.err.strip()[-300:]}")

    def graph_edit(self) -> None:
        r = run([PY, str(HERE / "probes.py"), "graph_edit", str(self.vault), "10" if self.quick else "50"], check=False)
        if r.rc != 0:
            log(f"  graph edit probe failed: {r.err.strip()[-300:]}")
            return
        data = json.loads(r.out)
        self.put("graph_edit_p50_s", data["p50_s"], "s", None, p95_s=data["p95_s"], edits=data["edits"])

    def cli_backlinks(self) -> None:
        if not self.has["backlinks"]:
            self.skipped.append("cli_backlinks_s: no `vaultindex backlinks` command yet")
            log("  skipped: no backlinks command")
            return
        walls = {}
        for label, note in (("hub", self.hub), ("typical", self.typical)):
            runs = []
            for _ in range(max(3, self.reps)):
                r = vi(self.vault, "backlinks", note, "--json", check=False)
                if r.rc != 0:
                    log(f"  backlinks {note} failed: {r.err.strip()[-300:]}")
                    self.skipped.append(f"cli_backlinks_s: `vaultindex backlinks` exited {r.rc}")
                    return
                runs.append(r.wall)
            walls[label] = runs
        every = walls["hub"] + walls["typical"]
        self.put("cli_backlinks_s", median(every), "s", every, hub_s=median(walls["hub"]), typical_s=median(walls["typical"]), hub_in_degree=self.info.in_degree[self.hub])

    def cli_lists(self) -> None:
        """`unresolved` and `tags` as a person runs them (the terminal listing, to a file)."""
        for command, key in (("unresolved", "cli_unresolved_s"), ("tags", "cli_tags_s")):
            runs = [vi(self.vault, command) for _ in range(max(3, self.reps))]
            self.put(key, median([r.wall for r in runs]), "s", [r.wall for r in runs], lines=runs[0].out.count("\n"))

    def watch_latency(self) -> None:
        if not self.has["watch"]:
            self.skipped.append("watch_p95_s, watch_rss_mb: no `vaultindex watch` command yet")
            log("  skipped: no watch command")
            return
        if not self.has["backlinks"]:
            self.skipped.append("watch_p95_s: measured with search only (no backlinks command)")
        trials = 5 if self.quick else self.args.watch_trials
        err_log = open(self.work / f"watch-{self.n}.log", "w")  # noqa: SIM115 - open while watch runs, closed below
        proc = subprocess.Popen([*VI, "--vault", str(self.vault), "watch"], stdout=subprocess.DEVNULL, stderr=err_log, stdin=subprocess.DEVNULL, env=ENV)
        sampler = TreeSampler(proc.pid)
        latencies, answered, failures = [], [], 0
        try:
            # Wait until watch has reconciled and watches the folders (it says so on stderr), then
            # one warm-up save that must show up.
            self._wait_watch_ready(proc, Path(err_log.name), timeout=600.0)
            ok = self._watch_trial(-1, self.lonely[-1], atomic=False, timeout=120.0)
            if ok is None:
                raise RuntimeError("watch never made the first change visible")
            for i in range(trials):
                if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    raise RuntimeError("watch exited during the test (see its log)")
                time.sleep(0.6)  # let the previous batch settle
                res = self._watch_trial(i, self.lonely[i % (len(self.lonely) - 1)], atomic=i % 2 == 1, timeout=30.0)
                if res is None:
                    failures += 1
                    continue
                latencies.append(res[0])
                answered.append(res[1])
        finally:
            hwm = _vm_hwm_mb(proc.pid)
            sampler.stop()
            usage = None
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGINT)  # not proc.send_signal: it would reap the child
                status, usage = wait4_timeout(proc.pid, 30.0)
                proc.returncode = os.waitstatus_to_exitcode(status)
            err_log.close()
        if proc.returncode not in (0, -signal.SIGINT, 130):
            self.skipped.append(f"watch exited with {proc.returncode} on Ctrl-C (see {err_log.name})")
        rss = max(sampler.peak_mb, hwm or 0.0, usage.ru_maxrss / 1024 if usage else 0.0)
        # watch's own batch lines ("HH:MM:SS  +0 ~1 -0  123 ms  path"): time to apply a batch.
        import re

        batch_ms = [int(m) for m in re.findall(r"^\S+\s+\+\d+ ~\d+ -\d+\s+(\d+) ms", Path(err_log.name).read_text(errors="replace"), re.M)]
        self.put("watch_p50_s", percentile(answered, 50), "s", answered)
        self.put("watch_p95_s", percentile(answered, 95), "s", None, query_start_p50_s=percentile(latencies, 50), query_start_p95_s=percentile(latencies, 95), query_start_samples=[round(x, 4) for x in latencies], failures=failures, trials=trials, batch_apply_ms_median=median(batch_ms), batch_apply_ms_max=max(batch_ms) if batch_ms else None, batches=len(batch_ms))
        self.put("watch_rss_mb", rss, "MB", None, sampled_tree_peak_mb=round(sampler.peak_mb, 1), vm_hwm_mb=hwm)

    def _wait_watch_ready(self, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
        """Until watch prints its "Watching ..." line (after the start-up sync)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log_path.read_text(errors="replace") if log_path.exists() else ""
            if "Watching" in text:
                return
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                raise RuntimeError(f"watch exited at start: {text.strip()[-300:]}")
            time.sleep(0.1)
        raise RuntimeError(f"watch was not ready after {timeout:.0f} s")

    def _watch_trial(self, i: int, target: str, atomic: bool, timeout: float):
        """Save a note with a new word and a link; poll search and backlinks in fresh processes.

        Returns (started, answered), seconds from the save, the larger of the two kinds:
        `answered` is when the first query that showed the change finished (the latency we
        report: what a user running the command right after saving waits); `started` is when
        that query started (a lower, rougher figure: a query reads the index a few hundred ms
        after it starts).
        """
        source = self.rng.choice([p for p in self.paths if p != target and p.startswith("papers/")])
        word = marker_word(i + 1, f"w{self.n % 97}")
        edit_note(self.vault / source, word, link=target.rsplit("/", 1)[-1][:-3], atomic=atomic)
        saved = time.perf_counter()
        kinds = {"search": [*VI, "--vault", str(self.vault), "search", word, "--paths"]}
        if self.has["backlinks"]:
            kinds["backlinks"] = [*VI, "--vault", str(self.vault), "backlinks", target, "--json"]
        found: dict[str, tuple[float, float]] = {}

        def poll(kind: str, cmd: list[str]) -> None:
            while time.perf_counter() - saved < timeout:
                start = time.perf_counter()
                r = run(cmd, check=False, timeout=60)
                end = time.perf_counter()
                if r.rc == 0 and source in r.out:
                    found[kind] = (start - saved, end - saved)
                    return
                time.sleep(0.02)

        threads = [threading.Thread(target=poll, args=(k, c)) for k, c in kinds.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if len(found) != len(kinds):
            log(f"  watch trial {i}: not visible within {timeout:.0f} s ({sorted(found)})")
            return None
        return max(v[0] for v in found.values()), max(v[1] for v in found.values())

    # -- alternatives -------------------------------------------------------------------------
    def fts5(self) -> None:
        qfile = self.work / "queries.json"
        qfile.write_text(json.dumps(self.queries))
        db = self.work / f"fts5-{self.n}.sqlite"
        runs = []
        for _ in range(self.reps):
            r = run([PY, str(HERE / "probes.py"), "fts5", str(self.vault), str(db), str(qfile), "3" if self.quick else "10"])
            runs.append(json.loads(r.out))
        best = sorted(runs, key=lambda d: d["build_s"])[len(runs) // 2]
        self.alternatives["fts5"] = {
            "build_s": median([d["build_s"] for d in runs]),
            "build_samples": [round(d["build_s"], 4) for d in runs],
            "p50_s": median([d["p50_s"] for d in runs]),
            "p95_s": median([d["p95_s"] for d in runs]),
            "index_mb": best["index_bytes"] / 1e6,
            "per_query_median_s": best["per_query_median_s"],
            "hits": best["hits"],
        }
        with contextlib.suppress(OSError):
            db.unlink()
        a = self.alternatives["fts5"]
        log(f"  N={self.n:,} fts5 build {a['build_s']:.2f} s, query p50 {a['p50_s'] * 1000:.2f} ms p95 {a['p95_s'] * 1000:.2f} ms")

    def ripgrep(self) -> None:
        if shutil.which("rg") is None:
            self.skipped.append("ripgrep: `rg` is not installed (Debian: apt-get install ripgrep)")
            log("  skipped: rg is not installed (apt-get install ripgrep)")
            return
        per_query = {}
        walls = []
        for q in self.queries:
            cmd = _rg_command(q)
            runs = [run(cmd, cwd=self.vault, shell=True, check=False).wall for _ in range(max(3, self.reps))]
            per_query[q] = median(runs)
            walls += runs
        cli_q = self.queries[:5]
        self.alternatives["ripgrep"] = {
            "median_s": median(walls),
            "median_same_as_cli_s": median([per_query[q] for q in cli_q]),
            "per_query_median_s": per_query,
            "version": run(["rg", "--version"]).out.splitlines()[0],
        }
        log(f"  N={self.n:,} ripgrep median {median(walls):.3f} s")

    def obsidiantools(self) -> None:
        try:
            import obsidiantools  # noqa: F401
        except ImportError:
            self.skipped.append("obsidiantools: not installed (pip install '.[bench]')")
            log("  skipped: obsidiantools is not installed")
            return
        name = self.hub.rsplit("/", 1)[-1][:-3]
        reps = 1 if (self.quick or self.n >= 5000) else self.reps
        runs = []
        for _ in range(reps):
            r = run([PY, str(HERE / "probes.py"), "otools", str(self.vault), name], check=False, timeout=self.args.otools_timeout)
            if r.rc != 0:
                self.skipped.append(f"obsidiantools: failed or timed out ({r.err.strip()[-200:]})")
                log(f"  obsidiantools failed: {r.err.strip()[-300:]}")
                return
            data = json.loads(r.out)
            data["wall_s"] = r.wall
            data["maxrss_mb"] = r.maxrss_mb
            runs.append(data)
        self.alternatives["obsidiantools"] = {
            "connect_s": median([d["connect_s"] for d in runs]),
            "wall_s": median([d["wall_s"] for d in runs]),
            "import_s": median([d["import_s"] for d in runs]),
            "backlinks_of_hub": runs[0]["backlinks"],
            "maxrss_mb": max(d["maxrss_mb"] for d in runs),
            "samples": [round(d["connect_s"], 3) for d in runs],
        }
        log(f"  N={self.n:,} obsidiantools connect {self.alternatives['obsidiantools']['connect_s']:.2f} s")

    # -- all ------------------------------------------------------------------------------------
    def run_all(self) -> dict:
        started = time.perf_counter()
        load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
        self.generate()
        steps = [
            self.help_time,
            self.full_sync,
            self.noop_sync,
            self.cli_search,
            self.inproc_search,
            self.cli_backlinks,
            self.cli_lists,
            self.graph_edit,
            lambda: self.edit_sync(1),
            lambda: self.edit_sync(100),
            self.fts5,
            self.ripgrep,
            self.obsidiantools,
            self.watch_latency,
        ]
        skip = {s.strip() for s in self.args.skip.split(",") if s.strip()}
        for step in steps:
            name = getattr(step, "__name__", "")
            if name in skip or name.replace("_latency", "") in skip:
                self.skipped.append(f"{name}: left out with --skip")
                continue
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - one broken measurement must not lose the others
                name = getattr(step, "__name__", "step")
                self.skipped.append(f"{name}: error: {exc}".splitlines()[0][:300])
                log(f"  error in {name}: {exc}")
        return {
            "notes": self.n,
            "vocabulary": self.args.vocabulary,
            "vault": self.info.to_json(),
            "metrics": self.metrics,
            "alternatives": self.alternatives,
            "ratios": ratios(self.metrics, self.alternatives),
            "skipped": self.skipped,
            "queries": self.queries,
            "feature_queries": FEATURE_QUERIES,
            "seconds": round(time.perf_counter() - started, 1),
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "measured_at": dt.datetime.now().isoformat(timespec="seconds"),
        }


def _rg_command(q: str) -> str:
    """`rg` for a query: a phrase as a fixed string; several words as a pipeline (AND)."""
    import shlex

    base = "rg -l -i -w -g '*.md'"
    if q.startswith('"'):
        return f"{base} -F -e {shlex.quote(q.strip(chr(34)))} ."
    words = q.split()
    cmd = f"{base} -0 -e {shlex.quote(words[0])} ."
    for w in words[1:]:
        cmd += f" | xargs -0 -r {base} -0 -e {shlex.quote(w)}"
    return cmd + " | tr '\\0' '\\n'" if len(words) > 1 else cmd.replace(" -0", "")


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def wait4_timeout(pid: int, seconds: float):
    """Reap a child within `seconds` (then SIGKILL it): (exit status, rusage)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        time.sleep(0.05)
    _kill(pid)
    _, status, usage = os.wait4(pid, 0)
    return status, usage


def ratios(m: dict, alt: dict) -> dict:
    """vaultindex / alternative (above 1: vaultindex is slower)."""
    out = {}

    def val(key):
        return m.get(key, {}).get("value")

    if "fts5" in alt:
        f = alt["fts5"]
        if val("full_sync_s"):
            out["full_sync_vs_fts5_build"] = val("full_sync_s") / f["build_s"]
        if val("search_p50_s"):
            out["search_p50_vs_fts5_p50"] = val("search_p50_s") / f["p50_s"]
            out["search_p95_vs_fts5_p95"] = val("search_p95_s") / f["p95_s"]
        if val("index_mb"):
            out["index_size_vs_fts5"] = val("index_mb") / f["index_mb"]
    if "ripgrep" in alt and val("cli_search_s"):
        out["cli_search_vs_ripgrep"] = val("cli_search_s") / alt["ripgrep"]["median_same_as_cli_s"]
    if "obsidiantools" in alt:
        o = alt["obsidiantools"]
        if val("cli_backlinks_s"):
            out["cli_backlinks_vs_obsidiantools_wall"] = val("cli_backlinks_s") / o["wall_s"]
        if val("full_sync_s"):
            out["full_sync_vs_obsidiantools_connect"] = val("full_sync_s") / o["connect_s"]
    return {k: round(v, 3) for k, v in out.items()}


# ------------------------------------------------------------------------------------------------
# Reporting
# ------------------------------------------------------------------------------------------------

ROWS = [
    # key, label, unit shown, scale
    ("full_sync_s", "`sync --full` (fresh process)", "s", 1),
    ("noop_sync_s", "no-op `sync`", "s", 1),
    ("edit1_sync_s", "`sync` after editing 1 note", "s", 1),
    ("edit100_sync_s", "`sync` after editing 100 notes", "s", 1),
    ("cli_search_s", "`search` wall (fresh process, with snippets)", "s", 1),
    ("search_p50_s", "in-process search p50", "ms", 1000),
    ("search_p95_s", "in-process search p95", "ms", 1000),
    ("feature_search_p50_s", "in-process search p50, feature queries", "ms", 1000),
    ("cli_backlinks_s", "`backlinks` wall (fresh process)", "s", 1),
    ("cli_unresolved_s", "`unresolved` wall (fresh process)", "s", 1),
    ("cli_tags_s", "`tags` wall (fresh process)", "s", 1),
    ("graph_edit_p50_s", "one note's edit applied to the graph, p50 (in-process)", "ms", 1000),
    ("watch_p50_s", "watch: save -> shown by `search` + `backlinks`, p50", "s", 1),
    ("watch_p95_s", "watch: save -> shown by `search` + `backlinks`, p95", "s", 1),
    ("sync_rss_mb", "peak RSS of `sync --full`, all its processes", "MB", 1),
    ("noop_sync_rss_mb", "peak RSS of no-op `sync`", "MB", 1),
    ("watch_rss_mb", "peak RSS of `watch`", "MB", 1),
    ("index_mb", "index size on disk", "MB", 1),
    ("help_s", "`vaultindex --help` wall", "s", 1),
]


def _fmt(value, unit: str, scale: float) -> str:
    if value is None:
        return "—"
    v = value * scale
    if unit == "MB":
        return f"{v:,.0f} MB"
    if unit == "ms":
        return f"{v:.1f} ms"
    return f"{v:.2f} s" if v < 100 else f"{v:,.0f} s"


def _alternative(key: str, size: dict) -> tuple[str, str]:
    """The alternative's figure beside a row, and the ratio."""
    alt, r = size.get("alternatives", {}), size.get("ratios", {})
    if key == "full_sync_s" and "fts5" in alt:
        return f"FTS5 build {alt['fts5']['build_s']:.2f} s", f"{r.get('full_sync_vs_fts5_build', 0):.1f}x"
    if key == "search_p50_s" and "fts5" in alt:
        return f"FTS5 {alt['fts5']['p50_s'] * 1000:.2f} ms", f"{r.get('search_p50_vs_fts5_p50', 0):.0f}x"
    if key == "search_p95_s" and "fts5" in alt:
        return f"FTS5 {alt['fts5']['p95_s'] * 1000:.2f} ms", f"{r.get('search_p95_vs_fts5_p95', 0):.0f}x"
    if key == "cli_search_s" and "ripgrep" in alt:
        return f"rg {alt['ripgrep']['median_same_as_cli_s']:.3f} s", f"{r.get('cli_search_vs_ripgrep', 0):.1f}x"
    if key == "cli_backlinks_s" and "obsidiantools" in alt:
        return f"obsidiantools {alt['obsidiantools']['wall_s']:.1f} s", f"{r.get('cli_backlinks_vs_obsidiantools_wall', 0):.2f}x"
    if key == "index_mb" and "fts5" in alt:
        return f"FTS5 {alt['fts5']['index_mb']:.0f} MB", f"{r.get('index_size_vs_fts5', 0):.1f}x"
    return "", ""


def write_markdown(results: dict, path: Path) -> None:
    every = sorted(results["sizes"].values(), key=lambda s: (s["notes"], s.get("vocabulary") or 0))
    sizes = [s for s in every if not s.get("vocabulary")]  # the default vocabulary: scaling and plot
    lines = [
        "# vaultindex benchmark results",
        "",
        "Reproduce: `python bench/run.py` (1,000 and 10,000 notes, about 6 minutes on 2 cores); "
        "`python bench/run.py --sizes 50000 --skip obsidiantools` adds the 50,000-note vault (a manual "
        "run, about 7 minutes; obsidiantools would add 10 or more). Each run replaces the sizes it "
        "measures and keeps the others; see bench/README.md.",
        "",
        f"Machine: {results['machine']['cpus']} cores, {results['machine']['platform']}, "
        f"Python {results['machine']['python']}, SQLite {results['machine']['sqlite']}. "
        "Every `vaultindex` figure is a fresh process unless it says in-process; medians of the "
        "repeats (samples are in results.json). Ratios are vaultindex / alternative: above 1 means "
        "vaultindex is slower. Targets are stated for 10,000 notes; other sizes are checked "
        "against the same numbers for reference.",
        "",
    ]
    for size in every:
        n = size["notes"]
        v = size["vault"]
        lines += [
            f"## {n:,} notes" + (f", a Zipf vocabulary of {size['vocabulary']:,} words" if size.get("vocabulary") else ""),
            "",
            f"Vault: {v['notes']:,} notes, ~{v['words']:,} words, {v['links']:,} links "
            f"({v['broken_links']} broken), {v['citations']:,} citations, {v['attachments']} "
            f"attachments, max in-degree {v['max_in_degree']}; seed {v['seed']}; measured "
            f"{size['measured_at']} by `{size.get('command', 'python bench/run.py')}` in {size['seconds']:.0f} s"
            + (" (**--quick: smoke test, not figures**)." if size.get("quick") else ".")
            + (f" Load average (1 min) at the start and end: {size['load_average'][0]:.1f} / {size['load_average'][1]:.1f} on {results['machine']['cpus']} cores." if size.get("load_average") else ""),
            "",
            "| Measurement | Target | Measured | Pass | Alternative (same vault, same run) | Ratio |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for key, label, unit, scale in ROWS:
            m = size["metrics"].get(key)
            target = TARGETS.get(key)
            value = m["value"] if m else None
            t_text = _fmt(target, unit, scale) if target is not None else ""
            if target is not None:
                t_text = "<= " + t_text
            ok = "" if target is None or value is None else ("pass" if value <= target else "**FAIL**")
            alt, ratio = _alternative(key, size)
            lines.append(f"| {label} | {t_text} | {_fmt(value, unit, scale)} | {ok} | {alt} | {ratio} |")
        alt = size.get("alternatives", {})
        if "obsidiantools" in alt:
            o = alt["obsidiantools"]
            lines += [
                "",
                f"obsidiantools: `Vault(path).connect()` {o['connect_s']:.1f} s in-process "
                f"({o['wall_s']:.1f} s wall with the import, {o['maxrss_mb']:.0f} MB peak RSS); "
                f"vaultindex `sync --full` builds the index and the graph in "
                f"{size['ratios'].get('full_sync_vs_obsidiantools_connect', float('nan')):.2f}x that time.",
            ]
        m = size["metrics"]
        if "watch_p95_s" in m:
            w = m["watch_p95_s"]
            lines += [
                "",
                f"Watch: {w.get('trials')} saves (plain and atomic, alternating), {w.get('failures', 0)} "
                f"not visible within 30 s. The latency runs from the save until a fresh `search` and a "
                f"fresh `backlinks` process have both printed the change, so it includes those "
                f"commands' own run time; the first query that saw the change had started "
                f"{w.get('query_start_p50_s', float('nan')):.2f} s (p50) / {w.get('query_start_p95_s', float('nan')):.2f} s (p95) "
                f"after the save. "
                f"watch's own log: {w.get('batches', 0)} batches, median {w.get('batch_apply_ms_median') or 0:.0f} ms "
                f"to apply one (max {w.get('batch_apply_ms_max') or 0:.0f} ms).",
            ]
        if size.get("skipped"):
            lines += ["", "Not measured: " + "; ".join(size["skipped"]) + "."]
        lines.append("")
    if len(sizes) >= 2:
        lines += scaling_lines(sizes)
    lines += ["![benchmark plot](results.png)", ""]
    path.write_text("\n".join(lines))


SCALING_KEYS = [
    ("full_sync_s", "`sync --full`"),
    ("edit100_sync_s", "`sync` after editing 100 notes"),
    ("noop_sync_s", "no-op `sync`"),
    ("cli_search_s", "`search` wall"),
    ("cli_backlinks_s", "`backlinks` wall"),
    ("index_mb", "index size"),
    ("sync_rss_mb", "peak RSS of `sync --full`"),
]


def scaling_lines(sizes: list[dict]) -> list[str]:
    """How each cost grows with N: the exponent k in cost ~ N^k between consecutive sizes."""
    import math

    head = " | ".join(f"{a['notes']:,} -> {b['notes']:,}" for a, b in zip(sizes, sizes[1:]))
    lines = [
        "## Growth with the number of notes",
        "",
        "Exponent k in cost ~ N^k between consecutive sizes (1 = linear; below 1 = sublinear).",
        "",
        f"| Cost | {head} |",
        "| --- |" + " --- |" * (len(sizes) - 1),
    ]
    for key, label in SCALING_KEYS:
        cells = []
        for a, b in zip(sizes, sizes[1:]):
            va = a["metrics"].get(key, {}).get("value")
            vb = b["metrics"].get(key, {}).get("value")
            if va and vb:
                k = math.log(vb / va) / math.log(b["notes"] / a["notes"])
                cells.append(f"{k:.2f}")
            else:
                cells.append("—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def write_plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted((s for s in results["sizes"].values() if not s.get("vocabulary")), key=lambda s: s["notes"])
    ops = [
        ("full_sync_s", "sync --full"),
        ("edit100_sync_s", "sync, 100 edited"),
        ("edit1_sync_s", "sync, 1 edited"),
        ("noop_sync_s", "no-op sync"),
        ("cli_search_s", "search (CLI)"),
        ("search_p50_s", "search p50 (in-process)"),
        ("cli_backlinks_s", "backlinks (CLI)"),
        ("watch_p95_s", "watch p95"),
        ("help_s", "--help"),
    ]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / max(1, len(sizes))
    for i, size in enumerate(sizes):
        vals = [size["metrics"].get(k, {}).get("value") or 0 for k, _ in ops]
        xs = [j + (i - (len(sizes) - 1) / 2) * width for j in range(len(ops))]
        ax1.bar(xs, vals, width, label=f"{size['notes']:,} notes")
    for key, target in TARGETS.items():
        if key in dict(ops):
            j = [k for k, _ in ops].index(key)
            ax1.plot([j - 0.45, j + 0.45], [target, target], color="black", lw=1.2)
    ax1.set_xticks(range(len(ops)), [label for _, label in ops], fontsize=8, rotation=30, ha="right")
    ax1.set_yscale("log")
    ax1.set_ylabel("seconds (log scale)")
    ax1.set_title("vaultindex (black lines: targets)")
    ax1.legend(fontsize=8)

    pairs = [
        ("index build", lambda s: s["metrics"].get("full_sync_s", {}).get("value"), lambda s: s["alternatives"].get("fts5", {}).get("build_s"), "SQLite FTS5"),
        ("query p50", lambda s: s["metrics"].get("search_p50_s", {}).get("value"), lambda s: s["alternatives"].get("fts5", {}).get("p50_s"), "SQLite FTS5"),
        ("CLI search", lambda s: s["metrics"].get("cli_search_s", {}).get("value"), lambda s: s["alternatives"].get("ripgrep", {}).get("median_same_as_cli_s"), "ripgrep"),
        ("link graph", lambda s: s["metrics"].get("cli_backlinks_s", {}).get("value"), lambda s: s["alternatives"].get("obsidiantools", {}).get("wall_s"), "obsidiantools"),
    ]
    labels, vi_vals, alt_vals = [], [], []
    for size in sizes:
        for name, fv, fa, alt in pairs:
            if not fa(size):  # not measured (skipped) at this size
                continue
            labels.append(f"{name} vs {alt}, {size['notes'] // 1000}k")
            vi_vals.append(fv(size) or 0)
            alt_vals.append(fa(size) or 0)
    xs = range(len(labels))
    ax2.bar([x - 0.2 for x in xs], vi_vals, 0.4, label="vaultindex", color="tab:blue")
    ax2.bar([x + 0.2 for x in xs], alt_vals, 0.4, label="alternative", color="tab:gray")
    ax2.set_xticks(list(xs), labels, fontsize=7, rotation=35, ha="right")
    ax2.set_yscale("log")
    ax2.set_ylabel("seconds (log scale)")
    ax2.set_title("vaultindex vs alternatives, same vault\n(link graph: `backlinks` CLI vs obsidiantools connect)", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine_info() -> dict:
    import sqlite3

    info = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["whoosh3"] = version("whoosh3")
        info["obsidiantools"] = version("obsidiantools")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark vaultindex against SQLite FTS5, ripgrep and obsidiantools.")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated note counts (default 1000,10000)")
    parser.add_argument("--quick", action="store_true", help="one repeat and few queries: a smoke test, not figures")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vocabulary", type=int, default=None, metavar="WORDS",
                        help="generate the vaults with a Zipf vocabulary of WORDS words (e.g. 200000), "
                        "reported apart from the default vaults")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each fresh-process measurement (default 3)")
    parser.add_argument("--watch-trials", type=int, default=20, help="saves timed while watch runs (default 20)")
    parser.add_argument("--otools-timeout", type=float, default=3600.0, help="seconds before obsidiantools is given up")
    parser.add_argument("--workdir", default=str(HERE / "vaults"), help="where vaults are generated (default bench/vaults)")
    parser.add_argument("--out", default=str(HERE / "results"), help="where results go (default bench/results)")
    parser.add_argument("--skip", default="", help="comma-separated steps to leave out: obsidiantools, ripgrep, fts5, watch")
    parser.add_argument("--keep", action="store_true", help="keep the generated vaults afterwards")
    parser.add_argument("--fresh", action="store_true", help="drop results of sizes not measured in this run")
    parser.add_argument("--report-only", action="store_true", help="rewrite results.md and results.png from results.json")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    # The indexes live in the user's cache folder: keep the bench's beside its vaults.
    ENV["XDG_CACHE_HOME"] = str(work.resolve() / ".cache")
    ENV.pop("VAULTINDEX_INDEX_DIR", None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"
    results = {"sizes": {}}
    if results_file.exists() and not args.fresh:
        with contextlib.suppress(ValueError):
            results = json.loads(results_file.read_text())
    if args.report_only:
        write_markdown(results, out / "results.md")
        write_plot(results, out / "results.png")
        log(f"rewrote {out / 'results.md'} and results.png from {results_file}")
        return 0
    results["machine"] = machine_info()
    results["targets"] = TARGETS
    for n in sizes:
        bench = Bench(n, args, work)
        size = bench.run_all()
        size["quick"] = args.quick
        results["sizes"][str(n) + (f"-v{args.vocabulary}" if args.vocabulary else "")] = size
        size["command"] = " ".join(["python bench/run.py", *(argv if argv is not None else sys.argv[1:])])
        results_file.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
        write_markdown(results, out / "results.md")
        if not args.keep:
            with contextlib.suppress(Exception):
                shutil.rmtree(index_folder(bench.vault), ignore_errors=True)
            shutil.rmtree(bench.vault, ignore_errors=True)
    try:
        write_plot(results, out / "results.png")
    except ImportError:
        log("matplotlib is not installed: no plot (pip install '.[bench]')")
    log(f"wrote {out / 'results.md'}, {results_file.name}, results.png")
    print((out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
