"""Owns the bibliography inside the index: which files feed it and when they are read again,
how a citation resolves to a bibliography entry, and the papers that are only there.

A citation resolves to a paper note first (resolve.CitationIndex), else to the entry of the
bibliography with that citekey, DOI or arXiv id (a "reference": a paper with no note, node
`ref:<key>` in the graph), else it is unknown (`paper:<kind>:<key>`). Reading the bibliography
files is bib/'s; this module decides, on every batch, whether any of them changed (its stamp,
or the set of files), and only then reads the changed ones again and names the citation keys
to re-resolve (`BibPlan.changed`): the notes are never read again for it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .config import Config
from .errors import NoteNotFound
from .fsutil import file_stamp
from .models import BibEntry, BibliographyChange, Citation, Diagnostic, Note, Paper
from .resolve import CitationIndex, citation_key

if TYPE_CHECKING:
    from .store import Store

T = TypeVar("T")

REFERENCE = "ref:"

__all__ = ["REFERENCE", "Reference", "ReferenceHit", "ReferenceIndex", "BibPlan", "plan_bibliography",
           "reference_node", "reference_key", "search_words", "entry_rows", "tagged"]


@dataclass(frozen=True, slots=True)
class Reference:
    """A bibliography entry as the index keeps it (the entry in force for its key)."""

    key: str
    title: str = ""
    authors: tuple[str, ...] = ()  # "Last, First"
    year: int | None = None
    venue: str = ""
    doi: str = ""
    arxiv: str = ""
    url: str = ""
    type: str = ""
    path: str = ""  # the bibliography file (vault-relative, or as named in the config)
    line: int = 0

    @property
    def node(self) -> str:
        return REFERENCE + self.key


@dataclass(frozen=True, slots=True)
class ReferenceHit:
    """A paper of the bibliography with no note, found by a search (never mixed with note hits)."""

    key: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    venue: str
    path: str
    line: int


def tagged(hits: Iterable[Any], refs: Iterable[ReferenceHit]) -> list[dict[str, Any]]:
    """A search's answer as `search --json` and MCP's search give it: the note hits (SearchHit,
    best first), then the bibliography's papers without a note, each object with its `kind`
    ("note" or "reference") first, so that `jq 'select(.kind == "note")'` picks one kind."""
    from dataclasses import asdict

    return [*({"kind": "note", **asdict(h)} for h in hits), *({"kind": "reference", **asdict(r)} for r in refs)]


def reference_node(key: str) -> str:
    return REFERENCE + key


def reference_key(node: str) -> str | None:
    """The citekey of a `ref:` node, None for any other node."""
    return node[len(REFERENCE):] if node.startswith(REFERENCE) else None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def _row_keys(ref: Reference) -> set[str]:
    """The link-row keys (`kind:normalised key`, as linkplan._cite_key) this entry answers to."""
    keys = {"citekey:" + _fold(ref.key)}
    if ref.doi:
        keys.add("doi:" + citation_key(Citation(ref.doi, "doi"))[1])
    if ref.arxiv:
        keys.add("arxiv:" + citation_key(Citation(ref.arxiv, "arxiv"))[1])
    return keys


class ReferenceIndex:
    """Which bibliography entry a citation names: the exact citekey, else the same key in
    another letter case (notes' citekeys compare folded too), else the DOI or arXiv id.
    Among several entries with one folded key, DOI or arXiv id, the first key (sorted) wins."""

    def __init__(self, references: Iterable[Reference] = ()) -> None:
        self.by_key: dict[str, Reference] = {}
        self._maps: dict[str, dict[str, str]] = {"citekey": {}, "doi": {}, "arxiv": {}}
        for ref in sorted(references, key=lambda r: r.key):
            self.by_key[ref.key] = ref
            for row_key in _row_keys(ref):
                kind, _, key = row_key.partition(":")
                self._maps[kind].setdefault(key, ref.key)

    def __len__(self) -> int:
        return len(self.by_key)

    def resolve(self, citation: Citation) -> Reference | None:
        if citation.kind == "citekey":
            exact = self.by_key.get(citation.key.strip().lstrip("@"))
            if exact is not None:
                return exact
        kind, key = citation_key(citation)
        found = self._maps.get(kind, {}).get(key)
        return self.by_key[found] if found is not None else None


class LazyReferences:
    """A ReferenceIndex loaded on first use (a batch without citations never loads one)."""

    def __init__(self, load: Callable[[], Iterable[Reference]]) -> None:
        self._load = load
        self._index: ReferenceIndex | None = None

    def resolve(self, citation: Citation) -> Reference | None:
        if self._index is None:
            self._index = ReferenceIndex(self._load())
        return self._index.resolve(citation)


def from_row(row: tuple) -> Reference:
    key, path, line, kind, title, authors, year, venue, doi, arxiv, url = row
    return Reference(key, title or "", tuple(json.loads(authors or "[]")), year, venue or "", doi or "", arxiv or "",
                     url or "", kind or "", path or "", line or 0)


def from_entry(entry: BibEntry) -> Reference:
    return Reference(entry.key, entry.title, entry.authors, entry.year, entry.venue, entry.doi, entry.arxiv,
                     entry.url, entry.type, entry.path, entry.line)


def _haystack(ref: Reference) -> str:
    """What a search looks in: key, title, authors (as written and First Last), year, venue."""
    shown = [" ".join(reversed(a.split(", ", 1))) for a in ref.authors]
    parts = [ref.key, ref.title, *ref.authors, *shown, str(ref.year or ""), ref.venue, ref.doi, ref.arxiv]
    return _fold(" ".join(p for p in parts if p))


def entry_rows(refs: Iterable[Reference]) -> list[tuple]:
    return [
        (r.key, r.path, r.line, r.type, r.title, json.dumps(list(r.authors), ensure_ascii=True), r.year, r.venue,
         r.doi, r.arxiv, r.url, _haystack(r))
        for r in refs
    ]


def search_words(query: str) -> list[str]:
    """The words of a query as the reference search compares them (folded; field prefixes
    such as `author:` and the query grammar's operators dropped)."""
    words = []
    for raw in query.replace('"', " ").split():
        word = raw.split(":", 1)[1] if ":" in raw and not raw.startswith("10.") else raw
        word = word.strip("()*").lstrip("@")
        if not word or word in ("AND", "OR", "NOT") or raw.startswith("-"):
            continue
        words.append(_fold(word))
    return words


# -- the bibliography of one batch --------------------------------------------------------------


@dataclass(frozen=True)
class BibPlan:
    """What a batch changes in the bibliography rows: None fields when nothing changed."""

    files: list[tuple]  # bibfiles rows
    entries: list[tuple]  # bibentries rows
    diagnostics: tuple[Diagnostic, ...]
    changed: set[str]  # link-row keys to re-resolve
    index: ReferenceIndex
    change: BibliographyChange = BibliographyChange()  # what SyncStats says of it


def plan_bibliography(
    root: Path,
    config: Config,
    attachments: Iterable[str],
    notebib: Mapping[str, Any],
    stored_stamps: list[tuple],
    stored_data: Callable[[], Mapping[str, str]],
    stored_entries: Callable[[], Iterable[Reference]],
) -> BibPlan | None:
    """Whether the bibliography changed since the stored one, and if so its new rows.

    `notebib` maps each note to its frontmatter `bibliography:` value; `stored_stamps` are the
    bibfiles rows' (path, file, format, origin, size, mtime_ns). Only when a file's stamp or the
    set of files differs are the files read (those changed; the others come from `stored_data`)."""
    from . import bib

    sources, problems = bib.vault_sources(root, config, attachments, {p: {"bibliography": v} for p, v in notebib.items()})
    now = sorted((s.path, str(s.file), s.format, s.origin, *file_stamp(s.file)) for s in sources)
    stored = [tuple(r) for r in stored_stamps]
    if now == stored:
        return None
    unchanged = set(now) & set(stored)  # files read before whose stamp is the same: not read again
    previous_files = []
    data = stored_data() if unchanged else {}
    for path, file, fmt, origin, _size, _mtime in sorted(unchanged):
        restored = _file_from_json(bib.BibSource(path, Path(file), fmt, origin), data.get(path) or "")
        if restored is not None:  # else (never stored, or stored unreadably) the file is read again
            previous_files.append(restored)
    # (assembled: when the files are just those, bib.read gives this Bibliography back as it is)
    previous = bib.assemble(tuple(previous_files)) if previous_files else None
    bibliography = bib.read(sources, previous)
    new = {e.key: from_entry(e) for e in bibliography}
    old = {r.key: r for r in stored_entries()} if stored else {}
    changed: set[str] = set()
    counts = {"added": 0, "changed": 0, "removed": 0}
    for key in old.keys() | new.keys():
        if old.get(key) != new.get(key):
            counts["added" if key not in old else "removed" if key not in new else "changed"] += 1
            for ref in (old.get(key), new.get(key)):
                if ref is not None:
                    changed |= _row_keys(ref)
    kept = {id(f) for f in previous_files}
    read_again = {f.path for f in bibliography.files if id(f) not in kept}
    gone = {row[0] for row in stored} - {row[0] for row in now}
    stamps = {r[0]: (r[4], r[5]) for r in now}
    files = []
    for f in bibliography.files:
        # The stamp compared next time is the one seen now (a file saved while being read is read again).
        size, mtime = stamps.get(f.path, (None, None))
        files.append((f.path, str(f.source.file), f.source.format, f.source.origin, size, mtime, _file_to_json(f)))
    return BibPlan(files, entry_rows(new.values()), (*problems, *bibliography.diagnostics), changed,
                   ReferenceIndex(new.values()), BibliographyChange(tuple(sorted(read_again | gone)), **counts))


# A file as read, stored compactly (lists, not objects: 5,000 entries in tens of milliseconds).
def _entry_list(e: BibEntry) -> list:
    return [e.key, e.type, e.title, list(e.authors), e.year, e.month, e.venue, e.doi, e.arxiv, e.url, e.path, e.line,
            e.crossref, [list(f) for f in e.fields]]


def _entry_from_list(v: list) -> BibEntry:
    key, kind, title, authors, year, month, venue, doi, arxiv, url, path, line, crossref, fields = v
    return BibEntry(key, kind, title, tuple(authors), year, month, venue, doi, arxiv, url, path, line, crossref,
                    tuple((str(a), str(b)) for a, b in fields))


def _diag_list(d: Diagnostic) -> list:
    return [d.path, d.message, d.line, d.severity]


def _file_to_json(f: Any) -> str:
    fp = f.fingerprint
    return json.dumps({
        "fingerprint": [fp.size, fp.mtime_ns, fp.sha1] if fp is not None else None,
        "entries": [_entry_list(e) for e in f.entries],
        "diagnostics": [_diag_list(d) for d in f.diagnostics],
    }, ensure_ascii=True, separators=(",", ":"))


def _file_from_json(source: Any, text: str) -> Any:
    """The stored BibFile, None when there is none or it cannot be read back (any shape
    but the one `_file_to_json` writes)."""
    from . import bib

    try:
        data = json.loads(text)
        fp = data.get("fingerprint")
        return bib.BibFile(
            source,
            bib.Fingerprint(*fp) if fp else None,
            tuple(_entry_from_list(e) for e in data.get("entries", ())),
            tuple(Diagnostic(*d) for d in data.get("diagnostics", ())),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def diagnostics_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([_diag_list(d) for d in diagnostics], ensure_ascii=True)


def diagnostics_from_json(text: str) -> list[Diagnostic]:
    try:
        rows = json.loads(text or "[]")
    except ValueError:
        return []
    return [Diagnostic(*d) for d in rows if isinstance(d, list) and len(d) == 4]


# -- the questions the facade asks of the index (vault.py's entries call these) -----------------


class Ask(Protocol):
    """How a query reaches the index: Vault._ask (a store, retried after a repair)."""

    def __call__(self, question: Callable[[Store], T], /) -> T: ...


def stored_index(ask: Ask) -> ReferenceIndex:
    """The bibliography entries of the index, by citekey, DOI and arXiv id."""
    return ReferenceIndex(from_row(r) for r in ask(lambda s: s.bib_entries()))


def paper_notes(ask: Ask, citations: Iterable[Citation] | None = None) -> CitationIndex:
    """Which note each citekey, DOI and arXiv id belongs to (as the indexer resolves them): of
    every note, or (`citations`) of the notes answering to those citations' keys only (the
    store's resolution keys), which resolve them as an index of every note does."""
    if citations is None:
        rows = ask(lambda s: s.names_for_resolution())
    else:
        wanted = {citation_key(c) for c in citations}
        rows = ask(lambda s: s.resolution_entries(s.paths_with_keys(wanted))) if wanted else []
    return CitationIndex(
        Note(p, "", paper=Paper(citekey=c, doi=d, arxiv=x))
        for p, _aliases, c, d, x, generated in rows
        if not generated
    )


def cited_node(ask: Ask, key: str) -> str:
    """Where `[@key]` points: the paper's note, else its bibliography entry (`ref:<key>`)."""
    citation = Citation(key)
    res = paper_notes(ask, [citation]).resolve(citation)
    if res.path is not None:
        return res.path
    ref = stored_index(ask).resolve(citation)
    if ref is not None:
        return ref.node
    raise NoteNotFound(f"no note and no bibliography entry for @{key}")


def search(ask: Ask, query: str = "", limit: int | None = None) -> list[ReferenceHit]:
    """The papers of the bibliography that have no note, newest first; with `query`, those
    whose key, title, authors, year or venue hold every word."""
    words = search_words(query)
    if query.strip() and not words:
        return []
    keys = ask(lambda s: s.bib_matching(words))
    if not keys:
        return []  # no entry holds the words (or there is no bibliography): no note to look up
    refs = [from_row(row) for row in ask(lambda s: s.bib_entries(keys))]
    ids = {ref.key: [Citation(value, kind) for kind, value in (("citekey", ref.key), ("doi", ref.doi), ("arxiv", ref.arxiv))
                     if value] for ref in refs}
    notes = paper_notes(ask, [c for found in ids.values() for c in found])
    out = []
    for ref in refs:
        if any(notes.resolve(c).path for c in ids[ref.key]):
            continue  # the paper has a note: a search finds the note
        out.append(ReferenceHit(ref.key, ref.title, ref.authors, ref.year, ref.venue, ref.path, ref.line))
    out.sort(key=lambda h: (-(h.year or 0), h.key))
    return out[:limit] if limit is not None else out


def stored_diagnostics(ask: Ask) -> list[Diagnostic]:
    """Problems found when the bibliography files were last read (broken entries, duplicate keys...)."""
    return diagnostics_from_json(ask(lambda s: s.get_meta("bib_diagnostics", "[]")))
