"""Owns the one write path: scan -> parse -> resolve -> stores (SQLite and Whoosh) -> commit, returning SyncStats.

Each step returns a small frozen value (`Region`, `Reading`, `LinkPlan`) that the next one
takes; nothing is ordered through shared mutable state. The commit order and the recovery
are written down in store.py's docstring and docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from .config import Config, in_folder, templates_folder
from .errors import IndexCorrupt
from .freshness import BIB_CONFIG, bib_config, bib_files_as_stored
from .fsutil import read_file
from .indexfolder import (
    CURRENT,
    DB_FILE,
    FULLTEXT_DIR,
    builds,
    current_build,
    fulltext_fingerprint,
    fulltext_generation,
    remove_build,
    remove_leftovers,
    write_error,
    write_new,
)
from .linkplan import LinkPlan, plan_links
from .models import Diagnostic, Link, Note, Record, SyncStats
from .scan import FileInfo, Scan, diff, is_ignored_name, is_note, scan
from .store import Store, encode_path, note_row, note_to_json, write_spelling
from .text import fold_typed
from .versions import version_stamp

if TYPE_CHECKING:
    from .fulltext import FullText
    from .references import BibPlan, LazyReferences

Progress = Callable[[int, int], None]


def _fulltext(folder: Path, readonly: bool = False) -> FullText:
    from .fulltext import FullText  # Whoosh is imported only when the full text is needed

    return FullText(folder, readonly=readonly)


class _LazyFullText:
    """fulltext.FullText, made (and Whoosh imported) on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._real: FullText | None = None

    def __getattr__(self, name: str):
        if self._real is None:
            self._real = _fulltext(self.folder)
        return getattr(self._real, name)

    def close(self) -> None:
        if self._real is not None:
            self._real.close()


class _NoBatch:
    """The batch of a sync that reads and deletes nothing."""

    empty = True

    def cancel(self) -> None:
        pass

    def delete(self, path: str) -> None:
        raise RuntimeError(f"a sync that deletes nothing was asked to delete {path!r}")

    def commit(self) -> None:
        raise RuntimeError("a sync that writes nothing was asked to commit")


_NO_BATCH = _NoBatch()


# -- intermediate results ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    """What is on disk now in the part of the vault a batch looks at."""

    disk: Scan
    contains: Callable[[str], bool] | None = None  # None: the whole vault
    # With `contains`: the paths it holds, and the folders it holds everything under.
    paths: frozenset[str] = frozenset()
    folders: frozenset[str] = frozenset()

    def __call__(self, path: str) -> bool:
        if self.contains is not None and not self.contains(path):
            return False
        return not any(path.startswith(folder + "/") or not folder for folder in self.disk.unreadable)


@dataclass(frozen=True)
class Parsed:
    record: Record
    body: str
    words: frozenset[str] = frozenset()  # what "did you mean" may offer from it (fulltext.note_words)


@dataclass(frozen=True)
class Reading:
    """The changed notes read and parsed."""

    parsed: tuple[Parsed, ...] = ()
    touched: dict = field(default_factory=dict)  # path -> new stamp: same bytes, new size/mtime
    vanished: tuple[str, ...] = ()  # listed by the scan, gone when read
    diagnostics: tuple[Diagnostic, ...] = ()


# What Indexer.warm_up parses: a little of everything a note holds.
_SAMPLE_NOTE = (
    "---\ntitle: Warm-up\naliases: [WU]\ntags: [ml/vision, warm]\nauthors: [A. Author]\nyear: 2020\n"
    "doi: 10.1000/xyz\narxiv: 2206.14486\ncitekey: warm2020\nrelated: \"[[Other]]\"\n---\n"
    "# Heading\nText with [[Note]], [[Note|shown]], ![[fig.png]], [x](Other%20note.md), #tag/nested,\n"
    "a citation [see @key, p. 3; @other] and 10.1000/abc, arXiv:2206.14486v2, `code [[no]]`, $x$,\n"
    "%% comment %% and 深層学習のモデル 한국어 Ｇ Ｐ Ｔ words running quickly.\n"
    "```python\nprint('[[no]]')\n```\n"
).encode()


