"""`vaultindex new @KEY`: the paper's note from its bibliography entry (newnote.py, cli/new.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, write
from vaultindex import newnote
from vaultindex.models import BibEntry
from vaultindex.parse import parse_note

FIXTURES = REPO / "tests" / "fixtures" / "bib"
BERT = "Inbox/BERT - Pre-training of Deep Bidirectional Transformers for Language Understanding.md"
NOW = dt.datetime(2026, 3, 4, 5, 6)


def cli(vault: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vaultindex", "--vault", str(vault), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "VAULTINDEX_DEBUG": ""},
        timeout=120,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".vaultindex" not in p.parts
    }


@pytest.fixture
def vault(example_copy: Path) -> Path:
    shutil.copy(FIXTURES / "library.bib", example_copy / "library.bib")
    return example_copy


# -- the command, end to end ---------------------------------------------------------------------

@pytest.mark.slow
def test_new_writes_prints_indexes_and_refuses_twice(vault):
    before = snapshot(vault)
    proc = cli(vault, "new", "@devlin2019bert")
    assert proc.returncode == 0, proc.stderr
    # the path, on stdout, alone; Obsidian's folder for new notes (app.json: Inbox)
    assert proc.stdout == BERT + "\n"
    note = parse_note(BERT, (vault / BERT).read_text(encoding="utf-8"))
    assert note.title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert note.paper.citekey == "devlin2019bert"
    assert note.paper.arxiv == "1810.04805"
    assert note.paper.year == 2019
    assert note.paper.venue == "Proceedings of NAACL-HLT 2019"  # from the crossref
    assert note.paper.authors[:2] == ("Jacob Devlin", "Ming-Wei Chang")
    assert note.aliases == ("BERT",)
    # the vault's own template (Templates/Paper note template.md) was used: its keys stay
    assert note.frontmatter.get("status") == "to-read"
    assert set(snapshot(vault)) - set(before) == {BERT}

    # indexed at once: search finds it right after, without a sync
    found = cli(vault, "search", "--paths", "bidirectional transformers")
    assert found.returncode == 0, found.stderr
    assert BERT in found.stdout.splitlines()

    # a second time: refused, exit 1, nothing changed
    after = snapshot(vault)
    again = cli(vault, "new", "devlin2019bert")
    assert again.returncode == 1
    assert again.stderr.splitlines()[-1].startswith("Error: a note for @devlin2019bert exists: " + BERT)
    assert "Traceback" not in again.stderr and again.stdout == ""
    assert snapshot(vault) == after


@pytest.mark.slow
def test_dry_run_prints_the_note_and_writes_nothing(vault):
    before = snapshot(vault)
    proc = cli(vault, "new", "@schmidhuber2015deep", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("---\n")
    assert 'title: "Deep Learning in Neural Networks: An Overview"' in proc.stdout
    assert 'authors: ["Jürgen Schmidhuber"]' in proc.stdout
    assert 'doi: "10.1016/j.neunet.2014.09.003"' in proc.stdout
    assert "Would write Inbox/Deep Learning in Neural Networks - An Overview.md" in proc.stderr
    assert snapshot(vault) == before


@pytest.mark.slow
def test_refuses_when_a_note_has_the_papers_id(vault):
    # example_vault has "Beyond neural scaling laws" with arxiv 2206.14486, without this key
    write(vault, "refs2.bib", "@article{sorscher2022, title={Beyond neural scaling laws}, eprint={2206.14486}, archivePrefix={arXiv}}\n")
    before = snapshot(vault)
    proc = cli(vault, "new", "@sorscher2022")
    assert proc.returncode == 1
    assert "papers/Beyond neural scaling laws.md (its arXiv id is 2206.14486)" in proc.stderr
    assert snapshot(vault) == before


@pytest.mark.slow
def test_unknown_key_and_no_bibliography(example_copy, vault):
    proc = cli(vault, "new", "@devlin2019bret")
    assert proc.returncode == 1
    assert "no bibliography entry @devlin2019bret" in proc.stderr and "did you mean @devlin2019bert" in proc.stderr
    (vault / "library.bib").unlink()
    proc = cli(vault, "new", "@x")
    assert proc.returncode == 1 and "no bibliography found" in proc.stderr


@pytest.mark.slow
def test_config_folder_pattern_and_builtin_template(tmp_path):
    root = tmp_path / "v"
    shutil.copy(FIXTURES / "library.json", write(root, "refs/library.json", ""))
    write(root, ".vaultindex/config.toml", 'bibliography = ["refs/library.json"]\n[new]\nfolder = "Papers/2023"\nfilename = "{{year}} {{short title}}"\n')
    proc = cli(root, "new", "@touvron2023llama")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Papers/2023/2023 LLaMA.md"
    text = (root / "Papers/2023/2023 LLaMA.md").read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "LLaMA: Open and Efficient Foundation Language Models"\n')
    assert "## Abstract\n\n> We introduce LLaMA" in text
    assert 'aliases: ["LLaMA"]' in text


@pytest.mark.slow
def test_never_writes_through_a_symlinked_folder(vault, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, vault / "linked")
    proc = cli(vault, "new", "@schmidhuber2015deep", "--folder", "linked")
    assert proc.returncode == 1
    assert "symlink" in proc.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["../escape", ".obsidian", ".hidden/x"])
def test_folder_must_be_inside_and_indexed(vault, folder):
    proc = cli(vault, "new", "@schmidhuber2015deep", "--folder", folder)
    assert proc.returncode == 1 and proc.stderr.splitlines()[-1].startswith("Error: folder")


# -- the pure parts -----------------------------------------------------------------------------

ENTRY = BibEntry(
    key="devlin2019bert",
    type="inproceedings",
    title="BERT: Pre-training of Deep Bidirectional Transformers",
    authors=("Devlin, Jacob", "van Beethoven, Ludwig"),
    year=2019,
    venue="NAACL",
    arxiv="1810.04805",
)


def test_builtin_note_frontmatter():
    text = newnote.render_note(ENTRY, None, NOW)
    note = parse_note("x.md", text)
    assert note.frontmatter["title"] == ENTRY.title
    assert note.paper.authors == ("Jacob Devlin", "Ludwig van Beethoven")
    assert (note.paper.year, note.paper.venue, note.paper.arxiv, note.paper.citekey) == (2019, "NAACL", "1810.04805", "devlin2019bert")
    assert note.aliases == ("BERT",)
    assert "doi" not in note.frontmatter and "url" not in note.frontmatter  # empty ones left out
    assert note.citations == ()  # the note does not cite itself


def test_template_placeholders_and_empty_keys():
    template = (
        "---\ntitle: \"{{title}}\"\nauthor: []\nyear:\ncitekey:\ntags: [paper]\n"
        "summary: \"{{citekey}} by {{authors}}\"\nadded: {{date}}\nnote: '{{title}}'\n"
        "links:\n  - \"{{url}}\"\n---\n# {{ short title }} ({{year}})\n{{date:YYYY/MM}} {{unknown}} {{title | upper}} <% tp.file.title %>\n"
    )
    text = newnote.render_note(ENTRY, template, NOW)
    note = parse_note("x.md", text)
    fm = note.frontmatter
    assert fm["title"] == ENTRY.title
    assert fm["author"] == ["Jacob Devlin", "Ludwig van Beethoven"]  # the template's own key name
    assert "authors" not in fm
    assert (fm["year"], fm["citekey"], fm["tags"]) == (2019, "devlin2019bert", ["paper"])
    assert fm["summary"] == "devlin2019bert by Jacob Devlin, Ludwig van Beethoven"
    assert str(fm["added"]) == "2026-03-04"
    assert fm["note"] == ENTRY.title
    assert "# BERT (2019)\n2026/03 {{unknown}} {{title | upper}} <% tp.file.title %>" in text


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=80).filter(lambda t: t.strip()))
def test_any_title_survives_the_frontmatter(title):
    entry = BibEntry(key="k", title=" ".join(title.split()), authors=(title,))
    for template in (None, '---\ntitle: "{{title}}"\nx: \'{{title}}\'\nauthors:\n---\n{{title}}\n'):
        note = parse_note("x.md", newnote.render_note(entry, template, NOW))
        assert not [d for d in note.diagnostics if d.severity == "error"]
        assert note.frontmatter["title"] == entry.title
        assert note.paper.citekey == "k"


@pytest.mark.parametrize(
    "title, aliases",
    [
        ("BERT: Pre-training of Deep Bidirectional Transformers", ("BERT",)),
        ("RoBERTa: A Robustly Optimized BERT Pretraining Approach", ("RoBERTa",)),
        ("GPT-3: Language Models are Few-Shot Learners", ("GPT-3",)),
        ("LoRA: Low-Rank Adaptation of Large Language Models", ("LoRA",)),
        ("Bidirectional Encoder Representations from Transformers (BERT)", ("BERT",)),
        ("Attention Is All You Need", ()),
        ("Adam: A Method for Stochastic Optimization", ()),
        ("Deep learning in neural networks: An overview", ()),
        ("2021: A Year", ()),
    ],
)
def test_title_aliases(title, aliases):
    assert newnote.title_aliases(title) == aliases


@pytest.mark.parametrize(
    "title, name",
    [
        ("BERT: Pre-training", "BERT - Pre-training"),
        ("Input/Output? [draft] #1 ^x *bold* <a|b> \"q\"", "Input-Output draft 1 x bold a-b q"),
        ("...hidden", "hidden"),
        ("CON", "CON_"),
        ("trailing dots...", "trailing dots"),
    ],
)
def test_safe_name(title, name):
    assert newnote.safe_name(title) == name


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_safe_name_is_always_obsidian_safe(text):
    name = newnote.safe_name(text)
    assert not set(name) & set('*"\\/<>:|?#^[]')
    assert len(name) <= newnote.MAX_NAME_CHARS and len(name.encode("utf-8")) <= newnote.MAX_NAME_BYTES
    assert not name.startswith(".") and name == name.strip()
    assert all(ch.isprintable() or ch == " " for ch in name)


def test_file_name_falls_back_to_the_citekey():
    assert newnote.note_file_name(BibEntry(key="a:b/c", title="???"), "{{title}}", NOW) == "a - b-c.md"


def test_template_detection(tmp_path):
    from vaultindex.config import load_config

    root = tmp_path / "v"
    write(root, "Templates/Daily.md", "x")
    write(root, "Templates/Literature note.md", "x")
    cfg = load_config(root)
    assert newnote.find_template(root, cfg) == "Templates/Literature note.md"
    write(root, "Templates/Paper.md", "x")
    assert newnote.find_template(root, cfg) == "Templates/Paper.md"
    write(root, ".obsidian/templates.json", json.dumps({"folder": "meta/tpl/"}))
    assert newnote.find_template(root, cfg) is None  # the templates folder moved; it has none
    write(root, "meta/tpl/Zotero import.md", "x")
    assert newnote.find_template(root, cfg) == "meta/tpl/Zotero import.md"


def test_write_new_file_never_replaces(tmp_path):
    write(tmp_path, "a/b.md", "old")
    with pytest.raises(newnote.NoteExists):
        newnote.write_new_file(tmp_path, "a/b.md", "new")
    assert (tmp_path / "a/b.md").read_text() == "old"
    os.symlink(tmp_path / "nowhere", tmp_path / "a/dangling.md")
    with pytest.raises(newnote.NoteExists):
        newnote.write_new_file(tmp_path, "a/dangling.md", "new")
    assert not (tmp_path / "nowhere").exists()
    newnote.write_new_file(tmp_path, "c/d/e.md", "fresh")
    assert (tmp_path / "c/d/e.md").read_text() == "fresh"
    assert sorted(p.name for p in (tmp_path / "c/d").iterdir()) == ["e.md"]  # no temporary left
