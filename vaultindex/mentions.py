"""PURE: where a text names something without linking it (Obsidian's "unlinked mentions").

A mention is a whole-word, case-insensitive occurrence of one of the given names in a note's
body, outside frontmatter, code, math, comments and links (wikilinks, embeds, Markdown
links). Spaces inside a name match any run of spaces or tabs, so a name never spans lines.
Emphasis around a name still counts: `*EWC*`, `**EWC**`, `_EWC_`, `__EWC__`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .parse import mask_code
from .text import WIKILINK, nfc, split_frontmatter

__all__ = ["Found", "find_mentions", "names_of", "search_phrases"]

MIN_NAME_CHARS = 2
CONTEXT_CHARS = 300

# Wikilinks and embeds (one line, no nested `[[`), then Markdown links and images.
_WIKI = re.compile("!?" + WIKILINK.pattern)
_MARKDOWN = re.compile(r"!?\[[^\]\n]*\]\([^)\n]*\)")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Found:
    line: int  # 1-based line in the text
    column: int  # 1-based
    text: str  # as written
    context: str  # the line, stripped; a long one cut to CONTEXT_CHARS around the mention


def names_of(title: str, aliases: Iterable[str], file_name: str) -> list[str]:
    """The names a note goes by, without case-insensitive duplicates or too-short ones."""
    seen: dict[str, str] = {}
    for name in (title, *aliases, file_name):
        name = nfc(" ".join(str(name).split()))
        if len(name) >= MIN_NAME_CHARS and _WORD.search(name):
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


_MARKS = ("", "_", "__", "___")


def search_phrases(names: Iterable[str]) -> list[str]:
    """Full-text queries that find every note that may mention a name: the name's words as a
    phrase, then (after all the phrases) the words that emphasis underscores stick to.

    The index reads `__EWC__` as the one word `__ewc__`, so `_EWC_` and `__EWC__` are asked
    for as words of their own (a short OR query per name, a superset that find_mentions sifts).
    """
    phrases, marked = [], []
    for name in names:
        words = _WORD.findall(name)
        if not words:
            continue
        phrases.append('"' + " ".join(words) + '"')
        first, last = words[0].strip("_"), words[-1].strip("_")
        if len(words) == 1 and first:
            variants = [p + first + s for p in _MARKS for s in _MARKS if p or s]
        else:
            variants = [p + first for p in _MARKS[1:] if first]
            variants += [last + s for s in _MARKS[1:] if last]
        if variants:
            marked.append(" OR ".join(variants))
    return list(dict.fromkeys(phrases + marked))


def _pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for name in sorted(set(names), key=lambda n: (-len(n), n)):  # longest first
        words = [re.escape(w) for w in nfc(name).split()]
        if words:
            parts.append(r"[ \t]+".join(words))
    if not parts:
        return None
    # Whole words: no word character (or `#`, a tag) right before, no word character after.
    # Underscores are word characters, but a run of them around a name is emphasis
    # (`_EWC_`, `__EWC__`): they may stand between the name and the word boundary.
    return re.compile(
        r"(?<![\w#])_{0,3}(?P<name>" + "|".join(parts) + r")(?:_{1,3})?(?!\w)", re.IGNORECASE
    )


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def find_mentions(text: str, names: Iterable[str]) -> list[Found]:
    """Unlinked mentions of any of `names` in a note's text, in order."""
    pattern = _pattern(names)
    if pattern is None or not text:
        return []
    text = nfc(text)
    try:
        body = split_frontmatter(text)[1]
    except ValueError:  # no closing `---`: no frontmatter either
        body = text
    head = len(text) - len(body)
    masked = mask_code(re.sub(r"[^\n]", " ", text[:head]) + body if head else text)
    if "[" in masked:
        masked = _blank(_blank(masked, _WIKI), _MARKDOWN)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found = []
    for m in pattern.finditer(masked):
        at, stop = m.span("name")
        i = bisect.bisect_right(starts, at) - 1
        end = text.find("\n", starts[i])
        raw = text[starts[i] : end if end >= 0 else len(text)]
        lead = len(raw) - len(raw.lstrip())
        line = _around(raw.strip(), at - starts[i] - lead, stop - starts[i] - lead)
        found.append(Found(i + 1, at - starts[i] + 1, text[at:stop], line))
    return found


def _around(line: str, start: int, stop: int) -> str:
    """At most CONTEXT_CHARS of `line` with the mention (line[start:stop]) in the middle, and
    `…` where the line was cut."""
    if len(line) <= CONTEXT_CHARS:
        return line
    room = max(CONTEXT_CHARS - (stop - start), 2)
    left = max(0, start - room // 2)
    right = min(len(line), left + CONTEXT_CHARS)
    left = max(0, right - CONTEXT_CHARS)
    piece = line[left:right]
    if left > 0:
        piece = "…" + piece[1:]
    if right < len(line):
        piece = piece[:-1] + "…"
    return piece
