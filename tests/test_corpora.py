"""The parser on two real, published Obsidian vaults (../shared/corpora; skipped when absent).

Each vault is copied to a temporary folder first: the shared copy is read-only and is never
touched. The facts asserted below were read off the files themselves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vaultindex.models import Note
from vaultindex.parse import decode, parse_note

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def _load_vault(name: str, tmp_path: Path) -> dict[str, tuple[str, Note]]:
    """{vault-relative path: (decoded text, note)} for every .md file of a copied vault."""
    src = CORPORA / name
    if not src.is_dir():
        pytest.skip(f"{src} is not here")
    root = tmp_path / name
    shutil.copytree(src, root)
    notes = {}
    for file in sorted(root.rglob("*.md")):
        rel = file.relative_to(root).as_posix()
        text, problems = decode(rel, file.read_bytes())
        assert problems == [], rel
        notes[rel] = (text, parse_note(rel, text))
    return notes


@pytest.fixture(scope="module")
def academic(tmp_path_factory) -> dict[str, tuple[str, Note]]:
    return _load_vault("academic-obsidian", tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def kevinywu(tmp_path_factory) -> dict[str, tuple[str, Note]]:
    return _load_vault("kevinywu-notes", tmp_path_factory.mktemp("corpus"))


def _check_every_note(notes: dict[str, tuple[str, Note]]) -> None:
    """No diagnostics, and every line/context points at the real line of the file."""
    for rel, (text, note) in notes.items():
        assert note.diagnostics == (), rel
        assert note.path == rel and note.title
        lines = text.split("\n")
        for item in (*note.links, *note.citations):
            assert 1 <= item.line <= len(lines), (rel, item)
            if getattr(item, "form", "") != "frontmatter" or item.line > 1:
                real_line = lines[item.line - 1].strip()
                assert real_line.startswith(item.context.rstrip("…")), (rel, item)
        for heading in note.headings:
            assert lines[heading.line - 1].lstrip().startswith("#"), (rel, heading)


# ------------------------------------------------------------------------------------------
# academic-obsidian: paper, author and topic notes linked through YAML properties
# ------------------------------------------------------------------------------------------


def test_academic_every_note_parses_cleanly(academic):
    assert len(academic) == 70
    _check_every_note(academic)


def test_academic_paper_note(academic):
    _, note = academic["Neurosymbolic Diffusion Models.md"]
    assert note.title == "Neurosymbolic Diffusion Models"
    assert note.tags == ("source", "source/paper")
    assert "NeSyDM" in note.aliases
    paper = note.paper
    assert paper.citekey == "vankriekenNeurosymbolicDiffusionModels2025"
    assert paper.year == 2025
    assert paper.venue == "NeurIPS"
    assert paper.arxiv == "2505.13138"  # from `url: https://arxiv.org/abs/2505.13138`
    assert paper.authors == (
        "Emile van Krieken",
        "Pasquale Minervini",
        "Edoardo Ponti",
        "Antonio Vergari",
    )
    masked = [l for l in note.links if l.target == "discrete diffusion models"]
    rows = [(l.display, l.form, l.line) for l in masked]
    assert rows == [("masked diffusion", "frontmatter", 10)]
    assert note.citations == ()  # its own citeKey/url are metadata, not citations


def test_academic_doi_from_url(academic):
    _, note = academic["Logic tensor networks.md"]
    assert note.paper.doi == "10.1016/j.artint.2021.103649"
    assert note.paper.citekey == "Badreddine_2022"
    assert "Artur d’Avila Garcez" in note.paper.authors


def test_academic_concept_note_with_math(academic):
    _, note = academic["t-norm.md"]
    assert note.tags == ("concept",)
    rows = [(l.target, l.display, l.form) for l in note.links]
    assert ("commutative", "commutativity", "wiki") in rows
    assert [h.text for h in note.headings] == ["Analytical elements", "Properties"]
    assert note.links[-1].target == "17-03-2021"  # "Created [[17-03-2021]] at 11:21"


def test_academic_template_link_inside_templater_code(academic):
    _, note = academic["Templates/Paper Template.md"]
    assert [(l.target, l.form) for l in note.links] == [("templates/timestamp note", "frontmatter")]
    assert note.tags == ("source", "source/paper")


def test_academic_tag_counts(academic):
    tagged = [rel for rel, (_, note) in academic.items() if "source/paper" in note.tags]
    assert len(tagged) == 9
    assert all("source" in academic[rel][1].tags for rel in tagged)


# ------------------------------------------------------------------------------------------
# kevinywu-notes: paper notes with path-qualified links to README headings, arXiv links
# ------------------------------------------------------------------------------------------


def test_kevinywu_every_note_parses_cleanly(kevinywu):
    assert len(kevinywu) == 91
    assert sum(rel.endswith("README.md") for rel in kevinywu) == 22
    _check_every_note(kevinywu)
    assert all(note.tags == () for _, note in kevinywu.values())  # this vault uses no tags


def test_kevinywu_paper_note(kevinywu):
    _, note = kevinywu["papers/generative-models/Denoising Diffusion Probabilistic Models.md"]
    assert note.title == "Denoising Diffusion Probabilistic Models"  # from the H1
    (link,) = note.links
    assert (link.target, link.subpath, link.display, link.line) == (
        "papers/generative-models/README",
        "[2020-06] Denoising Diffusion Probabilistic Models",
        "README",
        5,
    )
    # `[Paper](http://arxiv.org/abs/2006.11239)` above `## Abstract` is the note's own id
    assert note.paper.arxiv == "2006.11239" and note.citations == ()
    assert ("Abstract", 2) in [(h.text, h.level) for h in note.headings]


def test_kevinywu_doi_in_a_link(kevinywu):
    _, note = kevinywu[
        "papers/reinforcement-learning/"
        "Interactively shaping agents via human reinforcement - The TAMER framework.md"
    ]
    assert note.paper.doi == "10.1145/1597735.1597738"  # `[Paper](https://dl.acm.org/doi/...)`
    assert ("doi", "10.1145/1597735.1597738") not in [(c.kind, c.key) for c in note.citations]


def test_kevinywu_same_note_anchor_and_sized_embed(kevinywu):
    _, note = kevinywu[
        "papers/reinforcement-learning/"
        "Learning Reward Functions for Robotic Manipulation by Observing Humans.md"
    ]
    anchors = [l for l in note.links if l.form == "markdown"]
    assert [(l.target, l.display) for l in anchors] == [("", "TCN")]
    assert anchors[0].subpath.startswith("apr-2017-tcn-time-contrastive-networks")
    _, lora = kevinywu[
        "papers/machine-learning/LoRA - Low-Rank Adaptation of Large Language Models.md"
    ]
    assert ("lora.png", "embed", "300") in [(l.target, l.kind, l.display) for l in lora.links]


def test_kevinywu_arxiv_citations(kevinywu):
    keys = {c.key for _, note in kevinywu.values() for c in note.citations if c.kind == "arxiv"}
    assert "1606.03476" in keys  # GAIL, cited in Rank2Reward's Results section
    assert "2006.11239" not in keys  # the DDPM note's own id, in its header
    assert all("v" not in key for key in keys)  # versions are stripped
