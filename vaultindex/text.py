"""Small text rules shared by every layer: how a path or a note's text is shown to a person or
written as JSON when it holds bytes that are not UTF-8 or characters a terminal would obey.

It is also the one home of the small reading rules more than one module needs: how a name is
folded for comparison (`nfc`, `fold_name`, `fold_typed`: see "Folding" for why three), which
pages vaultindex generated (`is_generated`), where a note's frontmatter starts and ends
(`split_frontmatter`), and the `[[wikilink]]` pattern (`WIKILINK`).

Paths are `str` as the OS hands them over (`os.fsdecode`): a byte that is not UTF-8 arrives as a
lone surrogate U+DC80..U+DCFF and goes back to the same byte with `os.fsencode`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# C0 controls but tab, DEL, C1 controls, and the surrogates that stand for undecodable bytes.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
# What makes git put a path in quotes (core.quotePath=false): controls, quote, backslash, bad bytes.
_NEEDS_QUOTES = re.compile('[\x00-\x1f\x7f-\x9f"\\\\\ud800-\udfff]')
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSAFE_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # what name_shown escapes
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
              '"': '\\"', "\\": "\\\\"}


def has_bad_bytes(text: str) -> bool:
    """True when `text` holds a byte that is not UTF-8 (a surrogate from os.fsdecode)."""
    return not text.isascii() and _SURROGATE.search(text) is not None  # (C loops: --json checks every string)


def _octal(ch: str) -> str:
    try:
        data = ch.encode("utf-8", "surrogateescape")  # an undecodable byte: that byte
    except UnicodeEncodeError:
        data = ch.encode("utf-8", "surrogatepass")
    return "".join(f"\\{b:03o}" for b in data)


def quote_path(path: str) -> str:
    """A path as git prints it with core.quotePath=false: unchanged when it is plain, else in
    double quotes with C escapes and octal bytes (`"bad-\\377.md"`, `"two\\nlines.md"`).
    Lossless: a quoted form always starts with `"`, and a plain path never does."""
    if not _NEEDS_QUOTES.search(path):
        return path
    return '"' + _NEEDS_QUOTES.sub(lambda m: _C_ESCAPES.get(m.group()) or _octal(m.group()), path) + '"'


def unquote_path(text: str) -> str:
    """The inverse of quote_path."""
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        return text
    raw = bytearray()
    body = text[1:-1]
    reverse = {v[1]: k for k, v in _C_ESCAPES.items()}
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in reverse:
                raw += reverse[nxt].encode()
                i += 2
                continue
            if re.fullmatch("[0-7]{3}", body[i + 1:i + 4]):
                raw.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
        raw += ch.encode("utf-8", "surrogateescape")
        i += 1
    return os.fsdecode(bytes(raw))


def name_shown(text: str) -> str:
    """`text` (a title taken from a file name) with each byte that is not UTF-8 and each control
    character written as quote_path writes them (`\\377`, `\\n`, `\\t`, `\\033`), and nothing
    else changed: the title of `bad-\\377.md` is `bad-\\377`, valid UTF-8 for the index, JSON
    and a terminal, read the same way as the path beside it (`"bad-\\377.md"`)."""
    if not _UNSAFE_NAME.search(text):
        return text
    return _UNSAFE_NAME.sub(lambda m: _C_ESCAPES.get(m.group()) or _octal(m.group()), text)


def escape_controls(text: str) -> str:
    """Text from a note made safe for a terminal: control characters (ESC, BEL, CR, C1...)
    become visible `\\xNN` escapes, so a note can never move the cursor, set the clipboard
    (OSC 52) or clear the screen; an undecodable byte is written `\\377`, as quote_path writes
    it in a path. Tabs are kept; use quote_path for paths."""
    if not _UNSAFE.search(text):
        return text

    def visible(m: re.Match[str]) -> str:
        ch = m.group()
        if "\udc80" <= ch <= "\udcff":
            return _octal(ch)
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"

    return _UNSAFE.sub(visible, text)


def json_safe(value: Any) -> Any:
    """JSON-ready data whose strings are all valid UTF-8: a string holding undecodable bytes (a
    path or a title taken from a file name) is written in quote_path's lossless quoted form;
    every other string keeps its exact text, control characters included (JSON escapes them)."""
    if isinstance(value, str):
        return quote_path(value) if has_bad_bytes(value) else value
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# reading rules shared by the parser, the resolver, tag pages and the graph
# --------------------------------------------------------------------------------------------


# Folding. Names are compared in three ways, each for a reason:
#   nfc        Unicode NFC only (case kept): a name as a person reads it, where the case is part
#              of the answer (mentions keep the spelling; doctor tells a case mismatch apart).
#   fold_name  NFC, case-folded, NFC again: how Obsidian (and a case-insensitive file system)
#              compares file names, link targets and paths. Whitespace counts, since `a .md`
#              and `a.md` are two files.
#   fold_typed fold_name of the text with surrounding whitespace dropped: what a person typed or
#              wrote as a value (a title, an alias, a tag filter, a heading asked for), where
#              spaces around it are never meant.
# (newnote.py's placeholder names are looser still, `{{Cite Key}}` == `{{citekey}}`: that is a
# template rule, not a name comparison, and stays there.)


def nfc(text: str) -> str:
    """`text` in Unicode NFC (ASCII, always NFC, is returned as is)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def fold_name(text: str) -> str:
    """A name as Obsidian compares names: case-folded and Unicode NFC, so `Über.md` written
    decomposed, `ÜBER` and `über` are one name. NFC is applied again after case-folding,
    which can un-normalize (`"\u0130".casefold()`). Whitespace is kept. A path folds part by
    part the same way (`/` is untouched by both steps)."""
    if text.isascii():
        return text.lower()  # ASCII casefold is lower(), and ASCII is always NFC
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def fold_typed(text: str) -> str:
    """Text a person typed or wrote as a value, folded for comparison: `fold_name` without the
    surrounding whitespace (` LoRA ` finds the note titled `LoRA`)."""
    return fold_name(text.strip())


