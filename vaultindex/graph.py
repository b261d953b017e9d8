"""Owns the link and citation graph: who links to, embeds or cites whom, kept in step with the index.

networkx is imported here (and, per DESIGN.md, by the export modules only). `LinkGraph` is a
linkstate.LinkState (where each link and citation points, kept current incrementally: see
`LinkState.update`) with titles, node attributes, networkx views and queries over it. The
store's link rows (store.py, indexer.py) answer
backlinks, links, unresolved and orphans; a LinkGraph is built from the stored notes when a
whole-graph question (rank, path, related: ranking.py; doctor: doctor.py; views, exports) is asked.

networkx graphs are views built on demand from that state (`to_networkx`, `simple`) and cached
until the next change: node ids are vault paths for notes, attachments and excluded files,
`unresolved:<target key>` for dangling link targets and `paper:<kind>:<key>` for cited papers
that have no note. Generated tag pages (frontmatter `generated_by: vaultindex`) are kept
resolvable but are left out of every view and query unless asked for.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from .linkstate import GRAPH_VERSION, PAPER, REFERENCE, UNRESOLVED, Entry, LinkState, base, cite_node, link_node
from .models import Citation, Link

if TYPE_CHECKING:
    import networkx as nx


from .answers import Backlink, LinkLine, Mention, MentionLine, NoteRef, OutLink, UnresolvedTarget, Use


def _nx():
    # networkx takes about 0.1 s to import: only the views, paths and ranks need it,
    # so `vaultindex backlinks` does not pay for it.
    import networkx

    return networkx


__all__ = [
    "GRAPH_VERSION",
    "LinkGraph",
    "LinkLine",
    "Backlink",
    "MentionLine",
    "Mention",
    "OutLink",
    "Use",
    "UnresolvedTarget",
    "NoteRef",
]


# -- the graph ----------------------------------------------------------------------------------


class LinkGraph(LinkState):
    """Notes, attachments, dangling targets and cited papers, with typed link/embed/cite edges.

    Build with `LinkGraph.build(notes, attachments, excluded)`, keep current with `update`.
    Every query answers from the compact state; `to_networkx()` / `simple()` give graphs.
    """

    def _kind(self, node: str) -> str:
        if node in self.notes:
            return "note"
        if node in self.attachments:
            return "attachment"
        if node in self.excluded:
            return "excluded"
        if node.startswith(PAPER):
            return "paper"
        if node.startswith(REFERENCE):
            return "reference"
        return "unresolved"

    def title(self, node: str) -> str:
        note = self.notes.get(node)
        if note is not None:
            return note.title
        if node.startswith(PAPER):
            kind, _, key = node[len(PAPER) :].partition(":")
            return _paper_label(kind, key)
        ref = self.reference(node)
        if ref is not None:
            return ref.title or "@" + ref.key
        if node.startswith(UNRESOLVED) and not self._is_file(node):
            return self._written_target(node)
        return base(node)

    def _written_target(self, node: str) -> str:
        """How a dangling target is written most often (ties: sorted first).

        Spellings in regular notes count first; generated pages only when nothing else links.
        """
        regular: Counter[str] = Counter()
        generated: Counter[str] = Counter()
        for source in self._in.get(node, ()):
            counts = generated if source in self.generated else regular
            for _, target, _, _, item in self.edges_of(source):
                if target == node and isinstance(item, Link):
                    counts[item.target] += 1
        return _most_common(regular or generated) or node[len(UNRESOLVED) :]

    def _unresolved_labels(self) -> dict[str, str]:
        """`_written_target` for every dangling target at once."""
        regular: dict[str, Counter[str]] = {}
        generated: dict[str, Counter[str]] = {}
        for source in self.notes:
            bucket = generated if source in self.generated else regular
            for _, node, _, entry, item in self.edges_of(source):
                if entry is None and isinstance(item, Link):
                    bucket.setdefault(node, Counter())[item.target] += 1
        return {node: _most_common(regular.get(node) or generated[node]) for node in regular.keys() | generated.keys()}

    def node_attrs(self, node: str, title: str | None = None) -> dict:
        note = self.notes.get(node)
        if note is not None:
            return {
                "kind": "note",
                "title": note.title,
                "tags": note.tags,
                "year": note.paper.year,
                "authors": note.paper.authors,
            }
        if title is None:
            title = self.title(node)
        ref = self.reference(node)
        if ref is not None:
            return {"kind": "reference", "title": title, "tags": (), "year": ref.year, "authors": ref.authors,
                    "citekey": ref.key}
        return {"kind": self._kind(node), "title": title, "tags": (), "year": None, "authors": ()}

    def reference(self, node: str):
        """The bibliography entry of a `ref:` node (references.Reference), else None."""
        if self.references is None or not node.startswith(REFERENCE):
            return None
        return self.references.by_key.get(node[len(REFERENCE):])

    def edges(self, include_generated: bool = False) -> Iterator[tuple[str, str, str, dict]]:
        """(source, target node, key, attributes) for every link, embed and citation edge.

        Keys are "L<i>" (the i-th link of the source) and "C<i>" (its i-th citation).
        """
        for source in sorted(self.notes):
            if source in self.generated and not include_generated:
                continue
            for i, node, _, entry, item in self.edges_of(source):
                if node in self.generated and not include_generated:
                    continue
                status, candidates = _status(entry)
                if isinstance(item, Citation):
                    attrs = {
                        "kind": "cite",
                        "line": item.line,
                        "subpath": "",
                        "context": item.context,
                        "target": item.key,
                        "display": "",
                        "form": item.kind,
                        "status": status,
                        "candidates": candidates,
                    }
                    yield source, node, f"C{i}", attrs
                else:
                    attrs = {
                        "kind": item.kind,
                        "line": item.line,
                        "subpath": item.subpath,
                        "context": item.context,
                        "target": item.target,
                        "display": item.display,
                        "form": item.form,
                        "status": status,
                        "candidates": candidates,
                    }
                    yield source, node, f"L{i}", attrs

    # -- networkx views -------------------------------------------------------------------------
    def to_networkx(self, include_generated: bool = False) -> nx.MultiDiGraph:
        """Every node and typed edge as an nx.MultiDiGraph.

        Cached until the next update and shared between callers: copy it before changing it.
        """
        key = ("multi", include_generated)
        if key not in self._views:
            g = _nx().MultiDiGraph()
            for path in sorted(self.notes):
                if include_generated or path not in self.generated:
                    g.add_node(path, **self.node_attrs(path))
            others: set[str] = set()
            for source, node, edge_key, attrs in self.edges(include_generated):
                if node not in g:
                    others.add(node)
                    g.add_node(node)
                g.add_edge(source, node, key=edge_key, **attrs)
            labels = self._unresolved_labels() if others else {}
            for node in others:
                g.nodes[node].update(self.node_attrs(node, labels.get(node)))
            self._views[key] = g
        return self._views[key]

    def simple(self, include_generated: bool = False) -> nx.DiGraph:
        """One edge per (source, target) pair with `count` (how many links) and `kinds`.

        Same nodes as `to_networkx`; cached and shared like it: copy it before changing it.
        """
        key = ("simple", include_generated)
        if key not in self._views:
            multi = self.to_networkx(include_generated)
            g = _nx().DiGraph()
            g.add_nodes_from(multi.nodes(data=True))
            kind: str  # (every edge has one: see edges())
            for u, v, kind in multi.edges(data="kind"):
                if g.has_edge(u, v):
                    data = g[u][v]
                    data["count"] += 1
                    if kind not in data["kinds"]:
                        data["kinds"] = tuple(sorted((*data["kinds"], kind)))
                else:
                    g.add_edge(u, v, count=1, kinds=(kind,))
            self._views[key] = g
        return self._views[key]

    def note_graph(self) -> nx.DiGraph:
        """Notes only (generated ones left out), one edge per linking pair."""
        if "notes" not in self._views:
            g = _nx().DiGraph()
            members = [p for p in sorted(self.notes) if p not in self.generated]
            g.add_nodes_from(members)
            for source in members:
                for node in self.targets(source):
                    if node in self.notes and node not in self.generated:
                        g.add_edge(source, node)
            self._views["notes"] = g
        return self._views["notes"]

    def shortest_path(self, a: str, b: str, directed: bool = False) -> list[str] | None:
        """The notes on a shortest chain of links from `a` to `b` (any direction unless
        `directed`), both included; None when no chain joins them."""
        g = self.note_graph()
        if a not in g or b not in g:
            return None
        view = g if directed else g.to_undirected(as_view=True)
        # Of all shortest chains, the one whose notes' paths come first, step by step: the
        # same answer on every run (networkx's own pick follows set order, which varies).
        to_b = _nx().single_source_shortest_path_length(g.reverse(copy=False) if directed else view, b)
        if a not in to_b:
            return None
        chain = [a]
        while chain[-1] != b:
            here = chain[-1]
            chain.append(min(n for n in view[here] if to_b.get(n) == to_b[here] - 1))
        return chain

    # -- queries --------------------------------------------------------------------------------
    def backlinks(self, path: str) -> list[Backlink]:
        """Notes that link to, embed or cite `path`, by source path, each with its lines."""
        out = []
        for source in sorted(self.sources(path)):
            lines = [
                _link_line(item)
                for _, node, _, _, item in self.edges_of(source)
                if node == path
            ]
            lines.sort(key=lambda ln: (ln.line, ln.kind != "cite"))
            out.append(Backlink(source, self.notes[source].title, tuple(lines)))
        return out

    def links(self, path: str) -> list[OutLink]:
        """The note's links and citations in file order, each with where it points."""
        note = self.notes.get(path)
        if note is None:
            return []
        out = []
        for link, entry in zip(note.links, self._links.get(path, ())):
            status, candidates = _status(entry)
            node = link_node(entry, link)
            out.append(
                OutLink(link.line, link.kind, link.target, link.subpath, link.display, link.context,
                        link.form, status, node if status != "unresolved" else None, node, candidates)
            )
        for c, entry in zip(note.citations, self._cites.get(path, ())):
            status, candidates = _status(entry)
            node = cite_node(entry, c)
            out.append(
                OutLink(c.line, "cite", c.key, "", "", c.context, c.kind, status,
                        node if status != "unresolved" else None, node, candidates)
            )
        out.sort(key=lambda o: o.line)  # stable: file order within a line
        return out

    def unresolved(self) -> list[UnresolvedTarget]:
        """Dangling link targets and cited papers with no note, most used first."""
        uses: dict[str, list[Use]] = {}
        forms: dict[str, Counter[str]] = {}
        for source in sorted(self.notes):
            if source in self.generated:
                continue
            for _, node, _, entry, item in self.edges_of(source):
                if entry is None or (isinstance(item, Citation) and _status(entry)[0] == "reference"):
                    uses.setdefault(node, []).append(Use(source, item.line, item.context))
                    if isinstance(item, Link):
                        forms.setdefault(node, Counter())[item.target] += 1
        out = []
        for node, found in uses.items():
            ref = self.reference(node)
            if node in forms:
                out.append(UnresolvedTarget(node, "link", _most_common(forms[node]), len(found), tuple(found)))
            elif ref is not None:  # a paper of the bibliography: what its entry says
                out.append(UnresolvedTarget(node, "paper", "@" + ref.key, len(found), tuple(found), ref.title,
                                            ref.authors, ref.year, f"{ref.path}:{ref.line}"))
            else:
                out.append(UnresolvedTarget(node, "paper", self.title(node), len(found), tuple(found)))
        out.sort(key=lambda u: (-u.count, u.kind != "link", u.target.casefold(), u.node))
        return out

    def orphans(self) -> list[NoteRef]:
        """Notes with no link, embed or citation to or from another note or existing file.

        Dangling links and citations of papers without a note connect nothing, so they do
        not count; neither do generated tag pages.
        """
        out = []
        for path in sorted(self.notes):
            if path in self.generated or self.sources(path):
                continue
            if any(self._exists(node) for node in self.targets(path)):
                continue
            out.append(NoteRef(path, self.notes[path].title))
        return out

    def _is_file(self, node: str) -> bool:
        return node in self.notes or node in self.attachments or node in self.excluded

    def _exists(self, node: str) -> bool:
        if node in self.notes:
            return node not in self.generated
        return node in self.attachments or node in self.excluded

# -- helpers --------------------------------------------------------------------------------------


def _status(entry: Entry) -> tuple[str, tuple[str, ...]]:
    if entry is None:
        return "unresolved", ()
    if isinstance(entry, tuple):
        return "ambiguous", entry
    if isinstance(entry, str) and entry.startswith(REFERENCE):
        return "reference", ()
    return "resolved", ()


def _most_common(counts: Mapping[str, int]) -> str:
    return min(counts, key=lambda form: (-counts[form], form)) if counts else ""


def _paper_label(kind: str, key: str) -> str:
    return {"citekey": "@", "doi": "doi:", "arxiv": "arXiv:"}.get(kind, kind + ":") + key


def _link_line(item: Link | Citation) -> LinkLine:
    if isinstance(item, Citation):
        return LinkLine(item.line, "cite", item.key, "", "", item.context)
    return LinkLine(item.line, item.kind, item.target, item.subpath, item.display, item.context)
