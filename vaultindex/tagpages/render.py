"""Tag pages' text (PURE): rendering a page, and merging it into the text a page has now, so
that what the user wrote above or below the markers and their own frontmatter keys survive.

Frontmatter goes through parse/frontmatter.py: `load_yaml` (the safe loader) reads a page's
keys back, `dump_frontmatter` (python-frontmatter's handler) writes the user's keys when their
layout cannot be kept line for line."""

from __future__ import annotations

import functools
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from ..parse.frontmatter import dump_frontmatter, load_yaml
from ..text import escape_controls, fold_name, math_as_text, split_frontmatter
from .pages import (
    BEGIN_MARKER,
    END_MARKER,
    GENERATED_BY,
    KEY_COUNT,
    KEY_GENERATED,
    KEY_TAG,
    OWN_KEYS,
    PageEntry,
    TagLink,
    TagPage,
    is_generated,
)

# --------------------------------------------------------------------------------------------
# rendering (pure)
# --------------------------------------------------------------------------------------------

_MD_ESCAPE = re.compile(r"([\\`*_\[\]<>#|$~=%])")
_SPACES = re.compile(r"\s+")


def _text(value: str) -> str:
    """Plain text for Markdown: one line, with characters that would format, link or tag escaped."""
    return _MD_ESCAPE.sub(r"\\\1", _SPACES.sub(" ", str(value)).strip())


def _label(value: str) -> str:
    """Display text inside a wikilink: one line, nothing that would end the link, math read as
    text (Obsidian shows a link's text as typed: `$π^{*}_{0.6}$` would show its `$` and braces)."""
    text = _SPACES.sub(" ", math_as_text(str(value))).strip()
    return text.replace("[", "(").replace("]", ")").replace("|", "-")


