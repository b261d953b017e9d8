"""The text a search hit's snippet is cut from: a note's body as a reader sees it.

Comments (`%% %%`, `<!-- -->`), an Excalidraw drawing's JSON, headings (indexed on their
own), lines of nothing but tags, list marks, emphasis and the syntax of links are left out,
so that the highlighter picks a sentence rather than a row of tags (whose words match a
query as well as prose does) and the snippet reads like the note. Words in comments are
still searchable (as in Obsidian, whose search reads the raw text); they are never shown.
"""

from __future__ import annotations

import re

from .text import WIKILINK, WIKILINK_TEXT

_BULLET = r"(?:[-*+][ \t]+(?:\[.\][ \t]+)?|\d+[.)][ \t]+)"  # "- ", "- [x] ", "1. "
_TAG_ONLY_LINE = re.compile(rf"^[ \t>]*{_BULLET}?(?:tags?[ \t]*:[ \t]*)?(?:#[^\s#]+[ \t,]*)+$", re.I | re.M)
_HEADING_LINE = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t].*)?$", re.M)
_LINE_MARKS = re.compile(rf"^[ \t]*(?:>[ \t]*)*(?:\[![\w-]+\][+-]?[ \t]*)?{_BULLET}?", re.M)
# A wikilink's text runs to the first `]]` on its line; single `[` and `]` may stand inside it
# (real vaults link to headings like "[2021-06] LoRA"), as Obsidian reads them.
_LINK_TEXT = WIKILINK_TEXT
_EMBED = re.compile(rf"!\[\[{_LINK_TEXT}\]\]|!\[[^\]\n]*\]\([^)\n]*\)")
_MDLINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|==|~~)(?=\S)(.+?)(?<=\S)\1")  # only a pair around text
_BLOCK_ID = re.compile(r"[ \t]\^[A-Za-z0-9-]+[ \t]*$", re.M)


def _link_text(m: re.Match) -> str:
    """What Obsidian shows for a wikilink: its display text, else the note's name (the last
    part of its path) and the heading or block it points into."""
    target, bar, shown = m.group(1).partition("|")
    if bar and shown.strip():
        return shown.strip()
    note, _, sub = target.removesuffix("\\").partition("#")  # `[[a\|b]]` in a table
    note = note.strip().rsplit("/", 1)[-1]
    sub = sub.strip().lstrip("^")
    return f"{note} > {sub}" if note and sub else note or sub


def shown(body: str) -> str:
    """What Obsidian's reading view shows of a note's body: no `%% comments %%` or `<!-- -->`,
    and of an Excalidraw drawing only its text elements (never the drawing's JSON)."""
    # the parser loads only when snippets are made
    from .parse import drawing_text, strip_comments

    drawing = drawing_text(body) if "Text Elements" in body else None
    return strip_comments(body) if drawing is None else drawing


def readable(body: str) -> str:
    """`body` as shown, without headings, tag-only lines and Markdown marks, line breaks kept."""
    text = _TAG_ONLY_LINE.sub("", _HEADING_LINE.sub("", shown(body)))
    text = _EMBED.sub("", text)
    text = WIKILINK.sub(_link_text, text)
    text = _MDLINK.sub(r"\1", text)
    text = _LINE_MARKS.sub("", text)
    text = _BLOCK_ID.sub("", text)
    return _EMPHASIS.sub(r"\2", text)


def first_line(body: str, limit: int = 200) -> str:
    """The first line of prose: no heading, fence, rule, comment or tag-only line."""
    for line in shown(body).splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "---", "```", "~~~")) or _TAG_ONLY_LINE.fullmatch(stripped):
            continue
        text = readable(stripped).strip()
        if text:
            return text[:limit]
    return ""
