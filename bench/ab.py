"""A/B of two vaultindex checkouts on copies of one generated vault, interleaved run by run.

On a shared, busy machine the seconds of one run say little; the ratio of two checkouts
measured in turn, command by command, says more. Each side needs its index built first
(`vaultindex sync --full` with that checkout).

    python bench/ab.py --a /path/to/main --vault-a VAULT_COPY_1 --b . --vault-b VAULT_COPY_2 \
        --hub "papers/x/Hub.md" --median "papers/y/Some note.md" --repeats 5

Prints one line per command (median wall and CPU seconds of fresh processes, b/a ratios) and JSON at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

CPU: dict[str, list[float]] = {}  # "name/side" -> CPU seconds (user + system) of each run


def once(checkout: str, vault: str, args: list[str], cache: str | None, cpu_key: str = "") -> float:
    """Wall seconds of one fresh process; its CPU seconds go to CPU[cpu_key] (on a busy machine
    the CPU time is what the command costs, the wall time adds the wait for a core)."""
    env = {**os.environ, "PYTHONPATH": checkout, "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs: bytecode cached
    if cache:
        env["XDG_CACHE_HOME"] = cache
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        # From a neutral folder: `python -m` puts the current folder first on sys.path, so run
        # from a checkout it would import that checkout's vaultindex on both sides.
        proc = subprocess.Popen([sys.executable, "-m", "vaultindex", "--vault", vault, *args],
                                stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=tempfile.gettempdir())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{checkout}: vaultindex {' '.join(args)} failed: {err.read().decode()[-400:]}")
    if cpu_key:
        CPU.setdefault(cpu_key, []).append(usage.ru_utime + usage.ru_stime)
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="checkout A (put first on PYTHONPATH)")
    ap.add_argument("--vault-a", required=True)
    ap.add_argument("--b", required=True, help="checkout B")
    ap.add_argument("--vault-b", required=True)
    ap.add_argument("--cache", help="XDG_CACHE_HOME for both (where an out-of-vault index lives)")
    ap.add_argument("--cache-a", help="XDG_CACHE_HOME for A only (default --cache)")
    ap.add_argument("--cache-b", help="XDG_CACHE_HOME for B only (default --cache)")
    ap.add_argument("--hub", required=True, help="a note with many backlinks")
    ap.add_argument("--median", required=True, help="a note of median in-degree")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    sides = {"a": (args.a, args.vault_a), "b": (args.b, args.vault_b)}
    caches = {"a": args.cache_a or args.cache, "b": args.cache_b or args.cache}
    commands = {
        "noop_sync": ["sync"],
        "backlinks_hub": ["backlinks", "--json", args.hub],
        "backlinks_median": ["backlinks", "--json", args.median],
        "unresolved": ["unresolved", "--json"],
        "unresolved_listing": ["unresolved"],
        "tags": ["tags", "--json"],
        "tags_listing": ["tags"],
        "rank": ["rank"],
        "search": ["search", "data pruning"],
        "help": ["--help"],
    }
    results: dict[str, dict] = {}

    def record(name: str, walls: dict[str, list[float]]) -> None:
        row = {side: round(statistics.median(w), 3) for side, w in walls.items()}
        row["ratio_b_a"] = round(row["b"] / row["a"], 2)
        for side in walls:
            cpu = CPU.get(f"{name}/{side}")
            if cpu:
                row[f"{side}_cpu"] = round(statistics.median(cpu), 3)
        if row.get("a_cpu"):
            row["cpu_ratio_b_a"] = round(row["b_cpu"] / row["a_cpu"], 2)
        row["samples"] = {side: [round(x, 3) for x in w] for side, w in walls.items()}
        results[name] = row
        print(name, {k: v for k, v in row.items() if k != "samples"}, flush=True)

    for name, argv in commands.items():
        walls: dict[str, list[float]] = {"a": [], "b": []}
        for _ in range(args.repeats):
            for side, (checkout, vault) in sides.items():
                walls[side].append(once(checkout, vault, argv, caches[side], f"{name}/{side}"))
        record(name, walls)
    rng = random.Random(7)
    notes = sorted(
        os.path.relpath(os.path.join(folder, f), args.vault_a)
        for folder, dirs, files in os.walk(args.vault_a)
        if not any(part.startswith(".") for part in os.path.relpath(folder, args.vault_a).split(os.sep) if part != ".")
        for f in files
        if f.endswith(".md")
    )
    walls = {"a": [], "b": []}
    for i in range(args.repeats):
        rel = rng.choice(notes)
        for side, (checkout, vault) in sides.items():
            with open(os.path.join(vault, rel), "a", encoding="utf-8") as fh:
                fh.write(f"\nA new sentence with word{i}abq.\n")
            walls[side].append(once(checkout, vault, ["sync"], caches[side], f"edit1_sync/{side}"))
    record("edit1_sync", walls)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
