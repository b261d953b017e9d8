"""PURE text -> Note: frontmatter, title, aliases, tags, links, citations, headings, block ids.

Everything here works on a string and returns data; nothing reads files. `parse_note` never
raises: problems in a note become `Diagnostic`s and the rest of the note is still indexed.

How the body is read, once per note:
  1. `mask_code` blanks code, math and comments (same length, same line breaks), so every
     later regex sees the same offsets as the real text and never matches inside them;
  2. wikilinks, then Markdown links are found on the masked text and blanked in turn, so
     tags and citekeys are never taken from inside a link;
  3. line numbers come from one bisect over the body's line-start offsets.

python-frontmatter is not imported: splitting the frontmatter ourselves gives the YAML's
offset in the file (for error line numbers), tolerates a BOM, and lets us guard the loader.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import yaml

from .models import Citation, Diagnostic, Heading, Link, Note, Paper
from .versions import PARSER_VERSION

__all__ = [
    "PARSER_VERSION",
    "decode",
    "drawing_text",
    "excalidraw_sections",
    "expand_tags",
    "find_inline_tags",
    "is_excalidraw",
    "mask_code",
    "normalize_arxiv",
    "normalize_doi",
    "parse_note",
    "render_inline",
    "strip_comments",
]


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # SAFE only: never python/object

MAX_FRONTMATTER_CHARS = 256 * 1024
MAX_FRONTMATTER_NODES = 100_000
MAX_FRONTMATTER_DEPTH = 100
# libyaml's composer recurses in C and segfaults the process somewhere between 20,000 and
# 40,000 nested collections (measured). Nesting can only get deep with many `[`, `{`, `-`, `?`
# characters, so above this count we first walk the (non-recursive) event stream.
_NESTING_SUSPECT_CHARS = 1000
_MAX_YAML_NESTING = 1000
CONTEXT_CHARS = 300
_BINARY_SNIFF_BYTES = 8192


# --------------------------------------------------------------------------------------------
# bytes -> text
# --------------------------------------------------------------------------------------------

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def decode(path: str, data: bytes) -> tuple[str, list[Diagnostic]]:
    """File bytes -> text with LF line ends, plus diagnostics ("" for a binary file).

    UTF-8 (BOM stripped), or UTF-16/32 when a BOM says so. NUL bytes in the first 8 KB of
    a file without a UTF-16/32 BOM mean binary. Undecodable bytes become U+FFFD.
    """
    codec = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            codec, data = name, data[len(bom) :]
            break
    if codec == "utf-8" and b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        return "", [Diagnostic(path, "binary file, not indexed")]
    try:
        return _newlines(data.decode(codec)), []
    except UnicodeDecodeError as exc:
        text = _newlines(data.decode(codec, errors="replace"))
        if codec == "utf-8":
            line = data.count(b"\n", 0, exc.start) + 1
        else:  # count the decoded line breaks before the bad unit
            line = _newlines(data[: exc.start].decode(codec, errors="replace")).count("\n") + 1
        label = codec.upper().removesuffix("-LE").removesuffix("-BE")
        message = f"not valid {label} (first bad byte on line {line}); replaced with U+FFFD"
        return text, [Diagnostic(path, message, line)]


# --------------------------------------------------------------------------------------------
# masking code, math and comments
# --------------------------------------------------------------------------------------------

# One left-to-right scanner for every construct that hides Markdown: whichever opener comes
# first wins, so a `%%` inside code is not a comment and a backtick inside a comment opens no
# code. Candidates are found with a one-character class (fast: the regex engine can skip
# ahead); what each one opens is decided in Python.
_MASK_CANDIDATE = re.compile(r"[\\`~$%<]")
_RUN = {"`": re.compile(r"`+"), "~": re.compile(r"~+")}
_FENCE_INDENT = re.compile(r"[ \t]*(?:>[ \t]*)*")  # indentation, also inside > quotes
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Inline math closes on a `$` not preceded by whitespace or `\` and not followed by a digit
# (pandoc's rule, which keeps "$5 and $6" as text).
_MATH_CLOSE = re.compile(r"\$(?<![\s\\]\$)(?!\d)")
_NOT_NL = re.compile(r"[^\n]")
_tick_closers: dict[int, re.Pattern[str]] = {}
_fence_closers: dict[tuple[str, int], re.Pattern[str]] = {}


def _tick_closer(n: int) -> re.Pattern[str]:
    """A run of exactly n backticks."""
    pat = _tick_closers.get(n)
    if pat is None:
        pat = _tick_closers[n] = re.compile(rf"`{{{n}}}(?!`)(?<!`{{{n + 1}}})")
    return pat


def _fence_closer(ch: str, n: int) -> re.Pattern[str]:
    """A line (searched from the preceding newline) closing a fence of n `ch` characters."""
    pat = _fence_closers.get((ch, n))
    if pat is None:
        fence = re.escape(ch) + "{%d,}" % n
        pat = re.compile(rf"\n[ \t]*(?:>[ \t]*)*{fence}[ \t]*(?=\n|\Z)")
        _fence_closers[(ch, n)] = pat
    return pat


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of code, math and comments, in order, not overlapping.

    Linear in the length of the text even for hostile input: the current line and paragraph
    are cached (positions only move forward), and a failed search for a closer is remembered.
    """
    spans: list[tuple[int, int]] = []
    size = len(text)
    line_start, line_end = 0, -1  # the line holding `start`
    para_end = -1  # the end of the paragraph holding `start`
    tick_fails: dict[int, int] = {}  # run length -> paragraph end with no closer of that length
    math_fails = -1  # line end before which no inline math can close
    pos = 0
    while True:
        m = _MASK_CANDIDATE.search(text, pos)
        if m is None:
            return spans
        start = m.start()
        ch = m.group()
        if ch == "\\":  # an escaped character is literal
            pos = start + (2 if text[start + 1 : start + 2] in _ASCII_PUNCT else 1)
            continue
        if start > line_end:
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", start)
            line_end = size if line_end < 0 else line_end
        if ch in "`~":
            run = _RUN[ch].match(text, start).end() - start
            fence = (
                run >= 3
                and _FENCE_INDENT.fullmatch(text, line_start, start) is not None
                # "```x```" on one line is inline code, not a fence (CommonMark)
                and not (ch == "`" and text.find("`", start + run, line_end) >= 0)
            )
            if fence:
                close = _fence_closer(ch, run).search(text, line_end) if line_end < size else None
                end = size if close is None else close.end()  # unclosed: code to the end
                spans.append((line_start, end))
                pos = end
                continue
            pos = start + run
            if ch == "~" or pos <= tick_fails.get(run, -1):
                continue
            # inline code: the next run of exactly as many backticks in the same paragraph
            if pos > para_end:
                blank = _BLANK_LINE.search(text, pos)
                para_end = blank.start() if blank else size
            close = _tick_closer(run).search(text, pos, para_end)
            if close is None:
                tick_fails[run] = para_end  # no closer of this length before para_end
            else:
                spans.append((start, close.end()))
                pos = close.end()
            continue
        if ch == "$":
            if text.startswith("$$", start):  # display math, may span lines
                close_at = text.find("$$", start + 2)
                if close_at < 0:
                    pos = start + 2
                else:
                    spans.append((start, close_at + 2))
                    pos = close_at + 2
                continue
            nxt = text[start + 1 : start + 2]
            close = None
            if nxt and not nxt.isspace() and start >= math_fails:  # inline math, on one line
                close = _MATH_CLOSE.search(text, start + 2, line_end)
                if close is None:
                    math_fails = line_end
            if close is None:
                pos = start + 1
            else:
                spans.append((start, close.end()))
                pos = close.end()
            continue
        if ch == "%":
            if not text.startswith("%%", start):
                pos = start + 1
                continue
            closer, opener_len = "%%", 2
        else:  # "<"
            if not text.startswith("<!--", start):
                pos = start + 1
                continue
            closer, opener_len = "-->", 4
        # comments: an unclosed one hides the rest of the note, as in Obsidian
        close_at = text.find(closer, start + opener_len)
        end = size if close_at < 0 else close_at + len(closer)
        spans.append((start, end))
        pos = end


