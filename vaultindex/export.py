"""Owns graph views and exports: filter the vault's link graph, annotate it, and write it out.

    view = vault.graph_view({"around": "LoRA", "depth": 2})   # an nx.DiGraph
    text = export(view, "graphml")                             # or json, gexf, dot, mermaid, html

A view is a plain `nx.DiGraph` whose node ids are vault paths (prefixed ids for unresolved
targets, cited papers without a note and, with `tags_as_nodes`, tags). Node attributes: title,
kind (note, attachment, unresolved, paper, tag), tags, year, authors, degree, pagerank,
community. Edge attributes: kind (link, embed, cite, tag), kinds (every kind merged into the
edge, comma-separated), count. `view.graph` holds the vault name and root for the HTML page.

The filtering (`filter_graph`) and the exports are pure functions of networkx graphs, tested
without a vault; `graph_view` only fetches the vault's graph and resolves `--around NOTE`.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import warnings
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, fields
from typing import Any, Callable, Iterable, Mapping

import networkx as nx

from .errors import VaultIndexError
from .graph import pagerank
from .palette import community_colour, community_names, start_layout
from .text import has_bad_bytes, json_safe, quote_path

__all__ = [
    "EDGE_KINDS",
    "FORMATS",
    "GraphFilterError",
    "GraphFilters",
    "MERMAID_MAX_NODES",
    "annotate",
    "community_names",
    "export",
    "filter_graph",
    "flatten_attributes",
    "graph_view",
    "pagerank",
    "start_layout",
]

FORMATS = ("html", "json", "graphml", "gexf", "dot", "mermaid", "svg")
EDGE_KINDS = ("link", "embed", "cite")
NODE_KINDS = ("note", "attachment", "excluded", "unresolved", "paper", "tag")
# Kinds of nodes that are not files: they exist only as the target of a link or a citation.
TARGET_ONLY_KINDS = frozenset({"unresolved", "paper"})
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
    orphans: bool = True
    tags_as_nodes: bool = False

    def __post_init__(self) -> None:
        tags = tuple(_fold(t.lstrip("#")) for t in _as_tuple(self.tags))
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
    def of(cls, value: "GraphFilters | Mapping[str, Any] | None") -> "GraphFilters":
        """Filters from a GraphFilters, a dict (CLI-style keys accepted: tag, path, no_orphans...) or None."""
        if value is None:
            return cls()
        if isinstance(value, GraphFilters):
            return value
        if not isinstance(value, Mapping):
            raise GraphFilterError(f"graph filters must be a GraphFilters or a dict, not {type(value).__name__}")
        aliases = {"tag": "tags", "path": "paths", "prefix": "paths", "kind": "kinds"}
        negations = {"no_unresolved": "unresolved", "no_orphans": "orphans"}
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
        if not self.orphans:
            parts.append("no orphans")
        if self.tags_as_nodes:
            parts.append("tags as nodes")
        return "; ".join(parts)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


def _norm_prefix(prefix: str) -> str:
    prefix = unicodedata.normalize("NFC", str(prefix)).strip().replace("\\", "/")
    while prefix.startswith("./"):
        prefix = prefix[2:]
    return prefix.lstrip("/")


def _tag_matches(node_tags: Iterable[str], wanted: tuple[str, ...]) -> bool:
    for tag in node_tags:
        t = _fold(str(tag)).lstrip("#")
        for w in wanted:
            if t == w or t.startswith(w + "/"):
                return True
    return False


# ------------------------------------------------------------------------------------------------
# the vault's graph -> a filtered, annotated DiGraph
# ------------------------------------------------------------------------------------------------


def graph_view(vault, filters: "GraphFilters | Mapping[str, Any] | None" = None) -> nx.DiGraph:
    """The vault's link graph filtered and annotated (see `GraphFilters` and `annotate`)."""
    flt = GraphFilters.of(filters)
    source = _source_graph(vault)
    around = None
    if flt.around:
        # A node id (a path, or any id of the graph) as is; otherwise a note's name, title or alias.
        around = flt.around if flt.around in source else vault.find_note(flt.around).path
    view = filter_graph(source, flt, around=around)
    view.graph.update(
        {
            "name": vault.root.name,
            "vault": vault.root.name,
            "root": str(vault.root),
            "open_with": getattr(vault.config, "open_with", "obsidian"),
            "filters": flt.describe(),
        }
    )
    return view


