"""Owns the SQL in the index folder: the only module that imports sqlite3. The folder itself (its
layout, marker, builds and their switch) is indexfolder.py's; here are the Store (one build's
`store.sqlite`) and the codecs of its rows.

Commit order of one batch (see docs/reliability.md): (1) the batch's paths go into `pending`
and are committed; (2) a SQLite transaction writes the rows, left open; (3) Whoosh commits
(its generation G; when it fails, the transaction is rolled back and both stores are as they
were); (4) the transaction sets `generation` = G, empties `pending` and commits. Killed
anywhere after (1): the next writer finds `pending` non-empty and indexes those paths again,
whatever their stamps say. Between (3) and (4) a search may find a word a moment before the
store has the note's new rows: hits the store does not have are left out.

Paths are str with surrogateescape (file names that are not UTF-8); SQLite and Whoosh need
valid UTF-8, so such a path is stored as `//x:` + the hex of its bytes (no vault-relative path
starts with `/`), see `encode_path` / `decode_path`. Notes are stored as JSON built generically
from the dataclass fields (notejson.py's `note_to_json` / `note_from_json`), so no file vaultindex writes
besides Whoosh's own is executable data; a note's links, citations and headings are read back from
their `links` and `headings` rows, which the JSON does not repeat.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import json
import operator
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import IndexCorrupt, IndexWriteError
from .models import Citation, Diagnostic, Heading, Link, Note, Paper, Record
from .notejson import RowParts, needs_rows, note_from_data, note_from_json, note_to_json
from .storeschema import SCHEMA

_ESCAPED = "//x:"
_NO_PARTS: RowParts = ((), (), ())
_FIRST = operator.itemgetter(0)
_STAMP = operator.itemgetter(1, 2)


# -- paths that are not UTF-8 ------------------------------------------------------------------------

def encode_path(path: str) -> str:
    """A path as valid UTF-8 text: itself, or `//x:<hex of its bytes>` when it is not UTF-8."""
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return _ESCAPED + path.encode("utf-8", "surrogateescape").hex()


def decode_path(text: str) -> str:
    if text.startswith(_ESCAPED):
        with contextlib.suppress(ValueError):
            return bytes.fromhex(text[len(_ESCAPED):]).decode("utf-8", "surrogateescape")
    return text


def storable_text(value: str) -> str:
    """Display text (a link's context) made storable: lone surrogates become U+FFFD."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# -- the database (its tables: storeschema.py) ---------------------------------------------------------


WAL_LIMIT = 4 * 1024 * 1024  # bytes of write-ahead log kept after a checkpoint


class Store:
    """One build's SQLite database: read-only for queries, read-write for the writer."""

    def __init__(self, path: Path, writable: bool = False):
        self.path = path
        self.writable = writable
        self._conn: sqlite3.Connection | None = None

    # -- opening ---------------------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        try:
            if self.writable:
                conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                # A reader that opens the database first after every connection closed reads the
                # whole write-ahead log again (SQLite's recovery): keep it short once checkpointed.
                conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
                conn.executescript(SCHEMA)
            else:
                if not os.path.isfile(self.path):
                    raise IndexCorrupt("the index database is missing")
                uri = "file:" + _uri_path(self.path) + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False)
                try:
                    conn.execute("SELECT count(*) FROM meta").fetchone()
                except sqlite3.OperationalError:
                    # A read-only folder without the -shm file: read it as an unchanging file.
                    conn.close()
                    uri = "file:" + _uri_path(self.path) + "?mode=ro&immutable=1"
                    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                    conn.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"the index database cannot be read ({exc})") from exc
        conn.execute("PRAGMA cache_size=-16000")
        return conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _q(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"the index database cannot be read ({exc})") from exc

    def select(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        """The rows of one read query (for the store layer's query modules: storedoctor.py)."""
        return self._q(sql, args)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():
                raise OSError(errno.ENOSPC, "No space left on device") from exc
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc).replace(" ", "").lower():
                raise OSError(errno.EROFS, "Read-only file system") from exc
            if isinstance(exc, sqlite3.OperationalError) and "disk i/o" in str(exc).lower():
                raise OSError(errno.EIO, str(exc)) from exc
            raise

    def check_file(self) -> None:
        """A cheap look at the database file (a few bytes, no page read): its header, and a size
        that holds every page the header counts. An emptied, truncated or scrambled file shows
        here; PRAGMA quick_check (check()) finds the rest but reads the whole file."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with open(fd, "rb") as fh:
                header = fh.read(100)
                size = os.fstat(fh.fileno()).st_size
        except OSError as exc:
            raise IndexCorrupt(f"the index database cannot be read ({exc.strerror})") from exc
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            raise IndexCorrupt("the index database is damaged (no SQLite header)")
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        valid = header[24:28] == header[92:96]  # the page count is valid for this change counter
        if page_size < 512 or (valid and size < pages * page_size):
            raise IndexCorrupt("the index database is damaged (shorter than its header says)")

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file (without waiting for readers), so that
        the file alone holds the index (a copy, a check of the file, a reader on a read-only mount)."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        # Then empty the log when no reader needs it (never waiting for one): a log left long
        # after `sync --full` cost every fresh query at 10,000 notes 0.3 s to read it again.
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA busy_timeout=0")
            try:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                self.conn.execute("PRAGMA busy_timeout=30000")

    def check(self) -> None:
        """A damaged database file shows here: IndexCorrupt."""
        rows = self._q("PRAGMA quick_check")
        if not rows or rows[0][0] != "ok":
            raise IndexCorrupt(f"the index database is damaged ({rows[0][0] if rows else 'no answer'})")

    # -- meta --------------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self._q("SELECT key, value FROM meta"))

    def meta_values(self, keys: Iterable[str]) -> list[tuple[str, str]]:
        """(key, value) of the given meta keys that are set."""
        keys = list(keys)
        return self._q(f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(keys))})", keys)

    def has_pending(self) -> bool:
        """Whether a batch was being written when its writer stopped (see the commit order above)."""
        return bool(self._q("SELECT EXISTS (SELECT 1 FROM pending)")[0][0])

    def has_note_bibliographies(self) -> bool:
        """Whether any note names bibliography files in its frontmatter (the notebib rows)."""
        return bool(self._q("SELECT EXISTS (SELECT 1 FROM notebib)")[0][0])

    def get_meta(self, key: str, default: str = "") -> str:
        rows = self._q("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    # -- reading notes -------------------------------------------------------------------------------------
    def stamps(self) -> dict[str, tuple[int, int, str]]:
        return {decode_path(p): (s, m, h) for p, s, m, h in self._q("SELECT path, size, mtime_ns, sha1 FROM notes")}

    def file_stamps(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every note: what a scan is compared with."""
        rows = self._q("SELECT path, size, mtime_ns FROM notes")
        # Built by C loops (itemgetter), not a comprehension: every query's auto-sync reads all
        # 10,000 rows; the rare path that is not UTF-8 is decoded after.
        out = dict(zip(map(_FIRST, rows), map(_STAMP, rows)))
        for path in [p for p in out if p.startswith(_ESCAPED)]:
            out[decode_path(path)] = out.pop(path)
        return out

    def file_stamps_in(self, paths: Iterable[str], folders: Iterable[str]) -> dict[str, tuple[int, int]]:
        """file_stamps of the given notes and of the notes under the given folders only: what a
        batch of a few dirty paths compares with (not the whole vault's rows)."""
        out: dict[str, tuple[int, int]] = {}
        for chunk in _chunks([encode_path(p) for p in paths]):
            marks = ",".join("?" * len(chunk))
            for p, size, mtime in self._q(f"SELECT path, size, mtime_ns FROM notes WHERE path IN ({marks})", chunk):
                out[decode_path(p)] = (size, mtime)
        prefixes = [f.strip("/") + "/" for f in folders]
        for prefix in prefixes:  # a range of the primary key ("/" + 1 is "0")
            for p, size, mtime in self._q("SELECT path, size, mtime_ns FROM notes WHERE path >= ? AND path < ?", (prefix, prefix[:-1] + "0")):
                out[p] = (size, mtime)
        if prefixes:  # paths that are not UTF-8 are stored escaped: looked at one by one
            for p, size, mtime in self._q("SELECT path, size, mtime_ns FROM notes WHERE path >= ? AND path < ?", (_ESCAPED, _ESCAPED[:-1] + ";")):
                path = decode_path(p)
                if path.startswith(tuple(prefixes)):
                    out[path] = (size, mtime)
        return out

    def sha1s(self, paths: Iterable[str]) -> dict[str, str]:
        """path -> SHA-1 of the indexed bytes, for the given paths that are notes."""
        out: dict[str, str] = {}
        for chunk in _chunks([encode_path(p) for p in paths]):
            marks = ",".join("?" * len(chunk))
            for p, sha in self._q(f"SELECT path, sha1 FROM notes WHERE path IN ({marks})", chunk):
                out[decode_path(p)] = sha
        return out

    def paths(self) -> list[str]:
        return sorted(decode_path(p) for (p,) in self._q("SELECT path FROM notes"))

    def count(self) -> int:
        return self._q("SELECT count(*) FROM notes")[0][0]

    def count_generated(self) -> int:
        """How many of the notes are pages vaultindex wrote (tag pages)."""
        return self._q("SELECT count(*) FROM notes WHERE generated != 0")[0][0]

    def note(self, path: str) -> Note | None:
        key = encode_path(path)
        rows = self._q("SELECT data FROM notejson WHERE path = ?", (key,))
        return self._notes([(key, rows[0][0])])[0] if rows else None

    def record(self, path: str) -> Record | None:
        rows = self._q(
            "SELECT j.data, n.size, n.mtime_ns, n.sha1 FROM notes n JOIN notejson j ON j.path = n.path WHERE n.path = ?",
            (encode_path(path),),
        )
        if not rows:
            return None
        data, size, mtime, sha = rows[0]
        return Record(self._notes([(encode_path(path), data)])[0], size, mtime, sha)

    def records(self) -> Iterator[Record]:
        rows = self._q("SELECT n.path, j.data, n.size, n.mtime_ns, n.sha1 FROM notes n JOIN notejson j ON j.path = n.path")
        notes = self._notes([(p, d) for p, d, *_ in rows], every=True)
        for note, (_, _, size, mtime, sha) in zip(notes, rows, strict=True):
            yield Record(note, size, mtime, sha)

    def all_notes(self) -> list[Note]:
        return sorted(self._notes(self._q("SELECT path, data FROM notejson"), every=True), key=lambda n: n.path)

    def _notes(self, rows: list[tuple[str, str]], every: bool = False) -> list[Note]:
        """Notes from (stored path, JSON) rows, their links, citations and headings from their
        rows when the JSON left them out (notejson.py); `every`: the rows are the whole table."""
        loaded = [json.loads(data) for _, data in rows]
        wanted = [p for (p, _), data in zip(rows, loaded, strict=True) if needs_rows(data)]
        parts = self._row_parts(None if every else wanted) if wanted else {}
        return [note_from_data(data, parts.get(p, _NO_PARTS) if needs_rows(data) else None)
                for (p, _), data in zip(rows, loaded, strict=True)]

    def _row_parts(self, paths: list[str] | None) -> dict[str, RowParts]:
        """Stored path -> the note's (links, citations, headings) from the link and heading rows,
        in the note's order; of the given stored paths, or of every note (None)."""
        links: dict[str, tuple[list[Link], list[Citation]]] = {}
        headings: dict[str, list[Heading]] = {}
        link_sql = ("SELECT source, cite, kind, target, subpath, display, form, line, context FROM links{} "
                    "ORDER BY source, cite, seq")
        heading_sql = "SELECT path, level, text, line FROM headings{} ORDER BY path, rowid"
        for chunk in ([None] if paths is None else _chunks(paths)):
            where = "" if chunk is None else f" WHERE {{}} IN ({','.join('?' * len(chunk))})"
            args = () if chunk is None else chunk
            for source, cite, kind, target, subpath, display, form, line, context in self._q(
                link_sql.format(where.format("source")), args
            ):
                found = links.get(source)
                if found is None:
                    found = links[source] = ([], [])
                if cite:
                    found[1].append(Citation(target, form, line, context))
                else:
                    found[0].append(Link(target, kind, subpath, display, line, context, form))
            for path, level, text, line in self._q(heading_sql.format(where.format("path")), args):
                headings.setdefault(path, []).append(Heading(level, text, line))
        return {
            p: (tuple(links.get(p, ((), ()))[0]), tuple(links.get(p, ((), ()))[1]), tuple(headings.get(p, ())))
            for p in {*links, *headings}
        }

    def titles(self, paths: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """path -> (title, generated) for the given paths that are notes."""
        out: dict[str, tuple[str, bool]] = {}
        wanted = [encode_path(p) for p in paths]
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for p, title, gen in self._q(f"SELECT path, title, generated FROM notes WHERE path IN ({marks})", chunk):
                out[decode_path(p)] = (title, bool(gen))
        return out

    def hit_fields(self, paths: Iterable[str]) -> dict[str, Note]:
        """The notes for search hits (title, tags and paper fields are what a hit shows)."""
        out = {}
        wanted = [encode_path(p) for p in paths]
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            rows = self._q(f"SELECT path, data FROM notejson WHERE path IN ({marks})", chunk)
            for (p, _), note in zip(rows, self._notes(rows), strict=True):
                out[decode_path(p)] = note
        return out

    def files(self, kind: str) -> set[str]:
        return {decode_path(p) for (p,) in self._q("SELECT path FROM files WHERE kind = ?", (kind,))}

    def file_kind(self, path: str) -> str | None:
        rows = self._q("SELECT kind FROM files WHERE path = ?", (encode_path(path),))
        return rows[0][0] if rows else None

    def name_matches(self, key: str, what: str) -> list[str]:
        """Note paths whose folded name (`what` = "name", "title" or "alias") is `key`."""
        return sorted(decode_path(p) for (p,) in self._q(
            "SELECT DISTINCT path FROM names WHERE key = ? AND what = ?", (key, what)))

    def names_for_resolution(self) -> list[tuple[str, tuple[str, ...], str, str, str, bool]]:
        """(path, aliases, citekey, doi, arxiv, generated) of every note."""
        return [
            (decode_path(p), tuple(json.loads(a or "[]")), c or "", d or "", x or "", bool(g))
            for p, a, c, d, x, g in self._q("SELECT path, aliases, citekey, doi, arxiv, generated FROM notes")
        ]

    def resolution_entries(self, paths: Iterable[str]) -> list[tuple[str, tuple[str, ...], str, str, str, bool]]:
        """names_for_resolution() of the given paths only (those that are notes)."""
        out = []
        for chunk in _chunks(sorted({encode_path(p) for p in paths})):
            marks = ",".join("?" * len(chunk))
            for p, a, c, d, x, g in self._q(
                f"SELECT path, aliases, citekey, doi, arxiv, generated FROM notes WHERE path IN ({marks})", chunk
            ):
                out.append((decode_path(p), tuple(json.loads(a or "[]")), c or "", d or "", x or "", bool(g)))
        return out

    def paths_with_keys(self, wanted: Iterable[tuple[str, str]]) -> set[str]:
        """Note paths stored under any of the (kind, key) resolution keys (the reskeys table)."""
        by_kind: dict[str, set[str]] = {}
        for kind, key in wanted:
            by_kind.setdefault(kind, set()).add(storable_text(key))
        out: set[str] = set()
        for kind, keys in sorted(by_kind.items()):
            for chunk in _chunks(sorted(keys)):
                marks = ",".join("?" * len(chunk))
                out.update(decode_path(p) for (p,) in self._q(
                    f"SELECT DISTINCT path FROM reskeys WHERE kind = ? AND key IN ({marks})", (kind, *chunk)))
        return out

    def pending(self) -> set[str]:
        return {decode_path(p) for (p,) in self._q("SELECT path FROM pending")}

    # -- links ---------------------------------------------------------------------------------------------
    _LINK_COLUMNS = "source, cite, seq, key, node, status, candidates, kind, target, subpath, display, form, line, context"

    def links_of(self, source: str) -> list[tuple]:
        return self._q(
            f"SELECT {self._LINK_COLUMNS} FROM links WHERE source = ? ORDER BY line, cite, seq", (encode_path(source),)
        )

    def links_to(self, node: str) -> list[tuple]:
        """Link rows pointing at `node` from other, non-generated notes, with the source's title."""
        return self._q(
            "SELECT l.source, l.cite, l.seq, l.kind, l.target, l.subpath, l.display, l.line, l.context, n.title "
            "FROM links l JOIN notes n ON n.path = l.source "
            "WHERE l.node = ? AND l.source != l.node AND n.generated = 0",
            (encode_path(node),),
        )

    def links_with_keys(self, cite: bool, keys: Iterable[str]) -> list[tuple]:
        out: list[tuple] = []
        for chunk in _chunks(sorted({storable_text(k) for k in keys})):
            marks = ",".join("?" * len(chunk))
            out += self._q(
                f"SELECT source, seq, target, form FROM links WHERE cite = ? AND key IN ({marks})", (int(cite), *chunk)
            )
        return out

    def unresolved_rows(self) -> list[tuple]:
        return self._q(
            "SELECT l.node, l.cite, l.source, l.line, l.context, l.target FROM links l JOIN notes n ON n.path = l.source "
            "WHERE l.status IN ('unresolved', 'reference') AND n.generated = 0 ORDER BY l.source, l.cite, l.seq"
        )

    def orphans(self) -> list[tuple[str, str]]:
        rows = self._q(
            """
            SELECT n.path, n.title FROM notes n WHERE n.generated = 0
            AND NOT EXISTS (
                SELECT 1 FROM links l JOIN notes s ON s.path = l.source
                WHERE l.node = n.path AND l.source != n.path AND s.generated = 0)
            AND NOT EXISTS (
                SELECT 1 FROM links l WHERE l.source = n.path AND l.node != n.path AND (
                    EXISTS (SELECT 1 FROM notes t WHERE t.path = l.node AND t.generated = 0)
                    OR EXISTS (SELECT 1 FROM files f WHERE f.path = l.node)))
            """
        )
        return sorted((decode_path(p), t) for p, t in rows)

    def tag_counts(self) -> list[tuple[str, list[str]]]:
        """Every tag of the non-generated notes with its note paths."""
        found: dict[str, list[str]] = {}
        for tag, path in self._q(
            "SELECT t.tag, t.path FROM tags t JOIN notes n ON n.path = t.path WHERE n.generated = 0 ORDER BY t.tag, t.path"
        ):
            found.setdefault(tag, []).append(decode_path(path))
        return sorted(found.items())

    def tag_note_counts(self) -> list[tuple[str, int]]:
        """Every tag of the non-generated notes with its number of notes (tag_counts without the paths)."""
        return self._q(
            "SELECT tag, count(DISTINCT path) FROM tags WHERE path NOT IN (SELECT path FROM notes WHERE generated != 0) "
            "GROUP BY tag ORDER BY tag"
        )

    def ranks(self) -> dict[str, float]:
        return {decode_path(p): r for p, r in self._q("SELECT path, pagerank FROM ranks")}

    # -- the bibliography (rows written by references.py through write_bibliography) -----------------
    def bib_stamps(self) -> list[tuple[str, str, str, str, int | None, int | None]]:
        """(path, file, format, origin, size, mtime_ns) of every bibliography file, as last read."""
        return sorted(self._q("SELECT path, file, format, origin, size, mtime_ns FROM bibfiles"))

    def bib_file_data(self) -> dict[str, str]:
        """path -> the JSON of the file as read (entries and diagnostics)."""
        return dict(self._q("SELECT path, data FROM bibfiles"))

    def bib_entries(self, keys: Iterable[str] | None = None) -> list[tuple]:
        """Rows (key, path, line, type, title, authors JSON, year, venue, doi, arxiv, url) of the
        entries in force, all of them or those with the given keys."""
        columns = "key, path, line, type, title, authors, year, venue, doi, arxiv, url"
        if keys is None:
            return self._q(f"SELECT {columns} FROM bibentries ORDER BY key")
        out: list[tuple] = []
        for chunk in _chunks(sorted(set(keys))):
            out += self._q(f"SELECT {columns} FROM bibentries WHERE key IN ({','.join('?' * len(chunk))})", chunk)
        return sorted(out)

    def bib_matching(self, words: list[str]) -> list[str]:
        """Keys of the entries whose folded text holds every word (a scan: a few ms at 5,000)."""
        where = " AND ".join("instr(haystack, ?) > 0" for _ in words) or "1"
        return [k for (k,) in self._q(f"SELECT key FROM bibentries WHERE {where}", words)]

    def word_counts(self, words: Iterable[str]) -> dict[str, int]:
        """word -> the number of notes that have it, for the given words that some note has."""
        out: dict[str, int] = {}
        for chunk in _chunks(sorted(set(words))):
            out.update(self._q(f"SELECT word, notes FROM spelling WHERE word IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def words_between(self, shortest: int, longest: int) -> list[str]:
        """The spelling words of `shortest` to `longest` characters."""
        return [w for (w,) in self._q("SELECT word FROM spelling WHERE length(word) BETWEEN ? AND ?", (shortest, longest))]

    def notebib(self) -> dict[str, str]:
        """note path -> its frontmatter `bibliography:` value (JSON)."""
        return {decode_path(p): v for p, v in self._q("SELECT path, value FROM notebib")}

    def rank_stamp(self, options: str) -> str:
        """The state of the index that `rank`'s rows belong to: every written batch changes it."""
        meta = dict(self._q("SELECT key, value FROM meta WHERE key IN ('generation', 'last_sync')"))
        return f"{meta.get('generation', '')}:{meta.get('last_sync', '')}:{options}"

    def stored_ranks(self, options: str) -> list[tuple[str, str, float, int, int]] | None:
        """(path, title, pagerank, in-degree, out-degree) of every note as save_ranks kept them
        for the index as it is now; None when they belong to another state (or were never kept)."""
        if self.get_meta("ranks_stamp") != self.rank_stamp(options):
            return None
        return [
            (decode_path(p), json.loads(t), r, i, o)
            for p, r, i, o, t in self._q("SELECT path, pagerank, in_degree, out_degree, title FROM ranks")
        ]

    def stored_communities(self, view: str, stamp: str) -> list[list[str]] | None:
        """The communities save_communities kept for `view` in the state `stamp`, largest
        first, each sorted; None when none were kept (or the index predates the table)."""
        if not self._q("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'communities'"):
            return None
        rows = self._q("SELECT community, node FROM communities WHERE view = ? AND stamp = ? ORDER BY community", (view, stamp))
        if not rows:
            return None
        groups: dict[int, list[str]] = {}
        for community, node in rows:
            groups.setdefault(community, []).append(decode_path(node))
        return [sorted(groups[c], key=str) for c in sorted(groups)]

    def save_communities(self, view: str, stamp: str, groups: list[list[str]], options: str) -> bool:
        """Keep a view's communities computed in the state `stamp` (and drop those of any other
        state), unless a writer changed the index since. The caller holds the writer lock."""
        try:
            with self.transaction() as c:
                if self.rank_stamp(options) != stamp:
                    return False
                c.execute("DELETE FROM communities WHERE stamp != ? OR view = ?", (stamp, view))
                c.executemany(
                    "INSERT INTO communities(view, node, community, stamp) VALUES (?,?,?,?)",
                    [(view, encode_path(node), i, stamp) for i, members in enumerate(groups) for node in members],
                )
        except sqlite3.Error as exc:
            raise IndexWriteError(f"cannot keep the communities in {self.path} ({exc})") from exc
        return True

    def save_ranks(self, rows: Iterable[tuple[str, str, float, int, int]], stamp: str, options: str) -> bool:
        """Keep `rank`'s rows computed for the state `stamp`, unless a writer changed the index
        since (then nothing is kept). The caller holds the writer lock."""
        try:
            with self.transaction() as c:
                if self.rank_stamp(options) != stamp:
                    return False
                c.execute("DELETE FROM ranks")
                c.executemany(
                    "INSERT INTO ranks(path, pagerank, in_degree, out_degree, title) VALUES (?,?,?,?,?)",
                    [(encode_path(p), r, i, o, json.dumps(t)) for p, t, r, i, o in rows],
                )
                c.execute("INSERT OR REPLACE INTO meta VALUES ('ranks_stamp', ?)", (stamp,))
        except sqlite3.Error as exc:
            raise IndexWriteError(f"cannot keep the ranks in {self.path} ({exc})") from exc
        return True


def _uri_path(path: Path) -> str:
    from urllib.parse import quote

    return quote(os.fsdecode(os.path.abspath(path)), safe="/")


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- rows for one note ----------------------------------------------------------------------------------

def note_row(record: Record, name_key_of: Any) -> tuple:
    note = record.note
    return (
        encode_path(note.path), record.size, record.mtime_ns, record.sha1,
        storable_text(note.title), storable_text(name_key_of(note.name)), int(note.generated),
        json.dumps(list(note.aliases), ensure_ascii=True),
        note.paper.citekey, note.paper.doi, note.paper.arxiv,
    )


def link_row(source: str, cite: bool, seq: int, key: str, node: str, status: str, candidates: tuple[str, ...],
             item: Link | Citation) -> tuple:
    cands = json.dumps([encode_path(c) for c in candidates]) if candidates else ""
    key = storable_text(key)
    if isinstance(item, Citation):
        return (encode_path(source), 1, seq, key, encode_path(node), status, cands, "cite", storable_text(item.key), "", "",
                item.kind, item.line, storable_text(item.context))
    return (encode_path(source), 0, seq, key, encode_path(node), status, cands, item.kind, storable_text(item.target),
            storable_text(item.subpath), storable_text(item.display), item.form, item.line, storable_text(item.context))


def write_bibliography(c: sqlite3.Connection, files: list[tuple], entries: list[tuple], diagnostics: str) -> None:
    """Replace the bibliography rows (inside the writer's transaction): files are (path, file,
    format, origin, size, mtime_ns, data), entries (key, path, line, type, title, authors,
    year, venue, doi, arxiv, url, haystack)."""
    c.execute("DELETE FROM bibfiles")
    c.execute("DELETE FROM bibentries")
    c.executemany("INSERT INTO bibfiles VALUES (?,?,?,?,?,?,?)", [tuple(map(_storable, r)) for r in files])
    c.executemany("INSERT OR REPLACE INTO bibentries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", [tuple(map(_storable, r)) for r in entries])
    c.execute("INSERT OR REPLACE INTO meta VALUES ('bib_diagnostics', ?)", (diagnostics,))


def write_notebib(c: sqlite3.Connection, gone: Iterable[str], values: Iterable[tuple[str, str]]) -> None:
    """The notes' `bibliography:` values: rows of removed or re-read notes go, the new ones come."""
    c.executemany("DELETE FROM notebib WHERE path = ?", [(encode_path(p),) for p in gone])
    c.executemany("INSERT OR REPLACE INTO notebib VALUES (?, ?)", [(encode_path(p), v) for p, v in values])


def write_spelling(c: sqlite3.Connection, gone: Iterable[str], words: Iterable[tuple[str, frozenset[str]]]) -> None:
    """The spelling counts (inside the writer's transaction): the words of the `gone` notes
    (removed or re-read) are taken off, the new `words` of (path, words) added."""
    counts: collections.Counter[str] = collections.Counter()
    for chunk in _chunks([encode_path(p) for p in gone]):
        for (blob,) in c.execute(f"SELECT words FROM notewords WHERE path IN ({','.join('?' * len(chunk))})", chunk):
            counts.subtract(zlib.decompress(blob).decode("utf-8").split("\n"))
        c.executemany("DELETE FROM notewords WHERE path = ?", [(p,) for p in chunk])
    rows = []
    for path, found in words:
        counts.update(found)
        rows.append((encode_path(path), zlib.compress("\n".join(sorted(found)).encode("utf-8"))))
    c.executemany("INSERT OR REPLACE INTO notewords VALUES (?, ?)", rows)
    c.executemany("INSERT INTO spelling VALUES (?, ?) ON CONFLICT(word) DO UPDATE SET notes = notes + excluded.notes",
                  [(w, n) for w, n in counts.items() if n and w])
    if any(n < 0 for n in counts.values()):
        c.execute("DELETE FROM spelling WHERE notes <= 0")


def _storable(value: Any) -> Any:
    return storable_text(value) if isinstance(value, str) else value


def decode_candidates(text: str) -> tuple[str, ...]:
    return tuple(decode_path(c) for c in json.loads(text)) if text else ()


__all__ = [
    "Store", "encode_path", "decode_path", "note_to_json", "note_from_json",
    "note_row", "link_row", "decode_candidates", "Diagnostic", "Paper", "write_bibliography", "write_notebib", "write_spelling",
]
