"""A fast splitter of `.bib` text into blocks, exact where it answers and silent where it cannot.

bibtexparser 2.x's splitter steps through the text one mark at a time in Python (every brace,
quote, comma, `=` and newline): about 65 marks an entry, most of the time of a large read. Here
each field value is matched whole by one regular expression (braces nested up to `_DEPTH` deep,
quotes, `#` concatenation), so the regex engine does the scanning.

The rules are bibtexparser's own, so that both give the same blocks, keys, values and lines:
  - a line whose first non-space text is `@word{` (or `@word(`) starts a block, wherever it is:
    it ends any block still open. The text is cut into chunks there, and each chunk is read
    alone, here or (`Chunk`) by bibtexparser;
  - a `{`, `}`, `"`, `,` or newline right after a backslash is an ordinary character (`\\{`);
  - inside quotes, braces and commas are ordinary, and `{"}` is a quote character;
  - inside braces, quotes are ordinary; a value ends at a `,` or `}` outside both;
  - a line is counted at each newline that does not follow a backslash.
A chunk is read here only when it is one `@string` or entry of this plain shape, with nothing
after it but text without `@`; anything else (a comment or preamble block, an entry in
parentheses, an unclosed brace, a key with a backslash, braces nested deeper) is handed back
whole as a `Chunk`, for bibtexparser to read with its own rules and messages.
tests/test_bib.py holds the two equal on generated text (hypothesis)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_DEPTH = 8  # brace nesting read here; deeper goes to bibtexparser


def _braced(depth: int) -> str:
    """A `{...}` group whose braces nest at most `depth` deep (quotes are ordinary inside)."""
    inner = r"[^{}\\]++|\\[{}]?"
    group = r"\{(?:" + inner + r")*+\}"
    for _ in range(depth - 1):
        group = r"\{(?:" + inner + "|" + group + r")*+\}"
    return group


_BRACED = _braced(_DEPTH)
_QUOTED = r'"(?:\{"\}|[^"\\{]++|\{|\\"?)*+"'
# A field value: text, braced groups and quoted strings, up to a `,` or `}` outside them.
_VALUE = re.compile(r'(?:[^{}",\\]++|\\[{}",]?|' + _BRACED + "|" + _QUOTED + r")*+")
# The text of a @string block up to its closing `}` (quotes are ordinary there).
_STRING_VALUE = re.compile(r"(?:[^{}\\]++|\\[{}]?|" + _BRACED + r")*+")
_NAME = r'[^{}",=@\\]*+'  # a key or field name with no mark in it
_HEAD = re.compile(r"\{(" + _NAME + "),")
# One field and what follows its value (`,` or the entry's `}`), or the `}` after a last comma.
_FIELD = re.compile(r"\s*+(\})|(" + _NAME + ")=(" + _VALUE.pattern + r")([,}])")
_STRING_HEAD = re.compile(r"\{(" + _NAME + ")=")
# A block start as bibtexparser's splitter sees one (its `_BLOCK_START`) ...
_BLOCK_START = re.compile(r"@\w*[ \t]*(?=[{(])")
# ... and one at the start of a line, which no open block survives.
_LINE_START_BLOCK = re.compile(r"\n[^\S\n]*+(@\w*[ \t]*)(?=[{(])")  # (the last newline: no backtracking)
_FIRST_BLOCK = re.compile(r"\s*(@\w*[ \t]*)(?=[{(])")  # the same on the first line


@dataclass(frozen=True, slots=True)
class Block:
    """An entry (`kind` "entry") or a macro definition ("string"), as bibtexparser's splitter
    gives them: `type` lower case, `key` and each field's name and value stripped, raw values
    (braces and quotes kept), `line` 0-based."""

    kind: str
    line: int
    type: str
    key: str
    fields: tuple[tuple[str, str], ...] = ()
    value: str = ""  # a @string's raw value


@dataclass(frozen=True, slots=True)
class Chunk:
    """Text this splitter does not read: `text[start:end]`, starting at 0-based line `line`.
    `end` is where the next block starts (or the end); `head` is that block's start mark, which
    ends any block still open in the chunk."""

    start: int
    end: int
    line: int
    head: str = ""


def chunks(text: str) -> Iterator[Block | Chunk]:
    """`text` (newlines already "\\n") -> its blocks in order, and the chunks left to bibtexparser."""
    starts = [m.start(1) for m in _LINE_START_BLOCK.finditer(text)]
    lead = _FIRST_BLOCK.match(text)
    if lead and not (starts and starts[0] == lead.start(1)):
        starts.insert(0, lead.start(1))
    # line numbers of the chunk starts, counted as bibtexparser counts them
    lines, line, before = [], 0, 0
    for start in starts:
        line += text.count("\n", before, start) - text.count("\\\n", before, start)
        lines.append(line)
        before = start
    if not starts or starts[0] > 0:
        first = starts[0] if starts else len(text)
        if _BLOCK_START.search(text, 0, first):  # a block in the middle of a line before any other
            yield Chunk(0, first, 0, _head(text, first))
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(text)
        block = _read(text, start, end, lines[n])
        yield Chunk(start, end, lines[n], _head(text, end)) if block is None else block


def _head(text: str, start: int) -> str:
    """The block start mark at `start` with its `{` or `(` ("" at the end of the text)."""
    mark = _BLOCK_START.match(text, start)
    return mark.group() + text[mark.end()] if mark else ""


def _read(text: str, start: int, end: int, line: int) -> Block | None:
    """The one block of `text[start:end]` in the plain shape, or None."""
    mark = _BLOCK_START.match(text, start, end)
    if mark is None:
        return None
    name = mark.group().lower()
    pos = mark.end()
    if name.startswith("@string"):
        head = _STRING_HEAD.match(text, pos, end)
        if head is None:
            return None
        value = _STRING_VALUE.match(text, head.end(), end)
        pos = value.end()  # type: ignore[union-attr]  # a `*` pattern always matches
        if pos >= end or text[pos] != "}" or not _tail_is_plain(text, pos + 1, end):
            return None
        return Block("string", line, name[1:].strip(), head.group(1).strip(), (), text[head.end() : pos].strip())
    if name.startswith(("@comment", "@preamble")):
        return None
    head = _HEAD.match(text, pos, end)
    if head is None:
        return None
    fields: list[tuple[str, str]] = []
    pos = head.end()
    while True:
        field = _FIELD.match(text, pos, end)
        if field is None:  # an unclosed or too deeply nested group, a name with a mark in it
            return None
        pos = field.end()
        if field.group(1) is None:
            fields.append((field.group(2).strip(), field.group(3).strip()))
            if field.group(4) == ",":
                continue
        if not _tail_is_plain(text, pos, end):
            return None
        return Block("entry", line, name[1:].strip(), head.group(1).strip(), tuple(fields))


def _tail_is_plain(text: str, start: int, end: int) -> bool:
    """Between a block's end and the next chunk: text with no block start in it."""
    return "@" not in text[start:end] or _BLOCK_START.search(text, start, end) is None
