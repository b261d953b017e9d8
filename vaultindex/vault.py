"""The facade: open a vault, bring its index up to date (sync/apply), and answer queries.

Writing is indexer.py's; the rows are store.py's; whole-graph questions go to graph.py's
LinkGraph, built from the store when one is asked.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .config import STATE_DIR, Config, find_vault, index_inside, load_config, templates_folder
from .errors import AmbiguousNote, IndexCorrupt, IndexLocked, IndexWriteError, NoteNotFound, VaultIndexError
from .indexfolder import (
    DB_FILE,
    FULLTEXT_DIR,
    LOCK_FILE,
    check_folder,
    current_build,
    default_index_dir,
    folder_size,
    make_folder,
    remove_leftovers,
    remove_legacy_index,
    write_error,
)
from .lock import WriterLock
from .models import Diagnostic, Heading, Note, Record, SearchHit, Section, SyncStats
from .store import Store, decode_path, encode_path
from .text import fold_typed, split_frontmatter

if TYPE_CHECKING:  # imported where used: a query need not load Whoosh or networkx
    from .answers import Backlink, Mention, NoteRef, OutLink, UnresolvedTarget
    from .doctor import DoctorReport
    from .fulltext import FullText
    from .graph import LinkGraph
    from .indexer import Indexer
    from .ranking import Kept, LinkPath, RankedNote, RelatedNote
    from .references import ReferenceHit, ReferenceIndex
    from .resolve import CitationIndex
    from .tagpages import TagPageMemory

T = TypeVar("T")

Progress = Callable[[int, int], None]
INDEX_DIR_ENV = "VAULTINDEX_INDEX_DIR"



@dataclass(frozen=True)
class IndexState:
    """How fresh the index is, for a long-running reader (the MCP server) to report."""

    generation: int  # the index's commit number; -1 when there is no index yet
    written_at: float | None  # when it was last committed (seconds since the epoch)
    writer: str  # who holds the writer lock now: "watch", "sync", ... ("" when nobody)


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    suggestion: str | None = None  # the corrected query when typo tolerance was used


@dataclass(frozen=True)
class NoteText:
    """A note as it is on disk now (`vaultindex show`, MCP's read_note): its body without the
    frontmatter, or one section of it, with the frontmatter and headings given apart."""

    note: Note  # as indexed: title, tags, aliases, frontmatter
    headings: tuple[Heading, ...]  # of the text on disk now (file lines)
    section: Section | None  # the section asked for, with its line range
    text: str
    frontmatter_text: str  # the frontmatter's lines as written ("" when there is none)

    def data(self) -> dict[str, object]:
        """What `show --json` prints and read_note answers."""
        from .models import to_json

        return {
            "path": self.note.path,
            "title": self.note.title,
            "frontmatter": self.note.frontmatter,
            "tags": list(self.note.tags),
            "aliases": list(self.note.aliases),
            "headings": [{"level": h.level, "text": h.text, "line": h.line} for h in self.headings],
            "section": None if self.section is None else to_json(self.section),
            "text": self.text,
        }


@dataclass(frozen=True)
class IndexInfo:
    """What `vaultindex info` shows."""

    vault: str
    index_dir: str
    size: int  # bytes of every file in the index folder
    notes: int
    generation: int  # the Whoosh commit the store's rows belong to (-1: no index yet)
    build: int  # the folder of the current build (a full rebuild makes a new one)
    last_sync: float | None  # seconds since the epoch
    watch: str  # "pid N" of a running watch, "" when none
    writer: str  # who holds the writer lock now ("" when nobody)


def resolve_index_dir(root: Path, config: Config, explicit: str | os.PathLike | None = None) -> Path:
    """--index-dir, else $VAULTINDEX_INDEX_DIR, else the config's index_dir (relative to the
    vault), else the user's cache folder (one folder per vault)."""
    for choice in (explicit, os.environ.get(INDEX_DIR_ENV) or None, getattr(config, "index_dir", None) or None):
        if choice:
            path = Path(choice).expanduser()
            return path if path.is_absolute() else (root / path if choice is not explicit else Path.cwd() / path)
    return default_index_dir(root)


class IndexMissing(VaultIndexError):
    """No index has been built for this vault yet."""


