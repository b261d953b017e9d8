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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each name is imported from its module on first use: listing tags (`vaultindex tags`, from the
# store) needs pages.py only, not the renderer's YAML and frontmatter parser (0.1 s to import).
_HOMES = {
    "DEFAULT_NAME": "naming",
    "MAX_SEGMENT_BYTES": "naming",
    "BadPageName": "naming",
    "check_folder": "naming",
    "check_name": "naming",
    "link_target": "naming",
    "page_paths": "naming",
    "plan_pages": "naming",
    "safe_segment": "naming",
    "BEGIN_MARKER": "pages",
    "END_MARKER": "pages",
    "GENERATED_BY": "pages",
    "KEY_COUNT": "pages",
    "KEY_GENERATED": "pages",
    "KEY_TAG": "pages",
    "OWN_KEYS": "pages",
    "PAGE_SORTS": "pages",
    "TAG_SORTS": "pages",
    "BadTagFolder": "pages",
    "PageEntry": "pages",
    "TagInfo": "pages",
    "TagLink": "pages",
    "TagPage": "pages",
    "TagPagesResult": "pages",
    "count_tags": "pages",
    "is_generated": "pages",
    "parent_tag": "pages",
    "sort_tags": "pages",
    "tag_tree": "pages",
    "render_block": "render",
    "render_frontmatter": "render",
    "render_page": "render",
    "update_page": "render",
    "yaml_scalar": "render",
    "TagPageMemory": "write",
    "TagSource": "write",
    "write_pages": "write",
}


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


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