# Pages vaultindex writes itself (tag pages) say so in their frontmatter: `generated_by: vaultindex`.
GENERATED_KEY = "generated_by"
GENERATED_BY = "vaultindex"


def is_generated(frontmatter: object) -> bool:
    """Whether a note's frontmatter (a mapping, or anything else read from a file) marks it as
    a page vaultindex wrote: such pages are kept out of search, tag counts and the graph."""
    value = frontmatter.get(GENERATED_KEY) if isinstance(frontmatter, Mapping) else None
    return isinstance(value, str) and value.strip().lower() == GENERATED_BY


# Frontmatter, as Obsidian reads it: `---` (spaces or tabs may follow) as the very first line,
# closed by the next line that is `---` or `...`. The YAML between keeps its line breaks.
FM_OPEN = re.compile(r"---[ \t]*(?:\n|$)")
FM_CLOSE = re.compile(r"\n(?:---|\.\.\.)[ \t]*(?=\n|\Z)")


def split_frontmatter(text: str) -> tuple[str | None, str, int]:
    """(YAML text or None when there is no frontmatter, body, number of file lines before the
    body). Raises ValueError when the opening `---` has no closing line. `text` has LF line
    ends and no BOM; the body is returned unstripped, so its offsets are the file's."""
    m = FM_OPEN.match(text)
    if m is None:
        return None, text, 0
    close = FM_CLOSE.search(text, m.end() - 1) if text[m.end() - 1 : m.end()] == "\n" else None
    if close is None:
        raise ValueError("frontmatter has no closing '---' line")
    yaml_text = text[m.end() : close.start() + 1]
    body_start = close.end() + 1 if close.end() < len(text) else len(text)
    return yaml_text, text[body_start:], yaml_text.count("\n") + 2


# `[[...]]` on one line; single `[` or `]` may appear inside (Obsidian headings like
# "[2020-06] Title" are link subpaths in real vaults), `[[` may not. WIKILINK_TEXT is the inside
# (for patterns built on it, such as an embed's `![[...]]`); WIKILINK's group 1 holds it.
WIKILINK_TEXT = r"(?:[^\[\]\n]|\[(?!\[)|\](?!\]))*"
WIKILINK = re.compile(rf"\[\[({WIKILINK_TEXT})\]\]")


# Math in a title (`$\pi^{*}_{0.6}$: A VLA That Learns From Experience`, as Zotero and real
# BibTeX files write it) read as text, for the places a title becomes a name or a label: file
# names (`vaultindex new`) and tag pages' link text. Obsidian shows a file name and a link's
# text as typed, never as math, so `$`, braces and `^`/`_` would show as noise.
# A span is pandoc's: `$` followed by a non-space, closed by a `$` after a non-space and not
# before a digit (`$5 and $6` is no math); `\(...\)` too.
_MATH = re.compile(r"\$(?=\S)((?:[^$\\]|\\.)+?)(?<=\S)\$(?!\d)|\\\((.+?)\\\)")
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma "
          "tau upsilon phi chi psi omega").split()
_TEX_SYMBOLS = {
    **{name: chr(0x3B1 + i + (i >= 17)) for i, name in enumerate(_GREEK)},  # (U+03C2 is final sigma)
    **{name.capitalize(): chr(0x391 + i + (i >= 17)) for i, name in enumerate(_GREEK)},
    "varepsilon": "ε", "vartheta": "ϑ", "varphi": "φ", "ell": "ℓ", "infty": "∞", "times": "×", "cdot": "·",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "approx": "≈", "to": "→", "rightarrow": "→",
    "pm": "±", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "in": "∈", "ast": "*", "star": "*",
}
_TEX_STYLES = frozenset({"mathcal", "mathrm", "mathbf", "mathit", "mathbb", "mathsf", "text", "textrm", "textbf",
                         "operatorname", "boldsymbol", "left", "right", "big", "Big"})  # wrappers: the argument stays
_TEX_COMMAND = re.compile(r"\\([A-Za-z]+)(\s*)|\\(.)")


def math_as_text(text: str) -> str:
    """`text` with each math span read as plain text: delimiters, braces and the `^` `_` of
    super- and subscripts dropped, TeX commands as their symbol (`\\pi` -> π, `\\leq` -> ≤) or
    their name (`\\mathcal{O}` -> O, `\\log` -> log). `$π^{*}_{0.6}$: A VLA` -> `π*0.6: A VLA`.
    Text outside math is unchanged; text without `$` or `\\(` is returned as is."""
    if "$" not in text and "\\(" not in text:
        return text

    def command(m: re.Match[str]) -> str:
        name, space = m.group(1), " " if m.group(2) else ""
        if name is None:
            return " " if m.group(3) in ",;: " else "" if m.group(3) == "!" else m.group(3)  # spacing; `\{` -> {
        symbol = _TEX_SYMBOLS.get(name)
        if symbol is not None:
            return symbol + space
        return "" if name in _TEX_STYLES else name + space

    def plain(m: re.Match[str]) -> str:
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        inner = _TEX_COMMAND.sub(command, inner)
        return " ".join(re.sub(r"[{}^_]", "", inner).split())

    return _MATH.sub(plain, text)
