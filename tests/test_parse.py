"""Table-driven tests for vaultindex.parse, plus hypothesis properties.

Each table row is one rule from Obsidian's (or pandoc's) behaviour; the ids say which.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultindex.models import Note
from vaultindex.parse import (
    PARSER_VERSION,
    decode,
    expand_tags,
    find_inline_tags,
    mask_code,
    parse_note,
)
from vaultindex.text import name_shown


def parse(text: str, path: str = "papers/Note.md") -> Note:
    return parse_note(path, text)


def inline_tags(body: str) -> list[str]:
    return [tag for tag, _ in find_inline_tags(body)]


def link_rows(note: Note) -> list[tuple[str, str, str, str, str]]:
    return [(l.target, l.kind, l.subpath, l.display, l.form) for l in note.links]


def cite_rows(note: Note) -> list[tuple[str, str]]:
    return [(c.kind, c.key) for c in note.citations]


def messages(note: Note) -> str:
    return " | ".join(d.message for d in note.diagnostics)


def test_parser_version_is_an_int():
    assert isinstance(PARSER_VERSION, int) and PARSER_VERSION >= 1


# ------------------------------------------------------------------------------------------
# tags
# ------------------------------------------------------------------------------------------

TAGS = [
    ("#-", "-"),
    ("#_", "_"),
    ("#kebab-notation", "kebab-notation"),
    ("#snake_notation", "snake_notation"),
    ("#спам", "спам"),
    ("#123a", "123a"),
    ("#123-", "123-"),
    ("#parent/child", "parent/child"),
    ("text #tag more", "tag"),
    ("\t#tabbed", "tabbed"),
    ("- [ ] task #todo", "todo"),
    ("end of sentence #tag.", "tag"),
    ("list #a, #b", "a"),
    ("#tag: value", "tag"),
    ("#trailing/", "trailing"),
    ("#CamelCase", "CamelCase"),  # find_inline_tags keeps the case; Note.tags lower-cases
    ("#tag。", "tag"),  # Unicode punctuation ends a tag
    ("# Heading with #inhead", "inhead"),
    ("costs $5 and #tag $6", "tag"),  # currency is not math
]


@pytest.mark.parametrize(("body", "tag"), TAGS, ids=[row[0] for row in TAGS])
def test_inline_tag(body, tag):
    assert inline_tags(body)[0] == tag


NOT_TAGS = [
    "#123",
    "foo#bar",
    "/#slashed",
    "\\#escaped",
    "(#braced)",
    "`#code`",
    "``#code with ` inside``",
    "https://x.org/page#section",
    "see <https://x.org/page#section>",
    "# Title",
    "## X",
    "###### Six",
    "#",
    "#/",
    "$x #y$",
    "$$\n#y\n$$",
    "%% #comment %%",
    "%%\n#comment\n%%",
    "<!-- #html -->",
    "<!--\n#html\n-->",
    "```\n#fenced\n```",
    "~~~\n#fenced\n~~~",
    "````md\n```\n#nested\n```\n````",
    "```\nunclosed fence\n#fenced",
    "[[Note#heading]]",
    "[[Note| #display]]",
    "[text](Note.md#section)",
]


@pytest.mark.parametrize("body", NOT_TAGS)
def test_not_a_tag(body):
    assert inline_tags(body) == []
    assert parse(body).tags == ()


def test_inline_tag_lines():
    body = "first\n#one\n```\n#no\n```\ntext #two/three"
    assert find_inline_tags(body) == [("one", 2), ("two/three", 6)]


@pytest.mark.parametrize(
    ("tags", "expanded"),
    [
        (["ml/vision"], ("ml", "ml/vision")),
        (["ML/Vision", "ml"], ("ml", "ml/vision")),
        (["a/b/c"], ("a", "a/b", "a/b/c")),
        (["b", "a", "b"], ("a", "b")),
        (["#x"], ("x",)),
        (["a//b/"], ("a", "a/b")),
        ([], ()),
    ],
)
def test_expand_tags(tags, expanded):
    assert expand_tags(tags) == expanded


FRONTMATTER_TAGS = [
    ("tags: [a, B]", ("a", "b")),
    ("tags: a, b c", ("a", "b", "c")),
    ('tags: "a, b c"', ("a", "b", "c")),
    ("tags: '#x'", ("x",)),
    ("tags: #x", ()),  # YAML reads `#x` as a comment
    ("tag: legacy", ("legacy",)),
    ("tags:\n  - ml/vision", ("ml", "ml/vision")),
    ("tags: [2024, x]", ("x",)),  # all digits is not a tag
    ("tags:\n  -\n  - a", ("a",)),
    ("Tags: [upper-key]", ("upper-key",)),
    ("tags: [a]\ntag: b", ("a", "b")),
]


@pytest.mark.parametrize(
    ("yaml_text", "tags"), FRONTMATTER_TAGS, ids=[r[0] for r in FRONTMATTER_TAGS]
)
def test_frontmatter_tags(yaml_text, tags):
    assert parse(f"---\n{yaml_text}\n---\nbody\n").tags == tags


def test_tags_merge_frontmatter_and_inline_lower_case():
    note = parse("---\ntags: [Paper]\n---\nAbout #ML/Vision and #paper\n")
    assert note.tags == ("ml", "ml/vision", "paper")


# ------------------------------------------------------------------------------------------
# links
# ------------------------------------------------------------------------------------------

LINKS = [
    ("[[Target]]", [("Target", "link", "", "", "wiki")]),
    ("[[Target|display]]", [("Target", "link", "", "display", "wiki")]),
    ("[[Target#Heading]]", [("Target", "link", "Heading", "", "wiki")]),
    ("[[Target#^block]]", [("Target", "link", "^block", "", "wiki")]),
    ("[[#Heading]]", [("", "link", "Heading", "", "wiki")]),
    ("[[#^block|here]]", [("", "link", "^block", "here", "wiki")]),
    ("[[Target#H1#H2]]", [("Target", "link", "H1#H2", "", "wiki")]),
    ("[[ Spaced  |  shown ]]", [("Spaced", "link", "", "shown", "wiki")]),
    ("[[Note.md]]", [("Note.md", "link", "", "", "wiki")]),
    ("[[folder/Note]]", [("folder/Note", "link", "", "", "wiki")]),
    ("![[image.png]]", [("image.png", "embed", "", "", "wiki")]),
    ("![[image.png|100]]", [("image.png", "embed", "", "100", "wiki")]),
    ("![[Note#Section]]", [("Note", "embed", "Section", "", "wiki")]),
    ("| [[Note\\|alias]] |", [("Note", "link", "", "alias", "wiki")]),
    (
        "[[papers/README#[2020-06] Title|README]]",
        [("papers/README", "link", "[2020-06] Title", "README", "wiki")],
    ),
    ("\\\\[[Linked]]", [("Linked", "link", "", "", "wiki")]),  # escaped backslash, real link
    ("[[A]] and [[B]]", [("A", "link", "", "", "wiki"), ("B", "link", "", "", "wiki")]),
    ("[text](Note%20name.md)", [("Note name.md", "link", "", "text", "markdown")]),
    ("[text](<Note name.md>)", [("Note name.md", "link", "", "text", "markdown")]),
    ("[t](Note.md#Some%20Heading)", [("Note.md", "link", "Some Heading", "t", "markdown")]),
    ("[t](#anchor)", [("", "link", "anchor", "t", "markdown")]),
    ('[t](folder/Note.md "a title")', [("folder/Note.md", "link", "", "t", "markdown")]),
    ("[t](../up.md)", [("../up.md", "link", "", "t", "markdown")]),
    ("![alt](img.png)", [("img.png", "embed", "", "alt", "markdown")]),
    ("![](<my pic.png>)", [("my pic.png", "embed", "", "", "markdown")]),
    ("[`code` text](Note.md)", [("Note.md", "link", "", "`code` text", "markdown")]),
    (
        "[m](Note.md) then [[W]]",
        [("Note.md", "link", "", "m", "markdown"), ("W", "link", "", "", "wiki")],
    ),
    ("costs $5 and [[X]] $6", [("X", "link", "", "", "wiki")]),  # currency is not math
    ("`a`\n[[X]]", [("X", "link", "", "", "wiki")]),
    ("`unclosed\n\n[[X]]", [("X", "link", "", "", "wiki")]),  # a blank line ends code
]


@pytest.mark.parametrize(("body", "rows"), LINKS, ids=[r[0] for r in LINKS])
def test_link(body, rows):
    assert link_rows(parse(body)) == rows


NOT_LINKS = [
    "```\n[[X]]\n```",
    "```python\n[[X]]\n```",
    "~~~\n[[X]]\n~~~",
    "````\n```\n[[X]]\n```\n````",
    "  ```\n  [[X]]\n  ```",
    "- item\n\t```\n\t[[X]]\n\t```",
    "> ```\n> [[X]]\n> ```",
    "```\nunclosed fence\n[[X]]",
    "`[[X]]`",
    "`` [[X]] ``",
    "``a ` [[X]]``",
    "```x``` `[[X]]`",
    "`a\n[[X]] b`",  # inline code may span lines in a paragraph
    "$[[X]]$",
    "$$\n[[X]]\n$$",
    "$$ [[X]] $$",
    "%% [[X]] %%",
    "%%\n[[X]]\n%%",
    "%% unclosed comment\n[[X]]",
    "<!-- [[X]] -->",
    "<!--\n[[X]]\n-->",
    "\\[[X]]",
    "\\[\\[X\\]\\]",
    "\\[t](Note.md)",
    "[[]]",
    "![[]]",
    "[[|x]]",
    "[t]()",
    "[web](https://example.org/x.md)",
    "[web](http://example.org)",
    "[mail](mailto:a@b.c)",
    "[o](obsidian://open?vault=x&file=y)",
    "[z](zotero://select/items/@key)",
    "[proto](//example.org/x)",
    "<https://example.org/x.md>",
]


@pytest.mark.parametrize("body", NOT_LINKS)
def test_not_a_link(body):
    assert parse(body).links == ()


def test_link_line_counts_frontmatter_and_context_is_the_stripped_line():
    text = "---\ntitle: T\naliases: [x]\n---\n\n   see [[Target|t]] here   \n"
    (link,) = parse(text).links
    assert link.line == 6
    assert link.context == "see [[Target|t]] here"


def test_link_context_is_capped():
    (link,) = parse("x" * 1000 + " [[T]]").links
    assert len(link.context) <= 300


def test_frontmatter_links():
    text = (
        "---\n"
        "author:\n"
        '  - "[[Emile van Krieken]]"\n'
        "related: \"[[Other#Sec|shown]]\"\n"
        "nested: {deep: ['x [[Deep]] y', '![[fig.png]]']}\n"
        "plain: no link\n"
        "---\n"
        "[[Body]]\n"
    )
    note = parse(text)
    assert link_rows(note) == [
        ("Emile van Krieken", "link", "", "", "frontmatter"),
        ("Other", "link", "Sec", "shown", "frontmatter"),
        ("Deep", "link", "", "", "frontmatter"),
        ("fig.png", "embed", "", "", "frontmatter"),
        ("Body", "link", "", "", "wiki"),
    ]
    assert [l.line for l in note.links] == [3, 4, 5, 5, 8]
    assert note.links[0].context == '- "[[Emile van Krieken]]"'


def test_frontmatter_link_in_folded_text_falls_back_to_line_1():
    text = "---\nnote: >\n  a [[Folded\n  Name]] b\n---\n"
    links = parse(text).links
    assert [(l.target, l.line) for l in links] == [("Folded Name", 1)]


# ------------------------------------------------------------------------------------------
# headings and block ids
# ------------------------------------------------------------------------------------------

HEADINGS = [
    ("# Title", [(1, "Title", 1)]),
    ("###### Six", [(6, "Six", 1)]),
    ("####### Seven", []),
    ("#NoSpace", []),
    ("## Closing ##", [(2, "Closing", 1)]),
    ("# C#", [(1, "C#", 1)]),
    ("   # Three spaces", [(1, "Three spaces", 1)]),
    ("# With `code`", [(1, "With `code`", 1)]),
    ("#", [(1, "", 1)]),
    ("text\n\n## Second\n### Third", [(2, "Second", 3), (3, "Third", 4)]),
    ("```\n# not\n```", []),
    ("%%\n# not\n%%", []),
    ("$$\n# not\n$$", []),
]


@pytest.mark.parametrize(("body", "rows"), HEADINGS, ids=[r[0] for r in HEADINGS])
def test_headings(body, rows):
    assert [(h.level, h.text, h.line) for h in parse(body).headings] == rows


def test_heading_line_counts_frontmatter():
    assert parse("---\na: 1\n---\n# H\n").headings[0].line == 4


BLOCK_IDS = [
    ("Paragraph ^abc-1", ("abc-1",)),
    ("^alone", ("alone",)),
    ("text ^id  ", ("id",)),
    ("one ^a\ntwo ^b\nthree ^a", ("a", "b")),
    ("x ^bad_id", ()),
    ("x^nospace", ()),
    ("`code ^id`", ()),
    ("$x ^2$", ()),
    ("footnote[^1]", ()),
    ("^id in the middle", ()),
    ("```\n^fenced\n```", ()),
]


@pytest.mark.parametrize(("body", "ids"), BLOCK_IDS, ids=[r[0] for r in BLOCK_IDS])
def test_block_ids(body, ids):
    assert parse(body).block_ids == ids


# ------------------------------------------------------------------------------------------
# citations
# ------------------------------------------------------------------------------------------

CITATIONS = [
    ("[@key]", [("citekey", "key")]),
    ("[see @a, p. 3; @b]", [("citekey", "a"), ("citekey", "b")]),
    ("[@a;@b]", [("citekey", "a"), ("citekey", "b")]),
    ("[-@key]", [("citekey", "key")]),
    ("As @smith2020 shows", [("citekey", "smith2020")]),
    ("@doe:2020.", [("citekey", "doe:2020")]),
    ("(@key)", [("citekey", "key")]),
    ("@{weird key}", [("citekey", "weird key")]),
    ("[@a] and again [@a]", [("citekey", "a")]),
    ("mail me: a@b.com", []),
    ("foo@bar", []),
    ("meet @ noon", []),
    ("`@code`", []),
    ("[[@linked]]", []),
    ("[profile](https://medium.com/@user)", []),
    ("https://twitter.com/@user", []),
    ("doi 10.1234/abc.def.", [("doi", "10.1234/abc.def")]),
    ("(10.1000/XYZ)", [("doi", "10.1000/xyz")]),
    ("see 10.1234/abc;", [("doi", "10.1234/abc")]),
    ("'10.1234/abc'", [("doi", "10.1234/abc")]),
    ('"10.1234/abc",', [("doi", "10.1234/abc")]),
    ("10.1016/S0140-6736(20)30183-5,", [("doi", "10.1016/s0140-6736(20)30183-5")]),
    ("https://doi.org/10.1145/1597735.1597738", [("doi", "10.1145/1597735.1597738")]),
    (
        "[Paper](https://dl.acm.org/doi/10.1145/1597735.1597738)",
        [("doi", "10.1145/1597735.1597738")],
    ),
    ("[10.1234/abc](https://doi.org/10.1234/abc)", [("doi", "10.1234/abc")]),
    ("x10.1234/abc", []),
    ("10.12/too-short-prefix", []),
    ("`10.1234/in-code`", []),
    ("arXiv:2206.14486", [("arxiv", "2206.14486")]),
    ("arXiv: 2206.14486v2", [("arxiv", "2206.14486")]),
    ("https://arxiv.org/abs/2206.14486v2", [("arxiv", "2206.14486")]),
    ("[Paper](http://arxiv.org/abs/2006.11239)", [("arxiv", "2006.11239")]),
    ("arxiv.org/pdf/2206.14486v1.pdf", [("arxiv", "2206.14486")]),
    ("arXiv:hep-th/9901001", [("arxiv", "hep-th/9901001")]),
    ("http://arxiv.org/abs/hep-th/9901001v3", [("arxiv", "hep-th/9901001")]),
    ("ARXIV:1706.03762", [("arxiv", "1706.03762")]),
    ("2206.14486", []),  # a bare number is not clearly an arXiv id
    ("arXiv:1234.5", []),
    ("arXiv:2206.144861", []),
    (
        "[@a] 10.1234/x arXiv:2206.14486",
        [("citekey", "a"), ("doi", "10.1234/x"), ("arxiv", "2206.14486")],
    ),
]


@pytest.mark.parametrize(("body", "rows"), CITATIONS, ids=[r[0] for r in CITATIONS])
def test_citation(body, rows):
    assert cite_rows(parse(body)) == rows


def test_citation_line_and_context_and_dedupe_keeps_first():
    note = parse("---\na: 1\n---\nintro\n  As [@key] says  \nlater [@key]\n")
    (citation,) = note.citations
    assert (citation.line, citation.context) == (5, "As [@key] says")


def test_own_metadata_is_not_a_citation():
    text = "---\ndoi: 10.1234/own\narxiv: 2206.14486\ncitekey: own2022\n---\nbody\n"
    note = parse(text)
    assert note.citations == ()
    assert (note.paper.doi, note.paper.arxiv, note.paper.citekey) == (
        "10.1234/own",
        "2206.14486",
        "own2022",
    )


def test_frontmatter_reference_lists_are_citations():
    text = (
        "---\n"
        "cites:\n"
        '  - "@a"\n'
        "  - b\n"
        "  - 10.1234/X\n"
        "  - arXiv:2206.14486v2\n"
        '  - "[[Some Note]]"\n'
        "references: '@c; @d; https://example.org/paper'\n"
        "---\n"
        "body [@a]\n"
    )
    note = parse(text)
    assert cite_rows(note) == [
        ("citekey", "a"),
        ("citekey", "b"),
        ("doi", "10.1234/x"),
        ("arxiv", "2206.14486"),
        ("citekey", "c"),
        ("citekey", "d"),
    ]
    assert [c.line for c in note.citations] == [3, 4, 5, 6, 8, 8]
    assert ("Some Note", "frontmatter") in [(l.target, l.form) for l in note.links]


# ------------------------------------------------------------------------------------------
# frontmatter
# ------------------------------------------------------------------------------------------


def test_bad_yaml_reports_the_file_line_and_the_body_is_still_parsed():
    text = "---\ntitle: ok\nkey: value\n  bad: indent\n---\n# Body Title\n\nsee [[Link]] #tag\n"
    note = parse(text)
    (diag,) = note.diagnostics
    assert diag.severity == "error"
    assert diag.line == 4  # the line of `  bad: indent` in the file
    assert diag.path == "papers/Note.md"
    assert note.frontmatter == {}
    assert note.title == "Body Title"
    assert note.body.startswith("# Body Title")
    assert [(l.target, l.line) for l in note.links] == [("Link", 8)]
    assert note.tags == ("tag",)


@pytest.mark.parametrize(
    ("yaml_text", "line"),
    [
        ("a: 1\n\tb: 2", 3),  # tab indentation
        ("a: 1\nb: [unclosed\nc: 2", 4),
        ("a: 1\nb: 2\nc: 3\nd: @bad", 5),
    ],
)
def test_bad_yaml_line_numbers(yaml_text, line):
    (diag,) = parse(f"---\n{yaml_text}\n---\nbody\n").diagnostics
    assert (diag.line, diag.severity) == (line, "error")


def test_bom_is_tolerated():
    note = parse("\ufeff---\ntitle: T\n---\nbody\n")
    assert note.title == "T" and note.diagnostics == ()


def test_crlf_is_tolerated():
    note = parse("---\r\ntitle: T\r\n---\r\nline [[L]]\r\n")
    assert note.title == "T"
    assert note.body == "line [[L]]\n"
    assert [(l.target, l.line) for l in note.links] == [("L", 4)]


@pytest.mark.parametrize(
    ("yaml_text", "fragment"),
    [("- a\n- b", "a list"), ("just text", "a single value"), ("42", "a single value")],
)
def test_non_mapping_frontmatter_is_ignored_with_a_diagnostic(yaml_text, fragment):
    note = parse(f"---\n{yaml_text}\n---\n# H\n")
    assert note.frontmatter == {}
    assert fragment in messages(note)
    assert note.title == "H"


def test_missing_closing_fence_reads_everything_as_body():
    text = "---\ntitle: T\n[[L]]\n"
    note = parse(text, "folder/Stem.md")
    assert note.frontmatter == {}
    assert note.body == text
    assert note.title == "Stem"
    assert "closing" in messages(note)
    assert [(l.target, l.line) for l in note.links] == [("L", 3)]


@pytest.mark.parametrize(
    "text",
    ["---\n---\nbody", "---\n...\nbody", "---  \ntitle: x\n---  \nbody"],
    ids=["empty", "dots", "trailing-spaces"],
)
def test_frontmatter_delimiters(text):
    note = parse(text)
    assert note.body == "body" and note.diagnostics == ()


@pytest.mark.parametrize(
    "text", ["----\na: 1\n---\n", " ---\na: 1\n---\n", "text\n---\na: 1\n---\n"]
)
def test_not_frontmatter(text):
    note = parse(text)
    assert note.frontmatter == {} and note.body == text


def test_values_are_json_serialisable():
    text = (
        "---\n"
        "date: 2024-01-02\n"
        "created: 2024-01-02 10:30:00\n"
        "draft: yes\n"
        "nan: .nan\n"
        "inf: -.inf\n"
        "s: !!set {b, a}\n"
        "bin: !!binary aGVsbG8=\n"
        "1: one\n"
        "2024-05-06: dated key\n"
        "null: nothing\n"
        "false: no-key\n"
        "nested: {when: 2020-01-01, list: [2021-02-03, {x: 1.5}]}\n"
        "---\n"
    )
    fm = parse(text).frontmatter
    json.dumps(fm, allow_nan=False)
    assert fm["date"] == "2024-01-02"
    assert fm["created"] == "2024-01-02T10:30:00"
    assert fm["draft"] is True  # YAML 1.1: yes/no/on/off are booleans
    assert (fm["nan"], fm["inf"]) == ("nan", "-inf")
    assert fm["s"] == ["a", "b"]
    assert "bin" not in fm
    assert fm["1"] == "one" and fm["2024-05-06"] == "dated key"
    assert fm["null"] == "nothing" and fm["false"] == "no-key"
    assert fm["nested"] == {"when": "2020-01-01", "list": ["2021-02-03", {"x": 1.5}]}


def test_invalid_date_is_a_diagnostic():
    note = parse("---\nd: 2024-13-45\n---\n# Still indexed\n")
    assert note.frontmatter == {} and note.title == "Still indexed"
    assert note.diagnostics[0].severity == "error"


def test_python_object_tag_is_not_executed(tmp_path: Path):
    marker = tmp_path / "pwned"
    text = f"---\ntitle: x\nrun: !!python/object/apply:os.system ['touch {marker}']\n---\nbody\n"
    note = parse(text)
    assert not marker.exists()
    (diag,) = note.diagnostics
    assert diag.severity == "error" and diag.line == 3
    assert "python/object" in diag.message
    assert note.frontmatter == {}


def test_yaml_bomb_is_rejected_fast():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghij"
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    started = time.perf_counter()
    note = parse("---\n" + "\n".join(lines) + "\n---\n# Bomb\n")
    assert time.perf_counter() - started < 2
    assert "too large" in messages(note)
    assert note.frontmatter == {} and note.title == "Bomb"


@pytest.mark.parametrize(
    "yaml_text",
    [
        "a: " + "[" * 50_000 + "]" * 50_000,  # would crash libyaml's recursive composer
        "a:\n" + "- " * 50_000 + "x",
        "a: &x [*x]",  # a list that contains itself
        "a: " + "[" * 200 + "]" * 200,
    ],
    ids=["deep-flow", "deep-block", "recursive", "deeper-than-100"],
)
def test_deep_frontmatter_is_rejected(yaml_text):
    started = time.perf_counter()
    note = parse("---\n" + yaml_text + "\n---\nbody\n")
    assert time.perf_counter() - started < 5
    assert note.frontmatter == {}
    assert "nested too deeply" in messages(note)


def test_huge_frontmatter_is_rejected():
    note = parse("---\n" + "".join(f"k{i}: {'v' * 60}\n" for i in range(5000)) + "---\nbody\n")
    assert note.frontmatter == {} and "too large" in messages(note)


# ------------------------------------------------------------------------------------------
# title and aliases
# ------------------------------------------------------------------------------------------

TITLES = [
    ("---\ntitle: '  From FM  '\n---\n# From H1\n", "From FM"),
    ("---\ntitle: 1984\n---\n# From H1\n", "1984"),
    ("---\ntitle: ''\n---\n# From H1\n", "From H1"),
    ("---\ntitle: [a, b]\n---\n# From H1\n", "From H1"),
    ("---\nTitle: Upper key\n---\n", "Upper key"),
    # an H1 is the title only on the body's first non-blank line (a template's `# Title`)
    ("# Lead\n\ntext\n## Section\n", "Lead"),
    ("\n \n# After blank lines\n", "After blank lines"),
    ("---\ntags: [x]\n---\n\n# After frontmatter\n", "After frontmatter"),
    ("text\n## Not H1\n# First H1\n# Second H1\n", "My Note"),  # a section, not a title
    # H1s used as sections: the first one is a section too, not the note's title
    ("# Concepts\n\nbody\n\n# Reference\n", "My Note"),
    ("## Concepts\n\n# Reference\n", "My Note"),
    ("```\n# in code\n```\n# Real\n", "My Note"),
    ("[link](https://x.org)\n# A Template for Use\n", "My Note"),  # academic-obsidian README
    ("no heading here\n", "My Note"),
    ("#\n", "My Note"),
    ("# {{title}}\n\n## Notes\n", "My Note"),  # a template's placeholder is not a title
    ("# <% tp.file.title %>\n", "My Note"),
    ("# {{title}}: notes\n", "{{title}}: notes"),
    # markup is rendered to the text a reader sees
    ("# An Introduction to [[dataview|Dataview]]\n", "An Introduction to Dataview"),
    ("# [[a]] and [[b#Sec]] and [[c#^blk]]\n", "a and b > Sec and c > blk"),
    ("# *x* **y** _z_ __w__ `v` ==h== ~~s~~\n", "x y z w v h s"),
    ("# [t](https://example.org) ![[banner.png]]\n", "t"),
    ("# snake_case_name and 2 * 3 * 4\n", "snake_case_name and 2 * 3 * 4"),
    ("# `[[not a link]]` \\*lit\\*\n", "[[not a link]] *lit*"),
    ("# ![[banner.png]]\n", "My Note"),  # nothing left: the file name
    # a frontmatter property is plain text: kept as written
    ("---\ntitle: '**Bold** title'\n---\n# H1\n", "**Bold** title"),
]


@pytest.mark.parametrize(("text", "title"), TITLES)
def test_title_precedence(text, title):
    assert parse(text, "papers/My Note.md").title == title


def test_title_stem_is_case_insensitive_about_md():
    assert parse("", "x/Upper.MD").title == "Upper"


ALIASES = [
    ("aliases: [A, ' B ', '', A, 3]", ("A", "B")),
    ("aliases: A, B", ("A", "B")),
    ("aliases:\n  - One\n  - Two", ("One", "Two")),
    ("alias: Legacy", ("Legacy",)),
    ("aliases: [A]\nalias: B", ("A", "B")),
    ("aliases:", ()),
    ("aliases: {not: a list}", ()),
]


@pytest.mark.parametrize(("yaml_text", "aliases"), ALIASES, ids=[r[0] for r in ALIASES])
def test_aliases(yaml_text, aliases):
    assert parse(f"---\n{yaml_text}\n---\n").aliases == aliases


# ------------------------------------------------------------------------------------------
# paper metadata
# ------------------------------------------------------------------------------------------

PAPER = [
    ('authors: ["[[Emile van Krieken]]", "[[Antonio Vergari|A. V.]]"]', "authors",
     ("Emile van Krieken", "Antonio Vergari")),
    (
        "authors: Jonathan Ho, Ajay Jain, Pieter Abbeel",
        "authors",
        ("Jonathan Ho", "Ajay Jain", "Pieter Abbeel"),
    ),
    ("author: Smith, J. and Doe, A.", "authors", ("Smith, J.", "Doe, A.")),
    ("author: Smith, John", "authors", ("Smith, John",)),
    ("authors: A Bee; C Dee", "authors", ("A Bee", "C Dee")),
    ("authors: [{given: Ada, family: Lovelace}]", "authors", ("Ada Lovelace",)),
    ("year: 2021", "year", 2021),
    ("year: '2021'", "year", 2021),
    ("date: 2020-05-01", "year", 2020),
    ("published: '2019-07'", "year", 2019),
    ("year: true", "year", None),
    ("venue: NeurIPS", "venue", "NeurIPS"),
    ("journal: Nature", "venue", "Nature"),
    ("booktitle: Proc. ICML", "venue", "Proc. ICML"),
    ('publishedIn: "[[NeurIPS]]"', "venue", "NeurIPS"),
    ("doi: https://doi.org/10.1145/ABC", "doi", "10.1145/abc"),
    ("doi: 'doi:10.1145/X.'", "doi", "10.1145/x"),
    ("arxiv: 2206.14486v2", "arxiv", "2206.14486"),
    ("arxiv: 'arXiv:2206.14486'", "arxiv", "2206.14486"),
    ("arxiv: https://arxiv.org/abs/2206.14486v2", "arxiv", "2206.14486"),
    ("arxiv: hep-th/9901001v1", "arxiv", "hep-th/9901001"),
    ("arxiv: 2206.10010", "arxiv", "2206.10010"),  # YAML float; trailing zero kept
    ("url: https://arxiv.org/abs/2505.13138", "arxiv", "2505.13138"),
    ("url: http://dx.doi.org/10.1016/j.artint.2021.103649", "doi", "10.1016/j.artint.2021.103649"),
    ("citekey: '@key2020'", "citekey", "key2020"),
    ("citeKey: vankrieken2025", "citekey", "vankrieken2025"),
    ("citation-key: k", "citekey", "k"),
    ("url: ' https://example.org '", "url", "https://example.org"),
    ("status: Reading", "status", "reading"),
]


@pytest.mark.parametrize(("yaml_text", "field", "value"), PAPER, ids=[r[0] for r in PAPER])
def test_paper(yaml_text, field, value):
    assert getattr(parse(f"---\n{yaml_text}\n---\n").paper, field) == value


def test_unrecognised_doi_and_arxiv_values_are_reported_at_their_line():
    note = parse("---\ndoi: not-a-doi\narxiv: nope\n---\n")
    assert (note.paper.doi, note.paper.arxiv) == ("", "")
    assert [(d.line, d.severity) for d in note.diagnostics] == [(2, "warning"), (3, "warning")]
    assert "doi" in messages(note) and "arxiv" in messages(note)


# ------------------------------------------------------------------------------------------
# decode
# ------------------------------------------------------------------------------------------

DECODE = [
    (b"hello\n", "hello\n"),
    (b"\xef\xbb\xbf---\ntitle: t\n", "---\ntitle: t\n"),
    (b"\xff\xfe" + "caf\u00e9\n".encode("utf-16-le"), "caf\u00e9\n"),
    (b"\xfe\xff" + "x\u00e9".encode("utf-16-be"), "x\u00e9"),
    (b"\xff\xfe\x00\x00" + "utf32".encode("utf-32-le"), "utf32"),
    (b"a\r\nb\rc\n", "a\nb\nc\n"),
    (b"x" * 9000 + b"\x00", "x" * 9000 + "\x00"),  # NUL after the first 8 KB: still text
]


@pytest.mark.parametrize(("data", "text"), DECODE)
def test_decode(data, text):
    assert decode("n.md", data) == (text, [])


def test_decode_invalid_utf8_names_the_first_bad_line():
    text, diags = decode("n.md", b"line one\ncaf\xe9 latin-1\n\xff\n")
    assert text == "line one\ncaf\ufffd latin-1\n\ufffd\n"
    (diag,) = diags
    assert diag.line == 2 and "line 2" in diag.message and diag.path == "n.md"


def test_decode_truncated_utf16_is_replaced_with_a_diagnostic():
    text, diags = decode("n.md", b"\xff\xfe" + "a\nb".encode("utf-16-le") + b"\x00")
    assert text == "a\nb\ufffd"
    assert [d.line for d in diags] == [2]


def test_decode_binary():
    text, diags = decode("img.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert text == ""
    assert [d.message for d in diags] == ["binary file, not indexed"]


# ------------------------------------------------------------------------------------------
# mask_code
# ------------------------------------------------------------------------------------------

MASK = [
    ("a `b` c", "a     c"),
    ("a ``b ` c`` d", "a           d"),
    ("```\ncode\n```\nafter", "   \n    \n   \nafter"),
    ("$x$ y", "    y"),
    ("$$\nx\n$$ y", "  \n \n   y"),
    ("a %% c %% b", "a         b"),
    ("a <!-- c --> b", "a            b"),
    ("\\`not code` x", "\\`not code` x"),
    ("$5 and $6", "$5 and $6"),
    ("%% open\nall\nhidden", "       \n   \n      "),
    ("`%%` still [[here]]", "     still [[here]]"),
]


@pytest.mark.parametrize(("text", "masked"), MASK)
def test_mask_code(text, masked):
    assert mask_code(text) == masked


# ------------------------------------------------------------------------------------------
# a paper note's own ids: frontmatter, and the identity lines above its first section
# ------------------------------------------------------------------------------------------

OWN_IDS = [
    # (body, (doi, arxiv, url, citekey), citations left)
    ("# BERT\n\n- **Journal**: arXiv:1810.04805\n\n## Abstract\nx\n", ("", "1810.04805", "", ""), []),
    ("- **URL**: https://arxiv.org/abs/1810.04805v2\n## Notes\n", ("", "1810.04805", "https://arxiv.org/abs/1810.04805v2", ""), []),
    ("URL: https://arxiv.org/abs/2206.14486\nDOI: 10.1000/XYZ.1\n# Summary\n", ("10.1000/xyz.1", "2206.14486", "https://arxiv.org/abs/2206.14486", ""), []),
    ("**DOI:** 10.1000/a\n## S\n", ("10.1000/a", "", "", ""), []),
    ("> **DOI**:: 10.1000/a\n> **Citekey**:: devlin2019\n## S\n", ("10.1000/a", "", "", "devlin2019"), []),
    ("- **期刊**: arXiv:1706.03762\n- **链接**：https://arxiv.org/abs/1706.03762\n## 摘要\n", ("", "1706.03762", "https://arxiv.org/abs/1706.03762", ""), []),
    ("[Paper](http://arxiv.org/abs/2407.10973)\n[Code](https://github.com/x/y)\n## Abstract\n", ("", "2407.10973", "http://arxiv.org/abs/2407.10973", ""), []),
    ("https://doi.org/10.1145/1597735.1597738\n\n## Notes\n", ("10.1145/1597735.1597738", "", "https://doi.org/10.1145/1597735.1597738", ""), []),
    # the own id cited again further down is still not a citation; other papers are
    ("- **Journal**: arXiv:1810.04805\n## Notes\nSee arXiv:1810.04805v3 and arXiv:1706.03762.\n", ("", "1810.04805", "", ""), [("arxiv", "1706.03762")]),
    # not identity lines: related papers, prose, and a link whose text is not the paper's
    ("- **Related**: arXiv:1706.03762\n## Notes\n", ("", "", "", ""), [("arxiv", "1706.03762")]),
    ("We build on arXiv:1706.03762.\n## Notes\n", ("", "", "", ""), [("arxiv", "1706.03762")]),
    ("[Transformer](https://arxiv.org/abs/1706.03762)\n## Notes\n", ("", "", "", ""), [("arxiv", "1706.03762")]),
    # identity lines below the first section are ordinary text
    ("## Notes\n- **Journal**: arXiv:1810.04805\n", ("", "", "", ""), [("arxiv", "1810.04805")]),
    # a note without sections has no header: it cites what it names
    ("- **Journal**: arXiv:1810.04805\n", ("", "", "", ""), [("arxiv", "1810.04805")]),
    # prose under a leading H1 is not an identity line, whatever the H1s are used for
    ("# Concepts\nSee arXiv:1810.04805.\n# Reference\n", ("", "", "", ""), [("arxiv", "1810.04805")]),
    # a title H1 above H1 sections (kevinywu-notes' Octo note) still has a header
    ("# Octo\n\n[Paper](http://arxiv.org/abs/2405.12213)\n\n# Abstract\n", ("", "2405.12213", "http://arxiv.org/abs/2405.12213", ""), []),
]


@pytest.mark.parametrize(("body", "ids", "cites"), OWN_IDS, ids=[r[0][:40] for r in OWN_IDS])
def test_identity_lines_are_the_notes_own_ids(body, ids, cites):
    note = parse(body)
    paper = note.paper
    assert (paper.doi, paper.arxiv, paper.url, paper.citekey) == ids
    assert cite_rows(note) == cites


def test_frontmatter_ids_win_and_are_never_cited():
    text = (
        "---\narxiv: 2206.14486\ncitekey: sorscher2022\ncites: ['@sorscher2022', '@other']\n---\n"
        "- **URL**: https://arxiv.org/abs/1810.04805\n- **DOI**: 10.1000/header\n## Notes\n"
        "Our own arXiv:2206.14486v1 and [@Sorscher2022]; and [@kaplan2020].\n"
    )
    note = parse(text)
    assert note.paper.arxiv == "2206.14486"  # the frontmatter's, not the header's
    assert note.paper.doi == "10.1000/header"  # the frontmatter had none
    assert cite_rows(note) == [("citekey", "other"), ("citekey", "kaplan2020")]


# ------------------------------------------------------------------------------------------
# Excalidraw drawings: read by their text elements only
# ------------------------------------------------------------------------------------------

DRAWING = """---
excalidraw-plugin: parsed
tags: [excalidraw]
---
==⚠  Switch to EXCALIDRAW VIEW in the MORE OPTIONS menu of this document. ⚠==


