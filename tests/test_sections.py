"""Sections of a note (sections.py) and the best-matching section of each search hit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, write
from vaultindex.parse import parse_note
from vaultindex.sections import best_section, heading_section, headings_fit, query_words, split, stem

NOTE = """\
---
title: A paper
tags: [x]
---
Intro line about nothing.

# A paper

## Method

We prune the data with a margin score.

```python
# not a heading: data pruning in code
```

### Details

Pruning details here, and data pruning again: data pruning.

## Results

Accuracy went up.
"""


def sections_of(text: str):
    return split(text, parse_note("n.md", text).headings)


def test_split_gives_heading_paths_and_file_line_ranges():
    got = [(s.path, s.start_line, s.end_line) for s in sections_of(NOTE)]
    assert got == [
        ((), 5, 5),
        (("A paper",), 7, 7),
        (("A paper", "Method"), 9, 15),  # the fenced `# ...` line is code, not a heading
        (("A paper", "Method", "Details"), 17, 19),
        (("A paper", "Results"), 21, 23),
    ]


@pytest.mark.parametrize(
    "query, path, snippet_has",
    [
        ("data pruning", ("A paper", "Method", "Details"), "data pruning again"),
        ("accuracy", ("A paper", "Results"), "Accuracy went up"),
        ("margin", ("A paper", "Method"), "margin score"),
        ("prun*", ("A paper", "Method", "Details"), "Pruning details"),
        ("intro", (), "Intro line"),
        ('"data pruning" -accuracy', ("A paper", "Method", "Details"), "data pruning"),
        ("results tag:x", ("A paper", "Results"), "Accuracy"),  # a heading's own words count
    ],
)
def test_best_section_is_where_the_query_words_are(query, path, snippet_has):
    section = best_section(NOTE, parse_note("n.md", NOTE).headings, query_words(query))
    assert section is not None and section.path == path
    assert snippet_has in section.snippet


def test_no_section_when_only_fields_that_are_not_text_matched():
    assert best_section(NOTE, parse_note("n.md", NOTE).headings, query_words("tag:x year:2020")) is None
    assert best_section(NOTE, parse_note("n.md", NOTE).headings, query_words("NOT accuracy")) is None


@pytest.mark.parametrize(
    "query, words",
    [
        ("data pruning", ["data", "prun"]),
        ("pruned OR pruning", ["prun"]),
        ('title:"scaling laws" author:kaplan', ["scal", "law"]),
        ("-forgetting NOT ewc distill*", ["distill*"]),
        ("(curricula OR curriculum) year:>2020", ["curricula", "curriculum"]),
        ("the of and", []),
    ],
)
def test_query_words(query, words):
    assert [w.key + ("*" if w.prefix else "") for w in query_words(query)] == words


def test_stem_groups_word_forms():
    assert len({stem(w) for w in ["prune", "pruning", "pruned", "prunes"]}) == 1
    assert stem("distillation") == stem("distilation")


def test_heading_section_includes_subsections_like_obsidian():
    headings = parse_note("n.md", NOTE).headings
    section, text = heading_section(NOTE, headings, "method")
    assert (section.start_line, section.end_line) == (9, 19)
    assert text.startswith("## Method") and "### Details" in text and "Results" not in text
    assert heading_section(NOTE, headings, "A paper > Details")[0].path == ("A paper", "Method", "Details")
    assert heading_section(NOTE, headings, "Method#Details")[0].heading == "Details"
    assert heading_section(NOTE, headings, "Nope") is None


def test_headings_fit_detects_an_edited_file():
    headings = parse_note("n.md", NOTE).headings
    assert headings_fit(NOTE, headings)
    assert not headings_fit("new line\n" + NOTE, headings)


_line = st.one_of(
    st.sampled_from(["", "text", "data pruning", "```", "---", "#", "# H", "## Sub", "### Deep", "#tag line"]),
    st.text(alphabet="ab #\t`-", max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_line, max_size=30))
def test_sections_are_in_order_and_never_overlap(lines):
    text = "\n".join(lines)
    headings = parse_note("n.md", text).headings
    parts = split(text, headings)
    last = 0
    n_lines = len(text.split("\n"))
    for s in parts:
        assert last < s.start_line <= s.end_line <= n_lines
        last = s.end_line
    assert [s.start_line for s in parts if s.level] == [h.line for h in headings]
    found = best_section(text, headings, query_words("data pruning"))
    if found is not None:
        assert any((p.path, p.start_line, p.end_line) == (found.path, found.start_line, found.end_line) for p in parts)


ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _cli(vault, *args):
    return subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(vault), *args], capture_output=True, text=True, env=ENV)


def test_search_json_and_sections_flag_name_the_best_section(example_copy):
    write(example_copy, "papers/Sections demo.md", NOTE.replace("A paper", "Sections demo"))
    proc = _cli(example_copy, "search", "--json", "margin score")
    assert proc.returncode == 0, proc.stderr
    hit = next(h for h in json.loads(proc.stdout) if h["path"] == "papers/Sections demo.md")
    assert hit["section"] == {
        "heading": "Method",
        "path": ["Sections demo", "Method"],
        "level": 2,
        "start_line": 9,
        "end_line": 15,
        "snippet": "We prune the data with a margin score.",
    }
    proc = _cli(example_copy, "search", "--sections", "margin score")
    assert "§ Sections demo > Method  lines 9-15: We prune the data with a margin score." in proc.stdout
    plain = _cli(example_copy, "search", "margin score")
    assert "§" not in plain.stdout


def test_a_section_reflects_the_file_edited_after_indexing(example_copy):
    path = write(example_copy, "papers/Sections demo.md", NOTE)
    assert _cli(example_copy, "sync").returncode == 0
    path.write_text("Two new lines\nat the top\n" + NOTE, encoding="utf-8")
    from vaultindex import Vault

    # Vault.search answers from the index as it is (the CLI syncs first; a watch may lag).
    hit = next(h for h in Vault.open(example_copy).search("margin").hits if h.path == "papers/Sections demo.md")
    assert (hit.section.start_line, hit.section.heading) == (11, "Method")
