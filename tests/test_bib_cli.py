"""The bibliography seen from the commands: bib-only papers in `search --json`/`--nl` and MCP's
search (their own kind, after the notes), and what `sync` and `watch` say about a bibliography
edit. The vault is test_bib_index's fixture (notes citing keys of a .bib and CSL-JSON files)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_bib_index import LIBRARY, cli, make_vault


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_vault(tmp_path / "vault")


# -- search -------------------------------------------------------------------------------------------

def test_search_json_lists_notes_then_bib_only_papers_each_with_its_kind(vault):
    items = json.loads(cli(vault, "search", "pruning", "--json").stdout)
    kinds = [i["kind"] for i in items]
    assert kinds == sorted(kinds, key=lambda k: k != "note") and set(kinds) == {"note", "reference"}
    notes = [i for i in items if i["kind"] == "note"]
    refs = {i["key"]: i for i in items if i["kind"] == "reference"}
    assert "papers/Beyond neural scaling laws.md" in [n["path"] for n in notes]
    assert set(refs) == {"child2019", "proc2019"}  # sorscher2022beyond has a note: found as the note
    child = refs["child2019"]
    assert (child["title"], child["authors"], child["year"]) == ("A chapter about pruning", ["Child, Ann"], 2019)
    assert child["venue"] == "Proceedings of the Pruning Workshop"  # from its crossref
    assert (child["path"], child["line"]) == ("refs/library.bib", LIBRARY[: LIBRARY.index("@inproceedings{child")].count("\n") + 1)
    # the same objects as `references --json`, with their kind
    listed = {r["key"]: r for r in json.loads(cli(vault, "references", "pruning", "--json").stdout)}
    assert {k: {**v, "kind": "reference"} for k, v in listed.items()} == refs


def test_search_nl_no_references_and_paths(vault):
    lines = [json.loads(line) for line in cli(vault, "search", "pruning", "--nl").stdout.splitlines()]
    assert {(i["kind"], i.get("path") if i["kind"] == "note" else i["key"]) for i in lines} >= {
        ("note", "papers/Beyond neural scaling laws.md"), ("reference", "child2019")}
    notes_only = json.loads(cli(vault, "search", "pruning", "--json", "--no-references").stdout)
    assert notes_only and {i["kind"] for i in notes_only} == {"note"}
    paths = cli(vault, "search", "pruning", "--paths").stdout.splitlines()
    assert paths and all(p.endswith(".md") for p in paths)
    # a paper found only in the bibliography: no note matches, the paper is still listed
    proc = cli(vault, "search", "schmidhuber", "--json")
    assert [(i["kind"], i.get("key")) for i in json.loads(proc.stdout)] == [("reference", "schmidhuber2015deep")]
    assert "papers of the bibliography do" in proc.stderr


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_readme_jq_line_picks_the_bib_only_papers(vault):
    out = subprocess.run(["jq", "-r", '.[] | select(.kind == "reference") | .key'], capture_output=True, text=True,
                         input=cli(vault, "search", "pruning", "--json").stdout, check=True).stdout
    assert out.split() == ["child2019", "proc2019"]


def test_mcp_search_answers_with_the_bib_only_papers_as_search_json_does(vault):
    pytest.importorskip("mcp.server.mcpserver")
    import anyio
    from test_mcp import result, served

    async def main():
        async with served(vault) as session:
            found = await result(session, "search", query="pruning")
            answer = await session.call_tool("search", {"query": "pruning"})
            return found, answer.content[0].text

    found, text = anyio.run(main)
    assert found == json.loads(cli(vault, "search", "pruning", "--json").stdout)
    assert [i["key"] for i in found if i["kind"] == "reference"] == ["child2019", "proc2019"]
    assert "In the bibliography, no note (2):" in text and "@child2019: A chapter about pruning (2019)" in text

