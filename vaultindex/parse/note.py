"""Owns one note from bytes to `Note`: decoding, titles, Excalidraw drawings, and the one pass that
puts the other modules together.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from ..models import Citation, Diagnostic, Heading, Link, Note
from ..text import WIKILINK, fold_name, name_shown
from .citations import (
    ARXIV_MARKED,
    DOI,
    REFERENCE_FIELDS,
    REFERENCE_SPLIT,
    arxiv_key,
    citekeys,
    classify_reference,
    trim_doi,
)
from .frontmatter import REFERENCE_TOKEN, LineFinder, read_frontmatter, strings
from .links import MDLINK, link_matches, markdown_links, wikilinks
from .markdown import BLOCK_ID, HEADING, blank_spans, clean_heading, line_starts, mask_code
from .paper import header_identity, header_lines, read_paper, string_list, with_header_ids
from .tags import expand_tags, frontmatter_tags, tags_in

CONTEXT_CHARS = 300
_BINARY_SNIFF_BYTES = 8192
# --------------------------------------------------------------------------------------------
# bytes -> text
# --------------------------------------------------------------------------------------------

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def decode(path: str, data: bytes) -> tuple[str, list[Diagnostic]]:
    """File bytes -> text with LF line ends, plus diagnostics ("" for a binary file).

    UTF-8 (BOM stripped), or UTF-16/32 when a BOM says so. NUL bytes in the first 8 KB of
    a file without a UTF-16/32 BOM mean binary. Undecodable bytes become U+FFFD.
    """
    codec = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            codec, data = name, data[len(bom) :]
            break
    if codec == "utf-8" and b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        return "", [Diagnostic(path, "binary file, not indexed")]
    try:
        return _newlines(data.decode(codec)), []
    except UnicodeDecodeError as exc:
        text = _newlines(data.decode(codec, errors="replace"))
        if codec == "utf-8":
            line = data.count(b"\n", 0, exc.start) + 1
        else:  # count the decoded line breaks before the bad unit
            line = _newlines(data[: exc.start].decode(codec, errors="replace")).count("\n") + 1
        label = codec.upper().removesuffix("-LE").removesuffix("-BE")
        message = f"not valid {label} (first bad byte on line {line}); replaced with U+FFFD"
        return text, [Diagnostic(path, message, line)]

# --------------------------------------------------------------------------------------------
# titles: frontmatter `title`, else a leading H1, else the file name (rendered to plain text)
# --------------------------------------------------------------------------------------------

_INLINE_CODE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_INLINE_EMBED = re.compile(r"!\[\[[^\[\]\n]*\]\]|!\[[^\]\n]*\]\([^)\n]*\)")
_INLINE_WIKI = re.compile(r"\[\[([^\[\]\n]*)\]\]")
_INLINE_MD = re.compile(r"\[([^\[\]\n]*)\]\([^)\n]*\)")
# a pair of marks around text: `***x***`, `**x**`, `*x*`, `==x==`, `~~x~~`; underscores only
# at word boundaries (`snake_case_name` keeps its underscores)
_INLINE_EMPHASIS = re.compile(
    r"(\*{1,3}|==|~~)(?=\S)(.+?)(?<=\S)\1|(?<![^\W_])(_{1,3})(?=\S)(.+?)(?<=\S)\3(?![^\W_])"
)
_INLINE_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESCAPED = 0xE000  # escaped ASCII marks are carried as private-use characters meanwhile
_DOUBLE_BRACKETS = re.compile(r"\[{2,}|\]{2,}")
_ESCAPED_CHARS = re.compile("[\ue021-\ue07e]")
# template placeholders: Templater `<% ... %>`, core templates and Zotero `{{ ... }}`
_PLACEHOLDER = re.compile(r"<%.*?%>|\{\{.*?\}\}")


def _wiki_text(m: re.Match[str]) -> str:
    inner = m.group(1).replace("\\|", "|")
    target, bar, shown = inner.partition("|")
    if bar and shown.strip():
        return shown.strip()
    note, _, sub = target.partition("#")
    sub = sub.lstrip("^").replace("#", " > ").strip()
    note = note.strip()
    return f"{note} > {sub}" if note and sub else note or sub


def _render_plain(text: str) -> str:
    """Links, embeds, emphasis and escapes of one line -> the text a reader sees."""
    text = _INLINE_EMBED.sub("", text)
    text = _INLINE_WIKI.sub(_wiki_text, text)
    text = _INLINE_MD.sub(r"\1", text)
    for _ in range(3):  # nested marks: ***x***, **_x_**
        text, n = _INLINE_EMPHASIS.subn(lambda m: m.group(2) or m.group(4), text)
        if not n:
            break
    # the brackets of a broken link (or an escaped one) are not worth showing as link syntax
    return _DOUBLE_BRACKETS.sub(lambda m: m.group()[0], _unescape(text))


def _unescape(text: str, backslash: str = "") -> str:
    return _ESCAPED_CHARS.sub(lambda m: backslash + chr(ord(m.group()) - _ESCAPED), text)


def render_inline(text: str) -> str:
    """A heading or title written in Markdown -> plain text, on one line.

    `An Introduction to [[dataview|Dataview]]` -> `An Introduction to Dataview`; `[[a]]` -> `a`;
    `*x*`, `**x**`, `_x_`, `` `x` `` -> `x`; `[t](url)` -> `t`; embeds are dropped. Code
    spans keep their text as written.
    """
    if "\\" in text:  # an escaped mark is literal: hide it from the patterns until the end
        text = _INLINE_ESCAPE.sub(lambda m: chr(_ESCAPED + ord(m.group(1))), text)
    parts: list[str] = []
    pos = 0
    if "`" in text:
        for m in _INLINE_CODE.finditer(text):
            parts.append(_render_plain(text[pos : m.start()]))
            parts.append(_unescape(m.group(2), "\\"))  # in code a backslash is literal
            pos = m.end()
    parts.append(_render_plain(text[pos:]))
    return " ".join("".join(parts).split())


def _is_placeholder(text: str) -> bool:
    """A template's `{{title}}` or `<% tp.file.title %>`: nothing but placeholders."""
    return bool(_PLACEHOLDER.search(text)) and not _PLACEHOLDER.sub("", text).strip(" \t-:|")


