"""PURE text -> Note: the parser as a package, one module per kind of thing read from a note.

Everything here works on a string and returns data; nothing reads files. `parse_note` never
raises: problems in a note become `Diagnostic`s and the rest of the note is still indexed.

How the body is read, once per note:
  1. `mask_code` blanks code, math and comments (same length, same line breaks), so every
     later regex sees the same offsets as the real text and never matches inside them;
  2. wikilinks, then Markdown links are found on the masked text and blanked in turn, so
     tags and citekeys are never taken from inside a link;
  3. line numbers come from one bisect over the body's line-start offsets.

Modules: `frontmatter` (YAML through python-frontmatter's handler, guarded, line offsets),
`markdown` (masking, headings), `links`, `tags`, `citations`, `paper` (the note's own paper
record), `note` (bytes -> text, text -> Note, titles, Excalidraw). This file only re-exports
the names other modules import.
"""

from __future__ import annotations

from ..versions import PARSER_VERSION
from .citations import normalize_arxiv, normalize_doi
from .markdown import mask_code, strip_comments
from .note import decode, drawing_text, excalidraw_sections, is_excalidraw, parse_note, render_inline
from .tags import expand_tags, find_inline_tags

__all__ = [
    "PARSER_VERSION",
    "decode",
    "drawing_text",
    "excalidraw_sections",
    "expand_tags",
    "find_inline_tags",
    "is_excalidraw",
    "mask_code",
    "normalize_arxiv",
    "normalize_doi",
    "parse_note",
    "render_inline",
    "strip_comments",
]
