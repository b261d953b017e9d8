"""Owns the Whoosh index: writing batches, and ranked, typo-tolerant queries with snippets.

The only package that imports whoosh: analysis.py (how text becomes words, the schema,
snippets), grammar.py (the query syntax and its checks), spelling.py (did you mean),
patches.py (fixes to Whoosh, with a version guard); this module opens, writes and searches. Only the words are here: the notes themselves are rows
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index, query
from whoosh.index import EmptyIndexError

from ..errors import IndexCorrupt, QueryError
from ..fsutil import retry
from ..indexfolder import DB_FILE
from ..models import Record
from ..store import Store, encode_path
from . import patches, scoring
from .analysis import (
    FIELD_BOOSTS,
    MAX_CORRECTED_LENGTH,
    NoteAnalyzer,
    fold_accents,
    folds_longer,
    has_cjk,
    property_text,
    schema,
    snippet,
    spelling_words,
)
from .grammar import FIELD_NAMES, MAX_EXPANSION, MAX_QUERY_CHARS, check_expansions, parse_query
from .spelling import Dictionary, closest_word, known, osa_distance

__all__ = [
    "BIG_BATCH", "FIELD_BOOSTS", "FIELD_NAMES", "MAX_CORRECTED_LENGTH", "MAX_CORRECTED_WORDS", "MAX_EXPANSION",
    "MAX_QUERY_CHARS", "Batch", "FullText", "NoteAnalyzer", "RawHit", "closest_word", "has_cjk", "osa_distance",
    "note_words", "parse_query", "schema", "similar_paths", "snippet", "top_hits",
]

INDEX_NAME = "MAIN"
# Batches at least this large use Whoosh's multi-process writer (it forks; see DESIGN.md).
BIG_BATCH = 2000
# Typo correction looks each unknown word up in the whole spelling dictionary: only a few
# words of a sensible length are corrected (a 2,000-letter word took minutes; 300 words, a minute).
MAX_CORRECTED_WORDS = 5
OPEN_RETRIES = 8


# -- big batches fork Whoosh sub-writers: they must never outlive this process --------------------

_SUBWRITER_PARENT: int | None = None  # this process's pid while a multi-process write runs
_PR_SET_PDEATHSIG = 1
_prctl: Any = None  # libc's prctl, looked up before forking (Linux)
_FORK_HOOK = False  # whether _die_with_parent runs in each forked child


def _guard_subwriters() -> None:
    """Called before a multi-process write: the children forked from now on die with us."""
    global _SUBWRITER_PARENT, _prctl, _FORK_HOOK
    if not _FORK_HOOK:  # registered once, by the first multi-process write (never at import)
        os.register_at_fork(after_in_child=_die_with_parent)
        _FORK_HOOK = True
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
    # Ctrl-C reaches every process of the terminal's group: the parent stops the batch and
    # ends its sub-writers, which must not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    armed = _prctl is not None and _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if not armed:
        threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class _NoWords:
    """The spelling dictionary of a full-text folder with no store beside it: no word."""

    def word_counts(self, words: Iterable[str]) -> dict[str, int]:
        return {}

    def words_between(self, shortest: int, longest: int) -> list[str]:
        return []

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class RawHit:
    path: str  # as stored: store.decode_path gives the note's path
    score: float
    fuzzy: bool
    terms: frozenset[str]  # the body's words the query matched (in any hit): what a snippet marks


def note_words(record: Record, body: str, properties: str | None = None) -> frozenset[str]:
    """The words of a note (title, aliases, headings, tags, properties, body) "did you mean" may offer: the
    store keeps them per note and counts the notes of each (store.py's `spelling`)."""
    return frozenset(spelling_words(_note_text(record, body, properties)))


def _note_text(record: Record, body: str, properties: str | None = None) -> str:
    note = record.note
    if properties is None:
        properties = property_text(note.frontmatter)
    return "\n".join([note.title, *note.aliases, *(h.text for h in note.headings), *note.tags, properties, body])


def _document(record: Record, body: str, words: frozenset[str] | None = None) -> dict[str, Any]:
    """The note's Whoosh document; `words`: its note_words when the caller has them."""
    note = record.note
    properties = property_text(note.frontmatter)
    text = _note_text(record, body, properties)
    if folds_longer(text):  # (aß: 2 letters, not a spelling word; folded, "ass" is one `spell` holds)
        spell = text
    else:
        # The `spell` analyzer reads the same words from these as from the note's text (accents
        # folded, as it folds them; tests/test_fulltext_writer.py), and a sub-writer is not sent the body twice.
        spell = " ".join(sorted({fold_accents(w) for w in (spelling_words(text) if words is None else words)}))
    doc: dict[str, Any] = {
        "path": encode_path(note.path),
        "title": note.title,
        "aliases": "\n".join(note.aliases),
        "headings": "\n".join(h.text for h in note.headings),
        "tagtext": " ".join(t.replace("/", " ").replace("-", " ").replace("_", " ") for t in note.tags),
        "authors": "\n".join(note.paper.authors),
        "body": body,
        "properties": properties,
        "spell": spell,
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

    from .writer import MpTermWriter, TermWriter  # Whoosh's writers with postings kept by word (writer.py)

    ours = patches.apply()
    cls: type[Any]
    if procs > 1:
        cls, options = (MpTermWriter if ours else MpWriter), {**options, "procs": procs}
    else:
        cls = TermWriter if ours else SegmentWriter
    writer = cls.__new__(cls)
    try:
        writer.__init__(ix, **options)  # type: ignore[misc]  # (so that a failed __init__ leaves `writer` to unlock)
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

    def __init__(self, ft: FullText, expected: int = 0):
        self._ft = ft
        self._expected = expected
        self._writer: Any = None
        self._deletes: list[str] = []
        self._held: list[tuple[Record, str, frozenset[str]]] = []
        self._big = False
        self.empty = True  # nothing to commit yet

    def delete(self, path: str) -> None:
        self.empty = False
        if self._writer is None:
            self._deletes.append(path)
        else:
            with self._ft._writing():
                self._writer.delete_by_term("path", path)

    def add(self, record: Record, body: str) -> frozenset[str]:
        """Add a note's document, replacing the one of the same path; returns the note's
        note_words (the store's spelling words), which the document is made from."""
        self.empty = False
        words = note_words(record, body)
        if self._writer is not None:
            with self._ft._writing():
                self._writer.update_document(**_document(record, body, words))
            return words
        self._held.append((record, body, words))
        # Forking while other threads run (watch's observer) can deadlock the children.
        if max(len(self._held), self._expected) >= BIG_BATCH and threading.active_count() == 1:
            self._open(big=True)
        return words

    def commit(self) -> None:
        try:
            if self._writer is None:
                self._open(big=False)
            with self._ft._writing():
                if self._big:
                    self._writer.commit()
                else:
                    self._writer.commit(mergetype=self._ft._merge_small)
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
                self._big = big
                if big:
                    _guard_subwriters()  # the sub-writers forked from here die with us
                    # 512 MB per sub-writer: with 128 Whoosh spent a quarter of a 10,000-note
                    # build spilling postings to disk and reading them back (bench/README.md).
                    self._writer = _open_writer(ft.ix, procs=2, multisegment=True, limitmb=512)
                else:
                    self._writer = _open_writer(ft.ix, limitmb=128)
                for path in self._deletes:
                    self._writer.delete_by_term("path", path)
                for record, body, words in self._held:
                    self._writer.update_document(**_document(record, body, words))
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


class _MergeReads:
    """A writer as a merge policy sees it, with another storage to read the merged segments from."""

    def __init__(self, writer: Any, storage: Any):
        self._writer = writer
        self.storage = storage
        self.schema = writer.schema

    def add_reader(self, reader: Any) -> None:
        self._writer.add_reader(reader)


class FullText:
    """The index folder: open, create, write batches, search."""

    def __init__(self, folder: Path, readonly: bool = False):
        patches.apply()  # Whoosh's NOT fix, on the tested whoosh3 version (patches.py)
        self.folder = folder
        self.readonly = readonly  # a reader: never writes a file (a read-only mount works)
        self._ix: Any = None
        self._searcher: Any = None
        self._words: Store | _NoWords | None = None  # see dictionary()

    # -- opening -----------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether index files are there (readable or not: open() tells)."""
        try:
            return index.exists_in(str(self.folder), indexname=INDEX_NAME)
        except Exception:  # noqa: BLE001 - a damaged table of contents still means an index is there
            return True

    def create(self) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._ix = index.create_in(str(self.folder), schema(), indexname=INDEX_NAME)

    def open(self) -> None:
        """Open the index; retry the rare race with a concurrent commit; IndexCorrupt if unreadable."""
        try:
            self._ix = retry(
                lambda: self._storage().open_index(INDEX_NAME),
                attempts=OPEN_RETRIES, on=FileNotFoundError,  # a commit replaced the TOC meanwhile
            )
        except FileNotFoundError as exc:
            raise IndexCorrupt("the index kept changing while it was opened") from exc
        except EmptyIndexError as exc:
            raise IndexCorrupt("no index found") from exc
        except Exception as exc:  # Whoosh raises many kinds on a damaged file
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc

    def _storage(self) -> Any:
        """The folder as Whoosh's storage, read through the files, not mmap: whoosh3 copies each
        mapped file it opens into memory whole (BufferFile: a BytesIO of the map). For the
        writer, the delete inside update_document, which opens every segment to look one path
        up, read all the postings (0.1 s at 10,000 notes, 5x that at 50,000); for a fresh
        search at 50,000 notes the copies were 430 MB of its 500 MB. A query reads only the
        postings of its words, and the length columns in one read (scoring._length_bytes)."""
        from whoosh.filedb.filestore import FileStorage

        return FileStorage(str(self.folder), readonly=self.readonly, supports_mmap=False)

    def _merge_small(self, writer: Any, segments: list) -> list:
        """Whoosh's MERGE_SMALL policy, reading the segments it merges (small ones) through
        mmap: the writer's own storage reads without it (see _storage), which made a merge's
        thousands of small reads of postings several times slower."""
        from whoosh.writing import MERGE_SMALL

        return MERGE_SMALL(_MergeReads(writer, self._mapped()), segments)

    def _mapped(self) -> Any:
        from whoosh.filedb.filestore import FileStorage

        return FileStorage(str(self.folder), readonly=True)

    def _forget_ix(self) -> None:
        self._ix = None  # opened again on next use

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
            try:
                s = retry(lambda: self.ix.searcher(), attempts=OPEN_RETRIES, on=FileNotFoundError,
                          before_retry=self._forget_ix)  # a commit replaced a segment while we opened it
            except FileNotFoundError as exc:
                self._ix = None
                raise IndexCorrupt("the index kept changing while it was opened") from exc
            self._searcher = s
        yield s

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        if self._words is not None:
            self._words.close()
            self._words = None

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
    def warm_up(self, record: Record, body: str) -> None:
        """Open the index and run a sample note's document through each field's analyzer, as a
        writer would, so that the first batch of a long-lived writer does not import, unpickle
        and compile all of it (Indexer.warm_up). Writes nothing."""
        from whoosh import writing  # noqa: F401  (what a batch imports)

        from . import writer  # noqa: F401

        patches.apply()
        fields_ = self.ix.schema
        note_words(record, body)
        for name, value in _document(record, body).items():
            if name in fields_ and fields_[name].indexed and isinstance(value, str):
                for _ in fields_[name].index(value):
                    pass

    def begin(self, expected: int = 0) -> Batch:
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
        self, text: str, limit: int, fuzzy_below: int = 3, hidden: tuple[str, ...] = ()
    ) -> tuple[list[RawHit], str | None]:
        """Ranked hits for a user query, and a corrected query when typo tolerance kicked in;
        notes in the `hidden` folders only when a path: filter names the folder. Snippets are
        the caller's (`snippet`): it reads the notes' text and picks the part."""
        q = parse_query(text, self._field_names(), hidden)
        with self._reading(), self.searcher() as s:
            hits = self._run(s, q, limit, fuzzy=False)
            suggestion = None
            if len(hits) < min(fuzzy_below, limit):
                corrected = self._correct(s, text)
                if corrected is not None:
                    suggestion = corrected
                    seen = {h.path for h in hits}
                    more = self._run(s, parse_query(corrected, self._field_names(), hidden), limit, True)
                    hits += [h for h in more if h.path not in seen][: limit - len(hits)]
            return hits, suggestion

    def matching_paths(self, text: str, limit: int | None = None) -> list[str]:
        """Paths of the notes matching a query (no ranking needed, no snippets)."""
        q = parse_query(text, self._field_names())
        with self._reading(), self.searcher() as s:
            check_expansions(s.reader(), q)
            if limit is not None:
                return [hit["path"] for hit in s.search(q, limit=limit)]
            return [s.stored_fields(doc)["path"] for doc in sorted(s.docs_for_query(q))]  # unscored: a fifth less

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Damaged segment files surface as assorted Whoosh errors while searching: one kind for callers."""
        try:
            yield
        except (IndexCorrupt, QueryError):
            raise
        except query.QueryError as exc:  # Whoosh refusing a query it built (never a damaged index)
            raise QueryError(f"this query cannot be run: {exc}") from exc
        except (OSError, EOFError, ValueError, KeyError, IndexError, struct.error, pickle.UnpicklingError) as exc:
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc

    def _field_names(self) -> set[str]:
        return set(schema().names())

    def _run(self, s: Any, q: Any, limit: int, fuzzy: bool) -> list[RawHit]:
        check_expansions(s.reader(), q)
        best = top_hits(s, q, limit)
        # The snippets mark the query's words in the body as they exist in the index (Whoosh's
        # highlighter does the same when a search does not record each hit's words, `terms=True`,
        # which costs a fifth of a search).
        body = s.schema["body"]
        terms = frozenset(body.from_bytes(word) for _, word in q.existing_terms(s.reader(), fieldname="body", expand=True))
        return [RawHit(s.stored_fields(doc)["path"], float(score), fuzzy, terms) for score, doc in best]

    def dictionary(self) -> Dictionary:
        """The spelling words of this index's build, with their note counts: the store beside it
        (store.py's `spelling`), or none when there is no store (a bare full-text folder)."""
        if self._words is None:
            path = self.folder.parent / DB_FILE
            self._words = Store(path) if path.is_file() else _NoWords()
        return self._words

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
                and not has_cjk(word)
                and not known(s, self.dictionary(), word)
            ):
                tried += 1
                suggestion = closest_word(self.dictionary(), word)
                if suggestion is not None:
                    out.append(suggestion)
                    changed = True
                    continue
            out.append(token)
        return "".join(out) if changed else None


def top_hits(s: Any, q: Any, limit: int) -> list[tuple[float, int]]:
    """The `limit` best-scored documents for `q`, as (score, docnum), best first.

    Every match is scored: whoosh3 3.54's top-N search swaps sub-matchers for cheaper ones
    whenever the heap's lowest score rises, and for a query like `(title:a OR body:a) AND
    (title:b OR body:b)`, which is what every multi-word search is, the swapped matchers lose
    the best documents (an ANDMAYBE matcher left behind the one it follows is one cause;
    fixing it alone left 4 of 20 queries wrong): "attention transformer" missed its top three
    notes at 10,000 notes, and 9 of 25 queries had a wrong top 10 (tests/test_search_ranking.py).
    scoring.py scores the matches a posting list at a time, with Whoosh's arithmetic, on the
    tested whoosh3; for a query it does not evaluate (a phrase's matcher) or another whoosh3,
    Whoosh's collector without the swap (`replace=0`)."""
    if patches.apply():
        try:
            return scoring.top(s, q, limit)
        except scoring.Unsupported:
            pass
    from whoosh.collectors import TopCollector

    collector = TopCollector(limit, replace=0)
    s.search_with_collector(q, collector)
    return [(float(hit.score), hit.docnum) for hit in collector.results()]


def similar_paths(ft: FullText, path: str, text: str, limit: int = 30) -> list[tuple[str, float]]:
    """Notes whose body resembles `text` (the body of the note at `path`), with Whoosh's score.

    Whoosh's more-like-this (`Searcher.more_like`): the body's 15 key terms (Bo1) as an OR
    query, the note itself left out; scored by top_hits (the same scores, a third of the time).
    The body is not stored in the index, so the caller passes it.
    """
    from whoosh import classify

    with ft._reading(), ft.searcher() as s:
        docnum = s.document_number(path=path)
        if docnum is None or not text.strip():
            return []
        terms = s.key_terms_from_text("body", text, numterms=15, model=classify.Bo1Model, normalize=False)
        q = query.Or([query.Term("body", word, boost=weight) for word, weight in terms])
        best = [(score, doc) for score, doc in top_hits(s, q, limit + 1) if doc != docnum][:limit]
        return [(s.stored_fields(doc)["path"], float(score)) for score, doc in best]
