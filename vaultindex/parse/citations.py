"""Owns what a note cites: pandoc citekeys, DOIs and arXiv ids (with their normal forms), and
frontmatter reference lists.
"""

from __future__ import annotations

import re
from typing import Any

# --------------------------------------------------------------------------------------------
# citations
# --------------------------------------------------------------------------------------------

# pandoc citekey: starts with a letter, digit or `_`; internal punctuation :.#$%&-+?<>~/ is
# allowed, trailing punctuation is not part of the key. `@{...}` allows anything but braces.
_CITEKEY = r"\w+(?:[:.#$%&\-+?<>~/]+\w+)*"
# `@` after start, whitespace, `(`, `[` or `;` (or `-@` to suppress the author; checked in
# `citekeys`): covers `[@a]`, `[see @a, p. 3; @b]`, `[-@a]` and bare `@a`, not `a@b.com`.
_CITATION = re.compile(rf"@(?:\{{([^{{}}\n]+)\}}|({_CITEKEY}))")
_CITEKEY_ONLY = re.compile(rf"@?({_CITEKEY})")
# a DOI runs to whitespace, a quote, `<>|` or a backtick; `](` ends it too ([doi](url))
DOI = re.compile(r"10\.(?<![\w.]10\.)\d{4,9}(?:\.\d+)*/(?:[^\s\"<>|`\]]|\](?!\())+")
_ARXIV_NEW = r"\d{4}\.\d{4,5}(?:v\d+)?"
_ARXIV_OLD = r"[a-z][a-z-]*(?:\.[a-z]{2})?/\d{7}(?:v\d+)?"
# Only clearly marked ids: `arXiv:2206.14486` or an arxiv.org URL (a bare 2206.14486 in text
# could be anything).
ARXIV_MARKED = re.compile(
    rf"(?:\barxiv:[ \t]?|arxiv\.org/(?:abs|pdf|html|format)/)({_ARXIV_NEW}|{_ARXIV_OLD})(?!\d)",
    re.I,
)
_ARXIV_ID = re.compile(rf"(?<![\w.])({_ARXIV_NEW}|{_ARXIV_OLD})(?!\d)", re.I)
_ARXIV_VERSION = re.compile(r"v\d+$", re.I)
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def trim_doi(doi: str) -> str:
    """Strip sentence punctuation and unbalanced closing brackets from the end of a DOI."""
    balance = {c: doi.count(c) - doi.count(o) for c, o in _CLOSERS.items()}  # closers - openers
    end = len(doi)
    while end:
        last = doi[end - 1]
        if last in ".,;:'\"":
            end -= 1
        elif last in balance and balance[last] > 0:
            balance[last] -= 1
            end -= 1
        else:
            break
    return doi[:end].lower()


def normalize_doi(value: Any) -> str:
    """"https://doi.org/10.1/X." -> "10.1/x"; "" when no DOI is found."""
    m = DOI.search(str(value)) if value is not None else None
    return trim_doi(m.group(0)) if m else ""


def arxiv_key(raw: str) -> str:
    return _ARXIV_VERSION.sub("", raw).lower()


def normalize_arxiv(value: Any) -> str:
    """An arXiv id, `arXiv:` id or arxiv.org URL -> the id without version, lower case."""
    if value is None or isinstance(value, bool):
        return ""
    text = str(value).strip()
    m = ARXIV_MARKED.search(text) or _ARXIV_ID.search(text)
    return arxiv_key(m.group(1)) if m else ""


_CITE_PREFIX = frozenset("([;")


def citekeys(masked: str) -> list[tuple[int, str]]:
    """(offset, key) of pandoc citations in text whose code and links are blanked."""
    found: list[tuple[int, str]] = []
    if "@" not in masked:
        return found
    for m in _CITATION.finditer(masked):
        at = m.start()
        before = at - 1
        if before >= 0 and masked[before] == "-":  # `[-@key]` suppresses the author
            before -= 1
        if before >= 0 and not (masked[before].isspace() or masked[before] in _CITE_PREFIX):
            continue  # e-mail address, handle in a URL, @ inside a word
        key = (m.group(1) or m.group(2)).strip()
        if key:
            found.append((at, key))
    return found


# frontmatter fields that list what the note cites (strings: "@key", "key", DOIs, arXiv ids)
REFERENCE_FIELDS = ("cites", "references", "citations")
REFERENCE_SPLIT = re.compile(r"[,;\s]+")


def classify_reference(item: str) -> tuple[str, str] | None:
    """A frontmatter `cites:` entry -> (kind, key): "@key", "key", a DOI or an arXiv id."""
    item = item.strip()
    if not item:
        return None
    if "10." in item and (doi := normalize_doi(item)):
        return "doi", doi
    m = ARXIV_MARKED.search(item) or _ARXIV_ID.fullmatch(item)
    if m:
        return "arxiv", arxiv_key(m.group(1))
    m = _CITEKEY_ONLY.fullmatch(item) if "://" not in item else None  # not a web address
    if m:
        return "citekey", m.group(1)
    return None
