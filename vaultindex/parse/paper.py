"""Owns the note's own paper record: authors, year, venue and ids from frontmatter fields and from
the identity lines a template writes at its top.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..models import Diagnostic, Heading, Paper
from .citations import ARXIV_MARKED, DOI, arxiv_key, normalize_arxiv, normalize_doi, trim_doi

# --------------------------------------------------------------------------------------------
# frontmatter fields
# --------------------------------------------------------------------------------------------

_WIKI_VALUE = re.compile(r"^\s*!?\[\[([^\[\]|#]*)(?:[#|][^\]]*)?\]\]\s*$")


def _unlink(value: str) -> str:
    """"[[Emile van Krieken]]" -> "Emile van Krieken"; other strings stripped."""
    m = _WIKI_VALUE.match(value)
    return m.group(1).strip() if m else value.strip()


def _first(fm: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = fm.get(key)
        if value is not None:
            return value
    return None


def _scalar_text(value: Any) -> str:
    """A string field that may have been written as a one-item list."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, (str, int, float)) and v != ""), None)
    if value is None or isinstance(value, (bool, dict, list)):
        return ""
    return str(value).strip()


def string_list(value: Any) -> list[str]:
    """A list of strings, or a comma-separated string; stripped, empty dropped, unique."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, str) and item.strip():
            seen.setdefault(item.strip(), None)
    return list(seen)


_AUTHOR_SPLIT = re.compile(r";|(?<!\s)\s+and\s+")  # the lookbehind keeps long spaces linear


def _authors(value: Any) -> tuple[str, ...]:
    """Authors from a list or a string.

    A string is split on ";" and " and "; a part is split on "," only when every piece has a
    space ("Jonathan Ho, Ajay Jain"), so "Smith, J." and "Smith, John" stay one author.
    """
    if value is None:
        return ()
    names: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):  # CSL style {family: ..., given: ...}
            item = " ".join(str(item[k]) for k in ("given", "family") if item.get(k))
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            continue
        item = str(item)
        parts = _AUTHOR_SPLIT.split(item) if not isinstance(value, list) else [item]
        for part in parts:
            part = part.strip()
            pieces = [p.strip() for p in part.split(",")]
            names.extend(pieces if len(pieces) > 1 and all(" " in p for p in pieces) else [part])
    out: dict[str, None] = {}
    for name in names:
        name = _unlink(name)
        if name:
            out.setdefault(name, None)
    return tuple(out)


_YEAR = re.compile(r"^\s*(\d{4})(?!\d)")


def _year(fm: dict[str, Any]) -> int | None:
    year = fm.get("year")
    if isinstance(year, int) and not isinstance(year, bool):
        return year
    for value in (year, fm.get("date"), fm.get("published")):
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str) and (m := _YEAR.match(value)):
            return int(m.group(1))
    return None


_RAW_ARXIV = re.compile(r"^[ \t]*arxiv[ \t]*:[ \t]*['\"]?([^\s'\"#]+)", re.I | re.M)


def _key_line(yaml_text: str, key: str) -> int:
    """The file line of a top-level `key:` in the frontmatter (1 when not found)."""
    m = re.search(rf"^{re.escape(key)}[ \t]*:", yaml_text, re.I | re.M)
    return yaml_text.count("\n", 0, m.start()) + 2 if m else 1


def read_paper(fm: dict[str, Any], yaml_text: str, path: str, diags: list[Diagnostic]) -> Paper:
    url = _scalar_text(fm.get("url"))
    doi_text = _scalar_text(fm.get("doi"))
    doi = normalize_doi(doi_text) if doi_text else ""
    if doi_text and not doi:
        line = _key_line(yaml_text, "doi")
        diags.append(Diagnostic(path, f"frontmatter doi {doi_text!r} is not a DOI", line))
    arxiv_value = fm.get("arxiv")
    if isinstance(arxiv_value, float):
        # YAML read `2206.10010` as a float and lost the trailing zero: use the source text
        raw = _RAW_ARXIV.search(yaml_text)
        arxiv_value = raw.group(1) if raw else arxiv_value
    arxiv_text = _scalar_text(arxiv_value)
    arxiv = normalize_arxiv(arxiv_text) if arxiv_text else ""
    if arxiv_text and not arxiv:
        line = _key_line(yaml_text, "arxiv")
        diags.append(Diagnostic(path, f"frontmatter arxiv {arxiv_text!r} is not an arXiv id", line))
    # the note's own URL often is its DOI or arXiv page
    if url and not doi and "10." in url:
        doi = normalize_doi(url)
    if url and not arxiv and (m := ARXIV_MARKED.search(url)):
        arxiv = arxiv_key(m.group(1))
    return Paper(
        authors=_authors(_first(fm, "authors", "author")),
        year=_year(fm),
        venue=_unlink(
            _scalar_text(_first(fm, "venue", "journal", "booktitle", "conference", "publishedin"))
        ),
        doi=doi,
        arxiv=arxiv,
        citekey=_scalar_text(_first(fm, "citekey", "citation-key")).removeprefix("@"),
        url=url,
        status=_scalar_text(fm.get("status")).lower(),
    )


def with_header_ids(paper: Paper, ids: dict[str, str]) -> Paper:
    """The paper with the header's ids filled in where the frontmatter left a field empty."""
    fields = ("doi", "arxiv", "url", "citekey")
    changes: dict[str, Any] = {f: ids[f] for f in fields if ids.get(f) and not getattr(paper, f)}
    return replace(paper, **changes) if changes else paper


