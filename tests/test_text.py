"""text.py: how paths and note text are shown to a person and written as JSON."""

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultindex.text import (
    WIKILINK,
    escape_controls,
    fold_name,
    fold_typed,
    is_generated,
    json_safe,
    nfc,
    quote_path,
    split_frontmatter,
    unquote_path,
)

names = st.binary(min_size=1, max_size=40).map(os.fsdecode)


@given(names)
def test_quote_path_is_lossless_and_one_line(path):
    quoted = quote_path(path)
    assert unquote_path(quoted) == path
    assert "\n" not in quoted and "\r" not in quoted
    quoted.encode("utf-8")  # never a surrogate: printable on a strict UTF-8 stream


def test_quote_path_like_git():
    assert quote_path("papers/LoRA.md") == "papers/LoRA.md"
    assert quote_path("注意力.md") == "注意力.md"
    assert quote_path(os.fsdecode(b"bad-\xff.md")) == '"bad-\\377.md"'
    assert quote_path("two\nlines.md") == '"two\\nlines.md"'


@given(st.text())
def test_escape_controls_leaves_no_control_character(text):
    shown = escape_controls(text)
    assert not any(ord(c) < 0x20 and c != "\t" or 0x7F <= ord(c) <= 0x9F for c in shown)
    shown.encode("utf-8")


def test_escape_controls_defuses_terminal_escapes():
    assert escape_controls("a\x1b]52;c;aGk=\x07b") == "a\\x1b]52;c;aGk=\\x07b"
    assert escape_controls("\x1b[2J") == "\\x1b[2J"
    assert escape_controls("plain 文字\ttab") == "plain 文字\ttab"


def test_json_safe_keeps_text_and_quotes_only_bad_bytes():
    bad = os.fsdecode(b"bad-\xff.md")
    data = json_safe({"path": bad, "title": "a\x1bb", "links": [bad, "ok"]})
    text = json.dumps(data, ensure_ascii=False)
    text.encode("utf-8")
    back = json.loads(text)
    assert back["title"] == "a\x1bb"
    assert unquote_path(back["path"]) == bad
    assert back["links"] == ['"bad-\\377.md"', "ok"]


# -- reading rules shared by the parser and the other layers


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Note", "note"),
        ("Über", "u\u0308ber"),  # NFC vs a decomposed name (macOS file names)
        ("STRASSE", "straße"),  # case-folding, not lower()
        ("\u0130stanbul", "i\u0307stanbul"),  # casefold un-normalizes İ: NFC again
    ],
)
def test_fold_name_makes_one_name_of_the_forms_obsidian_treats_as_one(a, b):
    assert fold_name(a) == fold_name(b)
    assert fold_name(fold_name(a)) == fold_name(a)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\na: 1\n---\nbody\n", ("a: 1\n", "body\n", 3)),
        ("---  \na: 1\n---\t\n\n\nbody", ("a: 1\n", "\n\nbody", 3)),  # trailing blanks, body kept
        ("---\na: 1\n...\nbody", ("a: 1\n", "body", 3)),  # YAML's document end closes too
        ("---\n---\nbody", ("", "body", 2)),
        ("\n---\na: 1\n---\n", (None, "\n---\na: 1\n---\n", 0)),  # not the first line
        ("----\na: 1\n----\n", (None, "----\na: 1\n----\n", 0)),
    ],
)
def test_split_frontmatter_follows_obsidian_and_keeps_offsets(text, expected):
    assert split_frontmatter(text) == expected


def test_split_frontmatter_without_a_closing_line_raises():
    with pytest.raises(ValueError, match="closing"):
        split_frontmatter("---\na: 1\nbody\n")


def test_wikilink_pattern_allows_single_brackets_inside():
    assert [m.group(1) for m in WIKILINK.finditer("[[A#[2020-06] T|x]] [[B]] [[no\nlink]]")] == [
        "A#[2020-06] T|x",
        "B",
    ]


def test_the_three_foldings_differ_only_where_their_use_needs_it():
    # nfc keeps the case (mentions show the spelling, doctor reports a case mismatch) ...
    assert nfc("U\u0308ber") == "\u00dcber" and nfc("LoRA") == "LoRA"
    # ... fold_name keeps the spaces, as file names do (`a .md` is another file) ...
    assert fold_name(" Über ") == " über " != fold_name("Über")
    # ... fold_typed drops them, as a person typing a title or a tag means none.
    assert fold_typed(" U\u0308BER\t") == fold_name("über") == "über"


@given(st.text(max_size=30))
def test_folding_is_idempotent_and_paths_fold_part_by_part(text):
    assert fold_name(fold_name(text)) == fold_name(text)
    assert fold_typed(fold_typed(text)) == fold_typed(text)
    path = f"{text}/{text.upper()}/x.md"
    assert fold_name(path) == "/".join(fold_name(part) for part in path.split("/"))


@pytest.mark.parametrize(
    ("frontmatter", "expected"),
    [
        ({"generated_by": "vaultindex"}, True),
        ({"generated_by": " VaultIndex "}, True),
        ({"generated_by": "obsidian"}, False),
        ({"generated_by": ["vaultindex"]}, False),
        ({}, False),
        (None, False),
        (["generated_by"], False),
    ],
)
def test_is_generated_reads_only_our_own_marker(frontmatter, expected):
    assert is_generated(frontmatter) is expected


def test_every_layer_agrees_on_what_a_generated_page_is():
    from vaultindex.parse import parse_note
    from vaultindex.tagpages import is_generated as tagpages_is_generated

    note = parse_note("Tags/ml (tag).md", "---\ngenerated_by: vaultindex\ntag_name: ml\n---\n# ml\n")
    assert note.generated and tagpages_is_generated(note.frontmatter) and is_generated(note.frontmatter)
