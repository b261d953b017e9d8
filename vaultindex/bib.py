"""Owns bibliographies: BibTeX/BibLaTeX (`*.bib`) and CSL-JSON files -> BibEntry values.

The only module that imports bibtexparser (and its LaTeX decoder, pylatexenc); both are imported
on first use. Reading is pure per file (`parse_bibtex`, `parse_csl_json`: text -> entries and
diagnostics, never raising); `read` puts files together into a `Bibliography` and re-reads only
the files whose fingerprint (size, mtime, then SHA-1) changed since a previous one.

Typical use (what a sync does):

    sources, problems = bib.vault_sources(root, config, attachments, frontmatters)
    bibliography = bib.read(sources, previous=old_bibliography)
    entry = bibliography.find(citation.kind, citation.key)   # citekey, doi or arxiv
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import posixpath
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import ALWAYS_IGNORED_DIRS, Config
from .models import BibEntry, Diagnostic

BIBTEX_SUFFIX = ".bib"
CSL_JSON_SUFFIX = ".json"
MAX_BIB_SIZE = 64 * 1024 * 1024  # a whole Zotero library export is a few MB; past this, refuse

__all__ = [
    "BibEntry",
    "BibFile",
    "BibSource",
    "Bibliography",
    "Fingerprint",
    "decode_latex",
    "frontmatter_bibliographies",
    "load",
    "parse_bibtex",
    "parse_csl_json",
    "parse_names",
    "read",
    "vault_sources",
]


# ------------------------------------------------------------------------------------------------
# LaTeX -> Unicode
# ------------------------------------------------------------------------------------------------

# \'e, \"{u}, \c c, \v{S}, \'{\i}: the accent commands of plain LaTeX, as combining characters
_ACCENT_MARKS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "d": "\u0323", "b": "\u0331", "r": "\u030a", "t": "\u0361",
}
_SYMBOL_ACCENT = re.compile(r"""\\(['`^"~=.])\s*(?:\{\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}|(\\[ij](?![A-Za-z])|[A-Za-z]))""")
_LETTER_ACCENT = re.compile(r"\\([uvHckdbrt])(?:\s*\{\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}|\s+([A-Za-z]))")
# letters and symbols written as commands
_NAMED = {
    "ss": "ß", "SS": "SS", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "aa": "å", "AA": "Å",
    "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð",
    "th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "dj": "đ", "DJ": "Đ",
    "textendash": "–", "textemdash": "—", "textquoteright": "’", "textquoteleft": "‘",
    "textquotedblleft": "“", "textquotedblright": "”", "textasciitilde": "~",
    "textasciicircum": "^", "textbackslash": "\\", "textunderscore": "_", "textbar": "|",
    "textless": "<", "textgreater": ">", "textregistered": "®", "texttrademark": "™",
    "copyright": "©", "textcopyright": "©", "textdegree": "°", "dag": "†", "ddag": "‡",
    "S": "§", "P": "¶", "pounds": "£", "euro": "€", "ldots": "…", "dots": "…", "textellipsis": "…",
    "LaTeX": "LaTeX", "TeX": "TeX", "BibTeX": "BibTeX",
}
_NAMED_COMMAND = re.compile(r"\\([A-Za-z]+)(?![A-Za-z])(?:\{\})?\s?")
# commands that only style their argument: the argument stays, the command goes
_STYLE = re.compile(
    r"\\(?:text(?:it|bf|sc|tt|rm|sf|up|sl|md|normal)|emph|mkbibemph|mkbibitalic|mkbibbold|"
    r"mbox|url|nolinkurl|nocase|NoCaseChange|MakeUppercase|MakeLowercase|ensuremath|"
    r"uppercase|lowercase)\s*(?=\{)"
)
_ESCAPED = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "\ue001", "}": "\ue002", " ": " ", ",": " ", ";": " ", "@": "@", "/": ""}
_ESCAPE = re.compile(r"\\([&%$#_{} ,;@/])")
_SPACE = re.compile(r"\s+")
_VERBATIM_SPECIAL = re.compile(r"[\\{}]")
_LATEX_SPECIAL = re.compile(r"[\\{}$~`']|--")
_MATH = re.compile(r"(?<!\\)\$")  # an unescaped dollar: math, which the full parser keeps as written

_decoder = None


def _pylatexenc_decode(text: str) -> str:
    """The slow, general decoder for what the fast rules leave: math and unusual commands."""
    global _decoder
    if _decoder is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _decoder = LatexNodes2Text(math_mode="verbatim", keep_braced_groups=False)
    try:
        return _decoder.latex_to_text(text)
    except Exception:  # noqa: BLE001 - pylatexenc on hostile input: keep what we have
        return text


def _accent(m: re.Match[str]) -> str:
    base = m.group(2) or m.group(3)
    base = {"\\i": "i", "\\j": "j"}.get(base, base)
    return unicodedata.normalize("NFC", base + _ACCENT_MARKS[m.group(1)])


def _named(m: re.Match[str]) -> str:
    name = m.group(1)
    return _NAMED[name] if name in _NAMED else m.group(0)


def decode_latex(text: str) -> str:
    """A BibTeX field value in LaTeX -> plain Unicode: accents (`J{\\"u}rgen` -> Jürgen), letters
    (`{\\L}ukasz` -> Łukasz, `{\\ss}`), escapes (`\\&`), dashes, quotes and ties; protective braces
    (`{BERT}`) and style commands (`\\emph{x}`) removed; whitespace collapsed. Common cases are
    handled here (1,000 times faster than a full LaTeX parser); what is left over (math, unusual
    commands) goes through pylatexenc."""
    if not text:
        return ""
    if not _LATEX_SPECIAL.search(text):  # most names and many titles: nothing to decode
        return unicodedata.normalize("NFC", " ".join(text.split()))
    out = text
    if "\\" in out:
        out = _ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], out)
        out = _SYMBOL_ACCENT.sub(_accent, out)
        out = _LETTER_ACCENT.sub(_accent, out)
        out = _STYLE.sub("", out)
        out = out.replace("\\\\", " ")
        out = _NAMED_COMMAND.sub(_named, out)
    if "\\" in out or _MATH.search(text):
        # Something the fast rules do not know: decode the original with the full parser.
        out = _pylatexenc_decode(text.replace("~", " "))
    else:
        out = out.replace("{", "").replace("}", "")
        out = out.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
        out = out.replace("~", " ")
    out = out.replace("\ue001", "{").replace("\ue002", "}").replace("\xa0", " ")
    return unicodedata.normalize("NFC", _SPACE.sub(" ", out).strip())


