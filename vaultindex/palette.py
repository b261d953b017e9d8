"""Owns how a graph view looks before a viewer takes over: the colours of communities and tag
groups, the name each community is shown by, and a cheap start layout the browser refines.

Both export/ (DOT colours, GEXF positions) and html.py (the offline viewer) draw with these;
keeping them here lets html.py build on them without importing export/, which imports
html.py to write the `html` format.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from .ranking import pagerank

if TYPE_CHECKING:  # networkx is imported by graph.py and export/ only
    import networkx as nx

__all__ = ["OTHER_COLOUR", "PALETTE", "community_colour", "community_names", "start_layout"]


# Colours for the first communities / tag groups (the rest are grey); readable on dark and light.
PALETTE = (
    "#4e9af1", "#f28e2b", "#59c15b", "#e15759", "#b07aa1", "#edc948",
    "#76b7b2", "#ff9da7", "#9c755f", "#a0cbe8", "#8cd17d", "#d4a6c8",
)
OTHER_COLOUR = "#8a8f98"


def community_colour(index: Any) -> str:
    """The colour of community (or tag group) number `index`; grey past the palette."""
    if isinstance(index, int) and 0 <= index < len(PALETTE):
        return PALETTE[index]
    return OTHER_COLOUR


# Who may name a community, best first: a note, then a link target with no file (a cited
# paper, with a bibliography entry or not, an unresolved name, a tag); an attachment or an
# excluded file never does.
_NAMING_KINDS = ({"note"}, {"reference", "paper", "unresolved", "tag"})


def community_names(graph: nx.DiGraph, groups: list[list[str]] | None = None) -> dict[int, str]:
    """{community number: the title of its most central note}.

    Central means PageRank inside the community (weighted by link count), then degree inside
    it: a note that embeds twenty pasted images is the centre of its cluster, not one of the
    images, whose rank only comes from that note. A community without notes is named after its
    most central link target, and one of attachments only after how many it holds.
    """
    if groups is None:
        by_index: dict[int, list[str]] = defaultdict(list)
        for node, data in graph.nodes(data=True):
            if isinstance(data.get("community"), int):
                by_index[data["community"]].append(node)
        numbered = sorted(by_index.items())
    else:
        numbered = list(enumerate(groups))
    names: dict[int, str] = {}
    for index, members in numbered:
        kinds = {n: graph.nodes[n].get("kind", "note") for n in members}
        candidates: list[str] = []
        for allowed in _NAMING_KINDS:
            candidates = [n for n in members if kinds[n] in allowed]
            if candidates:
                break
        if not candidates:
            names[index] = f"{len(members)} attachment{'s' if len(members) != 1 else ''}"
            continue
        if len(candidates) == 1:
            best = candidates[0]
        else:
            inside = graph.subgraph(members)
            local = pagerank(inside, weight="count")
            best = min(
                candidates,
                key=lambda n: (-round(local.get(n, 0.0), 9), -inside.degree(n), -graph.nodes[n].get("pagerank", 0.0), str(n)),
            )
        names[index] = str(graph.nodes[best].get("title") or best)
    return names


# ------------------------------------------------------------------------------------------------
# a cheap start layout (the browser refines it)
# ------------------------------------------------------------------------------------------------

_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def start_layout(graph: nx.DiGraph, spacing: float = 14.0, smoothing: int = 4) -> dict[str, tuple[float, float]]:
    """Positions in O(nodes + edges): each community is a sunflower disc (hubs at its centre), the
    discs are laid out as a sunflower too (largest in the middle), then a few rounds pull every
    node towards its neighbours. About 0.2 s at 5,000 nodes; networkx's layouts need numpy and
    take 6 to 120 s there (see docs/graph-view.md).
    """
    if graph.number_of_nodes() == 0:
        return {}
    groups: dict[int, list[str]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        groups[int(data.get("community", 0))].append(node)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), str(min(g, key=str))))
    pos: dict[str, list[float]] = {}
    placed = 0.0
    for ci, members in enumerate(ordered):
        radius = spacing * math.sqrt(len(members))
        # Centres on an outward spiral: ring distance grows with the area already used.
        centre_r = 0.0 if ci == 0 else spacing * 1.15 * math.sqrt(placed + len(members) / 2.0) + radius * 0.35
        angle = ci * _GOLDEN_ANGLE
        cx, cy = centre_r * math.cos(angle), centre_r * math.sin(angle)
        placed += len(members)
        members.sort(key=lambda n: (-graph.nodes[n].get("pagerank", 0.0), str(n)))
        for k, node in enumerate(members):
            r = spacing * math.sqrt(k + 0.5)
            a = k * _GOLDEN_ANGLE + ci
            pos[node] = [cx + r * math.cos(a), cy + r * math.sin(a)]
    neighbours: dict[str, list[str]] = {n: [] for n in graph}
    for u, v in graph.edges():
        if u != v:
            neighbours[u].append(v)
            neighbours[v].append(u)
    for _ in range(smoothing):
        moved = {}
        for node, near in neighbours.items():
            if not near:
                continue
            mx = sum(pos[m][0] for m in near) / len(near)
            my = sum(pos[m][1] for m in near) / len(near)
            x, y = pos[node]
            moved[node] = [x + (mx - x) * 0.3, y + (my - y) * 0.3]
        pos.update(moved)
    rng = random.Random(7)  # separate nodes that landed on the same point
    return {n: (round(p[0] + rng.uniform(-0.5, 0.5), 2), round(p[1] + rng.uniform(-0.5, 0.5), 2)) for n, p in pos.items()}
