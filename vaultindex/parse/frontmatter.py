r"""Owns a note's frontmatter: the `---` split, the guarded safe YAML load through python-
frontmatter's handler, line offsets, and writing frontmatter.

python-frontmatter does the work it is made for through its handler API: `GuardedYAMLHandler`
is a `YAMLHandler` whose detect/split/load/export the note reader and `dump_frontmatter` call
(and `frontmatter.parse(text, handler=HANDLER)` gives the same data, guards included). What
stays ours, measured with python-frontmatter 1.3.0 (tests/test_parse_frontmatter.py holds each):
  - `frontmatter.parse` strips the text and the body (`---\na: 1\n---\n\n\nbody` -> "body"),
    so body offsets and every line number after the frontmatter would be off: we call the
    handler's split ourselves and keep the body as written;
  - its boundary `^-{3,}\s*$` opens on `----` and on a `---` after a leading blank line (which
    `parse` strips away), and does not close on `...`; Obsidian opens only on a first line
    `---` and YAML allows `...` to close: detect/split use text.split_frontmatter;
  - its loader is a bare `yaml.load(CSafeLoader)`: dates stay `datetime.date` (not JSON),
    a non-mapping is silently dropped, and there is no size or depth guard (libyaml's composer
    segfaults past ~20,000 nested collections): load is `_guarded_load`;
  - a BOM hides its frontmatter too: the caller strips the BOM (note.py), as before.
Parse speed on a 400-word note is unchanged by this (see the issue 15 report for figures).
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
import re
from collections.abc import Iterable
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from ..models import Diagnostic
from ..text import FM_OPEN, split_frontmatter

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # SAFE only: never python/object

MAX_FRONTMATTER_CHARS = 256 * 1024
MAX_FRONTMATTER_NODES = 100_000
MAX_FRONTMATTER_DEPTH = 100
# libyaml's composer recurses in C and segfaults the process somewhere between 20,000 and
# 40,000 nested collections (measured). Nesting can only get deep with many `[`, `{`, `-`, `?`
# characters, so above this count we first walk the (non-recursive) event stream.
_NESTING_SUSPECT_CHARS = 1000
_MAX_YAML_NESTING = 1000
class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    pass


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


class FrontmatterProblem(ValueError):
    """Frontmatter that cannot be used: the message for a diagnostic, its file line, severity."""

    def __init__(self, message: str, line: int = 1, severity: str = "error"):
        super().__init__(message)
        self.message, self.line, self.severity = message, line, severity


# The common frontmatter, read without YAML's (Python) constructor: `key: value` lines whose
# value is empty, a decimal integer, a plain ASCII string that starts with a letter (or a DOI),
# a quoted one without escapes, or a flow list of such values. What YAML 1.1 would read otherwise (yes/no/on/off, null, ~) is left to YAML.
_FLAT_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,127}):(?: +(.*))?")
_FLAT_INT = re.compile(r"[1-9][0-9]{0,17}|0")
_FLAT_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*(?: +[A-Za-z0-9_./-]+)*")
# A DOI (10.1234/x.2016.5): no number or date YAML reads holds a `/`.
_FLAT_PATH = re.compile(r"[0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_./-]*")
# A quoted string of printable ASCII without escapes (arxiv: "2206.14486").
_FLAT_QUOTED = re.compile(r"\"([ !#-\[\]-~]*)\"|'([ -&(-~]*)'")
_YAML_WORDS = frozenset(
    w for base in ("yes", "no", "true", "false", "on", "off", "null") for w in (base, base.title(), base.upper())
)
_FLAT_MAX_CHARS = 8192


def _flat_value(text: str) -> Any:
    """A scalar as YAML reads it, or _DROP when it is not one _flat_load knows."""
    if _FLAT_INT.fullmatch(text):
        return int(text)
    if (_FLAT_WORD.fullmatch(text) and text not in _YAML_WORDS) or _FLAT_PATH.fullmatch(text):
        return text
    quoted = _FLAT_QUOTED.fullmatch(text)
    if quoted is not None:
        return quoted.group(1) if quoted.group(2) is None else quoted.group(2)
    return _DROP


def _flat_load(yaml_text: str) -> dict[str, Any] | None:
    """The data of flat frontmatter (see _FLAT_LINE), exactly as the YAML load gives it; None
    for anything else (tests/test_frontmatter_flat.py compares the two)."""
    if len(yaml_text) > _FLAT_MAX_CHARS or not yaml_text.isascii() or "\t" in yaml_text:
        return None
    data: dict[str, Any] = {}
    for line in yaml_text.split("\n"):
        if not line.strip(" "):
            continue
        m = _FLAT_LINE.fullmatch(line)
        if m is None:
            return None
        key, text = m.group(1), (m.group(2) or "").rstrip(" ")
        if key in _YAML_WORDS:
            return None
        value: Any
        if not text:
            value = None
        elif text[0] == "[" and text[-1] == "]":
            inner = text[1:-1]
            value = [_flat_value(item.strip(" ")) for item in inner.split(",")] if inner.strip(" ") else []
            if _DROP in value:
                return None
        else:
            value = _flat_value(text)
            if value is _DROP:
                return None
        data[key] = value
    return data or None


def _guarded_load(yaml_text: str) -> dict[str, Any]:
    """The YAML between the `---` lines -> JSON-ready data ({} when empty).

    Raises FrontmatterProblem when it cannot be used: too large, nested too deeply, invalid
    YAML (with the file line of the error), or not a mapping.
    """
    flat = _flat_load(yaml_text)
    if flat is not None:
        return flat
    if len(yaml_text) > MAX_FRONTMATTER_CHARS:  # also bounds the work of the checks below
        raise FrontmatterProblem("frontmatter too large (over 256 KB), ignored")
    if _yaml_too_deep(yaml_text):
        raise FrontmatterProblem("frontmatter nested too deeply, ignored")
    try:
        data = yaml.load(yaml_text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        last = yaml_text.count("\n") + 2  # the closing `---`
        line = min(mark.line + 2, last) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FrontmatterProblem(f"invalid YAML in frontmatter, ignored: {problem}", line) from None
    except Exception as exc:  # noqa: BLE001 - constructors raise ValueError etc. (2024-13-45)
        raise FrontmatterProblem(f"frontmatter cannot be read, ignored: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise FrontmatterProblem(f"frontmatter is {kind}, not key: value pairs; ignored", 1, "warning")
    try:
        return _to_json(data, [MAX_FRONTMATTER_NODES])
    except _TooLarge:
        raise FrontmatterProblem("frontmatter too large (too many values), ignored") from None
    except (_TooDeep, RecursionError):
        raise FrontmatterProblem("frontmatter nested too deeply, ignored") from None


class GuardedYAMLHandler(YAMLHandler):
    """python-frontmatter's YAML handler with Obsidian's boundaries and our guarded loader.

    detect/split use text.split_frontmatter (see the module docstring for why not the
    library's FM_BOUNDARY); load is the guarded CSafeLoader load; export is the library's
    SafeDumper export, in the caller's key order and without line wrapping.
    """

    FM_BOUNDARY = FM_OPEN  # what detect() looks for: the opening line

    def detect(self, text: str) -> bool:
        return FM_OPEN.match(text) is not None

    def split(self, text: str) -> tuple[str, str]:
        """(YAML text, body); ValueError when there is no frontmatter or it is not closed."""
        yaml_text, body, _ = split_frontmatter(text)
        if yaml_text is None:
            raise ValueError("no frontmatter")
        return yaml_text, body

    def load(self, fm: str, **kwargs: object) -> dict[str, Any]:
        return _guarded_load(fm)

    def export(self, metadata: dict[str, object], **kwargs: object) -> str:
        # Not the library's own export, for two measured reasons: its libyaml dumper writes
        # characters outside the BMP as "\U00010400" escapes (tag pages write them as they are),
        # and it str.strip()s the YAML, which eats a last value's trailing Unicode spaces (a
        # value of only U+00A0 or U+3000 read back as null; found by hypothesis).
        options: dict[str, Any] = {"Dumper": yaml.SafeDumper, "default_flow_style": False,
                                   "allow_unicode": True, "sort_keys": False, "width": 1000, **kwargs}
        return yaml.dump(metadata, **options).removesuffix("\n")


HANDLER = GuardedYAMLHandler()


def read_frontmatter(path: str, text: str, diags: list[Diagnostic]) -> tuple[dict[str, Any], str, str, int]:
    """A note's text (LF line ends, no BOM) -> (data, YAML text, body, file lines before the
    body), through the handler. Problems become diagnostics and give {} (an unclosed `---`:
    the whole text is the body)."""
    if not HANDLER.detect(text):
        return {}, "", text, 0
    try:
        yaml_text, body = HANDLER.split(text)
    except ValueError:
        diags.append(Diagnostic(path, "frontmatter has no closing '---' line; read as text", 1))
        return {}, "", text, 0
    first_line = yaml_text.count("\n") + 2
    try:
        data = HANDLER.load(yaml_text)
    except FrontmatterProblem as problem:
        diags.append(Diagnostic(path, problem.message, problem.line, problem.severity))
        data = {}
    return data, yaml_text, body, first_line


def load_yaml(yaml_text: str) -> Any:
    """YAML text -> its data as written (dates stay dates), with the same safe loader as notes'
    frontmatter; for files vaultindex reads back that it wrote (tag pages). ValueError when the
    text is not YAML it can read."""
    try:
        return yaml.load(yaml_text, Loader=_Loader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"not readable YAML: {exc}") from None


def dump_frontmatter(mapping: dict[str, Any]) -> str:
    """`key: value` lines (no `---` lines, ending in a newline; "" for no keys) that read back
    as `mapping`, written by python-frontmatter's handler in the mapping's key order. The same
    text as `yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True,
    default_flow_style=False, width=1000)`, which tag pages wrote before."""
    return HANDLER.export(dict(mapping)) + "\n" if mapping else ""


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
            for m in tokens.finditer(line):
                token = m.group()
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


REFERENCE_TOKEN = re.compile(r"[^\s,;'\"\[\]]+")
