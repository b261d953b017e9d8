"""Single letters glued to a word (Q-learning, k-means, SO(3), GPT-4, C++) are words of the
index: a search for them finds the notes that contain them, not every note on learning."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultindex.cli import cli

NOTES = {
    "RL/Q-learning.md": "# Concepts\n\nQ-learning updates a table of action values from each step.\n",
    "RL/Policy gradients.md": "# Concepts\n\nLearning a policy directly, with learning rates tuned by hand.\n",
    "ML/Clustering.md": "# Reference\n\nk-means picks k centres; the means move until nothing changes.\n",
    "ML/Averages.md": "# Reference\n\nThe arithmetic and geometric means of a sample, and what they mean.\n",
    "Geometry/Equivariance.md": "Networks equivariant to rotations in SO(3) share weights across poses.\n",
    "Geometry/So what.md": "So the result holds, and so does its converse in 3 dimensions.\n",
    "Search/Pathfinding.md": "A* search expands the node with the lowest cost plus heuristic.\n",
    "Search/Beam.md": "Beam search keeps a few candidates; a search of the whole tree is slower.\n",
    "LLM/Reports.md": "The GPT-4 technical report and C++ bindings for the tokenizer.\n",
    "LLM/Older.md": "GPT models before the fourth, and C bindings.\n",
}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for rel, text in NOTES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def found(vault: Path, query: str) -> list[str]:
    result = CliRunner().invoke(cli, ["--vault", str(vault), "search", "--paths", query])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Q-learning", ["RL/Q-learning.md"]),
        ("q-learning table", ["RL/Q-learning.md"]),
        ("k-means", ["ML/Clustering.md"]),
        ("SO(3)", ["Geometry/Equivariance.md"]),
        ('"SO(3)"', ["Geometry/Equivariance.md"]),
        ('"A* search"', ["Search/Pathfinding.md"]),
        ("GPT-4", ["LLM/Reports.md"]),
        ('"C++ bindings"', ["LLM/Reports.md"]),
    ],
)
def test_a_glued_letter_is_searched_for(vault: Path, query: str, expected: list[str]) -> None:
    assert found(vault, query) == expected


def test_the_snippet_marks_the_letter_too(vault: Path) -> None:
    from vaultindex import Vault

    hit = Vault.open(vault).search("Q-learning").hits[0]
    assert hit.snippet.startswith("\x01Q\x02-\x01learning\x02 updates")


def test_lone_letters_and_stop_words_stay_out(vault: Path) -> None:
    # "a" alone is still a stop word; a query of nothing else says so.
    result = CliRunner().invoke(cli, ["--vault", str(vault), "search", "a"])
    assert result.exit_code == 1 and "no searchable words" in result.output