# -- the write path ---------------------------------------------------------------------------------

class Indexer:
    """Writes one index folder; the caller holds the writer lock."""

    def __init__(self, root: Path, config: Config, folder: Path):
        self.root = root
        self.config = config
        self.folder = folder
        self._build = -1
        self._store: Store | None = None
        self._ft: FullText | None = None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._ft is not None:
            self._ft.close()
        self._store = self._ft = None
        self._build = -1

    def _open(self, build: int) -> tuple[Store, FullText]:
        if build != self._build or self._store is None or self._ft is None:
            self.close()
            where = self.folder / f"b{build}"
            self._store = Store(where / DB_FILE, writable=True)
            self._ft = cast("FullText", _LazyFullText(where / FULLTEXT_DIR))  # (the same methods, made on first use)
            self._build = build
        return self._store, self._ft

    def warm_up(self) -> None:
        """Do now what the first batch of a long-lived writer (watch, mcp) would otherwise pay
        for on top of its own work: import the parser and Whoosh's writer, open the index, and
        run a sample note through the parser, the store's rows and the full text's analyzers
        (their patterns compile on first use). Writes nothing."""
        build = current_build(self.folder)
        if build < 0:
            return
        _store, ft = self._open(build)
        record, body = parse_file("warm-up.md", _SAMPLE_NOTE, FileInfo(len(_SAMPLE_NOTE), 0), "0" * 40)
        note_row(record, fold_typed)
        note_to_json(record.note)
        ft.warm_up(record, body)

    def stale_reason(self) -> str:
        """Why the index must be rebuilt from scratch, or "" when it can be updated."""
        build = current_build(self.folder)
        if build < 0:
            return "no index yet"
        where = self.folder / f"b{build}"
        if not (where / DB_FILE).is_file() or not (where / FULLTEXT_DIR).is_dir():
            return "index is missing"
        store, ft = self._open(build)
        try:
            if store.get_meta("version") != version_stamp():
                return "index was built by another version of vaultindex"
        except IndexCorrupt as exc:
            return f"the index could not be read ({exc})"
        if fulltext_generation(where / FULLTEXT_DIR) < 0:
            return "index is missing"
        return ""

    def apply(
        self, dirty: Iterable[str] | None = None, full: bool = False, progress: Progress | None = None, verify: bool = False,
        disk: Scan | None = None,
    ) -> SyncStats:
        """Bring the index up to date with the `dirty` paths (None: the whole vault); `disk`: a
        scan of the whole vault the caller made while holding the writer lock (not made again)."""
        started = time.perf_counter()
        if dirty is None:
            self._remove_leftovers()
        reason = "a full rebuild was asked for" if full else self.stale_reason()
        if not reason:
            store, ft = self._open(current_build(self.folder))
            if verify:
                # Whoosh opens every segment, unless its files are as the last commit left them
                # (then a no-op sync never imports Whoosh). The database is not read whole
                # (PRAGMA quick_check reads all of it: 0.3 s at 10,000 notes); a damaged page
                # shows as IndexCorrupt when it is read, here or by a query, and is rebuilt then.
                try:
                    if store.get_meta("fulltext_files") != fulltext_fingerprint(self.folder / f"b{self._build}" / FULLTEXT_DIR):
                        ft.open()
                        ft.check()
                    store.check_file()
                except IndexCorrupt as exc:
                    reason = f"the index could not be read ({exc})"
        if reason:
            stats = self._rebuild(reason, progress)
        else:
            try:
                stats = self._update(store, ft, None if dirty is None else sorted(set(dirty)), progress, disk=disk if dirty is None else None)
            except IndexCorrupt as exc:
                self.close()
                stats = self._rebuild(f"the index could not be written ({exc})", progress)
            except OSError as exc:
                self.close()
                raise write_error(self.folder, exc, "the index is as it was before") from exc
        return replace(stats, seconds=time.perf_counter() - started)

    def _remove_leftovers(self) -> None:
        remove_leftovers(self.folder)

    def _rebuild(self, reason: str, progress: Progress | None) -> SyncStats:
        """Build a new generation beside the current one and switch to it at the end."""
        old = current_build(self.folder)
        build = max([old, *builds(self.folder), 0]) + 1
        where = self.folder / f"b{build}"
        self.close()
        try:
            remove_build(where)
            os.mkdir(where, 0o700)
            store, ft = self._open(build)
            ft.create()
            stats = self._update(store, ft, None, progress, fresh=True)
            write_new(self.folder / CURRENT, str(build).encode())
        except BaseException as exc:
            self.close()
            remove_build(where)
            if isinstance(exc, OSError):
                state = "the index is as it was before" if old >= 0 else "there is no usable index now"
                raise write_error(self.folder, exc, state) from exc
            raise
        for other in builds(self.folder):
            if other != build:
                remove_build(self.folder / f"b{other}")
        return replace(stats, rebuilt="" if reason == "no index yet" else reason)

    def _update(
        self, store: Store, ft, dirty: list[str] | None, progress: Progress | None, fresh: bool = False, disk: Scan | None = None
    ) -> SyncStats:
        pending = set() if fresh else store.pending()
        if dirty is not None and pending:
            dirty = sorted(set(dirty) | pending)
        region = Region(disk) if disk is not None and dirty is None else self._scan(dirty)
        disk = region.disk
        stamps: dict[str, tuple[int, int]]
        if fresh:
            stamps = {}
        elif region.contains is None:
            stamps = store.file_stamps()
        else:  # a few dirty paths: only their rows (a watch batch's cost follows the batch, not the vault)
            stamps = store.file_stamps_in(region.paths, region.folders)
        whole = region.contains is None and not disk.unreadable
        indexed = stamps if whole else {p: s for p, s in stamps.items() if region(p)}
        changes = diff(disk.notes, indexed)
        todo = [*changes.added, *changes.modified]
        # Killed during the last commit: its notes are read again whatever their stamps say.
        forced = {p for p in pending if p in disk.notes and p not in todo}
        todo += sorted(forced)
        # The content hash decides whether a note whose size or mtime changed is read again.
        shas = store.sha1s(p for p in todo if p in stamps) if todo and stamps else {}

        # Whoosh is imported only when there is something to read or delete (a no-op sync needs none).
        batch = ft.begin(expected=len(changes.added)) if (todo or changes.removed) else _NO_BATCH
        try:
            for path in changes.removed:
                batch.delete(encode_path(path))
            reading = self._read(todo, disk, stamps, shas, pending, batch, progress)
            removed = [*changes.removed, *reading.vanished]
            for path in reading.vanished:
                batch.delete(encode_path(path))

            old_files = {"attachment": set(), "excluded": set()} if fresh else {k: store.files(k) for k in ("attachment", "excluded")}
            new_files = {
                "attachment": {p for p in old_files["attachment"] if not region(p)} | disk.attachments,
                "excluded": {p for p in old_files["excluded"] if not region(p)} | disk.excluded,
            }
            files_changed = new_files != old_files
            upserted = [p.record.note for p in reading.parsed]
            changed_paths = sorted({n.path for n in upserted} | set(removed))
            old_notebib, notebib = _notebib(store, upserted, removed, fresh)
            same_sources = not fresh and old_files["attachment"] == new_files["attachment"] and old_notebib == notebib
            bibplan = self._bibliography(store, new_files["attachment"], notebib, fresh, same_sources)
            plan = LinkPlan()
            if upserted or removed or files_changed or bibplan is not None:
                plan = plan_links(
                    store, upserted, removed,
                    old_files["attachment"] | old_files["excluded"],
                    new_files["attachment"] | new_files["excluded"],
                    self.config.resolve_aliases, fresh,
                    references=bibplan.index if bibplan is not None else _stored_references(store),
                    reference_keys=bibplan.changed if bibplan is not None else set(),
                    templates=templates_folder(self.root),
                )
            if not (fresh or upserted or removed or files_changed or reading.touched or bibplan is not None):
                batch.cancel()
                if store.get_meta(BIB_CONFIG) != bib_config(self.config):  # (once, for freshness.unchanged)
                    with contextlib.suppress(OSError), store.transaction() as c:
                        c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (BIB_CONFIG, bib_config(self.config)))
                total = len(stamps) if region.contains is None else store.count()
                return SyncStats(unchanged=total, notes=total, diagnostics=(*disk.diagnostics, *reading.diagnostics))
            if not batch.empty:
                with store.transaction() as c:  # (1) the journal, committed on its own
                    c.executemany("INSERT OR IGNORE INTO pending(path) VALUES (?)", [(encode_path(p),) for p in changed_paths])
            with store.transaction() as c:  # (2) the rows, not yet committed: readers keep the old ones
                _write_rows(c, reading, removed, plan, old_files, new_files, fresh)
                _write_bib_rows(c, reading, removed, notebib, bibplan)
                c.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (version_stamp(),))
                c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (BIB_CONFIG, bib_config(self.config)))
                c.execute("INSERT OR REPLACE INTO meta VALUES ('last_sync', ?)", (str(time.time()),))
                if not batch.empty:
                    batch.commit()  # (3) Whoosh; when it fails, the rows are rolled back
                c.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(fulltext_generation(ft.folder)),))
                c.execute("INSERT OR REPLACE INTO meta VALUES ('fulltext_files', ?)", (fulltext_fingerprint(ft.folder),))
                c.execute("DELETE FROM pending")
            # (4) committed: a reader sees the new rows a moment after the new words.
            store.checkpoint()
        except BaseException:
            batch.cancel()  # nothing to undo once committed
            raise
        notes = store.count()
        added = sum(p.record.note.path not in stamps for p in reading.parsed)
        modified = len(reading.parsed) - added
        return SyncStats(
            added=added,
            modified=modified,
            removed=len(removed),
            unchanged=notes - added - modified,
            notes=notes,
            diagnostics=(*disk.diagnostics, *reading.diagnostics, *(bibplan.diagnostics if bibplan is not None else ())),
            paths=tuple(changed_paths),
            attachments=tuple(sorted(old_files["attachment"] ^ new_files["attachment"])),
            bibliography=bibplan.change if bibplan is not None else None,
        )

    def _bibliography(self, store: Store, attachments: set[str], notebib: dict, fresh: bool, same_sources: bool = False) -> BibPlan | None:
        """The batch's bibliography change (references.plan_bibliography), None when no
        bibliography file changed. With `same_sources` (the attachments and the notes'
        `bibliography:` values are as stored), the files are those stored: when the config's
        list is too and each stored file's stamp is the same, nothing changed, and the
        bibliography's parsers are not even imported (a tenth of an edit-one-note sync)."""
        if (
            same_sources
            and store.get_meta(BIB_CONFIG) == bib_config(self.config)
            and bib_files_as_stored(store)
        ):
            return None
        from .references import from_row, plan_bibliography

        stamps = [] if fresh else store.bib_stamps()
        return plan_bibliography(
            self.root, self.config, attachments, notebib, stamps,
            store.bib_file_data, lambda: [from_row(r) for r in store.bib_entries()],
        )

    # -- scan ----------------------------------------------------------------------------------------
    def _scan(self, dirty: list[str] | None) -> Region:
        if dirty is None:
            return Region(scan(self.root, self.config))
        return scan_region(self.root, self.config, dirty)

    # -- read and parse ----------------------------------------------------------------------------
    def _read(
        self, todo: list[str], disk: Scan, stamps: dict, shas: dict[str, str], pending: set[str], batch, progress: Progress | None
    ) -> Reading:
        parsed: list[Parsed] = []
        touched: dict = {}
        vanished: list[str] = []
        diagnostics: list[Diagnostic] = []
        templates = templates_folder(self.root) if todo else ""
        for i, path in enumerate(todo, 1):
            info = FileInfo(*disk.notes[path])
            try:
                data = read_file(self.root / path)
            except FileNotFoundError:
                if path in stamps:
                    vanished.append(path)
                continue
            except OSError as exc:
                diagnostics.append(Diagnostic(path, f"cannot read file: {exc.strerror}", severity="error"))
                if path in stamps:
                    vanished.append(path)
                continue
            sha = hashlib.sha1(data).hexdigest()
            if shas.get(path) == sha and path not in pending:
                touched[path] = (info.size, info.mtime_ns, sha)
            else:
                try:
                    record, body = parse_file(path, data, info, sha, in_folder(path, templates))
                    words = batch.add(record, body)
                except IndexCorrupt:
                    raise
                except (OSError, MemoryError):
                    raise
                except Exception as exc:  # noqa: BLE001 - one note's problem is that note's diagnostic, never the index's
                    diagnostics.append(Diagnostic(path, f"cannot index this note ({type(exc).__name__}: {exc})", severity="error"))
                    if path in stamps:
                        vanished.append(path)
                    continue
                parsed.append(Parsed(record, "", words))
                diagnostics.extend(record.note.diagnostics)
            if progress and (i % 50 == 0 or i == len(todo)):
                progress(i, len(todo))
        return Reading(tuple(parsed), touched, tuple(vanished), tuple(diagnostics))