def _source_graph(vault) -> nx.Graph:
    """The networkx view of the vault's LinkGraph (`vault.graph.to_networkx()`, a MultiDiGraph)."""
    graph = getattr(vault, "graph", None)
    if graph is None:
        catalog = getattr(vault, "catalog", None)
        graph = getattr(catalog, "graph", None)
    if graph is None:
        raise VaultIndexError("this vault has no link graph yet: run `vaultindex sync` first")
    if isinstance(graph, nx.Graph):
        return graph
    to_networkx = getattr(graph, "to_networkx", None)
    if callable(to_networkx):
        return to_networkx()
    raise VaultIndexError(f"cannot read the vault's link graph ({type(graph).__name__})")  # pragma: no cover


def filter_graph(source: nx.Graph, filters: "GraphFilters | Mapping[str, Any] | None" = None, *, around: str | None = None) -> nx.DiGraph:
    """Apply the filters to a link graph (multi or simple, directed) and annotate the result.

    `around` overrides `filters.around` with a node id already resolved by the caller.
    Order: edge kinds, then which nodes qualify (attachments, excluded files, files only,
    paths, tags), then the neighbourhood of `around` within what qualifies, then tag nodes,
    then orphans.
    """
    flt = GraphFilters.of(filters)
    kinds = set(flt.kinds)
    centre = around if around is not None else flt.around

    view = nx.DiGraph()
    for node, data in source.nodes(data=True):
        view.add_node(node, **_node_attrs(node, data))
    # Merge parallel edges of the kept kinds into one edge with a count.
    per_kind: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for u, v, data in source.edges(data=True):
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
        if not flt.attachments and (data["kind"] == "attachment" or _missing_attachment(node, data)):
            return False
        if not flt.excluded and data["kind"] == "excluded":
            return False
        if flt.paths:
            folded = _fold(node)
            if not any(folded.startswith(_fold(p)) for p in flt.paths):
                return False
        if flt.tags and not _tag_matches(data.get("tags", ()), flt.tags):
            return False
        return True

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
    annotate(view)
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


def _add_tag_nodes(view: nx.DiGraph) -> None:
    """One node per tag: each note links to its most specific tags, a nested tag to its parent."""
    tagged: list[tuple[str, list[str]]] = []
    for node, data in view.nodes(data=True):
        tags = sorted({_fold(str(t)).lstrip("#") for t in data.get("tags", ())} - {""})
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


def annotate(graph: nx.DiGraph, seed: int = COMMUNITY_SEED) -> nx.DiGraph:
    """Set degree, pagerank and community on every node (in place) and return the graph.

    community: Louvain (networkx, fixed seed) on the undirected graph weighted by edge count;
    numbered by size, largest first, so colours are stable between runs.
    `graph.graph["community_names"]` names each community (see `community_names`).
    """
    ranks = pagerank(graph, weight="count")
    for node in graph:
        graph.nodes[node]["degree"] = graph.degree(node)
        graph.nodes[node]["pagerank"] = ranks.get(node, 0.0)
    groups = communities(graph, seed=seed)
    for index, members in enumerate(groups):
        for node in members:
            graph.nodes[node]["community"] = index
    graph.graph["community_names"] = community_names(graph, groups)
    return graph


def communities(graph: nx.DiGraph, seed: int = COMMUNITY_SEED) -> list[list[str]]:
    """Louvain communities, each sorted, listed by size (largest first), then by first member."""
    undirected = nx.Graph()
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


