"""parse/frontmatter.py: frontmatter read and written through python-frontmatter's handler."""

from __future__ import annotations

import frontmatter
import pytest
import yaml
from frontmatter.default_handlers import YAMLHandler
from hypothesis import example, given
from hypothesis import strategies as st

from vaultindex.parse import parse_note
from vaultindex.parse.frontmatter import HANDLER, dump_frontmatter


def test_the_handler_is_python_frontmatters_and_parse_gets_our_guards():
    assert isinstance(HANDLER, YAMLHandler)
    # the library's own entry point, with our handler: dates are ISO strings, not datetime.date
    meta, content = frontmatter.parse("---\nd: 2024-01-02\ntags: [a]\n---\nbody\n", handler=HANDLER)
    assert meta == {"d": "2024-01-02", "tags": ["a"]}
    assert content == "body"
    # a list as frontmatter is a problem with its message, not silently empty metadata
    with pytest.raises(ValueError, match="not key: value pairs"):
        HANDLER.load("- a\n- b\n")


# Each row is one reason the note reader keeps its own split (see the module docstring).
@pytest.mark.parametrize(
    ("text", "library_default"),
    [
        ("----\na: 1\n----\nbody", {"a": 1}),  # the library opens on four dashes; Obsidian does not
        ("\n---\na: 1\n---\nbody", {"a": 1}),  # nor after a leading blank line
        ("---\na: 1\n...\nbody", {}),  # YAML's `...` closes for Obsidian, not for the library
    ],
)
def test_where_the_library_default_differs_from_obsidian(text, library_default):
    assert frontmatter.parse(text)[0] == library_default  # measured on python-frontmatter 1.3
    expected = {"a": 1} if text.startswith("---\n") else {}
    assert parse_note("n.md", text).frontmatter == expected


def test_body_line_numbers_survive_blank_lines_after_the_frontmatter():
    text = "---\na: 1\n---\n\n\n[[Target]]\n"
    assert frontmatter.parse(text)[1] == "[[Target]]"  # the library strips: line 6 would be lost
    (link,) = parse_note("n.md", text).links
    assert link.line == 6


def test_guards_still_hold_through_the_handler():
    deep = "a: " + "[" * 30000 + "]" * 30000 + "\n"
    note = parse_note("n.md", f"---\n{deep}---\nbody")
    assert note.frontmatter == {}
    assert any("nested too deeply" in d.message for d in note.diagnostics)
    bad = parse_note("n.md", "---\na: 1\nb: [\n---\nbody")
    assert bad.frontmatter == {} and bad.diagnostics[0].line in (3, 4)


safe_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
mappings = st.dictionaries(
    st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=10),
    st.one_of(safe_text, st.integers(), st.lists(safe_text, max_size=3)),
    max_size=5,
)


@given(mappings)
@example({"a": "\xa0"})  # the library's export strips the YAML: a value of spaces was lost
@example({"a": ["x", "\u3000"]})
def test_dump_frontmatter_reads_back_and_matches_what_tag_pages_write(mapping):
    text = dump_frontmatter(mapping)
    assert (yaml.safe_load(text) or {}) == mapping
    assert list(yaml.safe_load(text) or {}) == list(mapping)  # key order kept
    if mapping:
        legacy = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
        assert text == legacy
        assert parse_note("p.md", f"---\n{text}---\n").frontmatter == mapping
