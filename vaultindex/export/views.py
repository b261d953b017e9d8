"""Graph views: the vault's link graph filtered (`GraphFilters`, `filter_graph`), with tags as
nodes when asked, and annotated (degree, PageRank, Louvain communities). Pure functions of
networkx graphs; `graph_view` takes the data `Vault.graph_view` gathers (`GraphSource`)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import networkx as nx

from ..errors import VaultIndexError
from ..palette import community_names
from ..ranking import pagerank
from ..text import fold_typed

FORMATS = ("html", "json", "graphml", "gexf", "dot", "mermaid", "svg")
EDGE_KINDS = ("link", "embed", "cite")
NODE_KINDS = ("note", "attachment", "excluded", "unresolved", "paper", "reference", "tag")
# Kinds of nodes that are not files: they exist only as the target of a link or a citation.
TARGET_ONLY_KINDS = frozenset({"unresolved", "paper", "reference"})
TAG_PREFIX = "tag:"
MERMAID_MAX_NODES = 100
COMMUNITY_SEED = 42
LIST_SEPARATORS = {"tags": " ", "authors": "; "}  # how lists are written in graphml / gexf / dot
# Files Obsidian opens as attachments (help.obsidian.md, "Accepted file formats"), plus its own
# canvas and base files: a dangling `![[Pasted image.png]]` is a missing attachment, not a note.
ATTACHMENT_EXTENSIONS = frozenset(
    "avif bmp gif jpeg jpg png svg webp flac m4a mp3 ogg wav webm 3gp mkv mov mp4 ogv pdf canvas base".split()
)


class GraphFilterError(VaultIndexError, ValueError):
    """A graph filter with a bad value (unknown edge kind, negative depth, ...)."""


# ------------------------------------------------------------------------------------------------
# filters
# ------------------------------------------------------------------------------------------------


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    out: list[str] = []
    for item in value:
        out.extend(part for part in re.split(r"[,\s]+", str(item)) if part)
    return tuple(out)


@dataclass(frozen=True)
class GraphFilters:
    """What to keep of the vault's graph. Every field is optional; the default is the whole vault.

    around/depth: only notes within `depth` links (either direction) of this note.
    tags: only nodes carrying one of these tags (nested tags match: "ml" keeps "ml/vision").
    paths: only nodes whose path starts with one of these prefixes ("papers/", "topics/Sca").
    kinds: the edge kinds to keep; targets reached only through dropped edges go too.
    attachments: keep attachments (images, PDFs, ...) and dangling links to them; like
      Obsidian's graph, the default shows notes only.
    excluded: keep files matched by the exclude rules (Obsidian hides them from its graph).
    unresolved=False: only files (no unresolved link targets, no cited papers without a note).
    references=False: leave out the papers of the bibliography that have no note.
    orphans=False: drop nodes left without any edge.
    tags_as_nodes: add one node per tag, linked from its notes (and from a nested tag to its parent).
    """

    around: str | None = None
    depth: int = 1
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    kinds: tuple[str, ...] = EDGE_KINDS
    attachments: bool = False
    excluded: bool = False
    unresolved: bool = True
    references: bool = True
    orphans: bool = True
    tags_as_nodes: bool = False

    def __post_init__(self) -> None:
        tags = tuple(fold_typed(t.lstrip("#")) for t in _as_tuple(self.tags))
        object.__setattr__(self, "tags", tuple(t.strip("/") for t in tags if t.strip("/")))
        paths = self.paths if not isinstance(self.paths, str) else (self.paths,)
        object.__setattr__(self, "paths", tuple(_norm_prefix(p) for p in paths if _norm_prefix(p)))
        kinds = tuple(k.lower() for k in _as_tuple(self.kinds))
        bad = [k for k in kinds if k not in EDGE_KINDS]
        if bad:
            raise GraphFilterError(f"unknown edge kind {bad[0]!r}: use {', '.join(EDGE_KINDS)}")
        object.__setattr__(self, "kinds", tuple(k for k in EDGE_KINDS if k in kinds))
        try:
            depth = int(self.depth)
        except (TypeError, ValueError):
            raise GraphFilterError(f"depth must be a whole number, not {self.depth!r}") from None
        if depth < 0:
            raise GraphFilterError("depth must be 0 or more")
        object.__setattr__(self, "depth", depth)
        if self.around is not None and not str(self.around).strip():
            object.__setattr__(self, "around", None)

    @classmethod
    def of(cls, value: GraphFilters | Mapping[str, Any] | None) -> GraphFilters:
        """Filters from a GraphFilters, a dict (CLI-style keys accepted: tag, path, no_orphans...) or None."""
        if value is None:
            return cls()
        if isinstance(value, GraphFilters):
            return value
        if not isinstance(value, Mapping):
            raise GraphFilterError(f"graph filters must be a GraphFilters or a dict, not {type(value).__name__}")
        aliases = {"tag": "tags", "path": "paths", "prefix": "paths", "kind": "kinds"}
        negations = {"no_unresolved": "unresolved", "no_orphans": "orphans", "no_references": "references"}
        known = {f.name for f in fields(cls)}
        args: dict[str, Any] = {}
        for key, val in value.items():
            key = key.replace("-", "_")
            if key in negations:
                args[negations[key]] = not val
            elif aliases.get(key, key) in known:
                args[aliases.get(key, key)] = val
            else:
                raise GraphFilterError(f"unknown graph filter {key!r}: use {', '.join(sorted(known))}")
        return cls(**args)

    def describe(self) -> str:
        """A short human summary, shown in the HTML page's header."""
        parts = []
        if self.around:
            parts.append(f"around {self.around} (depth {self.depth})")
        if self.tags:
            parts.append("tag " + " or ".join("#" + t for t in self.tags))
        if self.paths:
            parts.append("path " + " or ".join(self.paths))
        if self.kinds != EDGE_KINDS:
            parts.append("edges: " + ", ".join(self.kinds))
        if self.attachments:
            parts.append("with attachments")
        if self.excluded:
            parts.append("with excluded files")
        if not self.unresolved:
            parts.append("files only")
        elif not self.references:
            parts.append("no bibliography papers")
        if not self.orphans:
            parts.append("no orphans")
        if self.tags_as_nodes:
            parts.append("tags as nodes")
        return "; ".join(parts)


