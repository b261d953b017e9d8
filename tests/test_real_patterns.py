"""Real-vault patterns, read the way Obsidian reads them (issue 12, items 1, 4, 5 and 9).

The fixtures copy what real researchers' vaults hold and example_vault does not: notes whose
sections are H1s (`# Concepts`, `# Reference`) with no frontmatter title, a template whose
first line is `# {{title}}`, Zotero-template paper notes (English and Chinese) with
`- **Journal**: arXiv:...`, `URL:` and `DOI:` header lines, an Excalidraw drawing with its
text elements and drawing JSON, comments holding data, a canvas and a base, and emphasis
around a name. Everything is checked from the CLI, on a temporary vault.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import corpus, write
from vaultindex.cli import cli
from vaultindex.mentions import find_mentions
from vaultindex.parse import decode, parse_note

# -- the fixture vault ----------------------------------------------------------------------

SECTIONS_NOTE = """Prolog is a logic programming language; see also [[Compiler/Unification]].

# Concepts

Horn clauses, resolution, backtracking.

# Reference

- Clocksin & Mellish, Programming in Prolog.
"""

UNIFICATION = """#compiler

# Example

Unify `f(X, b)` with `f(a, Y)`.

# Reference

Robinson 1965.
"""

TEMPLATE = """# {{title}}

- **Journal**: {{publicationTitle}}
- **URL**: {{url}}

## Abstract

{{abstractNote}}
"""

BERT = """# BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding

- **Title**: BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding
- **Authors**: Jacob Devlin, Ming-Wei Chang, Kenton Lee, Kristina Toutanova
- **Journal**: arXiv:1810.04805
- **URL**: https://arxiv.org/abs/1810.04805
- **DOI**: 10.48550/arXiv.1810.04805

## Abstract

A language representation model pre-trained on unlabeled text.

## Notes

Builds on the Transformer (arXiv:1706.03762) and is compared with GPT-3 (arXiv:2005.14165).
"""

ATTENTION_ZH = """# Attention Is All You Need

- **标题**: Attention Is All You Need
- **作者**: Ashish Vaswani 等
- **Journal**: arXiv:1706.03762
- **期刊**: NeurIPS 2017
URL: https://arxiv.org/abs/1706.03762v5

## 摘要

本文提出了 Transformer，一种完全基于注意力机制的模型。

## 笔记

后来的 BERT (arXiv:1810.04805) 只用了编码器。
"""

DRAWING = """---
excalidraw-plugin: parsed
tags: [excalidraw]
---
==⚠  Switch to EXCALIDRAW VIEW in the MORE OPTIONS menu of this document. ⚠== You can decompress Drawing data with the command palette: 'Decompress current Excalidraw file'. For more info check in plugin settings under 'Saving'


# Excalidraw Data

## Text Elements
Tokenizer stage ^aB3dE5fG

Feeds the [[Prolog]] parser ^hI7jK9lM

## Element Links
nP1qR2sT: [[Papers/BERT]]

## Embedded Files
0123abcd: [[diagram.png]]

%%
## Drawing
```json
{"type":"excalidraw","version":2,"source":"https://github.com/zsviczian/obsidian-excalidraw-plugin","elements":[{"type":"text","id":"aB3dE5fG","text":"Tokenizer stage","strokeColor":"#1e1e1e","link":"[[Hidden target]]"}],"appState":{"viewBackgroundColor":"#ffffff"}}
```
%%
"""

COMMENTED = """Plan the release of the tokenizer. %%private remark: zanzibar%%

