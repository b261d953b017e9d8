"""Field values -> BibEntry parts, shared by the BibTeX and CSL-JSON readers: names, months and
dates, DOIs and arXiv ids, and a BibTeX entry's fields -> the entry."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..models import BibEntry
from .latex import decode_latex, verbatim

# ------------------------------------------------------------------------------------------------
# names
# ------------------------------------------------------------------------------------------------


def _split_top(text: str, sep: re.Pattern[str]) -> list[str]:
    """Split on `sep` where it is outside braces."""
    if "{" not in text:
        return sep.split(text)
    parts, depth, start = [], 0, 0
    for m in sep.finditer(text):
        token = m.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and m.end() > m.start():
            parts.append(text[start : m.start()])
            start = m.end()
    parts.append(text[start:])
    return parts


# separators, with the braces they must be outside of (`_split_top` counts the braces)
_AND = re.compile(r"\{|\}|\s+and\s+", re.I)
_COMMA = re.compile(r"\{|\}|,")
_WORDS = re.compile(r"\{|\}|[\s~]+")
_GROUP_WITH_SPACE = re.compile(r"\{[^{}]*[\s,~]|\\[uvHckdbrt]\s")  # a brace that protects a space or comma


def _is_lower_word(word: str) -> bool:
    """BibTeX's von test: the first letter at brace depth 0 is lower case (`{\\L}` counts as L)."""
    if word.startswith("{") and not word.startswith("{\\"):
        return False  # a protected group has no case
    if word[0].isalpha():
        return word[0].islower()
    decoded = decode_latex(word)
    first = next((ch for ch in decoded if ch.isalpha()), "")
    return bool(first) and first.islower()


# The parts of names (first names, surnames) come back far more often than whole names do.
_decode_part = functools.lru_cache(maxsize=16384)(decode_latex)


@functools.lru_cache(maxsize=32768)  # the same authors come back entry after entry
def _format_name(raw: str) -> str:
    """One BibTeX name -> "von Last, Jr, First" (or the name alone: `{World Health Organization}`)."""
    raw = raw.strip()
    if "{" in raw and not _GROUP_WITH_SPACE.search(raw) and raw[0] != "{":
        # Braces only around letters (`M{\"u}ller`): decode first, then split as plain text.
        raw = decode_latex(raw)
    parts = [p.strip() for p in _split_top(raw, _COMMA)]
    if len(parts) == 1:
        words = [w for w in _split_top(parts[0], _WORDS) if w]
        if not words:
            return ""
        if len(words) == 1:
            return _decode_part(words[0])
        lower = [i for i, w in enumerate(words[:-1]) if _is_lower_word(w)]
        if lower:
            first, von, last = words[: lower[0]], words[lower[0] : lower[-1] + 1], words[lower[-1] + 1 :]
        else:
            first, von, last = words[:-1], [], words[-1:]
        if not first:  # "van Gogh": no first name
            return _decode_part(" ".join(von + last))
        return f"{_decode_part(' '.join(von + last))}, {_decode_part(' '.join(first))}"
    surname, rest = parts[0], [p for p in parts[1:] if p]
    last_text = _decode_part(surname)
    if not rest:
        return last_text
    return ", ".join([last_text, *(_decode_part(p) for p in rest)])


def clear_caches() -> None:
    """Forget the names and name parts seen (for a benchmark's cold read)."""
    _format_name.cache_clear()
    _decode_part.cache_clear()


def parse_names(value: str) -> tuple[str, ...]:
    """A BibTeX `author` value -> names as "Last, First" (`and others` dropped)."""
    names = []
    for raw in _split_top(value, _AND):
        raw = raw.strip()
        if not raw or raw.lower() == "others":
            continue
        name = _format_name(raw)
        if name and name not in names:
            names.append(name)
    return tuple(names)


# ------------------------------------------------------------------------------------------------
# fields -> entry
# ------------------------------------------------------------------------------------------------

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
DATE_RE = re.compile(r"^\s*(\d{4})(?:[-/](\d{1,2}))?")
_VENUE_FIELDS = ("journaltitle", "journal", "booktitle", "eventtitle", "publisher", "school", "institution", "organization")
_VERBATIM_FIELDS = frozenset({"url", "doi", "eprint", "file", "archiveprefix", "eprinttype", "ids", "crossref", "xref"})
# what a crossref child never takes from its parent (biblatex's rules, simplified)
NOT_INHERITED = frozenset({
    "title", "shorttitle", "subtitle", "doi", "url", "eprint", "archiveprefix", "eprinttype",
    "eprintclass", "primaryclass", "abstract", "file", "keywords", "note", "ids", "crossref",
    "xref", "urldate", "pages",
})


