"""The text snippets are cut from: prose as a reader sees it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultindex.snippet import first_line, readable


@pytest.mark.parametrize(
    "body, expected",
    [
        ("See [[Scaling laws]] now.", "See Scaling laws now."),
        ("See [[Scaling laws|the Kaplan paper]].", "See the Kaplan paper."),
        ("See [[Scaling laws#Results]].", "See Scaling laws > Results."),
        ("See [[#Summary]].", "See Summary."),
        ("A figure ![[fig.png]] here.", "A figure  here."),
        ("Read [the paper](https://arxiv.org/abs/1) twice.", "Read the paper twice."),
        ("- a **bold** and __strong__ ==marked== point", "a bold and strong marked point"),
        ("1. first\n2) second", "first\nsecond"),
        ("- [x] done item", "done item"),
        ("> [!note] A callout", "A callout"),
        ("## A heading\nText under it.", "\nText under it."),
        ("#data-pruning #ml/vision\nprose", "\nprose"),
        ("- #data-pruning #ml/vision #to-discuss\nprose", "\nprose"),
        ("Tags: #a, #b\nprose", "\nprose"),
        ("Prose with a #tag inside stays.", "Prose with a #tag inside stays."),
        ("A block ^abc-1\nnext", "A block\nnext"),
        ("Cite [@kaplan2020] here.", "Cite [@kaplan2020] here."),
        ("When a == b, and x ~~ y.", "When a == b, and x ~~ y."),  # no pair around text
    ],
)
def test_readable(body, expected):
    assert readable(body) == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        ("# Title\n\n#ml #data\n\nFirst [[real]] line.\nSecond.", "First real line."),
        ("---\n```\ncode\n```", "code"),
        ("# Only a heading", ""),
        ("", ""),
    ],
)
def test_first_line_is_prose(body, expected):
    assert first_line(body) == expected


@given(st.text())
def test_readable_never_raises_and_keeps_lines(body):
    text = readable(body)
    assert text.count("\n") <= body.count("\n")  # equal, except for a drawing's text elements
    assert len(text) <= len(body)


@given(st.lists(st.sampled_from(["%%", "<!--", "-->", "`", "```", "\n", " ", "secret", "a"]), max_size=30).map("".join))
def test_readable_never_shows_a_comment(body):
    text = readable(body)
    assert text.count("\n") == body.count("\n")
    if "`" not in body:  # outside code every `%%` opens or closes a comment
        assert "%%" not in text and "<!--" not in text


COMMENTS = [
    ("Plan the release. %%private remark about zanzibar%% Then ship.", "Plan the release.  Then ship."),
    ("Visible\n%% kanban:settings\n{\"kanban-plugin\":\"basic\"}\n%%\nafter", "Visible\n\n\n\nafter"),
    ("Visible <!-- hidden html comment --> too", "Visible  too"),
    ("Open %% unclosed hides\nthe rest", "Open \n"),
    ("Code `%%` is not a comment %%but this is%%", "Code `%%` is not a comment "),
]


@pytest.mark.parametrize(("body", "expected"), COMMENTS)
def test_comments_are_never_in_snippets(body, expected):
    assert readable(body) == expected


DRAWING_BODY = """==⚠  Switch to EXCALIDRAW VIEW in the MORE OPTIONS menu of this document. ⚠==

# Excalidraw Data

## Text Elements
Tokenizer stage ^aB3dE5fG

## Embedded Files
0123abcd: [[diagram.png]]

## Drawing
```json
{"type":"excalidraw","elements":[{"type":"text","text":"Tokenizer stage","strokeColor":"#1e1e1e"}]}
```
"""


def test_a_drawings_snippet_is_its_text_elements():
    assert readable(DRAWING_BODY) == "Tokenizer stage"
    assert first_line(DRAWING_BODY) == "Tokenizer stage"
    assert readable("## Text Elements\nan ordinary note's section") == "\nan ordinary note's section"


def test_first_line_skips_comments():
    assert first_line("%% draft: zanzibar %%\nReal prose.") == "Real prose."


@given(st.text(max_size=400))
def test_first_line_is_a_short_single_line(body):
    line = first_line(body, limit=50)
    assert "\n" not in line and len(line) <= 50


@pytest.mark.parametrize(
    "body, expected",
    [
        ("See [[a#[x] y|z]].", "See z."),
        (
            "See [[papers/machine-learning/README#[2021-06] LoRA Low-Rank Adaptation of Large Language Models|README]].",
            "See README.",
        ),
        ("See [[papers/README#[2021-06] LoRA]].", "See README > [2021-06] LoRA."),
        ("See [[papers/ml/Scaling laws]].", "See Scaling laws."),
        ("| [[Scaling laws\\|Kaplan]] | x |", "| Kaplan | x |"),
        ("A figure ![[fig [1].png]] here.", "A figure  here."),
    ],
)
def test_links_with_brackets_inside_show_their_text(body, expected):
    assert readable(body) == expected


# Obsidian's link text: one line, no `[[` or `]]` inside (the link ends at the first `]]`).
# (first_line reads lines as Python's splitlines does, which also breaks at \f, \x1c, \u2028...)
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_link_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=_LINE_BREAKS), min_size=1).filter(
    lambda t: "[[" not in t and "]]" not in t and not t.endswith("]") and not t.startswith("[")
)
_prose = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="[]!%<#" + _LINE_BREAKS), min_size=1)
_wikilink = st.builds(lambda bang, inner: f"{bang}[[{inner}]]", st.sampled_from(["", "!"]), _link_text)


@given(st.lists(st.tuples(_prose, _wikilink), min_size=1, max_size=5), _prose)
def test_a_shown_snippet_never_holds_the_brackets_of_a_wikilink(parts, tail):
    body = "".join(prose + link for prose, link in parts) + tail
    assert "[[" not in readable(body)
    assert "[[" not in first_line(body, limit=10_000)


def test_search_shows_a_link_to_a_bracketed_heading_as_its_text(tmp_path):
    # the pattern of a real vault's README index: links to headings named "[2021-06] Title"
    import json

    from click.testing import CliRunner

    from conftest import write
    from vaultindex.cli import cli

    write(tmp_path, "papers/ml/README.md", "# [2021-06] LoRA Low-Rank Adaptation\n\nA list.\n")
    write(
        tmp_path,
        "Index.md",
        "Read [[papers/ml/README#[2021-06] LoRA Low-Rank Adaptation|README]] and "
        "[[papers/ml/README#[2021-06] LoRA Low-Rank Adaptation]] on low rank adaptation.\n",
    )
    result = CliRunner().invoke(cli, ["--vault", str(tmp_path), "search", "--json", "low rank adaptation"])
    assert result.exit_code == 0, result.output
    snippets = {hit["path"]: hit["snippet"] for hit in json.loads(result.stdout)}
    assert "[[" not in snippets["Index.md"]
    assert snippets["Index.md"].startswith("Read README and README > [2021-06] LoRA Low-Rank Adaptation on low")