# Excalidraw Data

## Text Elements
Tokenizer stage #pipeline ^aB3dE5fG

Feeds the [[Prolog]] parser
on two lines ^hI7jK9lM

## Element Links
nP1qR2sT: [[Papers/BERT]]

## Embedded Files
0123abcd: [[diagram.png]]

%%
## Drawing
```json
{"type":"excalidraw","elements":[{"type":"text","text":"[[Hidden]] #hidden","strokeColor":"#1e1e1e"}]}
```
%%
"""

LEGACY_DRAWING = """---
excalidraw-plugin: parsed
---
# Text Elements
Legacy label ^x1

# Drawing
```compressed-json
N4KAkARALgngDgUwgLgAQQQDwMYEMA2AlgCYBOuA7hADTgQBuCpAzoQPYB2KqATLZMzYBXUtiRoIACyhQ4zZAHoFAc
```
{"strokeColor": "#000", "text": "[[Legacy hidden]] #legacyhidden"}
"""


def test_excalidraw_is_read_from_its_text_elements():
    note = parse(DRAWING, "Drawings/Pipeline.excalidraw.md")
    assert note.title == "Pipeline"
    assert note.body == "Tokenizer stage #pipeline\n\nFeeds the [[Prolog]] parser\non two lines"
    assert [(l.target, l.line) for l in note.links] == [
        ("Prolog", 13), ("Papers/BERT", 17), ("diagram.png", 20)
    ]
    assert note.tags == ("excalidraw", "pipeline")
    assert note.headings == ()  # the plugin's section names are not the note's headings
    assert note.block_ids == ("aB3dE5fG", "hI7jK9lM")  # `[[Pipeline#^aB3dE5fG]]` is valid
    for word in ("strokeColor", "Hidden", "Switch", "Drawing", "Excalidraw Data"):
        assert word not in note.body


def test_excalidraw_legacy_layout_and_marker_without_suffix():
    note = parse(LEGACY_DRAWING, "Old drawing.md")  # recognised by its frontmatter key
    assert note.title == "Old drawing"
    assert note.body == "Legacy label"
    assert note.links == () and note.tags == ()


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

FRAGMENTS = [
    "[[", "]]", "[", "]", "(", ")", "|", "#", "##", "# ", "`", "```", "~~~", "---\n", "...\n",
    "$", "$$", "%%", "<!--", "-->", "@", "\\", "!", "^", "^id", "\n", "\n\n", " ", "\t",
    "\r\n", "\r", "\ufeff", "a", "Note", "é", "спам", "1", "2024", "-", "/", ":", ";", ",",
    "tags: ", "title: ", "- ", "&a ", "*a", "!!binary ", "10.1234/", "arXiv:", "2206.14486",
    "https://", "arxiv.org/abs/", "{", "}", "'", '"', "%20", ".md", "<", ">",
]
markdownish = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
any_text = st.one_of(st.text(max_size=300), markdownish)


def _line_count(text: str) -> int:
    return text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_parse_note_never_raises_and_lines_are_in_range(text):
    note = parse_note("p/n.md", text)
    assert not any("internal" in d.message for d in note.diagnostics), note.diagnostics
    last = _line_count(text)
    lines = [l.line for l in note.links] + [c.line for c in note.citations]
    lines += [h.line for h in note.headings] + [d.line for d in note.diagnostics if d.line]
    assert all(1 <= line <= last for line in lines), (lines, last)
    json.dumps(note.frontmatter, allow_nan=False)
    assert note.title
    assert note.tags == expand_tags(note.tags)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_parse_note_is_deterministic(text):
    assert parse_note("n.md", text) == parse_note("n.md", text)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_mask_code_keeps_length_and_line_breaks(text):
    masked = mask_code(text)
    assert len(masked) == len(text)
    assert all(m == c or (m == " " and c != "\n") for m, c in zip(masked, text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_frontmatter_fragments_never_raise(body):
    note = parse_note("n.md", "---\n" + body + "\n---\n" + body)
    assert not any("internal" in d.message for d in note.diagnostics)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_decode_never_raises(data):
    text, diags = decode("n.md", data)
    assert "\r" not in text
    parse_note("n.md", text)


# ------------------------------------------------------------------------------------------
# hostile input: linear time, never a hang
# ------------------------------------------------------------------------------------------


HOSTILE = {
    "dollars": "$a " * 60_000,
    "backticks": "`a " * 60_000,
    "backtick-runs": "".join("`" * (i % 7 + 1) + "a " for i in range(30_000)),
    "one-line-fences": "```a```b" * 25_000,
    "open-wikilinks": "[[a " * 50_000,
    "open-md-links": "[a](" * 50_000,
    "heading-spaces": "# a" + " " * 200_000 + "b",
    "heading-hashes": "# a " + "#" * 200_000 + " x",
    "doi-parens": "10.1234/" + ")" * 200_000,
    "blank-line-ticks": "`a\n\n" * 50_000,
    "authors-spaces": "---\nauthors: 'a" + " " * 200_000 + "b'\n---\n",
    "many-cites": "---\ncites: [" + ", ".join(f"'@k{i}'" for i in range(10_000)) + "]\n---\n",
    "mixed": "[[`$%<!--#@\\]]) " * 12_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_linear(text):
    started = time.perf_counter()
    parse_note("x.md", text)
    assert time.perf_counter() - started < 2


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/[]\x00\n\r"), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(names, st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_title_is_never_empty_and_never_link_syntax(stem, h1):
    note = parse_note(f"folder/{stem}.md", f"# {h1}\n\nbody\n")
    # The file name as shown (control characters escaped: text.name_shown), else one line with
    # no stray spaces.
    assert note.title in (name_shown(stem), " ".join(note.title.split()))
    assert note.title
    if "`" not in h1:  # code spans keep their text as written
        assert "[[" not in note.title and "]]" not in note.title
    note = parse_note(f"folder/{stem}.md", f"---\ntitle: {json.dumps(h1)}\n---\n# Heading\n")
    assert note.title == (h1.strip() or "Heading")



DRAWING_FRAGMENTS = [*FRAGMENTS, "## Text Elements\n", "# Text Elements\n", "## Drawing\n", "%%\n",
                     "## Element Links\n", "## Embedded Files\n", " ^abc123\n", "```json\n", "URL: "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(DRAWING_FRAGMENTS), max_size=40).map("".join))
def test_drawings_and_headers_never_raise_and_lines_are_in_range(text):
    for path in ("d/Board.excalidraw.md", "d/Paper.md"):
        note = parse_note(path, text)
        assert not any("internal" in d.message for d in note.diagnostics), note.diagnostics
        last = _line_count(text)
        assert all(1 <= item.line <= last for item in (*note.links, *note.citations, *note.headings))
        if path.endswith(".excalidraw.md"):
            assert note.title == "Board"


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#evil\x1b[2Jtag here", ("evil",)),  # ESC ends the tag: no terminal escape in a tag
        ("#a\x07b #c\x9bd #e\x7ff", ("a", "c", "e")),  # BEL, C1 CSI, DEL
        ("---\ntags: [\"x\\x1b[2Jy\", ok]\n---\n", ("ok", "x")),  # a frontmatter tag too
    ],
)
def test_a_tag_ends_at_a_control_character(text, tags):
    note = parse(text)
    assert note.tags == tags
    assert not any(ch < " " or "\x7f" <= ch <= "\x9f" for tag in note.tags for ch in tag)