# ------------------------------------------------------------------------------------------------
# exports
# ------------------------------------------------------------------------------------------------

# File suffixes and the format each one means (for `-o FILE` without `--format`).
FORMAT_SUFFIXES = {
    ".html": "html", ".htm": "html", ".json": "json", ".graphml": "graphml", ".gexf": "gexf",
    ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid", ".svg": "svg",
}
SVG_TIMEOUT = 300.0  # seconds Graphviz may take to lay a graph out
# svg: Graphviz's sfdp (force-directed) layout with straight edges. Measured on 2 busy cores:
# the layered `dot` layout, or routed splines, passed 120 s at 300 nodes and 900 edges; sfdp with
# straight lines draws them in 1.4 s, kevinywu-notes (132 nodes) in 0.6 s. Above this many nodes
# its overlap removal costs most of the time (1,000 nodes: 15 s against 4 s): nodes are spread
# out instead (5,000 nodes, 20,000 edges: 50 s).
SVG_SPREAD_ABOVE = 1000


def format_of(filename: str) -> str | None:
    """The export format a file name's suffix stands for (None when no format has it)."""
    dot = filename.rfind(".")
    if dot <= filename.rfind("/"):
        return None
    return FORMAT_SUFFIXES.get(filename[dot:].casefold())


def export(graph: nx.DiGraph, format: str = "json", **opts: Any) -> str:
    """The graph as text in one of FORMATS.

    Options: html: color ("community" or "tag"), open_with ("obsidian" or "file"), title;
    mermaid: fenced (wrap in a ```mermaid block for a note), on_warning (a callable; the
    default issues a UserWarning above MERMAID_MAX_NODES nodes); dot and svg: name.
    svg runs Graphviz (`dot` on PATH) and raises VaultIndexError when it is not installed.
    """
    fmt = format.lower()
    if fmt == "json":
        return to_json(graph, **opts)
    if fmt == "graphml":
        return to_graphml(graph, **opts)
    if fmt == "gexf":
        return to_gexf(graph, **opts)
    if fmt == "dot":
        return to_dot(graph, **opts)
    if fmt == "svg":
        return to_svg(graph, **opts)
    if fmt == "mermaid":
        return to_mermaid(graph, **opts)
    if fmt == "html":
        from .html import render_html

        return render_html(graph, **opts)
    raise GraphFilterError(f"unknown format {format!r}: use {', '.join(FORMATS)}")


# What XML 1.0 cannot hold, even as a character reference (C0 controls but tab, LF and CR; lone
# surrogates, which stand for file-name bytes that are not UTF-8; U+FFFE, U+FFFF). Graphviz copies
# them into its SVG, and none can be written as UTF-8 (surrogates) or read back (the rest).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def portable_text(text: str) -> str:
    """Note text every export can hold: unchanged when it can; else text holding bytes that are
    not UTF-8 takes quote_path's quoted form (as in --json), and any other character XML 1.0
    forbids becomes U+FFFD."""
    if not _NOT_XML.search(text):
        return text
    if has_bad_bytes(text):
        text = quote_path(text)
    return _NOT_XML.sub("\ufffd", text)


def export_ids(graph: nx.Graph) -> dict[str, str]:
    """{node: its id in graphml, gexf and dot}: the node itself when XML can hold it, else its
    quote_path form (lossless for control characters and undecodable bytes), made unique."""
    ids = {n: str(n) for n in graph if not _NOT_XML.search(str(n))}
    taken = set(ids.values())
    for node in graph:
        if node in ids:
            continue
        base = _NOT_XML.sub("\ufffd", quote_path(str(node)))
        candidate, k = base, 2
        while candidate in taken:
            candidate, k = f"{base}~{k}", k + 1
        taken.add(candidate)
        ids[node] = candidate
    return ids


