"""Owns a note's sections: the parts between its headings, with their heading paths and line
ranges, and which part best matches a search. PURE: text and headings in, Sections out.

Two kinds of section. A search names the smallest part that matches, a heading's own lines
up to the next heading of any level (`split`), so that an assistant can read just that part.
`heading_section` is what Obsidian means by `[[Note#Heading]]`: the heading and everything
under it, subheadings included, up to the next heading of the same or a higher level.

The matching is deliberately light: query words and note words are compared by a crude
English stem (casefold, common suffixes dropped), enough to rank a note's few sections
against each other. The ranking of notes stays the full-text index's job.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .models import Heading, Section
from .snippet import readable
from .text import fold_typed, split_frontmatter

SNIPPET_CHARS = 220
_WORD = re.compile(r"\w+")
# The query syntax of `search` (fulltext.py): operators, fields, -word, "phrases", prefix*.
_QUERY_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?("[^"]*"|\([^()]*\)|[^\s()"]+)')
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
_TEXT_FIELDS = {"title", "alias", "aliases", "heading", "headings", "body"}  # fields whose words are in the text
# Whoosh's English stop words: never evidence that a section matches.
_STOP = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the this to us we when will "
    "with yet you your".split()
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "ed", "es", "ly", "s")


@dataclass(frozen=True, slots=True)
class Word:
    """A query word as matched in a note: its stem, or a prefix (`prun*`)."""

    key: str
    prefix: bool = False


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem: "pruning", "pruned", "prunes" and "prune" all give "prun"."""
    w = unicodedata.normalize("NFC", word).casefold()
    if len(w) > 3:
        for suffix in _SUFFIXES:
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                w = w[: -len(suffix)]
                if suffix in ("ies", "ied"):
                    w += "i"
                break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1].isalpha():
        w = w[:-1]  # "distill" and "distil", "runn" and "run"
    return w


def query_words(query: str) -> list[Word]:
    """The words of a search query that match note text: not operators, not excluded words
    (`-word`, `NOT word`), not fields such as tag:, year: or path: whose values are not text."""
    words: list[Word] = []
    seen: set[Word] = set()
    negate_next = False
    for m in _QUERY_TOKEN.finditer(query):
        minus, field, value = m.group(1), m.group(2), m.group(3)
        if value in _OPERATORS and not field:
            negate_next = value.startswith("NOT") or value == "ANDNOT"
            continue
        negated, negate_next = bool(minus) or negate_next, False
        if negated or (field and field.lower() not in _TEXT_FIELDS):
            continue
        if value.startswith("("):
            words.extend(w for w in query_words(value[1:-1]) if w not in seen)
            seen.update(words)
            continue
        for raw in _WORD.findall(value.strip('"')) if '"' in value else [value]:
            prefix = raw.endswith("*") and '"' not in value
            text = re.sub(r"[*?]", "", raw)
            for part in _WORD.findall(text):
                if part.casefold() in _STOP:
                    continue
                word = Word(part.casefold(), True) if prefix else Word(stem(part))
                if word not in seen:
                    seen.add(word)
                    words.append(word)
    return words


def body_start(lines: Sequence[str]) -> int:
    """The 1-based line where the body starts (after the frontmatter, when there is one)."""
    try:
        _, _, before = split_frontmatter("\n".join(lines)) if lines and lines[0].startswith("---") else (None, "", 0)
    except ValueError:  # not closed: no frontmatter
        return 1
    return before + 1


def split(text: str, headings: Sequence[Heading]) -> list[Section]:
    """The note's parts in order: the text before the first heading (when it has any), then
    each heading with its lines up to the next heading. `headings` are the parser's (code
    blocks already told apart), with 1-based file lines."""
    lines = text.split("\n")
    first = body_start(lines)
    heads = sorted((h for h in headings if 1 <= h.line <= len(lines)), key=lambda h: h.line)
    out: list[Section] = []
    stack: list[Heading] = []
    starts = [h.line for h in heads] + [len(lines) + 1]
    while first < starts[0] and not lines[first - 1].strip():
        first += 1  # the blank lines after the frontmatter
    if not heads or heads[0].line > first:
        end = _trim(lines, first, starts[0] - 1)
        if end >= first:
            out.append(Section("", (), 0, first, end))
    for h, nxt in zip(heads, starts[1:]):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        out.append(Section(h.text, tuple(s.text for s in stack), h.level, h.line, max(h.line, _trim(lines, h.line, nxt - 1))))
    return out


def _trim(lines: Sequence[str], start: int, end: int) -> int:
    """`end` moved up past blank lines (not above start - 1)."""
    while end >= start and not lines[end - 1].strip():
        end -= 1
    return end