def parse_month(value: Any) -> int | None:
    """`jan`, `Jan.`, `January`, `1`, `01` -> 1; None when it is not a month."""
    text = str(value).strip().strip("{}").strip().rstrip(".").lower()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    if len(text) >= 3:
        for i, name in enumerate(MONTH_NAMES):
            if name.lower().startswith(text):
                return i + 1
    return None


def _year_month(fields: Mapping[str, str]) -> tuple[int | None, int | None, list[str]]:
    problems = []
    year = month = None
    date = fields.get("date", "")
    if date:
        m = DATE_RE.match(verbatim(date))
        if m:
            year = int(m.group(1))
            month = int(m.group(2)) if m.group(2) and 1 <= int(m.group(2)) <= 12 else None
        else:
            problems.append(f"date {date!r} is not a date")
    if "year" in fields:
        m = _YEAR_RE.search(fields["year"])
        if m:
            year = int(m.group(1))
        else:
            problems.append(f"year {fields['year']!r} is not a year")
    if "month" in fields:
        parsed = parse_month(decode_latex(fields["month"]))
        if parsed is None:
            problems.append(f"month {fields['month']!r} is not a month")
        else:
            month = parsed
    return year, month, problems


_normalizers: tuple[Callable[[Any], str], Callable[[Any], str]] | None = None


def normalizers() -> tuple[Callable[[Any], str], Callable[[Any], str]]:
    """parse/'s normalize_doi and normalize_arxiv (it owns the rules for ids), imported on first
    use: it compiles many patterns."""
    global _normalizers
    if _normalizers is None:
        from ..parse import normalize_arxiv, normalize_doi

        _normalizers = (normalize_doi, normalize_arxiv)
    return _normalizers


def _ids(fields: Mapping[str, str]) -> tuple[str, str, list[str]]:
    normalize_doi, normalize_arxiv = normalizers()
    problems = []
    doi = arxiv = ""
    raw_doi = verbatim(fields.get("doi", ""))
    if raw_doi:
        doi = normalize_doi(raw_doi)
        if not doi:
            problems.append(f"doi {raw_doi!r} is not a DOI")
    url = verbatim(fields.get("url", ""))
    if not doi and url and "doi" in url.lower():
        doi = normalize_doi(url)
    eprint = verbatim(fields.get("eprint", ""))
    prefix = verbatim(fields.get("archiveprefix", "") or fields.get("eprinttype", "")).lower()
    if eprint and prefix == "arxiv":
        arxiv = normalize_arxiv(eprint)
        if not arxiv:
            problems.append(f"eprint {eprint!r} is not an arXiv id")
    if not arxiv and doi.startswith("10.48550/arxiv."):
        arxiv = normalize_arxiv("arXiv:" + doi.removeprefix("10.48550/arxiv."))
    if not arxiv and url and "arxiv.org" in url.lower():
        arxiv = normalize_arxiv(url)
    if not arxiv:
        for name in ("journal", "journaltitle", "note", "howpublished", "number"):
            value = fields.get(name, "")
            if "arxiv:" in value.lower():
                arxiv = normalize_arxiv(verbatim(value))
                if arxiv:
                    break
    return doi, arxiv, problems


def entry_from_fields(
    key: str, entry_type: str, fields: Mapping[str, str], path: str = "", line: int = 0
) -> tuple[BibEntry, list[str]]:
    """A BibTeX entry's fields (lower-case names, macros expanded, LaTeX not yet decoded) ->
    the entry, and the problems found in its fields."""
    year, month, problems = _year_month(fields)
    doi, arxiv, id_problems = _ids(fields)
    names = fields.get("author") or fields.get("editor") or ""
    venue = next((fields[n] for n in _VENUE_FIELDS if fields.get(n, "").strip()), "")
    entry = BibEntry(
        key=key,
        type=entry_type.lower(),
        title=decode_latex(fields.get("title", "")),
        authors=parse_names(names) if names else (),
        year=year,
        month=month,
        venue=decode_latex(venue),
        doi=doi,
        arxiv=arxiv,
        url=verbatim(fields.get("url", "")),
        path=path,
        line=line,
        crossref=verbatim(fields.get("crossref", "")),
        fields=tuple(fields.items()),
    )
    return entry, problems + id_problems


