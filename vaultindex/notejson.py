"""Owns the notes' JSON: a Note to JSON text and back, built generically from the dataclass
fields (frontmatter dates and bytes tagged), so that the store holds no executable data.

A note's links, citations and headings are rows of their own (store.py's `links` and
`headings`, written beside the JSON in the same transaction), so the JSON leaves them out and
the reader takes them from the rows (`RowParts`): the same text twice made up half the store.
They stay in the JSON of a note whose link or heading text the rows cannot hold as it is
(a lone surrogate, which the rows store as U+FFFD)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as _dt
import json
import types
import typing
from typing import Any

from .models import Citation, Heading, Link, Note

# The Note fields the link and heading rows hold (see the module's docstring).
ROW_FIELDS = ("links", "citations", "headings")
# (links, citations, headings) of one note, as read back from its rows.
RowParts = tuple[tuple[Link, ...], tuple[Citation, ...], tuple[Heading, ...]]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (set, frozenset)):
        return [_plain(v) for v in sorted(value, key=repr)]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _tagged(value: Any) -> Any:
    """Frontmatter values back: dates and bytes were tagged."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "$date" and isinstance(inner, str):
                with contextlib.suppress(ValueError):
                    return _dt.date.fromisoformat(inner)
            if key == "$datetime" and isinstance(inner, str):
                with contextlib.suppress(ValueError):
                    return _dt.datetime.fromisoformat(inner)
            if key == "$bytes" and isinstance(inner, str):
                with contextlib.suppress(ValueError):
                    return base64.b64decode(inner)
        return {k: _tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _build(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, dict):
            return hint()
        names = {f.name for f in dataclasses.fields(hint)}
        hints = _hints(hint)
        return hint(**{k: _build(hints[k], v) for k, v in value.items() if k in names})
    if origin is tuple:
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return tuple(_build(inner, v) for v in value or ())
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _build(options[0], value) if len(options) == 1 else _tagged(value)
    if origin is dict or hint is dict:
        return _tagged(value) if isinstance(value, dict) else {}
    return _tagged(value)


def _storable(text: str) -> bool:
    """Whether the rows hold `text` as it is (valid UTF-8: no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def rows_hold(note: Note) -> bool:
    """Whether the link and heading rows hold the note's links, citations and headings as they are."""
    return all(
        _storable(link.target) and _storable(link.subpath) and _storable(link.display) and _storable(link.context)
        for link in note.links
    ) and all(_storable(c.key) and _storable(c.context) for c in note.citations) and all(
        _storable(h.text) for h in note.headings
    )


def note_to_json(note: Note) -> str:
    """The JSON of a note, without its links, citations and headings when the rows hold them."""
    skip = ROW_FIELDS if rows_hold(note) else ()
    data = {f.name: _plain(getattr(note, f.name)) for f in dataclasses.fields(Note) if f.name not in skip}
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))


def note_from_json(text: str, rows: RowParts | None = None) -> Note:
    return note_from_data(json.loads(text), rows)


def needs_rows(data: dict[str, Any]) -> bool:
    """Whether a note's JSON (as loaded) left its links, citations and headings to the rows."""
    return "links" not in data


def note_from_data(data: dict[str, Any], rows: RowParts | None = None) -> Note:
    """The note from its loaded JSON; `rows`: its links, citations and headings as read from
    their rows, used when the JSON left them out (then, without them, the note has none)."""
    if rows is None or not needs_rows(data):
        return _build(Note, data)
    hints = _hints(Note)
    values = {k: _build(hints[k], v) for k, v in data.items() if k in hints and k not in ROW_FIELDS}
    values["links"], values["citations"], values["headings"] = rows
    return Note(**values)


__all__ = ["ROW_FIELDS", "RowParts", "needs_rows", "note_from_data", "note_from_json", "note_to_json", "rows_hold"]
