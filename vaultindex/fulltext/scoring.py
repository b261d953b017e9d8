"""Every match of a query with Whoosh's own score, computed a posting list at a time.

A top-N search must score every match (see `top_hits`: Whoosh's shortcuts lose the best
notes), and Whoosh does that one document at a time through its tree of matchers, asking
each node `is_active`, `id`, `skip_to` and `score` for every document: at 10,000 notes most
of a search's time. The same tree, evaluated node by node on whole posting lists (a leaf: a
dict of document -> score; a union or an intersection: two dicts merged), does the same
additions in the same order, so each score is the same float and the ranking the same list,
in about a third of the time. Matchers move as they are made (an AND NOT skips to its first
match, an array union reads its first part), so every posting list is read from its start.

Only the matchers whose arithmetic is written here are evaluated so (a phrase, whose matches
are a matter of word positions, is walked a document at a time as Whoosh walks it); for any
other `Unsupported` is raised and the caller runs Whoosh's collector, which loses the
exact-word bonus of some notes (its ANDMAYBE's optional half left behind: 68 of 839 notes of
`laws NOT pruning` at 10,000 notes): NOT inside an AND, phrases, folder filters and words held
by one note (inlined postings) all used to go there.
"""

from __future__ import annotations

import heapq
from itertools import accumulate
from typing import Any

from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, W3PerDocReader
from whoosh.columns import NumericColumn
from whoosh.matching.binary import AndMaybeMatcher, AndNotMatcher, IntersectionMatcher, UnionMatcher
from whoosh.matching.combo import ArrayUnionMatcher
from whoosh.matching.mcore import ListMatcher, Matcher, NullMatcherClass
from whoosh.matching.wrappers import ConstantScoreWrapperMatcher, FilterMatcher, InverseMatcher, WrappingMatcher
from whoosh.query.spans import SpanWrappingMatcher
from whoosh.scoring import BM25FScorer, WeightScorer
from whoosh.util.numeric import byte_to_length

__all__ = ["Unsupported", "top"]


class Unsupported(Exception):
    """The query's matcher tree has a node this module does not evaluate."""


def top(searcher: Any, q: Any, limit: int) -> list[tuple[float, int]]:
    """The `limit` best documents matching `q` as (score, docnum), best first and, among
    equal scores, lowest docnum first: what Whoosh's TopCollector keeps, in its order."""
    prepare(searcher)
    context = searcher.context()
    q = _unloaded(q)
    found: list[tuple[float, int]] = []
    for sub, offset in searcher.leaf_searchers():
        seg = vars(sub).get("doc_field_length")
        found.extend((score, offset + doc) for doc, score in _scores(q.matcher(sub, context), seg).items())
    return heapq.nsmallest(limit, found, key=lambda item: (-item[0], item[1]))


class _Preloaded(Matcher):
    """What Whoosh's ArrayUnionMatcher would be made of (its sub-matchers, the segment's
    document count, its boost), without the first 2,048 documents' scores that it reads in
    its constructor: _scores reads every posting list again from its start anyway, and that
    read was a quarter of a search at 10,000 notes. Its class stands for ArrayUnionMatcher in
    Whoosh's weighted trees, which compare matchers by class when two sub-queries are as big
    (Matcher.__lt__), so the tree it sits in is the one Whoosh builds.

    Only _scores scores it. The few steps its parents take while they are made (an AND
    MAYBE skips its optional half to its first match, an intersection to the first common
    document) walk the union of its sub-matchers, one posting at a time."""

    def __init__(self, children: list[Any], doccount: int, boost: float, scored: bool):
        self._children, self._doccount, self._boost, self._scored = children, doccount, boost, scored

    def children(self) -> list[Any]:
        return self._children

    def _active(self) -> list[Any]:
        return [c for c in self._children if c.is_active() and c.id() < self._doccount]

    def is_active(self) -> bool:
        return bool(self._active())

    def id(self) -> int:
        return min(c.id() for c in self._active())

    def next(self) -> None:
        now = self.id()
        for c in self._active():
            if c.id() == now:
                c.next()

    def skip_to(self, docnum: int) -> None:
        for c in self._active():
            if c.id() < docnum:
                c.skip_to(docnum)

    def supports_block_quality(self) -> bool:
        return False

    def supports(self, astype: str) -> bool:
        return False

    def reset(self) -> None:
        for c in self._children:
            c.reset()

    def copy(self) -> _Preloaded:
        return _Preloaded([c.copy() for c in self._children], self._doccount, self._boost, self._scored)

    def value(self) -> Any:
        raise NotImplementedError  # (as ArrayUnionMatcher: no posting values)

    def value_as(self, astype: str) -> Any:
        raise NotImplementedError

    def score(self) -> float:
        now = self.id()
        return sum(c.score() * self._boost for c in self._active() if c.id() == now)


