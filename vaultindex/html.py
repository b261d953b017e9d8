"""Owns the interactive HTML graph page: one self-contained, offline file.

The page is assets/graph.html with assets/graph.css, assets/layout.js and assets/graph.js
inlined, and the graph embedded as JSON in a <script type="application/json"> element. The
JavaScript is vaultindex's own (canvas 2D drawing, a Barnes-Hut force layout in a Web Worker);
docs/graph-view.md says why no third-party renderer is used.

Safety: the JSON is escaped so that no note text can close the <script> element (`<`, `>`,
`&`, U+2028 and U+2029 become \\u escapes, and so do the characters HTML calls parse errors:
C1 controls and noncharacters such as U+FFFE), strings holding bytes that are not UTF-8 take
quote_path's form (as in --json), the page only ever sets note text through textContent or
canvas text, and a Content-Security-Policy forbids any network request.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .palette import OTHER_COLOUR, PALETTE, community_names, start_layout
from .text import json_safe

if TYPE_CHECKING:  # networkx is imported by graph.py and export/ only
    import networkx as nx

COLOR_MODES = ("community", "tag")
OPEN_WITH = ("obsidian", "file")
LEGEND_SIZE = len(PALETTE)
_PLACEHOLDER = re.compile(r"@@(CSS|DATA|LAYOUT|MAIN|VERSION)@@")
# Characters written as \\u escapes inside the page's JSON: those that could end the element or
# start a comment (< > &), JavaScript's line terminators, and what HTML's parser reports as an
# error (C1 controls, noncharacters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF in every plane).
_SCRIPT_ESCAPE = re.compile("[<>&\u007f-\u009f\u2028\u2029\ufdd0-\ufdef\ufffe\uffff"
                            + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(1, 17)) + "]")


def _u_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a JSON string spells an astral character as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: nothing in it can end the element or start
    an HTML comment, JavaScript line terminators are escaped, and so is every character the
    HTML parser would flag. Strings holding undecodable bytes take quote_path's form."""
    text = json.dumps(json_safe(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _SCRIPT_ESCAPE.sub(lambda m: _u_escape(m.group()), text)


def _asset(name: str) -> str:
    return resources.files("vaultindex").joinpath("assets", name).read_text(encoding="utf-8")


def render_html(
    graph: nx.DiGraph,
    color: str = "community",
    open_with: str | None = None,
    title: str | None = None,
    vault: str | None = None,
    root: str | Path | None = None,
) -> str:
    """The page for a graph view (see `export.graph_view`); vault name, root and the open
    mode default to what the view carries in `graph.graph`."""
    if color not in COLOR_MODES:
        raise ValueError(f"color must be one of {', '.join(COLOR_MODES)}, not {color!r}")
    open_with = open_with or graph.graph.get("open_with") or "obsidian"
    if open_with not in OPEN_WITH:
        raise ValueError(f"open_with must be one of {', '.join(OPEN_WITH)}, not {open_with!r}")
    payload = page_data(graph, color=color, open_with=open_with, title=title, vault=vault, root=root)
    parts = {
        "CSS": _asset("graph.css"),
        "LAYOUT": _asset("layout.js"),
        "MAIN": _asset("graph.js"),
        "DATA": script_json(payload),
        "VERSION": __version__,
    }
    for name in ("CSS", "LAYOUT", "MAIN"):
        if re.search(r"</?(script|style)|<!--", parts[name], re.IGNORECASE):  # pragma: no cover - our own assets
            raise AssertionError(f"asset {name} would confuse the HTML parser")
    # One pass over the template: inserted text is never scanned for placeholders again.
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], _asset("graph.html"))