def _norm_prefix(prefix: str) -> str:
    prefix = unicodedata.normalize("NFC", str(prefix)).strip().replace("\\", "/")
    while prefix.startswith("./"):
        prefix = prefix[2:]
    return prefix.lstrip("/")


def _tag_matches(node_tags: Iterable[str], wanted: tuple[str, ...]) -> bool:
    for tag in node_tags:
        t = fold_typed(str(tag)).lstrip("#")
        for w in wanted:
            if t == w or t.startswith(w + "/"):
                return True
    return False


# ------------------------------------------------------------------------------------------------
# the vault's graph -> a filtered, annotated DiGraph
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphSource:
    """What a graph view is made from, gathered by `Vault.graph_view`: the vault's link graph
    (`LinkGraph.to_networkx()`), the vault's root and how the HTML page opens a note, and how a
    note's name, title or alias becomes its path (for `--around NOTE`)."""

    graph: nx.Graph
    root: Path
    open_with: str = "obsidian"
    find_path: Callable[[str], str] | None = None  # raises NoteNotFound / AmbiguousNote
    # (view, key) -> its communities, kept per state of the index (ranking.kept_communities);
    # None: computed for each view
    communities: Callable[[nx.DiGraph, str], list[list[str]]] | None = None


def graph_view(source: GraphSource, filters: GraphFilters | Mapping[str, Any] | None = None) -> nx.DiGraph:
    """The vault's link graph filtered and annotated (see `GraphFilters` and `annotate`)."""
    flt = GraphFilters.of(filters)
    around = None
    if flt.around:
        # A node id (a path, or any id of the graph) as is; otherwise a note's name, title or
        # alias, or @key: the cited paper (its note or its bibliography entry).
        around = flt.around if flt.around in source.graph or source.find_path is None else source.find_path(flt.around)
    kept = source.communities
    key = repr((flt, around))  # the view is a function of the filters (and the index's state)
    view = filter_graph(source.graph, flt, around=around, groups_of=None if kept is None else (lambda v: kept(v, key)))
    view.graph.update(
        {
            "name": source.root.name,
            "vault": source.root.name,
            "root": str(source.root),
            "open_with": source.open_with,
            "filters": flt.describe(),
        }
    )
    return view


