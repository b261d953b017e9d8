"""The top hits of a search are the best-scored notes, as a search for every match ranks them.

whoosh3's top-N search swaps sub-matchers for cheaper ones as its heap fills, and on a
multi-word query over several fields (every plain search) the swap dropped the best notes:
at 600 generated notes "scaling laws" missed one of its top ten, at 10,000 "attention
transformer" its top three (fulltext.top_hits).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultindex.cli import cli

QUERIES = ["scaling laws", "attention transformer", "sparse attention", "data pruning", "teacher model"]


@pytest.fixture
def generated(generated_vault: Path) -> Path:
    return generated_vault  # 600 generated notes, synced (conftest.py: one per worker, shared)


def _scores(root: Path, query: str, limit: int) -> list[tuple[float, str]]:
    result = CliRunner().invoke(cli, ["--vault", str(root), "search", "--json", "--limit", str(limit), query])
    assert result.exit_code == 0, result.output
    return [(h["score"], h["path"]) for h in json.loads(result.output)]


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES)
def test_the_top_ten_are_the_ten_best_of_all_matches(generated: Path, query: str) -> None:
    everything = _scores(generated, query, 10_000)  # more than the notes: Whoosh scores every match
    top = _scores(generated, query, 10)
    assert len(everything) > 10
    assert [s for s, _ in top] == [s for s, _ in everything[:10]]


@pytest.mark.slow
@pytest.mark.parametrize("query", ["dropout overfitting", "learning-rate", "gradient descent"])
def test_a_hits_snippet_is_cut_from_the_section_it_names(generated: Path, query: str) -> None:
    from vaultindex.snippet import readable

    result = CliRunner().invoke(cli, ["--vault", str(generated), "search", "--json", "--limit", "10", query])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits
    for hit in hits:
        section = hit["section"]
        lines = (generated / hit["path"]).read_text(encoding="utf-8").split("\n")
        shown = " ".join(readable("\n".join(lines[section["start_line"] - 1 : section["end_line"]])).split())
        snippet = hit["snippet"].replace("\x01", "").replace("\x02", "").strip("…")
        assert snippet and snippet in shown, (hit["path"], section["path"], snippet)
