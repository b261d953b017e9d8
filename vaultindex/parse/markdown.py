"""Owns the Markdown structure under the text: same-length masking of code, math and comments,
headings, block ids and line offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# --------------------------------------------------------------------------------------------
# masking code, math and comments
# --------------------------------------------------------------------------------------------

# One left-to-right scanner for every construct that hides Markdown: whichever opener comes
# first wins, so a `%%` inside code is not a comment and a backtick inside a comment opens no
# code. Candidates are found with a one-character class (fast: the regex engine can skip
# ahead); what each one opens is decided in Python.
_MASK_CANDIDATE = re.compile(r"[\\`~$%<]")
_RUN = {"`": re.compile(r"`+"), "~": re.compile(r"~+")}
_FENCE_INDENT = re.compile(r"[ \t]*(?:>[ \t]*)*")  # indentation, also inside > quotes
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Inline math closes on a `$` not preceded by whitespace or `\` and not followed by a digit
# (pandoc's rule, which keeps "$5 and $6" as text).
_MATH_CLOSE = re.compile(r"\$(?<![\s\\]\$)(?!\d)")
_NOT_NL = re.compile(r"[^\n]")
_tick_closers: dict[int, re.Pattern[str]] = {}
_fence_closers: dict[tuple[str, int], re.Pattern[str]] = {}


def _tick_closer(n: int) -> re.Pattern[str]:
    """A run of exactly n backticks."""
    pat = _tick_closers.get(n)
    if pat is None:
        pat = _tick_closers[n] = re.compile(rf"`{{{n}}}(?!`)(?<!`{{{n + 1}}})")
    return pat


def _fence_closer(ch: str, n: int) -> re.Pattern[str]:
    """A line (searched from the preceding newline) closing a fence of n `ch` characters."""
    pat = _fence_closers.get((ch, n))
    if pat is None:
        fence = re.escape(ch) + f"{{{n},}}"
        pat = re.compile(rf"\n[ \t]*(?:>[ \t]*)*{fence}[ \t]*(?=\n|\Z)")
        _fence_closers[(ch, n)] = pat
    return pat


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of code, math and comments, in order, not overlapping.

    Linear in the length of the text even for hostile input: the current line and paragraph
    are cached (positions only move forward), and a failed search for a closer is remembered.
    """
    spans: list[tuple[int, int]] = []
    size = len(text)
    line_start, line_end = 0, -1  # the line holding `start`
    para_end = -1  # the end of the paragraph holding `start`
    tick_fails: dict[int, int] = {}  # run length -> paragraph end with no closer of that length
    math_fails = -1  # line end before which no inline math can close
    pos = 0
    while True:
        m = _MASK_CANDIDATE.search(text, pos)
        if m is None:
            return spans
        start = m.start()
        ch = m.group()
        if ch == "\\":  # an escaped character is literal
            pos = start + (2 if text[start + 1 : start + 2] in _ASCII_PUNCT else 1)
            continue
        if start > line_end:
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", start)
            line_end = size if line_end < 0 else line_end
        if ch in "`~":
            opener = _RUN[ch].match(text, start)  # (always matches: text[start] is ch)
            run = (opener.end() if opener else start + 1) - start
            fence = (
                run >= 3
                and _FENCE_INDENT.fullmatch(text, line_start, start) is not None
                # "```x```" on one line is inline code, not a fence (CommonMark)
                and not (ch == "`" and text.find("`", start + run, line_end) >= 0)
            )
            if fence:
                close = _fence_closer(ch, run).search(text, line_end) if line_end < size else None
                end = size if close is None else close.end()  # unclosed: code to the end
                spans.append((line_start, end))
                pos = end
                continue
            pos = start + run
            if ch == "~" or pos <= tick_fails.get(run, -1):
                continue
            # inline code: the next run of exactly as many backticks in the same paragraph
            if pos > para_end:
                blank = _BLANK_LINE.search(text, pos)
                para_end = blank.start() if blank else size
            close = _tick_closer(run).search(text, pos, para_end)
            if close is None:
                tick_fails[run] = para_end  # no closer of this length before para_end
            else:
                spans.append((start, close.end()))
                pos = close.end()
            continue
        if ch == "$":
            if text.startswith("$$", start):  # display math, may span lines
                close_at = text.find("$$", start + 2)
                if close_at < 0:
                    pos = start + 2
                else:
                    spans.append((start, close_at + 2))
                    pos = close_at + 2
                continue
            nxt = text[start + 1 : start + 2]
            close = None
            if nxt and not nxt.isspace() and start >= math_fails:  # inline math, on one line
                close = _MATH_CLOSE.search(text, start + 2, line_end)
                if close is None:
                    math_fails = line_end
            if close is None:
                pos = start + 1
            else:
                spans.append((start, close.end()))
                pos = close.end()
            continue
        if ch == "%":
            if not text.startswith("%%", start):
                pos = start + 1
                continue
            closer, opener_len = "%%", 2
        else:  # "<"
            if not text.startswith("<!--", start):
                pos = start + 1
                continue
            closer, opener_len = "-->", 4
        # comments: an unclosed one hides the rest of the note, as in Obsidian
        close_at = text.find(closer, start + opener_len)
        end = size if close_at < 0 else close_at + len(closer)
        spans.append((start, end))
        pos = end


def blank_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with every span's characters replaced by spaces, line breaks kept."""
    parts: list[str] = []
    prev = 0
    for start, end in spans:
        if start < prev:  # overlapping spans: only blank what is left
            start = prev
        if end <= start:
            continue
        parts.append(text[prev:start])
        segment = text[start:end]
        parts.append(_NOT_NL.sub(" ", segment) if "\n" in segment else " " * len(segment))
        prev = end
    if not parts:
        return text
    parts.append(text[prev:])
    return "".join(parts)


def mask_code(text: str) -> str:
    """Fenced and inline code, math, `%% comments %%` and `<!-- -->` replaced by spaces.

    The result has the same length and the same line breaks as `text`, so offsets and line
    numbers found in it are valid in the original.
    """
    return blank_spans(text, _code_spans(text))


def strip_comments(text: str) -> str:
    """`text` without its `%% comments %%` and `<!-- -->` (a `%%` inside code is kept).

    Obsidian shows neither in reading view; an unclosed comment runs to the end of the note.
    A comment's line breaks are kept, so the lines around it stay apart.
    """
    if "%%" not in text and "<!--" not in text:
        return text
    parts: list[str] = []
    prev = 0
    for start, end in _code_spans(text):
        if text.startswith(("%%", "<!--"), start):
            parts.append(text[prev:start])
            parts.append("\n" * text.count("\n", start, end))
            prev = end
    parts.append(text[prev:])
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# headings and block ids
# --------------------------------------------------------------------------------------------

# Both are searched in "\n" + text, so that the first line starts with a newline too.
HEADING = re.compile(r"\n[ \t]{0,3}(#{1,6})(?=[ \t\n]|\Z)")
# Obsidian block id: `^id` alone on a line or after a space at the end of a line.
BLOCK_ID = re.compile(r"\^(?<=[ \t\n]\^)([A-Za-z0-9-]+)[ \t]*(?=\n|\Z)")


def clean_heading(raw: str) -> str:
    """The text after the `#`s, without an optional closing run of `#` ("## A ##" -> "A")."""
    text = raw.strip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip()
    return text




def line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts
