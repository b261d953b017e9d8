"""Owns the answers cut from the notes' own text: search hits with their best section and
snippet, a note as it is on disk (whole or one section), unlinked mentions, and the text half
of `related` (more-like-this).

vault.py gathers the index's part (the full text's hits, the store's rows) and passes it in,
with `read_text` (path -> the note's text on disk now); nothing here opens the index itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import VaultIndexError
from .models import Heading, Mention, MentionLine, Note, SearchHit, Section
from .sections import best_section, body_start, heading_section, headings_fit, query_words
from .snippet import first_line, readable
from .text import split_frontmatter

if TYPE_CHECKING:
    from .fulltext import FullText, RawHit

ReadText = Callable[[str], str]


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    suggestion: str | None = None  # the corrected query when typo tolerance was used


@dataclass(frozen=True)
class NoteText:
    """A note as it is on disk now (`vaultindex show`, MCP's read_note): its body without the
    frontmatter, or one section of it, with the frontmatter and headings given apart."""

    note: Note  # as indexed: title, tags, aliases, frontmatter
    headings: tuple[Heading, ...]  # of the text on disk now (file lines)
    section: Section | None  # the section asked for, with its line range
    text: str
    frontmatter_text: str  # the frontmatter's lines as written ("" when there is none)

    def data(self) -> dict[str, object]:
        """What `show --json` prints and read_note answers."""
        from .models import to_json

        return {
            "path": self.note.path,
            "title": self.note.title,
            "frontmatter": self.note.frontmatter,
            "tags": list(self.note.tags),
            "aliases": list(self.note.aliases),
            "headings": [{"level": h.level, "text": h.text, "line": h.line} for h in self.headings],
            "section": None if self.section is None else to_json(self.section),
            "text": self.text,
        }


# -- search ------------------------------------------------------------------------------------------


def search_result(
    raw: Sequence[RawHit], paths: Sequence[str], suggestion: str | None, notes: Mapping[str, Note], query: str,
    read_text: ReadText | None,
) -> SearchResult:
    """The hits of a search (`raw`, with their decoded `paths`), each with the store's fields
    (`notes`); with `read_text`, each also names its best-matching section and its snippet is
    cut from it (sections.py). A hit the store does not have yet is left out (the full text
    commits a moment before the store, see store.py)."""
    from .fulltext import snippet

    hits = []
    for h, path in zip(raw, paths, strict=True):
        note = notes.get(path)
        if note is None:
            continue
        shown, section = "", None
        if read_text is not None:
            text = read_text(path)  # read once: the section and the snippet come from it
            section = _best_section(text, note, suggestion if h.fuzzy else query)
            shown = _hit_snippet(text, section, h.terms, snippet)
        hits.append(SearchHit(
            path=path,
            title=note.title,
            score=round(h.score, 4),
            snippet=shown,
            tags=note.tags,
            year=note.paper.year,
            authors=note.paper.authors,
            fuzzy=h.fuzzy,
            section=section,
        ))
    return SearchResult(tuple(hits), suggestion)


def body(text: str) -> str:
    """A note's text without its frontmatter (all of it when the frontmatter does not close)."""
    try:
        return split_frontmatter(text)[1]
    except ValueError:
        return text


def _hit_snippet(text: str, section: Section | None, terms: frozenset[str], cut: Callable[[str, frozenset[str]], str]) -> str:
    """A hit's snippet: the passage of its best section that matches best (tokenising one
    section, not the whole note, is most of what makes a search with snippets fast); the
    whole body's when the section's prose holds no query word (a match in its heading
    only); else the note's first line of prose."""
    if section is not None:
        lines = text.split("\n")
        found = cut(readable("\n".join(lines[section.start_line - 1 : section.end_line])), terms)
        if found:
            return found
    rest = body(text)
    return cut(readable(rest), terms) or " ".join(first_line(rest).split())


def _current_headings(text: str, note: Note) -> Sequence[Heading]:
    """The headings of `text`: the index's unless the file changed since it was indexed."""
    if headings_fit(text, note.headings):
        return note.headings
    from .parse import parse_note

    return parse_note(note.path, text).headings


def _best_section(text: str, note: Note, query: str | None) -> Section | None:
    """The section of a hit's text that best matches the query."""
    return best_section(text, _current_headings(text, note), query_words(query or ""))


# -- one note ----------------------------------------------------------------------------------------


def note_text(note: Note, text: str, heading: str | None = None) -> NoteText:
    """`note` as its `text` on disk reads now; with `heading`, only that section (the heading
    and everything under it, as Obsidian's `[[Note#Heading]]`)."""
    headings = _current_headings(text, note)
    lines = text.split("\n")
    start = body_start(lines)
    frontmatter = "\n".join(lines[1 : start - 2]) if start > 1 else ""
    section = None
    if heading:
        picked = heading_section(text, headings, heading)
        if picked is None:
            names = ", ".join(f'"{h.text}"' for h in headings[:30]) or "none"
            raise VaultIndexError(f'no heading "{heading}" in {note.path} (its headings: {names})')
        section, content = picked
    else:
        content = "\n".join(lines[start - 1 :]).lstrip("\n")
    return NoteText(note, tuple(headings), section, content, frontmatter)


# -- mentions and similar text -----------------------------------------------------------------------


def mention_candidates(ft: FullText, names: Iterable[str]) -> set[str]:
    """The notes (paths as stored) whose words may name one of `names`: a superset that
    `mentions` sifts."""
    from .errors import QueryError
    from .mentions import search_phrases

    found: set[str] = set()
    for phrase in search_phrases(names):
        try:
            found.update(ft.matching_paths(phrase))
        except QueryError:  # only stop words, say: such a name cannot be searched for
            continue
    return found


def mentions(candidates: Iterable[str], titles: Mapping[str, tuple[str, bool]], names: Sequence[str],
             read_text: ReadText) -> list[Mention]:
    """The unlinked mentions of `names` in each candidate note that is in `titles` (path ->
    title, generated) and not a generated page, by path."""
    from .mentions import find_mentions

    out = []
    for source in sorted(candidates):
        if source not in titles or titles[source][1]:
            continue
        found = find_mentions(read_text(source), names)
        if found:
            lines = tuple(MentionLine(f.line, f.column, f.text, f.context) for f in found)
            out.append(Mention(source, titles[source][0], lines))
    return out


def similar_text(ft: FullText, stored_path: str, text: str, limit: int) -> list[tuple[str, float]]:
    """Notes (paths as stored) whose body resembles `text`, the note's own, best first."""
    from .fulltext import similar_paths

    rest = body(text)
    return similar_paths(ft, stored_path, rest, limit=limit) if rest.strip() else []
