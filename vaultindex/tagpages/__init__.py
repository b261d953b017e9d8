"""Owns tag pages: one Markdown note per tag listing the notes that carry it.

Two halves:

* PURE (no disk, no clock): counting tags, turning tag names into safe page paths, planning
  what each page lists, rendering a page's text and merging it into a page's existing text
  (`count_tags`, `page_paths`, `plan_pages`, `render_page`, `update_page`, ...).
* I/O at the edge: `write_pages(source, memory, ...)`, which writes only the pages whose text
  changes (atomically), deletes pages of vanished tags only when they carry the generated
  marker and hold no text of the user's, and never touches a user's own file. It reads no
  Vault: `source` is the data `Vault.write_tag_pages` gathers from the index.

The package in four modules: pages.py (the keys, markers and data, counting tags), naming.py
(file names and planning), render.py (a page's text, merged into what is there), write.py
(the disk).

A page looks like this (the user may write anything above or below the markers, and add
frontmatter keys of their own; both survive every rewrite):

    ---
    generated_by: vaultindex
    tag_name: ml/vision
    count: 3
    ---

    <!-- vaultindex:begin ... -->
    # ml/vision
    ...
    <!-- vaultindex:end -->

The tag is kept under `tag_name`, not `tag`: `tag` is Obsidian's legacy spelling of `tags`
(and parse.py reads it as such), so it would make the page itself count as tagged.
"""


from __future__ import annotations

from .naming import (
    DEFAULT_NAME,
    MAX_SEGMENT_BYTES,
    BadPageName,
    check_folder,
    check_name,
    link_target,
    page_paths,
    plan_pages,
    safe_segment,
)
from .pages import (
    BEGIN_MARKER,
    END_MARKER,
    GENERATED_BY,
    KEY_COUNT,
    KEY_GENERATED,
    KEY_TAG,
    OWN_KEYS,
    PAGE_SORTS,
    TAG_SORTS,
    BadTagFolder,
    PageEntry,
    TagInfo,
    TagLink,
    TagPage,
    TagPagesResult,
    count_tags,
    is_generated,
    parent_tag,
    sort_tags,
    tag_tree,
)
from .render import render_block, render_frontmatter, render_page, update_page, yaml_scalar
from .write import TagPageMemory, TagSource, write_pages

__all__ = [
    "BEGIN_MARKER",
    "DEFAULT_NAME",
    "END_MARKER",
    "GENERATED_BY",
    "KEY_COUNT",
    "KEY_GENERATED",
    "KEY_TAG",
    "MAX_SEGMENT_BYTES",
    "OWN_KEYS",
    "PAGE_SORTS",
    "TAG_SORTS",
    "BadPageName",
    "BadTagFolder",
    "PageEntry",
    "TagInfo",
    "TagLink",
    "TagPage",
    "TagPageMemory",
    "TagPagesResult",
    "TagSource",
    "check_folder",
    "check_name",
    "count_tags",
    "is_generated",
    "link_target",
    "page_paths",
    "parent_tag",
    "plan_pages",
    "render_block",
    "render_frontmatter",
    "render_page",
    "safe_segment",
    "sort_tags",
    "tag_tree",
    "update_page",
    "write_pages",
    "yaml_scalar",
]