def _blank_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with every span's characters replaced by spaces, line breaks kept."""
    parts: list[str] = []
    prev = 0
    for start, end in spans:
        if start < prev:  # overlapping spans: only blank what is left
            start = prev
        if end <= start:
            continue
        parts.append(text[prev:start])
        segment = text[start:end]
        parts.append(_NOT_NL.sub(" ", segment) if "\n" in segment else " " * len(segment))
        prev = end
    if not parts:
        return text
    parts.append(text[prev:])
    return "".join(parts)


def mask_code(text: str) -> str:
    """Fenced and inline code, math, `%% comments %%` and `<!-- -->` replaced by spaces.

    The result has the same length and the same line breaks as `text`, so offsets and line
    numbers found in it are valid in the original.
    """
    return _blank_spans(text, _code_spans(text))


def strip_comments(text: str) -> str:
    """`text` without its `%% comments %%` and `<!-- -->` (a `%%` inside code is kept).

    Obsidian shows neither in reading view; an unclosed comment runs to the end of the note.
    A comment's line breaks are kept, so the lines around it stay apart.
    """
    if "%%" not in text and "<!--" not in text:
        return text
    parts: list[str] = []
    prev = 0
    for start, end in _code_spans(text):
        if text.startswith(("%%", "<!--"), start):
            parts.append(text[prev:start])
            parts.append("\n" * text.count("\n", start, end))
            prev = end
    parts.append(text[prev:])
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# tags
# --------------------------------------------------------------------------------------------

# A tag starts with `#` at line start or after whitespace; its body excludes whitespace and
# ASCII punctuation except `_ - /`. Unicode punctuation is cut off in `_clean_inline_tag`.
# (Patterns below start with a literal character so that the regex engine can skip ahead;
# conditions on the character before a match are lookbehinds placed after that literal.)
_TAG = re.compile(r"#(?<!\S#)([^\s!-,.:-@\[-^`{-~]+)")


def _clean_inline_tag(raw: str) -> str:
    if not raw.isascii():
        for i, ch in enumerate(raw):
            if ch not in "_-/" and unicodedata.category(ch).startswith("P"):
                raw = raw[:i]
                break
    return raw.rstrip("/")


def _is_tag(tag: str) -> bool:
    """At least one character that is not a digit (`#1984` is not a tag)."""
    return bool(tag) and not tag.isdigit()


