"""The facade: open a vault, bring its index up to date (sync/apply), and answer queries."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import logging
import os
import shutil
import stat
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .catalog import (
    CACHE_FILES,
    GRAPH_FILE,
    NOTES_DIR,
    STATE_FILE,
    Catalog,
    NoteStore,
    discard,
    index_generation,
    publish,
    read_cache,
    stage_cache,
    write_cache,
)
from .config import STATE_DIR, Config, find_vault, load_config
from .errors import AmbiguousNote, IndexCorrupt, IndexWriteError, NoteNotFound
from .lock import WriterLock
from .models import Diagnostic, Note, Record, SearchHit, SyncStats
from .scan import FileInfo, Scan, diff, is_ignored_name, is_note, scan
from .sections import best_section, headings_fit, query_words
from .versions import CATALOG_VERSION, PARSER_VERSION, SCHEMA_VERSION

Progress = Callable[[int, int], None]

INDEX_DIR = "index"
INDEX_NAME = "MAIN"  # fulltext.INDEX_NAME, repeated here so that reading the generation needs no Whoosh
VERSION_FILE = "version.json"
LOCK_FILE = "write.lock"
CACHE_WAIT = 1.0  # seconds a reader waits for a writer's caches before rebuilding them itself

log = logging.getLogger(__name__)




def _fulltext():
    # Whoosh is imported on first use so that `vaultindex --help` starts fast.
    from . import fulltext

    return fulltext


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


def _consistent(method):
    """A query over the caches, asked again on the new state when a writer committed while the
    caches were being read (so that notes and graph never come from different commits)."""

    @functools.wraps(method)
    def ask(self, *args, **kwargs):
        if self._asking:  # called by another query: the outermost one asks again
            return method(self, *args, **kwargs)
        self._asking = True
        try:
            for attempt in range(3):
                self._moved_on = False
                try:
                    answer = method(self, *args, **kwargs)
                except Exception:
                    # Half old, half new state can look inconsistent (a note the old graph names
                    # is gone from the new notes): only then is the error not the answer.
                    if not self._moved_on or attempt == 2:
                        raise
                else:
                    if not self._moved_on:
                        break
                self._catalog = None
            return answer
        finally:
            self._asking = False

    return ask


class Vault:
    """A vault folder and its index under `<vault>/.vaultindex/`."""

    def __init__(self, root: Path, config: Config):
        self.root = root
        self.config = config
        self.state_dir = root / STATE_DIR
        self._lock = WriterLock(self.state_dir / LOCK_FILE)
        self._catalog: Catalog | None = None
        self._ft = None
        self._caches_stale = False  # the catalog was read from the index: its caches need writing
        self._moved_on = False  # a writer committed while this process read the caches (see _consistent)
        self._asking = False  # inside a _consistent query
        self.repaired: SyncStats | None = None  # set when a query had to rebuild a damaged index

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

    def _generation(self) -> int:
        return index_generation(self.state_dir / INDEX_DIR, INDEX_NAME)

    def _stale_reason(self) -> str:
        """Why the index must be rebuilt from scratch, or "" when it can be updated."""
        if self._generation() < 0:
            return "no index yet" if not (self.state_dir / INDEX_DIR).exists() else "index is missing"
        try:
            stamp = json.loads((self.state_dir / VERSION_FILE).read_text())
        except (OSError, ValueError):
            return "index version stamp is missing"
        if stamp != self._version_stamp():
            return "index was built by another version of vaultindex"
        return ""

    def _version_stamp(self) -> dict:
        return {"schema": SCHEMA_VERSION, "parser": PARSER_VERSION, "catalog": CATALOG_VERSION}

    def _write_version(self) -> None:
        _atomic_write(self.state_dir / VERSION_FILE, json.dumps(self._version_stamp()).encode())

    def _load_catalog(self) -> Catalog:
        """The caches when they belong to the index's generation, else rebuilt from the index itself."""
        generation = self._generation()
        cached = read_cache(self.state_dir, STATE_FILE, generation)
        # A writer publishes the caches a few renames after its commit: wait for them
        # rather than rebuild everything from the index.
        deadline = time.monotonic() + CACHE_WAIT
        while cached is None and time.monotonic() < deadline and not self._lock.held and self._lock.is_held_elsewhere():
            time.sleep(0.02)
            generation = self._generation()
            cached = read_cache(self.state_dir, STATE_FILE, generation)
        if cached is not None:
            stamps, attachments, excluded, shard_generations = cached
            return Catalog(
                generation, stamps, attachments, excluded, shard_generations,
                load=self._read_cache, from_index=self._notes_from_index,
            )
        # Stale or missing caches: the index has every parsed note (attachments come with the next scan).
        records = list(self.fulltext.records())
        self._caches_stale = True
        catalog = Catalog(self.fulltext.generation(), notes=NoteStore(), from_index=self._notes_from_index)
        for record in records:
            catalog.put(record)
        return catalog

    def _read_cache(self, name: str, generation: int):
        return read_cache(self.state_dir, name, generation)

    def _notes_from_index(self) -> dict[str, Note]:
        catalog = self._catalog
        if catalog is not None and self._generation() != catalog.generation:
            # Not a damaged cache: a writer replaced a note shard after we read the state. The
            # notes read now are newer than the graph in hand, so the query is asked again.
            self._moved_on = True
        return {r.note.path: r.note for r in self.fulltext.records()}

    def _stage_catalog(self, catalog: Catalog, generation: int, notes: bool = True):
        """Write the caches for `generation` under temporary names: the note shards that
        changed and the graph (when asked), then the state. Returns what publish() needs
        and the shard generations the state records."""
        folder = self.state_dir
        staged = []
        shard_generations = list(catalog.shard_generations)
        written: set[int] = set()
        try:
            if notes:
                store = catalog.notes
                written = set(store.dirty)
                for i in sorted(written):
                    staged.append(stage_cache(folder, f"{NOTES_DIR}/{i:02d}.pickle", generation, store.shard_blobs(i)))
                    shard_generations[i] = generation
                if catalog.graph is not None:
                    staged.append(stage_cache(folder, GRAPH_FILE, generation, catalog.graph))
            # The state goes last: a reader that finds it for this generation finds the rest too.
            state = (catalog.stamps, catalog.attachments, catalog.excluded, shard_generations)
            staged.append(stage_cache(folder, STATE_FILE, generation, state))
        except BaseException:  # a full disk, say: leave no temporary files behind
            discard(staged)
            raise
        return staged, shard_generations, written

    def _published(self, catalog: Catalog, staged, shard_generations, written: set[int]) -> None:
        publish(staged)
        catalog.shard_generations = shard_generations
        if written:
            catalog.notes.dirty -= written

    def _save_catalog(self, catalog: Catalog, notes: bool = True) -> None:
        self._published(catalog, *self._stage_catalog(catalog, catalog.generation, notes))

    def _commit(self, catalog: Catalog, batch) -> None:
        """Commit the filled index batch with the caches of the next generation ready beforehand,
        so that readers see new caches a few renames after the new index, not a save later.
        On an error the caller cancels the batch and drops the in-memory catalog."""
        expected = self._generation() + 1  # each Whoosh commit adds one generation
        staged, shard_generations, written = self._stage_catalog(catalog, expected)
        try:
            batch.commit()
        except BaseException:
            discard(staged)
            raise
        catalog.generation = self._generation()
        if catalog.generation == expected:
            self._published(catalog, staged, shard_generations, written)
        else:
            discard(staged)
            self._save_catalog(catalog)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._load_catalog()
        return self._catalog

    @_consistent
    def notes(self) -> list[Note]:
        """Every indexed note (bodies not included), sorted by path."""
        store = self.catalog.notes
        store.decode_all()
        return [store[p] for p in sorted(store)]

    # -- writing -----------------------------------------------------------------------------------
    def sync(self, full: bool = False, progress: Progress | None = None, wait: float = 10.0) -> SyncStats:
        """Bring the index up to date with the disk: only changed notes are read and indexed."""
        self._lock.acquire_or_raise("sync", wait)
        try:
            return self._apply(None, full=full, progress=progress, verify=True)
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
        except IndexWriteError as exc:
            log.warning("Warning: %s; answering from the index as it is.", exc)
            return None
        finally:
            self._lock.release()

    def apply(self, paths: Iterable[str]) -> SyncStats:
        """Reconcile the given vault-relative paths (files or folders) with the disk; the caller holds the lock."""
        return self._apply(sorted(set(paths)))

    def _apply(
        self, dirty: list[str] | None, full: bool = False, progress: Progress | None = None, verify: bool = False
    ) -> SyncStats:
        """The one path that writes: scan (all, or the dirty paths), parse what changed, commit once.

        With verify, open the index first so a damaged one is rebuilt; otherwise damage shows
        when the index is next written or searched, and is repaired then.
        """
        started = time.perf_counter()
        if dirty is None:
            self._remove_leftovers()
        rebuilt = "" if not full else "a full rebuild was asked for"
        if not rebuilt:
            rebuilt = self._stale_reason()
        catalog = None
        if not rebuilt:
            try:
                if verify:
                    self.fulltext.open()  # a damaged table of contents shows here
                    self.fulltext.check()  # ... and a damaged segment here
                catalog = self._catalog if self._catalog is not None else self._load_catalog()
            except IndexCorrupt as exc:
                rebuilt = f"the index could not be read ({exc})"
        if rebuilt:
            try:
                self._reset_index()
            except OSError as exc:
                raise _write_error(self.state_dir, exc, intact=False) from exc
            catalog = Catalog(self._generation(), notes=NoteStore(), from_index=self._notes_from_index)
            dirty = None
        assert catalog is not None
        if verify and not rebuilt:
            # Read every note shard (a tenth of a second at 10,000 notes): a damaged one is
            # recovered from the index here and written again below.
            catalog.notes.check_shards()
        stamps = catalog.stamps
        caches_stale, self._caches_stale = self._caches_stale, False
        caches_stale = caches_stale or catalog.notes_dirty

        # What is on disk now, for the whole vault or only the dirty region.
        if dirty is None:
            disk = scan(self.root, self.config)
            in_region = None
            indexed = stamps
        else:
            disk, in_region = self._scan_region(dirty)
            indexed = {p: s for p, s in stamps.items() if in_region(p)}
        changes = diff(disk.notes, {p: FileInfo(s[0], s[1]) for p, s in indexed.items()})

        diagnostics = list(disk.diagnostics)
        records: list[Record] = []  # the parsed notes; their bodies go straight to the index
        added = modified = 0
        touched: dict[str, tuple] = {}
        todo = [*changes.added, *changes.modified]
        batch = self.fulltext.begin(expected=len(changes.added))  # big batches are indexed while we read
        try:
            for path in changes.removed:
                batch.delete(path)
            for i, path in enumerate(todo, 1):
                loaded = self._load(path, disk.notes[path], stamps.get(path), diagnostics)
                if loaded is None:
                    continue
                if isinstance(loaded, tuple) and len(loaded) == 3 and isinstance(loaded[0], int):
                    touched[path] = loaded  # same bytes, new stamp
                else:
                    record, body = loaded
                    batch.add(record, body)
                    records.append(record)
                    diagnostics.extend(record.note.diagnostics)
                    if path in stamps:
                        modified += 1
                    else:
                        added += 1
                if progress and (i % 50 == 0 or i == len(todo)):
                    progress(i, len(todo))
            # Notes that vanished between the scan and the read count as removed.
            loaded_paths = {r.note.path for r in records} | set(touched)
            vanished = [p for p in todo if p not in loaded_paths and p in stamps]
            removed = [*changes.removed, *vanished]
            for path in vanished:
                batch.delete(path)

            files_before = (catalog.attachments, catalog.excluded)
            if dirty is None:
                catalog.attachments, catalog.excluded = disk.attachments, disk.excluded
            else:
                catalog.attachments = {p for p in catalog.attachments if not in_region(p)} | disk.attachments
                catalog.excluded = {p for p in catalog.excluded if not in_region(p)} | disk.excluded
            notes_changed = bool(records or removed or files_before != (catalog.attachments, catalog.excluded))
            if notes_changed or rebuilt:
                # The graph first: it compares each note with the one it replaces.
                self._update_graph(catalog, [r.note for r in records], removed)
            for path in removed:
                catalog.remove(path)
            for record in records:
                catalog.put(record)
            stamps.update(touched)

            if not batch.empty:
                self._commit(catalog, batch)
            elif notes_changed or touched or rebuilt or caches_stale:
                self._save_catalog(catalog, notes=notes_changed or bool(rebuilt) or caches_stale)
            if rebuilt:
                self._write_version()
        except BaseException as exc:
            batch.cancel()  # nothing to undo once committed
            self._catalog = None  # changed in memory, perhaps ahead of the disk: read it again
            if isinstance(exc, IndexCorrupt) and not rebuilt:
                stats = self._apply(None, full=True, progress=progress)
                return replace(stats, rebuilt=f"the index could not be written ({exc})")
            if isinstance(exc, OSError):
                raise _write_error(self.state_dir, exc) from exc
            raise
        self._catalog = catalog
        changed = tuple(sorted({r.note.path for r in records} | set(removed)))
        return SyncStats(
            added=added,
            modified=modified,
            removed=len(removed),
            unchanged=len(stamps) - added - modified,
            notes=len(stamps),
            seconds=time.perf_counter() - started,
            rebuilt=rebuilt if rebuilt not in ("no index yet",) else "",
            diagnostics=tuple(diagnostics),
            paths=changed,
        )

    def _remove_leftovers(self) -> None:
        """Temporary files of a writer that was killed (the caller holds the writer lock, so no
        other writer is using them): Whoosh's `_MAIN_<gen>.toc.<stamp>` files and its MAIN.tmp
        folder, and the caches staged under `.<name>.<pid>.tmp`. Never the Whoosh lock file."""
        self.fulltext.remove_stray_files()
        for stray in [*self.state_dir.glob(".*.tmp"), *self.state_dir.glob(f"{NOTES_DIR}/.*.tmp")]:
            with contextlib.suppress(OSError):
                stray.unlink()

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
            if not stat.S_ISREG(st.st_mode):
                continue  # a FIFO or a device named like a note is no note (reading it would block)
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

    def _load(self, path: str, info: FileInfo, old_stamp, diagnostics: list[Diagnostic]):
        """Read and parse one note: (record, body); a new stamp when only the stamp changed;
        None when it cannot be read."""
        try:
            data = _read_file(self.root / path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            diagnostics.append(Diagnostic(path, f"cannot read file: {exc.strerror}", severity="error"))
            return None
        sha = hashlib.sha1(data).hexdigest()
        if old_stamp is not None and old_stamp[2] == sha:
            return (info.size, info.mtime_ns, sha)
        from .parse import decode, parse_note  # imported when a note is read: graph queries never need it

        text, problems = decode(path, data)
        note = parse_note(path, text)
        if problems:
            note = replace(note, diagnostics=tuple(problems) + note.diagnostics)
        return Record(replace(note, body=""), info.size, info.mtime_ns, sha), note.body

    def _reset_index(self) -> None:
        """Remove the index and its caches (never the user's config) and create an empty index."""
        folder = self.state_dir / INDEX_DIR
        self.fulltext.close()
        if folder.exists():
            shutil.rmtree(folder)
        for name in CACHE_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.state_dir / name).unlink()
        shutil.rmtree(self.state_dir / NOTES_DIR, ignore_errors=True)
        self._catalog = None
        self.fulltext.create()

    # -- for long-running readers -------------------------------------------------------------------
    def reload(self) -> bool:
        """Forget the notes and graph read so far when another writer (a watch in another
        process or thread) has committed since; True when they will be read again."""
        if self._catalog is not None and not self._lock.held and self._catalog.generation != self._generation():
            self._catalog = None
            return True
        return False

    def index_state(self) -> IndexState:
        generation = self._generation()
        toc = self.state_dir / INDEX_DIR / f"_{INDEX_NAME}_{generation}.toc"
        try:
            written_at: float | None = toc.stat().st_mtime
        except OSError:
            written_at = None
        writer = ""
        if self._lock.held:
            writer = "this process"
        elif self._lock.is_held_elsewhere():
            writer = self._lock.holder().rpartition("vaultindex ")[2] or "unknown"
        return IndexState(generation, written_at, writer)

    def indexed_sha1(self, path: str) -> str | None:
        """The SHA-1 of the file's bytes as last indexed; None when the note is not in the index."""
        stamp = self.catalog.stamps.get(path)
        return stamp[2] if stamp else None

    # -- queries -----------------------------------------------------------------------------------
    def read_text(self, path: str) -> str:
        """A note's current text from disk ("" when it cannot be read)."""
        try:
            from .parse import decode

            return decode(path, _read_file(self.root / path))[0]
        except OSError:
            return ""

    def search(self, query: str, limit: int = 10, snippets: bool = True) -> SearchResult:
        """Ranked notes for a query; exact matches first, then typo-tolerant ones. Each hit
        with a snippet also names its best-matching section (sections.py). Without snippets
        the notes' files are not read (a quarter of a fresh `search --paths`)."""
        if self._stale_reason():
            self.sync()
        texts: dict[str, str] = {}
        read_body = functools.partial(self._body_for_snippet, keep=texts) if snippets else None
        try:
            raw, suggestion = self.fulltext.search(query, limit, read_body)
        except IndexCorrupt as exc:
            self._repair(exc)
            raw, suggestion = self.fulltext.search(query, limit, read_body)
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
                section=_best_section(texts[h.path], h.record.note, suggestion if h.fuzzy else query)
                if h.path in texts
                else None,
            )
            for h in raw
        )
        return SearchResult(hits, suggestion)

    def _repair(self, problem: Exception) -> None:
        """Rebuild a damaged index (when no other process is writing it), and say so."""
        if not self._lock.acquire("sync", 0.0):
            raise IndexCorrupt(f"{problem}; run `vaultindex sync --full` once the other process is done")
        try:
            stats = self._apply(None, full=True)
        finally:
            self._lock.release()
        self.repaired = replace(stats, rebuilt=str(problem))

    def _body_for_snippet(self, path: str, keep: dict[str, str] | None = None) -> str:
        text = self.read_text(path)
        if keep is not None:
            keep[path] = text
        if text.startswith("---"):
            end = text.find("\n---", 3)
            if end != -1:
                text = text[end + 4 :]
        return text

    @_consistent
    def find_note(self, name: str) -> Note:
        """A note named by path, file name, title or alias; NoteNotFound / AmbiguousNote otherwise."""
        store = self.catalog.notes
        wanted = name.strip()
        for candidate in (wanted, wanted + ".md"):
            if candidate in store:
                return store[candidate]
        key = _fold(wanted.removesuffix(".md"))
        paths = sorted(store)
        by_path = [
            lambda p: _fold(p.removesuffix(".md")) == key,
            lambda p: _fold(p.rsplit("/", 1)[-1].removesuffix(".md")) == key,
        ]
        by_note = [
            lambda p: _fold(store[p].title) == key,
            lambda p: any(_fold(a) == key for a in store[p].aliases),
        ]
        for i, probe in enumerate(by_path + by_note):
            if i == len(by_path):
                store.decode_all()  # titles and aliases need the notes themselves
            found = [p for p in paths if probe(p)]
            if len(found) == 1:
                return store[found[0]]
            if found:
                raise AmbiguousNote(name, found)
        raise NoteNotFound(f'no note named "{name}" (give a path, file name, title or alias)')

    @_consistent
    def diagnostics(self) -> list[Diagnostic]:
        """Problems found in the indexed notes, by path."""
        store = self.catalog.notes
        store.decode_all()
        return [d for p in sorted(store) for d in store[p].diagnostics]

    # -- watch, tag pages, graph views: each owned by its module ------------------------------------
    def watch(self, stop_event=None, on_batch=None, debounce_ms: int = 200, polling: bool = False):
        """Keep the index in sync with every save until `stop_event` is set (see watch.py)."""
        from .watch import run

        return run(self, stop_event=stop_event, on_batch=on_batch, debounce_ms=debounce_ms, polling=polling)

    @_consistent
    def tags(self):
        """Every tag with the notes carrying it (see tagpages.py)."""
        from .tagpages import collect_tags

        return collect_tags(self)

    def write_tag_pages(self, **options):
        """Write one index note per tag; only pages whose text changes are touched (see tagpages.py)."""
        from .tagpages import write_pages

        return write_pages(self, **options)

    @_consistent
    def graph_view(self, filters=None):
        """A networkx graph of the vault, filtered (see export.py)."""
        from .export import graph_view

        return graph_view(self, filters)

    # -- graph ---------------------------------------------------------------------------------------
    def _update_graph(self, catalog: Catalog, upserted: list[Note], removed: list[str]) -> None:
        """Keep catalog.graph in step with the notes (built when there is none, then updated)."""
        from .graph import LinkGraph

        graph = catalog.graph
        if not (isinstance(graph, LinkGraph) and graph.compatible(self.config.resolve_aliases)):
            graph = catalog.graph = self._build_graph(catalog)
        graph.update(upserted, removed, catalog.attachments, catalog.excluded)

    def _build_graph(self, catalog: Catalog):
        from .graph import LinkGraph

        graph = LinkGraph.build(
            catalog.notes.values(),
            catalog.attachments,
            catalog.excluded,
            resolve_aliases=self.config.resolve_aliases,
        )
        graph.notes = catalog.notes  # one store of notes, shared with the catalog
        return graph

    @property
    def graph(self):
        """The link and citation graph (graph.LinkGraph) of the indexed notes."""
        from .graph import LinkGraph

        if self._stale_reason():
            self.sync()
        catalog = self.catalog
        graph = catalog.graph
        if not (isinstance(graph, LinkGraph) and graph.compatible(self.config.resolve_aliases)):
            catalog.graph = graph = self._build_graph(catalog)
            # Keep it for the next process, unless another one is writing (it will save its own).
            if self._lock.acquire("sync", 0.0):
                try:
                    if self._generation() == catalog.generation:
                        write_cache(self.state_dir, GRAPH_FILE, catalog.generation, graph)
                finally:
                    self._lock.release()
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

    @_consistent
    def backlinks(self, note: "Note | str") -> list:
        """Notes that link to, embed or cite `note`, by source path, each with line and text (graph.Backlink)."""
        return self.graph.backlinks(self._graph_path(note))

    @_consistent
    def links(self, note: "Note | str") -> list:
        """The note's outgoing links and citations with where each points (graph.OutLink)."""
        return self.graph.links(self._graph_path(note))

    @_consistent
    def unresolved(self) -> list:
        """Dangling link targets and cited papers with no note, most used first (graph.UnresolvedTarget)."""
        return self.graph.unresolved()

    @_consistent
    def orphans(self) -> list:
        """Notes with no links to or from another note or file (graph.NoteRef)."""
        return self.graph.orphans()

    @_consistent
    def path(self, a: "Note | str", b: "Note | str", directed: bool = False):
        """A shortest chain of links from `a` to `b` (graph.LinkPath), or None."""
        return self.graph.path(self._graph_path(a), self._graph_path(b), directed=directed)

    @_consistent
    def rank(self, limit: int = 20, by: str = "pagerank") -> list:
        """The vault's hubs by PageRank (or by="in": in-degree) (graph.RankedNote)."""
        return self.graph.rank(limit, by=by)

    @_consistent
    def doctor(self):
        """Link problems, duplicate paper notes, invalid frontmatter, conflict copies (graph.DoctorReport)."""
        return self.graph.doctor(read_text=self.read_text)

    @_consistent
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
                try:
                    candidates.update(self.fulltext.matching_paths(phrase))
                except IndexCorrupt as exc:
                    self._repair(exc)
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

    @_consistent
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
                try:
                    text_scores = dict(similar_paths(self.fulltext, path, body, limit=max(3 * limit, 30)))
                except IndexCorrupt as exc:
                    self._repair(exc)
                    text_scores = dict(similar_paths(self.fulltext, path, body, limit=max(3 * limit, 30)))
            except VaultIndexError:
                text_scores = {}
        return graph.related(path, text_scores=text_scores, limit=limit)


def _best_section(text: str, note: Note, query: str | None):
    """The section of a hit's text that best matches the query; the index's headings unless
    the file changed since it was indexed."""
    headings = note.headings
    if not headings_fit(text, headings):
        from .parse import parse_note

        headings = parse_note(note.path, text).headings
    return best_section(text, headings, query_words(query or ""))


def _fold(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text).casefold().strip()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _read_file(path: Path) -> bytes:
    """A regular file's bytes. Opened without blocking and checked, so that a FIFO put where a
    note was (between the scan and the read) is an error, not a wait for a writer that never comes."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return fh.read()


def _write_error(folder: Path, exc: OSError, intact: bool = True) -> IndexWriteError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some disk space"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = f"make {folder} writable"
    else:
        hint = "fix the problem"
    state = "the index is as it was before" if intact else "there is no usable index now"
    return IndexWriteError(f"cannot write the index in {folder} ({reason}); {state}: {hint} and run `vaultindex sync` again")
