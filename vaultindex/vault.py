"""The facade: open a vault, bring its index up to date (sync/apply), and answer queries."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .config import STATE_DIR, Config, find_vault, load_config
from .errors import AmbiguousNote, IndexCorrupt, NoteNotFound
from .lock import WriterLock
from .models import Diagnostic, Note, SearchHit, SyncStats
from .parse import PARSER_VERSION, decode, parse_note
from .scan import FileInfo, Scan, diff, is_ignored_name, is_note, scan

Progress = Callable[[int, int], None]

INDEX_DIR = "index"
CATALOG_FILE = "catalog.pickle"
VERSION_FILE = "version.json"
LOCK_FILE = "write.lock"


def _fulltext():
    # Whoosh is imported on first use so that `vaultindex --help` starts fast.
    from . import fulltext

    return fulltext


@dataclass
class Catalog:
    """The index's records in memory, tied to the index generation they were read from."""

    generation: int = -1
    records: dict = field(default_factory=dict)  # path -> fulltext.Record
    attachments: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    graph: object = None  # graph.LinkGraph, kept in step with the records by the writer


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    suggestion: str | None = None  # the corrected query when typo tolerance was used


class Vault:
    """A vault folder and its index under `<vault>/.vaultindex/`."""

    def __init__(self, root: Path, config: Config):
        self.root = root
        self.config = config
        self.state_dir = root / STATE_DIR
        self._lock = WriterLock(self.state_dir / LOCK_FILE)
        self._catalog: Catalog | None = None
        self._ft = None

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> "Vault":
        root = find_vault(path)
        return cls(root, load_config(root))

    # -- state on disk ---------------------------------------------------------------------------
    @property
    def fulltext(self):
        if self._ft is None:
            self._ft = _fulltext().FullText(self.state_dir / INDEX_DIR)
        return self._ft

    def _version_stamp(self) -> dict:
        return {"schema": _fulltext().SCHEMA_VERSION, "parser": PARSER_VERSION}

    def _stale_reason(self) -> str:
        """Why the index must be rebuilt from scratch, or "" when it can be updated."""
        if not self.fulltext.exists():
            return "no index yet" if not (self.state_dir / INDEX_DIR).exists() else "index is missing"
        try:
            stamp = json.loads((self.state_dir / VERSION_FILE).read_text())
        except (OSError, ValueError):
            return "index version stamp is missing"
        if stamp != self._version_stamp():
            return "index was built by another version of vaultindex"
        return ""

    def _write_version(self) -> None:
        _atomic_write(self.state_dir / VERSION_FILE, json.dumps(self._version_stamp()).encode())

    def _load_catalog(self) -> Catalog:
        """Records from the cache when it matches the index generation, else from the index itself."""
        generation = self.fulltext.generation()
        try:
            with open(self.state_dir / CATALOG_FILE, "rb") as fh:
                cached = pickle.load(fh)
            if isinstance(cached, Catalog) and cached.generation == generation:
                return cached
        except Exception:  # missing, truncated or from another version: rebuild it from the index
            pass
        records = {r.note.path: r for r in self.fulltext.records()}
        return Catalog(generation, records, set(), set())

    def _save_catalog(self, catalog: Catalog) -> None:
        _atomic_write(self.state_dir / CATALOG_FILE, pickle.dumps(catalog, protocol=pickle.HIGHEST_PROTOCOL))

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._load_catalog()
        return self._catalog

    def notes(self) -> list[Note]:
        """Every indexed note (bodies not included), sorted by path."""
        return [self.catalog.records[p].note for p in sorted(self.catalog.records)]

    # -- writing -----------------------------------------------------------------------------------
    def sync(self, full: bool = False, progress: Progress | None = None, wait: float = 10.0) -> SyncStats:
        """Bring the index up to date with the disk: only changed notes are read and indexed."""
        self._lock.acquire_or_raise("sync", wait)
        try:
            return self._apply(None, full=full, progress=progress)
        finally:
            self._lock.release()

    def refresh(self) -> SyncStats | None:
        """The auto-sync before a query: update when no other process is writing, else use what is there."""
        if self._lock.held:
            return self._apply(None)
        if not self._lock.acquire("sync", 0.0):
            return None
        try:
            return self._apply(None)
        finally:
            self._lock.release()

    def apply(self, paths: Iterable[str]) -> SyncStats:
        """Reconcile the given vault-relative paths (files or folders) with the disk; the caller holds the lock."""
        return self._apply(sorted(set(paths)))

    def _apply(self, dirty: list[str] | None, full: bool = False, progress: Progress | None = None) -> SyncStats:
        started = time.perf_counter()
        rebuilt = "" if not full else "full rebuild requested"
        if not rebuilt:
            rebuilt = self._stale_reason()
        catalog = None
        if not rebuilt:
            try:
                catalog = self._catalog if self._catalog is not None else self._load_catalog()
            except IndexCorrupt as exc:
                rebuilt = f"index could not be read ({exc}), rebuilt"
        if rebuilt:
            self._reset_index()
            catalog = Catalog(self.fulltext.generation(), {}, set(), set())
            dirty = None
        assert catalog is not None

        # What is on disk now, for the whole vault or only the dirty region.
        if dirty is None:
            disk = scan(self.root, self.config)
            indexed = catalog.records
            in_region = None
        else:
            disk, in_region = self._scan_region(dirty)
            indexed = {p: r for p, r in catalog.records.items() if in_region(p)}
        changes = diff(disk.notes, {p: FileInfo(r.size, r.mtime_ns) for p, r in indexed.items()})

        diagnostics = list(disk.diagnostics)
        upserts = []
        added = modified = 0
        touched: dict = {}
        todo = [*changes.added, *changes.modified]
        for i, path in enumerate(todo, 1):
            loaded = self._load(path, disk.notes[path], catalog.records.get(path), diagnostics)
            if loaded is None:
                continue
            record, body, same = loaded
            if same:
                touched[path] = record
            else:
                upserts.append((record, body))
                diagnostics.extend(record.note.diagnostics)
                if path in catalog.records:
                    modified += 1
                else:
                    added += 1
            if progress and (i % 50 == 0 or i == len(todo)):
                progress(i, len(todo))
        # Notes that vanished between the scan and the read count as removed.
        loaded_paths = {r.note.path for r, _ in upserts} | set(touched)
        removed = [p for p in changes.removed] + [
            p for p in todo if p not in loaded_paths and p in catalog.records
        ]

        if upserts or removed:
            self.fulltext.write(upserts, removed, size_hint=len(upserts))
        for path in removed:
            catalog.records.pop(path, None)
        for record, _ in upserts:
            catalog.records[record.note.path] = record
        catalog.records.update(touched)
        files_before = (catalog.attachments, catalog.excluded)
        if dirty is None:
            catalog.attachments, catalog.excluded = disk.attachments, disk.excluded
        else:
            catalog.attachments = {p for p in catalog.attachments if not in_region(p)} | disk.attachments
            catalog.excluded = {p for p in catalog.excluded if not in_region(p)} | disk.excluded
        files_after = (catalog.attachments, catalog.excluded)
        self._update_graph(catalog, [r.note for r, _ in upserts], removed, files_before, files_after)
        if upserts or removed:
            catalog.generation = self.fulltext.generation()
        if upserts or removed or touched or rebuilt or files_before != (catalog.attachments, catalog.excluded):
            self._save_catalog(catalog)
        if rebuilt:
            self._write_version()
        self._catalog = catalog
        return SyncStats(
            added=added,
            modified=modified,
            removed=len(removed),
            unchanged=len(catalog.records) - added - modified,
            notes=len(catalog.records),
            seconds=time.perf_counter() - started,
            rebuilt=rebuilt if rebuilt not in ("no index yet",) else "",
            diagnostics=tuple(diagnostics),
        )

    def _scan_region(self, dirty: list[str]) -> tuple[Scan, Callable[[str], bool]]:
        """Scan only the dirty paths: a file is looked at, a folder is scanned whole."""
        files: set[str] = set()
        folders: set[str] = set()
        gone: set[str] = set()  # deleted or moved away: a file, or a folder and all under it
        merged = Scan()
        for rel in dirty:
            rel = rel.strip("/")
            if not rel:
                folders.add("")
            elif any(is_ignored_name(part) for part in rel.split("/")):
                continue
            elif (self.root / rel).is_dir():
                folders.add(rel)
            elif os.path.lexists(self.root / rel):
                files.add(rel)
            else:
                gone.add(rel)
        if "" in folders:
            return scan(self.root, self.config), lambda p: True
        for folder in sorted(folders):
            part = scan(self.root, self.config, under=folder)
            merged.notes.update(part.notes)
            merged.attachments |= part.attachments
            merged.excluded |= part.excluded
            merged.diagnostics += part.diagnostics
        for rel in sorted(files):
            full = self.root / rel
            try:
                st = full.stat()
            except OSError:
                continue  # gone: absent from the scan, so it counts as removed
            if self.config.is_excluded(rel):
                merged.excluded.add(rel)
            elif not is_note(rel):
                merged.attachments.add(rel)
            elif st.st_size > self.config.max_file_size:
                merged.attachments.add(rel)
                merged.diagnostics.append(Diagnostic(rel, "larger than max_file_size, not indexed"))
            else:
                merged.notes[rel] = FileInfo(st.st_size, st.st_mtime_ns)
        def in_region(path: str) -> bool:
            if path in files or path in gone:
                return True
            return any(path.startswith(prefix + "/") for prefix in folders | gone)

        return merged, in_region

    def _load(self, path: str, info: FileInfo, old, diagnostics: list[Diagnostic]):
        """Read and parse one note: (record, body, unchanged_content) or None when unreadable."""
        fulltext = _fulltext()
        try:
            data = (self.root / path).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            diagnostics.append(Diagnostic(path, f"cannot read file: {exc.strerror}", severity="error"))
            return None
        sha = hashlib.sha1(data).hexdigest()
        if old is not None and old.sha1 == sha:
            return replace(old, size=info.size, mtime_ns=info.mtime_ns), "", True
        text, problems = decode(path, data)
        note = parse_note(path, text)
        if problems:
            note = replace(note, diagnostics=tuple(problems) + note.diagnostics)
        body = note.body
        record = fulltext.Record(replace(note, body=""), info.size, info.mtime_ns, sha)
        return record, body, False

    def _reset_index(self) -> None:
        """Remove the index files (never the user's config) and create an empty index."""
        folder = self.state_dir / INDEX_DIR
        if folder.exists():
            shutil.rmtree(folder)
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / CATALOG_FILE).unlink()
        self._catalog = None
        self.fulltext.create()

    # -- queries -----------------------------------------------------------------------------------
    def read_text(self, path: str) -> str:
        """A note's current text from disk ("" when it cannot be read)."""
        try:
            return decode(path, (self.root / path).read_bytes())[0]
        except OSError:
            return ""

    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Ranked notes for a query; exact matches first, then typo-tolerant ones."""
        if self._stale_reason():
            self.sync()
        raw, suggestion = self.fulltext.search(query, limit, self._body_for_snippet)
        hits = tuple(
            SearchHit(
                path=h.path,
                title=h.record.note.title,
                score=round(h.score, 4),
                snippet=h.snippet,
                tags=h.record.note.tags,
                year=h.record.note.paper.year,
                authors=h.record.note.paper.authors,
                fuzzy=h.fuzzy,
            )
            for h in raw
        )
        return SearchResult(hits, suggestion)

    def _body_for_snippet(self, path: str) -> str:
        text = self.read_text(path)
        if text.startswith("---"):
            end = text.find("\n---", 3)
            if end != -1:
                text = text[end + 4 :]
        return text

    def find_note(self, name: str) -> Note:
        """A note named by path, file name, title or alias; NoteNotFound / AmbiguousNote otherwise."""
        records = self.catalog.records
        wanted = name.strip()
        if wanted in records:
            return records[wanted].note
        if wanted + ".md" in records:
            return records[wanted + ".md"].note
        key = _fold(wanted.removesuffix(".md"))
        for probe in (
            lambda n: _fold(n.path.removesuffix(".md")) == key,
            lambda n: _fold(n.name) == key,
            lambda n: _fold(n.title) == key,
            lambda n: any(_fold(a) == key for a in n.aliases),
        ):
            found = sorted(r.note.path for r in records.values() if probe(r.note))
            if len(found) == 1:
                return records[found[0]].note
            if found:
                raise AmbiguousNote(name, found)
        raise NoteNotFound(f'no note named "{name}" (give a path, file name, title or alias)')

    def diagnostics(self) -> list[Diagnostic]:
        """Problems found in the indexed notes, by path."""
        return [d for p in sorted(self.catalog.records) for d in self.catalog.records[p].note.diagnostics]


    # -- watch, tag pages, graph views: each owned by its module ------------------------------------
    def watch(self, stop_event=None, on_batch=None, debounce_ms: int = 200, polling: bool = False):
        """Keep the index in sync with every save until `stop_event` is set (see watch.py)."""
        from .watch import run

        return run(self, stop_event=stop_event, on_batch=on_batch, debounce_ms=debounce_ms, polling=polling)

    def tags(self):
        """Every tag with the notes carrying it (see tagpages.py)."""
        from .tagpages import collect_tags

        return collect_tags(self)

    def write_tag_pages(self, **options):
        """Write one index note per tag; only pages whose text changes are touched (see tagpages.py)."""
        from .tagpages import write_pages

        return write_pages(self, **options)

    def graph_view(self, filters=None):
        """A networkx graph of the vault, filtered (see export.py)."""
        from .export import graph_view

        return graph_view(self, filters)

    # -- graph ---------------------------------------------------------------------------------------
    def _update_graph(self, catalog: Catalog, upserted: list[Note], removed: list[str], files_before, files_after) -> None:
        """Keep catalog.graph in step with the records (built on first use, then updated)."""
        from .graph import LinkGraph  # networkx is imported only when the graph is needed

        changed = bool(upserted or removed or files_before != files_after)
        graph = catalog.graph
        if isinstance(graph, LinkGraph) and graph.compatible(self.config.resolve_aliases):
            if changed:
                graph.update(upserted, removed, catalog.attachments, catalog.excluded)
            return
        catalog.graph = self._build_graph(catalog)
        if not changed:
            # Nothing else changed, so _apply will not save: keep the new graph for the next process.
            self._save_catalog(catalog)

    def _build_graph(self, catalog: Catalog):
        from .graph import LinkGraph

        return LinkGraph.build(
            (r.note for r in catalog.records.values()),
            catalog.attachments,
            catalog.excluded,
            resolve_aliases=self.config.resolve_aliases,
        )

    @property
    def graph(self):
        """The link and citation graph (graph.LinkGraph) of the indexed notes."""
        from .graph import LinkGraph

        if self._stale_reason():
            self.sync()
        catalog = self.catalog
        graph = catalog.graph
        if not (isinstance(graph, LinkGraph) and graph.compatible(self.config.resolve_aliases)):
            catalog.graph = graph = self._build_graph(catalog)  # in memory; saved by the next write
        return graph

    def _graph_path(self, note: "Note | str") -> str:
        """The path of a note given as a Note, path, file name, title or alias (or a file's exact path)."""
        if isinstance(note, Note):
            return note.path
        graph = self.graph
        wanted = str(note).strip()
        if wanted in graph.attachments or wanted in graph.excluded:
            return wanted
        return self.find_note(wanted).path

    def backlinks(self, note: "Note | str") -> list:
        """Notes that link to, embed or cite `note`, by source path, each with line and text (graph.Backlink)."""
        return self.graph.backlinks(self._graph_path(note))

    def links(self, note: "Note | str") -> list:
        """The note's outgoing links and citations with where each points (graph.OutLink)."""
        return self.graph.links(self._graph_path(note))

    def unresolved(self) -> list:
        """Dangling link targets and cited papers with no note, most used first (graph.UnresolvedTarget)."""
        return self.graph.unresolved()

    def orphans(self) -> list:
        """Notes with no links to or from another note or file (graph.NoteRef)."""
        return self.graph.orphans()

    def path(self, a: "Note | str", b: "Note | str", directed: bool = False):
        """A shortest chain of links from `a` to `b` (graph.LinkPath), or None."""
        return self.graph.path(self._graph_path(a), self._graph_path(b), directed=directed)

    def rank(self, limit: int = 20, by: str = "pagerank") -> list:
        """The vault's hubs by PageRank (or by="in": in-degree) (graph.RankedNote)."""
        return self.graph.rank(limit, by=by)

    def doctor(self):
        """Link problems, duplicate paper notes and invalid frontmatter (graph.DoctorReport)."""
        return self.graph.doctor()

    def mentions(self, note: "Note | str") -> list:
        """Notes naming `note` (title, alias or file name) without linking it (graph.Mention).

        The full-text index picks the candidate notes; only those files are read.
        """
        from .errors import QueryError
        from .graph import Mention, MentionLine
        from .mentions import find_mentions, names_of, search_phrases

        graph = self.graph
        path = self._graph_path(note)
        target = graph.notes.get(path)
        if target is None:
            return []
        names = names_of(target.title, target.aliases, target.name)
        candidates: set[str] = set()
        for phrase in search_phrases(names):
            try:
                candidates.update(self.fulltext.matching_paths(phrase))
            except QueryError:  # only stop words, say: such a name cannot be searched for
                continue
        out = []
        for source in sorted(candidates):
            if source == path or source not in graph.notes or source in graph.generated:
                continue
            found = find_mentions(self.read_text(source), names)
            if found:
                lines = tuple(MentionLine(f.line, f.column, f.text, f.context) for f in found)
                out.append(Mention(source, graph.notes[source].title, lines))
        return out

    def related(self, note: "Note | str", limit: int = 10) -> list:
        """Notes related to `note`, best first, each with its reasons (graph.RelatedNote)."""
        from .errors import VaultIndexError
        from .fulltext import similar_paths

        graph = self.graph
        path = self._graph_path(note)
        text_scores: dict[str, float] = {}
        body = self._body_for_snippet(path)
        if body.strip():
            try:
                text_scores = dict(similar_paths(self.fulltext, path, body, limit=max(3 * limit, 30)))
            except VaultIndexError:
                text_scores = {}
        return graph.related(path, text_scores=text_scores, limit=limit)


def _fold(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text).casefold().strip()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
