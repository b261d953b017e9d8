"""Owns graph views and exports: filter the vault's link graph, annotate it, and write it out.

    view = vault.graph_view({"around": "LoRA", "depth": 2})   # an nx.DiGraph
    text = export(view, "graphml")                             # or json, gexf, dot, mermaid, html

A view is a plain `nx.DiGraph` whose node ids are vault paths (prefixed ids for unresolved
targets, cited papers without a note and, with `tags_as_nodes`, tags). Node attributes: title,
kind (note, attachment, unresolved, paper, tag), tags, year, authors, degree, pagerank,
community. Edge attributes: kind (link, embed, cite, tag), kinds (every kind merged into the
edge, comma-separated), count. `view.graph` holds the vault name and root for the HTML page.

The filtering (`filter_graph`) and the exports are pure functions of networkx graphs, tested
without a vault; `graph_view` takes what `Vault.graph_view` gathers (a `GraphSource`: the
graph, the root, how to find a note for `--around NOTE`). Two modules: views.py (filters,
tag nodes, metrics) and formats.py (every format and the `export` dispatcher).
"""


from __future__ import annotations

from ..palette import community_names, start_layout
from ..ranking import pagerank
from .formats import (
    FORMAT_SUFFIXES,
    export,
    export_ids,
    flatten_attributes,
    format_of,
    portable_text,
    to_dot,
    to_gexf,
    to_graphml,
    to_json,
    to_mermaid,
    to_svg,
)
from .views import (
    EDGE_KINDS,
    FORMATS,
    MERMAID_MAX_NODES,
    NODE_KINDS,
    GraphFilterError,
    GraphFilters,
    GraphSource,
    annotate,
    communities,
    filter_graph,
    graph_view,
)

__all__ = [
    "EDGE_KINDS",
    "FORMATS",
    "FORMAT_SUFFIXES",
    "GraphFilterError",
    "GraphFilters",
    "GraphSource",
    "MERMAID_MAX_NODES",
    "NODE_KINDS",
    "annotate",
    "communities",
    "community_names",
    "export",
    "export_ids",
    "filter_graph",
    "flatten_attributes",
    "format_of",
    "graph_view",
    "pagerank",
    "portable_text",
    "start_layout",
    "to_dot",
    "to_gexf",
    "to_graphml",
    "to_json",
    "to_mermaid",
    "to_svg",
]
