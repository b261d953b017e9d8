"""Measurements that run inside one Python process, started by bench/run.py as a fresh child.

    python bench/probes.py search VAULT QUERIES_JSON REPEATS    vaultindex's Vault.search in-process
    python bench/probes.py fts5 VAULT DB QUERIES_JSON REPEATS   SQLite FTS5: build, then bm25 queries
    python bench/probes.py otools VAULT NOTE_NAME               obsidiantools: Vault(path).connect()

Each prints one JSON object on stdout. Times are seconds from time.perf_counter().
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

SKIP_DIRS = {".obsidian", ".trash", ".git", ".vaultindex"}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; values need not be sorted."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def search_probe(vault_path: str, queries: list[str], repeats: int) -> dict:
    t0 = time.perf_counter()
    from vaultindex import Vault

    t1 = time.perf_counter()
    vault = Vault.open(vault_path)
    first = time.perf_counter()
    vault.search(queries[0], limit=10)
    first = time.perf_counter() - first
    per_query: dict[str, list[float]] = {q: [] for q in queries}
    hits: dict[str, int] = {}
    for _ in range(repeats):
        for q in queries:
            start = time.perf_counter()
            result = vault.search(q, limit=10)
            per_query[q].append(time.perf_counter() - start)
            hits[q] = len(result.hits)
    every = [t for ts in per_query.values() for t in ts]
    return {
        "import_s": t1 - t0,
        "first_search_s": first,
        "p50_s": percentile(every, 50),
        "p95_s": percentile(every, 95),
        "per_query_median_s": {q: percentile(ts, 50) for q, ts in per_query.items()},
        "hits": hits,
        "samples": len(every),
    }


_TITLE = re.compile(r"^title:\s*(.+)$", re.M)
_ALIASES = re.compile(r"^aliases:\s*(.+)$", re.M)
_TAGS = re.compile(r"^tags:\s*(.+)$", re.M)


def _split_note(text: str) -> tuple[str, str, str, str]:
    """(title, aliases, tags, body) with a cheap frontmatter split (no YAML parser)."""
    front, body = "", text
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            front, body = text[4:end], text[end + 4 :]
    title = _TITLE.search(front)
    aliases = _ALIASES.search(front)
    tags = _TAGS.search(front)
    return (
        title.group(1).strip().strip('"') if title else "",
        aliases.group(1) if aliases else "",
        tags.group(1).replace("/", " ") if tags else "",
        body,
    )


def _notes(root: Path):
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".md"):
                full = Path(folder) / name
                yield full.relative_to(root).as_posix(), full


def fts5_probe(vault_path: str, db_path: str, queries: list[str], repeats: int) -> dict:
    import sqlite3

    root = Path(vault_path)
    if os.path.exists(db_path):
        os.unlink(db_path)
    start = time.perf_counter()
    db = sqlite3.connect(db_path)
    db.execute(
        "CREATE VIRTUAL TABLE notes USING fts5(path UNINDEXED, title, aliases, tags, body, "
        "tokenize='porter unicode61')"
    )
    rows = []
    for rel, full in _notes(root):
        title, aliases, tags, body = _split_note(full.read_text(encoding="utf-8"))
        rows.append((rel, title or full.stem, aliases, tags, body))
    with db:
        db.executemany("INSERT INTO notes VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("INSERT INTO notes(notes) VALUES ('optimize')")
    db.commit()
    build = time.perf_counter() - start
    db.close()
    size = os.path.getsize(db_path)

    # Queries in a new connection, as a query process would do; ranked by bm25 with field weights
    # like vaultindex's (title first), with a snippet, 10 rows.
    db = sqlite3.connect(db_path)
    sql = (
        "SELECT path, snippet(notes, 4, '[', ']', '…', 16) FROM notes WHERE notes MATCH ? "
        "ORDER BY bm25(notes, 0.0, 6.0, 5.0, 2.0, 1.0) LIMIT 10"
    )
    per_query: dict[str, list[float]] = {q: [] for q in queries}
    hits: dict[str, int] = {}
    db.execute(sql, (queries[0],)).fetchall()  # warm up
    for _ in range(repeats):
        for q in queries:
            t = time.perf_counter()
            rows_ = db.execute(sql, (q,)).fetchall()
            per_query[q].append(time.perf_counter() - t)
            hits[q] = len(rows_)
    every = [t for ts in per_query.values() for t in ts]
    return {
        "build_s": build,
        "notes": len(rows),
        "index_bytes": size,
        "p50_s": percentile(every, 50),
        "p95_s": percentile(every, 95),
        "per_query_median_s": {q: percentile(ts, 50) for q, ts in per_query.items()},
        "hits": hits,
    }


def otools_probe(vault_path: str, note_name: str) -> dict:
    t0 = time.perf_counter()
    import obsidiantools.api as otools

    t1 = time.perf_counter()
    vault = otools.Vault(Path(vault_path)).connect()
    t2 = time.perf_counter()
    backlinks = vault.get_backlinks(note_name)
    t3 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "connect_s": t2 - t1,
        "backlinks_s": t3 - t2,
        "backlinks": len(backlinks),
        "nodes": vault.graph.number_of_nodes(),
        "edges": vault.graph.number_of_edges(),
    }


def graph_edit_probe(vault_path: str, edits: int) -> dict:
    """One note's edit applied to the link graph, in-process, Whoosh commit excluded: each
    edit re-parses a note with one more link (to a name that exists) and one dangling link."""
    import random

    from vaultindex import Vault
    from vaultindex.parse import decode, parse_note

    vault = Vault.open(vault_path)
    vault.refresh()
    graph = vault.graph
    paths = sorted(p for p in vault.catalog.stamps if p.startswith("papers/"))
    rng = random.Random(7)
    times = []
    for i in range(edits):
        path, other = rng.sample(paths, 2)
        text = decode(path, (Path(vault_path) / path).read_bytes())[0]
        name = other.rsplit("/", 1)[-1][:-3]
        note = parse_note(path, f"{text}\nSee [[{name}]] and [[Missing paper {i}]].\n")
        started = time.perf_counter()
        graph.update([note], (), None, None)
        times.append(time.perf_counter() - started)
    return {"p50_s": percentile(times, 50), "p95_s": percentile(times, 95), "edits": edits}


def main(argv: list[str]) -> int:
    kind, *args = argv
    if kind == "search":
        out = search_probe(args[0], json.loads(Path(args[1]).read_text()), int(args[2]))
    elif kind == "fts5":
        out = fts5_probe(args[0], args[1], json.loads(Path(args[2]).read_text()), int(args[3]))
    elif kind == "otools":
        out = otools_probe(args[0], args[1])
    elif kind == "graph_edit":
        out = graph_edit_probe(args[0], int(args[1]))
    else:
        print(f"unknown probe {kind!r}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