def _verbatim(text: str) -> str:
    """A field that is not prose (url, doi, eprint, file): braces and backslash escapes removed."""
    if not _VERBATIM_SPECIAL.search(text):
        return text.strip()
    out = _ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], text)
    out = out.replace("{", "").replace("}", "").replace("\ue001", "{").replace("\ue002", "}")
    return out.strip()


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
            return decode_latex(words[0])
        lower = [i for i, w in enumerate(words[:-1]) if _is_lower_word(w)]
        if lower:
            first, von, last = words[: lower[0]], words[lower[0] : lower[-1] + 1], words[lower[-1] + 1 :]
        else:
            first, von, last = words[:-1], [], words[-1:]
        if not first:  # "van Gogh": no first name
            return decode_latex(" ".join(von + last))
        return f"{decode_latex(' '.join(von + last))}, {decode_latex(' '.join(first))}"
    surname, rest = parts[0], [p for p in parts[1:] if p]
    last_text = decode_latex(surname)
    if not rest:
        return last_text
    return ", ".join([last_text, *(decode_latex(p) for p in rest)])


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

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DATE_RE = re.compile(r"^\s*(\d{4})(?:[-/](\d{1,2}))?")
_VENUE_FIELDS = ("journaltitle", "journal", "booktitle", "eventtitle", "publisher", "school", "institution", "organization")
_VERBATIM_FIELDS = frozenset({"url", "doi", "eprint", "file", "archiveprefix", "eprinttype", "ids", "crossref", "xref"})
# what a crossref child never takes from its parent (biblatex's rules, simplified)
_NOT_INHERITED = frozenset({
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
        for i, name in enumerate(_MONTH_NAMES):
            if name.lower().startswith(text):
                return i + 1
    return None


def _year_month(fields: Mapping[str, str]) -> tuple[int | None, int | None, list[str]]:
    problems = []
    year = month = None
    date = fields.get("date", "")
    if date:
        m = _DATE_RE.match(_verbatim(date))
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


def _normalizers():
    # parse.py owns the rules for ids; imported on first use (it compiles many patterns).
    from .parse import normalize_arxiv, normalize_doi

    return normalize_doi, normalize_arxiv


def _ids(fields: Mapping[str, str]) -> tuple[str, str, list[str]]:
    normalize_doi, normalize_arxiv = _normalizers()
    problems = []
    doi = arxiv = ""
    raw_doi = _verbatim(fields.get("doi", ""))
    if raw_doi:
        doi = normalize_doi(raw_doi)
        if not doi:
            problems.append(f"doi {raw_doi!r} is not a DOI")
    url = _verbatim(fields.get("url", ""))
    if not doi and url and "doi" in url.lower():
        doi = normalize_doi(url)
    eprint = _verbatim(fields.get("eprint", ""))
    prefix = _verbatim(fields.get("archiveprefix", "") or fields.get("eprinttype", "")).lower()
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
                arxiv = normalize_arxiv(_verbatim(value))
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
        url=_verbatim(fields.get("url", "")),
        path=path,
        line=line,
        crossref=_verbatim(fields.get("crossref", "")),
        fields=tuple(fields.items()),
    )
    return entry, problems + id_problems


# ------------------------------------------------------------------------------------------------
# BibTeX
# ------------------------------------------------------------------------------------------------

_IDENT = re.compile(r"[^\s\"#%'(),={}]+")


_BRACE = re.compile(r"[{}]")
_QUOTE_OR_BRACE = re.compile(r'[{}"]')


def _group_end(raw: str, start: int) -> int:
    """The index of the `}` closing the `{` at `start` (len(raw) when it never closes)."""
    depth = 0
    for m in _BRACE.finditer(raw, start):
        depth += 1 if m.group() == "{" else -1
        if depth == 0:
            return m.start()
    return len(raw)


def _quote_end(raw: str, start: int) -> int:
    """The index of the `"` closing the one at `start`, braces nesting (len(raw) if none)."""
    depth = 0
    for m in _QUOTE_OR_BRACE.finditer(raw, start + 1):
        token = m.group()
        if token == '"' and depth == 0:
            return m.start()
        depth += {"{": 1, "}": -1}.get(token, 0)
    return len(raw)


def _value_parts(raw: str) -> Iterator[tuple[str, str]]:
    """A raw field value -> ("text", ...) and ("macro", name) parts of its `#` concatenation."""
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch.isspace() or ch == "#":
            i += 1
        elif ch == "{":
            j = _group_end(raw, i)
            yield "text", raw[i + 1 : j]
            i = j + 1
        elif ch == '"':
            j = _quote_end(raw, i)
            yield "text", raw[i + 1 : j]
            i = j + 1
        else:
            m = _IDENT.match(raw, i)
            if not m:
                yield "text", raw[i:]
                return
            word = m.group(0)
            yield ("text" if word.isdigit() else "macro"), word
            i = m.end()


def _expand(raw: str, macros: Mapping[str, str], unknown: list[str]) -> str:
    if "#" not in raw and len(raw) >= 2 and (raw[0], raw[-1]) in (("{", "}"), ('"', '"')):
        return raw[1:-1]  # one braced or quoted value, by far the most common: no concatenation
    out = []
    for kind, text in _value_parts(raw):
        if kind == "text":
            out.append(text)
            continue
        name = text.lower()
        if name in macros:
            out.append(macros[name])
        elif name in _MONTHS:
            out.append(_MONTH_NAMES[_MONTHS.index(name)])
        else:
            unknown.append(text)
            out.append(text)
    return "".join(out)


def _quiet_bibtexparser():
    import bibtexparser

    log = logging.getLogger("bibtexparser")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        # Its warnings about broken blocks become our diagnostics; never print them twice.
        log.addHandler(logging.NullHandler())
        log.propagate = False
    return bibtexparser


def _split(text: str) -> tuple[list[Any], list[tuple[int, str]]]:
    """bibtexparser's split into blocks; on an internal error, split at lines starting with `@`
    and parse each piece alone, so that one block the parser trips over costs only that block."""
    bibtexparser = _quiet_bibtexparser()
    try:
        return list(bibtexparser.parse_string(text, parse_stack=[]).blocks), []
    except Exception:  # noqa: BLE001 - a parser bug on odd input must not cost the whole file
        pass
    blocks, failures = [], []
    starts = [0] + [m.start() + 1 for m in re.finditer(r"\n(?=[ \t]*@)", text)]
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        offset = text.count("\n", 0, begin)
        piece = "\n" * offset + text[begin:end]  # keep line numbers
        try:
            blocks.extend(bibtexparser.parse_string(piece, parse_stack=[]).blocks)
        except Exception as exc:  # noqa: BLE001
            failures.append((offset + 1, f"cannot be parsed ({type(exc).__name__}), skipped"))
    return blocks, failures


def _failure_message(block: Any) -> str:
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", "") or (str(error) if error else "")
    reason = " ".join(str(reason).split())
    if type(block).__name__ == "DuplicateBlockKeyBlock":
        key = getattr(block, "key", "")
        return f'duplicate key "{key}" in this file; the first entry is used'
    return f"broken entry, skipped: {reason}" if reason else "broken entry, skipped"


def parse_bibtex(text: str, path: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """A .bib file's text -> its entries and diagnostics (each with `path` and a 1-based line).

    Never raises. `@string` macros (and `#` concatenation, and the month macros) are expanded,
    entries are read in file order, a broken entry is reported and skipped, every other entry is
    still read. Crossref is not applied here (a parent may live in another file): see `read`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    diagnostics: list[Diagnostic] = []
    n_lines = text.count("\n") + 1

    def line_of(block: Any) -> int:
        start = getattr(block, "start_line", None)
        return min(max(1, (start or 0) + 1), n_lines)

    try:
        blocks, failures = _split(text)
    except Exception as exc:  # noqa: BLE001 - even the fallback failed: the file is unreadable
        return [], [Diagnostic(path, f"cannot be parsed: {type(exc).__name__}", 1, "error")]
    diagnostics.extend(Diagnostic(path, msg, line, "error") for line, msg in failures)
    macros: dict[str, str] = {}
    entries: list[BibEntry] = []
    seen: set[str] = set()
    for block in blocks:
        kind = type(block).__name__
        line = line_of(block)
        if kind == "String":
            unknown: list[str] = []
            macros[block.key.lower()] = _expand(block.value, macros, unknown)
            for name in unknown:
                diagnostics.append(Diagnostic(path, f"@string {block.key}: undefined macro {name!r}", line))
            continue
        if kind == "DuplicateFieldKeyBlock":
            block = block.ignore_error_block  # still an entry: read it, say so
            diagnostics.append(Diagnostic(path, _failure_message_for_fields(block), line))
            kind = "Entry"
        if kind != "Entry":
            if kind in ("ParsingFailedBlock", "DuplicateBlockKeyBlock", "MiddlewareErrorBlock"):
                diagnostics.append(Diagnostic(path, _failure_message(block), line, "error" if kind != "DuplicateBlockKeyBlock" else "warning"))
            continue
        key = (block.key or "").strip()
        if not key:
            diagnostics.append(Diagnostic(path, f"@{block.entry_type} entry without a key, skipped", line, "error"))
            continue
        if key in seen:  # the parser reports same-key blocks; this catches what it lets through
            diagnostics.append(Diagnostic(path, f'duplicate key "{key}" in this file; the first entry is used', line))
            continue
        seen.add(key)
        fields: dict[str, str] = {}
        unknown = []
        for f in block.fields:
            name = str(f.key).strip().lower()
            if name and name not in fields:
                fields[name] = _expand(str(f.value), macros, unknown)
        for name in unknown:
            diagnostics.append(Diagnostic(path, f"{key}: undefined @string macro {name!r}", line))
        entry, problems = entry_from_fields(key, str(block.entry_type), fields, path, line)
        diagnostics.extend(Diagnostic(path, f"{key}: {p}", line) for p in problems)
        entries.append(entry)
    return entries, diagnostics


def _failure_message_for_fields(block: Any) -> str:
    names = sorted({str(f.key).lower() for f in block.fields if [g.key for g in block.fields].count(f.key) > 1})
    listing = ", ".join(names) if names else "a field"
    return f"{block.key}: {listing} given twice; the first value is used"


# ------------------------------------------------------------------------------------------------
# CSL-JSON
# ------------------------------------------------------------------------------------------------


def _csl_name(person: Any) -> str:
    if isinstance(person, str):
        return person.strip()
    if not isinstance(person, dict):
        return ""
    if person.get("literal"):
        return str(person["literal"]).strip()
    family = " ".join(
        str(person[k]).strip() for k in ("non-dropping-particle", "family") if person.get(k)
    )
    if person.get("dropping-particle"):
        family = f"{str(person['dropping-particle']).strip()} {family}".strip()
    given = str(person.get("given") or "").strip()
    suffix = str(person.get("suffix") or "").strip()
    if not family:
        return given
    return ", ".join(p for p in (family, suffix, given) if p)


def _csl_date(value: Any) -> tuple[int | None, int | None]:
    if not isinstance(value, dict):
        return None, None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        first = parts[0]
        try:
            year = int(str(first[0]))
            month = int(str(first[1])) if len(first) > 1 else None
        except (TypeError, ValueError):
            return None, None
        return year, month if month and 1 <= month <= 12 else None
    raw = value.get("raw") or value.get("literal")
    if isinstance(raw, str) and (m := _DATE_RE.match(raw)):
        month = int(m.group(2)) if m.group(2) else None
        return int(m.group(1)), month if month and 1 <= month <= 12 else None
    return None, None


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def parse_csl_json(text: str, path: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """A CSL-JSON file's text (a list of items, as Zotero and Better BibTeX export) -> entries
    and diagnostics. Never raises; an item without an id is reported, the others are read."""
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1) or 1
        msg = getattr(exc, "msg", str(exc))
        return [], [Diagnostic(path, f"not valid JSON, nothing read: {msg}", line, "error")]
    except RecursionError:
        return [], [Diagnostic(path, "JSON nested too deeply, nothing read", 1, "error")]
    depth_of_items = 1
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data, depth_of_items = data["items"], 2
    if not isinstance(data, list):
        return [], [Diagnostic(path, "CSL-JSON must be a list of items, nothing read", 1, "error")]
    normalize_doi, normalize_arxiv = _normalizers()
    entries, diagnostics, seen = [], [], set()
    object_lines = iter(_csl_item_lines(text, depth_of_items))
    for index, item in enumerate(data):
        line = next(object_lines, 1) if isinstance(item, dict) else 1
        if not isinstance(item, dict):
            diagnostics.append(Diagnostic(path, f"item {index + 1} is not an object, skipped", line, "error"))
            continue
        key = _text(item.get("id")) or _text(item.get("citation-key"))
        if not key:
            diagnostics.append(Diagnostic(path, f"item {index + 1} has no id, skipped", line, "error"))
            continue
        if key in seen:
            diagnostics.append(Diagnostic(path, f'duplicate id "{key}" in this file; the first item is used', line))
            continue
        seen.add(key)
        authors = item.get("author") or item.get("editor") or []
        names = tuple(n for n in (_csl_name(p) for p in (authors if isinstance(authors, list) else [])) if n)
        year, month = _csl_date(item.get("issued"))
        venue = next(
            (_text(item.get(k)) for k in ("container-title", "event-title", "event", "publisher") if _text(item.get(k))),
            "",
        )
        doi = normalize_doi(_text(item.get("DOI") or item.get("doi"))) if item.get("DOI") or item.get("doi") else ""
        url = _text(item.get("URL") or item.get("url"))
        arxiv = ""
        if doi.startswith("10.48550/arxiv."):
            arxiv = normalize_arxiv("arXiv:" + doi.removeprefix("10.48550/arxiv."))
        for candidate in (item.get("number"), item.get("note"), url if "arxiv.org" in url.lower() else ""):
            if not arxiv and "arxiv" in _text(candidate).lower():
                arxiv = normalize_arxiv(_text(candidate))
        fields = tuple((str(k).lower(), _text(v)) for k, v in item.items() if _text(v))
        entries.append(
            BibEntry(
                key=key,
                type=_text(item.get("type")),
                title=_text(item.get("title")),
                authors=names,
                year=year,
                month=month,
                venue=venue,
                doi=doi,
                arxiv=arxiv,
                url=url,
                path=path,
                line=line,
                fields=fields,
            )
        )
    return entries, diagnostics


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')


def _csl_item_lines(text: str, depth_of_items: int) -> list[int]:
    """The 1-based line where each object of the item list starts (JSON parsers do not say)."""
    lines, depth, newlines, last = [], 0, 0, 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token in "{[":
            if token == "{" and depth == depth_of_items:
                newlines += text.count("\n", last, m.start())
                last = m.start()
                lines.append(newlines + 1)
            depth += 1
        elif token in "}]":
            depth -= 1
    return lines


# ------------------------------------------------------------------------------------------------
# files, sources, the bibliography
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a file looked like when read: a changed size or mtime means "maybe changed" (then the
    SHA-1 decides), so an unchanged file is never read again."""

    size: int
    mtime_ns: int
    sha1: str


@dataclass(frozen=True, slots=True)
class BibSource:
    """A bibliography file to read: `path` as shown (vault-relative POSIX, or as written in the
    config for a file outside the vault), `file` the absolute file, `format` bibtex or csl-json."""

    path: str
    file: Path
    format: str
    origin: str = "vault"  # "vault" (a *.bib found by the scan), "config" or "frontmatter"


@dataclass(frozen=True)
class BibFile:
    source: BibSource
    fingerprint: Fingerprint | None  # None: the file could not be read
    entries: tuple[BibEntry, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def path(self) -> str:
        return self.source.path


@dataclass(frozen=True)
class Bibliography:
    """Every entry of every bibliography file. Keys are case-sensitive (as in pandoc); when two
    files define a key, the first file (config order, then vault paths) wins and a diagnostic
    says so. DOIs and arXiv ids are normalised as notes' ids are."""

    files: tuple[BibFile, ...] = ()
    by_key: Mapping[str, BibEntry] = field(default_factory=dict)
    by_doi: Mapping[str, BibEntry] = field(default_factory=dict)
    by_arxiv: Mapping[str, BibEntry] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()

    def __len__(self) -> int:
        return len(self.by_key)

    def __iter__(self) -> Iterator[BibEntry]:
        return iter(self.by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self.by_key

    def get(self, key: str) -> BibEntry | None:
        """The entry for a citekey (a leading `@` is ignored)."""
        return self.by_key.get(key.removeprefix("@") if key.startswith("@") else key)

    def find(self, kind: str, key: str) -> BibEntry | None:
        """The entry a citation names: kind "citekey", "doi" or "arxiv" (as models.Citation)."""
        if kind == "doi":
            return self.by_doi.get(key.lower())
        if kind == "arxiv":
            return self.by_arxiv.get(key.lower())
        return self.get(key)

    def file(self, path: str) -> BibFile | None:
        return next((f for f in self.files if f.path == path), None)

    def changed_keys(self, previous: Bibliography | None) -> set[str]:
        """Citekeys whose entry was added, removed or changed since `previous` (what a caller must
        re-resolve). Entries moving to another line count as changed."""
        if previous is None:
            return set(self.by_key)
        old, new = previous.by_key, self.by_key
        return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


def _fingerprint(file: Path) -> tuple[os.stat_result, None] | tuple[None, str]:
    try:
        st = os.stat(file)
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):
        return None, "is not a regular file, skipped"
    if st.st_size > MAX_BIB_SIZE:
        return None, f"larger than {MAX_BIB_SIZE // 1024 // 1024} MB, skipped"
    return st, None


def _read_bytes(file: Path) -> bytes:
    # Opened without blocking and checked: a FIFO put in place of a .bib never hangs a sync.
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(22, "not a regular file")
        return fh.read(MAX_BIB_SIZE + 1)


def _decode_bytes(data: bytes, path: str) -> tuple[str, list[Diagnostic]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        note = Diagnostic(path, "not UTF-8; read as Latin-1 (save it as UTF-8 to be sure)", line)
        return data.decode("latin-1"), [note]


def read_file(source: BibSource, previous: BibFile | None = None) -> BibFile:
    """One bibliography file; `previous` is reused as it is when the file has not changed."""
    st, problem = _fingerprint(source.file)
    if st is None:
        return BibFile(source, None, (), (Diagnostic(source.path, problem or "cannot be read", None, "error"),))
    old = previous.fingerprint if previous is not None and previous.source == source else None
    if old is not None and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
        return previous  # type: ignore[return-value]
    try:
        data = _read_bytes(source.file)
    except OSError as exc:
        return BibFile(source, None, (), (Diagnostic(source.path, f"cannot be read: {exc.strerror or exc}", None, "error"),))
    sha1 = hashlib.sha1(data).hexdigest()
    fingerprint = Fingerprint(len(data), st.st_mtime_ns, sha1)
    if old is not None and old.sha1 == sha1:
        return BibFile(source, fingerprint, previous.entries, previous.diagnostics)  # type: ignore[union-attr]
    text, diagnostics = _decode_bytes(data, source.path)
    parser = parse_bibtex if source.format == "bibtex" else parse_csl_json
    entries, found = parser(text, source.path)
    return BibFile(source, fingerprint, tuple(entries), tuple(diagnostics + found))


def read(sources: Iterable[BibSource], previous: Bibliography | None = None) -> Bibliography:
    """Read the bibliography files (only those changed since `previous`) and index their entries."""
    old_files = {f.source.path: f for f in previous.files} if previous is not None else {}
    files = tuple(read_file(s, old_files.get(s.path)) for s in sources)
    if previous is not None and len(files) == len(previous.files) and all(a is b for a, b in zip(files, previous.files)):
        return previous  # nothing changed: not even the key tables are rebuilt
    return assemble(files)


def assemble(files: tuple[BibFile, ...]) -> Bibliography:
    """Files -> the Bibliography: first definition of a key wins; crossref applied."""
    by_key: dict[str, BibEntry] = {}
    diagnostics: list[Diagnostic] = [d for f in files for d in f.diagnostics]
    for f in files:
        for entry in f.entries:
            first = by_key.get(entry.key)
            if first is None:
                by_key[entry.key] = entry
            elif first.path != entry.path:
                diagnostics.append(
                    Diagnostic(
                        entry.path,
                        f'key "{entry.key}" is also defined in {first.path}:{first.line}; that one is used',
                        entry.line,
                    )
                )
    for key, entry in list(by_key.items()):
        if entry.crossref:
            resolved, problem = _apply_crossref(entry, by_key)
            by_key[key] = resolved
            if problem:
                diagnostics.append(Diagnostic(entry.path, f"{key}: {problem}", entry.line))
    by_doi: dict[str, BibEntry] = {}
    by_arxiv: dict[str, BibEntry] = {}
    for entry in by_key.values():
        if entry.doi:
            by_doi.setdefault(entry.doi, entry)
        if entry.arxiv:
            by_arxiv.setdefault(entry.arxiv, entry)
    return Bibliography(files, by_key, by_doi, by_arxiv, tuple(diagnostics))


def _apply_crossref(entry: BibEntry, by_key: Mapping[str, BibEntry]) -> tuple[BibEntry, str]:
    fields = dict(entry.fields)
    parent_key, seen = entry.crossref, {entry.key}
    while parent_key:
        parent = by_key.get(parent_key)
        if parent is None:
            return entry if len(seen) == 1 else _rebuilt(entry, fields), f'crossref "{parent_key}" is not in any bibliography'
        if parent.key in seen:
            return _rebuilt(entry, fields), f'crossref loop through "{parent_key}"'
        seen.add(parent.key)
        parent_fields = dict(parent.fields)
        for name, value in parent_fields.items():
            if name not in _NOT_INHERITED and name not in fields:
                fields[name] = value
        if "booktitle" not in fields and parent_fields.get("title"):
            fields["booktitle"] = parent_fields["title"]  # biblatex: the parent's title is the book
        parent_key = _verbatim(parent_fields.get("crossref", ""))
    return _rebuilt(entry, fields), ""


def _rebuilt(entry: BibEntry, fields: dict[str, str]) -> BibEntry:
    rebuilt, _ = entry_from_fields(entry.key, entry.type, fields, entry.path, entry.line)
    return rebuilt


def _safe_relpath(base: str, target: str) -> str | None:
    """`target` (POSIX, relative to the vault folder `base`) as a clean vault path, or None when
    it leaves the vault or names an ignored folder."""
    joined = posixpath.normpath(posixpath.join(base, target))
    if joined.startswith("../") or joined == ".." or joined.startswith("/") or joined == ".":
        return None
    if any(part in ALWAYS_IGNORED_DIRS for part in joined.split("/")[:-1]):
        return None
    return joined


def frontmatter_bibliographies(frontmatters: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    """Pure: the pandoc `bibliography:` key of each note -> [(note path, candidate paths)].

    A value is a path or a list of paths; a relative one is tried from the note's folder, then
    from the vault root; one starting with `/` is from the vault root. Paths that leave the vault
    are dropped (a note cannot make vaultindex read files elsewhere)."""
    found = []
    for note_path, fm in frontmatters.items():
        if not isinstance(fm, Mapping):
            continue
        value = fm.get("bibliography")
        items = value if isinstance(value, list) else [value]
        folder = posixpath.dirname(note_path)
        for item in items:
            if not isinstance(item, str) or not item.strip():
                continue
            item = item.strip().replace("\\", "/")
            if item.startswith("/"):
                candidates = [_safe_relpath("", item.lstrip("/"))]
            else:
                candidates = [_safe_relpath(folder, item), _safe_relpath("", item)]
            unique = tuple(dict.fromkeys(c for c in candidates if c))
            if unique:
                found.append((note_path, unique))
    return found


def _format_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(BIBTEX_SUFFIX):
        return "bibtex"
    if lower.endswith(CSL_JSON_SUFFIX):
        return "csl-json"
    return None


def vault_sources(
    root: Path,
    config: Config,
    attachments: Iterable[str],
    frontmatters: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[BibSource], list[Diagnostic]]:
    """The bibliography files of a vault, in the order their keys take precedence: the config's
    `bibliography` list, then every `*.bib` the scan found (sorted), then files named in notes'
    frontmatter. A file named twice is read once."""
    sources: list[BibSource] = []
    diagnostics: list[Diagnostic] = []
    seen: set[str] = set()
    real_root = os.path.realpath(root)

    def add(path: str, file: Path, origin: str, where: str, line: int | None = None) -> None:
        fmt = _format_of(path)
        if fmt is None:
            diagnostics.append(Diagnostic(where, f"bibliography {path!r}: only .bib and CSL .json files are read", line))
            return
        ident = os.path.realpath(file)
        if ident in seen:
            return
        seen.add(ident)
        sources.append(BibSource(path, file, fmt, origin))

    for written in config.bibliography:
        file = Path(written).expanduser()
        if not file.is_absolute():
            file = root / file
        inside = os.path.realpath(file)
        shown = os.path.relpath(inside, real_root).replace(os.sep, "/") if inside.startswith(real_root + os.sep) else written
        add(shown, file, "config", ".vaultindex/config.toml")
    for path in sorted(p for p in attachments if p.lower().endswith(BIBTEX_SUFFIX)):
        add(path, root / path, "vault", path)
    for note_path, candidates in frontmatter_bibliographies(frontmatters or {}):
        chosen = next((c for c in candidates if _inside(root, real_root, c)), None)
        if chosen is None:
            diagnostics.append(Diagnostic(note_path, f"bibliography {candidates[0]!r} not found in the vault"))
            continue
        add(chosen, root / chosen, "frontmatter", note_path)
    return sources, diagnostics


def _inside(root: Path, real_root: str, rel: str) -> bool:
    """`rel` is a regular file whose real location is inside the vault."""
    real = os.path.realpath(root / rel)
    return real.startswith(real_root + os.sep) and os.path.isfile(real)


def load(
    root: Path,
    config: Config,
    frontmatters: Mapping[str, Mapping[str, Any]] | None = None,
    previous: Bibliography | None = None,
) -> Bibliography:
    """Scan the vault for bibliography files and read them (a convenience over vault_sources and
    read for callers that have no scan at hand)."""
    from .scan import scan

    listing = scan(root, config)
    sources, problems = vault_sources(root, config, listing.attachments, frontmatters)
    bibliography = read(sources, previous)
    if not problems:
        return bibliography
    return Bibliography(
        bibliography.files,
        bibliography.by_key,
        bibliography.by_doi,
        bibliography.by_arxiv,
        tuple(problems) + bibliography.diagnostics,
    )
