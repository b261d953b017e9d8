"""Did you mean, for words with accents: a typo is compared with the vault's words without their
accents (the full text folds them: `resume` finds `résumé`), and the word is offered as written."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultindex.cli import cli
from vaultindex.fulltext.spelling import closest_word


class Words:
    """A spelling dictionary as the store holds it: words as written, with their note counts."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def word_counts(self, words: Iterable[str]) -> dict[str, int]:
        return {w: self.counts[w] for w in words if w in self.counts}

    def words_between(self, shortest: int, longest: int) -> list[str]:
        return [w for w in self.counts if shortest <= len(w) <= longest]


WORDS = Words({"résumé": 3, "naïve": 4, "jégou": 2, "café": 2, "pruning": 9})


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("resumee", "résumé"),  # one edit from the folded word, three as written
        ("resumé", "résumé"),  # an accent in the wrong place
        ("rèsumé", "résumé"),
        ("naivee", "naïve"),
        ("naïvee", "naïve"),
        ("jegoux", "jégou"),
        ("cafée", "café"),
        ("prunning", "pruning"),  # words without accents as before
    ],
)
def test_a_typo_is_compared_without_accents(typed: str, meant: str) -> None:
    assert closest_word(WORDS, typed) == meant


def test_fewer_edits_as_written_then_more_notes_break_a_tie() -> None:
    both = Words({"naïve": 4, "naive": 1, "cafe": 5, "café": 2})
    assert closest_word(both, "naivee") == "naive"  # one edit as written, two to naïve
    assert closest_word(both, "naïvee") == "naïve"
    assert closest_word(both, "cafée") == "cafe"  # one edit to either as written: cafe is in more notes


def test_an_accented_typo_of_a_short_word_is_still_one_edit() -> None:
    # four letters: one edit at most, and "naiv" is one edit from "naïve" once folded
    assert closest_word(Words({"naïve": 2}), "naiv") == "naïve"
    assert closest_word(Words({"naïve": 2}), "nxiv") is None


def test_search_offers_the_accented_word_for_a_typo(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"n{i}.md").write_text(f"# Note {i}\n\nA naïve baseline and a résumé of the results.\n", encoding="utf-8")
    (tmp_path / ".obsidian").mkdir()
    result = CliRunner().invoke(cli, ["--vault", str(tmp_path), "search", "--json", "resumee"])
    assert result.exit_code == 0, result.output
    assert 'did you mean "résumé"?' in result.stderr
    assert sorted(h["path"] for h in json.loads(result.stdout)) == ["n0.md", "n1.md", "n2.md"]
