"""Owns the Whoosh index: its schema, writing batches, and ranked, typo-tolerant queries.

The only module that imports whoosh. Only the words are here: the notes themselves are rows
of the store (store.py), which holds everything a hit shows. A document's `path` is
`store.encode_path(path)`: valid UTF-8 even for a file name that is not.
"""

from __future__ import annotations

import contextlib
import copy
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
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from whoosh import fields, highlight, index, qparser, query
from whoosh.analysis import STOP_WORDS, Analyzer, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter, Token
from whoosh.lang.porter import stem as _porter_stem
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError

from .errors import IndexCorrupt, QueryError
from .models import Record
from .store import encode_path
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


os.register_at_fork(after_in_child=_die_with_parent)


# -- analysis: Latin words as Whoosh's StemmingAnalyzer makes them, CJK runs as bigrams ------------

# Han ideographs (with the iteration marks 々〆〇), Hiragana, Katakana (not its middle dot ・),
# halfwidth Katakana and Hangul: scripts written without spaces between words.
_CJK_CHARS = (
    "\u1100-\u11ff\u3005-\u3007\u3041-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3130-\u318f"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0003134f"
)
_CJK = re.compile(f"[{_CJK_CHARS}]")
_CJK_OR_WIDE = re.compile(f"[{_CJK_CHARS}\\uff10-\\uff5a]")
_LETTER = f"[^\\W\\d_{_CJK_CHARS}]"  # a letter of a script written with spaces
_SPELL_WORD = re.compile(f"(?<!{_LETTER}){_LETTER}{{3,{MAX_CORRECTED_LENGTH}}}(?!{_LETTER})")
# A run of CJK characters, or a word as Whoosh's default pattern ([\w*]+(\.?[\w*]+)*) finds it
# in text without CJK: for such text the tokens are exactly Whoosh's.
_WORD = re.compile(f"[{_CJK_CHARS}]+|(?:[^\\W{_CJK_CHARS}]|\\*)+(?:\\.?(?:[^\\W{_CJK_CHARS}]|\\*)+)*")
# Fullwidth letters and digits (ＧＰＴ４, common in CJK text) read as ASCII, halfwidth Katakana
# as fullwidth: one character for one, so that offsets (snippets) stay right.
_WIDTH = {
    **{cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for cp in range(r[0], r[1] + 1)},
    **{
        cp: folded
        for cp in range(0xFF66, 0xFF9E)
        if len(folded := unicodedata.normalize("NFKC", chr(cp))) == 1
    },
}


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


# Characters that glue a single letter or digit to its neighbour: Q-learning, k-means, SO(3),
# GPT-4, A*, C++. Such a letter is a word of its own (the stop filter keeps it).
_GLUE = frozenset("-()*+")


class _Tokenizer(RegexTokenizer):
    """Whoosh's words (or, with `cjk`, words and CJK runs, see _WORD, fullwidth letters and
    digits read as ASCII), each one-character word marked `glued` when a _GLUE character
    touches it in the text."""

    def __init__(self, cjk: bool = False) -> None:
        if cjk:
            super().__init__(_WORD)
        else:
            super().__init__()
        self.width = cjk

    def __call__(  # type: ignore[override]
        self, value: str, chars: bool = False, start_char: int = 0, tokenize: bool = True, **kwargs: Any
    ) -> Iterator[Any]:
        if self.width:
            value = value.translate(_WIDTH)
        # Offsets are needed to look at a word's neighbours; the caller's `chars` is restored.
        for t in super().__call__(value, chars=True, start_char=start_char, tokenize=tokenize, **kwargs):
            start, end = t.startchar - start_char, t.endchar - start_char
            t.glued = len(t.text) == 1 and tokenize and (
                (start > 0 and value[start - 1] in _GLUE) or (end < len(value) and value[end] in _GLUE)
            )
            t.chars = chars
            yield t