def to_json(graph: nx.DiGraph, indent: int | None = 1) -> str:
    """Node-link JSON: {"directed", "multigraph", "graph", "nodes": [{"id", ...}], "edges": [{"source", "target", "kind", "count", ...}],
    "communities": [{"id", "name", "size"}]}. Strings are exact; one holding bytes that are not
    UTF-8 (a path or a title from a file name) takes quote_path's quoted form, as in --json."""
    data = nx.node_link_data(graph, edges="edges")
    data["nodes"] = [{"id": n["id"], **{k: v for k, v in n.items() if k != "id"}} for n in data["nodes"]]
    data["graph"] = {k: v for k, v in data.get("graph", {}).items() if _is_json_scalar(v)}
    sizes = Counter(d.get("community") for _, d in graph.nodes(data=True))
    names = graph.graph.get("community_names") or {}
    data["communities"] = [{"id": c, "name": names.get(c, ""), "size": sizes[c]} for c in sorted(k for k in sizes if isinstance(k, int))]
    return json.dumps(json_safe(data), ensure_ascii=False, indent=indent, sort_keys=False)


def _is_json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def flatten_attributes(graph: nx.DiGraph, label: bool = True) -> nx.DiGraph:
    """A copy whose attribute values are all scalars, as graphml and gexf require: lists become
    strings (tags joined by spaces, authors by "; "), None values are left out, and `label` is
    set to the title (Gephi shows it)."""
    flat = nx.DiGraph()
    flat.graph.update({k: v for k, v in graph.graph.items() if isinstance(v, (str, int, float, bool))})
    for node, data in graph.nodes(data=True):
        attrs = {k: _scalar(k, v) for k, v in data.items() if v is not None}
        if label:
            attrs["label"] = str(data.get("title") or node)
        flat.add_node(str(node), **attrs)
    for u, v, data in graph.edges(data=True):
        flat.add_edge(str(u), str(v), **{k: _scalar(k, val) for k, val in data.items() if val is not None})
    return flat


