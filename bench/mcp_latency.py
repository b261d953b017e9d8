"""Tool-call latency of a long-running `vaultindex mcp` server, measured by the SDK's own client.

    python bench/mcp_latency.py --notes 10000            # generates bench/vaults/mcp-10000
    python bench/mcp_latency.py --vault ~/notes --calls 100

Starts the server as an MCP client would (a subprocess over stdio), waits for it to be ready,
warms each tool up, then times `--calls` calls of each tool (client-side, wall clock: JSON-RPC,
validation, the library call and the answer). Also times how long an editor's save takes to
show in the next search. Target (issue 16): p50 <= 50 ms for search and backlinks at 10k notes.
Prints a table on stderr and a JSON summary on stdout (or into --out).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
QUERIES = [
    "data pruning", "attention transformer", "gradient descent", "distillation", "scaling laws", "contrastive",
    "robustness benchmark", "sparse attention", "tag:ml fine-tuning", "year:>2020 pretraining",
    '"knowledge distillation"', "optimiz*", "convergence -adversarial", "generalisation",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "calls": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1),
    }


def make_vault(notes: int, seed: int) -> Path:
    folder = HERE / "vaults" / f"mcp-{notes}"  # git-ignored
    if not (folder / "papers").is_dir():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--notes", str(notes), "--seed", str(seed), str(folder)], check=True)
    return folder


async def measure(vault: Path, calls: int, edits: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "vaultindex", "--vault", str(vault), "mcp"], env=env)
    started = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        ready = time.perf_counter() - started
        info = (await session.call_tool("info", {})).structured_content["result"]
        ranked = (await session.call_tool("rank", {"limit": 200})).structured_content["result"]
        hubs = [r["path"] for r in ranked]
        rng = random.Random(1)
        picks = [hubs[i % len(hubs)] for i in range(calls)]
        rng.shuffle(picks)
        plans = {
            # Each (query, limit) asked once: computed. Answers are kept per commit, so the same
            # 14 queries asked again ("search (asked again)") are answered from what was kept.
            "search": [{"query": QUERIES[i % len(QUERIES)], "limit": 10 + i // len(QUERIES)} for i in range(calls)],
            "search (asked again)": [{"query": QUERIES[i % len(QUERIES)]} for i in range(calls)],
            "backlinks": [{"note": p} for p in picks],
            "links": [{"note": p} for p in picks],
            "read_note": [{"note": p} for p in picks],
            "related": [{"note": p, "limit": 10} for p in picks],
            "mentions": [{"note": p} for p in picks[: max(5, calls // 5)]],
            "neighbourhood": [{"note": p, "depth": 1} for p in picks[: max(5, calls // 5)]],
            "path": [{"source": picks[i], "target": picks[-1 - i]} for i in range(calls)],
            "rank": [{"limit": 10 + i} for i in range(calls)],  # each one computed (answers are kept per commit)
            "tags": [{}] * max(5, calls // 5),
            "info": [{}] * calls,
        }
        results = {}
        for tool, plan in plans.items():
            name = tool.split(" (")[0]
            for args in plan[:3] if name == tool else ():  # warm-up: first imports, caches, searchers
                await session.call_tool(name, {**args, "limit": 9} if tool == "search" else args)
            times = []
            errors = 0
            for args in plan:
                t = time.perf_counter()
                answer = await session.call_tool(name, args)
                times.append((time.perf_counter() - t) * 1000)
                errors += bool(answer.is_error)
            results[tool] = {**summary(times), "errors": errors}
            print(f"{tool:>20}: p50 {results[tool]['p50_ms']:7.1f} ms  p95 {results[tool]['p95_ms']:7.1f} ms  "
                  f"max {results[tool]['max_ms']:7.1f} ms  ({len(times)} calls, {errors} errors)", file=sys.stderr)

        # Freshness: an editor's atomic save, then search until the new word is found.
        visible = []
        for i in range(edits):
            note = vault / hubs[(i * 7) % len(hubs)]
            word = f"zqxbench{i}{int(time.time())}"
            tmp = note.with_name(f".{note.name}.tmp")
            tmp.write_text(note.read_text(encoding="utf-8") + f"\n{word} appended by the benchmark.\n", encoding="utf-8")
            os.replace(tmp, note)
            saved = time.perf_counter()
            while True:
                answer = await session.call_tool("search", {"query": word})
                if answer.structured_content and answer.structured_content["result"]:
                    break
                if time.perf_counter() - saved > 10:
                    break
                await anyio.sleep(0.02)
            visible.append((time.perf_counter() - saved) * 1000)
        fresh = summary(visible) if visible else {}
        if visible:
            print(f"{'save -> search':>20}: p50 {fresh['p50_ms']:7.1f} ms  p95 {fresh['p95_ms']:7.1f} ms  ({edits} edits)", file=sys.stderr)
    return {
        "vault": str(vault),
        "notes": info["notes"],
        "server_ready_s": round(ready, 2),
        "tools": results,
        "save_to_search_ms": fresh,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vault", help="an existing vault (default: one generated under bench/vaults/)")
    parser.add_argument("--notes", type=int, default=10_000, help="notes of the generated vault (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=50, help="timed calls per tool (default 50)")
    parser.add_argument("--edits", type=int, default=10, help="timed saves for the freshness figure (default 10)")
    parser.add_argument("--out", help="also write the JSON summary to this file")
    args = parser.parse_args(argv)
    vault = Path(args.vault).expanduser() if args.vault else make_vault(args.notes, args.seed)
    if not args.vault:
        # The first build is `vaultindex sync`'s job (and its benchmark's), not the server's.
        subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(vault), "sync"], check=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    data = anyio.run(measure, vault, args.calls, args.edits)
    text = json.dumps(data, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
