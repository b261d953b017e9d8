"""What the whole-graph questions keep per state of the index (ranking.Kept): a graph view's
communities, like `rank`'s PageRank, are computed once per state and read back after; after
an edit they are those a fresh computation gives (issue 14: communities stored per state)."""

from __future__ import annotations

import pytest

import vaultindex.export as export
import vaultindex.export.views as views
from conftest import write
from vaultindex import Vault


def _groups(view) -> dict[str, int]:
    return {n: d["community"] for n, d in view.nodes(data=True)}


def _no_louvain(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("communities were computed again")

    monkeypatch.setattr(views, "communities", refuse)
    monkeypatch.setattr(export, "communities", refuse)


def test_a_views_communities_are_kept_and_read_back_in_a_new_process(example_copy, monkeypatch):
    vault = Vault.open(example_copy)
    vault.sync()
    first = _groups(vault.graph_view())
    around = _groups(vault.graph_view({"around": "Beyond neural scaling laws", "depth": 1}))
    with monkeypatch.context() as m:
        _no_louvain(m)
        again = Vault.open(example_copy)  # as a fresh process would: nothing in memory
        assert _groups(again.graph_view()) == first
        assert _groups(again.graph_view({"around": "Beyond neural scaling laws", "depth": 1})) == around


def test_after_edits_the_kept_communities_are_those_computed_afresh(example_copy, monkeypatch):
    vault = Vault.open(example_copy)
    vault.sync()
    vault.graph_view()
    # Edits that change the graph: a hub linking many notes, a removed note.
    names = [p.stem for p in sorted((example_copy / "papers").glob("*.md"))][:6]
    write(example_copy, "Hub.md", " ".join(f"[[{n}]]" for n in names) + "\n")
    (example_copy / "papers" / f"{names[-1]}.md").unlink()
    Vault.open(example_copy).sync()
    kept = _groups(Vault.open(example_copy).graph_view())  # computed for the new state and kept
    with monkeypatch.context() as m:
        _no_louvain(m)
        read_back = _groups(Vault.open(example_copy).graph_view())
    fresh_view = Vault.open(example_copy).graph_view()  # (the real Louvain again)
    fresh = {n: i for i, members in enumerate(views.communities(fresh_view)) for n in members}
    assert read_back == kept == fresh
    assert "Hub.md" in kept and f"papers/{names[-1]}.md" not in kept


@pytest.mark.parametrize("filters", [{}, {"kinds": "link"}, {"tags": ["ml"]}])
def test_each_view_keeps_its_own_communities(example_copy, filters, monkeypatch):
    vault = Vault.open(example_copy)
    vault.sync()
    expected = _groups(vault.graph_view(filters))
    other = _groups(vault.graph_view({"attachments": True}))
    with monkeypatch.context() as m:
        _no_louvain(m)
        assert _groups(Vault.open(example_copy).graph_view(filters)) == expected
        assert _groups(Vault.open(example_copy).graph_view({"attachments": True})) == other
