"""The facade: open a vault, bring its index up to date (sync/apply), and answer queries.

Writing is indexer.py's; the rows are store.py's; whole-graph questions go to graph.py's
LinkGraph, built from the store when one is asked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .config import STATE_DIR, Config, find_vault, index_inside, load_config, templates_folder
from .errors import AmbiguousNote, IndexCorrupt, IndexWriteError, NoteNotFound, VaultIndexError
from .indexfolder import (
    DB_FILE,
    FULLTEXT_DIR,
    LOCK_FILE,
    check_folder,
    current_build,
    make_folder,
    remove_leftovers,
    remove_legacy_index,
    resolve_index_dir,
    write_error,
)
from .lock import WriterLock
from .models import Diagnostic, Note, SyncStats
from .status import IndexInfo, IndexState, index_info, index_state, watch_pid
from .store import Store, decode_path, encode_path
from .text import fold_typed

if TYPE_CHECKING:  # imported where used: a query need not load Whoosh or networkx
    from .answers import Backlink, Mention, NoteRef, OutLink, UnresolvedTarget
    from .catalog import CatalogView
    from .doctor import DoctorReport
    from .fulltext import FullText
    from .graph import LinkGraph
    from .hits import NoteText, SearchResult
    from .indexer import Indexer
    from .ranking import Kept, LinkPath, RankedNote, RelatedNote
    from .references import ReferenceHit
    from .scan import Scan
    from .tagpages import TagPageMemory

T = TypeVar("T")

Progress = Callable[[int, int], None]



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

    def watching(self) -> str:
        """"pid N" of a `vaultindex watch` running on this vault (it keeps the index current),
        "" when none."""
        return watch_pid(self._lock.holder_info() if self._lock.is_held_elsewhere() else None)

    def sync(self, full: bool = False, progress: Progress | None = None, wait: float = 10.0) -> SyncStats:
        """Bring the index up to date with the disk: only changed notes are read and indexed."""
        self._take_lock("sync", wait, must=True)
        try:
            started = time.perf_counter()
            scanned: list[Scan] = []  # the quick look's scan, taken under the lock: the update does not scan again
            same = None if full else self._unchanged(verify=True, scanned=scanned)
            if same is not None:
                return replace(same, seconds=time.perf_counter() - started)
            return self._apply(None, full=full, progress=progress, verify=True, disk=scanned[0] if scanned else None)
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

    def _unchanged(self, verify: bool = False, scanned: list[Scan] | None = None) -> SyncStats | None:
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
            disk = unchanged(self.root, self.config, self.store, self.index_dir / f"b{build}", scanned)
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

    def warm_up(self) -> None:
        """Prepare the write path (Indexer.warm_up), so that a long-lived writer's first batch
        takes as long as the others; the caller holds the lock."""
        self._writer().warm_up()

    def forget(self) -> None:
        """Drop what this object holds in memory (read again from disk on next use)."""
        if self._indexer is not None:
            self._indexer.close()
        self._close_readers()

    def _apply(
        self, dirty: list[str] | None, full: bool = False, progress: Progress | None = None, verify: bool = False, disk: Scan | None = None
    ) -> SyncStats:
        if not self._lock.held:
            self._take_lock("sync", 10.0, must=True)
            try:
                return self._apply(dirty, full, progress, verify)
            finally:
                self._lock.release()
        try:
            stats = self._writer().apply(dirty, full=full, progress=progress, verify=verify, disk=disk)
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
        return self._repairing(lambda: question(self.store), lambda: self._reader_build)

    def _ask_fulltext(self, question: Callable[[FullText], T]) -> T:
        """Run a read on the full text; a damaged index is rebuilt once (and said so)."""
        return self._repairing(lambda: question(self.fulltext))

    def _repairing(self, read: Callable[[], T], opened_build: Callable[[], int] | None = None) -> T:
        """`read()`; when it finds the index damaged, rebuild it (`_repair`) and read again, or
        only read again when a rebuild switched builds since `opened_build()` was opened."""
        try:
            return read()
        except IndexCorrupt as exc:
            if opened_build is not None and current_build(self.index_dir) != opened_build():
                return read()  # a rebuild switched builds meanwhile
            self._repair(exc)
            return read()

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
        from .catalog import CatalogView

        return CatalogView(self._ask, lambda: self.graph)

    def notes(self) -> list[Note]:
        """Every indexed note (bodies not included), sorted by path."""
        return self._ask(lambda s: s.all_notes())

    def diagnostics(self) -> list[Diagnostic]:
        """Problems found in the indexed notes, by path."""
        return [d for note in self.notes() for d in note.diagnostics]

    def info(self) -> IndexInfo:
        """Where the index is and what it holds (never writes anything; status.IndexInfo)."""
        return index_info(self.root, self.index_dir, self._lock, lambda: self.store)

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
        """How fresh the index is (status.IndexState)."""
        return index_state(self.index_dir, self._lock, lambda: self.store)

    def indexed_sha1(self, path: str) -> str | None:
        """The SHA-1 of the file's bytes as last indexed; None when the note is not in the index."""
        record = self._ask(lambda s: s.record(path)) if current_build(self.index_dir) >= 0 else None
        return record.sha1 if record is not None else None

    # -- queries -----------------------------------------------------------------------------------
    def read_text(self, path: str) -> str:
        """A note's current text from disk ("" when it cannot be read)."""
        from .fsutil import read_file

        try:
            from .parse import decode

            return decode(path, read_file(self.root / path))[0]
        except OSError:
            return ""

    def search(self, query: str, limit: int = 10, snippets: bool = True) -> SearchResult:
        """Ranked notes for a query; exact matches first, then typo-tolerant ones. Each hit
        with a snippet also names its best-matching section (hits.py), and its snippet is cut
        from that section. Without snippets the notes' files are not read (a quarter of a
        fresh `search --paths`)."""
        from .hits import search_result

        self._ensure_index()
        hidden = (templates_folder(self.root),)  # templates are not papers (config.templates_folder)
        raw, suggestion = self._ask_fulltext(lambda ft: ft.search(query, limit, hidden=hidden))
        paths = [decode_path(h.path) for h in raw]
        notes = self._ask(lambda s: s.hit_fields(paths))
        return search_result(raw, paths, suggestion, notes, query, self.read_text if snippets else None)

    def read_note(self, name: str, heading: str | None = None) -> NoteText:
        """A note named by path, file name, title or alias as it is on disk now; with
        `heading`, only that section (the heading and everything under it, as Obsidian's
        `[[Note#Heading]]`; a heading's text in any letter case, or a path "Method > Results")."""
        from .hits import note_text

        found = self.find_note(name)
        return note_text(found, self.read_text(found.path), heading)

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
        from .references import stored_index

        self._ensure_index()
        store = self.store
        key = (self._reader_build, store.get_meta("generation"), store.get_meta("last_sync"), self.config.resolve_aliases)
        if self._graph is None or self._graph_key != key:
            notes = store.all_notes()
            self._graph = LinkGraph.build(
                notes, store.files("attachment"), store.files("excluded"), resolve_aliases=self.config.resolve_aliases,
                references=stored_index(self._ask), templates=templates_folder(self.root),
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
    def cited_node(self, key: str) -> str:
        """Where `[@key]` points: the paper's note, else its bibliography entry (`ref:<key>`)."""
        from . import references

        return references.cited_node(self._ask, key, templates_folder(self.root))

    def references(self, query: str = "", limit: int | None = None) -> list[ReferenceHit]:
        """The papers of the bibliography that have no note (references.ReferenceHit), newest
        first; with `query`, those whose key, title, authors, year or venue hold every word."""
        from . import references

        self._ensure_index()
        return references.search(self._ask, query, limit, templates_folder(self.root))

    def bibliography_diagnostics(self) -> list[Diagnostic]:
        """Problems found when the bibliography files were last read (broken entries, duplicate keys...)."""
        from .references import stored_diagnostics

        return stored_diagnostics(self._ask)

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
        return kept_ranks(self._kept(), lambda: self.graph, limit, by, hidden=(templates_folder(self.root),))

    def _kept(self) -> Kept:
        """What the whole-graph questions keep in the store per state of the index (ranking.py)."""
        from .ranking import Kept

        return Kept(self._ask, self.index_dir, self._lock, f"aliases={int(bool(self.config.resolve_aliases))}")

    def doctor(self) -> DoctorReport:
        """Link problems, duplicate paper notes, invalid frontmatter, conflict copies (doctor.DoctorReport)."""
        from .doctor import check, store_facts
        from .scan import scan

        self._ensure_index()
        files = scan(self.root, self.config).diagnostics  # not kept in the index: a scan is cheap
        facts = self._ask(lambda s: store_facts(s, self.config.resolve_aliases))
        return check(facts, read_text=self.read_text, bibliography=self.bibliography_diagnostics(), files=files)

    def mentions(self, note: Note | str) -> list[Mention]:
        """Notes naming `note` (title, alias or file name) without linking it (graph.Mention).

        The full-text index picks the candidate notes; only those files are read.
        """
        self._ensure_index()
        from .hits import mention_candidates, mentions
        from .mentions import names_of

        path = self._graph_path(note)
        target = self._ask(lambda s: s.note(path))
        if target is None:
            return []
        names = names_of(target.title, target.aliases, target.name)
        candidates = {decode_path(p) for p in self._ask_fulltext(lambda ft: mention_candidates(ft, names))} - {path}
        return mentions(candidates, self._ask(lambda s: s.titles(candidates)), names, self.read_text)

    def related(self, note: Note | str, limit: int = 10) -> list[RelatedNote]:
        """Notes related to `note`, best first, each with its reasons (graph.RelatedNote)."""
        from .hits import similar_text
        from .ranking import related_notes

        self._ensure_index()
        graph = self.graph
        path = self._graph_path(note)
        text = self.read_text(path)
        try:
            found = self._ask_fulltext(lambda ft: similar_text(ft, encode_path(path), text, max(3 * limit, 30)))
        except VaultIndexError:
            found = []
        return related_notes(graph, path, text_scores={decode_path(p): s for p, s in found}, limit=limit,
                             hidden=(templates_folder(self.root),))


def _log():
    """This module's logger (logging is imported when there is something to say: a query rarely has)."""
    import logging

    return logging.getLogger(__name__)


def _safe_key(text: str) -> str:
    from .store import storable_text

    return storable_text(text)