# --------------------------------------------------------------------------------------------
# a paper note's own identifiers: metadata lines at its top (Zotero-style templates)
# --------------------------------------------------------------------------------------------

# `Key: value`, `- **Key**: value`, `**Key:** value`, `> Key:: value` (Dataview), `键：值`
_META_LINE = re.compile(
    r"^[ \t]*(?:>[ \t]*)*(?:[-*+][ \t]+)?(?:\*\*|__)?(?P<key>[^:：*_\[\]\n]{1,40}?)[ \t]*"
    r"(?:\*\*|__)?[ \t]*(?:::?|：)[ \t]*(?:\*\*|__)?[ \t]*(?P<value>.*)$"
)
_LINK_LINE = re.compile(r"^[ \t]*(?:>[ \t]*)*(?:[-*+][ \t]+)?\[(?P<text>[^\[\]\n]+)\]\([^)\n]*\)")
_URL_LINE = re.compile(r"^[ \t]*(?:>[ \t]*)*<?(?:https?://|doi:)[^\s<>]+>?[ \t]*$", re.I)
# keys whose value is the paper itself (its address, identifier or where it appeared)
_IDENTITY_KEYS = frozenset(
    {
        "url", "link", "links", "doi", "arxiv", "arxiv id", "arxiv-id", "eprint", "pdf",
        "paper", "journal", "publication", "publication title", "publicationtitle", "venue",
        "proceedings", "conference", "published in", "source", "citekey", "citation key",
        "citationkey", "identifier", "zotero", "item link", "local library",
        "网址", "链接", "原文链接", "论文链接", "期刊", "来源", "出处", "论文", "原文", "会议",
    }
)
# the text of a link to the paper itself: `[Paper](http://arxiv.org/abs/...)`
_SELF_LINK_WORDS = frozenset(
    {"paper", "arxiv", "pdf", "abstract", "abs", "doi", "link", "url", "source", "full text",
     "publisher", "论文", "原文", "链接", "全文"}
)
_URL_KEYS = frozenset(
    {"url", "link", "links", "pdf", "paper", "source", "item link", "网址", "链接", "原文链接", "论文链接"}
)
_URL_IN = re.compile(r"https?://[^\s<>)\]]+", re.I)
_CITEKEY_VALUE = re.compile(r"^\[?\[?@?([\w:.#$%&\-+?<>~/]+?)\]?\]?$")


def _identity_line(line: str) -> str | None:
    """"key" for a metadata line that names the note's own paper, else None."""
    if _URL_LINE.match(line):
        return "url"
    m = _META_LINE.match(line)
    if m is not None:
        key = " ".join(m.group("key").split()).lower()
        return key if key in _IDENTITY_KEYS else None
    m = _LINK_LINE.match(line)
    if m is not None:
        return "link" if " ".join(m.group("text").split()).lower() in _SELF_LINK_WORDS else None
    return None


def header_lines(masked: str, headings: list[Heading], top: Heading | None, offset: int):
    """(start, end, key) of the identity lines above the first section heading.

    An H1 on the first line (a title, even in a note whose sections are H1s too) does not end
    the header. A note without a section heading has no header: a short note that is just
    `arXiv:2206.14486` cites that paper.
    """
    stop_line = next((h.line - offset for h in headings if h is not top), None)
    if stop_line is None:
        return []
    found = []
    pos = 0
    for line in masked.split("\n", stop_line)[: stop_line - 1]:
        start, pos = pos, pos + len(line) + 1
        if line.strip() and (key := _identity_line(line)) is not None:
            found.append((start, start + len(line), key))
    return found


def header_identity(masked: str, spans: list[tuple[int, int, str]]) -> dict[str, str]:
    """The first DOI, arXiv id, URL and citekey written on the identity lines."""
    ids: dict[str, str] = {}
    for start, end, key in spans:
        line = masked[start:end]
        if "doi" not in ids and (m := DOI.search(line)):
            ids["doi"] = trim_doi(m.group(0))
        if "arxiv" not in ids and (m := ARXIV_MARKED.search(line)):
            ids["arxiv"] = arxiv_key(m.group(1))
        if "url" not in ids and key in _URL_KEYS and (m := _URL_IN.search(line)):
            ids["url"] = m.group(0).rstrip(".,;")
        if "citekey" not in ids and key in ("citekey", "citation key", "citationkey"):
            meta = _META_LINE.match(line)
            value = meta.group("value").strip() if meta else ""
            if (cm := _CITEKEY_VALUE.match(value)) and cm.group(1):
                ids["citekey"] = cm.group(1)
    return ids
