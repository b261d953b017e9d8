"""CPU per MCP tool call in process: what a long-running `vaultindex mcp` spends on an answer
it has not kept (asked the first time), without the JSON-RPC around it.

    XDG_CACHE_HOME=/tmp/c python bench/mcp_cpu.py VAULT            # an indexed vault
    PYTHONPATH=/tmp/main-clone python bench/mcp_cpu.py VAULT       # the same on another checkout

One `Vault` stays open as in the server; each tool is warmed up on three other arguments, then
each call is timed in CPU seconds (`time.process_time`, so that the other processes on the
machine count less than in wall time). "first" calls each get a new argument (a query or a note
not asked before); "again" asks the first ones once more in the same Vault (the library's own
caches: the searcher, Whoosh's term cache, the page cache; the server would answer those from
what it kept). Each answer is also turned into the server's structured content (to_json,
json_safe). Prints a table on stderr and JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Two-word queries over the generator's frequent words, then the latency bench's own.
WORDS = """model training data learning network loss performance results method dataset accuracy layer
parameters task baseline approach representation features scale experiments evaluation benchmark
error generalization optimization gradient inference architecture distribution samples objective
prediction transformer attention embedding regularization validation pretraining supervised labels
classifier linear neural compute budget scaling examples batch weights convergence stochastic
descent robustness metric variance bias ablation encoder decoder tokens sequence context memory
capacity efficiency sparse dense pruning distillation transfer adaptation""".split()
EXTRA = [
    "data pruning", "attention transformer", "gradient descent", "distillation", "scaling laws", "contrastive",
    "robustness benchmark", "sparse attention", "tag:ml fine-tuning", "year:>2020 pretraining",
    '"knowledge distillation"', "optimiz*", "convergence -adversarial", "generalisation",
]


def queries(n: int) -> list[str]:
    out = list(EXTRA)
    i = 0
    while len(out) < n + 3:
        out.append(f"{WORDS[i % len(WORDS)]} {WORDS[(7 * i + 3) % len(WORDS)]}")
        i += 1
    return out


def tools() -> dict[str, Callable[..., Any]]:
    try:  # after the split of mcp.py
        from vaultindex import mcptools as m
    except ImportError:
        from vaultindex import mcp as m  # type: ignore[no-redef]
    return {
        "search": lambda v, q: m.do_search(v, q, 10),
        "backlinks": lambda v, n: m.do_backlinks(v, n),
        "related": lambda v, n: m.do_related(v, n, 10),
        "mentions": lambda v, n: m.do_mentions(v, n),
        "read_note": lambda v, n: m.do_read_note(v, n, None, 50_000),
        "rank": lambda v, k: m.do_rank(v, k, "pagerank"),
    }


def timed(fn: Callable[[], Any]) -> float:
    from vaultindex.models import to_json
    from vaultindex.text import json_safe

    start = time.process_time()
    data, _text = fn()
    json_safe(to_json(data))
    return (time.process_time() - start) * 1000


def measure(vault_path: str, calls: int, only: set[str] | None) -> dict[str, Any]:
    from vaultindex import Vault

    vault = Vault.open(vault_path)
    ranked = [r.path for r in vault.rank(limit=max(200, 3 * calls))]
    notes = ranked[:3] + ranked[3 : 3 + calls]  # hubs first (the latency bench picks hubs too)
    args = {"search": queries(calls), "rank": [5 + i for i in range(calls + 3)]}
    out: dict[str, Any] = {"vault": vault_path, "notes": vault.info().notes, "calls": calls, "tools": {}}
    for name, fn in tools().items():
        if only and name not in only:
            continue
        plan = args.get(name, notes)
        count = calls if name not in ("mentions", "related") else max(5, calls // 3)
        for a in plan[:3]:
            fn(vault, a)  # warm-up: imports, searcher, the graph
        first = [timed(lambda a=a, fn=fn: fn(vault, a)) for a in plan[3 : 3 + count]]
        again = [timed(lambda a=a, fn=fn: fn(vault, a)) for a in plan[3 : 3 + count]]
        row = {
            "first_p50_ms": round(statistics.median(first), 1),
            "first_max_ms": round(max(first), 1),
            "again_p50_ms": round(statistics.median(again), 1),
            "calls": len(first),
        }
        out["tools"][name] = row
        print(f"{name:>10}: first p50 {row['first_p50_ms']:7.1f} ms (max {row['first_max_ms']:7.1f})  "
              f"again p50 {row['again_p50_ms']:7.1f} ms  ({len(first)} calls, CPU)", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vault")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--only", help="comma-separated tools (default: all)")
    args = parser.parse_args(argv)
    data = measure(args.vault, args.calls, set(args.only.split(",")) if args.only else None)
    print(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