def _tags_in(masked: str) -> list[tuple[str, int]]:
    """(tag as written, offset) in text whose code and links are already blanked."""
    found = []
    if "#" not in masked:
        return found
    for m in _TAG.finditer(masked):
        tag = _clean_inline_tag(m.group(1))
        if _is_tag(tag):
            found.append((tag, m.start()))
    return found


def find_inline_tags(text: str) -> list[tuple[str, int]]:
    """Inline `#tags` of a note body as (tag without `#`, 1-based line), case as written.

    Follows Obsidian's grammar; skips code, math, comments, escaped `\\#` and link text.
    """
    try:
        masked = _mask_links(mask_code(text))
        starts = _line_starts(text)
        return [(tag, bisect.bisect_right(starts, off)) for tag, off in _tags_in(masked)]
    except Exception:  # noqa: BLE001 - a helper for other modules must not crash them either
        return []


def expand_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Lower-case tags with the parents of nested ones: "ml/vision" -> ("ml", "ml/vision")."""
    out: set[str] = set()
    for tag in tags:
        parts = [p for p in str(tag).strip().lstrip("#").lower().split("/") if p]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return tuple(sorted(out))


_FM_TAG_SPLIT = re.compile(r"[,\s]+")


def _frontmatter_tags(value: Any) -> list[str]:
    """Frontmatter `tags`: a list, or a string split on commas and spaces; `#` optional."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    tags = []
    for item in items:
        if item is None or isinstance(item, (dict, list, bool)):
            continue
        for part in _FM_TAG_SPLIT.split(str(item)):
            tag = part.strip().removeprefix("#").rstrip("/")
            if _is_tag(tag):
                tags.append(tag)
    return tags


# --------------------------------------------------------------------------------------------
# links
# --------------------------------------------------------------------------------------------