def parse_file(path: str, data: bytes, info: FileInfo, sha: str, template: bool = False) -> tuple[Record, str]:
    """The note's record and body. A `template` (a note in config.templates_folder) keeps no
    citekey, DOI or arXiv id: its example ids stand for no paper, so no citation, bibliography
    entry or duplicate check ever finds it (this is the one place they are dropped)."""
    from .parse import decode, parse_note  # imported when a note is read: graph queries never need it

    text, problems = decode(path, data)
    note = parse_note(path, text)
    if template:
        note = replace(note, paper=replace(note.paper, citekey="", doi="", arxiv=""))
    if problems:
        note = replace(note, diagnostics=tuple(problems) + note.diagnostics)
    return Record(replace(note, body=""), info.size, info.mtime_ns, sha), note.body


def scan_region(root: Path, config: Config, dirty: list[str]) -> Region:
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
        elif (root / rel).is_dir():
            folders.add(rel)
        elif os.path.lexists(root / rel):
            files.add(rel)
        else:
            gone.add(rel)
    if "" in folders:
        return Region(scan(root, config))
    for folder in sorted(folders):
        part = scan(root, config, under=folder)
        merged.notes.update(part.notes)
        merged.attachments |= part.attachments
        merged.excluded |= part.excluded
        merged.diagnostics += part.diagnostics
        merged.unreadable |= part.unreadable
    for rel in sorted(files):
        try:
            st = (root / rel).stat()
        except OSError:
            continue  # gone: absent from the scan, so it counts as removed
        if not stat.S_ISREG(st.st_mode):
            continue  # a FIFO or a device named like a note is no note (reading it would block)
        if config.is_excluded(rel):
            merged.excluded.add(rel)
        elif not is_note(rel):
            merged.attachments.add(rel)
        elif st.st_size > config.max_file_size:
            merged.attachments.add(rel)
            merged.diagnostics.append(Diagnostic(rel, "larger than max_file_size, not indexed"))
        else:
            merged.notes[rel] = (st.st_size, st.st_mtime_ns)

    def contains(path: str) -> bool:
        if path in files or path in gone:
            return True
        return any(path.startswith(prefix + "/") for prefix in folders | gone)

    return Region(merged, contains, frozenset(files | gone), frozenset(folders | gone))


