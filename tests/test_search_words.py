"""Which words find a note, as a first-time user met them on two real vaults (../shared/corpora):

- `transformer` listed first a book chapter on homogeneous transformations (the stem
  "transform" thirteen times, "transformer" never) above the papers on Vision Transformers:
  a note holding the word as written (or its plural) ranks above notes matching only by stem;
- text only in a frontmatter property (`hasTopic: - "[[reasoning shortcuts]]"`, the pattern
  of academic-obsidian's paper notes) was not found, where Obsidian's search finds it;
- `Jegou` went through "did you mean jégou?": accents of Latin letters are folded (either way,
  in the body, author: and title:), and the snippet still marks the text as written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultindex.cli import cli
from vaultindex.fulltext.analysis import exact_forms, property_text

ABSTRACT = (
    "In this paper, we question if self-supervised learning provides new properties to Vision "
    "Transformer (ViT) that stand out compared to convolutional networks. Self-supervised ViT "
    "features contain explicit information about the semantic segmentation of an image, which "
    "does not emerge as clearly with supervised ViTs, nor with convnets. These features are also "
    "excellent k-NN classifiers, reaching 78.3% top-1 on ImageNet with a small ViT. "
)
RIGID = (
    "## 2.3 Homogeneous Transformations\n\n"
    + "- A homogeneous transformation combines a rotation and a translation of the frame\n" * 5
    + "- Composition of transformations: the transformation from frame 2 to frame 0\n" * 4
    + "- The inverse transformation, and transforming a point between frames\n" * 2
)
KEVIN = {
    # kevinywu-notes: a title H1, an **Authors** line in the body, the abstract quoted
    "books/robot-dynamics-control/2 Rigid Motions and Homogeneous Transformations.md": (
        "# Rigid Motions and Homogeneous Transformations\n\n[[README]]\n\n" + RIGID
    ),
    "papers/visual-representations/Emerging Properties in Self-Supervised Vision Transformers.md": (
        "# Emerging Properties in Self-Supervised Vision Transformers\n\n"
        "**Authors**: Mathilde Caron, Hugo Touvron, Ishan Misra, Hervé Jégou, Julien Mairal\n\n"
        "[[README]]\n\n## Abstract\n\n> " + ABSTRACT * 3 + "\n"
    ),
    "papers/machine-learning/An Image is Worth 16x16 Words - Transformers for Image Recognition at Scale.md": (
        "# An Image is Worth 16x16 Words - Transformers for Image Recognition at Scale\n\n"
        "**Authors**: Alexey Dosovitskiy, Lucas Beyer, Alexander Kolesnikov\n\n## Abstract\n\n> "
        "While the Transformer architecture has become the de-facto standard for natural language "
        "processing tasks, its applications to computer vision remain limited. " * 3 + "\n"
    ),
    "books/robot-dynamics-control/README.md": "# Robot Dynamics and Control\n\n- [[2 Rigid Motions and Homogeneous Transformations]]\n",
    "papers/Jegou notes.md": "# Product quantization\n\nHerve Jegou's product quantization for nearest neighbours.\n",
    "papers/Frontmatter authors.md": (
        "---\ntitle: Réseaux de neurones profonds\nauthors:\n  - Hervé Jégou\n  - Matthijs Douze\n---\n\n"
        "Billion-scale similarity search.\n"
    ),
    "papers/Transit.md": "# Transit\n\nThe buses of the city.\n",
    "kana/ka.md": "かきくけこ\n",
    "kana/ga.md": "がぎぐげご\n",
}
ACADEMIC = {
    # academic-obsidian: Zotero-made paper notes, the topic only in a property
    "reasoning shortcuts.md": "---\ntags: topic\n---\n\nModels that reach the right labels through the wrong concepts.\n",
    "Neurosymbolic Diffusion Models.md": (
        '---\naliases:\n  - vankrieken2025neurosymbolic\nyear: 2025\nhasTopic:\n  - "[[reasoning shortcuts]]"\n'
        '  - "[[neurosymbolic learning]]"\nauthor:\n  - "[[Emile Van Krieken]]"\nproject: []\n'
        "citeKey: vankrieken2025neurosymbolic\nzoteroUri: zotero://select/items/@vankrieken2025neurosymbolic\n---\n\n"
        "## Summary\n\nDiffusion over the symbols of a neurosymbolic predictor.\n"
    ),
    "Journal version of Reasoning Shortcuts.md": (
        '---\nhasTopic:\n  - "[[reasoning shortcuts]]"\n---\n\nWe study reasoning shortcuts in depth.\n'
    ),
    "Unrelated.md": "---\nstatus: read\nurl: https://example.org/reasoning/shortcuts\n---\n\nNothing here.\n",
}


def _write(root: Path, notes: dict[str, str]) -> Path:
    for rel, text in notes.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def kevin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("words") / "kevin", KEVIN)


@pytest.fixture(scope="module")
def academic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("words") / "academic", ACADEMIC)


def _search(vault: Path, *args: str) -> tuple[list[dict], str]:
    result = CliRunner().invoke(cli, ["--vault", str(vault), "search", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def _paths(vault: Path, *args: str) -> list[str]:
    return [h["path"] for h in _search(vault, *args)[0]]


# -- 1. the word as written ranks above its stem ----------------------------------------------


@pytest.mark.parametrize("word", ["transformer", "transformers", "Transformer"])
def test_notes_with_the_word_itself_rank_above_notes_with_only_its_stem(kevin: Path, word: str) -> None:
    found = _paths(kevin, word)
    rigid = "books/robot-dynamics-control/2 Rigid Motions and Homogeneous Transformations.md"
    assert rigid in found  # the stem still finds it...
    assert found.index(rigid) == 2, found  # ...below both papers on Transformers
    assert set(found[:2]) == {p for p in KEVIN if p.startswith("papers/") and "Transformers" in p}


def test_the_stem_still_finds_the_same_notes_and_no_more(kevin: Path) -> None:
    # the bonus for the exact word changes the order only: `transformation` still finds
    # the chapter and the README linking to it, and nothing that lacks the stem
    assert set(_paths(kevin, "transformations")) == set(_paths(kevin, "transformation"))
    assert _paths(kevin, "transformation")[0].endswith("Homogeneous Transformations.md")
    # "buses" (stem "buse") is the plural of "bus" (stem "bu"): the bonus never adds a match
    assert _paths(kevin, "bus") == []
    assert _paths(kevin, "buses") == ["papers/Transit.md"]


# -- 2. frontmatter properties ----------------------------------------------------------------


def test_text_only_in_a_property_is_found(academic: Path) -> None:
    found = _paths(academic, "reasoning shortcuts")
    assert set(found) == {"reasoning shortcuts.md", "Neurosymbolic Diffusion Models.md", "Journal version of Reasoning Shortcuts.md"}
    # a property counts less than the body: the notes saying it in their text come first
    assert found[-1] == "Neurosymbolic Diffusion Models.md"
    assert _paths(academic, '"neurosymbolic learning"') == ["Neurosymbolic Diffusion Models.md"]


def test_identity_and_own_field_properties_are_not_property_text(academic: Path) -> None:
    # a URL is the paper's address, status: has its own field (status:read)
    assert _paths(academic, "example") == []
    assert _paths(academic, "zotero") == []
    assert _paths(academic, "read") == []
    assert _paths(academic, "status:read") == ["Unrelated.md"]


# -- 3. accents ----------------------------------------------------------------------------


def test_a_word_without_its_accents_finds_the_accented_one_and_the_reverse(kevin: Path) -> None:
    dino = "papers/visual-representations/Emerging Properties in Self-Supervised Vision Transformers.md"
    hits, err = _search(kevin, "Jegou")
    assert "did you mean" not in err
    assert {h["path"] for h in hits} == {dino, "papers/Jegou notes.md", "papers/Frontmatter authors.md"}
    assert not any(h["fuzzy"] for h in hits)
    hits, err = _search(kevin, "Jégou")
    assert "did you mean" not in err and {h["path"] for h in hits} == {h["path"] for h in _search(kevin, "Jegou")[0]}


def test_the_snippet_marks_the_word_as_written(kevin: Path) -> None:
    from vaultindex import Vault

    snippets = {h.path: h.snippet for h in Vault.open(kevin).search("jegou").hits}
    assert "Hervé \x01Jégou\x02, Julien" in snippets[
        "papers/visual-representations/Emerging Properties in Self-Supervised Vision Transformers.md"
    ]
    assert "Herve \x01Jegou\x02's" in snippets["papers/Jegou notes.md"]


def test_fields_fold_accents_too(kevin: Path) -> None:
    assert _paths(kevin, "author:Jegou") == ["papers/Frontmatter authors.md"]
    assert _paths(kevin, "author:Jégou") == ["papers/Frontmatter authors.md"]
    assert _paths(kevin, "title:reseaux") == ["papers/Frontmatter authors.md"]
    assert _paths(kevin, "title:réseaux") == ["papers/Frontmatter authors.md"]
    assert _paths(kevin, "herve") == _paths(kevin, "hervé")


def test_kana_marks_are_not_accents(kevin: Path) -> None:
    # が is not か with a mark to fold away: Japanese, Chinese and Korean text is as before
    assert _paths(kevin, "が") == ["kana/ga.md"]
    assert _paths(kevin, "か") == ["kana/ka.md"]


# -- the pure parts ----------------------------------------------------------------------------

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.dates(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), _VALUES, max_size=6))
def test_property_text_takes_any_frontmatter(frontmatter: dict) -> None:
    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
            walk(item)

    walk(list(frontmatter.values()))
    text = property_text(frontmatter)
    # every word comes from a value (a wikilink's brackets, | and # aside)
    assert set(re.findall(r"\w+", text)) <= set(re.findall(r"\w+", " ".join(strings)))


def test_property_text_rules() -> None:
    fm = {
        "hasTopic": ["[[reasoning shortcuts]]", "[[Note#Part|shown]]"], "Title": "own field", "zoteroUri": "zotero://x",
        "summary": {"short": "nested words"}, "year": 2024, "Authors": ["[[A Person]]"], "flag": True,
    }
    assert property_text(fm).split("\n") == ["reasoning shortcuts", "Note Part shown", "nested words"]


@pytest.mark.parametrize(
    ("word", "forms"),
    [("Transformer", ["transformer", "transformers"]), ("policies", ["policies", "policy"]), ("policy", ["policies", "policy"]),
     ("box", ["box", "boxes"]), ("loss", ["loss", "losses"]), ("boxes", ["box", "boxe", "boxes"]), ("Jégou", ["jegou", "jegous"]), ("the", []), ("GPT4", []), ("注意力", []), ("ab", [])],
)
def test_exact_forms(word: str, forms: list[str]) -> None:
    assert exact_forms(word) == forms