def _top_h1(body: str, headings: list[Heading], first_line: int) -> Heading | None:
    """The H1 on the body's first non-blank line, if that line is one."""
    m = re.search(r"\S", body)
    if m is None or not headings:
        return None
    line = body.count("\n", 0, m.start()) + 1 + first_line
    first = headings[0]
    return first if first.line == line and first.level == 1 else None


def _is_title_h1(top: Heading | None, headings: list[Heading]) -> bool:
    """A leading H1 names the note only when it is the note's one H1: a note whose sections
    are H1s (`# Concepts` ... `# Reference`) has no title heading."""
    return top is not None and sum(h.level == 1 for h in headings) == 1


def _title(raw_title: Any, lead: Heading | None, stem: str) -> str:
    """Frontmatter `title` (a property: plain text, kept as written), else the leading H1
    rendered to its text, else the file name; never empty."""
    if isinstance(raw_title, (str, int, float)) and not isinstance(raw_title, bool):
        title = str(raw_title).strip()
        if title:
            return title
    if lead is not None and not _is_placeholder(lead.text):
        title = render_inline(lead.text)
        if title:
            return title
    return stem


# --------------------------------------------------------------------------------------------
# Excalidraw drawings: only the text a reader sees on the drawing is the note's text
# --------------------------------------------------------------------------------------------

EXCALIDRAW_SUFFIX = ".excalidraw.md"
# The section headings the Excalidraw plugin writes (`# Text Elements` in old files, under
# `# Excalidraw Data` in new ones); a `%%` line hides what follows (the drawing) from Obsidian.
_EXCALIDRAW_SECTION = re.compile(
    r"^[ \t]{0,3}#{1,6}[ \t]+(text elements|element links|embedded files|drawing|excalidraw data)"
    r"[ \t#]*$|^[ \t]*%%[ \t]*$",
    re.I | re.M,
)
# sections whose links Obsidian reads (they are outside the `%%` comment): the text on the
# drawing, links set on elements, and the embedded images
_EXCALIDRAW_LINKED = frozenset({"text elements", "element links", "embedded files"})
_EXCALIDRAW_BLOCK_ID = re.compile(r"[ \t]*\^[A-Za-z0-9-]+[ \t]*$", re.M)


def is_excalidraw(path: str, frontmatter: dict[str, Any]) -> bool:
    """A drawing of the Excalidraw plugin: named `*.excalidraw.md` or marked in frontmatter."""
    return path.lower().endswith(EXCALIDRAW_SUFFIX) or any(
        str(key).lower() == "excalidraw-plugin" for key in frontmatter
    )


