"""Owns a note's frontmatter: the `---` split, the guarded safe YAML load through python-
frontmatter's handler, line offsets, and writing frontmatter.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
import re
from collections.abc import Iterable
from typing import Any

import yaml

from ..models import Diagnostic

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # SAFE only: never python/object

MAX_FRONTMATTER_CHARS = 256 * 1024
MAX_FRONTMATTER_NODES = 100_000
MAX_FRONTMATTER_DEPTH = 100
# libyaml's composer recurses in C and segfaults the process somewhere between 20,000 and
# 40,000 nested collections (measured). Nesting can only get deep with many `[`, `{`, `-`, `?`
# characters, so above this count we first walk the (non-recursive) event stream.
_NESTING_SUSPECT_CHARS = 1000
_MAX_YAML_NESTING = 1000
# --------------------------------------------------------------------------------------------
# frontmatter
# --------------------------------------------------------------------------------------------

_FM_OPEN = re.compile(r"---[ \t]*(?:\n|$)")
_FM_CLOSE = re.compile(r"\n(?:---|\.\.\.)[ \t]*(?=\n|\Z)")


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    pass


def split_frontmatter(text: str) -> tuple[str | None, str, int]:
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


def load_frontmatter(path: str, yaml_text: str, diags: list[Diagnostic]) -> dict[str, Any]:
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


def strings(value: Any) -> Iterable[str]:
    """Every string in a JSON-like value, in document order (dict keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


class LineFinder:
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


WIKILINK_TOKEN = re.compile(r"\[\[(?:[^\[\]\n]|\[(?!\[)|\](?!\]))*\]\]")
REFERENCE_TOKEN = re.compile(r"[^\s,;'\"\[\]]+")