class _StopFilter(StopFilter):
    """Whoosh's StopFilter (same stop words, minimum length and renumbering), but a CJK run
    is never a stop word (one Han character is a word), nor a glued letter (the q of
    Q-learning, the 3 of SO(3), the A of A*: see _Tokenizer)."""

    def __call__(self, tokens: Any) -> Iterator[Any]:
        pos = None
        for t in tokens:
            text = t.text
            if getattr(t, "glued", False) or _CJK.match(text) or (
                len(text) >= self.min and (self.max is None or len(text) <= self.max) and text not in self.stops
            ):
                if self.renumber and t.positions:
                    if pos is None:
                        pos = t.pos
                    else:
                        pos += 1
                        t.pos = pos
                t.stopped = False
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


def _stem(word: str) -> str:
    """Porter's stem of a Latin word; a CJK run as it is."""
    return word if _CJK.match(word) else _porter_stem(word)


class _CJKBigrams(Filter):
    """Each CJK run as its overlapping bigrams at consecutive positions (a run of one
    character stays a unigram), as Lucene's CJKBigramFilter does; while indexing, each
    character of a run is also indexed on its own at its bigram's position, so that a
    one-character query (猫) finds it inside longer runs too.

    Bigrams from a query make a phrase (see _Parser), so `注意力` means 注意+意力 side by side.
    """

    def __call__(self, tokens: Any) -> Iterator[Any]:
        shift = 0  # positions taken by the bigrams so far, beyond the one their run had
        for t in tokens:
            text = t.text
            if t.positions:
                t.pos += shift
            if len(text) < 2 or not _CJK.match(text):
                yield t
                continue
            pos = t.pos if t.positions else 0
            start = t.startchar if t.chars else 0
            unigrams = t.mode == "index"
            last = len(text) - 2
            for i in range(last + 1):
                grams = [(text[i], i)] if unigrams else []
                grams.append((text[i : i + 2], i))
                if unigrams and i == last and text[i + 1] != text[i]:
                    grams.append((text[i + 1], i + 1))
                for gram, offset in grams:
                    t.text = gram
                    if t.positions:
                        t.pos = pos + i
                    if t.chars:
                        t.startchar = start + offset
                        t.endchar = t.startchar + len(gram)
                    yield t
            shift += last


class _Analyzer(Analyzer):
    """The analyzer of every text field: Whoosh's StemmingAnalyzer (or StandardAnalyzer without
    stemming) for Latin text, CJK runs as bigrams (_CJKBigrams). Text with no CJK (nor
    fullwidth) character, most notes, goes through Whoosh's own chain, which is faster; the
    two give the same tokens for such text (tests/test_cjk.py)."""

    def __init__(self, stemming: bool = True, stoplist: Any = STOP_WORDS, minsize: int = 2) -> None:
        latin = _Tokenizer() | LowercaseFilter()
        cjk = _Tokenizer(cjk=True) | LowercaseFilter()
        if stoplist is not None:
            latin = latin | _StopFilter(stoplist=stoplist, minsize=minsize)
            cjk = cjk | _StopFilter(stoplist=stoplist, minsize=minsize)
        if stemming:
            latin = latin | StemFilter()
            cjk = cjk | StemFilter(stemfn=_stem)
        self.latin = latin
        self.cjk = cjk | _CJKBigrams()

    def __call__(self, value: str, **kwargs: Any) -> Iterator[Any]:
        return (self.cjk if _CJK_OR_WIDE.search(value) else self.latin)(value, **kwargs)


class _SpellWords(Analyzer):
    """The words "did you mean" may offer: each run of 3 to MAX_CORRECTED_LENGTH letters (no
    digits, no CJK), lower case, not a stop word, once per text. The spelling field only
    records which notes have a word, so a word is given once: a third of the time of a
    token per word."""

    def __call__(
        self, value: str, positions: bool = False, chars: bool = False, mode: str = "", **kwargs: Any
    ) -> Iterator[Any]:
        t = Token(positions, chars, mode=mode, **kwargs)
        words = set(_SPELL_WORD.findall(value.translate(_WIDTH).lower())) - STOP_WORDS
        for pos, word in enumerate(sorted(words)):
            t.text, t.boost, t.stopped = word, 1.0, False
            if positions:
                t.pos = pos
            if chars:
                t.startchar = t.endchar = 0
            yield t