def excalidraw_sections(body: str) -> tuple[str, str]:
    """(text for links and tags, text elements for search) of a drawing's body.

    The first keeps offsets and line breaks (everything else is blanked); the second is the
    `Text Elements` section alone, without the block ids the plugin puts after each element.
    The drawing JSON (`## Drawing`, `json` or `compressed-json` blocks) is in neither.
    """
    keep: list[tuple[int, int]] = []
    text_parts: list[str] = []
    marks = list(_EXCALIDRAW_SECTION.finditer(body))
    for i, m in enumerate(marks):
        name = (m.group(1) or "").lower()
        if name not in _EXCALIDRAW_LINKED:
            continue
        start = m.end()
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        keep.append((start, end))
        if name == "text elements":
            text_parts.append(_EXCALIDRAW_BLOCK_ID.sub("", body[start:end]).strip("\n"))
    blanks, prev = [], 0
    for start, end in keep:
        blanks.append((prev, start))
        prev = end
    blanks.append((prev, len(body)))
    return blank_spans(body, blanks), "\n\n".join(p for p in text_parts if p.strip())


def drawing_text(body: str) -> str | None:
    """The text elements of a body laid out as an Excalidraw drawing, else None.

    For callers that have the text but not the path (snippets): a `Text Elements` section
    together with a `Drawing` section or the plugin's "Switch to EXCALIDRAW VIEW" banner.
    """
    names = {(m.group(1) or "").lower() for m in _EXCALIDRAW_SECTION.finditer(body)}
    if "text elements" not in names or not ("drawing" in names or "EXCALIDRAW VIEW" in body[:2000]):
        return None
    return excalidraw_sections(body)[1]


def _excalidraw_stem(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    if base.lower().endswith(EXCALIDRAW_SUFFIX):
        return name_shown(base[: -len(EXCALIDRAW_SUFFIX)] or base)
    return _stem(path)


# --------------------------------------------------------------------------------------------
# the note
# --------------------------------------------------------------------------------------------


def _stem(path: str) -> str:
    """The file name as a title, read as its path is shown (text.name_shown): `\\n` for a newline,
    `\\377` for a byte that is not UTF-8."""
    base = path.rsplit("/", 1)[-1]
    return name_shown(base[:-3] if base.lower().endswith(".md") else base)




def _context(line_text: str) -> str:
    line_text = line_text.strip()
    return line_text if len(line_text) <= CONTEXT_CHARS else line_text[: CONTEXT_CHARS - 1] + "…"


class _Body:
    """The body's lines and offsets, for 1-based file line numbers and context."""

    def __init__(self, body: str, first_line: int):
        self.text = body
        self.starts = line_starts(body)
        self.offset = first_line  # file lines before the body

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) + self.offset

    def context(self, pos: int) -> str:
        i = bisect.bisect_right(self.starts, pos) - 1
        end = self.starts[i + 1] - 1 if i + 1 < len(self.starts) else len(self.text)
        return _context(self.text[self.starts[i] : end])


def parse_note(path: str, text: str) -> Note:
    """One note's text -> Note. Pure, and never raises: problems become diagnostics."""
    try:
        return _parse_note(path, text)
    except Exception as exc:  # noqa: BLE001 - last resort, so one odd note never stops a sync
        return Note(
            path=path,
            title=_stem(str(path)),
            body=text if isinstance(text, str) else "",
            diagnostics=(Diagnostic(str(path), f"internal parser error: {exc!r}", None, "error"),),
        )