class _UnloadedOr(query.Or):
    """`Or` making the matchers Whoosh's Or makes, by the same choice (Or._matcher), but a
    _Preloaded in place of an ArrayUnionMatcher."""

    def _matcher(self, subs: Any, searcher: Any, context: Any) -> Any:
        needs_current = context.needs_current if context else True
        if self.matcher_type != self.AUTO_MATCHER or not (
            len(subs) >= self.TOO_MANY_CLAUSES
            or not (needs_current or self.scale or len(subs) == 2 or searcher.doc_count_all() > 5000)
        ):
            return query.Or(subs, boost=self.boost, minmatch=self.minmatch, scale=self.scale).matcher(searcher, context)
        scored = context.weighting is not None if context else True
        return _Preloaded([sub.matcher(searcher, context) for sub in subs], searcher.doc_count_all(), self.boost, scored)


def _unloaded(q: Any) -> Any:
    """`q` with each plain Or an _UnloadedOr (the same query, the same matchers but one)."""
    kind = type(q)
    if kind is query.Or:
        return _UnloadedOr([_unloaded(sub) for sub in q.subqueries], boost=q.boost, minmatch=q.minmatch, scale=q.scale)
    if kind is query.And:
        return query.And([_unloaded(sub) for sub in q.subqueries], boost=q.boost)
    if kind is query.AndNot or kind is query.AndMaybe:
        return kind(_unloaded(q.a), _unloaded(q.b))
    return q  # (any other node as it is: its own matchers, Whoosh's)


def prepare(searcher: Any) -> None:
    """Give each segment's searcher a `doc_field_length` (BM25's field length, asked once
    per scored posting: a third of a search) that reads each field's lengths once, as a
    list, for as long as the searcher is open. Whoosh itself sets that attribute on each
    searcher, from its reader; the answers are the reader's."""
    for sub, _ in searcher.leaf_searchers():
        if not isinstance(vars(sub).get("doc_field_length"), _Lengths):
            sub.doc_field_length = _Lengths(sub.reader(), sub.doc_field_length)


