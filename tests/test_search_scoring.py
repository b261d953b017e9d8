"""fulltext.top_hits scores every match a posting list at a time (fulltext/scoring.py): its
hits must be Whoosh's own, score for score and in the same order, for every kind of query
(the ones it evaluates and the ones it leaves to Whoosh's collector)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vaultindex import Vault
from vaultindex.fulltext import parse_query, schema, top_hits

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    "data pruning", "attention transformer", "scaling laws", "distillation", "optimiz*", "prun* OR distil*",
    "convergence -adversarial", "NOT data model", "tag:ml fine-tuning", "year:>2020 pretraining",
    "year:[2019 TO 2021] attention", '"knowledge distillation"', "title:scaling", "status:read attention",
    "(data OR model) AND scaling", "teacher model", "gradient descent", "robustness benchmark",
]


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "bench"))
    root = tmp_path_factory.mktemp("scoring") / "vault"
    generate(root, 400, seed=3)
    (root / "Templates").mkdir()
    (root / "Templates" / "Paper.md").write_text("# {{title}}\n\n## Data pruning\n\nattention scaling laws\n", encoding="utf-8")
    vault = Vault.open(root)
    vault.sync()
    for i in range(0, 400, 37):  # deleted documents in the segments, as after edits
        note = next(iter(sorted((root / "papers").rglob("*.md"))[i : i + 1]), None)
        if note is not None:
            note.write_text(note.read_text(encoding="utf-8") + "\nmore data pruning, edited\n", encoding="utf-8")
    vault.sync()
    return vault


def _whoosh(s, q, limit):
    from whoosh.collectors import TopCollector

    collector = TopCollector(limit, replace=0)
    s.search_with_collector(q, collector)
    return [(hit.score, hit.docnum) for hit in collector.results()]


@pytest.mark.parametrize("limit", [10, 10_000])
def test_top_hits_are_whooshs_own_scores_in_whooshs_order(vault: Vault, limit: int) -> None:
    names = set(schema().names())
    with vault.fulltext.searcher() as s:
        assert s.reader().has_deletions()
        for text in QUERIES:
            q = parse_query(text, names, ("Templates",))
            mine = top_hits(s, q, limit)
            assert mine == _whoosh(s, q, limit), text
            assert all(s.stored_fields(doc)["path"] != "Templates/Paper.md" for _, doc in mine), text
