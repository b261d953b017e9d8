"""Graph exports: a view (an nx.DiGraph from views.py) as json, graphml, gexf, dot, svg, mermaid
or the offline HTML page (html.py), through `export(view, format)`."""

from __future__ import annotations

import io
import json
import math
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx

from ..errors import VaultIndexError
from ..palette import community_colour, start_layout
from ..text import has_bad_bytes, json_safe, quote_path
from .views import FORMATS, LIST_SEPARATORS, MERMAID_MAX_NODES, TARGET_ONLY_KINDS, GraphFilterError

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


def export(graph: nx.DiGraph, format: str = "json", **opts: Any) -> str:  # noqa: A002 - public keyword, documented as export(view, format)
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
        from ..html import render_html

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
    flat: nx.DiGraph = nx.DiGraph()
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
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _xml_safe(flat: nx.DiGraph, ids: Mapping[str, str]) -> nx.DiGraph:
    """A copy XML 1.0 can hold: node ids from `export_ids`, every string through portable_text."""
    def clean(value: Any) -> Any:
        return portable_text(value) if isinstance(value, str) else value

    out: nx.DiGraph = nx.DiGraph()
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
    shapes = {"attachment": "box", "unresolved": "ellipse", "paper": "note", "reference": "tab", "tag": "hexagon"}
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
        attrs = {**styles.get(data.get("kind", ""), {}), **{k: _scalar(k, val) for k, val in data.items() if val is not None}}
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
    shapes = {"unresolved": ('(["', '"])'), "paper": ('[/"', '"/]'), "reference": ('[\\"', '"\\]'), "tag": ('{{"', '"}}'),
              "attachment": ('[("', '")]')}
    for node, data in graph.nodes(data=True):
        left, right = shapes.get(data.get("kind", ""), ('["', '"]'))
        lines.append(f"  {ids[node]}{left}{_mermaid_text(data.get('title') or node)}{right}")
    arrows = {"link": "-->", "embed": "==>", "cite": "-.->", "tag": "-.-"}
    for u, v, data in graph.edges(data=True):
        lines.append(f"  {ids[u]} {arrows.get(data.get('kind', ''), '-->')} {ids[v]}")
    classes: dict[str, list[str]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        if data.get("kind") in TARGET_ONLY_KINDS:
            classes["missing"].append(ids[node])
    if classes["missing"]:
        lines.append("  classDef missing stroke-dasharray: 4 3,opacity:0.7")
        lines.append(f"  class {','.join(classes['missing'])} missing")
    text = "\n".join(lines) + "\n"
    return f"```mermaid\n{text}```\n" if fenced else text