def _scalar(key: str, value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return LIST_SEPARATORS.get(key, ", ").join(str(v) for v in value)
    if isinstance(value, bool) or isinstance(value, (int, float, str)):
        return value
    return str(value)


def _xml_safe(flat: nx.DiGraph, ids: Mapping[str, str]) -> nx.DiGraph:
    """A copy XML 1.0 can hold: node ids from `export_ids`, every string through portable_text."""
    def clean(value: Any) -> Any:
        return portable_text(value) if isinstance(value, str) else value

    out = nx.DiGraph()
    out.graph.update({k: clean(v) for k, v in flat.graph.items()})
    for node, data in flat.nodes(data=True):
        out.add_node(ids[node], **{k: clean(v) for k, v in data.items()})
    for u, v, data in flat.edges(data=True):
        out.add_edge(ids[u], ids[v], **{k: clean(val) for k, val in data.items()})
    return out


def to_graphml(graph: nx.DiGraph) -> str:
    flat = _xml_safe(flatten_attributes(graph), export_ids(graph))
    return "\n".join(nx.generate_graphml(flat, encoding="utf-8", prettyprint=True)) + "\n"


def to_gexf(graph: nx.DiGraph, viz: bool = True) -> str:
    """GEXF 1.2 with Gephi's viz data (colour by community, size by PageRank, start positions)."""
    ids = export_ids(graph)
    flat = _xml_safe(flatten_attributes(graph), ids)
    if viz and flat.number_of_nodes():
        positions = start_layout(graph)
        top = max((d.get("pagerank", 0.0) for _, d in graph.nodes(data=True)), default=0.0) or 1.0
        for node, data in graph.nodes(data=True):
            r, g, b = _rgb(community_colour(data.get("community")))
            x, y = positions[node]
            flat.nodes[ids[node]]["viz"] = {
                "color": {"r": r, "g": g, "b": b, "a": 1.0},
                "size": round(4.0 + 20.0 * math.sqrt(data.get("pagerank", 0.0) / top), 3),
                "position": {"x": float(x), "y": float(-y), "z": 0.0},
            }
    return "\n".join(nx.generate_gexf(flat, encoding="utf-8", prettyprint=True, version="1.2draft")) + "\n"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _dot_string(value: Any) -> str:
    """A DOT double-quoted string. The lexer needs only `"` escaped, but Graphviz also reads
    backslash escapes (\\N, \\G, \\l ...) and HTML entities (`&#1;`, `&amp;`) in strings and
    copies the characters they stand for into its SVG: backslashes are doubled and every `&` is
    written `&amp;`, so Graphviz shows the text as written. Control characters and undecodable
    bytes go through portable_text first, as for XML."""
    text = portable_text(str(value)).replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    # Line breaks as Graphviz's own escapes (centred, right-justified): one to one, so two ids
    # that differ only there stay two nodes.
    return '"' + text.replace("\n", "\\n").replace("\r", "\\r") + '"'


def to_dot(graph: nx.DiGraph, name: str = "vault") -> str:
    """Graphviz DOT: nodes labelled by title, filled by community, sized by PageRank; every
    attribute of the view is kept (lists as strings) so tools reading DOT see them."""
    top = max((d.get("pagerank", 0.0) for _, d in graph.nodes(data=True)), default=0.0) or 1.0
    ids = export_ids(graph)
    out = io.StringIO()
    out.write(f"digraph {_dot_string(name)} {{\n")
    out.write('  graph [charset="UTF-8", overlap=false, splines=true, outputorder=edgesfirst];\n')
    out.write('  node [shape=ellipse, style=filled, fontname="Helvetica", fontsize=10, color="#555555"];\n')
    out.write('  edge [color="#888888", arrowsize=0.6];\n')
    shapes = {"attachment": "box", "unresolved": "ellipse", "paper": "note", "tag": "hexagon"}
    for node, data in graph.nodes(data=True):
        attrs: dict[str, Any] = {
            "label": data.get("title") or node,
            "tooltip": ids[node],
            "fillcolor": community_colour(data.get("community")),
            "width": round(0.4 + 1.2 * math.sqrt(data.get("pagerank", 0.0) / top), 3),
        }
        if data.get("kind") in shapes:
            attrs["shape"] = shapes[data["kind"]]
        if data.get("kind") in TARGET_ONLY_KINDS:
            attrs["style"] = "dashed"
        for key, value in data.items():
            if key != "title" and value is not None and key not in attrs:
                attrs[key] = _scalar(key, value)
        out.write(f"  {_dot_string(ids[node])} [{_dot_attrs(attrs)}];\n")
    styles = {"embed": {"style": "bold"}, "cite": {"style": "dashed", "color": "#6a8fc7"}, "tag": {"style": "dotted"}}
    for u, v, data in graph.edges(data=True):
        attrs = {**styles.get(data.get("kind"), {}), **{k: _scalar(k, val) for k, val in data.items() if val is not None}}
        if data.get("count", 1) > 1:
            attrs["penwidth"] = round(1 + math.log(data["count"]), 2)
        out.write(f"  {_dot_string(ids[u])} -> {_dot_string(ids[v])} [{_dot_attrs(attrs)}];\n")
    out.write("}\n")
    return out.getvalue()


def to_svg(graph: nx.DiGraph, name: str = "vault", timeout: float = SVG_TIMEOUT) -> str:
    """The DOT export drawn by Graphviz (`dot` on PATH) with its sfdp layout and straight edges
    (see SVG_SPREAD_ABOVE). The SVG is checked to be well-formed XML."""
    import shutil
    import subprocess
    from xml.etree import ElementTree

    dot = shutil.which("dot")
    if dot is None:
        raise VaultIndexError(
            "SVG needs Graphviz's `dot` program, which is not installed: install Graphviz "
            "(e.g. `apt install graphviz`), or write html, or dot and render it yourself"
        )
    args = [dot, "-Tsvg", "-Ksfdp", "-Gsplines=line"]
    if graph.number_of_nodes() > SVG_SPREAD_ABOVE:
        args.append("-Goverlap=scale")
    try:
        done = subprocess.run(
            args, input=to_dot(graph, name=name).encode("utf-8"),
            capture_output=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise VaultIndexError(
            f"Graphviz took more than {timeout:.0f} s to draw {graph.number_of_nodes():,} nodes: "
            "draw fewer (--around, --path, --tag) or write html"
        ) from None
    except OSError as exc:
        raise VaultIndexError(f"Graphviz `dot` could not be run: {exc}") from None
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise VaultIndexError(f"Graphviz `dot` failed (exit {done.returncode}): {detail[0] if detail else 'no output'}")
    svg = done.stdout.decode("utf-8", "replace")
    try:
        ElementTree.fromstring(done.stdout)
    except ElementTree.ParseError as exc:  # pragma: no cover - Graphviz's output, after our escaping
        raise VaultIndexError(f"Graphviz wrote SVG that is not well-formed XML ({exc}); please report it") from None
    return svg


def _dot_attrs(attrs: Mapping[str, Any]) -> str:
    return ", ".join(f"{_dot_id(k)}={_dot_string(v)}" for k, v in attrs.items())


def _dot_id(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else _dot_string(key)


def _mermaid_text(text: str) -> str:
    """A label for a quoted Mermaid node: entity codes for every character Mermaid, Markdown or
    HTML could read as syntax, so a title cannot end the label, the fence or inject markup."""
    text = re.sub(r"[\s\x00-\x1f\x7f-\x9f]+", " ", portable_text(str(text))).strip()
    specials = '#"<>&`[](){}|;%\\'
    return "".join(f"#{ord(ch)};" if ch in specials else ch for ch in text) or " "


def to_mermaid(graph: nx.DiGraph, fenced: bool = False, direction: str = "LR", on_warning: Callable[[str], None] | None = None) -> str:
    """A Mermaid flowchart (renders in an Obsidian note inside a ```mermaid block). Ids are
    n0, n1, ...; labels are titles; links -->, embeds ==>, citations -.->, tags -.-."""
    count = graph.number_of_nodes()
    if count > MERMAID_MAX_NODES:
        message = (
            f"a Mermaid diagram of {count} nodes will be hard to read and slow to render "
            f"(more than {MERMAID_MAX_NODES}); try --around NOTE --depth 1, --tag or --path"
        )
        if on_warning is not None:
            on_warning(message)
        else:
            warnings.warn(message, UserWarning, stacklevel=2)
    ids = {node: f"n{i}" for i, node in enumerate(graph)}
    lines = [f"flowchart {direction}"]
    shapes = {"unresolved": ('(["', '"])'), "paper": ('[/"', '"/]'), "tag": ('{{"', '"}}'), "attachment": ('[("', '")]')}
    for node, data in graph.nodes(data=True):
        left, right = shapes.get(data.get("kind"), ('["', '"]'))
        lines.append(f"  {ids[node]}{left}{_mermaid_text(data.get('title') or node)}{right}")
    arrows = {"link": "-->", "embed": "==>", "cite": "-.->", "tag": "-.-"}
    for u, v, data in graph.edges(data=True):
        lines.append(f"  {ids[u]} {arrows.get(data.get('kind'), '-->')} {ids[v]}")
    classes: dict[str, list[str]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        if data.get("kind") in TARGET_ONLY_KINDS:
            classes["missing"].append(ids[node])
    if classes["missing"]:
        lines.append("  classDef missing stroke-dasharray: 4 3,opacity:0.7")
        lines.append(f"  class {','.join(classes['missing'])} missing")
    text = "\n".join(lines) + "\n"
    return f"```mermaid\n{text}```\n" if fenced else text
