"""BibTeX/BibLaTeX (`*.bib`) text -> BibEntry values and diagnostics: the one module that imports
bibtexparser (on first use)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..models import BibEntry, Diagnostic
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