def page_data(
    graph: nx.DiGraph,
    color: str = "community",
    open_with: str = "obsidian",
    title: str | None = None,
    vault: str | None = None,
    root: str | Path | None = None,
) -> dict[str, Any]:
    """The JSON the page reads: nodes as columns (compact), edges as flat [source, target,
    kind, count] quadruples of node indices, the legends and where notes open."""
    nodes = list(graph)
    index = {node: i for i, node in enumerate(nodes)}
    kinds = ["note", "attachment", "excluded", "unresolved", "paper", "reference", "tag"]
    edge_kinds = ["link", "embed", "cite", "tag"]
    for _, d in graph.nodes(data=True):
        if d.get("kind", "note") not in kinds:
            kinds.append(str(d.get("kind")))
    for _, _, d in graph.edges(data=True):
        if d.get("kind", "link") not in edge_kinds:
            edge_kinds.append(str(d.get("kind")))
    positions = start_layout(graph)
    attrs = [graph.nodes[n] for n in nodes]

    communities = _community_legend(graph, nodes)
    tag_groups, tag_of = _tag_groups(graph, nodes)
    edges: list[int] = []
    for u, v, d in graph.edges(data=True):
        edges += [index[u], index[v], edge_kinds.index(d.get("kind", "link")), int(d.get("count", 1))]

    vault = vault or graph.graph.get("vault") or graph.graph.get("name") or ""
    root = root or graph.graph.get("root")
    return json_safe({
        "meta": {
            "vault": str(vault),
            "title": title or "",
            "root_uri": Path(root).resolve().as_uri() if root else "",
            "open_with": open_with,
            "color": color,
            "filters": str(graph.graph.get("filters") or ""),
        },
        "kinds": kinds,
        "edgeKinds": edge_kinds,
        "palette": list(PALETTE),
        "otherColour": OTHER_COLOUR,
        "communities": communities,
        "tagGroups": tag_groups,
        "nodes": {
            "id": [str(n) for n in nodes],
            "title": [str(a.get("title") or n) for n, a in zip(nodes, attrs)],
            "kind": [kinds.index(a.get("kind", "note")) for a in attrs],
            "tags": [list(a.get("tags") or ()) for a in attrs],
            "year": [a.get("year") for a in attrs],
            "authors": [list(a.get("authors") or ())[:6] for a in attrs],
            "pagerank": [round(float(a.get("pagerank", 0.0)), 6) for a in attrs],
            "degree": [int(a.get("degree", graph.degree(n))) for n, a in zip(nodes, attrs)],
            "community": [_legend_slot(a.get("community")) for a in attrs],
            "tagGroup": tag_of,
            "x": [positions[n][0] for n in nodes],
            "y": [positions[n][1] for n in nodes],
        },
        "edges": edges,
    })


def _legend_slot(community: Any) -> int:
    """Communities past the palette (and singletons) share the grey "other" entry."""
    return community if isinstance(community, int) and 0 <= community < LEGEND_SIZE else -1


def _community_legend(graph: nx.DiGraph, nodes: list[str]) -> list[dict[str, Any]]:
    """One entry per coloured community: named after its most central note (see
    palette.community_names: never an attachment), hinted by its most common tags."""
    members: dict[int, list[str]] = {}
    for node in nodes:
        c = graph.nodes[node].get("community")
        if isinstance(c, int) and 0 <= c < LEGEND_SIZE:
            members.setdefault(c, []).append(node)
    names = graph.graph.get("community_names") or community_names(graph)
    legend = []
    for c in range(LEGEND_SIZE):
        group = members.get(c, [])
        if len(group) < 2:
            # Louvain numbers communities by size, so everything from here on is a singleton.
            break
        tags = Counter(t for n in group for t in graph.nodes[n].get("tags") or () if "/" not in t)
        hint = " ".join("#" + t for t, _ in tags.most_common(3))
        legend.append({"label": str(names.get(c, "")), "hint": hint, "size": len(group)})
    return legend


def _tag_groups(graph: nx.DiGraph, nodes: list[str]) -> tuple[list[dict[str, Any]], list[int]]:
    """Colour by tag: pick up to LEGEND_SIZE tags greedily, each time the tag that covers the
    most nodes not yet coloured; a node takes the first picked tag it carries."""
    node_tags = [set(graph.nodes[n].get("tags") or ()) for n in nodes]
    uncovered = set(range(len(nodes)))
    picked: list[str] = []
    while len(picked) < LEGEND_SIZE and uncovered:
        counts = Counter(t for i in uncovered for t in node_tags[i])
        if not counts:
            break
        tag, gain = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        picked.append(tag)
        uncovered -= {i for i in uncovered if tag in node_tags[i]}
    group_of = []
    for tags in node_tags:
        group_of.append(next((k for k, t in enumerate(picked) if t in tags), -1))
    sizes = Counter(group_of)
    legend = [{"label": "#" + t, "hint": "", "size": sizes[k]} for k, t in enumerate(picked)]
    return legend, group_of
