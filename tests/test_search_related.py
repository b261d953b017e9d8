"""`related`'s text half (more-like-this over a note's body) and the templates folder.

whoosh3's top-N search swaps sub-matchers as its heap fills and loses score (see
tests/test_search_ranking.py): Whoosh's own more_like runs such a search. Here the best few
similar notes must be the first few of all similar notes. And notes in the templates folder
are templates, not papers: neither `rank` nor `related` lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultindex import Vault
from vaultindex.cli import cli
from vaultindex.fulltext import similar_paths
from vaultindex.store import encode_path


@pytest.fixture
def generated(generated_vault: Path) -> Path:
    return generated_vault  # 600 generated notes, synced (conftest.py: one per worker, shared)


@pytest.mark.slow
def test_the_most_similar_notes_are_the_first_of_all_similar_notes(generated: Path) -> None:
    vault = Vault.open(generated)
    papers = sorted(p.relative_to(generated).as_posix() for p in (generated / "papers").rglob("*.md"))
    wrong = []
    for path in papers[::40]:
        text = (generated / path).read_text(encoding="utf-8")
        everything = similar_paths(vault.fulltext, encode_path(path), text, limit=10_000)
        top = similar_paths(vault.fulltext, encode_path(path), text, limit=10)
        assert len(everything) > 10
        if [s for _, s in top] != [s for _, s in everything[:10]]:
            wrong.append(path)
    assert wrong == []


TEMPLATE = "---\ntags: [paper]\n---\n# {{title}}\n\nSee [[Hub]] and [[Hub]]: data pruning scaling laws.\n"


def test_templates_are_left_out_of_rank_and_related(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    (root / "Templates").mkdir(parents=True)
    (root / "papers").mkdir()
    (root / "Hub.md").write_text("# Hub\n\n[[papers/A]] [[papers/B]] [[Templates/Paper]]\n", encoding="utf-8")
    (root / "papers" / "A.md").write_text("---\ntags: [paper]\n---\n[[Hub]] data pruning scaling laws.\n", encoding="utf-8")
    (root / "papers" / "B.md").write_text("---\ntags: [paper]\n---\n[[Hub]] [[papers/A]] data pruning.\n", encoding="utf-8")
    (root / "Templates" / "Paper.md").write_text(TEMPLATE, encoding="utf-8")
    runner = CliRunner()
    ranked = runner.invoke(cli, ["--vault", str(root), "rank", "--json", "--limit", "100"])
    assert ranked.exit_code == 0, ranked.output
    assert sorted(r["path"] for r in json.loads(ranked.stdout)) == ["Hub.md", "papers/A.md", "papers/B.md"]
    for note in ("Hub", "papers/A"):
        related = runner.invoke(cli, ["--vault", str(root), "related", "--json", note])
        assert related.exit_code == 0, related.output
        paths = [r["path"] for r in json.loads(related.stdout)]
        assert paths and "Templates/Paper.md" not in paths