def _schema() -> fields.Schema:
    stem = _Analyzer()
    plain = _Analyzer(stemming=False, stoplist=None)
    return fields.Schema(
        path=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=stem, stored=True, field_boost=FIELD_BOOSTS["title"]),
        aliases=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["aliases"]),
        headings=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["headings"]),
        tagtext=fields.TEXT(analyzer=stem, field_boost=FIELD_BOOSTS["tagtext"]),
        authors=fields.TEXT(analyzer=plain, field_boost=FIELD_BOOSTS["authors"]),
        body=fields.TEXT(analyzer=stem),
        # Unstemmed Latin words of the whole note, each counted once per note: the dictionary
        # for "did you mean" (a word's count is how many notes have it).
        spell=fields.KEYWORD(analyzer=_SpellWords()),
        tag=fields.KEYWORD(commas=True, lowercase=True),
        year=fields.NUMERIC(int, bits=32, signed=False),
        status=fields.KEYWORD(lowercase=True),
        venue=fields.TEXT(analyzer=plain),
        cites=fields.KEYWORD(commas=True, lowercase=True),
        kind=fields.ID(),  # "generated" for the pages vaultindex writes, which search leaves out
    )


@dataclass(frozen=True, slots=True)
class RawHit:
    path: str  # as stored: store.decode_path gives the note's path
    score: float
    fuzzy: bool
    terms: frozenset[str]  # the body's words the query matched (in any hit): what a snippet marks


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
        "spell": "\n".join([*words, body]),
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
    def search(self, text: str, limit: int, fuzzy_below: int = 3) -> tuple[list[RawHit], str | None]:
        """Ranked hits for a user query, and a corrected query when typo tolerance kicked in.
        Snippets are the caller's (`snippet`): it reads the notes' text and picks the part."""
        q = parse_query(text, self._field_names())
        with self._reading(), self.searcher() as s:
            hits = self._run(s, q, limit, fuzzy=False)
            suggestion = None
            if len(hits) < min(fuzzy_below, limit):
                corrected = self._correct(s, text)
                if corrected is not None:
                    suggestion = corrected
                    seen = {h.path for h in hits}
                    more = self._run(s, parse_query(corrected, self._field_names()), limit, True)
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
        except query.QueryError as exc:  # Whoosh refusing a query it built (never a damaged index)
            raise QueryError(f"this query cannot be run: {exc}") from exc
        except (OSError, EOFError, ValueError, KeyError, IndexError, struct.error, pickle.UnpicklingError) as exc:
            raise IndexCorrupt(f"the index cannot be read ({type(exc).__name__}: {exc})") from exc

    def _field_names(self) -> set[str]:
        return set(_schema().names())

    def _run(self, s: Any, q: Any, limit: int, fuzzy: bool) -> list[RawHit]:
        _check_expansions(s.reader(), q)
        results = top_hits(s, q, limit)
        # The snippets mark the query's words in the body as they exist in the index (Whoosh's
        # highlighter does the same when a search does not record each hit's words, `terms=True`,
        # which costs a fifth of a search).
        body = s.schema["body"]
        terms = frozenset(body.from_bytes(word) for _, word in results.query_terms(expand=True, fieldname="body"))
        return [RawHit(hit["path"], float(hit.score), fuzzy, terms) for hit in results]

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
                and not _known(s, word)
            ):
                tried += 1
                suggestion = closest_word(s.reader(), word)
                if suggestion is not None:
                    out.append(suggestion)
                    changed = True
                    continue
            out.append(token)
        return "".join(out) if changed else None


def top_hits(s: Any, q: Any, limit: int) -> Any:
    """The `limit` best-scored documents for `q`: Whoosh's top-N search without its matcher
    replacement (`replace=0`). whoosh3 3.54 swaps sub-matchers for cheaper ones whenever the
    heap's lowest score rises, and for a query like `(title:a OR body:a) AND (title:b OR
    body:b)`, which is what every multi-word search is, the swapped matchers lose the best
    documents (an ANDMAYBE matcher left behind the one it follows is one cause; fixing it
    alone left 4 of 20 queries wrong): "attention transformer" missed its top three notes at
    10,000 notes, and 9 of 25 queries had a wrong top 10 (tests/test_search.py has the
    regression test). Without the swap a search costs about a third more."""
    from whoosh.collectors import TopCollector

    collector = TopCollector(limit, replace=0)
    s.search_with_collector(q, collector)
    return collector.results()


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


