"""Owns the notes' JSON: a Note to JSON text and back, built generically from the dataclass
fields (frontmatter dates and bytes tagged), so that the store holds no executable data."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as _dt
import json
import types
import typing
from typing import Any

from .models import Note


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


def note_to_json(note: Note) -> str:
    return json.dumps(_plain(note), ensure_ascii=True, separators=(",", ":"))


def note_from_json(text: str) -> Note:
    return _build(Note, json.loads(text))


__all__ = ["note_to_json", "note_from_json"]