%% kanban:settings
```
{"kanban-plugin":"basic","lane-width":272,"secret":"zanzibar"}
```
%%
"""

EWC = "---\naliases: [Elastic weight consolidation]\n---\nThe EWC paper.\n"
EMPHASIS = "Regularisers like __EWC__ and _EWC_ and *EWC*; not my_EWC_var.\n"

CANVAS = json.dumps(
    {
        "nodes": [
            {"id": "1", "type": "text", "text": "Plan for [[Prolog]]", "x": 0, "y": 0, "width": 200, "height": 60},
            {"id": "2", "type": "file", "file": "Papers/BERT.md", "x": 300, "y": 0, "width": 200, "height": 60},
        ],
        "edges": [{"id": "e", "fromNode": "1", "toNode": "2"}],
    }
)
BASE = "filters:\n  and:\n    - file.hasTag(\"paper\")\nviews:\n  - type: table\n    name: Papers\n"
USES_FILES = "The plan is in [[Boards/Plan.canvas]]; the list in ![[Bases/Papers.base]].\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    files = {
        "Compiler/Prolog.md": SECTIONS_NOTE,
        "Compiler/Unification.md": UNIFICATION,
        "Templates/Paper template.md": TEMPLATE,
        "Papers/BERT.md": BERT,
        "Papers/注意力.md": ATTENTION_ZH,
        "Drawings/Pipeline.excalidraw.md": DRAWING,
        "Release plan.md": COMMENTED,
        "Papers/EWC.md": EWC,
        "Regularisation.md": EMPHASIS,
        "Boards/Plan.canvas": CANVAS,
        "Bases/Papers.base": BASE,
        "Uses files.md": USES_FILES,
    }
    for rel, text in files.items():
        write(root, rel, text)
    (root / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return root


def run(root: Path, *args: str):
    result = CliRunner().invoke(cli, ["--vault", str(root), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def run_json(root: Path, *args: str):
    return json.loads(run(root, *args, "--json").stdout)


def titles(root: Path, query: str) -> dict[str, str]:
    return {hit["path"]: hit["title"] for hit in run_json(root, "search", query)}


# -- 1. titles -----------------------------------------------------------------------------


def test_notes_with_section_h1s_are_titled_by_their_file_name(vault):
    found = titles(vault, "Robinson OR Horn")
    assert found == {"Compiler/Prolog.md": "Prolog", "Compiler/Unification.md": "Unification"}


def test_a_leading_h1_is_the_title_and_a_placeholder_is_not(vault):
    assert titles(vault, "Devlin")["Papers/BERT.md"] == (
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    )
    # search shows the templates folder only when asked for (a template is not a paper)
    assert titles(vault, "abstractNote") == {}
    assert titles(vault, "path:Templates/ abstractNote") == {"Templates/Paper template.md": "Paper template"}


def test_title_markup_is_rendered(tmp_path):
    root = tmp_path / "v"
    write(root, "dv.md", "# An Introduction to [[dataview|Dataview]] and **bold** `code`\n\nQueries.\n")
    assert titles(root, "queries") == {"dv.md": "An Introduction to Dataview and bold code"}


# -- 4. a paper note's own identifiers ------------------------------------------------------


def test_a_notes_own_arxiv_id_is_not_unresolved_and_other_notes_cite_it(vault):
    unresolved = {u["node"] for u in run_json(vault, "unresolved", "--kind", "paper")}
    assert unresolved == {"paper:arxiv:2005.14165"}  # GPT-3: cited, with no note
    out = {(o["target"], o["path"]) for o in run_json(vault, "links", "Papers/BERT.md") if o["kind"] == "cite"}
    assert ("1706.03762", "Papers/注意力.md") in out  # resolved through the header's arXiv id
    assert all(path != "Papers/BERT.md" for _, path in out)  # never itself
    backlinks = {b["path"] for b in run_json(vault, "backlinks", "Papers/BERT.md")}
    assert "Papers/注意力.md" in backlinks and "Papers/BERT.md" not in backlinks


# -- 5. drawings, comments, canvas and bases ------------------------------------------------


def test_a_drawing_is_indexed_by_its_text_elements(vault):
    assert run_json(vault, "search", "strokeColor") == []
    assert run_json(vault, "search", "viewBackgroundColor") == []
    (hit,) = run_json(vault, "search", "tokenizer stage")[:1]
    assert (hit["path"], hit["title"]) == ("Drawings/Pipeline.excalidraw.md", "Pipeline")
    assert "strokeColor" not in hit["snippet"] and "Tokenizer" in hit["snippet"]
    targets = {o["target"] for o in run_json(vault, "links", "Drawings/Pipeline.excalidraw.md")}
    assert targets == {"Prolog", "Papers/BERT", "diagram.png"}  # not "Hidden target"


def test_comments_are_searchable_but_never_shown(vault):
    hits = run_json(vault, "search", "zanzibar")
    assert [h["path"] for h in hits] == ["Release plan.md"]  # as in Obsidian's search
    assert "zanzibar" not in hits[0]["snippet"] and "%%" not in hits[0]["snippet"]
    assert hits[0]["snippet"].startswith("Plan the release")
    (hit,) = [h for h in run_json(vault, "search", "kanban") if h["path"] == "Release plan.md"]
    assert "kanban" not in hit["snippet"].lower()


def test_canvas_and_base_files_are_attachments(vault):
    rows = {o["target"]: (o["status"], o["path"]) for o in run_json(vault, "links", "Uses files.md")}
    assert rows == {
        "Boards/Plan.canvas": ("resolved", "Boards/Plan.canvas"),
        "Bases/Papers.base": ("resolved", "Bases/Papers.base"),
    }
    assert run_json(vault, "search", "hasTag") == []  # a base is not a note


# -- 9. mentions ----------------------------------------------------------------------------


def test_mentions_find_a_name_inside_emphasis(vault):
    (found,) = run_json(vault, "mentions", "Papers/EWC.md")
    assert found["path"] == "Regularisation.md"
    assert [(m["column"], m["text"]) for m in found["mentions"]] == [(21, "EWC"), (32, "EWC"), (42, "EWC")]


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("__EWC__ and _EWC_", [3, 14]),
        ("***EWC***, _EWC's penalty_", [4, 13]),
        ("my_EWC_var, EWC_x, x_EWC, #EWC", []),
    ],
)
def test_find_mentions_around_underscores(text, columns):
    assert [f.column for f in find_mentions(text, ["EWC"])] == columns


# -- the shared real vaults -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["academic-obsidian", "kevinywu-notes"])
def test_corpus_no_note_is_titled_by_a_section_heading(name, tmp_path):
    root = corpus(name, tmp_path)
    checked = 0
    for file in sorted(root.rglob("*.md")):
        rel = file.relative_to(root).as_posix()
        text, _ = decode(rel, file.read_bytes())
        note = parse_note(rel, text)
        if note.frontmatter.get("title") or note.title == note.name:
            continue
        body = note.body.lstrip()
        first = body.split("\n", 1)[0]
        assert first.startswith("# "), (rel, note.title)  # the H1 on the first non-blank line
        assert sum(h.level == 1 for h in note.headings) == 1, (rel, note.title)
        checked += 1
    assert checked > 0 or name == "academic-obsidian"


@pytest.mark.parametrize("name", ["academic-obsidian", "kevinywu-notes"])
def test_corpus_unresolved_lists_no_notes_own_ids(name, tmp_path):
    """No cited-but-missing paper comes from a note's header (the lines above its first
    `##` section, where kevinywu-notes' template writes `[Paper](http://arxiv.org/abs/...)`)."""
    root = corpus(name, tmp_path)
    uses = [use for u in run_json(root, "unresolved", "--kind", "paper") for use in u["uses"]]
    for use in uses:
        lines = (root / use["path"]).read_text(encoding="utf-8").split("\n")
        first_section = next((i + 1 for i, line in enumerate(lines) if line.startswith("## ")), 0)
        assert use["line"] > first_section, use
    if name == "kevinywu-notes":
        assert len(uses) >= 5  # the papers its notes cite in their text are still listed
