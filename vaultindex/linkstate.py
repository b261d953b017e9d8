"""Owns where each link and citation of the notes points, kept in step with the index.

`LinkState` stores, per note, one compact entry per link and citation (parallel to
`Note.links` / `Note.citations`), a reverse index from each target to the notes pointing at it,
and a reverse index from each link key to the notes that use it. An edit re-resolves only what
it can affect (see `LinkState.update`); the result equals a state built from scratch.
graph.py's `LinkGraph` adds the titles, views and queries on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Self

from .models import Citation, Link, Note
from .resolve import CitationIndex, Resolution, Resolver, citation_key, link_key, name_key

if TYPE_CHECKING:
    from .references import ReferenceIndex

GRAPH_VERSION = 3  # 3: quiet paths (generated pages, conflict copies) in the resolver
UNRESOLVED = "unresolved:"
# Where one link or citation points: a path, the candidates of an ambiguous one, or None.
Entry = str | tuple[str, ...] | None
PAPER = "paper:"
REFERENCE = "ref:"  # a paper of the bibliography with no note (references.py)

# An "entry" says where one link or citation points: a path (resolved; the source's own path
# for a same-note link), a tuple of candidate paths in preference order (ambiguous; the first
# is the one Obsidian opens), or None (unresolved). Kept this small so the graph pickles fast.


class LinkState:
    """The notes, the files links can point at, and where every link and citation points.

    Build with `build(notes, attachments, excluded)`, keep current with `update`.
    """

    def __init__(self, resolve_aliases: bool = False, references: ReferenceIndex | None = None, templates: str = "") -> None:
        self.version = GRAPH_VERSION
        self.references = references  # references.ReferenceIndex: bib-only papers become nodes
        self.resolve_aliases = resolve_aliases
        self.resolver = Resolver(resolve_aliases=resolve_aliases)
        self.citation_index = CitationIndex(templates=templates)  # templates: never a citation's target
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
        templates: str = "",
    ) -> Self:
        graph = cls(resolve_aliases, references, templates)
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
                    changed_keys.add(name_key(base(path)))
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
        changed_keys.add(name_key(base(path)))
        changed_keys.update(name_key(base(copy)) for copy in self.resolver.copies_of(path))

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
            node = link_node(entry, link)
            if node != source:
                yield i, node, False, entry, link
        for i, (c, entry) in enumerate(zip(note.citations, self._cites.get(source, ()))):
            node = cite_node(entry, c)
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


# -- helpers --------------------------------------------------------------------------------------


def base(path: str) -> str:
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


def link_node(entry: Entry, link: Link) -> str:
    if entry is None:
        return unresolved_node(link.target)
    return entry[0] if isinstance(entry, tuple) else entry


def cite_node(entry: Entry, citation: Citation) -> str:
    if entry is None:
        return paper_node(citation)
    return entry[0] if isinstance(entry, tuple) else entry


def unresolved_node(target: str) -> str:
    """The node of a dangling link target, `unresolved:<target key>` (the graph's and the link rows')."""
    return UNRESOLVED + name_key(target)


def paper_node(citation: Citation) -> str:
    """The node of a cited paper with no note, `paper:<kind>:<key>` (the graph's and the link rows')."""
    kind, key = citation_key(citation)
    return f"{PAPER}{kind}:{key}"


__all__ = [
    "GRAPH_VERSION", "UNRESOLVED", "PAPER", "REFERENCE", "Entry", "LinkState", "base", "link_node", "cite_node", "unresolved_node",
    "paper_node",
]