def _write_rows(c, reading: Reading, removed: list[str], plan: LinkPlan, old_files: dict, new_files: dict, fresh: bool) -> None:
    gone = [(encode_path(p),) for p in removed]
    upserted = [(encode_path(p.record.note.path),) for p in reading.parsed]
    write_spelling(c, removed if fresh else [*removed, *(p.record.note.path for p in reading.parsed)],
                   [(p.record.note.path, p.words) for p in reading.parsed])
    if not fresh:
        for table, column in (("notes", "path"), ("notejson", "path"), ("names", "path"), ("tags", "path"), ("headings", "path"),
                              ("links", "source"), ("reskeys", "path")):
            c.executemany(f"DELETE FROM {table} WHERE {column} = ?", gone)
            if table not in ("notes", "notejson"):
                c.executemany(f"DELETE FROM {table} WHERE {column} = ?", upserted)
    c.executemany(
        "INSERT OR REPLACE INTO notes(path, size, mtime_ns, sha1, title, name, generated, aliases, citekey, doi, arxiv) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [note_row(p.record, fold_typed) for p in reading.parsed],
    )
    c.executemany(
        "INSERT OR REPLACE INTO notejson(path, data) VALUES (?, ?)",
        [(encode_path(p.record.note.path), note_to_json(p.record.note)) for p in reading.parsed],
    )
    names: list[tuple[str, str, str]] = []
    tags: list[tuple[str, str]] = []
    headings: list[tuple[str, int, str, int]] = []
    for p in reading.parsed:
        note = p.record.note
        key = encode_path(note.path)
        path_key = note.path[:-3] if note.path.lower().endswith(".md") else note.path
        names.append((fold_typed(path_key), key, "path"))
        names.append((fold_typed(note.name), key, "name"))
        names.append((fold_typed(note.title), key, "title"))
        names.extend((fold_typed(a), key, "alias") for a in dict.fromkeys(note.aliases))
        tags.extend((t, key) for t in dict.fromkeys(note.tags))
        headings.extend((key, h.level, h.text, h.line) for h in note.headings)
    c.executemany("INSERT INTO names(key, path, what) VALUES (?,?,?)", [(_safe(k), p, w) for k, p, w in names])
    c.executemany("INSERT INTO tags(tag, path) VALUES (?,?)", [(_safe(t), p) for t, p in tags])
    c.executemany("INSERT INTO headings(path, level, text, line) VALUES (?,?,?,?)", [(p, lv, _safe(t), ln) for p, lv, t, ln in headings])
    c.executemany("INSERT OR REPLACE INTO links VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", plan.rows)
    c.executemany("INSERT INTO reskeys(kind, key, path) VALUES (?,?,?)", plan.keys)
    c.executemany("UPDATE links SET node = ?, status = ?, candidates = ? WHERE source = ? AND cite = ? AND seq = ?", plan.updates)
    c.executemany(
        "UPDATE notes SET size = ?, mtime_ns = ?, sha1 = ? WHERE path = ?",
        [(s[0], s[1], s[2], encode_path(p)) for p, s in reading.touched.items()],
    )
    if new_files != old_files:
        for kind in ("attachment", "excluded"):
            c.executemany("DELETE FROM files WHERE path = ?", [(encode_path(p),) for p in old_files[kind] - new_files[kind]])
            c.executemany("INSERT OR REPLACE INTO files(path, kind) VALUES (?, ?)", [(encode_path(p), kind) for p in new_files[kind] - old_files[kind]])
    if upserted or gone:
        c.execute("DELETE FROM ranks")


