"""BibTeX/BibLaTeX (`*.bib`) text -> BibEntry values and diagnostics: the one module that imports
bibtexparser, on first use: split.py reads the plain blocks itself (five times faster) and this
module hands bibtexparser the rest (a broken entry, a comment block), so its rules and messages
decide those."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..models import BibEntry, Diagnostic
from . import split
from .fields import MONTH_NAMES, MONTHS, entry_from_fields

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
        elif name in MONTHS:
            out.append(MONTH_NAMES[MONTHS.index(name)])
        else:
            unknown.append(text)
            out.append(text)
    return "".join(out)


def _quiet_bibtexparser() -> ModuleType:
    import bibtexparser

    log = logging.getLogger("bibtexparser")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        # Its warnings about broken blocks become our diagnostics; never print them twice.
        log.addHandler(logging.NullHandler())
        log.propagate = False
    return bibtexparser


@dataclass(frozen=True, slots=True)
class _Failure:
    line: int  # 0-based, as the blocks'
    message: str
    severity: str = "error"


def _parse_chunk(bibtexparser: ModuleType, text: str, chunk: split.Chunk) -> list[split.Block | _Failure]:
    """A chunk the fast splitter left, through bibtexparser: its blocks as the fast splitter's,
    its broken blocks as failures (its own reasons), lines counted from the chunk's. The next
    block's start mark follows the chunk, so that a block left open ends there as it would in
    the whole file (that mark's own block, always the last one, is dropped)."""
    piece = text[chunk.start : chunk.end] + chunk.head
    blocks = list(bibtexparser.parse_string(piece, parse_stack=[]).blocks)
    if chunk.head and blocks:
        blocks.pop()
    out: list[split.Block | _Failure] = []
    for block in blocks:
        kind = type(block).__name__
        if kind in ("DuplicateBlockKeyBlock", "DuplicateFieldKeyBlock"):
            block = block.ignore_error_block  # duplicates are found over the whole file, below
            kind = type(block).__name__
        line = chunk.line + (block.start_line or 0)
        if kind == "String":
            out.append(split.Block("string", line, "string", block.key, (), block.value))
        elif kind == "Entry":
            fields = tuple((str(f.key), str(f.value)) for f in block.fields)
            out.append(split.Block("entry", line, str(block.entry_type), block.key, fields))
        elif kind in ("ParsingFailedBlock", "MiddlewareErrorBlock"):
            out.append(_Failure(line, _failure_message(block)))
    return out


def _blocks(text: str) -> list[split.Block | _Failure]:
    """The file's blocks in order: the plain ones read by the fast splitter, the rest by
    bibtexparser (imported only when a file has such a chunk)."""
    out: list[split.Block | _Failure] = []
    left: list[split.Chunk] = []  # chunks in a row go to bibtexparser together (one call)
    for item in [*split.chunks(text), None]:
        if isinstance(item, split.Chunk):
            left.append(item)
            continue
        if left:
            out.extend(_parse_chunks(text, left))
            left = []
        if item is not None:
            out.append(item)
    return out


def _parse_chunks(text: str, chunks: list[split.Chunk]) -> list[split.Block | _Failure]:
    """Chunks in a row through bibtexparser, in one call; when it raises (a bug of its own on
    odd input), each chunk alone, so that such a chunk costs only itself."""
    bibtexparser = _quiet_bibtexparser()
    first, last = chunks[0], chunks[-1]
    try:
        return _parse_chunk(bibtexparser, text, split.Chunk(first.start, last.end, first.line, last.head))
    except Exception as exc:  # noqa: BLE001 - found again below, chunk by chunk
        if len(chunks) == 1:
            return [_Failure(first.line, f"cannot be parsed ({type(exc).__name__}), skipped")]
    out: list[split.Block | _Failure] = []
    for chunk in chunks:
        try:
            out.extend(_parse_chunk(bibtexparser, text, chunk))
        except Exception as exc:  # noqa: BLE001
            out.append(_Failure(chunk.line, f"cannot be parsed ({type(exc).__name__}), skipped"))
    return out


def _failure_message(block: Any) -> str:
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", "") or (str(error) if error else "")
    reason = " ".join(str(reason).split())
    return f"broken entry, skipped: {reason}" if reason else "broken entry, skipped"


def parse_bibtex(text: str, path: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """A .bib file's text -> its entries and diagnostics (each with `path` and a 1-based line).

    Never raises. `@string` macros (and `#` concatenation, and the month macros) are expanded,
    entries are read in file order, a broken entry is reported and skipped, every other entry is
    still read. Duplicate keys are reported as bibtexparser reports them (an entry with a field
    given twice does not count as the first of its key there), then as ours. Crossref is not
    applied here (a parent may live in another file): see `read`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    diagnostics: list[Diagnostic] = []
    n_lines = text.count("\n") + 1

    def line_of(block: split.Block | _Failure) -> int:
        return min(max(1, block.line + 1), n_lines)

    try:
        blocks = _blocks(text)
    except Exception as exc:  # noqa: BLE001 - the file is unreadable
        return [], [Diagnostic(path, f"cannot be parsed: {type(exc).__name__}", 1, "error")]
    macros: dict[str, str] = {}
    entries: list[BibEntry] = []
    strings: set[str] = set()  # bibtexparser's duplicate rules: exact keys, per kind
    registered: set[str] = set()
    seen: set[str] = set()
    for block in blocks:
        line = line_of(block)
        if isinstance(block, _Failure):
            diagnostics.append(Diagnostic(path, block.message, line, block.severity))
            continue
        if block.kind == "string":
            if block.key in strings:
                diagnostics.append(Diagnostic(path, _duplicate(block.key), line))
                continue
            strings.add(block.key)
            unknown: list[str] = []
            macros[block.key.lower()] = _expand(block.value, macros, unknown)
            for name in unknown:
                diagnostics.append(Diagnostic(path, f"@string {block.key}: undefined macro {name!r}", line))
            continue
        twice = _fields_given_twice(block.fields)
        if twice:
            diagnostics.append(Diagnostic(path, f"{block.key}: {twice} given twice; the first value is used", line))
        elif block.key in registered:
            diagnostics.append(Diagnostic(path, _duplicate(block.key), line))
            continue
        else:
            registered.add(block.key)
        key = block.key.strip()
        if not key:
            diagnostics.append(Diagnostic(path, f"@{block.type} entry without a key, skipped", line, "error"))
            continue
        if key in seen:  # what bibtexparser's rule lets through (an entry with a field twice)
            diagnostics.append(Diagnostic(path, _duplicate(key), line))
            continue
        seen.add(key)
        fields: dict[str, str] = {}
        unknown = []
        for name, value in block.fields:
            name = name.strip().lower()
            if name and name not in fields:
                fields[name] = _expand(value, macros, unknown)
        for name in unknown:
            diagnostics.append(Diagnostic(path, f"{key}: undefined @string macro {name!r}", line))
        entry, problems = entry_from_fields(key, block.type, fields, path, line)
        diagnostics.extend(Diagnostic(path, f"{key}: {p}", line) for p in problems)
        entries.append(entry)
    return entries, diagnostics


def _duplicate(key: str) -> str:
    return f'duplicate key "{key}" in this file; the first entry is used'


def _fields_given_twice(fields: tuple[tuple[str, str], ...]) -> str:
    """The names (lower case, sorted, comma-separated) of fields whose exact name comes twice."""
    names = [name for name, _ in fields]
    if len(set(names)) == len(names):
        return ""
    return ", ".join(sorted({n.lower() for n in names if names.count(n) > 1}))