def _code(value: str) -> str:
    """Inline code that survives backticks in the value."""
    longest = max((len(m) for m in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def yaml_scalar(value: str) -> str:
    """A YAML string that reads back as exactly `value`: plain when safe, else double-quoted."""
    if re.fullmatch(r"\w[\w./+-]*", value):
        try:
            if load_yaml(value) == value:
                return value
        except ValueError:
            pass
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD and ch != "\ufeff" or code >= 0x10000:
            out.append(ch)  # printable in YAML
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")  # surrogates cannot reach a file; \\u keeps the value anyway
    out.append('"')
    return "".join(out)


def _page_link(link: TagLink) -> str:
    return f"[[{link.path[:-3]}|{_label(link.tag)}]]"


def _note_link(entry: PageEntry, page_path: str) -> str:
    title = _label(entry.title)
    if entry.target:
        if "/" in entry.target or (title and title != entry.target):
            return f"[[{entry.target}|{title or _label(entry.target)}]]"
        return f"[[{entry.target}]]"
    # A file name a wikilink cannot carry: a relative Markdown link, URL-encoded (byte for
    # byte, so that a name that is not UTF-8 keeps its bytes), its label shown safely.
    rel = posixpath.relpath(entry.path, posixpath.dirname(page_path) or ".")
    name = entry.path.rsplit("/", 1)[-1]
    label = _text(escape_controls(math_as_text(entry.title) or name.removesuffix(".md")))
    return f"[{label}]({quote(os.fsencode(rel))})"


def _authors(authors: Sequence[str]) -> str:
    if not authors:
        return ""
    if len(authors) == 1:
        return authors[0]
    if len(authors) == 2:
        return f"{authors[0]} and {authors[1]}"
    return f"{authors[0]} et al."


def _item(entry: PageEntry, page_path: str, with_year: bool) -> str:
    # A note sits on several pages: its line is the same on all of them unless the link is
    # relative (a Markdown link), which depends on the page's folder.
    where = posixpath.dirname(page_path) if not entry.target else ""
    return _item_line(entry, where, with_year)


@functools.lru_cache(maxsize=1 << 16)
def _item_line(entry: PageEntry, page_dir: str, with_year: bool) -> str:
    page_path = f"{page_dir}/page.md" if page_dir else "page.md"
    meta = [_text(_authors(entry.authors))] if entry.authors else []
    if with_year and entry.year is not None:
        meta.append(str(entry.year))
    if entry.venue:
        meta.append(_text(entry.venue))
    meta = [m for m in meta if m]
    return f"- {_note_link(entry, page_path)}" + (f" — {', '.join(meta)}" if meta else "")


def _title_key(entry: PageEntry) -> tuple:
    return (fold_name(entry.title), entry.path)  # case-insensitive, then by path: a total order


def render_frontmatter(page: TagPage) -> str:
    """The page's own frontmatter keys (without the `---` lines)."""
    return f"{KEY_GENERATED}: {GENERATED_BY}\n{KEY_TAG}: {yaml_scalar(page.tag)}\n{KEY_COUNT}: {page.count}\n"


def render_block(page: TagPage) -> str:
    """The generated part of a page, markers included, no trailing newline."""
    lines = [BEGIN_MARKER, "", f"# {_text(page.tag)}", ""]
    n = page.count
    if n:
        summary = f"{n} note{'s' if n != 1 else ''} tagged {_code(page.tag)}."
    else:
        summary = (
            f"No page is generated for {_code(page.tag)} any more (the tag is gone or has too few notes). "
            "This page is kept because it holds text of yours outside the markers: delete it when you are done with it."
        )
    if page.parent is not None:
        summary += f" Parent tag: {_page_link(page.parent)}."
    lines.append(summary)
    if page.children:
        kids = " · ".join(f"{_page_link(c)} ({c.count})" for c in page.children)
        lines += ["", f"Nested tags: {kids}"]
    entries = list(page.entries)
    if page.sort == "year" and any(e.year is not None for e in entries):
        groups: dict[int | None, list[PageEntry]] = defaultdict(list)
        for e in entries:
            groups[e.year].append(e)
        order = sorted((y for y in groups if y is not None), reverse=True) + ([None] if None in groups else [])
        for year in order:
            lines += ["", f"## {year if year is not None else 'No year'}", ""]
            lines += [_item(e, page.path, False) for e in sorted(groups[year], key=_title_key)]
    elif entries:
        if page.sort == "modified":
            entries.sort(key=lambda e: (-e.modified, e.path))
        else:
            entries.sort(key=_title_key)
        lines.append("")
        lines += [_item(e, page.path, True) for e in entries]
    lines += ["", END_MARKER]
    return "\n".join(lines)


def render_page(page: TagPage) -> str:
    """The whole text of a new page: frontmatter, a blank line, the generated block."""
    return f"---\n{render_frontmatter(page)}---\n\n{render_block(page)}\n"


# --------------------------------------------------------------------------------------------
# merging into an existing page (pure)
# --------------------------------------------------------------------------------------------

_BEGIN_RE = re.compile(r"^<!--[ \t]*vaultindex:begin\b.*?-->[ \t]*$", re.M)
_END_RE = re.compile(r"^<!--[ \t]*vaultindex:end\b.*?-->[ \t]*$", re.M)


@dataclass(frozen=True)
class PageParts:
    """An existing page, split by `split_page`."""

    yaml_text: str  # between the `---` lines, "" when there is no frontmatter
    data: dict | None  # parsed frontmatter, None when absent or unreadable
    before: str  # body before the begin marker (the whole body when there is no block)
    after: str  # body after the end marker
    has_block: bool
    bom: bool
    crlf: bool


def split_page(text: str) -> PageParts:
    """A page's text in parts: its frontmatter (text and data), the user's text before and after
    the generated block, and how the file was written (BOM, CRLF), to be written back alike."""
    bom = text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    crlf = "\r\n" in text
    if crlf:
        text = text.replace("\r\n", "\n")
    data = None
    try:
        found, body, _ = split_frontmatter(text)
    except ValueError:  # an opening `---` that is never closed: no frontmatter
        found, body = None, text
    yaml_text = found or ""
    if found is not None:
        try:
            loaded = load_yaml(yaml_text) if yaml_text.strip() else {}
        except ValueError:
            loaded = None
        data = loaded if isinstance(loaded, dict) else None
    # The generated block is the first begin marker directly followed by an end marker: a
    # stray marker left by an edit stays in the user's text instead of swallowing it.
    markers = sorted([(m.start(), 0, m) for m in _BEGIN_RE.finditer(body)] + [(m.start(), 1, m) for m in _END_RE.finditer(body)])
    for (_, kind, begin), (_, next_kind, end) in zip(markers, markers[1:]):
        if kind == 0 and next_kind == 1:
            return PageParts(yaml_text, data, body[: begin.start()], body[end.end() :], True, bom, crlf)
    return PageParts(yaml_text, data, body, "", False, bom, crlf)


def _user_entries(yaml_text: str) -> list[tuple[str | None, str]]:
    """Top-level frontmatter entries as (key, source text), comments kept with their entry."""
    entries: list[list] = []
    for line in yaml_text.splitlines(keepends=True):
        starts_entry = line[:1] not in ("", " ", "\t", "-", "#", "\n") and ":" in line
        if starts_entry:
            key = line.split(":", 1)[0].strip().strip("'\"")
            entries.append([key, line])
        elif entries:
            entries[-1][1] += line
        else:
            entries.append([None, line])
    return [(k, t) for k, t in entries]


def _merge_frontmatter(parts: PageParts, page: TagPage) -> str:
    """Our keys first, then the user's own keys as they wrote them."""
    ours = render_frontmatter(page)
    data = parts.data or {}
    rest = {k: v for k, v in data.items() if k not in OWN_KEYS}
    if not rest:
        return ours
    kept = "".join(text for key, text in _user_entries(parts.yaml_text) if key not in OWN_KEYS)
    if kept and not kept.endswith("\n"):
        kept += "\n"
    merged = ours + kept
    try:
        check = load_yaml(merged)
    except ValueError:
        check = None
    expected = {**rest, KEY_GENERATED: GENERATED_BY, KEY_TAG: page.tag, KEY_COUNT: page.count}
    if check == expected:
        return merged
    # Layout we could not split safely: keep the user's values, written out by YAML.
    return ours + dump_frontmatter(rest)


def has_user_text(parts: PageParts) -> bool:
    extra = {k for k in (parts.data or {}) if k not in OWN_KEYS}
    return bool(extra or parts.before.strip() or parts.after.strip())


def update_page(existing: str | None, page: TagPage) -> tuple[str | None, str]:
    """The page's new text given its current text (None when there is no file yet).

    Returns (text, note): text is None when `existing` is not a generated page (a user's own
    file: never touched); `note` says why, or what was repaired. Text outside the markers and
    the user's extra frontmatter keys are kept byte for byte.
    """
    if existing is None:
        return render_page(page), ""
    parts = split_page(existing)
    if not is_generated(parts.data):
        return None, (
            f"not a generated tag page (no `{KEY_GENERATED}: {GENERATED_BY}` in its frontmatter): left untouched; "
            f"move or rename it to get the page of tag {page.tag!r}"
        )
    block = render_block(page)
    note = ""
    if parts.has_block:
        body = parts.before + block + parts.after
    else:
        note = "the vaultindex:begin/end markers were missing or broken: a new generated section was added at the end"
        body = (parts.before.rstrip("\n") + "\n\n" if parts.before.strip() else "\n") + block + "\n"
    text = f"---\n{_merge_frontmatter(parts, page)}---\n{body}"
    if parts.crlf:
        text = text.replace("\n", "\r\n")
    if parts.bom:
        text = "\ufeff" + text
    return text, note
