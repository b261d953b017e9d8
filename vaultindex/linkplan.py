"""Owns link planning: resolving a batch's links and re-resolving only the stored links it can
affect, over the store's rows (it mirrors linkstate.LinkState.update). indexer.py writes the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .linkstate import base, paper_node, unresolved_node
from .models import Citation, Note, Paper
from .resolve import CitationIndex, Resolution, Resolver, citation_key, conflict_candidates, link_key, name_key
from .store import Store, encode_path, link_row, storable_text

if TYPE_CHECKING:
    from .references import LazyReferences, ReferenceIndex

    References = ReferenceIndex | LazyReferences


@dataclass(frozen=True)
class LinkPlan:
    """What the batch changes in the link rows."""

    rows: tuple[tuple, ...] = ()  # link rows of the upserted notes
    updates: tuple[tuple, ...] = ()  # (node, status, candidates, source, cite, seq) of re-resolved rows
    keys: tuple[tuple[str, str, str], ...] = ()  # reskeys rows (kind, key, path) of the upserted notes


def _link_entry(res: Resolution, link_target: str) -> tuple[str, str, tuple[str, ...]]:
    """(node, status, candidates) of a resolved link."""
    if res.status == "resolved" and res.path is not None:
        return res.path, "resolved", ()
    if res.status == "ambiguous":
        return res.candidates[0], "ambiguous", tuple(res.candidates)
    return unresolved_node(link_target), "unresolved", ()


def _cite_entry(res: Resolution, citation: Citation, references: References | None = None) -> tuple[str, str, tuple[str, ...]]:
    if res.status == "resolved" and res.path is not None:
        return res.path, "resolved", ()
    if res.status == "ambiguous":
        return res.candidates[0], "ambiguous", tuple(res.candidates)
    ref = references.resolve(citation) if references is not None else None
    if ref is not None:
        return ref.node, "reference", ()  # a paper of the bibliography with no note
    return paper_node(citation), "unresolved", ()


def _cite_key(citation: Citation) -> str:
    kind, key = citation_key(citation)
    return f"{kind}:{key}"


def plan_links(
    store: Store,
    upserted: list[Note],
    removed: list[str],
    old_files: set[str],
    new_files: set[str],
    resolve_aliases: bool,
    fresh: bool = False,
    references: References | None = None,
    reference_keys: Iterable[str] = (),
) -> LinkPlan:
    """Resolve the upserted notes' links, and re-resolve only the stored links whose target key
    names a file that appeared, disappeared or changed aliases, the citations whose key a
    changed note answers to, and those whose key names a changed bibliography entry
    (`reference_keys`). A citation with no note resolves to its entry in `references`
    (references.ReferenceIndex) when there is one. The result equals resolving everything
    from scratch."""
    reference_keys = set(reference_keys)
    resolver = Resolver(resolve_aliases=resolve_aliases)
    cindex = CitationIndex()
    known: dict[str, tuple[tuple[str, ...], bool]] = {}  # note path -> (aliases, generated), before this batch
    if not fresh:
        entries, files = _reachable(store, upserted, removed, old_files, new_files, resolve_aliases, reference_keys)
        for path, aliases, citekey, doi, arxiv, generated in entries:
            resolver.add(path, aliases, generated=generated)  # a generated page is quiet (as in LinkState)
            known[path] = (aliases, generated)
            if not generated:
                cindex.add(Note(path, "", paper=Paper(citekey=citekey, doi=doi, arxiv=arxiv)))
        for path in files:
            if path not in resolver:
                resolver.add(path)

    changed_keys: set[str] = set()
    changed_cites: set[tuple[str, str]] = set()

    def forget(path: str, aliases: Iterable[str]) -> None:
        if path not in resolver:
            return
        resolver.remove(path)
        changed_keys.add(name_key(base(path)))
        if resolve_aliases:
            changed_keys.update(name_key(a) for a in aliases)

    for path in removed:
        if path not in known:
            continue
        aliases = known.pop(path)[0]
        changed_cites |= cindex.keys_for(path)
        cindex.remove(path)
        forget(path, aliases)
    for path in old_files - new_files:
        if path not in known:
            forget(path, ())
    for note in upserted:
        path = note.path
        old_aliases, old_generated = known.get(path, (None, None))
        if path not in resolver:
            changed_keys.add(name_key(base(path)))
            resolver.add(path, note.aliases, generated=note.generated)
            if resolve_aliases:
                changed_keys.update(name_key(a) for a in note.aliases)
        elif old_aliases is None or old_aliases != note.aliases or old_generated != note.generated:
            resolver.add(path, note.aliases, generated=note.generated)
            if old_generated != note.generated:
                changed_keys.add(name_key(base(path)))
            if resolve_aliases:
                changed_keys.update(name_key(a) for a in (*(old_aliases or ()), *note.aliases))
        before = cindex.keys_for(path)
        if note.generated:
            cindex.remove(path)
        else:
            cindex.add(note)
        after = cindex.keys_for(path)
        if before != after:
            changed_cites |= before | after
        known[path] = (note.aliases, note.generated)
    for path in new_files - old_files:
        if path not in resolver:
            resolver.add(path)
            changed_keys.add(name_key(base(path)))
    changed_keys.discard("")

    skip = {n.path for n in upserted} | set(removed)
    updates: list[tuple] = []
    if not fresh:
        from .store import decode_path

        for source, seq, target, _form in store.links_with_keys(False, changed_keys):
            path = decode_path(source)
            if path in skip:
                continue
            node, status, cands = _link_entry(resolver.resolve(path, target), target)
            updates.append((encode_path(node), status, _cands(cands), source, 0, seq))
        cite_keys = {f"{kind}:{key}" for kind, key in changed_cites} | set(reference_keys)
        for source, seq, target, form in store.links_with_keys(True, cite_keys):
            if decode_path(source) in skip:
                continue
            citation = Citation(target, form)
            node, status, cands = _cite_entry(cindex.resolve(citation), citation, references)
            updates.append((encode_path(node), status, _cands(cands), source, 1, seq))

    rows: list[tuple] = []
    keys: list[tuple[str, str, str]] = []
    for note in upserted:
        path = note.path
        keys += [(kind, storable_text(key), encode_path(path)) for kind, key in _resolution_keys(note, cindex)]
        for seq, link in enumerate(note.links):
            node, status, cands = _link_entry(resolver.resolve(path, link.target), link.target)
            rows.append(link_row(path, False, seq, link_key(link.target), node, status, cands, link))
        for seq, citation in enumerate(note.citations):
            node, status, cands = _cite_entry(cindex.resolve(citation), citation, references)
            rows.append(link_row(path, True, seq, _cite_key(citation), node, status, cands, citation))
    return LinkPlan(tuple(rows), tuple(updates), tuple(keys))


def _resolution_keys(note: Note, cindex: CitationIndex) -> set[tuple[str, str]]:
    """The reskeys rows of a note (see store.py): the keys its file name, aliases and paper
    identifiers answer to."""
    found = {("base", name_key(base(note.path)))}
    found.update(("alias", k) for k in map(name_key, note.aliases) if k)
    found.update(cindex.keys_for(note.path))  # (citekey|doi|arxiv, key); none for a generated note
    return found


def _reachable(
    store: Store, upserted: list[Note], removed: list[str], old_files: set[str], new_files: set[str], resolve_aliases: bool,
    reference_keys: Iterable[str] = (),
) -> tuple[list[tuple[str, tuple[str, ...], str, str, str, bool]], set[str]]:
    """The stored notes (names_for_resolution rows) and the files a batch's resolution can
    depend on: the batch's own paths, every note or file whose name key is a key the batch
    resolves or re-resolves (its links' keys, its paths' names, old and new aliases), every
    note answering to a citation key it resolves or re-resolves, and the originals of any
    conflict copy among those (they make a copy quiet), and every note answering to the key of
    a changed bibliography entry (`reference_keys`, "kind:key"). A Resolver and a CitationIndex of just
    these answer those keys exactly as ones of the whole vault do (resolve.py's invalidation
    contract), at a cost that grows with the batch, not with the vault."""
    batch = {n.path for n in upserted} | set(removed)
    entries = {e[0]: e for e in store.resolution_entries(batch)}
    link_keys = {link_key(link.target) for n in upserted for link in n.links}
    link_keys |= {name_key(base(p)) for p in batch | (old_files ^ new_files)}
    if resolve_aliases:
        link_keys |= {name_key(a) for n in upserted for a in n.aliases}
        link_keys |= {name_key(a) for e in entries.values() for a in e[1]}
    link_keys.discard("")
    before = CitationIndex()
    for path, _aliases, citekey, doi, arxiv, generated in entries.values():
        if not generated:
            before.add(Note(path, "", paper=Paper(citekey=citekey, doi=doi, arxiv=arxiv)))
    after = CitationIndex(n for n in upserted if not n.generated)
    cite_keys = {citation_key(c) for n in upserted for c in n.citations}
    for path in batch:
        cite_keys |= before.keys_for(path) | after.keys_for(path)
    # A changed bibliography entry re-resolves the citations of its key: a note may answer them.
    cite_keys |= {(kind, key) for kind, _, key in (k.partition(":") for k in reference_keys)}
    wanted = {("base", k) for k in link_keys} | cite_keys
    if resolve_aliases:
        wanted |= {("alias", k) for k in link_keys}
    reach = store.paths_with_keys(wanted) - entries.keys()
    entries.update((e[0], e) for e in store.resolution_entries(reach))
    files = {p for p in old_files if p in batch or name_key(base(p)) in link_keys}
    # A conflict copy among them is quiet when its original exists: that original too.
    original_keys = {
        name_key(base(original))
        for p in (*entries, *files, *batch, *new_files) for original, _tool in conflict_candidates(p)
    } - link_keys
    if original_keys:
        more = store.paths_with_keys({("base", k) for k in original_keys}) - entries.keys()
        entries.update((e[0], e) for e in store.resolution_entries(more))
        files |= {p for p in old_files if name_key(base(p)) in original_keys}
    return sorted(entries.values()), files


def _cands(candidates: tuple[str, ...]) -> str:
    return json.dumps([encode_path(c) for c in candidates]) if candidates else ""


__all__ = ["LinkPlan", "plan_links"]
