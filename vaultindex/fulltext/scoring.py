"""Every match of a query with Whoosh's own score, computed a posting list at a time.

A top-N search must score every match (see `top_hits`: Whoosh's shortcuts lose the best
notes), and Whoosh does that one document at a time through its tree of matchers, asking
each node `is_active`, `id`, `skip_to` and `score` for every document: at 10,000 notes most
of a search's time. The same tree, evaluated node by node on whole posting lists (a leaf: a
dict of document -> score; a union or an intersection: two dicts merged), does the same
additions in the same order, so each score is the same float and the ranking the same list,
in about a third of the time. Matchers move as they are made (an AND NOT skips to its first
match, an array union reads its first part), so every posting list is read from its start.

Only the matchers whose arithmetic is written here are evaluated so; for any other (a
phrase's, a span's) `Unsupported` is raised and the caller runs Whoosh's collector.
"""

from __future__ import annotations

import heapq
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, W3PerDocReader
from whoosh.matching.binary import AndMaybeMatcher, AndNotMatcher, IntersectionMatcher, UnionMatcher
from whoosh.matching.combo import ArrayUnionMatcher
from whoosh.matching.mcore import NullMatcherClass
from whoosh.matching.wrappers import ConstantScoreWrapperMatcher, FilterMatcher, WrappingMatcher
from whoosh.scoring import BM25FScorer
from whoosh.util.numeric import byte_to_length

__all__ = ["Unsupported", "top"]


class Unsupported(Exception):
    """The query's matcher tree has a node this module does not evaluate."""


def top(searcher: Any, q: Any, limit: int) -> list[tuple[float, int]]:
    """The `limit` best documents matching `q` as (score, docnum), best first and, among
    equal scores, lowest docnum first: what Whoosh's TopCollector keeps, in its order."""
    prepare(searcher)
    context = searcher.context()
    found: list[tuple[float, int]] = []
    for sub, offset in searcher.leaf_searchers():
        found.extend((score, offset + doc) for doc, score in _scores(q.matcher(sub, context)).items())
    return heapq.nsmallest(limit, found, key=lambda item: (-item[0], item[1]))


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
        return None if column is None else [byte_to_length(b) if b else None for b in column.load()]


def _scores(m: Any) -> dict[int, float]:
    """doc -> score for every document `m` matches, each score computed as `m.score()` would."""
    kind = type(m)
    if kind is W3LeafMatcher:
        return _leaf(m)
    if kind is NullMatcherClass:
        return {}
    if kind is UnionMatcher:
        a, b = _scores(m.a), _scores(m.b)
        if len(a) < len(b):
            a, b = b, a
        out = dict(a)
        for doc, score in b.items():
            mine = out.get(doc)
            # UnionMatcher: a.score() + b.score() (commutative in floating point; the tree's
            # grouping, which is not, is kept by recursing as it does)
            out[doc] = score if mine is None else mine + score
        return out
    if kind is IntersectionMatcher:
        a, b = _scores(m.a), _scores(m.b)
        if len(a) > len(b):
            return {doc: score + a[doc] for doc, score in b.items() if doc in a}
        return {doc: score + b[doc] for doc, score in a.items() if doc in b}
    if kind is AndNotMatcher:
        a, excluded = _scores(m.a), _ids(m.b)
        return {doc: score for doc, score in a.items() if doc not in excluded}
    if kind is AndMaybeMatcher:
        a, b = _scores(m.a), _scores(m.b)
        return {doc: (score + b[doc] if doc in b else score) for doc, score in a.items()}
    if kind is WrappingMatcher:
        boost = m.boost
        return {doc: score * boost for doc, score in _scores(m.child).items()}
    if kind is FilterMatcher:
        ids, boost = m._ids, m.boost
        inner = _scores(m.child)
        if m._exclude:
            return {doc: score * boost for doc, score in inner.items() if doc not in ids}
        return {doc: score * boost for doc, score in inner.items() if doc in ids}
    if kind is ConstantScoreWrapperMatcher:
        return dict.fromkeys(_ids(m.child), m._score)
    if kind is ArrayUnionMatcher and m._scored:
        # Scores are added into an array of zeros, child by child; a document counts when
        # its sum is above zero (ArrayUnionMatcher._read_part and _find_next).
        boost, count = m._boost, m._doccount
        total: dict[int, float] = {}
        for child in m.children():
            for doc, score in _scores(child).items():
                if doc < count:
                    total[doc] = total.get(doc, 0.0) + score * boost
        return {doc: score for doc, score in total.items() if score > 0}
    raise Unsupported(kind.__name__)


def _ids(m: Any) -> set[int]:
    """The documents `m` matches (the excluded side of an AND NOT: no scores needed)."""
    kind = type(m)
    if kind is NullMatcherClass:
        return set()
    if kind is W3LeafMatcher:
        m.reset()
        return set(m.all_ids())
    if kind is FilterMatcher:
        inner = _ids(m.child)
        return inner - m._ids if m._exclude else inner & m._ids
    if kind is UnionMatcher:
        return _ids(m.a) | _ids(m.b)
    if kind in (WrappingMatcher, ConstantScoreWrapperMatcher):
        return _ids(m.child)
    return set(_scores(m))


def _leaf(m: Any) -> dict[int, float]:
    """A term's postings with their scores, as `LeafMatcher.score` gives them."""
    scorer = m.scorer
    if scorer is None:
        raise Unsupported("an unscored leaf")
    m.reset()  # its parents may have moved it on when they were made (an AND NOT does)
    out: dict[int, float] = {}
    if type(scorer) is BM25FScorer:
        # BM25FScorer.score is `_score(weight, dfl(id))`: the same, a block of postings at a
        # time (W3LeafMatcher's block arrays, read as its id() and weight() do).
        f, dfl = scorer._score, scorer.dfl
        while m.is_active():
            if m._ids is None:
                m._read_ids()
            if m._weights is None:
                m._read_weights()
            ids, weights = m._ids, m._weights
            for i in range(m._i, m._blocklength):
                doc = ids[i]
                out[doc] = f(weights[i], dfl(doc))
            m._i = m._blocklength - 1
            m.next()
        return out
    score = scorer.score
    while m.is_active():
        out[m.id()] = score(m)
        m.next()
    return out
