"""Owns links: `[[wikilinks]]` and Markdown `[text](dest)` links found on masked text, and blanking
them.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from ..text import WIKILINK
from .markdown import blank_spans

# --------------------------------------------------------------------------------------------
# links
# --------------------------------------------------------------------------------------------

MDLINK = re.compile(
    r"\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]"  # [text], one level of [] inside
    r"\(\s*(?:<([^<>\n]*)>|((?:[^\s()]|\([^\s()]*\))+))"  # (<dest>) or (dest)
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"  # optional "title"
)
_SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")


def _split_wikilink(inner: str) -> tuple[str, str, str] | None:
    """"Note#Sub|shown" -> ("Note", "Sub", "shown"); None for an empty link."""
    target, bar, display = inner.partition("|")
    if bar and target.endswith("\\"):  # `[[Note\|shown]]` inside a table
        target = target[:-1]
    target, _, subpath = target.partition("#")
    target, subpath = target.strip(), subpath.strip()
    if not target and not subpath:
        return None
    return target, subpath, display.strip()


def _escaped(text: str, pos: int) -> bool:
    """True when the character at `pos` follows an odd number of backslashes."""
    n = 0
    while pos - n > 0 and text[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def link_matches(pattern: re.Pattern[str], masked: str) -> list[tuple[int, bool, re.Match[str]]]:
    """(start including a leading `!`, is_embed, match) for unescaped `[`-started links."""
    found = []
    for m in pattern.finditer(masked):
        start = m.start()
        embed = start > 0 and masked[start - 1] == "!" and not _escaped(masked, start - 1)
        if _escaped(masked, start):
            continue
        found.append((start - 1 if embed else start, embed, m))
    return found


def wikilinks(masked: str, text: str) -> list[tuple[int, int, bool, tuple[str, str, str]]]:
    """(start, end, embed, parts) of wikilinks in `masked`, parts read from the real `text`."""
    if "[[" not in masked:
        return []
    found = []
    for start, embed, m in link_matches(WIKILINK, masked):
        parts = _split_wikilink(text[m.start(1) : m.end(1)])
        if parts is not None:
            found.append((start, m.end(), embed, parts))
    return found


def markdown_links(masked: str, text: str) -> list[tuple[int, int, bool, tuple[str, str, str]]]:
    """Links to vault files written as `[text](dest)`; external URLs are skipped."""
    if "](" not in masked:
        return []
    found = []
    for start, embed, m in link_matches(MDLINK, masked):
        group = 2 if m.group(2) is not None else 3
        dest = text[m.start(group) : m.end(group)].strip()
        if not dest or _SCHEME.match(dest):
            continue
        dest, _, subpath = dest.partition("#")
        target, subpath = unquote(dest, errors="surrogateescape").strip(), unquote(subpath).strip()
        if not target and not subpath:
            continue
        display = text[m.start(1) : m.end(1)].strip()
        found.append((start, m.end(), embed, (target, subpath, display)))
    return found


def mask_links(masked: str) -> str:
    """Blank wikilinks and Markdown links (so tags/citekeys are not read inside them)."""
    for marker, pattern in (("[[", WIKILINK), ("](", MDLINK)):
        if marker in masked:
            spans = [(start, m.end()) for start, _, m in link_matches(pattern, masked)]
            masked = blank_spans(masked, spans)
    return masked
