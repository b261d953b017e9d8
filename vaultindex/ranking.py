"""Owns the whole-graph questions asked of a LinkGraph: which notes are related to a note
(links, co-citation, bibliographic coupling, shared tags, text), a shortest chain of links
between two notes, and the vault's hubs by PageRank (`pagerank`, pure Python over any
networkx graph, which the exports use too). Functions of a built `graph.LinkGraph`
that read only its public state; `Vault.related`, `Vault.path` and `Vault.rank` call them."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .graph import LinkGraph
from .models import LinkPath, PathStep, RankedNote, Reason, RelatedNote

if TYPE_CHECKING:  # networkx is imported by graph.py and export/ only
    import networkx as nx

__all__ = ["link_path", "pagerank", "rank_notes", "related_notes"]

_WEIGHTS = {"link": 1.0, "co-citation": 1.0, "coupling": 1.0, "tags": 0.5, "text": 1.0}


def _note_targets(graph: LinkGraph, source: str) -> set[str]:
    return {n for n in graph.targets(source) if n in graph.notes and n not in graph.generated}

def related_notes(
    graph: LinkGraph, path: str, text_scores: Mapping[str, float] | None = None, limit: int = 10,
    hidden: tuple[str, ...] = (),
) -> list[RelatedNote]:
    """Notes related to `path`, best first, from links, co-citation, bibliographic coupling,
    shared tags and (given `text_scores`, path -> similarity) text similarity.

    Raw strengths: a direct link counts 1 per direction; each note C that links to both
    counts 1/log2(n) where n is the number of notes C links to (a two-link note counts 1, a
    long list little); each target both link to counts 1/log2(m), m being how many notes
    link to it; each shared tag counts 1/log2(k+1), k being how many notes carry it. Each
    kind is scaled by its best value among the candidates, then weighted and summed.
    """
    # A bib-only paper (`ref:<key>`) has related notes and papers too: those citing it and
    # those cited beside it (co-citation counts the bibliography's papers then).
    is_ref = graph.reference(path) is not None
    if path not in graph.notes and not is_ref:
        return []

    left_out = tuple(folder.strip("/") + "/" for folder in hidden if folder.strip("/"))

    def members(p: str) -> bool:
        if p == path or (left_out and p.startswith(left_out)):
            return False  # the note itself, and the templates folder's notes (not papers)
        if p in graph.notes:
            return p not in graph.generated
        return is_ref and graph.reference(p) is not None

    raw: dict[str, dict[str, float]] = {}
    via: dict[str, dict[str, list[str]]] = {}

    def add(kind: str, other: str, amount: float, why: str | None) -> None:
        raw.setdefault(other, {}).setdefault(kind, 0.0)
        raw[other][kind] += amount
        if why is not None:
            via.setdefault(other, {}).setdefault(kind, []).append(why)

    out_nodes = graph.targets(path)
    in_notes = graph.sources(path) - {path}
    for other in out_nodes:
        if members(other):
            add("link", other, 1.0, "links to")
    for other in in_notes:
        if members(other):
            add("link", other, 1.0, "linked from")
    for citer in in_notes:
        together = _note_targets(graph, citer)
        if is_ref:
            together |= {n for n in graph.targets(citer) if graph.reference(n) is not None}
        if len(together) < 2:
            continue
        weight = 1.0 / math.log2(len(together))
        for other in together:
            if members(other):
                add("co-citation", other, weight, citer)
    for target in out_nodes:
        if target in graph.generated:
            continue
        sharing = graph.sources(target) - {path}
        if not sharing:
            continue
        weight = 1.0 / math.log2(len(sharing) + 1)
        for other in sharing:
            if members(other):
                add("coupling", other, weight, target)
    mine = set(graph.notes[path].tags) if path in graph.notes else set()
    if mine:
        counts: Counter[str] = Counter()
        for p, note in graph.notes.items():
            if p not in graph.generated:
                counts.update(t for t in note.tags if t in mine)
        for p, note in graph.notes.items():
            if members(p):
                for tag in mine.intersection(note.tags):
                    add("tags", p, 1.0 / math.log2(counts[tag] + 1), tag)
    for other, score in (text_scores or {}).items():
        if members(other) and score > 0:
            add("text", other, float(score), None)

    best = {kind: max((r.get(kind, 0.0) for r in raw.values()), default=0.0) for kind in _WEIGHTS}
    totals = {
        other: round(sum(_WEIGHTS[k] * v / best[k] for k, v in kinds.items() if best[k] > 0), 4)
        for other, kinds in raw.items()
    }
    top = heapq.nsmallest(limit, totals, key=lambda other: (-totals[other], other))
    ranked = []
    for other in top:
        kinds = raw[other]
        reasons = tuple(
            Reason(k, round(kinds[k], 4), tuple(sorted(set(via.get(other, {}).get(k, ())))))
            for k in _WEIGHTS
            if k in kinds
        )
        ranked.append(RelatedNote(other, graph.title(other), totals[other], reasons))
    return ranked


def link_path(graph: LinkGraph, a: str, b: str, directed: bool = False) -> LinkPath | None:
    """A shortest chain of links between two notes (any direction unless `directed`)."""
    nodes = graph.shortest_path(a, b, directed)
    if nodes is None:
        return None
    g = graph.note_graph()
    steps = [PathStep(a, graph.notes[a].title)]
    for prev, here in zip(nodes, nodes[1:]):
        if g.has_edge(prev, here):
            line, context = _first_link(graph, prev, here)
            steps.append(PathStep(here, graph.notes[here].title, "->", line, context))
        else:
            line, context = _first_link(graph, here, prev)
            steps.append(PathStep(here, graph.notes[here].title, "<-", line, context))
    return LinkPath(tuple(steps), directed)


def _first_link(graph: LinkGraph, source: str, target: str) -> tuple[int, str]:
    found = [(item.line, item.context) for _, node, _, _, item in graph.edges_of(source) if node == target]
    return min(found) if found else (0, "")


def rank_notes(graph: LinkGraph, limit: int = 20, by: str = "pagerank") -> list[RankedNote]:
    """Notes by PageRank over note-to-note links (or by in-degree): the vault's hubs."""
    g = graph.note_graph()
    scores = pagerank(g)
    ranked = [
        RankedNote(p, graph.notes[p].title, round(scores[p], 6), g.in_degree(p), g.out_degree(p))
        for p in g
    ]
    if by == "in":
        ranked.sort(key=lambda r: (-r.in_degree, -r.pagerank, r.path))
    else:
        ranked.sort(key=lambda r: (-r.pagerank, -r.in_degree, r.path))
    return ranked[:limit]


