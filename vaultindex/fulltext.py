"""Owns the Whoosh index: its schema, writing batches, and ranked, typo-tolerant queries.

The only module that imports whoosh. Only the words are here: the notes themselves are rows
of the store (store.py), which holds everything a hit shows. A document's `path` is
`store.encode_path(path)`: valid UTF-8 even for a file name that is not.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import pickle
import re
import shutil
import signal
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from whoosh import fields, highlight, index, qparser, query
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError

from .errors import IndexCorrupt, QueryError
from .models import Record
from .store import encode_path
from .snippet import first_line, readable
from .versions import SCHEMA_VERSION

INDEX_NAME = "MAIN"
# Batches at least this large use Whoosh's multi-process writer (it forks; see DESIGN.md).
BIG_BATCH = 2000
# Searched when a query names no field, with their weights (title first, body last).
FIELD_BOOSTS = {"title": 6.0, "aliases": 5.0, "headings": 2.5, "tagtext": 2.0, "authors": 1.5, "body": 1.0}
# What a user may type before a colon, and the field it means.
FIELD_NAMES = {
    "title": "title",
    "alias": "aliases",
    "aliases": "aliases",
    "heading": "headings",
    "headings": "headings",
    "tag": "tag",
    "tags": "tag",
    "author": "authors",
    "authors": "authors",
    "body": "body",
    "year": "year",
    "path": "path",
    "status": "status",
    "cites": "cites",
    "venue": "venue",
}
MAX_EXPANSION = 200  # words a prefix, wildcard or word range may stand for, so `a*` cannot make a query crawl
MAX_QUERY_CHARS = 2000
# Typo correction looks each unknown word up in the whole spelling dictionary: only a few
# words of a sensible length are corrected (a 2,000-letter word took minutes; 300 words, a minute).
MAX_CORRECTED_WORDS = 5
MAX_CORRECTED_LENGTH = 40
OPEN_RETRIES = 8


def _fix_and_not_matcher() -> None:
    """Make `a NOT b` exclude b's first match too.

    Whoosh's AndNotMatcher (whoosh3 3.54 and the Whoosh it forks) only skips the prohibited
    documents at start when both sub-matchers begin on the same document; when the
    prohibited one begins earlier, the first matching document slips through, so
    `pruning -forgetting` could return a note about forgetting. Skipping forward at start,
    as it does after every step, fixes it (test_search.py has the regression test).
    """
    from whoosh.matching import binary

    def _find_first(self: Any) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    binary.AndNotMatcher._find_first = _find_first


_fix_and_not_matcher()


# -- big batches fork Whoosh sub-writers: they must never outlive this process --------------------

_SUBWRITER_PARENT: int | None = None  # this process's pid while a multi-process write runs
_PR_SET_PDEATHSIG = 1
_prctl: Any = None  # libc's prctl, looked up before forking (Linux)


def _guard_subwriters() -> None:
    """Called before a multi-process write: the children forked from now on die with us."""
    global _SUBWRITER_PARENT, _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            _prctl = ctypes.CDLL(None, use_errno=True).prctl
    _SUBWRITER_PARENT = os.getpid()


def _die_with_parent() -> None:
    """In a child forked during a multi-process write (one of Whoosh's sub-writers): die with the parent.

    A forked child shares its parent's open files, so it holds the index's writer locks too
    (vaultindex's and Whoosh's flock). When the parent is killed (kill -9, the OOM killer) a
    sub-writer waits for work forever and keeps both locks: no sync or watch could start again.
    """
    parent = _SUBWRITER_PARENT
    if parent is None:
        return
    armed = _prctl is not None and _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if not armed:
        threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


os.register_at_fork(after_in_child=_die_with_parent)


def _schema() -> fields.Schema:
    stem = StemmingAnalyzer()
    return fields.Schema(
        path=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=stem, stored=True, field_boost=FIELD_BOOSTS["title"]),
        aliases=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["aliases"]),
        headings=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["headings"]),
        tagtext=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["tagtext"]),
        authors=fields.TEXT(analyzer=StandardAnalyzer(stoplist=None), field_boost=FIELD_BOOSTS["authors"]),
        body=fields.TEXT(analyzer=stem),
        # Unstemmed words of the prominent fields: the dictionary for "did you mean".
        spell=fields.TEXT(analyzer=StandardAnalyzer(minsize=3), phrase=False),
        tag=fields.KEYWORD(commas=True, lowercase=True),
        year=fields.NUMERIC(int, bits=32, signed=False),
        status=fields.KEYWORD(lowercase=True),
        venue=fields.TEXT(analyzer=StandardAnalyzer(stoplist=None)),
        cites=fields.KEYWORD(commas=True, lowercase=True),
        kind=fields.ID(),  # "generated" for the pages vaultindex writes, which search leaves out
    )


@dataclass(frozen=True, slots=True)
class RawHit:
    path: str  # as stored: store.decode_path gives the note's path
    score: float
    record: Any  # None: the store has the note
    snippet: str
    fuzzy: bool


def _document(record: Record, body: str) -> dict[str, Any]:
    note = record.note
    words = [note.title, *note.aliases, *(h.text for h in note.headings), *note.tags]
    doc: dict[str, Any] = {
        "path": encode_path(note.path),
        "title": note.title,
        "aliases": "\n".join(note.aliases),
        "headings": "\n".join(h.text for h in note.headings),
        "tagtext": " ".join(t.replace("/", " ").replace("-", " ").replace("_", " ") for t in note.tags),
        "authors": "\n".join(note.paper.authors),
        "body": body,
        "spell": "\n".join(words),
        "tag": ",".join(note.tags),
        "status": note.paper.status,
        "venue": note.paper.venue,
        "cites": ",".join(c.key for c in note.citations),
        "kind": "generated" if note.generated else "note",
    }
    if note.paper.year is not None and 0 < note.paper.year < 1 << 31:
        doc["year"] = note.paper.year
    return doc


def _open_writer(ix: Any, procs: int = 1, **options: Any) -> Any:
    """`ix.writer()`, but when the writer fails half-built (a full disk while it creates its
    files) Whoosh's lock is released now: Whoosh keeps it until the half-built writer is
    garbage, which an error's traceback delays for as long as the error is kept."""
    from whoosh.multiproc import MpWriter
    from whoosh.writing import SegmentWriter

    cls, options = (MpWriter, {**options, "procs": procs}) if procs > 1 else (SegmentWriter, options)
    writer = cls.__new__(cls)
    try:
        writer.__init__(ix, **options)
    except BaseException:
        lock = getattr(writer, "writelock", None)
        if lock is not None and lock.locked and lock.fd is not None:
            lock.release()
        raise
    return writer


def _stop_subwriters(writer: Any) -> None:
    """End Whoosh's sub-writers: MpWriter.cancel only flips a flag in the parent's copy of
    each, so a sub-writer waiting for work would wait for ever (and Python for it at exit)."""
    for task in getattr(writer, "tasks", ()):
        with contextlib.suppress(Exception):
            if task.is_alive():
                task.terminate()
            task.join(5)


class Batch:
    """Deletes and documents for ONE commit (or a cancel), added while the notes are read.

    They are held until BIG_BATCH documents have come (or from the first one when at least
    that many are `expected`: new notes, say, as opposed to files that may only have been
    touched); from then on they go to Whoosh's multi-process writer as they come, so that the
    caller's parsing runs while the sub-writers index (a full build is one pass, not two).
    A smaller batch is written by one process at commit.
    """

    def __init__(self, ft: "FullText", expected: int = 0):
        self._ft = ft
        self._expected = expected
        self._writer: Any = None
        self._deletes: list[str] = []
        self._held: list[tuple[Record, str]] = []
        self.empty = True  # nothing to commit yet

    def delete(self, path: str) -> None:
        self.empty = False
        if self._writer is None:
            self._deletes.append(path)
        else:
            with self._ft._writing():
                self._writer.delete_by_term("path", path)

    def add(self, record: Record, body: str) -> None:
        """Add a note's document, replacing the one of the same path."""
        self.empty = False
        if self._writer is not None:
            with self._ft._writing():
                self._writer.update_document(**_document(record, body))
            return
        self._held.append((record, body))
        # Forking while other threads run (watch's observer) can deadlock the children.
        if max(len(self._held), self._expected) >= BIG_BATCH and threading.active_count() == 1:
            self._open(big=True)

    def commit(self) -> None:
        try:
            if self._writer is None:
                self._open(big=False)
            with self._ft._writing():
                self._writer.commit()
        except BaseException:
            if self._writer is not None:
                _stop_subwriters(self._writer)
                with contextlib.suppress(Exception):  # a failed multi-process commit keeps Whoosh's lock
                    self._writer._cleanup_on_error()
            raise
        finally:
            self._done()

    def cancel(self) -> None:
        try:
            if self._writer is not None:
                _stop_subwriters(self._writer)
                self._writer.cancel()
        finally:
            self._done()

    def _open(self, big: bool) -> None:
        global _SUBWRITER_PARENT
        ft = self._ft
        ft.remove_stray_files()
        try:
            with ft._writing():
                if big:
                    _guard_subwriters()  # the sub-writers forked from here die with us
                    # 512 MB per sub-writer: with 128 Whoosh spent a quarter of a 10,000-note
                    # build spilling postings to disk and reading them back (bench/README.md).
                    self._writer = _open_writer(ft.ix, procs=2, multisegment=True, limitmb=512)
                else:
                    self._writer = _open_writer(ft.ix, limitmb=128)
                for path in self._deletes:
                    self._writer.delete_by_term("path", path)
                for record, body in self._held:
                    self._writer.update_document(**_document(record, body))
        except BaseException:
            if self._writer is not None:
                _stop_subwriters(self._writer)
                with contextlib.suppress(Exception):
                    self._writer.cancel()
                self._writer = None
            _SUBWRITER_PARENT = None
            raise
        self._deletes, self._held = [], []

    def _done(self) -> None:
        global _SUBWRITER_PARENT
        _SUBWRITER_PARENT = None
        self._writer = None  # committed or cancelled: a later cancel() has nothing to undo
        self._ft.close()
        self._ft._ix = None  # the next read sees the new generation


class FullText:
    """The index folder: open, create, write batches, search."""

    def __init__(self, folder: Path, readonly: bool = False):
        self.folder = folder
        self.readonly = readonly  # a reader: never writes a file (a read-only mount works)
        self._ix: Any = None
        self._searcher: Any = None

    # -- opening -----------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether index files are there (readable or not: open() tells)."""
        try:
            return index.exists_in(str(self.folder), indexname=INDEX_NAME)
        except Exception:  # a damaged table of contents still means an index is there
            return True

    def create(self) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._ix = index.create_in(str(self.folder), _schema(), indexname=INDEX_NAME)

    def open(self) -> None:
        """Open the index; retry the rare race with a concurrent commit; IndexCorrupt if unreadable."""
        for attempt in range(OPEN_RETRIES):
            try:
                self._ix = index.open_dir(str(self.folder), indexname=INDEX_NAME, readonly=self.readonly)
                return
            except FileNotFoundError:
                time.sleep(0.01 * (attempt + 1))
            except EmptyIndexError as exc:
                raise IndexCorrupt("no index found") from exc
            except Exception as exc:  # Whoosh raises many kinds on a damaged file
                raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc
        raise IndexCorrupt("the index kept changing while it was opened")

    @property
    def ix(self) -> Any:
        if self._ix is None:
            self.open()
        return self._ix

    def generation(self) -> int:
        return self.ix.latest_generation()

    @contextlib.contextmanager
    def searcher(self) -> Iterator[Any]:
        """A searcher of the latest commit, kept open between queries while it is current
        (opening one is a quarter of a query at 10,000 notes). Never `refresh()`: in the
        Whoosh forks a refreshed searcher still returns replaced documents (DESIGN.md)."""
        s = self._searcher
        if s is not None:
            try:
                current = s.up_to_date()
            except (OSError, ValueError):
                current = False
            if not current:
                s.close()
                s = self._searcher = None
        if s is None:
            for attempt in range(OPEN_RETRIES):
                try:
                    s = self.ix.searcher()
                    break
                except FileNotFoundError:  # a commit replaced a segment while we opened it
                    time.sleep(0.01 * (attempt + 1))
                    self._ix = None
            else:
                raise IndexCorrupt("the index kept changing while it was opened")
            self._searcher = s
        yield s

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def paths(self) -> list[str]:
        """Every document's stored path, once per document (as stored: see store.decode_path)."""
        try:
            with self._reading(), self.searcher() as s:
                return [fields_["path"] for fields_ in s.reader().all_stored_fields()]
        except IndexCorrupt:
            raise
        except Exception as exc:
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc

    # -- writing -------------------------------------------------------------------------------
    def begin(self, expected: int = 0) -> "Batch":
        """One batch of deletes and documents, filled while the notes are read, committed once
        (see Batch); `expected`: documents sure to come."""
        return Batch(self, expected)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A damaged segment shows while writing too (deletes and merges read the old segments):
        IndexCorrupt, so that the caller rebuilds. A full disk or a permission problem stays an OSError."""
        try:
            yield
        except IndexCorrupt:
            raise
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: Whoosh mapped a damaged file at a bogus offset
                raise
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc
        except (EOFError, ValueError, KeyError, IndexError, struct.error, pickle.UnpicklingError) as exc:
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc

    def check(self) -> None:
        """Open every segment, so that a truncated or damaged file shows now; IndexCorrupt if one cannot be read."""
        try:
            with self._reading(), self.searcher() as s:
                s.reader().doc_count_all()
        except IndexCorrupt:
            self.close()
            self._ix = None
            raise
        except Exception as exc:  # Whoosh raises many kinds on a damaged file
            self.close()
            self._ix = None
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc

    def remove_stray_files(self) -> None:
        """What a writer killed mid-commit leaves behind, which Whoosh never cleans: its
        `_MAIN_<gen>.toc.<stamp>` files and its MAIN.tmp folder (never the lock file). The
        caller holds the writer lock."""
        for stray in self.folder.glob(f"_{INDEX_NAME}_*.toc.*"):
            with contextlib.suppress(OSError):
                stray.unlink()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder / f"{INDEX_NAME}.tmp")

    # -- searching -----------------------------------------------------------------------------
    def search(
        self, text: str, limit: int, read_body: Any, fuzzy_below: int = 3
    ) -> tuple[list[RawHit], str | None]:
        """Ranked hits for a user query, and a corrected query when typo tolerance kicked in.

        `read_body(path)` returns a note's text for snippets (or "" when it is gone); with
        None, hits come without snippets.
        """
        q = parse_query(text, self._field_names())
        with self._reading(), self.searcher() as s:
            hits = self._run(s, q, limit, read_body, fuzzy=False)
            suggestion = None
            if len(hits) < min(fuzzy_below, limit):
                corrected = self._correct(s, text)
                if corrected is not None:
                    suggestion = corrected
                    seen = {h.path for h in hits}
                    more = self._run(s, parse_query(corrected, self._field_names()), limit, read_body, True)
                    hits += [h for h in more if h.path not in seen][: limit - len(hits)]
            return hits, suggestion

    def matching_paths(self, text: str, limit: int | None = None) -> list[str]:
        """Paths of the notes matching a query (no ranking needed, no snippets)."""
        q = parse_query(text, self._field_names())
        with self._reading(), self.searcher() as s:
            _check_expansions(s.reader(), q)
            return [hit["path"] for hit in s.search(q, limit=limit)]

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Damaged segment files surface as assorted Whoosh errors while searching: one kind for callers."""
        try:
            yield
        except (IndexCorrupt, QueryError):
            raise
        except (OSError, EOFError, ValueError, KeyError, IndexError, struct.error, pickle.UnpicklingError) as exc:
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc

    def _field_names(self) -> set[str]:
        return set(_schema().names())

    def _run(self, s: Any, q: Any, limit: int, read_body: Any, fuzzy: bool) -> list[RawHit]:
        _check_expansions(s.reader(), q)
        results = s.search(q, limit=limit, terms=True)
        results.fragmenter = highlight.ContextFragmenter(maxchars=220, surround=60)
        results.formatter = _MarkFormatter()
        results.scorer = _passage_score
        out = []
        for hit in results:
            record = None
            body = read_body(hit["path"]) if read_body else ""
            snippet = hit.highlights("body", text=readable(body), top=1) if body else ""
            if not snippet and body:
                snippet = first_line(body)
            out.append(RawHit(hit["path"], float(hit.score), record, _tidy(snippet), fuzzy))
        return out

    def _correct(self, s: Any, text: str) -> str | None:
        """The query with each unknown plain word replaced by the closest indexed word."""
        changed = False
        out = []
        tried = 0
        for token in re.split(r"(\s+)", text):
            word = token.lower()
            if (
                tried < MAX_CORRECTED_WORDS
                and re.fullmatch(rf"[^\W\d_]{{4,{MAX_CORRECTED_LENGTH}}}", word)
                and not _known(s, word)
            ):
                tried += 1
                suggestions = s.suggest("spell", word, limit=1, maxdist=2) or s.suggest(
                    "spell", word, limit=1, maxdist=2, prefix=0
                )
                if suggestions and suggestions[0] != word:
                    out.append(suggestions[0])
                    changed = True
                    continue
            out.append(token)
        return "".join(out) if changed else None


def _check_expansions(reader: Any, q: Any) -> None:
    """Refuse a prefix, wildcard or word range that stands for too many words (`a*`, `[a TO z]`
    in a big vault), before Whoosh builds a matcher for each of them.

    A `path:` prefix is a folder filter: it stands for one word per note in the folder, and
    refusing it would make `path:papers/` fail in any vault with more than 200 papers.
    """
    for leaf in q.leaves():
        if isinstance(leaf, query.Prefix) and leaf.fieldname == "path":
            continue
        if isinstance(leaf, (query.Prefix, query.Wildcard, query.TermRange)):
            count = 0
            for _ in leaf._btexts(reader):
                count += 1
                if count > MAX_EXPANSION:
                    if isinstance(leaf, query.TermRange):
                        shown = f"[{leaf.start or ''} TO {leaf.end or ''}]"
                    else:
                        shown = str(leaf.text) + ("*" if isinstance(leaf, query.Prefix) else "")
                    raise QueryError(
                        f"{shown!r} matches more than {MAX_EXPANSION} words in {leaf.fieldname}: "
                        "make it more specific"
                    )


def _known(s: Any, word: str) -> bool:
    reader = s.reader()
    return any(reader.frequency(f, word) for f in ("spell", "body")) or any(
        reader.frequency(f, stem) for f in ("body", "title") for stem in _stems(word)
    )


def _stems(word: str) -> list[str]:
    return [t.text for t in StemmingAnalyzer()(word)]


class _MarkFormatter(highlight.Formatter):
    """Marks matched words with \x01...\x02; the CLI turns them into bold or drops them."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "\x01" + highlight.get_text(text, token, replace) + "\x02"


def _passage_score(fragment: Any) -> float:
    """Whoosh's score for a passage (matches times distinct words matched), with query words
    side by side counting double, so that "data pruning" written as such beats the two words
    scattered; among equals the earlier passage wins."""
    matches = sorted(fragment.matches, key=lambda t: t.startchar)
    adjacent = sum(a.text != b.text and b.startchar - a.endchar <= 2 for a, b in zip(matches, matches[1:]))
    return len(fragment.matched_terms) * 100 * (len(matches) + 2 * adjacent) - fragment.startchar / 1e7


def _tidy(snippet: str) -> str:
    return re.sub(r"\s+", " ", snippet).strip()


# -- query parsing -------------------------------------------------------------------------------

_FIELD_RE = re.compile(r'(?<![\w"])([A-Za-z]+):(?=\S)')
_MINUS_RE = re.compile(r'(^|[\s(])-(?=[\w"(])')


def _check_syntax(text: str) -> None:
    if text.count('"') % 2:
        raise QueryError('unbalanced quote in query: close the phrase with "')
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            raise QueryError('unbalanced ")" in query')
    if depth:
        raise QueryError('unbalanced "(" in query')
    unquoted = re.sub(r'"[^"]*"', " ", text)
    for name in _FIELD_RE.findall(unquoted):
        if name.lower() not in FIELD_NAMES:
            known = ", ".join(sorted(set(FIELD_NAMES)))
            raise QueryError(f"unknown field {name!r} in query (known fields: {known})")
    for m in re.finditer(r"\byear:(\S+)", unquoted, re.IGNORECASE):
        value = m.group(1)
        if not re.fullmatch(r"(?:[<>]=?)?\d{1,4}|[\[{]\d{0,4}", value):
            raise QueryError(f"year must be a number, a comparison such as year:>2020 or a range, not {value!r}")
    if not unquoted.strip() and not text.strip():
        raise QueryError("empty query")


def parse_query(text: str, names: set[str]) -> Any:
    """A Whoosh query for the user's text: fields, phrases, AND/OR/NOT, -term, prefixes, ranges."""
    text = text.strip()
    if not text:
        raise QueryError("empty query: give some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    _check_syntax(text)
    # User-facing field names (author:, tag:) map onto schema fields (authors, tag).
    normalised = _FIELD_RE.sub(lambda m: FIELD_NAMES.get(m.group(1).lower(), m.group(1)) + ":", text)
    # `-word` excludes only at the start of a word: "vote-k" and "UTF-16" stay words.
    normalised = _MINUS_RE.sub(r"\1NOT ", normalised)
    schema = _schema()
    parser = qparser.MultifieldParser(list(FIELD_BOOSTS), schema, fieldboosts=FIELD_BOOSTS)
    parser.add_plugin(qparser.GtLtPlugin())
    try:
        q = parser.parse(normalised)
    except Exception as exc:
        raise QueryError(f"cannot parse query: {exc}") from exc
    q = _merge_exclusions(_folder_prefixes(q))
    if q is query.NullQuery or isinstance(q, type(query.NullQuery)):
        raise QueryError("the query has no searchable words (only stop words or operators)")
    _check_leading_wildcards(q)
    return query.AndNot(q, query.Term("kind", "generated"))


def _check_leading_wildcards(q: Any) -> None:
    """A word starting with * or ? must be compared with every word of the index (seconds on a big
    vault); a lone * means every note."""
    for leaf in q.leaves():
        if isinstance(leaf, query.Wildcard) and str(leaf.text)[:1] in ("*", "?") and leaf.fieldname != "path":
            raise QueryError(
                f"{leaf.text!r} starts with a wildcard, so every word of the index would be compared "
                "with it: make it more specific (put a few letters before * or ?)"
            )


def _merge_exclusions(q: Any) -> Any:
    """`a -b -c ...` as `a AND NOT (b OR c ...)`, and `*` (every word of every field) as every note.

    Whoosh chains one AndNot matcher per excluded word and walks the chain for every document:
    300 excluded words took a minute on 2,000 notes; one exclusion of an OR takes milliseconds.
    Whoosh answers `*` by reading every posting of every field (50 s on 2,000 notes).
    """
    if isinstance(q, query.Every):
        return query.Every()
    if isinstance(q, query.Not):
        return query.Not(_merge_exclusions(q.query))
    if isinstance(q, query.And):
        subs = [_merge_exclusions(sub) for sub in q.subqueries]
        excluded = [sub.query for sub in subs if isinstance(sub, query.Not)]
        if len(excluded) > 1:
            subs = [sub for sub in subs if not isinstance(sub, query.Not)] + [query.Not(query.Or(excluded))]
        return query.And(subs, boost=q.boost)
    if hasattr(q, "subqueries") or hasattr(q, "child"):
        return q.apply(_merge_exclusions)
    return q


def _folder_prefixes(q: Any) -> Any:
    """`path:papers` means every note in that folder (or a path starting with it)."""
    if isinstance(q, query.Term) and q.fieldname == "path":
        return query.Prefix("path", str(q.text).strip("/"))
    if isinstance(q, (query.Prefix, query.Wildcard)) and q.fieldname == "path":
        return query.Prefix("path", str(q.text).rstrip("*").strip("/"))
    if isinstance(q, query.Term) and q.fieldname == "tag":
        return query.Term("tag", str(q.text).lstrip("#").lower())
    if hasattr(q, "subqueries"):
        return q.apply(_folder_prefixes)
    if hasattr(q, "child"):
        return q.apply(_folder_prefixes)
    return q


# -- similar notes (for `related`; added by the graph module's owner) -----------------------------


def similar_paths(ft: FullText, path: str, text: str, limit: int = 30) -> list[tuple[str, float]]:
    """Notes whose body resembles `text` (the body of the note at `path`), with Whoosh's score.

    The body is not stored in the index, so the caller passes it; the note itself is left out.
    """
    with ft._reading(), ft.searcher() as s:
        docnum = s.document_number(path=path)
        if docnum is None or not text.strip():
            return []
        hits = s.more_like(docnum, "body", text=text, top=limit, numterms=15)
        return [(hit["path"], float(hit.score)) for hit in hits]