def osa_distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance of a and b (insertions, deletions, substitutions and
    swaps of two neighbouring letters count one edit each), or limit + 1 when it is above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        before, prev = prev, row
    return min(prev[-1], limit + 1)


def _one_edit(word: str) -> set[str]:
    """Every string one edit from `word` (a swap of neighbours counts one), over the letters a-z
    and the word's own."""
    letters = set("abcdefghijklmnopqrstuvwxyz") | set(word)
    heads_tails = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {h + t[1:] for h, t in heads_tails if t}
    out |= {h + t[1] + t[0] + t[2:] for h, t in heads_tails if len(t) > 1}
    out |= {h + c + t[1:] for h, t in heads_tails if t for c in letters}
    out |= {h + c + t for h, t in heads_tails for c in letters}
    out.discard(word)
    return out


def _candidates(reader: Any, word: str, edits: int) -> list[str]:
    """Words of the spelling dictionary that may be within `edits` (1 or 2) of `word`.

    One edit: each string one edit away is looked up (about 50 * len(word) lookups, a few ms).
    Two: the dictionary's words of a near length that share enough letters (Whoosh's Levenshtein
    automaton took seconds per word at 10,000 notes, and counts a swap as two edits)."""
    if edits == 1:
        return [w for w in _one_edit(word) if reader.doc_frequency("spell", w)]
    words: set[bytes] = set()
    for leaf, _ in reader.leaf_readers():  # a third faster than merging the segments' lists
        words.update(leaf.lexicon("spell"))
    low, high, letters = len(word) - edits, len(word) + edits, set(word)
    # Each edit brings in at most one letter the other word lacks: a cheap test before the distance.
    return [
        w
        for w in (b.decode("utf-8") for b in words)
        if low <= len(w) <= high and len(letters - set(w)) <= edits and len(set(w) - letters) <= edits
    ]


def closest_word(reader: Any, word: str) -> str | None:
    """The vault's word nearest to a misspelt `word`: fewest edits (a swap of two letters is one),
    then the word in most notes. Two edits only when no word is one edit away, and only for
    words of five letters or more; never a much shorter word (`ofset` is not `set`)."""
    for edits in (1, 2):
        if edits == 2 and len(word) < 5:
            break
        scored = []
        for candidate in _candidates(reader, word, edits):
            if candidate == word or len(candidate) * 4 < len(word) * 3:
                continue
            distance = osa_distance(word, candidate, edits)
            if distance <= edits:
                scored.append((distance, -reader.doc_frequency("spell", candidate), candidate))
        if scored:
            return min(scored)[2]
    return None


def _known(s: Any, word: str) -> bool:
    reader = s.reader()
    return any(reader.frequency(f, word) for f in ("spell", "body")) or any(
        reader.frequency(f, stem) for f in ("body", "title") for stem in _stems(word)
    )


_STEMMING = _Analyzer()


def _stems(word: str) -> list[str]:
    return [t.text for t in _STEMMING(word)]