class _Lengths:
    """`doc_field_length(docnum, fieldname, default)` of one segment, a field's column read
    once as a list (W3PerDocReader.doc_field_length: the length byte decoded, None for a
    zero byte, `default` without a column); other readers are asked as before."""

    def __init__(self, reader: Any, ask: Any):
        self._perdoc = getattr(reader, "_perdoc", None)
        self._ask = ask
        self._fields: dict[str, list[int | None] | None] = {}
        self._norms: dict[tuple[str, float, float, float], list[float | None] | None] = {}

    def __call__(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        try:
            lengths = self._fields[fieldname]
        except KeyError:
            lengths = self._fields[fieldname] = self._read(fieldname)
        if lengths is None:
            return self._ask(docnum, fieldname, default)
        return lengths[docnum]

    def _read(self, fieldname: str) -> list[int | None] | None:
        if type(self._perdoc) is not W3PerDocReader:
            return None
        column = self._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        return None if column is None else [_LENGTH_OF_BYTE[b] for b in _length_bytes(column)]

    def norms(self, fieldname: str, B: float, K1: float, avgfl: float) -> list[float | None] | None:
        """Each document's `K1 * ((1 - B) + B * fl / avgfl)`, the part of BM25's denominator
        that depends on the field's length `fl` alone (whoosh.scoring.bm25's very operations,
        so the same floats); None without a column of lengths. Kept per searcher."""
        key = (fieldname, B, K1, avgfl)
        if key not in self._norms:
            if fieldname not in self._fields:
                self._fields[fieldname] = self._read(fieldname)
            lengths = self._fields[fieldname]
            self._norms[key] = None if lengths is None else [
                None if fl is None else K1 * ((1 - B) + B * fl / avgfl) for fl in lengths]
        return self._norms[key]


_LENGTH_OF_BYTE: list[int | None] = [None] + [byte_to_length(b) for b in range(1, 256)]


def _length_bytes(column: Any) -> bytes | Any:
    """A segment's column of length bytes, one per document, in one read: Whoosh's own load()
    reads it a byte at a time through the file (250,000 reads for five fields at 50,000 notes,
    about a second under cProfile); other kinds of column are loaded Whoosh's way."""
    if type(column) is not NumericColumn.Reader or column._typecode != "B":
        return column.load()
    stored = column._count
    data = column._dbfile.get(column._basepos, stored) if stored else b""
    missing = column._doccount - stored
    return data + bytes([column._default]) * missing if missing > 0 else data[: column._doccount]


def _scores(m: Any, seg: _Lengths | None) -> dict[int, float]:
    """doc -> score for every document `m` matches, each score computed as `m.score()` would."""
    kind = type(m)
    if kind is W3LeafMatcher:
        return _leaf(m, seg)
    if kind is ListMatcher:  # a rare word's postings, kept in the term's entry
        m.reset()
        return _each(m, ListMatcher.score)
    if kind is NullMatcherClass:
        return {}
    if kind is UnionMatcher:
        a, b = _scores(m.a, seg), _scores(m.b, seg)
        # UnionMatcher: a.score() + b.score() where both match (the tree's grouping, which
        # matters in floating point, is kept by recursing as it does)
        out = a | b
        for doc in a.keys() & b.keys():
            out[doc] = a[doc] + b[doc]
        return out
    if kind is IntersectionMatcher:
        a, b = _scores(m.a, seg), _scores(m.b, seg)
        if len(a) > len(b):
            return {doc: score + a[doc] for doc, score in b.items() if doc in a}
        return {doc: score + b[doc] for doc, score in a.items() if doc in b}
    if kind is AndNotMatcher:
        a, excluded = _scores(m.a, seg), _ids(m.b, seg)
        return {doc: score for doc, score in a.items() if doc not in excluded}
    if kind is AndMaybeMatcher:
        a, b = _scores(m.a, seg), _scores(m.b, seg)
        return {doc: (score + b[doc] if doc in b else score) for doc, score in a.items()}
    if kind is WrappingMatcher:
        boost = m.boost
        return {doc: score * boost for doc, score in _scores(m.child, seg).items()}
    if kind is FilterMatcher:
        ids, boost = m._ids, m.boost
        inner = _scores(m.child, seg)
        if m._exclude:
            return {doc: score * boost for doc, score in inner.items() if doc not in ids}
        return {doc: score * boost for doc, score in inner.items() if doc in ids}
    if kind is ConstantScoreWrapperMatcher:
        return dict.fromkeys(_ids(m.child, seg), m._score)
    if (kind is ArrayUnionMatcher or kind is _Preloaded) and m._scored:
        # Scores are added into an array of zeros, child by child; a document counts when
        # its sum is above zero (ArrayUnionMatcher._read_part and _find_next).
        boost, count = m._boost, m._doccount
        total: dict[int, float] = {}
        for child in m.children():
            part = _scores(child, seg)
            get = total.get
            total.update({doc: get(doc, 0.0) + score * boost for doc, score in part.items() if doc < count})
        return {doc: score for doc, score in total.items() if score > 0}
    if kind is InverseMatcher:  # NOT b inside an AND: every live document b does not match, scored its weight
        excluded, missing, weight = _ids(m.child, seg), m.missing, m._weight
        return {doc: weight for doc in range(m.limit) if doc not in excluded and not missing(doc)}  # (from 0, as reset())
    if kind is ArrayUnionMatcher or kind is _Preloaded:  # unscored: 1.0 for each match (its array's mark)
        return dict.fromkeys(_ids(m, seg), 1.0)
    if isinstance(m, SpanWrappingMatcher):
        # A phrase: the documents where its words stand together, a matter of positions.
        # Walked as Whoosh walks it (one document at a time: a phrase is rare), from the start.
        m.child.reset()
        if m.is_active():
            m._find_next()
        return _each(m, type(m).score)
    raise Unsupported(kind.__name__)


def _ids(m: Any, seg: _Lengths | None) -> set[int]:
    """The documents `m` matches (the excluded side of an AND NOT: no scores needed)."""
    kind = type(m)
    if kind is NullMatcherClass:
        return set()
    if kind is W3LeafMatcher:
        m.reset()
        return set(m.all_ids())
    if kind is FilterMatcher:
        inner = _ids(m.child, seg)
        return inner - m._ids if m._exclude else inner & m._ids
    if kind is UnionMatcher:
        return _ids(m.a, seg) | _ids(m.b, seg)
    if kind in (WrappingMatcher, ConstantScoreWrapperMatcher):
        return _ids(m.child, seg)
    if (kind is ArrayUnionMatcher or kind is _Preloaded) and not m._scored:
        count = m._doccount
        return {doc for child in m.children() for doc in _ids(child, seg) if doc < count}
    return set(_scores(m, seg))


def _leaf(m: Any, seg: _Lengths | None) -> dict[int, float]:
    """A term's postings with their scores, as `LeafMatcher.score` gives them (`m`, a
    W3LeafMatcher, is read through its private block arrays: Any, not Whoosh's own types)."""
    scorer = m.scorer
    if scorer is None:
        raise Unsupported("an unscored leaf")
    m.reset()  # its parents may have moved it on when they were made (an AND NOT does)
    out: dict[int, float] = {}
    kind = type(scorer)
    if type(m) is W3LeafMatcher and (kind is BM25FScorer or kind is WeightScorer):
        norms = None
        if kind is BM25FScorer:
            norms = None if seg is None else seg.norms(m._term[0], scorer.B, scorer.K1, scorer.avgfl)
            if norms is None:
                return _each(m, scorer.score)
        # A block of postings at a time (W3LeafMatcher's block arrays, read as its id() and
        # weight() do). WeightScorer.score is the weight; BM25FScorer.score is
        # `bm25(idf, weight, dfl(id), avgfl, B, K1)`, here with the length's part of the
        # denominator from `norms` and the rest of bm25's operations in bm25's order.
        idf, k1_1 = (scorer.idf, scorer.K1 + 1) if norms is not None else (0.0, 0.0)
        leaf: Any = m  # (its block arrays, not Whoosh's annotations of them)
        while leaf.is_active():
            if leaf._ids is None:
                if leaf._data is None:
                    leaf._read_data()
                ids = leaf._data[0]  # W3LeafMatcher._read_ids, with the ids' deltas added up in C
                leaf._ids = ids if leaf._byteids else tuple(accumulate(ids))
            if leaf._weights is None:
                leaf._read_weights()
            ids, weights, first = leaf._ids, leaf._weights, leaf._i
            if first:
                ids, weights = ids[first:], weights[first:]
            if norms is None:
                out.update(zip(ids, weights))
            else:
                out.update({doc: idf * ((tf * k1_1) / (tf + norms[doc])) for doc, tf in zip(ids, weights)})
            leaf._i = leaf._blocklength - 1
            leaf.next()
        return out
    return _each(m, scorer.score)


def _each(m: Any, score: Any) -> dict[int, float]:
    """A leaf's postings scored one at a time, as Whoosh's matcher does."""
    out: dict[int, float] = {}
    while m.is_active():
        out[m.id()] = score(m)
        m.next()
    return out