def pagerank(graph: nx.DiGraph, alpha: float = 0.85, weight: str | None = None, tol: float = 1.0e-8, max_iter: int = 200) -> dict[str, float]:
    """PageRank by power iteration, as networkx defines it (dangling nodes spread uniformly).

    networkx's own `pagerank` needs SciPy, which vaultindex does not depend on; this pure-Python
    version takes about 0.1 s for 5,000 nodes and 20,000 edges. `weight` names an edge
    attribute (the export weighs by link `count`); None counts every edge once.
    """
    nodes = list(graph)
    n = len(nodes)
    if n == 0:
        return {}
    index = {node: i for i, node in enumerate(nodes)}
    out_weight = [0.0] * n
    edges: list[tuple[int, int, float]] = []
    for u, v, data in graph.edges(data=True):
        w = float(data.get(weight, 1.0)) if weight else 1.0
        if w <= 0:
            continue
        edges.append((index[u], index[v], w))
        out_weight[index[u]] += w
    norm = [(s, t, w / out_weight[s]) for s, t, w in edges]
    dangling = [i for i in range(n) if out_weight[i] == 0.0]
    x = [1.0 / n] * n
    for _ in range(max_iter):
        last = x
        x = [0.0] * n
        for s, t, w in norm:
            x[t] += alpha * last[s] * w
        spread = (alpha * sum(last[i] for i in dangling) + (1.0 - alpha)) / n
        x = [v + spread for v in x]
        total = sum(x)
        x = [v / total for v in x]
        if sum(abs(a - b) for a, b in zip(x, last)) < n * tol:
            break
    return {node: x[i] for i, node in enumerate(nodes)}