def best_section(text: str, headings: Sequence[Heading], words: Iterable[Word]) -> Section | None:
    """The part of the note that matches the most query words, counting its heading; then
    the one with the most query words side by side in its prose, then the most matches in
    its prose, then in its heading; the first among equals. Lines of nothing but tags do not
    count. None when no part holds a query word."""
    wanted = list(words)
    if not wanted:
        return None
    lines = text.split("\n")
    matcher = _Wanted(wanted)
    best: tuple[tuple[int, int, int, int], Section, int] | None = None
    for section in split(text, headings):
        found: set[Word] = set()
        adjacent = count = 0
        best_line, best_line_score = 0, (0, 0, 0)
        first = section.start_line + (1 if section.level else 0)
        for n in range(first, section.end_line + 1):
            # A word form holds its stem (prun: pruning, pruned): lines without any are skipped cheaply.
            folded = lines[n - 1].casefold()
            if not any(w.key in folded for w in wanted):
                continue
            if _tags_only(folded):
                continue  # a row of tags matches a query as well as prose does, but says nothing
            matched, pairs = _matches(lines[n - 1], matcher)
            if not matched:
                continue
            found.update(matched)
            adjacent += pairs
            count += sum(matched.values())
            score = (len(matched), pairs, sum(matched.values()))
            if score > best_line_score:
                best_line, best_line_score = n, score
        in_heading, _ = _matches(section.heading, matcher)
        found.update(in_heading)
        key = (len(found), adjacent, count, sum(in_heading.values()))
        if found and (best is None or key > best[0]):
            best = (key, section, best_line)
    if best is None:
        return None
    _, section, line = best
    return replace(section, snippet=_snippet(lines, section, line, matcher))


def _tags_only(line: str) -> bool:
    words = [w for w in line.split() if w not in ("-", "*", "+", ">")]
    return bool(words) and all(w.startswith("#") for w in words)


class _Wanted:
    """Query words, ready to be looked up token by token."""

    __slots__ = ("by_key", "prefixes")

    def __init__(self, words: Sequence[Word]):
        self.by_key = {w.key: w for w in words if not w.prefix}
        self.prefixes = [w for w in words if w.prefix]

    def word(self, token: str) -> Word | None:
        """The query word `token` is a form of (None when it is none)."""
        hit = self.by_key.get(stem(token))
        if hit is None and self.prefixes:
            folded = token.casefold()
            hit = next((w for w in self.prefixes if folded.startswith(w.key)), None)
        return hit


def _matches(text: str, wanted: _Wanted) -> tuple[dict[Word, int], int]:
    """How often each query word occurs in `text`, and how many neighbouring word pairs are
    two different query words ("data pruning" written as such)."""
    found: dict[Word, int] = {}
    pairs = 0
    previous: Word | None = None
    by_key, prefixes = wanted.by_key, wanted.prefixes
    for token in _WORD.findall(text):
        hit = by_key.get(stem(token))  # wanted.word, inlined: this loop sees every word of the hit's lines
        if hit is None and prefixes:
            hit = wanted.word(token)
        if hit is not None:
            found[hit] = found.get(hit, 0) + 1
            pairs += previous is not None and previous != hit
        previous = hit
    return found, pairs


def _snippet(lines: Sequence[str], section: Section, line: int, wanted: _Wanted) -> str:
    """The section's best line as a reader sees it (else its first line of prose), cut
    around its first match."""
    candidates = [line] if line else []
    candidates += [n for n in range(section.start_line, section.end_line + 1) if n != line]
    for n in candidates:
        text = " ".join(readable(lines[n - 1]).split())
        if not text:
            continue
        if len(text) <= SNIPPET_CHARS:
            return text
        first = next((m.start() for m in _WORD.finditer(text) if wanted.word(m.group()) is not None), 0)
        start = max(0, first - SNIPPET_CHARS // 3)
        cut = text[start : start + SNIPPET_CHARS]
        return ("…" if start else "") + cut + ("…" if start + SNIPPET_CHARS < len(text) else "")
    return section.heading


def heading_section(text: str, headings: Sequence[Heading], wanted: str) -> tuple[Section, str] | None:
    """The section under a heading, subheadings included, and its text: the heading is its
    text (any letter case), or a path such as "Method#Results" or "Method > Results"."""
    parts = [fold_typed(p) for p in re.split(r"\s*(?:#|>)\s*", wanted.strip().lstrip("#")) if p.strip()]
    if not parts:
        return None
    lines = text.split("\n")
    heads = sorted((h for h in headings if 1 <= h.line <= len(lines)), key=lambda h: h.line)
    stack: list[Heading] = []
    for i, h in enumerate(heads):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        path = [fold_typed(s.text) for s in stack]
        if path[-1] != parts[-1] or not _is_subsequence(parts[:-1], path[:-1]):
            continue
        end = len(lines)
        for later in heads[i + 1 :]:
            if later.level <= h.level:
                end = later.line - 1
                break
        end = max(h.line, _trim(lines, h.line, end))
        section = Section(h.text, tuple(s.text for s in stack), h.level, h.line, end)
        return section, "\n".join(lines[h.line - 1 : end])
    return None


def _is_subsequence(wanted: Sequence[str], path: Sequence[str]) -> bool:
    it = iter(path)
    return all(any(p == w for p in it) for w in wanted)


def headings_fit(text: str, headings: Sequence[Heading]) -> bool:
    """Whether each heading's line in `text` is that heading (the index's headings describe
    this text, not an older version of the file)."""
    lines = text.split("\n")
    for h in headings:
        if not (1 <= h.line <= len(lines)):
            return False
        line = lines[h.line - 1].lstrip()
        if not (line.startswith("#" * h.level) and h.text in line):
            return False
    return True
