"""The bibliography seen from the commands: bib-only papers in `search --json`/`--nl` and MCP's
search (their own kind, after the notes), and what `sync` and `watch` say about a bibliography
edit. The vault is test_bib_index's fixture (notes citing keys of a .bib and CSL-JSON files)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from test_bib_index import LIBRARY, cli, make_vault, targets, watching


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


# -- what sync and watch say about a bibliography edit ------------------------------------------------

def test_sync_says_what_a_bibliography_edit_changed(vault):
    assert cli(vault, "sync").returncode == 0
    bib = vault / "refs/library.bib"
    text = bib.read_text(encoding="utf-8").replace("A chapter about pruning", "A chapter about data pruning")
    bib.write_text(text + "\n@misc{nobody2021, title = {Now in the bibliography}, year = 2021}\n", encoding="utf-8")
    proc = cli(vault, "sync", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "+0 ~0 -0; bibliography refs/library.bib: +1 ~1 -0 entries" in proc.stderr
    assert "Indexed" in proc.stderr
    assert json.loads(proc.stdout)["bibliography"] == {"files": ["refs/library.bib"], "added": 1, "changed": 1, "removed": 0}
    again = cli(vault, "sync", "--json")
    assert json.loads(again.stdout)["bibliography"] is None and "Up to date:" in again.stderr
    assert "bibliography" not in again.stderr.splitlines()[-1]
    (vault / "refs/more.bib").unlink()  # a file gone: its entry goes, another file's entry takes its key
    gone = json.loads(cli(vault, "sync", "--json").stdout)["bibliography"]
    assert gone["files"] == ["refs/more.bib"] and gone["removed"] == 0 and gone["changed"] == 0


@pytest.mark.slow
def test_watch_watches_a_csl_json_file_outside_the_vault_and_says_what_changed(vault, tmp_path):
    from vaultindex import Vault
    from vaultindex.watch import batch_line

    zotero = tmp_path / "zotero"
    zotero.mkdir()
    outside = zotero / "export.json"
    entry = {"id": "outside2020", "type": "article", "title": "Exported by Zotero", "issued": {"date-parts": [[2020]]}}
    outside.write_text(json.dumps([entry]), encoding="utf-8")
    (vault / ".vaultindex/config.toml").write_text(f"bibliography = [\"refs/config.json\", {json.dumps(str(outside))}]\n")
    (vault / "topics/Outside.md").write_text("See [@outside2020] and [@later2021].\n", encoding="utf-8")
    v = Vault.open(vault)
    v.sync()
    assert targets(v, "topics/Outside.md")["later2021"][0] == "unresolved"
    batches: list = []
    with watching(v, on_batch=lambda s, p: batches.append((s, p))):
        (zotero / "unrelated.json").write_text("[]", encoding="utf-8")  # the folder's other files: no batch
        time.sleep(1.0)
        assert batches == []
        later = {"id": "later2021", "type": "article", "title": "Added in Zotero", "issued": {"date-parts": [[2021]]}}
        tmp = zotero / ".export.json.tmp"
        tmp.write_text(json.dumps([entry, later]), encoding="utf-8")
        os.replace(tmp, outside)  # as Zotero's exporters save
        saved = time.monotonic()
        reader = Vault.open(vault)
        while time.monotonic() - saved < 5 and targets(reader, "topics/Outside.md")["later2021"][0] != "reference":
            time.sleep(0.05)
        took = time.monotonic() - saved
        assert targets(reader, "topics/Outside.md")["later2021"] == ("reference", "ref:later2021")
        assert took < 1.0, f"took {took:.2f} s"
        deadline = time.monotonic() + 2
        while not batches and time.monotonic() < deadline:
            time.sleep(0.05)
        stats, paths = batches[-1]
        assert paths == () and (stats.added, stats.modified, stats.removed) == (0, 0, 0)
        assert stats.bibliography is not None and stats.bibliography.files == (str(outside),)
        assert (stats.bibliography.added, stats.bibliography.changed) == (1, 0)
        assert batch_line(stats, paths).endswith(f"bibliography {outside}: +1 ~0 -0 entries")