class Vault:
    """A vault folder and its index (outside the vault by default, see indexfolder.py)."""

    def __init__(self, root: Path, config: Config, index_dir: str | os.PathLike | None = None):
        self.root = root
        self.config = config
        self.state_dir = root / STATE_DIR  # the user's config lives here (and older in-vault indexes)
        self.index_dir = resolve_index_dir(root, config, index_dir)
        self.config = index_inside(root, config, self.index_dir)
        self._lock = WriterLock(self.index_dir / LOCK_FILE, prepare=self._prepare_writing)
        self._indexer: Indexer | None = None
        self._reader: Store | None = None
        self._reader_build = -1
        self._ft: FullText | None = None
        self._ft_build = -1
        self._graph: LinkGraph | None = None
        self._seen_state: tuple[int, float | None] | None = None  # see reload()
        self._graph_key: tuple | None = None
        self.repaired: SyncStats | None = None  # set when a query had to rebuild a damaged index
        self._tag_page_memory: TagPageMemory | None = None  # what the last write_tag_pages saw

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, index_dir: str | os.PathLike | None = None) -> Vault:
        root = find_vault(path)
        vault = cls(root, load_config(root), index_dir)
        check_folder(vault.index_dir)  # a symlink or a folder of the user's: refused now
        return vault

    # -- the writer ----------------------------------------------------------------------------------
    @property
    def writer_lock(self) -> WriterLock:
        """The one writer lock (sync, watch, tags write)."""
        return self._lock

    def _writer(self) -> Indexer:
        from .indexer import Indexer

        if self._indexer is None:
            self._indexer = Indexer(self.root, self.config, self.index_dir)
        return self._indexer

    def _prepare_writing(self) -> None:
        """Make the index folder (0700, marked as ours) and drop an older in-vault index."""
        make_folder(self.index_dir, self.root)
        same = os.path.realpath(self.index_dir) == os.path.realpath(self.state_dir)
        if not same and remove_legacy_index(self.state_dir):
            _log().warning("Removed the old index inside the vault (%s/); the index now lives in %s.", STATE_DIR, self.index_dir)

    def _take_lock(self, role: str, wait: float, must: bool) -> bool:
        try:
            if must:
                self._lock.acquire_or_raise(role, wait)
                return True
            return self._lock.acquire(role, wait)
        except OSError as exc:
            if not must:
                return False
            raise write_error(self.index_dir, exc, "the index is as it was before" if self._has_index() else "there is no index yet") from exc

    def _has_index(self) -> bool:
        return current_build(self.index_dir) >= 0

    def watching(self, holder: str | None = None) -> str:
        """"pid N" of a `vaultindex watch` running on this vault (it keeps the index current),
        "" when none. `holder`: the lock's holder, when the caller has it already."""
        if holder is None:
            holder = self._lock.holder() if self._lock.is_held_elsewhere() else ""
        return holder.split(",")[0] if holder.endswith("vaultindex watch") else ""

    def sync(self, full: bool = False, progress: Progress | None = None, wait: float = 10.0) -> SyncStats:
        """Bring the index up to date with the disk: only changed notes are read and indexed."""
        self._take_lock("sync", wait, must=True)
        try:
            started = time.perf_counter()
            same = None if full else self._unchanged(verify=True)
            if same is not None:
                return replace(same, seconds=time.perf_counter() - started)
            return self._apply(None, full=full, progress=progress, verify=True)
        finally:
            self._lock.release()

    def refresh(self) -> SyncStats | None:
        """The auto-sync before a query: update when no other process is writing, else use what is there."""
        if self._lock.held:
            return self._apply(None)
        same = self._unchanged()
        if same is not None:
            return same  # nearly always: no lock taken, no write path imported (freshness.py)
        if not self._take_lock("sync", 0.0, must=False):
            if not self._has_index():
                if self._lock.is_held_elsewhere():
                    return None
                raise IndexWriteError(
                    f"there is no index yet and {self.index_dir} cannot be written: "
                    "choose a writable folder with --index-dir (or VAULTINDEX_INDEX_DIR)"
                )
            return None  # another writer, or a read-only index folder: answer from the index as it is
        try:
            return self._apply(None)
        except IndexWriteError as exc:
            _log().warning("Warning: %s; answering from the index as it is.", exc)
            return None
        finally:
            self._lock.release()

    def _unchanged(self, verify: bool = False) -> SyncStats | None:
        """The stats of a sync that would change nothing, when a quick look can tell; else None.
        With `verify` (a `sync`: the caller holds the writer lock), also what a killed writer
        left is removed and the index files are checked as Indexer.apply checks them."""
        from .freshness import files_as_committed, unchanged

        build = current_build(self.index_dir)
        if build < 0:
            return None
        try:
            if verify:
                remove_leftovers(self.index_dir)
                if not files_as_committed(self.store, self.index_dir / f"b{build}"):
                    return None
            disk = unchanged(self.root, self.config, self.store, self.index_dir / f"b{build}")
        except (IndexCorrupt, IndexMissing):
            return None
        if disk is None:
            return None
        return SyncStats(unchanged=len(disk.notes), notes=len(disk.notes), diagnostics=tuple(disk.diagnostics))

    def apply(self, paths: Iterable[str]) -> SyncStats:
        """Reconcile the given vault-relative paths (files or folders) with the disk; the caller holds the lock."""
        return self._apply(sorted(set(paths)))

    def reconcile(self, progress: Progress | None = None) -> SyncStats:
        """Compare the whole vault with the index and apply the differences; the caller holds the lock."""
        return self._apply(None, progress=progress)

    def forget(self) -> None:
        """Drop what this object holds in memory (read again from disk on next use)."""
        if self._indexer is not None:
            self._indexer.close()
        self._close_readers()

    def _apply(self, dirty: list[str] | None, full: bool = False, progress: Progress | None = None, verify: bool = False) -> SyncStats:
        if not self._lock.held:
            self._take_lock("sync", 10.0, must=True)
            try:
                return self._apply(dirty, full, progress, verify)
            finally:
                self._lock.release()
        try:
            stats = self._writer().apply(dirty, full=full, progress=progress, verify=verify)
        except BaseException:
            self.forget()
            raise
        if stats.changed or stats.rebuilt:
            self._graph = None
        return stats

    # -- readers ----------------------------------------------------------------------------------------
    def _close_readers(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._ft is not None:
            self._ft.close()
        self._reader = self._ft = None
        self._reader_build = self._ft_build = -1

    def _ensure_index(self) -> int:
        build = current_build(self.index_dir)
        if build < 0:
            self.sync()
            build = current_build(self.index_dir)
        return build

    @property
    def store(self) -> Store:
        """The current build's database, opened read-only (IndexMissing when there is none:
        the queries that build the index when it is missing call _ensure_index first)."""
        build = current_build(self.index_dir)
        if build < 0:
            raise IndexMissing("there is no index yet: run `vaultindex sync`")
        if self._reader is None or self._reader_build != build:
            if self._reader is not None:
                self._reader.close()
            self._reader = Store(self.index_dir / f"b{build}" / DB_FILE)
            self._reader_build = build
        return self._reader

    @property
    def fulltext(self) -> FullText:
        from .fulltext import FullText  # Whoosh is imported on first use so that graph queries skip it

        build = self._ensure_index()
        if self._ft is None or self._ft_build != build:
            if self._ft is not None:
                self._ft.close()
            self._ft = FullText(self.index_dir / f"b{build}" / FULLTEXT_DIR, readonly=True)
            self._ft_build = build
        return self._ft

    def _ask(self, question: Callable[[Store], T]) -> T:
        """Run a read on the store; a damaged database is rebuilt once (and said so)."""
        try:
            return question(self.store)
        except IndexCorrupt as exc:
            if current_build(self.index_dir) != self._reader_build:  # a rebuild switched builds meanwhile
                return question(self.store)
            self._repair(exc)
            return question(self.store)

    def _repair(self, problem: Exception) -> None:
        """Rebuild a damaged index (when no other process is writing it), and say so."""
        if not self._take_lock("sync", 0.0, must=False):
            raise IndexCorrupt(f"{problem}; run `vaultindex sync --full` once the other process is done")
        try:
            stats = self._apply(None, full=True)
        finally:
            self._lock.release()
        self._close_readers()
        self.repaired = replace(stats, rebuilt=str(problem))

    @property
    def catalog(self) -> CatalogView:
        """What the index holds (stamps, records, attachments, excluded files), read from the store."""
        return CatalogView(self)

    def notes(self) -> list[Note]:
        """Every indexed note (bodies not included), sorted by path."""
        return self._ask(lambda s: s.all_notes())

    def diagnostics(self) -> list[Diagnostic]:
        """Problems found in the indexed notes, by path."""
        return [d for note in self.notes() for d in note.diagnostics]

    def info(self) -> IndexInfo:
        """Where the index is and what it holds (never writes anything)."""
        build = current_build(self.index_dir)
        notes = generation = 0
        last = None
        if build >= 0:
            try:
                store = self.store
                meta = store.meta()
                notes = store.count()
                generation = int(meta.get("generation", "-1"))
                last = float(meta["last_sync"]) if meta.get("last_sync") else None
            except (IndexCorrupt, ValueError):
                generation = -1
        else:
            generation = -1
        holder = self._lock.holder() if self._lock.is_held_elsewhere() else ""
        watch = self.watching(holder)
        return IndexInfo(
            vault=str(self.root),
            index_dir=str(self.index_dir),
            size=folder_size(self.index_dir) if os.path.isdir(self.index_dir) else 0,
            notes=notes,
            generation=generation,
            build=build,
            last_sync=last,
            watch=watch,
            writer=holder,
        )

    # -- for long-running readers -------------------------------------------------------------------
    def reload(self) -> bool:
        """Forget the graph read so far when a writer (a watch in another process or thread) has
        committed since; True when it will be read again. Store and full text follow by themselves."""
        state = self.index_state()
        seen, self._seen_state = self._seen_state, (state.generation, state.written_at)
        if seen is not None and seen != self._seen_state:
            self._graph = None
            return True
        return False

    def index_state(self) -> IndexState:
        generation, written_at = -1, None
        if current_build(self.index_dir) >= 0:
            try:
                meta = self.store.meta()
                generation = int(meta.get("generation", "-1"))
                written_at = float(meta["last_sync"]) if meta.get("last_sync") else None
            except (IndexCorrupt, ValueError):
                pass
        writer = ""
        if self._lock.held:
            writer = "this process"
        elif self._lock.is_held_elsewhere():
            writer = self._lock.holder().rpartition("vaultindex ")[2] or "unknown"
        return IndexState(generation, written_at, writer)

    def indexed_sha1(self, path: str) -> str | None:
        """The SHA-1 of the file's bytes as last indexed; None when the note is not in the index."""
        record = self._ask(lambda s: s.record(path)) if current_build(self.index_dir) >= 0 else None
        return record.sha1 if record is not None else None

    # -- queries -----------------------------------------------------------------------------------
    def read_text(self, path: str) -> str:
        """A note's current text from disk ("" when it cannot be read)."""
        from .indexer import read_file

        try:
            from .parse import decode

            return decode(path, read_file(self.root / path))[0]
        except OSError:
            return ""

    def search(self, query: str, limit: int = 10, snippets: bool = True) -> SearchResult:
        """Ranked notes for a query; exact matches first, then typo-tolerant ones. Each hit
        with a snippet also names its best-matching section (sections.py), and its snippet is
        cut from that section. Without snippets the notes' files are not read (a quarter of a
        fresh `search --paths`)."""
        from .fulltext import snippet

        self._ensure_index()
        hidden = (templates_folder(self.root),)  # templates are not papers (config.templates_folder)
        try:
            raw, suggestion = self.fulltext.search(query, limit, hidden=hidden)
        except IndexCorrupt as exc:
            self._repair(exc)
            raw, suggestion = self.fulltext.search(query, limit, hidden=hidden)
        paths = [decode_path(h.path) for h in raw]
        notes = self._ask(lambda s: s.hit_fields(paths))
        hits = []
        for h, path in zip(raw, paths):
            note = notes.get(path)
            if note is None:  # committed to the full text a moment before the store (see store.py)
                continue
            shown, section = "", None
            if snippets:
                text = self.read_text(path)  # read once: the section and the snippet come from it
                section = _best_section(text, note, suggestion if h.fuzzy else query)
                shown = _hit_snippet(text, section, h.terms, snippet)
            hits.append(SearchHit(
                path=path,
                title=note.title,
                score=round(h.score, 4),
                snippet=shown,
                tags=note.tags,
                year=note.paper.year,
                authors=note.paper.authors,
                fuzzy=h.fuzzy,
                section=section,
            ))
        return SearchResult(tuple(hits), suggestion)

    def _body_for_snippet(self, path: str) -> str:
        return _body(self.read_text(path))

    def read_note(self, name: str, heading: str | None = None) -> NoteText:
        """A note named by path, file name, title or alias as it is on disk now; with
        `heading`, only that section (the heading and everything under it, as Obsidian's
        `[[Note#Heading]]`; a heading's text in any letter case, or a path "Method > Results")."""
        from .sections import body_start, heading_section

        found = self.find_note(name)
        text = self.read_text(found.path)
        headings = _current_headings(text, found)
        lines = text.split("\n")
        start = body_start(lines)
        frontmatter = "\n".join(lines[1 : start - 2]) if start > 1 else ""
        section = None
        if heading:
            picked = heading_section(text, headings, heading)
            if picked is None:
                names = ", ".join(f'"{h.text}"' for h in headings[:30]) or "none"
                raise VaultIndexError(f'no heading "{heading}" in {found.path} (its headings: {names})')
            section, content = picked
        else:
            content = "\n".join(lines[start - 1 :]).lstrip("\n")
        return NoteText(found, tuple(headings), section, content, frontmatter)

    def find_note(self, name: str) -> Note:
        """A note named by path, file name, title or alias; NoteNotFound / AmbiguousNote otherwise."""

        def find(store: Store) -> Note:
            wanted = name.strip()
            for candidate in (wanted, wanted + ".md"):
                note = store.note(candidate)
                if note is not None:
                    return note
            key = fold_typed(wanted.removesuffix(".md"))
            for what in ("path", "name", "title", "alias"):
                found = store.name_matches(_safe_key(key), what)
                if len(found) == 1:
                    note = store.note(found[0])
                    assert note is not None
                    return note
                if found:
                    raise AmbiguousNote(name, found)
            raise NoteNotFound(f'no note named "{name}" (give a path, file name, title or alias)')

        return self._ask(find)

    # -- watch, tag pages, graph views: each owned by its module ------------------------------------
    def watch(self, stop_event=None, on_batch=None, debounce_ms: int = 200, polling: bool = False, on_ready=None):
        """Keep the index in sync with every save until `stop_event` is set (see watch.py)."""
        from .watch import run

        return run(self, stop_event=stop_event, on_batch=on_batch, debounce_ms=debounce_ms, polling=polling, on_ready=on_ready)

    def tags(self, notes: bool = True):
        """Every tag with the notes carrying it (see tagpages.py); with notes=False only their
        number (TagInfo.notes empty), counted in SQL."""
        from .tagpages import TagInfo

        if not notes:
            return [TagInfo(tag, count) for tag, count in self._ask(lambda s: s.tag_note_counts())]
        return [TagInfo(tag, len(set(paths)), tuple(sorted(set(paths)))) for tag, paths in self._ask(lambda s: s.tag_counts())]

    def write_tag_pages(self, **options):
        """Write one index note per tag; only pages whose text changes are touched (see tagpages.py).

        Holds the writer lock, so that it never acts on a half-built index (a `sync --full`)."""
        from .tagpages import TagPageMemory, TagSource, write_pages

        if self._tag_page_memory is None:
            self._tag_page_memory = TagPageMemory()

        def write():
            catalog = self.catalog
            source = TagSource(self.root, self.config.tags, catalog.records, catalog.attachments, catalog.excluded)
            return write_pages(source, self._tag_page_memory, **options)

        if self._lock.held or options.get("dry_run"):
            return write()
        self._take_lock("tags write", 10.0, must=True)
        try:
            return write()
        finally:
            self._lock.release()

    def graph_view(self, filters=None):
        """A networkx graph of the vault, filtered (see export/views.py)."""
        from .export import GraphSource, communities, graph_view
        from .ranking import kept_communities

        kept = self._kept()
        source = GraphSource(self.graph.to_networkx(), self.root, self.config.open_with, self._graph_node_of,
                             communities=lambda view, key: kept_communities(kept, view, key, communities))
        return graph_view(source, filters)

    def _graph_node_of(self, name: str) -> str:
        """The node `graph --around NAME` centres on: @key is a cited paper, else a note."""
        if name.startswith("@") and len(name) > 1:
            return self.cited_node(name[1:])
        return self.find_note(name).path

    # -- graph ---------------------------------------------------------------------------------------
    @property
    def graph(self) -> LinkGraph:
        """The link and citation graph (graph.LinkGraph) of the indexed notes, built from the store."""
        from .graph import LinkGraph

        self._ensure_index()
        store = self.store
        key = (self._reader_build, store.get_meta("generation"), store.get_meta("last_sync"), self.config.resolve_aliases)
        if self._graph is None or self._graph_key != key:
            notes = store.all_notes()
            self._graph = LinkGraph.build(
                notes, store.files("attachment"), store.files("excluded"), resolve_aliases=self.config.resolve_aliases,
                references=self._reference_index(),
            )
            self._graph_key = key
        return self._graph

    def _graph_path(self, note: Note | str) -> str:
        """The path of a note given as a Note, path, file name, title or alias (or a file's exact path)."""
        if isinstance(note, Note):
            return note.path
        wanted = str(note).strip()
        if self._ask(lambda s: s.file_kind(wanted)) is not None:
            return wanted
        if "." in wanted.rsplit("/", 1)[-1] and not wanted.lower().endswith(".md"):  # an attachment, as Obsidian finds it
            from .resolve import resolve_file

            if (found := resolve_file(self._ask(lambda s: s.files("attachment")), wanted).path) is not None:
                return found
        if wanted.startswith("@") and len(wanted) > 1 and wanted not in self._ask(lambda s: s.titles([wanted])):
            return self.cited_node(wanted[1:])  # @key: a cited paper, unless a note has that very path
        return self.find_note(wanted).path

    # -- the bibliography (references.py) -------------------------------------------------------------
    def _reference_index(self) -> ReferenceIndex:
        from .references import ReferenceIndex, from_row

        return ReferenceIndex(from_row(r) for r in self._ask(lambda s: s.bib_entries()))

    def _paper_notes(self) -> CitationIndex:
        """Which note each citekey, DOI and arXiv id belongs to (as the indexer resolves them)."""
        from .models import Paper
        from .resolve import CitationIndex

        return CitationIndex(
            Note(p, "", paper=Paper(citekey=c, doi=d, arxiv=x))
            for p, _aliases, c, d, x, generated in self._ask(lambda s: s.names_for_resolution())
            if not generated
        )

    def cited_node(self, key: str) -> str:
        """Where `[@key]` points: the paper's note, else its bibliography entry (`ref:<key>`)."""
        from .models import Citation

        citation = Citation(key)
        res = self._paper_notes().resolve(citation)
        if res.path is not None:
            return res.path
        ref = self._reference_index().resolve(citation)
        if ref is not None:
            return ref.node
        raise NoteNotFound(f"no note and no bibliography entry for @{key}")

    def references(self, query: str = "", limit: int | None = None) -> list[ReferenceHit]:
        """The papers of the bibliography that have no note (references.ReferenceHit), newest
        first; with `query`, those whose key, title, authors, year or venue hold every word."""
        from .models import Citation
        from .references import ReferenceHit, from_row, search_words

        self._ensure_index()
        words = search_words(query)
        if query.strip() and not words:
            return []
        notes = self._paper_notes()
        keys = self._ask(lambda s: s.bib_matching(words))
        out = []
        for row in self._ask(lambda s: s.bib_entries(keys)):
            ref = from_row(row)
            if any(notes.resolve(Citation(value, kind)).path for kind, value in
                   (("citekey", ref.key), ("doi", ref.doi), ("arxiv", ref.arxiv)) if value):
                continue  # the paper has a note: a search finds the note
            out.append(ReferenceHit(ref.key, ref.title, ref.authors, ref.year, ref.venue, ref.path, ref.line))
        out.sort(key=lambda h: (-(h.year or 0), h.key))
        return out[:limit] if limit is not None else out

    def bibliography_diagnostics(self) -> list[Diagnostic]:
        """Problems found when the bibliography files were last read (broken entries, duplicate keys...)."""
        from .references import diagnostics_from_json

        return diagnostics_from_json(self._ask(lambda s: s.get_meta("bib_diagnostics", "[]")))

    # The link questions are answered from the store's rows (questions.py), never the whole vault.
    def backlinks(self, note: Note | str) -> list[Backlink]:
        """Notes that link to, embed or cite `note`, by source path, each with line and text (answers.Backlink)."""
        from .questions import backlinks

        self._ensure_index()
        path = self._graph_path(note)
        return self._ask(lambda s: backlinks(s, path))

    def links(self, note: Note | str) -> list[OutLink]:
        """The note's outgoing links and citations with where each points (answers.OutLink)."""
        from .questions import links

        self._ensure_index()
        path = self._graph_path(note)
        return self._ask(lambda s: links(s, path))

    def unresolved(self) -> list[UnresolvedTarget]:
        """Dangling link targets and cited papers with no note, most used first (answers.UnresolvedTarget)."""
        from .questions import unresolved

        self._ensure_index()
        return self._ask(unresolved)

    def orphans(self) -> list[NoteRef]:
        """Notes with no links to or from another note or file (answers.NoteRef)."""
        from .questions import orphans

        self._ensure_index()
        return self._ask(orphans)

    def path(self, a: Note | str, b: Note | str, directed: bool = False) -> LinkPath | None:
        """A shortest chain of links from `a` to `b` (graph.LinkPath), or None."""
        from .ranking import link_path

        self._ensure_index()
        return link_path(self.graph, self._graph_path(a), self._graph_path(b), directed=directed)

    def rank(self, limit: int = 20, by: str = "pagerank") -> list[RankedNote]:
        """The vault's hubs by PageRank (or by="in": in-degree) (ranking.RankedNote), computed
        once per state of the index and kept in the store (ranking.kept_ranks)."""
        from .ranking import kept_ranks

        self._ensure_index()
        return kept_ranks(self._kept(), lambda: self.graph, limit, by)

    def _kept(self) -> Kept:
        """What the whole-graph questions keep in the store per state of the index (ranking.py)."""
        from .ranking import Kept

        return Kept(self._ask, self.index_dir, self._lock, f"aliases={int(bool(self.config.resolve_aliases))}")

    def doctor(self) -> DoctorReport:
        """Link problems, duplicate paper notes, invalid frontmatter, conflict copies (doctor.DoctorReport)."""
        from .doctor import diagnose
        from .scan import scan

        self._ensure_index()
        files = scan(self.root, self.config).diagnostics  # not kept in the index: a scan is cheap
        return diagnose(self.graph, read_text=self.read_text, bibliography=self.bibliography_diagnostics(), files=files)

    def mentions(self, note: Note | str) -> list[Mention]:
        """Notes naming `note` (title, alias or file name) without linking it (graph.Mention).

        The full-text index picks the candidate notes; only those files are read.
        """
        self._ensure_index()
        from .errors import QueryError
        from .graph import Mention, MentionLine
        from .mentions import find_mentions, names_of, search_phrases

        path = self._graph_path(note)
        target = self._ask(lambda s: s.note(path))
        if target is None:
            return []
        names = names_of(target.title, target.aliases, target.name)
        candidates: set[str] = set()
        for phrase in search_phrases(names):
            try:
                try:
                    candidates.update(decode_path(p) for p in self.fulltext.matching_paths(phrase))
                except IndexCorrupt as exc:
                    self._repair(exc)
                    candidates.update(decode_path(p) for p in self.fulltext.matching_paths(phrase))
            except QueryError:  # only stop words, say: such a name cannot be searched for
                continue
        candidates.discard(path)
        titles = self._ask(lambda s: s.titles(candidates))
        out = []
        for source in sorted(candidates):
            if source not in titles or titles[source][1]:
                continue
            found = find_mentions(self.read_text(source), names)
            if found:
                lines = tuple(MentionLine(f.line, f.column, f.text, f.context) for f in found)
                out.append(Mention(source, titles[source][0], lines))
        return out

    def related(self, note: Note | str, limit: int = 10) -> list[RelatedNote]:
        """Notes related to `note`, best first, each with its reasons (graph.RelatedNote)."""
        from .ranking import related_notes

        self._ensure_index()
        from .fulltext import similar_paths

        graph = self.graph
        path = self._graph_path(note)
        text_scores: dict[str, float] = {}
        body = self._body_for_snippet(path)
        if body.strip():
            try:
                try:
                    found = similar_paths(self.fulltext, encode_path(path), body, limit=max(3 * limit, 30))
                except IndexCorrupt as exc:
                    self._repair(exc)
                    found = similar_paths(self.fulltext, encode_path(path), body, limit=max(3 * limit, 30))
                text_scores = {decode_path(p): s for p, s in found}
            except VaultIndexError:
                text_scores = {}
        return related_notes(graph, path, text_scores=text_scores, limit=limit)


def _log():
    """This module's logger (logging is imported when there is something to say: a query rarely has)."""
    import logging

    return logging.getLogger(__name__)


def _body(text: str) -> str:
    """A note's text without its frontmatter (all of it when the frontmatter does not close)."""
    try:
        return split_frontmatter(text)[1]
    except ValueError:
        return text


def _hit_snippet(text: str, section: Section | None, terms: frozenset[str], cut: Callable[[str, frozenset[str]], str]) -> str:
    """A hit's snippet: the passage of its best section that matches best (tokenising one
    section, not the whole note, is most of what makes a search with snippets fast); the
    whole body's when the section's prose holds no query word (a match in its heading
    only); else the note's first line of prose."""
    from .snippet import first_line, readable

    if section is not None:
        lines = text.split("\n")
        found = cut(readable("\n".join(lines[section.start_line - 1 : section.end_line])), terms)
        if found:
            return found
    body = _body(text)
    return cut(readable(body), terms) or " ".join(first_line(body).split())


def _current_headings(text: str, note: Note) -> Sequence[Heading]:
    """The headings of `text`: the index's unless the file changed since it was indexed."""
    from .sections import headings_fit

    if headings_fit(text, note.headings):
        return note.headings
    from .parse import parse_note

    return parse_note(note.path, text).headings


def _best_section(text: str, note: Note, query: str | None) -> Section | None:
    """The section of a hit's text that best matches the query."""
    from .sections import best_section, query_words

    return best_section(text, _current_headings(text, note), query_words(query or ""))


class CatalogView:
    """The index's content as the older catalog showed it: `stamps`, `records`, `attachments`, `excluded`."""

    def __init__(self, vault: Vault):
        self._vault = vault

    @property
    def generation(self) -> int:
        return int(self._vault._ask(lambda s: s.get_meta("generation", "-1")))

    @property
    def stamps(self) -> dict[str, tuple[int, int, str]]:
        return self._vault._ask(lambda s: s.stamps())

    @property
    def records(self) -> Records:
        return Records(self._vault)

    @property
    def attachments(self) -> set[str]:
        return self._vault._ask(lambda s: s.files("attachment"))

    @property
    def excluded(self) -> set[str]:
        return self._vault._ask(lambda s: s.files("excluded"))

    @property
    def graph(self) -> LinkGraph:
        return self._vault.graph


class Records(Mapping):
    """`path -> Record`, read from the store (all at once when iterated with items()/values())."""

    def __init__(self, vault: Vault):
        self._vault = vault
        self._paths = vault._ask(lambda s: s.paths())
        self._all: dict[str, Record] | None = None

    def _load(self) -> dict[str, Record]:
        if self._all is None:
            self._all = {r.note.path: r for r in self._vault._ask(lambda s: list(s.records()))}
        return self._all

    def __getitem__(self, path: str) -> Record:
        if self._all is not None:
            return self._all[path]
        record = self._vault._ask(lambda s: s.record(path))
        if record is None:
            raise KeyError(path)
        return record

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in set(self._paths)

    def items(self):
        data = self._load()
        return [(p, data[p]) for p in self._paths if p in data]

    def values(self):
        return [r for _, r in self.items()]


def _safe_key(text: str) -> str:
    from .store import storable_text

    return storable_text(text)


_ = (contextlib, errno, json, time, IndexLocked)
