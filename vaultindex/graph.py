"""Owns the link and citation graph: who links to, embeds or cites whom, kept in step with the index.

networkx is imported here (and, per DESIGN.md, by the export modules only). `LinkGraph`
stores, per note, where each of its links and citations points (one compact entry per link,
parallel to `Note.links`), a reverse index from each target to the notes pointing at it, and
a reverse index from each link key to the notes that use it. An edit re-resolves only what
it can affect (see `LinkGraph.update`). The store's link rows (store.py, indexer.py) answer
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
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from .models import Citation, Link, Note
from .resolve import CitationIndex, Resolution, Resolver, citation_key, link_key, name_key

if TYPE_CHECKING:
    import networkx as nx

    from .references import ReferenceIndex

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

GRAPH_VERSION = 3  # 3: quiet paths (generated pages, conflict copies) in the resolver
UNRESOLVED = "unresolved:"
# Where one link or citation points: a path, the candidates of an ambiguous one, or None.
Entry = str | tuple[str, ...] | None
PAPER = "paper:"
REFERENCE = "ref:"  # a paper of the bibliography with no note (references.py)

# An "entry" says where one link or citation points: a path (resolved; the source's own path
# for a same-note link), a tuple of candidate paths in preference order (ambiguous; the first
# is the one Obsidian opens), or None (unresolved). Kept this small so the graph pickles fast.


# -- the graph ----------------------------------------------------------------------------------


class LinkGraph:
    """Notes, attachments, dangling targets and cited papers, with typed link/embed/cite edges.

    Build with `LinkGraph.build(notes, attachments, excluded)`, keep current with `update`.
    Every query answers from the compact state; `to_networkx()` / `simple()` give graphs.
    """

    def __init__(self, resolve_aliases: bool = False, references: ReferenceIndex | None = None) -> None:
        self.version = GRAPH_VERSION
        self.references = references  # references.ReferenceIndex: bib-only papers become nodes
        self.resolve_aliases = resolve_aliases
        self.resolver = Resolver(resolve_aliases=resolve_aliases)
        self.citation_index = CitationIndex()
        self.notes: dict[str, Note] = {}  # every indexed note, generated ones included
        self.generated: set[str] = set()  # paths of generated notes (left out of queries)
        self.attachments: set[str] = set()
        self.excluded: set[str] = set()  # files that exist but are not indexed
        self._links: dict[str, tuple[Entry, ...]] = {}  # source -> one Entry per note.links
        self._cites: dict[str, tuple[Entry, ...]] = {}  # source -> one Entry per note.citations
        self._in: dict[str, set[str]] = {}  # node -> sources with an edge to it (self-loops not kept)
        self._by_key: dict[str, set[str]] = {}  # link_key -> sources using it
        self._by_cite: dict[tuple[str, str], set[str]] = {}  # citation_key -> sources using it
        self._views: dict = {}  # cached networkx views, never pickled
        # (Kept for update()'s bookkeeping; nothing pickles a LinkGraph any more: it is built
        # from the store's rows when a whole-graph question is asked.)
        self._names_blob: bytes | None = None

    def compatible(self, resolve_aliases: bool) -> bool:
        """Whether this (possibly unpickled) graph can be kept and updated under these settings."""
        return getattr(self, "version", None) == GRAPH_VERSION and self.resolve_aliases == resolve_aliases

    @classmethod
    def build(
        cls,
        notes: Iterable[Note],
        attachments: Iterable[str] = (),
        excluded: Iterable[str] = (),
        *,
        resolve_aliases: bool = False,
        references: ReferenceIndex | None = None,
    ) -> LinkGraph:
        graph = cls(resolve_aliases, references)
        graph.update(notes, (), set(attachments), set(excluded))
        return graph

    # -- keeping it current -----------------------------------------------------------------
    def update(
        self,
        upserted: Iterable[Note] = (),
        removed: Iterable[str] = (),
        attachments: set[str] | None = None,
        excluded: set[str] | None = None,
    ) -> None:
        """Apply one batch: notes added or changed, note paths removed, and the new sets of
        attachment and excluded paths (None: unchanged).

        Only links whose target key names a file that appeared, disappeared or changed aliases
        (with alias resolution on) are re-resolved, and only citations whose key a changed
        note answers to; the result equals a graph built from scratch.
        """
        upserted = list(upserted)
        changed_keys: set[str] = set()
        changed_cites: set[tuple[str, str]] = set()
        resolver = self.resolver
        # Whether the resolver or the citation index changed (see _names_blob); the blob is put
        # back only when neither did, so that an error half way never leaves a stale one.
        names_changed = False
        names_blob, self._names_blob = self._names_blob, None

        for path in removed:
            note = self.notes.pop(path, None)
            if note is None:
                continue
            self._unregister_source(path, note)
            self.generated.discard(path)
            changed_cites |= self.citation_index.keys_for(path)
            names_changed |= self.citation_index.remove(path)
            names_changed |= self._forget_file(path, note.aliases, changed_keys)

        old_files = self.attachments | self.excluded
        new_attachments = self.attachments if attachments is None else set(attachments)
        new_excluded = self.excluded if excluded is None else set(excluded)
        new_files = new_attachments | new_excluded
        for path in old_files - new_files:
            if path not in self.notes:
                names_changed |= self._forget_file(path, (), changed_keys)
        self.attachments, self.excluded = new_attachments, new_excluded

        for note in upserted:
            path = note.path
            old = self.notes.get(path)
            if old is not None:
                self._unregister_source(path, old)
            generated = note.generated
            if path not in resolver:
                resolver.add(path, note.aliases, generated=generated)
                self._name_changed(path, changed_keys)
                names_changed = True
                if self.resolve_aliases:
                    changed_keys.update(name_key(a) for a in note.aliases)
            elif old is None or old.aliases != note.aliases or old.generated != generated:
                resolver.add(path, note.aliases, generated=generated)
                names_changed = True
                if old is None or old.generated != generated:
                    changed_keys.add(name_key(_base(path)))
                if self.resolve_aliases:
                    changed_keys.update(name_key(a) for a in (*(old.aliases if old else ()), *note.aliases))
            before = self.citation_index.keys_for(path)
            if note.generated:
                names_changed |= self.citation_index.remove(path)
                self.generated.add(path)
            else:
                names_changed |= self.citation_index.add(note)
                self.generated.discard(path)
            after = self.citation_index.keys_for(path)
            if before != after:
                changed_cites |= before | after
            self.notes[path] = note

        for path in new_files - old_files:
            if path not in resolver:
                resolver.add(path)
                names_changed = True
                self._name_changed(path, changed_keys)
        if not names_changed:
            self._names_blob = names_blob

        fresh = {note.path for note in upserted}
        changed_keys.discard("")
        if changed_keys:
            affected: dict[str, set[str]] = {}
            for key in changed_keys:
                for source in self._by_key.get(key, ()):
                    if source not in fresh:
                        affected.setdefault(source, set()).add(key)
            for source, keys in affected.items():
                self._reresolve_links(source, keys)
        if changed_cites:
            affected_cites: dict[str, set[tuple[str, str]]] = {}
            for cite_key in changed_cites:
                for source in self._by_cite.get(cite_key, ()):
                    if source not in fresh:
                        affected_cites.setdefault(source, set()).add(cite_key)
            for source, cite_keys in affected_cites.items():
                self._reresolve_cites(source, cite_keys)

        for note in upserted:
            if self.notes.get(note.path) is note:
                self._register_source(note)
        self._views = {}

    def _forget_file(self, path: str, aliases: Iterable[str], changed_keys: set[str]) -> bool:
        """Drop a file from the resolver; whether it was there."""
        if path not in self.resolver:
            return False
        self.resolver.remove(path)
        self._name_changed(path, changed_keys)
        if self.resolve_aliases:
            changed_keys.update(name_key(a) for a in aliases)
        return True

    def _name_changed(self, path: str, changed_keys: set[str]) -> None:
        """`path` appeared or went: the keys whose resolution that can change (its own name and
        the names of its conflict copies, which are quiet only while it exists)."""
        changed_keys.add(name_key(_base(path)))
        changed_keys.update(name_key(_base(copy)) for copy in self.resolver.copies_of(path))

    def _register_source(self, note: Note) -> None:
        path = note.path
        self._links[path] = tuple(self._resolve_link(path, link) for link in note.links)
        self._cites[path] = tuple(self._resolve_cite(c) for c in note.citations)
        for key in {link_key(link.target) for link in note.links}:
            if key:
                self._by_key.setdefault(key, set()).add(path)
        for cite_key in {citation_key(c) for c in note.citations}:
            self._by_cite.setdefault(cite_key, set()).add(path)
        for node in self.targets(path):
            self._in.setdefault(node, set()).add(path)

    def _unregister_source(self, path: str, note: Note) -> None:
        for node in self.targets(path, note):
            _discard(self._in, node, path)
        for link in note.links:
            key = link_key(link.target)
            if key:
                _discard(self._by_key, key, path)
        for c in note.citations:
            _discard(self._by_cite, citation_key(c), path)
        self._links.pop(path, None)
        self._cites.pop(path, None)

    def _reresolve_links(self, source: str, keys: set[str]) -> None:
        note = self.notes[source]
        old_targets = self.targets(source)
        entries = list(self._links[source])
        for i, link in enumerate(note.links):
            if link_key(link.target) in keys:
                entries[i] = self._resolve_link(source, link)
        self._links[source] = tuple(entries)
        self._retarget(source, old_targets)

    def _reresolve_cites(self, source: str, keys: set[tuple[str, str]]) -> None:
        note = self.notes[source]
        old_targets = self.targets(source)
        entries = list(self._cites[source])
        for i, c in enumerate(note.citations):
            if citation_key(c) in keys:
                entries[i] = self._resolve_cite(c)
        self._cites[source] = tuple(entries)
        self._retarget(source, old_targets)

    def _retarget(self, source: str, old_targets: set[str]) -> None:
        new_targets = self.targets(source)
        for node in old_targets - new_targets:
            _discard(self._in, node, source)
        for node in new_targets - old_targets:
            self._in.setdefault(node, set()).add(source)

    def _resolve_link(self, source: str, link: Link) -> Entry:
        return _entry(self.resolver.resolve(source, link.target))

    def _resolve_cite(self, citation: Citation) -> Entry:
        entry = _entry(self.citation_index.resolve(citation))
        if entry is None and self.references is not None:
            ref = self.references.resolve(citation)
            return ref.node if ref is not None else None  # a bib-only paper (see _status)
        return entry

    # -- reading the state ----------------------------------------------------------------------
    def link_entries(self, source: str) -> tuple[Entry, ...]:
        """Where each of `source`'s links points, parallel to `Note.links`: a path (resolved;
        the source's own path for a same-note link), a tuple of candidate paths, preferred
        first (ambiguous), or None (unresolved)."""
        return self._links.get(source, ())

    def edges_of(
        self, source: str, note: Note | None = None
    ) -> Iterator[tuple[int, str, bool, Entry, Link | Citation]]:
        """(index, target node, is_citation, entry, item) for each of `source`'s links and
        citations that does not point back at `source` itself."""
        if note is None:
            note = self.notes[source]
        for i, (link, entry) in enumerate(zip(note.links, self._links.get(source, ()))):
            node = _link_node(entry, link)
            if node != source:
                yield i, node, False, entry, link
        for i, (c, entry) in enumerate(zip(note.citations, self._cites.get(source, ()))):
            node = _cite_node(entry, c)
            if node != source:
                yield i, node, True, entry, c

    def targets(self, source: str, note: Note | None = None) -> set[str]:
        if source not in self._links:
            return set()
        return {node for _, node, _, _, _ in self.edges_of(source, note)}

    def sources(self, node: str) -> set[str]:
        """Notes (generated ones left out) with a link, embed or citation to `node`."""
        sources = self._in.get(node, set())
        return sources - self.generated if self.generated else set(sources)

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
        return _base(node)

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
        try:
            return list(_nx().shortest_path(view, a, b))
        except _nx().NetworkXNoPath:
            return None

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
            node = _link_node(entry, link)
            out.append(
                OutLink(link.line, link.kind, link.target, link.subpath, link.display, link.context,
                        link.form, status, node if status != "unresolved" else None, node, candidates)
            )
        for c, entry in zip(note.citations, self._cites.get(path, ())):
            status, candidates = _status(entry)
            node = _cite_node(entry, c)
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


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _discard(index: dict, key: object, value: str) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.discard(value)
        if not bucket:
            del index[key]


def _entry(res: Resolution) -> Entry:
    if res.status == "resolved":
        return res.path
    if res.status == "ambiguous":
        return tuple(res.candidates)
    return None


def _status(entry: Entry) -> tuple[str, tuple[str, ...]]:
    if entry is None:
        return "unresolved", ()
    if isinstance(entry, tuple):
        return "ambiguous", entry
    if isinstance(entry, str) and entry.startswith(REFERENCE):
        return "reference", ()
    return "resolved", ()


def _link_node(entry: Entry, link: Link) -> str:
    if entry is None:
        return UNRESOLVED + name_key(link.target)
    return entry[0] if isinstance(entry, tuple) else entry


def _cite_node(entry: Entry, citation: Citation) -> str:
    if entry is None:
        kind, key = citation_key(citation)
        return f"{PAPER}{kind}:{key}"
    return entry[0] if isinstance(entry, tuple) else entry


def _most_common(counts: Mapping[str, int]) -> str:
    return min(counts, key=lambda form: (-counts[form], form)) if counts else ""


def _paper_label(kind: str, key: str) -> str:
    return {"citekey": "@", "doi": "doi:", "arxiv": "arXiv:"}.get(kind, kind + ":") + key


def _link_line(item: Link | Citation) -> LinkLine:
    if isinstance(item, Citation):
        return LinkLine(item.line, "cite", item.key, "", "", item.context)
    return LinkLine(item.line, item.kind, item.target, item.subpath, item.display, item.context)