class _MarkFormatter(highlight.Formatter):
    """Marks matched words with \x01...\x02; the CLI turns them into bold or drops them."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "\x01" + highlight.get_text(text, token, replace) + "\x02"

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        """Whoosh's, but overlapping matches are marked as one: the bigrams 注意 and 意力 of
        `注意力` overlap, and Whoosh would mark only the first (\x01注意\x02力)."""
        spans: list[list[int]] = []
        for t in sorted(fragment.matches, key=lambda t: (t.startchar, -t.endchar)):
            if t.startchar is None:
                continue
            if spans and t.startchar < spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], t.endchar)
            else:
                spans.append([t.startchar, t.endchar])
        text, index, out = fragment.text, fragment.startchar, []
        for start, end in spans:
            out += [text[index:start], "\x01", text[start:end], "\x02"]
            index = end
        out.append(text[index : fragment.endchar])
        return "".join(out)


def _passage_score(fragment: Any) -> float:
    """Whoosh's score for a passage (matches times distinct words matched), with query words
    side by side counting double, so that "data pruning" written as such beats the two words
    scattered; among equals the earlier passage wins."""
    matches = sorted(fragment.matches, key=lambda t: t.startchar)
    adjacent = sum(a.text != b.text and b.startchar - a.endchar <= 2 for a, b in zip(matches, matches[1:]))
    return len(fragment.matched_terms) * 100 * (len(matches) + 2 * adjacent) - fragment.startchar / 1e7


def _tidy(snippet: str) -> str:
    return re.sub(r"\s+", " ", snippet).strip()


_FRAGMENTER = highlight.ContextFragmenter(maxchars=220, surround=60)
_FORMATTER = _MarkFormatter()


def snippet(text: str, terms: frozenset[str]) -> str:
    """The passage of `text` (readable text: a note's body or one section of it) that best
    matches a hit's `terms`, the matched words marked \x01...\x02; "" when no word matches.
    Whoosh's highlighter as `Hit.highlights` runs it (re-tokenising the text), outside the
    searcher, so that the caller can choose which text to tokenise."""
    if not terms or not text:
        return ""
    tokens = _STEMMING(text, positions=True, chars=True, mode="index", removestops=False)
    tokens = highlight.Highlighter._merge_matched_tokens(highlight.set_matched_filter(tokens, terms))
    best = highlight.top_fragments(_FRAGMENTER.fragment_tokens(text, tokens), 1, _passage_score, highlight.FIRST, 1)
    return _tidy(_FORMATTER.format(best))


# -- query parsing -------------------------------------------------------------------------------

_FIELD_RE = re.compile(r'(?<![\w"])([A-Za-z]+):(?=\S)(?!//)')  # not a URL's scheme
# The same, where a part of the query may end in the colon: the phrase after it was split off
# (`author:"Geoffrey Hinton"`; a field without any value was refused by _check_syntax).
_FIELD_BEFORE_PHRASE_RE = re.compile(r'(?<![\w"])([A-Za-z]+):(?=\S|$)(?!//)')
_CALL_RE = re.compile(r"(?<![\w\":])(\w+)\(([\w.,+*-]*)\)(?![\w(])")
_MINUS_RE = re.compile(r'(^|[\s(])-(?=[\w"(])')


_PHRASE_RE = re.compile(r'"[^"]*"')
_OPERATORS = {"AND", "OR"}  # between two parts; NOT before one
# Whoosh's other operators: REQUIRE fails an assertion inside Whoosh (`a REQUIRE a`), and none is documented.
_UNSUPPORTED = {
    "ANDNOT": "pruning NOT forgetting",
    "ANDMAYBE": "pruning OR forgetting",
    "REQUIRE": "pruning AND forgetting",
}
_EXAMPLES = {
    "title": "title:pruning", "aliases": "alias:EWC", "headings": "heading:results", "tag": "tag:ml",
    "authors": "author:kirkpatrick", "body": "body:pruning", "year": "year:2022", "path": "path:papers/",
    "status": "status:read", "cites": "cites:KEY", "venue": "venue:NeurIPS",
}
MAX_BOOST = 1000.0
MAX_SLOP = 100
_YEAR_VALUE = re.compile(r"(?:[<>]=?)?\d{1,4}|[\[{]\s*(?:\d{1,4}\s+)?TO(?:\s+\d{1,4})?\s*[\]}]")


def _outside_phrases(text: str, change: Any) -> str:
    """`change` applied to the text between phrases; the phrases as they are."""
    parts = re.split(r'("[^"]*")', text)
    return "".join(part if i % 2 else change(part) for i, part in enumerate(parts))


def _check_syntax(text: str) -> None:
    """Refuse, with what to write instead, what Whoosh's forgiving parser would quietly turn
    into another query (a dangling AND searched as the word "and", an unclosed range as two
    words) or crash on (a boost of 0)."""
    if text.count('"') % 2:
        raise QueryError('unbalanced quote in query: close the phrase with "')
    # Phrases stand for one part of the query from here on: '"' marks where each one was.
    for m in re.finditer(r'"[^"]*"(~\S*)?', text):
        slop = m.group(1)
        if slop and not (slop[1:].isdigit() and 1 <= int(slop[1:]) <= MAX_SLOP):
            raise QueryError(
                f'{slop!r} after a phrase says how far apart its words may be: a whole number from 1 to '
                f'{MAX_SLOP}, as in "data pruning"~3'
            )
    unquoted = _PHRASE_RE.sub('"', re.sub(r'"[^"]*"~\d+', '"', text))
    depth = 0
    for ch in unquoted:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            raise QueryError('unbalanced ")" in query')
    if depth:
        raise QueryError('unbalanced "(" in query')
    if re.search(r"[\[{](?![^\]}]*[\]}])[^\]}]*\bTO\b", unquoted):
        raise QueryError("unclosed range in query: close it with ] as in year:[2019 TO 2021]")
    for name in _FIELD_RE.findall(unquoted):
        if name.lower() not in FIELD_NAMES:
            known = ", ".join(sorted(set(FIELD_NAMES)))
            raise QueryError(
                f"unknown field {name!r} in query (known fields: {known}); "
                f"to search for the text itself, put it in quotes: \"{name}:...\""
            )
    for m in re.finditer(r"(?<![\w\"])([A-Za-z]+):(?=$|[\s)])", unquoted):
        field = FIELD_NAMES.get(m.group(1).lower())
        if field:
            raise QueryError(f"{m.group(0)} needs a value right after the colon, as in {_EXAMPLES[field]}")
    for m in re.finditer(r"\byear:(\[[^\]}]*[\]}]?|\{[^\]}]*[\]}]?|[^\s)]+)", unquoted, re.IGNORECASE):
        value = m.group(1)
        if not _YEAR_VALUE.fullmatch(re.sub(r"\^\S*$", "", value)):
            raise QueryError(
                f"year takes a year of up to 4 digits (year:2022), a comparison (year:>2020) "
                f"or a range (year:[2019 TO 2021]), not {value!r}"
            )
    for m in re.finditer(r"(^|.)\^([^\s)]*)", unquoted):
        before, boost = m.group(1), m.group(2)
        if not boost:
            continue  # a lone ^ is punctuation
        if not before.strip() or before == "(":
            raise QueryError(f"^{boost} boosts nothing: put it right after a word, as in pruning^2")
        try:
            value = float(boost)
        except ValueError:
            value = float("nan")
        if not 0 < value <= MAX_BOOST:  # also refuses nan and inf
            raise QueryError(
                f"a boost is a number above 0 and at most {MAX_BOOST:g} that weighs a word, "
                f"as in pruning^2 (or pruning^0.5), not ^{boost}"
            )
    if m := re.search(r"(?<=\w)~\S*", unquoted):
        raise QueryError(
            f"{m.group(0)!r}: ~ after a word is not query syntax (a misspelt word is corrected by "
            'itself); after a phrase it lets the words stand apart, as in "data pruning"~3'
        )
    _check_operators(unquoted)


def _check_operators(unquoted: str) -> None:
    """AND and OR need a part on each side, NOT one after it."""
    masked = re.sub(r"[\[{][^\]}]*[\]}]", " R ", unquoted)  # a range is one part
    units = re.findall(r"[()]|[^\s()]+", masked)
    for i, unit in enumerate(units):
        if unit in _UNSUPPORTED:
            raise QueryError(f"{unit} is not supported: write {_UNSUPPORTED[unit]}")
        if unit not in _OPERATORS and unit != "NOT":
            continue
        before = units[i - 1] if i else None
        after = units[i + 1] if i + 1 < len(units) else None
        after_ok = after is not None and after != ")" and after not in _OPERATORS
        if unit == "NOT" and not after_ok:
            raise QueryError("NOT needs something after it to leave out, as in pruning NOT forgetting")
        before_ok = before is not None and before not in ("(", "NOT") and before not in _OPERATORS
        if unit != "NOT" and not (after_ok and before_ok):
            raise QueryError(
                f"{unit} needs something on each side, as in pruning {unit} forgetting "
                "(words in capitals are operators: write the word in lower case to search for it)"
            )


class _Parser(qparser.QueryParser):
    """Whoosh's parser, but a word holding CJK text is a phrase of each CJK run's bigrams
    (and its Latin words ANDed beside them): `注意力` must find 注意力, not notes that have 注意
    and 意力 apart. Words without CJK are parsed exactly as Whoosh does."""

    def term_query(
        self, fieldname: str, text: str, termclass: Any, boost: float = 1.0, tokenize: bool = True, removestops: bool = True
    ) -> Any:
        field = self.schema[fieldname] if self.schema and fieldname in self.schema else None
        if field is None or field.self_parsing() or not tokenize or not has_cjk(text) or field.analyzer is None:
            return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
        groups: list[list[tuple[str, int]]] = []  # tokens whose characters overlap: one CJK run
        for t in field.analyzer(text, chars=True, mode="query", removestops=removestops):
            if groups and t.startchar < groups[-1][-1][1]:
                groups[-1].append((t.text, t.endchar))
            else:
                groups.append([(t.text, t.endchar)])
        parts = [
            termclass(fieldname, g[0][0], boost=boost)
            if len(g) == 1
            else query.Phrase(fieldname, [w for w, _ in g], boost=boost)
            for g in groups
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else query.And(parts)


class _Multifield(qparser.MultifieldPlugin):
    """Whoosh's MultifieldPlugin (a word without a field is searched in each of FIELD_BOOSTS),
    but a word that the body's analyzer drops (a stop word such as "for", or one letter) is
    dropped from the query: Whoosh kept it in the one field that keeps such words (authors),
    so `scaling laws for transformers` required an author named "for" and found nothing."""

    def do_multifield(self, parser: Any, group: Any) -> Any:
        # Whoosh's loop, with the one test added (one call per level of parentheses, as Whoosh's,
        # so that 500 nested parentheses still parse).
        for i, node in enumerate(group):
            if isinstance(node, qparser.syntax.GroupNode):
                group[i] = self.do_multifield(parser, node)
            elif node.has_fieldname and node.fieldname is None:
                if type(node) is qparser.syntax.WordNode and not list(
                    parser.schema["body"].process_text(node.text, mode="query")
                ):
                    group[i] = qparser.syntax.OrGroup([])
                    continue
                fielded = []
                for name in self.fieldnames:
                    copied = copy.copy(node)
                    copied.set_fieldname(name)
                    copied.set_boost(self.boosts.get(name, 1.0))
                    fielded.append(copied)
                group[i] = self.group(fielded)
        return group


def parse_query(text: str, names: set[str]) -> Any:
    """A Whoosh query for the user's text: fields, phrases, AND/OR/NOT, -term, prefixes, ranges."""
    text = text.strip()
    if not text:
        raise QueryError("empty query: give some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    _check_syntax(text)
    # SO(3), f(x): a word touching a parenthesis is the text itself, not a word and a group.
    text = _outside_phrases(text, lambda part: _CALL_RE.sub(r'"\1(\2)"', part))
    # User-facing field names (author:, tag:) map onto schema fields (authors, tag).
    normalised = _outside_phrases(
        text,
        lambda part: _MINUS_RE.sub(  # `-word` excludes only at the start of a word: "vote-k" and "UTF-16" stay words
            r"\1NOT ",
            _FIELD_BEFORE_PHRASE_RE.sub(lambda m: FIELD_NAMES.get(m.group(1).lower(), m.group(1)) + ":", part),
        ),
    )
    schema = _schema()
    parser = _Parser(None, schema)
    parser.add_plugin(_Multifield(list(FIELD_BOOSTS), fieldboosts=FIELD_BOOSTS))
    parser.replace_plugin(qparser.OperatorsPlugin(AndNot=None, AndMaybe=None, Require=None))
    parser.add_plugin(qparser.GtLtPlugin())
    try:
        q = parser.parse(normalised)
    except Exception as exc:
        raise QueryError(f"cannot parse query: {exc}") from exc
    q = _merge_exclusions(_folder_prefixes(_words_without_positions(q, schema)))
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


def _words_without_positions(q: Any, schema: Any) -> Any:
    """A phrase in a field that keeps no word positions (`status:"to read"`, `tag:`, `cites:`)
    as all of its words: Whoosh raises its own error at search time otherwise."""
    if isinstance(q, query.Phrase) and q.fieldname in schema and not schema[q.fieldname].format.supports("positions"):
        return query.And([query.Term(q.fieldname, w) for w in q.words], boost=q.boost)
    if hasattr(q, "subqueries") or hasattr(q, "child"):
        return q.apply(lambda sub: _words_without_positions(sub, schema))
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