def filter_graph(source: nx.Graph, filters: GraphFilters | Mapping[str, Any] | None = None, *, around: str | None = None,
                 groups_of: Callable[[nx.DiGraph], list[list[str]]] | None = None) -> nx.DiGraph:
    """Apply the filters to a link graph (multi or simple, directed) and annotate the result.

    `around` overrides `filters.around` with a node id already resolved by the caller;
    `groups_of(view)` gives the view's communities when they were kept (see `annotate`).
    Order: edge kinds, then which nodes qualify (attachments, excluded files, files only,
    paths, tags), then the neighbourhood of `around` within what qualifies, then tag nodes,
    then orphans.
    """
    flt = GraphFilters.of(filters)
    kinds = set(flt.kinds)
    centre = around if around is not None else flt.around

    # Around a note, only what its neighbourhood can reach is copied (a hub's neighbourhood in a
    # vault of 10,000 notes took 2 s when the whole graph was copied first, for each call).
    near = None if centre is None else _reachable(source, centre, flt.depth, kinds)
    view: nx.DiGraph = nx.DiGraph()
    for node, data in source.nodes(data=True):
        if near is None or node in near:
            view.add_node(node, **_node_attrs(node, data))
    # Merge parallel edges of the kept kinds into one edge with a count.
    per_kind: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for u, v, data in source.edges(None if near is None else [n for n in source if n in near], data=True):
        if near is not None and v not in near:
            continue
        kind = data.get("kind", "link")
        if kind in kinds:
            per_kind[(u, v)][kind] += int(data.get("count", 1) or 1)
    for (u, v), counter in per_kind.items():
        view.add_edge(u, v, **_edge_attrs(counter))

    # Targets that exist only through edges of dropped kinds go with them.
    drop = [
        n
        for n, d in view.nodes(data=True)
        if d["kind"] in TARGET_ONLY_KINDS and view.degree(n) == 0 and source.degree(n) > 0
    ]
    view.remove_nodes_from(drop)

    def qualifies(node: str, data: dict) -> bool:
        if not flt.unresolved and data["kind"] in TARGET_ONLY_KINDS:
            return False
        if not flt.references and data["kind"] == "reference":
            return False
        if not flt.attachments and (data["kind"] == "attachment" or _missing_attachment(node, data)):
            return False
        if not flt.excluded and data["kind"] == "excluded":
            return False
        if flt.paths:
            folded = fold_typed(node)
            if not any(folded.startswith(fold_typed(p)) for p in flt.paths):
                return False
        return not flt.tags or _tag_matches(data.get("tags", ()), flt.tags)

    keep = {n for n, d in view.nodes(data=True) if qualifies(n, d)}
    if centre is not None:
        if centre not in view:
            raise GraphFilterError(f"{centre!r} is not in the graph")
        keep.add(centre)
        keep = _neighbourhood(view, centre, flt.depth, keep)
    view.remove_nodes_from([n for n in list(view) if n not in keep])

    if flt.tags_as_nodes:
        _add_tag_nodes(view)
    if not flt.orphans:
        view.remove_nodes_from([n for n in list(view) if view.degree(n) == 0 and n != centre])
    annotate(view, groups=groups_of(view) if groups_of is not None else None)
    return view


def _node_attrs(node: str, data: Mapping[str, Any]) -> dict[str, Any]:
    kind = data.get("kind") or "note"
    title = data.get("title") or _default_title(node, kind)
    year = data.get("year")
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    return {
        "title": str(title),
        "kind": str(kind),
        "tags": [str(t) for t in (data.get("tags") or ())],
        "year": year,
        "authors": [str(a) for a in (data.get("authors") or ())],
    }


def _missing_attachment(node: str, data: Mapping[str, Any]) -> bool:
    """A dangling link to a file with an attachment's extension (`![[Pasted image 1.png]]`)."""
    if data.get("kind") != "unresolved":
        return False
    name = node[len("unresolved:"):] if node.startswith("unresolved:") else node
    base = name.rsplit("/", 1)[-1]
    return "." in base and base.rsplit(".", 1)[1].casefold() in ATTACHMENT_EXTENSIONS


def _default_title(node: str, kind: str) -> str:
    if kind in TARGET_ONLY_KINDS or kind == "tag":
        return node.split(":", 1)[1] if ":" in node else node
    base = node.rsplit("/", 1)[-1]
    return base[:-3] if base.lower().endswith(".md") else base


def _edge_attrs(counter: Counter) -> dict[str, Any]:
    # The edge's kind is its most frequent one (link before embed before cite on a tie).
    order = {k: i for i, k in enumerate((*EDGE_KINDS, "tag"))}
    kind = min(counter, key=lambda k: (-counter[k], order.get(k, 99), k))
    return {"kind": kind, "kinds": ",".join(sorted(counter, key=lambda k: order.get(k, 99))), "count": sum(counter.values())}