def _notebib(store: Store, upserted: list[Note], removed: list[str], fresh: bool) -> tuple[dict, dict]:
    """note path -> its frontmatter `bibliography:` value, before and after this batch."""
    before = {} if fresh else {p: json.loads(v) for p, v in store.notebib().items()}
    values = dict(before)
    for path in removed:
        values.pop(path, None)
    for note in upserted:
        values.pop(note.path, None)
        value = note.frontmatter.get("bibliography") if not note.generated else None
        if isinstance(value, (str, list)) and value:
            values[note.path] = [v for v in value if isinstance(v, str)] if isinstance(value, list) else value
    return before, values


def _stored_references(store: Store) -> LazyReferences:
    from .references import LazyReferences, from_row

    return LazyReferences(lambda: [from_row(r) for r in store.bib_entries()])


def _write_bib_rows(c, reading: Reading, removed: list[str], notebib: dict, bibplan: BibPlan | None) -> None:
    from .references import diagnostics_json
    from .store import write_bibliography, write_notebib

    upserted = [p.record.note.path for p in reading.parsed]
    write_notebib(c, [*removed, *upserted], [(p, json.dumps(notebib[p])) for p in upserted if p in notebib])
    if bibplan is not None:
        write_bibliography(c, bibplan.files, bibplan.entries, diagnostics_json(bibplan.diagnostics))


def _safe(text: str) -> str:
    from .store import storable_text

    return storable_text(text)


__all__ = ["Indexer", "scan_region", "read_file", "parse_file", "version_stamp", "Region", "Parsed", "Reading"]
_ = (Link, contextlib)