def _parse_note(path: str, text: str) -> Note:
    diags: list[Diagnostic] = []
    text = _newlines(text).removeprefix("\ufeff")

    # -- frontmatter
    fm, yaml_text, body, first_line = read_frontmatter(path, text, diags)
    low: dict[str, Any] = {}
    for key, value in fm.items():
        low.setdefault(key.lower(), value)  # property names are matched case-insensitively

    # -- a drawing is read from its text elements only (offsets kept, the rest blanked)
    drawing = is_excalidraw(path, low)
    indexed_body = body
    if drawing:
        body, indexed_body = excalidraw_sections(body)

    # -- body: mask once, then every regex runs on text with the same offsets
    lines = _Body(body, first_line)
    masked = mask_code(body)

    headings = []
    if "#" in masked:
        for m in HEADING.finditer("\n" + masked):  # offsets below are shifted by one
            # the text comes from the real line: masked code in a heading is still its text
            after_hashes = m.end(1) - 1
            line_end = body.find("\n", after_hashes)
            raw = body[after_hashes : line_end if line_end >= 0 else len(body)]
            heading_text = clean_heading(raw)
            headings.append(Heading(len(m.group(1)), heading_text, lines.line(m.start())))

    block_ids: dict[str, None] = {}
    if "^" in masked:
        for m in BLOCK_ID.finditer("\n" + masked):
            block_ids.setdefault(m.group(1), None)

    # -- links: frontmatter first (it comes first in the file), then the body in order
    links: list[Link] = []
    finder = LineFinder(yaml_text, WIKILINK) if yaml_text else None
    for value in strings(fm):
        if "[[" not in value:
            continue
        for start, end, embed, (target, subpath, display) in wikilinks(value, value):
            where = finder.find(value[start + (1 if embed else 0) : end]) if finder else None
            line, ctx = (where[0], _context(where[1])) if where else (1, _context(value))
            kind = "embed" if embed else "link"
            links.append(Link(target, kind, subpath, display, line, ctx, "frontmatter"))

    wikis = wikilinks(masked, body)
    unlinked = blank_spans(masked, [(s, e) for s, e, _, _ in wikis]) if wikis else masked
    mds = markdown_links(unlinked, body)
    body_links = [(s, e, emb, parts, "wiki") for s, e, emb, parts in wikis]
    body_links += [(s, e, emb, parts, "markdown") for s, e, emb, parts in mds]
    body_links.sort(key=lambda item: item[0])
    for start, _, embed, (target, subpath, display), form in body_links:
        kind = "embed" if embed else "link"
        line, ctx = lines.line(start), lines.context(start)
        links.append(Link(target, kind, subpath, display, line, ctx, form))
    if "](" in unlinked:  # external links too: no tags or citekeys inside any link
        spans = [(s, m.end()) for s, _, m in link_matches(MDLINK, unlinked)]
        unlinked = blank_spans(unlinked, spans)

    # -- tags: frontmatter, then inline
    tags = frontmatter_tags(low.get("tags")) + frontmatter_tags(low.get("tag"))
    tags.extend(tag for tag, _ in tags_in(unlinked))
    all_tags = expand_tags(tags)

    # -- the note's own paper: frontmatter first, then the identity lines a template writes
    # at its top; what those lines name is the note itself
    top = _top_h1(body, headings, first_line)
    paper = read_paper(low, yaml_text, path, diags)
    header = [] if drawing else header_lines(masked, headings, top, first_line)
    if header:
        paper = with_header_ids(paper, header_identity(masked, header))

    # -- citations: frontmatter reference lists, then the body in order; never the note's own
    # ids, nor anything on its identity lines
    citations: list[Citation] = []
    seen = {("doi", paper.doi), ("arxiv", paper.arxiv), ("citekey", fold_name(paper.citekey))}

    def cite(kind: str, key: str, line: int, ctx: str) -> None:
        if is_new(kind, key):
            citations.append(Citation(key, kind, line, ctx))

    def is_new(kind: str, key: str) -> bool:
        folded = fold_name(key) if kind == "citekey" else key
        if not key or (kind, folded) in seen:
            return False
        seen.add((kind, folded))
        return True

    finder = LineFinder(yaml_text, REFERENCE_TOKEN) if yaml_text else None
    for field_name in REFERENCE_FIELDS:
        value = low.get(field_name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str) or "[[" in item:  # wikilinks there are links
                continue
            for piece in REFERENCE_SPLIT.split(item):
                ref = classify_reference(piece)
                if ref is None:
                    continue
                where = finder.find(piece) if finder else None
                line, ctx = (where[0], _context(where[1])) if where else (1, _context(item))
                cite(ref[0], ref[1], line, ctx)

    found: list[tuple[int, str, str]] = [(pos, "citekey", key) for pos, key in citekeys(unlinked)]
    if "10." in masked:
        for m in DOI.finditer(masked):
            found.append((m.start(), "doi", trim_doi(m.group(0))))
    if "xiv" in masked or "Xiv" in masked or "XIV" in masked:  # arxiv, arXiv, ArXiv, ARXIV
        for m in ARXIV_MARKED.finditer(masked):
            found.append((m.start(), "arxiv", arxiv_key(m.group(1))))
    found.sort(key=lambda item: item[0])
    header_starts = [start for start, _, _ in header]
    for pos, kind, key in found:
        i = bisect.bisect_right(header_starts, pos)
        if (not i or pos >= header[i - 1][1]) and is_new(kind, key):  # not on an identity line
            citations.append(Citation(key, kind, lines.line(pos), lines.context(pos)))

    # -- title, aliases
    stem = (_excalidraw_stem(path) if drawing else _stem(path)) or path
    lead = top if not drawing and _is_title_h1(top, headings) else None  # a drawing: its name
    title = _title(low.get("title"), lead, stem)
    aliases = string_list(low.get("aliases")) + string_list(low.get("alias"))
    aliases = list(dict.fromkeys(aliases))

    return Note(
        path=path,
        title=title,
        aliases=tuple(aliases),
        tags=all_tags,
        links=tuple(links),
        citations=tuple(citations),
        headings=tuple(headings),
        block_ids=tuple(block_ids),
        paper=paper,
        frontmatter=fm,
        body=indexed_body,
        diagnostics=tuple(diags),
    )
