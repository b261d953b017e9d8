"""Small text rules shared by every layer: how a path or a note's text is shown to a person or
written as JSON when it holds bytes that are not UTF-8 or characters a terminal would obey.

Paths are `str` as the OS hands them over (`os.fsdecode`): a byte that is not UTF-8 arrives as a
lone surrogate U+DC80..U+DCFF and goes back to the same byte with `os.fsencode`.
"""

from __future__ import annotations

import os
import re
from typing import Any

# C0 controls but tab, DEL, C1 controls, and the surrogates that stand for undecodable bytes.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
# What makes git put a path in quotes (core.quotePath=false): controls, quote, backslash, bad bytes.
_NEEDS_QUOTES = re.compile('[\x00-\x1f\x7f-\x9f"\\\\\ud800-\udfff]')
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
              '"': '\\"', "\\": "\\\\"}


def has_bad_bytes(text: str) -> bool:
    """True when `text` holds a byte that is not UTF-8 (a surrogate from os.fsdecode)."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


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


def escape_controls(text: str) -> str:
    """Text from a note made safe for a terminal: control characters (ESC, BEL, CR, C1...) and
    undecodable bytes become visible `\\xNN` escapes, so a note can never move the cursor, set
    the clipboard (OSC 52) or clear the screen. Tabs are kept; use quote_path for paths."""
    if not _UNSAFE.search(text):
        return text

    def visible(m: re.Match[str]) -> str:
        ch = m.group()
        if "\udc80" <= ch <= "\udcff":
            return f"\\x{ord(ch) - 0xDC00:02x}"
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