# `[[...]]` on one line; single `[` or `]` may appear inside (Obsidian headings like
# "[2020-06] Title" are link subpaths in real vaults), `[[` may not.
_WIKILINK = re.compile(r"\[\[((?:[^\[\]\n]|\[(?!\[)|\](?!\]))*)\]\]")
_MDLINK = re.compile(
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


def _link_matches(pattern: re.Pattern[str], masked: str) -> list[tuple[int, bool, re.Match[str]]]:
    """(start including a leading `!`, is_embed, match) for unescaped `[`-started links."""
    found = []
    for m in pattern.finditer(masked):
        start = m.start()
        embed = start > 0 and masked[start - 1] == "!" and not _escaped(masked, start - 1)
        if _escaped(masked, start):
            continue
        found.append((start - 1 if embed else start, embed, m))
    return found


def _wikilinks(masked: str, text: str) -> list[tuple[int, int, bool, tuple[str, str, str]]]:
    """(start, end, embed, parts) of wikilinks in `masked`, parts read from the real `text`."""
    if "[[" not in masked:
        return []
    found = []
    for start, embed, m in _link_matches(_WIKILINK, masked):
        parts = _split_wikilink(text[m.start(1) : m.end(1)])
        if parts is not None:
            found.append((start, m.end(), embed, parts))
    return found


def _markdown_links(masked: str, text: str) -> list[tuple[int, int, bool, tuple[str, str, str]]]:
    """Links to vault files written as `[text](dest)`; external URLs are skipped."""
    if "](" not in masked:
        return []
    found = []
    for start, embed, m in _link_matches(_MDLINK, masked):
        group = 2 if m.group(2) is not None else 3
        dest = text[m.start(group) : m.end(group)].strip()
        if not dest or _SCHEME.match(dest):
            continue
        dest, _, subpath = dest.partition("#")
        target, subpath = unquote(dest).strip(), unquote(subpath).strip()
        if not target and not subpath:
            continue
        display = text[m.start(1) : m.end(1)].strip()
        found.append((start, m.end(), embed, (target, subpath, display)))
    return found


def _mask_links(masked: str) -> str:
    """Blank wikilinks and Markdown links (so tags/citekeys are not read inside them)."""
    for marker, pattern in (("[[", _WIKILINK), ("](", _MDLINK)):
        if marker in masked:
            spans = [(start, m.end()) for start, _, m in _link_matches(pattern, masked)]
            masked = _blank_spans(masked, spans)
    return masked


# --------------------------------------------------------------------------------------------
# citations
# --------------------------------------------------------------------------------------------

# pandoc citekey: starts with a letter, digit or `_`; internal punctuation :.#$%&-+?<>~/ is
# allowed, trailing punctuation is not part of the key. `@{...}` allows anything but braces.
_CITEKEY = r"\w+(?:[:.#$%&\-+?<>~/]+\w+)*"
# `@` after start, whitespace, `(`, `[` or `;` (or `-@` to suppress the author; checked in
# `_citekeys`): covers `[@a]`, `[see @a, p. 3; @b]`, `[-@a]` and bare `@a`, not `a@b.com`.
_CITATION = re.compile(rf"@(?:\{{([^{{}}\n]+)\}}|({_CITEKEY}))")
_CITEKEY_ONLY = re.compile(rf"@?({_CITEKEY})")
# a DOI runs to whitespace, a quote, `<>|` or a backtick; `](` ends it too ([doi](url))
_DOI = re.compile(r"10\.(?<![\w.]10\.)\d{4,9}(?:\.\d+)*/(?:[^\s\"<>|`\]]|\](?!\())+")
_ARXIV_NEW = r"\d{4}\.\d{4,5}(?:v\d+)?"
_ARXIV_OLD = r"[a-z][a-z-]*(?:\.[a-z]{2})?/\d{7}(?:v\d+)?"
# Only clearly marked ids: `arXiv:2206.14486` or an arxiv.org URL (a bare 2206.14486 in text
# could be anything).
_ARXIV_MARKED = re.compile(
    rf"(?:\barxiv:[ \t]?|arxiv\.org/(?:abs|pdf|html|format)/)({_ARXIV_NEW}|{_ARXIV_OLD})(?!\d)",
    re.I,
)
_ARXIV_ID = re.compile(rf"(?<![\w.])({_ARXIV_NEW}|{_ARXIV_OLD})(?!\d)", re.I)
_ARXIV_VERSION = re.compile(r"v\d+$", re.I)
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _trim_doi(doi: str) -> str:
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
    m = _DOI.search(str(value)) if value is not None else None
    return _trim_doi(m.group(0)) if m else ""


def _arxiv_key(raw: str) -> str:
    return _ARXIV_VERSION.sub("", raw).lower()


def normalize_arxiv(value: Any) -> str:
    """An arXiv id, `arXiv:` id or arxiv.org URL -> the id without version, lower case."""
    if value is None or isinstance(value, bool):
        return ""
    text = str(value).strip()
    m = _ARXIV_MARKED.search(text) or _ARXIV_ID.search(text)
    return _arxiv_key(m.group(1)) if m else ""


_CITE_PREFIX = frozenset("([;")


def _citekeys(masked: str) -> list[tuple[int, str]]:
    """(offset, key) of pandoc citations in text whose code and links are blanked."""
    found = []
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
_REFERENCE_FIELDS = ("cites", "references", "citations")
_REFERENCE_SPLIT = re.compile(r"[,;\s]+")


def _classify_reference(item: str) -> tuple[str, str] | None:
    """A frontmatter `cites:` entry -> (kind, key): "@key", "key", a DOI or an arXiv id."""
    item = item.strip()
    if not item:
        return None
    if "10." in item and (doi := normalize_doi(item)):
        return "doi", doi
    m = _ARXIV_MARKED.search(item) or _ARXIV_ID.fullmatch(item)
    if m:
        return "arxiv", _arxiv_key(m.group(1))
    m = _CITEKEY_ONLY.fullmatch(item) if "://" not in item else None  # not a web address
    if m:
        return "citekey", m.group(1)
    return None


# --------------------------------------------------------------------------------------------
# headings and block ids
# --------------------------------------------------------------------------------------------

# Both are searched in "\n" + text, so that the first line starts with a newline too.
_HEADING = re.compile(r"\n[ \t]{0,3}(#{1,6})(?=[ \t\n]|\Z)")
# Obsidian block id: `^id` alone on a line or after a space at the end of a line.
_BLOCK_ID = re.compile(r"\^(?<=[ \t\n]\^)([A-Za-z0-9-]+)[ \t]*(?=\n|\Z)")


def _heading_text(raw: str) -> str:
    """The text after the `#`s, without an optional closing run of `#` ("## A ##" -> "A")."""
    text = raw.strip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip()
    return text


# --------------------------------------------------------------------------------------------
# frontmatter
# --------------------------------------------------------------------------------------------

_FM_OPEN = re.compile(r"---[ \t]*(?:\n|$)")
_FM_CLOSE = re.compile(r"\n(?:---|\.\.\.)[ \t]*(?=\n|\Z)")


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    pass


def _split_frontmatter(text: str) -> tuple[str | None, str, int]:
    """(YAML text or None, body, number of file lines before the body)."""
    m = _FM_OPEN.match(text)
    if m is None:
        return None, text, 0
    close = _FM_CLOSE.search(text, m.end() - 1) if text[m.end() - 1 : m.end()] == "\n" else None
    if close is None:
        raise ValueError("unclosed")
    yaml_text = text[m.end() : close.start() + 1]
    body_start = close.end() + 1 if close.end() < len(text) else len(text)
    return yaml_text, text[body_start:], yaml_text.count("\n") + 2


def _yaml_too_deep(yaml_text: str) -> bool:
    """True when collections nest deeper than we let the C composer recurse."""
    suspects = sum(yaml_text.count(ch) for ch in "[{-?")
    if suspects < _NESTING_SUSPECT_CHARS:
        return False  # depth is bounded by these characters plus indentation
    depth = 0
    try:
        for event in yaml.parse(yaml_text, Loader=_Loader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > _MAX_YAML_NESTING:
                    return True  # stop early: libyaml gets slow at depth
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        # A syntax error is reported by the real load, with its line; but libyaml 0.2.5 (PyYAML
        # 6.0.3+ wheels) also stops at a nesting limit of its own, which is "too deep" too.
        return "nesting depth" in str(getattr(exc, "problem", "") or "")
    return False


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (_dt.date, _dt.datetime)):
        return key.isoformat()
    return str(key)


_DROP = object()  # marks a value to leave out (YAML !!binary)


def _to_json(value: Any, budget: list[int], depth: int = 0) -> Any:
    """YAML data -> JSON-serialisable data; bytes are dropped (returned as _DROP)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if depth > MAX_FRONTMATTER_DEPTH:
        raise _TooDeep
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (_dt.date, _dt.datetime)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return _DROP
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, (bytes, bytearray)):
                continue
            item = _to_json(v, budget, depth + 1)
            if item is not _DROP:
                out[_json_key(k)] = item
        return out
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=repr)  # a stable order for YAML `!!set`
    if isinstance(value, (list, tuple)):
        items = (_to_json(v, budget, depth + 1) for v in value)
        return [item for item in items if item is not _DROP]
    return str(value)


def _load_frontmatter(path: str, yaml_text: str, diags: list[Diagnostic]) -> dict[str, Any]:
    """Parse the YAML between the `---` lines; {} with a diagnostic when it cannot be used."""
    if len(yaml_text) > MAX_FRONTMATTER_CHARS:  # also bounds the work of the checks below
        diags.append(Diagnostic(path, "frontmatter too large (over 256 KB), ignored", 1, "error"))
        return {}
    if _yaml_too_deep(yaml_text):
        diags.append(Diagnostic(path, "frontmatter nested too deeply, ignored", 1, "error"))
        return {}
    try:
        data = yaml.load(yaml_text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        last = yaml_text.count("\n") + 2  # the closing `---`
        line = min(mark.line + 2, last) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        diags.append(
            Diagnostic(path, f"invalid YAML in frontmatter, ignored: {problem}", line, "error")
        )
        return {}
    except Exception as exc:  # noqa: BLE001 - constructors raise ValueError etc. (2024-13-45)
        diags.append(Diagnostic(path, f"frontmatter cannot be read, ignored: {exc}", 1, "error"))
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        diags.append(Diagnostic(path, f"frontmatter is {kind}, not key: value pairs; ignored", 1))
        return {}
    try:
        return _to_json(data, [MAX_FRONTMATTER_NODES])
    except _TooLarge:
        message = "frontmatter too large (too many values), ignored"
        diags.append(Diagnostic(path, message, 1, "error"))
    except (_TooDeep, RecursionError):
        diags.append(Diagnostic(path, "frontmatter nested too deeply, ignored", 1, "error"))
    return {}


def _strings(value: Any) -> Iterable[str]:
    """Every string in a JSON-like value, in document order (dict keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


class _LineFinder:
    """Finds the frontmatter line where a token appears, in document order.

    Tokens are indexed once per frontmatter (so a note with many values stays linear); a
    repeated token maps to its successive lines.
    """

    def __init__(self, yaml_text: str, tokens: re.Pattern[str]):
        self.lines = yaml_text.split("\n")
        self.where: dict[str, list[int]] = {}
        for i, line in enumerate(self.lines):
            for token in tokens.findall(line):
                self.where.setdefault(token, []).append(i)
        self.cursor = 0

    def find(self, needle: str) -> tuple[int, str] | None:
        """(1-based file line, that line) of the next line holding `needle`, if any."""
        rows = self.where.get(needle)
        if not rows:
            return None
        i = bisect.bisect_left(rows, self.cursor)
        row = rows[i] if i < len(rows) else rows[0]
        self.cursor = row
        return row + 2, self.lines[row]  # +1 for 1-based, +1 for the opening `---`


_WIKILINK_TOKEN = re.compile(r"\[\[(?:[^\[\]\n]|\[(?!\[)|\](?!\]))*\]\]")
_REFERENCE_TOKEN = re.compile(r"[^\s,;'\"\[\]]+")


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


def _string_list(value: Any) -> list[str]:
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


def _paper(fm: dict[str, Any], yaml_text: str, path: str, diags: list[Diagnostic]) -> Paper:
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
    if url and not arxiv and (m := _ARXIV_MARKED.search(url)):
        arxiv = _arxiv_key(m.group(1))
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


def _with_header_ids(paper: Paper, ids: dict[str, str]) -> Paper:
    """The paper with the header's ids filled in where the frontmatter left a field empty."""
    fields = ("doi", "arxiv", "url", "citekey")
    changes = {f: ids[f] for f in fields if ids.get(f) and not getattr(paper, f)}
    return replace(paper, **changes) if changes else paper


# --------------------------------------------------------------------------------------------
# titles: frontmatter `title`, else a leading H1, else the file name (rendered to plain text)
# --------------------------------------------------------------------------------------------

_INLINE_CODE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_INLINE_EMBED = re.compile(r"!\[\[[^\[\]\n]*\]\]|!\[[^\]\n]*\]\([^)\n]*\)")
_INLINE_WIKI = re.compile(r"\[\[([^\[\]\n]*)\]\]")
_INLINE_MD = re.compile(r"\[([^\[\]\n]*)\]\([^)\n]*\)")
# a pair of marks around text: `***x***`, `**x**`, `*x*`, `==x==`, `~~x~~`; underscores only
# at word boundaries (`snake_case_name` keeps its underscores)
_INLINE_EMPHASIS = re.compile(
    r"(\*{1,3}|==|~~)(?=\S)(.+?)(?<=\S)\1|(?<![^\W_])(_{1,3})(?=\S)(.+?)(?<=\S)\3(?![^\W_])"
)
_INLINE_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESCAPED = 0xE000  # escaped ASCII marks are carried as private-use characters meanwhile
_DOUBLE_BRACKETS = re.compile(r"\[{2,}|\]{2,}")
_ESCAPED_CHARS = re.compile("[\ue021-\ue07e]")
# template placeholders: Templater `<% ... %>`, core templates and Zotero `{{ ... }}`
_PLACEHOLDER = re.compile(r"<%.*?%>|\{\{.*?\}\}")


def _wiki_text(m: re.Match[str]) -> str:
    inner = m.group(1).replace("\\|", "|")
    target, bar, shown = inner.partition("|")
    if bar and shown.strip():
        return shown.strip()
    note, _, sub = target.partition("#")
    sub = sub.lstrip("^").replace("#", " > ").strip()
    note = note.strip()
    return f"{note} > {sub}" if note and sub else note or sub


def _render_plain(text: str) -> str:
    """Links, embeds, emphasis and escapes of one line -> the text a reader sees."""
    text = _INLINE_EMBED.sub("", text)
    text = _INLINE_WIKI.sub(_wiki_text, text)
    text = _INLINE_MD.sub(r"\1", text)
    for _ in range(3):  # nested marks: ***x***, **_x_**
        text, n = _INLINE_EMPHASIS.subn(lambda m: m.group(2) or m.group(4), text)
        if not n:
            break
    # the brackets of a broken link (or an escaped one) are not worth showing as link syntax
    return _DOUBLE_BRACKETS.sub(lambda m: m.group()[0], _unescape(text))


def _unescape(text: str, backslash: str = "") -> str:
    return _ESCAPED_CHARS.sub(lambda m: backslash + chr(ord(m.group()) - _ESCAPED), text)


def render_inline(text: str) -> str:
    """A heading or title written in Markdown -> plain text, on one line.

    `An Introduction to [[dataview|Dataview]]` -> `An Introduction to Dataview`; `[[a]]` -> `a`;
    `*x*`, `**x**`, `_x_`, `` `x` `` -> `x`; `[t](url)` -> `t`; embeds are dropped. Code
    spans keep their text as written.
    """
    if "\\" in text:  # an escaped mark is literal: hide it from the patterns until the end
        text = _INLINE_ESCAPE.sub(lambda m: chr(_ESCAPED + ord(m.group(1))), text)
    parts: list[str] = []
    pos = 0
    if "`" in text:
        for m in _INLINE_CODE.finditer(text):
            parts.append(_render_plain(text[pos : m.start()]))
            parts.append(_unescape(m.group(2), "\\"))  # in code a backslash is literal
            pos = m.end()
    parts.append(_render_plain(text[pos:]))
    return " ".join("".join(parts).split())


def _is_placeholder(text: str) -> bool:
    """A template's `{{title}}` or `<% tp.file.title %>`: nothing but placeholders."""
    return bool(_PLACEHOLDER.search(text)) and not _PLACEHOLDER.sub("", text).strip(" \t-:|")


def _top_h1(body: str, headings: list[Heading], first_line: int) -> Heading | None:
    """The H1 on the body's first non-blank line, if that line is one."""
    m = re.search(r"\S", body)
    if m is None or not headings:
        return None
    line = body.count("\n", 0, m.start()) + 1 + first_line
    first = headings[0]
    return first if first.line == line and first.level == 1 else None


def _is_title_h1(top: Heading | None, headings: list[Heading]) -> bool:
    """A leading H1 names the note only when it is the note's one H1: a note whose sections
    are H1s (`# Concepts` ... `# Reference`) has no title heading."""
    return top is not None and sum(h.level == 1 for h in headings) == 1


def _title(raw_title: Any, lead: Heading | None, stem: str) -> str:
    """Frontmatter `title` (a property: plain text, kept as written), else the leading H1
    rendered to its text, else the file name; never empty."""
    if isinstance(raw_title, (str, int, float)) and not isinstance(raw_title, bool):
        title = str(raw_title).strip()
        if title:
            return title
    if lead is not None and not _is_placeholder(lead.text):
        title = render_inline(lead.text)
        if title:
            return title
    return stem


# --------------------------------------------------------------------------------------------
# Excalidraw drawings: only the text a reader sees on the drawing is the note's text
# --------------------------------------------------------------------------------------------

EXCALIDRAW_SUFFIX = ".excalidraw.md"
# The section headings the Excalidraw plugin writes (`# Text Elements` in old files, under
# `# Excalidraw Data` in new ones); a `%%` line hides what follows (the drawing) from Obsidian.
_EXCALIDRAW_SECTION = re.compile(
    r"^[ \t]{0,3}#{1,6}[ \t]+(text elements|element links|embedded files|drawing|excalidraw data)"
    r"[ \t#]*$|^[ \t]*%%[ \t]*$",
    re.I | re.M,
)
# sections whose links Obsidian reads (they are outside the `%%` comment): the text on the
# drawing, links set on elements, and the embedded images
_EXCALIDRAW_LINKED = frozenset({"text elements", "element links", "embedded files"})
_EXCALIDRAW_BLOCK_ID = re.compile(r"[ \t]*\^[A-Za-z0-9-]+[ \t]*$", re.M)


def is_excalidraw(path: str, frontmatter: dict[str, Any]) -> bool:
    """A drawing of the Excalidraw plugin: named `*.excalidraw.md` or marked in frontmatter."""
    return path.lower().endswith(EXCALIDRAW_SUFFIX) or any(
        str(key).lower() == "excalidraw-plugin" for key in frontmatter
    )


def excalidraw_sections(body: str) -> tuple[str, str]:
    """(text for links and tags, text elements for search) of a drawing's body.

    The first keeps offsets and line breaks (everything else is blanked); the second is the
    `Text Elements` section alone, without the block ids the plugin puts after each element.
    The drawing JSON (`## Drawing`, `json` or `compressed-json` blocks) is in neither.
    """
    keep: list[tuple[int, int]] = []
    text_parts: list[str] = []
    marks = list(_EXCALIDRAW_SECTION.finditer(body))
    for i, m in enumerate(marks):
        name = (m.group(1) or "").lower()
        if name not in _EXCALIDRAW_LINKED:
            continue
        start = m.end()
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        keep.append((start, end))
        if name == "text elements":
            text_parts.append(_EXCALIDRAW_BLOCK_ID.sub("", body[start:end]).strip("\n"))
    blanks, prev = [], 0
    for start, end in keep:
        blanks.append((prev, start))
        prev = end
    blanks.append((prev, len(body)))
    return _blank_spans(body, blanks), "\n\n".join(p for p in text_parts if p.strip())


def drawing_text(body: str) -> str | None:
    """The text elements of a body laid out as an Excalidraw drawing, else None.

    For callers that have the text but not the path (snippets): a `Text Elements` section
    together with a `Drawing` section or the plugin's "Switch to EXCALIDRAW VIEW" banner.
    """
    names = {(m.group(1) or "").lower() for m in _EXCALIDRAW_SECTION.finditer(body)}
    if "text elements" not in names or not ("drawing" in names or "EXCALIDRAW VIEW" in body[:2000]):
        return None
    return excalidraw_sections(body)[1]


def _excalidraw_stem(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    if base.lower().endswith(EXCALIDRAW_SUFFIX):
        return base[: -len(EXCALIDRAW_SUFFIX)] or base
    return _stem(path)


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


def _header_lines(masked: str, headings: list[Heading], top: Heading | None, offset: int):
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


def _header_identity(masked: str, spans: list[tuple[int, int, str]]) -> dict[str, str]:
    """The first DOI, arXiv id, URL and citekey written on the identity lines."""
    ids: dict[str, str] = {}
    for start, end, key in spans:
        line = masked[start:end]
        if "doi" not in ids and (m := _DOI.search(line)):
            ids["doi"] = _trim_doi(m.group(0))
        if "arxiv" not in ids and (m := _ARXIV_MARKED.search(line)):
            ids["arxiv"] = _arxiv_key(m.group(1))
        if "url" not in ids and key in _URL_KEYS and (m := _URL_IN.search(line)):
            ids["url"] = m.group(0).rstrip(".,;")
        if "citekey" not in ids and key in ("citekey", "citation key", "citationkey"):
            meta = _META_LINE.match(line)
            value = meta.group("value").strip() if meta else ""
            if (cm := _CITEKEY_VALUE.match(value)) and cm.group(1):
                ids["citekey"] = cm.group(1)
    return ids


# --------------------------------------------------------------------------------------------
# the note
# --------------------------------------------------------------------------------------------


def _stem(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    return base[:-3] if base.lower().endswith(".md") else base


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


def _context(line_text: str) -> str:
    line_text = line_text.strip()
    return line_text if len(line_text) <= CONTEXT_CHARS else line_text[: CONTEXT_CHARS - 1] + "…"


class _Body:
    """The body's lines and offsets, for 1-based file line numbers and context."""

    def __init__(self, body: str, first_line: int):
        self.text = body
        self.starts = _line_starts(body)
        self.offset = first_line  # file lines before the body

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) + self.offset

    def context(self, pos: int) -> str:
        i = bisect.bisect_right(self.starts, pos) - 1
        end = self.starts[i + 1] - 1 if i + 1 < len(self.starts) else len(self.text)
        return _context(self.text[self.starts[i] : end])


def parse_note(path: str, text: str) -> Note:
    """One note's text -> Note. Pure, and never raises: problems become diagnostics."""
    try:
        return _parse_note(path, text)
    except Exception as exc:  # noqa: BLE001 - last resort, so one odd note never stops a sync
        return Note(
            path=path,
            title=_stem(str(path)),
            body=text if isinstance(text, str) else "",
            diagnostics=(Diagnostic(str(path), f"internal parser error: {exc!r}", None, "error"),),
        )


def _parse_note(path: str, text: str) -> Note:
    diags: list[Diagnostic] = []
    text = _newlines(text).removeprefix("\ufeff")

    # -- frontmatter
    fm: dict[str, Any] = {}
    yaml_text = ""
    try:
        raw_yaml, body, first_line = _split_frontmatter(text)
    except ValueError:
        raw_yaml, body, first_line = None, text, 0
        diags.append(Diagnostic(path, "frontmatter has no closing '---' line; read as text", 1))
    if raw_yaml is not None:
        yaml_text = raw_yaml
        fm = _load_frontmatter(path, raw_yaml, diags)
    low = {}
    for key, value in fm.items():
        low.setdefault(key.lower(), value)  # property names are matched case-insensitively

    # -- a drawing is read from its text elements only (offsets kept, the rest blanked)
    drawing = is_excalidraw(path, low)
    indexed_body = body
    if drawing:
        body, indexed_body = excalidraw_sections(body)

    # -- body: mask once, then every regex runs on text with the same offsets
    lines = _Body(body, first_line)
    masked = mask_code(body)

    headings = []
    if "#" in masked:
        for m in _HEADING.finditer("\n" + masked):  # offsets below are shifted by one
            # the text comes from the real line: masked code in a heading is still its text
            after_hashes = m.end(1) - 1
            line_end = body.find("\n", after_hashes)
            raw = body[after_hashes : line_end if line_end >= 0 else len(body)]
            heading_text = _heading_text(raw)
            headings.append(Heading(len(m.group(1)), heading_text, lines.line(m.start())))

    block_ids: dict[str, None] = {}
    if "^" in masked:
        for m in _BLOCK_ID.finditer("\n" + masked):
            block_ids.setdefault(m.group(1), None)

    # -- links: frontmatter first (it comes first in the file), then the body in order
    links: list[Link] = []
    finder = _LineFinder(yaml_text, _WIKILINK_TOKEN) if yaml_text else None
    for value in _strings(fm):
        if "[[" not in value:
            continue
        for start, end, embed, (target, subpath, display) in _wikilinks(value, value):
            where = finder.find(value[start + (1 if embed else 0) : end]) if finder else None
            line, ctx = (where[0], _context(where[1])) if where else (1, _context(value))
            kind = "embed" if embed else "link"
            links.append(Link(target, kind, subpath, display, line, ctx, "frontmatter"))

    wikis = _wikilinks(masked, body)
    unlinked = _blank_spans(masked, [(s, e) for s, e, _, _ in wikis]) if wikis else masked
    mds = _markdown_links(unlinked, body)
    body_links = [(s, e, emb, parts, "wiki") for s, e, emb, parts in wikis]
    body_links += [(s, e, emb, parts, "markdown") for s, e, emb, parts in mds]
    body_links.sort(key=lambda item: item[0])
    for start, _, embed, (target, subpath, display), form in body_links:
        kind = "embed" if embed else "link"
        line, ctx = lines.line(start), lines.context(start)
        links.append(Link(target, kind, subpath, display, line, ctx, form))
    if "](" in unlinked:  # external links too: no tags or citekeys inside any link
        spans = [(s, m.end()) for s, _, m in _link_matches(_MDLINK, unlinked)]
        unlinked = _blank_spans(unlinked, spans)

    # -- tags: frontmatter, then inline
    tags = _frontmatter_tags(low.get("tags")) + _frontmatter_tags(low.get("tag"))
    tags.extend(tag for tag, _ in _tags_in(unlinked))
    all_tags = expand_tags(tags)

    # -- the note's own paper: frontmatter first, then the identity lines a template writes
    # at its top; what those lines name is the note itself
    top = _top_h1(body, headings, first_line)
    paper = _paper(low, yaml_text, path, diags)
    header = [] if drawing else _header_lines(masked, headings, top, first_line)
    if header:
        paper = _with_header_ids(paper, _header_identity(masked, header))

    # -- citations: frontmatter reference lists, then the body in order; never the note's own
    # ids, nor anything on its identity lines
    citations: list[Citation] = []
    seen = {("doi", paper.doi), ("arxiv", paper.arxiv), ("citekey", paper.citekey.casefold())}

    def cite(kind: str, key: str, line: int, ctx: str) -> None:
        if is_new(kind, key):
            citations.append(Citation(key, kind, line, ctx))

    def is_new(kind: str, key: str) -> bool:
        folded = key.casefold() if kind == "citekey" else key
        if not key or (kind, folded) in seen:
            return False
        seen.add((kind, folded))
        return True

    finder = _LineFinder(yaml_text, _REFERENCE_TOKEN) if yaml_text else None
    for field_name in _REFERENCE_FIELDS:
        value = low.get(field_name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str) or "[[" in item:  # wikilinks there are links
                continue
            for piece in _REFERENCE_SPLIT.split(item):
                ref = _classify_reference(piece)
                if ref is None:
                    continue
                where = finder.find(piece) if finder else None
                line, ctx = (where[0], _context(where[1])) if where else (1, _context(item))
                cite(ref[0], ref[1], line, ctx)

    found: list[tuple[int, str, str]] = [(pos, "citekey", key) for pos, key in _citekeys(unlinked)]
    if "10." in masked:
        for m in _DOI.finditer(masked):
            found.append((m.start(), "doi", _trim_doi(m.group(0))))
    if "xiv" in masked or "Xiv" in masked or "XIV" in masked:  # arxiv, arXiv, ArXiv, ARXIV
        for m in _ARXIV_MARKED.finditer(masked):
            found.append((m.start(), "arxiv", _arxiv_key(m.group(1))))
    found.sort(key=lambda item: item[0])
    header_starts = [start for start, _, _ in header]
    for pos, kind, key in found:
        i = bisect.bisect_right(header_starts, pos)
        if (not i or pos >= header[i - 1][1]) and is_new(kind, key):  # not on an identity line
            citations.append(Citation(key, kind, lines.line(pos), lines.context(pos)))

    # -- title, aliases
    stem = (_excalidraw_stem(path) if drawing else _stem(path)) or path
    lead = top if not drawing and _is_title_h1(top, headings) else None  # a drawing: its name
    title = _title(low.get("title"), lead, stem)
    aliases = _string_list(low.get("aliases")) + _string_list(low.get("alias"))
    aliases = list(dict.fromkeys(aliases))

    return Note(
        path=path,
        title=title,
        aliases=tuple(aliases),
        tags=all_tags,
        links=tuple(links),
        citations=tuple(citations),
        headings=tuple(headings),
        block_ids=tuple(block_ids),
        paper=paper,
        frontmatter=fm,
        body=indexed_body,
        diagnostics=tuple(diags),
    )