def _neighbourhood(graph: nx.DiGraph, centre: str, depth: int, allowed: set[str]) -> set[str]:
    """Nodes within `depth` steps of `centre`, following edges both ways, through allowed nodes."""
    seen = {centre}
    frontier = deque([(centre, 0)])
    while frontier:
        node, dist = frontier.popleft()
        if dist >= depth:
            continue
        for nxt in (*graph.successors(node), *graph.predecessors(node)):
            if nxt in allowed and nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, dist + 1))
    return seen


def _reachable(source: nx.Graph, centre: str, depth: int, kinds: set[str]) -> set[str]:
    """The nodes within `depth` steps of `centre` over edges of `kinds`, either way: a superset
    of what `_neighbourhood` keeps (which also leaves out the nodes that do not qualify)."""
    if centre not in source:
        return set()
    multi = source.is_multigraph()

    def kept(data: Mapping[str, Any]) -> bool:
        edges = data.values() if multi else (data,)
        return any(e.get("kind", "link") in kinds for e in edges)

    seen = {centre}
    frontier = [centre]
    for _ in range(depth):
        step = []
        for node in frontier:
            for nxt, data in (*source.adj[node].items(), *_predecessors(source, node)):
                if nxt not in seen and kept(data):
                    seen.add(nxt)
                    step.append(nxt)
        frontier = step
    return seen


def _predecessors(source: nx.Graph, node: str) -> list[tuple[str, Any]]:
    """(node, edge data) of the edges into `node` (none more for an undirected graph)."""
    return list(source.pred[node].items()) if isinstance(source, nx.DiGraph) else []


def _add_tag_nodes(view: nx.DiGraph) -> None:
    """One node per tag: each note links to its most specific tags, a nested tag to its parent."""
    tagged: list[tuple[str, list[str]]] = []
    for node, data in view.nodes(data=True):
        tags = sorted({fold_typed(str(t)).lstrip("#") for t in data.get("tags", ())} - {""})
        if tags and data["kind"] != "tag":
            leaves = [t for t in tags if not any(o.startswith(t + "/") for o in tags)]
            tagged.append((node, leaves))
    for node, leaves in tagged:
        for tag in leaves:
            parts = tag.split("/")
            for i in range(len(parts), 0, -1):
                tid = TAG_PREFIX + "/".join(parts[:i])
                if tid not in view:
                    view.add_node(tid, title="#" + "/".join(parts[:i]), kind="tag", tags=[], year=None, authors=[])
                if i > 1:
                    parent = TAG_PREFIX + "/".join(parts[: i - 1])
                    if not view.has_edge(tid, parent):
                        view.add_edge(tid, parent, kind="tag", kinds="tag", count=1)
            view.add_edge(node, TAG_PREFIX + tag, kind="tag", kinds="tag", count=1)


# ------------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------------


def annotate(graph: nx.DiGraph, seed: int = COMMUNITY_SEED, groups: list[list[str]] | None = None) -> nx.DiGraph:
    """Set degree, pagerank and community on every node (in place) and return the graph.

    community: Louvain (networkx, fixed seed) on the undirected graph weighted by edge count;
    numbered by size, largest first, so colours are stable between runs.
    `graph.graph["community_names"]` names each community (see `community_names`).
    """
    ranks = pagerank(graph, weight="count")
    for node in graph:
        graph.nodes[node]["degree"] = graph.degree(node)
        graph.nodes[node]["pagerank"] = ranks.get(node, 0.0)
    if groups is None or {n for g in groups for n in g} != set(graph):  # `groups`: kept for this very view
        groups = communities(graph, seed=seed)
    for index, members in enumerate(groups):
        for node in members:
            graph.nodes[node]["community"] = index
    graph.graph["community_names"] = community_names(graph, groups)
    return graph


def communities(graph: nx.DiGraph, seed: int = COMMUNITY_SEED) -> list[list[str]]:
    """Louvain communities, each sorted, listed by size (largest first), then by first member."""
    undirected: nx.Graph = nx.Graph()
    undirected.add_nodes_from(graph)
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        w = float(data.get("count", 1))
        if undirected.has_edge(u, v):
            undirected[u][v]["weight"] += w
        else:
            undirected.add_edge(u, v, weight=w)
    if undirected.number_of_edges() == 0:
        found = [{n} for n in undirected]
    else:
        found = nx.community.louvain_communities(undirected, weight="weight", seed=seed)
    groups = [sorted(c, key=str) for c in found]
    groups.sort(key=lambda c: (-len(c), str(c[0])))
    return groups
