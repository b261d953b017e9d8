"""CSL-JSON text (a list of items, as Zotero and Better BibTeX export) -> BibEntry values and
diagnostics."""

from __future__ import annotations

import json
import re
from typing import Any

from ..models import BibEntry, Diagnostic
from .fields import DATE_RE, normalizers


def _csl_name(person: Any) -> str:
    if isinstance(person, str):
        return person.strip()
    if not isinstance(person, dict):
        return ""
    if person.get("literal"):
        return str(person["literal"]).strip()
    family = " ".join(
        str(person[k]).strip() for k in ("non-dropping-particle", "family") if person.get(k)
    )
    if person.get("dropping-particle"):
        family = f"{str(person['dropping-particle']).strip()} {family}".strip()
    given = str(person.get("given") or "").strip()
    suffix = str(person.get("suffix") or "").strip()
    if not family:
        return given
    return ", ".join(p for p in (family, suffix, given) if p)


def _csl_date(value: Any) -> tuple[int | None, int | None]:
    if not isinstance(value, dict):
        return None, None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        first = parts[0]
        try:
            year = int(str(first[0]))
            month = int(str(first[1])) if len(first) > 1 else None
        except (TypeError, ValueError):
            return None, None
        return year, month if month and 1 <= month <= 12 else None
    raw = value.get("raw") or value.get("literal")
    if isinstance(raw, str) and (m := DATE_RE.match(raw)):
        month = int(m.group(2)) if m.group(2) else None
        return int(m.group(1)), month if month and 1 <= month <= 12 else None
    return None, None


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def parse_csl_json(text: str, path: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """A CSL-JSON file's text (a list of items, as Zotero and Better BibTeX export) -> entries
    and diagnostics. Never raises; an item without an id is reported, the others are read."""
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1) or 1
        msg = getattr(exc, "msg", str(exc))
        return [], [Diagnostic(path, f"not valid JSON, nothing read: {msg}", line, "error")]
    except RecursionError:
        return [], [Diagnostic(path, "JSON nested too deeply, nothing read", 1, "error")]
    depth_of_items = 1
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data, depth_of_items = data["items"], 2
    if not isinstance(data, list):
        return [], [Diagnostic(path, "CSL-JSON must be a list of items, nothing read", 1, "error")]
    normalize_doi, normalize_arxiv = normalizers()
    entries, diagnostics, seen = [], [], set()
    object_lines = iter(_csl_item_lines(text, depth_of_items))
    for index, item in enumerate(data):
        line = next(object_lines, 1) if isinstance(item, dict) else 1
        if not isinstance(item, dict):
            diagnostics.append(Diagnostic(path, f"item {index + 1} is not an object, skipped", line, "error"))
            continue
        key = _text(item.get("id")) or _text(item.get("citation-key"))
        if not key:
            diagnostics.append(Diagnostic(path, f"item {index + 1} has no id, skipped", line, "error"))
            continue
        if key in seen:
            diagnostics.append(Diagnostic(path, f'duplicate id "{key}" in this file; the first item is used', line))
            continue
        seen.add(key)
        authors = item.get("author") or item.get("editor") or []
        names = tuple(n for n in (_csl_name(p) for p in (authors if isinstance(authors, list) else [])) if n)
        year, month = _csl_date(item.get("issued"))
        venue = next(
            (_text(item.get(k)) for k in ("container-title", "event-title", "event", "publisher") if _text(item.get(k))),
            "",
        )
        doi = normalize_doi(_text(item.get("DOI") or item.get("doi"))) if item.get("DOI") or item.get("doi") else ""
        url = _text(item.get("URL") or item.get("url"))
        arxiv = ""
        if doi.startswith("10.48550/arxiv."):
            arxiv = normalize_arxiv("arXiv:" + doi.removeprefix("10.48550/arxiv."))
        for candidate in (item.get("number"), item.get("note"), url if "arxiv.org" in url.lower() else ""):
            if not arxiv and "arxiv" in _text(candidate).lower():
                arxiv = normalize_arxiv(_text(candidate))
        fields = tuple((str(k).lower(), _text(v)) for k, v in item.items() if _text(v))
        entries.append(
            BibEntry(
                key=key,
                type=_text(item.get("type")),
                title=_text(item.get("title")),
                authors=names,
                year=year,
                month=month,
                venue=venue,
                doi=doi,
                arxiv=arxiv,
                url=url,
                path=path,
                line=line,
                fields=fields,
            )
        )
    return entries, diagnostics


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')


def _csl_item_lines(text: str, depth_of_items: int) -> list[int]:
    """The 1-based line where each object of the item list starts (JSON parsers do not say)."""
    lines, depth, newlines, last = [], 0, 0, 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token in "{[":
            if token == "{" and depth == depth_of_items:
                newlines += text.count("\n", last, m.start())
                last = m.start()
                lines.append(newlines + 1)
            depth += 1
        elif token in "}]":
            depth -= 1
    return lines


