"""Owns the whole-graph questions asked of a LinkGraph: which notes are related to a note
(links, co-citation, bibliographic coupling, shared tags, text), a shortest chain of links
between two notes, and the vault's hubs by PageRank (`pagerank`, pure Python over any
networkx graph, which the exports use too). Functions of a built `graph.LinkGraph`
that read only its public state; `Vault.related`, `Vault.path` and `Vault.rank` call them."""

from __future__ import annotations

import heapq
import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # networkx is imported by graph.py and export/ only; a stored rank needs neither
    import networkx as nx

    from .graph import LinkGraph
    from .lock import WriterLock
    from .store import Store

log = logging.getLogger(__name__)

__all__ = ["Kept", "kept_communities", "kept_ranks", "link_path", "pagerank", "rank_notes", "related_notes"]


# -- the answers (models.py gives these names too) ---------------------------------------------

@dataclass(frozen=True, slots=True)
class Reason:
    """Why two notes are related, and what connects them (`via`):

    "link": "links to" and/or "linked from"; "co-citation": the notes that link to both;
    "coupling": the targets (notes, dangling targets, papers) both link to or cite;
    "tags": the shared tags; "text": nothing (Whoosh's more-like-this on the body).
    """

    kind: str
    score: float  # the raw strength of this reason (see graph.LinkGraph.related)
    via: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RelatedNote:
    path: str
    title: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class PathStep:
    """One note on a link path and how it was reached from the previous one."""

    path: str
    title: str
    direction: str = ""  # "->": the previous note links here; "<-": this note links back; "" first
    line: int = 0  # line of that link, in the note that holds it
    context: str = ""


@dataclass(frozen=True, slots=True)
class LinkPath:
    steps: tuple[PathStep, ...]
    directed: bool

    @property
    def length(self) -> int:
        return len(self.steps) - 1


@dataclass(frozen=True, slots=True)
class RankedNote:
    path: str
    title: str
    pagerank: float
    in_degree: int  # notes linking here
    out_degree: int  # notes linked from here


_WEIGHTS = {"link": 1.0, "co-citation": 1.0, "coupling": 1.0, "tags": 0.5, "text": 1.0}


def _note_targets(graph: LinkGraph, source: str) -> set[str]:
    return {n for n in graph.targets(source) if n in graph.notes and n not in graph.generated}

def related_notes(
    graph: LinkGraph, path: str, text_scores: Mapping[str, float] | None = None, limit: int = 10
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

    def members(p: str) -> bool:
        if p == path:
            return False
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


class Kept:
    """What the whole-graph questions keep per state of the index, in the current build's
    database: `rank`'s PageRank rows and the graph views' communities. Each is computed on the
    first ask after a write and read back by later asks (a fresh `rank`, the MCP server's), so
    the graph is built once per state, not per ask. Nothing waits for a writer: when the writer
    lock is busy, what was computed is not kept (and is computed again next time)."""

    def __init__(self, ask: Callable[[Callable[[Store], Any]], Any], index_dir: Path, lock: WriterLock, options: str):
        self.ask = ask  # Vault._ask: a read of the store (a damaged one is rebuilt once)
        self.index_dir = index_dir
        self.lock = lock
        self.options = options  # what else the answers depend on (resolve_aliases)

    def stamp(self) -> str:
        return self.ask(lambda s: s.rank_stamp(self.options))

    def keep(self, save: Callable[[Store], object]) -> None:
        """`save(store)` on the current build's database opened for writing, when the writer
        lock is (or can be taken) now."""
        from .errors import VaultIndexError
        from .indexfolder import DB_FILE, current_build
        from .store import Store

        held = self.lock.held
        try:
            if not held and not self.lock.acquire("rank", 0.0):
                return
        except OSError:
            return
        try:
            store = Store(self.index_dir / f"b{current_build(self.index_dir)}" / DB_FILE, writable=True)
            try:
                save(store)
            finally:
                store.close()
        except (OSError, VaultIndexError) as exc:
            log.debug("not kept: %s", exc)
        finally:
            if not held:
                self.lock.release()


def kept_ranks(kept: Kept, graph: Callable[[], LinkGraph], limit: int = 20, by: str = "pagerank") -> list[RankedNote]:
    """rank_notes, read from the store when it was kept for this state of the index."""
    rows = kept.ask(lambda s: s.stored_ranks(kept.options))
    if rows is None:
        stamp = kept.stamp()
        built = graph()
        rows = [(r.path, r.title, r.pagerank, r.in_degree, r.out_degree) for r in rank_notes(built, len(built.notes) + 1)]
        kept.keep(lambda store: store.save_ranks(rows, stamp, kept.options))
    return _ranked([RankedNote(*row) for row in rows], limit, by)


def kept_communities(kept: Kept, view: nx.DiGraph, key: str, communities: Callable[[nx.DiGraph], list[list[str]]]) -> list[list[str]]:
    """The communities of a graph view (`communities(view)`: export.communities, Louvain), read
    from the store when they were kept for this view (`key`: its filters) in this state of the index."""
    stamp = kept.stamp()
    groups = kept.ask(lambda s: s.stored_communities(key, stamp))
    if groups is None or {n for g in groups for n in g} != set(view):
        groups = communities(view)
        kept.keep(lambda store: store.save_communities(key, stamp, groups, kept.options))
    return groups


def _ranked(ranked: list[RankedNote], limit: int, by: str) -> list[RankedNote]:
    if by == "in":
        ranked.sort(key=lambda r: (-r.in_degree, -r.pagerank, r.path))
    else:
        ranked.sort(key=lambda r: (-r.pagerank, -r.in_degree, r.path))
    return ranked[:limit]


def rank_notes(graph: LinkGraph, limit: int = 20, by: str = "pagerank") -> list[RankedNote]:
    """Notes by PageRank over note-to-note links (or by in-degree): the vault's hubs."""
    g = graph.note_graph()
    scores = pagerank(g)
    ranked = [
        RankedNote(p, graph.notes[p].title, round(scores[p], 6), g.in_degree(p), g.out_degree(p))
        for p in g
    ]
    return _ranked(ranked, limit, by)


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
