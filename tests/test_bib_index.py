"""The bibliography in the index (references.py, indexer.py, vault.py): citations resolve to a
paper note, else to the bib entry, else are unknown; bib files are re-read by sync and watch
only when they change, and an edit to them never re-reads the notes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, write
from vaultindex import Vault

LIBRARY = r"""@string{nn = "Neural Networks"}
@string{neurips = "Advances in Neural Information Processing Systems"}

@inproceedings{sorscher2022beyond,
  title = {Beyond neural scaling laws: beating power law scaling via data pruning},
  author = {Sorscher, Ben and Geirhos, Robert and Ganguli, Surya},
  booktitle = neurips,
  year = {2022},
  eprint = {2206.14486}, archivePrefix = {arXiv},
}

@article{schmidhuber2015deep,
  title = {Deep learning in neural networks: An overview},
  author = {J{\"u}rgen Schmidhuber},
  journal = nn,
  year = 2015,
  month = jan,
}

@article{broken2020,
  title = {A broken entry
  author = {Nobody},

@book{kaiser2019,
  title = {The {\L}ukasz book of {BERT}},
  author = {{\L}ukasz Kaiser and Aidan N. Gomez},
  year = {2019},
  publisher = {Nowhere Press},
}

@inproceedings{child2019,
  title = {A chapter about pruning},
  author = {Child, Ann},
  crossref = {proc2019},
}

@proceedings{proc2019,
  title = {Proceedings of the Pruning Workshop},
  year = {2019},
}

@article{schmidhuber2015deep,
  title = {Duplicate in the same file},
  year = 1999,
}
"""

MORE = r"""@article{kaiser2019,
  title = {Another file's kaiser2019},
  year = {1990},
}
"""

CONFIG_CSL = [
    {"id": "vaswani2017attention", "type": "paper-conference", "title": "Attention is all you need",
     "author": [{"family": "Vaswani", "given": "Ashish"}, {"family": "Shazeer", "given": "Noam"}],
     "issued": {"date-parts": [[2017, 12]]}, "container-title": "NeurIPS", "DOI": "10.5555/3295222.3295349"},
]
FRONTMATTER_CSL = [
    {"id": "hinton2015distilling", "type": "article", "title": "Distilling the knowledge in a neural network",
     "author": [{"family": "Hinton", "given": "Geoffrey"}], "issued": {"date-parts": [[2015]]}},
]

NOTES = {
    # a paper note: its citekey is in the bibliography too, and the note wins
    "papers/Beyond neural scaling laws.md": "---\ntitle: Beyond neural scaling laws\ncitekey: sorscher2022beyond\n"
    "year: 2022\ntags: [pruning]\n---\nData pruning beats power laws.\n",
    # cites a note, bib-only papers (.bib, config CSL-JSON, its own frontmatter CSL-JSON) and an unknown key
    "topics/Review.md": "---\ntitle: A review\nbibliography: ../refs/reading.json\ntags: [pruning]\n---\n"
    "We cite [@sorscher2022beyond], [@schmidhuber2015deep] and [@nobody2021].\n"
    "Transformers: [@vaswani2017attention]; distillation [@hinton2015distilling].\n",
    "topics/Other.md": "---\ntitle: Another review\n---\nSee [@schmidhuber2015deep] and [@kaiser2019].\n"
    "By DOI: 10.5555/3295222.3295349.\n",
}


def make_vault(root: Path) -> Path:
    write(root, "refs/library.bib", LIBRARY)
    write(root, "refs/more.bib", MORE)
    write(root, "refs/config.json", json.dumps(CONFIG_CSL, indent=1))
    write(root, "refs/reading.json", json.dumps(FRONTMATTER_CSL, indent=1))
    write(root, ".vaultindex/config.toml", 'bibliography = ["refs/config.json"]\n')
    for path, text in NOTES.items():
        write(root, path, text)
    return root


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_vault(tmp_path / "vault")


def line_of(needle: str, text: str = LIBRARY, nth: int = 0) -> int:
    """The 1-based line of the nth occurrence of `needle` in the fixture's text."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def cli(vault: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vaultindex", "--vault", str(vault), *args],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "VAULTINDEX_DEBUG": ""}, timeout=120,
    )


def targets(v: Vault, note: str) -> dict[str, tuple[str, str | None]]:
    return {o.target: (o.status, o.node) for o in v.links(note)}


# -- resolution ---------------------------------------------------------------------------------------

def test_citations_resolve_to_the_note_else_the_bib_entry_else_unknown(vault):
    v = Vault.open(vault)
    v.sync()
    got = targets(v, "topics/Review.md")
    assert got["sorscher2022beyond"] == ("resolved", "papers/Beyond neural scaling laws.md")
    assert got["schmidhuber2015deep"] == ("reference", "ref:schmidhuber2015deep")
    assert got["vaswani2017attention"] == ("reference", "ref:vaswani2017attention")  # config CSL-JSON
    assert got["hinton2015distilling"] == ("reference", "ref:hinton2015distilling")  # frontmatter CSL-JSON
    assert got["nobody2021"] == ("unresolved", "paper:citekey:nobody2021")
    other = targets(v, "topics/Other.md")
    assert other["10.5555/3295222.3295349"] == ("reference", "ref:vaswani2017attention")  # a DOI, to its entry
    assert other["kaiser2019"] == ("reference", "ref:kaiser2019")


def test_unresolved_shows_bib_only_papers_with_title_authors_year(vault):
    proc = cli(vault, "unresolved", "--kind", "paper", "--json")
    assert proc.returncode == 0, proc.stderr
    found = {u["target"]: u for u in json.loads(proc.stdout)}
    deep = found["@schmidhuber2015deep"]
    assert deep["title"] == "Deep learning in neural networks: An overview"
    assert deep["authors"] == ["Schmidhuber, Jürgen"] and deep["year"] == 2015
    assert deep["bib"] == f"refs/library.bib:{line_of('@article{schmidhuber2015deep')}" and deep["count"] == 2
    # the first file defining a key wins (refs/library.bib before refs/more.bib); accents decoded
    kaiser = found["@kaiser2019"]
    assert (kaiser["title"], kaiser["authors"], kaiser["year"]) == ("The Łukasz book of BERT", ["Kaiser, Łukasz", "Gomez, Aidan N."], 2019)
    assert found["@nobody2021"]["title"] == "" and found["@nobody2021"]["bib"] == ""
    assert "@sorscher2022beyond" not in found  # it has a note
    text = cli(vault, "unresolved").stdout
    assert f"@schmidhuber2015deep  (cited, no note; refs/library.bib:{line_of('@article{schmidhuber')}; used 2 times)" in text
    assert "  Deep learning in neural networks: An overview (2015) — Schmidhuber, Jürgen" in text
    assert "@nobody2021  (cited, no note; used 1 time)" in text


def test_backlinks_of_a_bib_only_paper(vault):
    proc = cli(vault, "backlinks", "@schmidhuber2015deep", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [b["path"] for b in json.loads(proc.stdout)] == ["topics/Other.md", "topics/Review.md"]
    # a key with a note: that note's backlinks
    paths = [b["path"] for b in json.loads(cli(vault, "backlinks", "@sorscher2022beyond", "--json").stdout)]
    assert paths == ["topics/Review.md"]
    proc = cli(vault, "backlinks", "@nowhere1999")
    assert proc.returncode == 1 and "Error: no note and no bibliography entry for @nowhere1999" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_related_uses_co_citation_of_bib_only_papers(vault):
    v = Vault.open(vault)
    v.sync()
    related = {r.path: r for r in v.related("@schmidhuber2015deep")}
    # cited beside it in topics/Other.md, and in topics/Review.md
    assert "ref:kaiser2019" in related and related["ref:kaiser2019"].title == "The Łukasz book of BERT"
    assert [r.kind for r in related["ref:kaiser2019"].reasons] == ["co-citation"]
    assert "papers/Beyond neural scaling laws.md" in related
    assert {"topics/Other.md", "topics/Review.md"} <= set(related)
    # two notes citing the same bib-only paper are coupled
    reasons = {r.path: [x.kind for x in r.reasons] for r in v.related("topics/Other.md")}
    assert "coupling" in reasons["topics/Review.md"]
    text = cli(vault, "related", "@schmidhuber2015deep").stdout
    assert "@kaiser2019 (no note; in the bibliography)" in text


def test_search_lists_bib_only_papers_apart_from_notes(vault):
    proc = cli(vault, "search", "pruning")
    assert proc.returncode == 0, proc.stderr
    notes_part, _, refs_part = proc.stdout.partition("In the bibliography, no note (2 papers):")
    assert "papers/Beyond neural scaling laws.md" in notes_part
    assert "@child2019  A chapter about pruning (2019) — Child, Ann — Proceedings of the Pruning Workshop" in refs_part
    assert "@proc2019  Proceedings of the Pruning Workshop (2019)" in refs_part
    assert "sorscher" not in refs_part  # it has a note: found as a note
    # (--json and --nl: tests/test_bib_cli.py); `references` lists the papers
    assert "In the bibliography" not in cli(vault, "search", "pruning", "--no-references").stdout
    by_author = json.loads(cli(vault, "references", "author:vaswani", "--json").stdout)
    assert [r["key"] for r in by_author] == ["vaswani2017attention"]
    assert by_author[0]["venue"] == "NeurIPS" and by_author[0]["year"] == 2017
    assert [r["key"] for r in json.loads(cli(vault, "references", "2015", "--json").stdout)] == [
        "hinton2015distilling", "schmidhuber2015deep"]
    assert [r["key"] for r in json.loads(cli(vault, "references", "łukasz", "--json").stdout)] == ["kaiser2019"]
    everything = [r["key"] for r in json.loads(cli(vault, "references", "--json").stdout)]
    assert "sorscher2022beyond" not in everything and "proc2019" in everything
    # --limit shows fewer; the count line still says how many there are
    limited = cli(vault, "references", "--limit", "2", "--json")
    assert len(json.loads(limited.stdout)) == 2
    assert f"2 of {len(everything)} papers in the bibliography without a note." in limited.stderr


# -- kept current ---------------------------------------------------------------------------------

def _count_parses(monkeypatch) -> dict[str, int]:
    import vaultindex.bib as bib
    import vaultindex.indexer as indexer

    counts = {"notes": 0, "bib": 0}
    real_note, real_bib, real_csl = indexer.parse_file, bib.parse_bibtex, bib.parse_csl_json

    def note(*a, **k):
        counts["notes"] += 1
        return real_note(*a, **k)

    def bibtex(*a, **k):
        counts["bib"] += 1
        return real_bib(*a, **k)

    def csl(*a, **k):
        counts["bib"] += 1
        return real_csl(*a, **k)

    monkeypatch.setattr(indexer, "parse_file", note)
    monkeypatch.setattr(bib, "parse_bibtex", bibtex)
    monkeypatch.setattr(bib, "parse_csl_json", csl)
    return counts


def test_sync_reads_a_bib_file_only_when_it_changed_and_never_the_notes_for_it(vault, monkeypatch):
    Vault.open(vault).sync()
    counts = _count_parses(monkeypatch)
    assert not Vault.open(vault).sync().changed
    write(vault, "topics/Other.md", NOTES["topics/Other.md"] + "More words.\n")
    Vault.open(vault).sync()
    assert counts == {"notes": 1, "bib": 0}  # a note edit reads no bibliography
    counts["notes"] = 0
    with open(vault / "refs/library.bib", "a", encoding="utf-8") as fh:
        fh.write("\n@misc{nobody2021, title = {Now in the bibliography}, year = 2021}\n")
    import vaultindex.indexer as indexer

    seen: list[set[str]] = []
    real_plan = indexer.plan_links
    monkeypatch.setattr(indexer, "plan_links", lambda *a, **k: seen.append(set(k["reference_keys"])) or real_plan(*a, **k))
    stats = Vault.open(vault).sync()
    assert counts == {"notes": 0, "bib": 1}  # one file read again (not the other .bib, not the CSL-JSON)
    assert seen == [{"citekey:nobody2021"}]  # only the citations of the changed key are re-resolved
    assert (stats.added, stats.modified, stats.removed) == (0, 0, 0)
    v = Vault.open(vault)
    assert targets(v, "topics/Review.md")["nobody2021"] == ("reference", "ref:nobody2021")
    assert Vault.open(vault).sync().changed is False and counts["bib"] == 1


def test_a_new_paper_note_takes_the_citations_and_gives_them_back(vault):
    v = Vault.open(vault)
    v.sync()
    write(vault, "papers/Schmidhuber.md", "---\ntitle: Deep learning overview\ncitekey: schmidhuber2015deep\n---\nx\n")
    Vault.open(vault).sync()
    assert targets(Vault.open(vault), "topics/Other.md")["schmidhuber2015deep"] == ("resolved", "papers/Schmidhuber.md")
    assert "@schmidhuber2015deep" not in {u.target for u in Vault.open(vault).unresolved()}
    (vault / "papers/Schmidhuber.md").unlink()
    Vault.open(vault).sync()
    assert targets(Vault.open(vault), "topics/Other.md")["schmidhuber2015deep"] == ("reference", "ref:schmidhuber2015deep")


def test_removing_a_bib_file_and_a_frontmatter_bibliography(vault):
    Vault.open(vault).sync()
    (vault / "refs/library.bib").unlink()
    Vault.open(vault).sync()
    v = Vault.open(vault)
    # kaiser2019 now comes from refs/more.bib, schmidhuber2015deep is unknown
    assert targets(v, "topics/Other.md")["schmidhuber2015deep"] == ("unresolved", "paper:citekey:schmidhuber2015deep")
    kaiser = next(u for u in v.unresolved() if u.target == "@kaiser2019")
    assert (kaiser.title, kaiser.year, kaiser.bib) == ("Another file's kaiser2019", 1990, "refs/more.bib:1")
    write(vault, "topics/Review.md", NOTES["topics/Review.md"].replace("bibliography: ../refs/reading.json\n", ""))
    Vault.open(vault).sync()
    assert targets(Vault.open(vault), "topics/Review.md")["hinton2015distilling"][0] == "unresolved"


def test_sync_prints_the_bib_diagnostics_with_file_and_line(vault):
    proc = cli(vault, "sync")
    assert proc.returncode == 0, proc.stderr
    assert f"refs/library.bib:{line_of('@article{broken2020')}: broken entry, skipped" in proc.stderr
    dup = line_of("@article{schmidhuber2015deep", nth=1)
    assert f'refs/library.bib:{dup}: duplicate key "schmidhuber2015deep" in this file' in proc.stderr
    assert f'refs/more.bib:1: key "kaiser2019" is also defined in refs/library.bib:{line_of("@book{kaiser")}' in proc.stderr
    assert "Traceback" not in proc.stderr


@contextlib.contextmanager
def watching(v: Vault, on_batch=None):
    """A real watch of the vault in a thread, started (its observer running) and stopped after."""
    stop = threading.Event()
    thread = threading.Thread(target=lambda: v.watch(stop_event=stop, on_batch=on_batch), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not v.writer_lock.held and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the observer is running
        yield
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.slow
def test_watch_picks_up_an_appended_entry_within_a_second(vault):
    v = Vault.open(vault)
    v.sync()
    with watching(v):
        with open(vault / "refs/library.bib", "a", encoding="utf-8") as fh:
            fh.write("\n@misc{nobody2021, title = {Appended}, year = 2021}\n")
        saved = time.monotonic()
        reader = Vault.open(vault)
        while time.monotonic() - saved < 5:
            if targets(reader, "topics/Review.md")["nobody2021"][0] == "reference":
                break
            time.sleep(0.05)
        took = time.monotonic() - saved
        assert targets(reader, "topics/Review.md")["nobody2021"] == ("reference", "ref:nobody2021")
        assert took < 1.0, f"took {took:.2f} s"
        # a CSL-JSON file saved (atomically, as Zotero's exporters do) is a change too
        changed = [{**FRONTMATTER_CSL[0], "title": "Distilling, saved again"}]
        tmp = vault / "refs/.reading.json.tmp"
        tmp.write_text(json.dumps(changed), encoding="utf-8")
        os.replace(tmp, vault / "refs/reading.json")
        saved = time.monotonic()
        while time.monotonic() - saved < 5:
            titles = {u.target: u.title for u in reader.unresolved()}
            if titles.get("@hinton2015distilling") == "Distilling, saved again":
                break
            time.sleep(0.05)
        assert titles["@hinton2015distilling"] == "Distilling, saved again"
        assert time.monotonic() - saved < 1.0


# -- graph, exports, tag pages ------------------------------------------------------------------------

def test_graph_export_has_bib_only_papers_as_their_own_kind(vault):
    proc = cli(vault, "graph", "-f", "json", "-o", "-")
    assert proc.returncode == 0, proc.stderr
    nodes = {n["id"]: n for n in json.loads(proc.stdout)["nodes"]}
    deep = nodes["ref:schmidhuber2015deep"]
    assert (deep["kind"], deep["title"], deep["year"], deep["authors"]) == (
        "reference", "Deep learning in neural networks: An overview", 2015, ["Schmidhuber, Jürgen"])
    assert nodes["paper:citekey:nobody2021"]["kind"] == "paper"
    assert nodes["papers/Beyond neural scaling laws.md"]["kind"] == "note"
    assert "ref:sorscher2022beyond" not in nodes  # the paper has a note
    edges = {(e["source"], e["target"]) for e in json.loads(proc.stdout)["edges"]}
    assert ("topics/Other.md", "ref:vaswani2017attention") in edges  # cited by its DOI
    # --no-references drops them, and keeps the unknown papers and the notes
    kept = {n["id"] for n in json.loads(cli(vault, "graph", "-f", "json", "-o", "-", "--no-references").stdout)["nodes"]}
    assert not any(n.startswith("ref:") for n in kept)
    assert {"paper:citekey:nobody2021", "topics/Review.md"} <= kept
    graphml = cli(vault, "graph", "-f", "graphml", "-o", "-").stdout
    assert "ref:schmidhuber2015deep" in graphml and ">reference<" in graphml
    mermaid = cli(vault, "graph", "-f", "mermaid", "-o", "-").stdout
    assert '[\\"Deep learning in neural networks: An overview"\\]' in mermaid
    around = json.loads(cli(vault, "graph", "-f", "json", "-o", "-", "--around", "@schmidhuber2015deep").stdout)
    assert {n["id"] for n in around["nodes"]} == {"ref:schmidhuber2015deep", "topics/Other.md", "topics/Review.md"}


def test_html_map_styles_bib_only_papers_apart(vault):
    from vaultindex.html import page_data

    v = Vault.open(vault)
    v.sync()
    view = v.graph_view()
    data = page_data(view)
    assert "reference" in data["kinds"]
    out = vault.parent / "map.html"
    proc = cli(vault, "graph", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert "REFERENCE_KIND" in page and "in the bibliography" in page


def test_tag_pages_list_notes_only(vault):
    proc = cli(vault, "tags", "write")
    assert proc.returncode == 0, proc.stderr
    pages = [p for p in vault.rglob("*.md") if "generated_by: vaultindex" in p.read_text(encoding="utf-8")]
    assert pages
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "Beyond neural scaling laws" in text and "A review" in text
    assert "schmidhuber" not in text.lower() and "Deep learning in neural networks" not in text


# -- doctor -----------------------------------------------------------------------------------------

def test_doctor_reports_the_bibliography_problems_and_strict_fails_on_errors(vault):
    write(vault, "papers/Sorscher copy.md", "---\ntitle: Same paper again\ndoi: 10.48550/arXiv.2206.14486\n---\nx\n")
    write(vault, "papers/Beyond neural scaling laws.md", NOTES["papers/Beyond neural scaling laws.md"].replace(
        "year: 2022\n", "year: 2022\narxiv: 2206.99999\ndoi: 10.48550/arXiv.2206.14486\n"))
    write(vault, "topics/Typo.md", "# Typo\nAs [@schmidhuber2015dep] showed.\n")
    proc = cli(vault, "doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    problems = json.loads(proc.stdout)["problems"]
    by_code: dict[str, list[dict]] = {}
    for p in problems:
        by_code.setdefault(p["code"], []).append(p)
    unknown = {(p["path"], p["line"], p["severity"]) for p in by_code["unknown-citekey"]}
    assert unknown == {("topics/Review.md", 6, "error"), ("topics/Typo.md", 2, "error")}
    typo = next(p for p in by_code["unknown-citekey"] if p["path"] == "topics/Typo.md")
    assert 'did you mean "schmidhuber2015deep"' in typo["message"]
    # the same DOI in two notes
    dup = by_code["duplicate-paper"][0]
    assert set(dup["candidates"]) == {"papers/Beyond neural scaling laws.md", "papers/Sorscher copy.md"}
    # the note's arXiv id disagrees with its entry's
    [mismatch] = by_code["bib-mismatch"]
    assert mismatch["path"] == "papers/Beyond neural scaling laws.md" and "2206.14486" in mismatch["message"]
    keys = {(p["path"], p["line"]) for p in by_code["duplicate-bib-key"]}
    assert keys == {("refs/library.bib", line_of("@article{schmidhuber2015deep", nth=1)), ("refs/more.bib", 1)}
    [broken] = by_code["bib-error"]
    assert (broken["path"], broken["line"], broken["severity"]) == ("refs/library.bib", line_of("@article{broken2020"), "error")
    text = cli(vault, "doctor").stdout
    assert f"error: refs/library.bib:{line_of('@article{broken2020')}: broken entry, skipped" in text
    strict = cli(vault, "doctor", "--strict")
    assert strict.returncode == 1 and "Traceback" not in strict.stderr


def test_doctor_without_a_bibliography_leaves_cited_papers_with_no_note_to_unresolved(tmp_path):
    root = tmp_path / "vault"
    write(root, "A.md", "# A\nSee [@nobody2021].\n")
    assert json.loads(cli(root, "doctor", "--json").stdout)["problems"] == []
    assert cli(root, "doctor", "--strict").returncode == 0
    write(root, "refs.bib", "@misc{somebody2020, title = {T}}\n")
    problems = json.loads(cli(root, "doctor", "--json").stdout)["problems"]
    assert [(p["code"], p["severity"], p["path"], p["line"]) for p in problems] == [("unknown-citekey", "error", "A.md", 2)]


# -- a real vault ------------------------------------------------------------------------------------

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


@pytest.mark.slow
def test_kevinywu_notes_zotero_bib_joins_the_paper_notes(tmp_path):
    """kevinywu-notes keeps a Better BibTeX export (bib.bib, 53 entries) beside its paper notes,
    which carry arXiv ids but no citekeys: an entry whose arXiv id or DOI a note has is that
    note's paper, the others are listed as papers without a note."""
    import shutil

    src = CORPORA / "kevinywu-notes"
    if not (src / "bib.bib").is_file():
        pytest.skip(f"{src} is not here")
    root = tmp_path / "vault"
    shutil.copytree(src, root)
    v = Vault.open(root)
    stats = v.sync()
    assert not [d for d in stats.diagnostics if d.path == "bib.bib"]
    entries = {r[0] for r in v.store.bib_entries()}
    assert len(entries) == 53
    without_note = {r.key for r in v.references()}
    assert 0 < len(without_note) < 53
    with_note = entries - without_note
    arxiv_of_notes = {n.paper.arxiv for n in v.notes() if n.paper.arxiv}
    from vaultindex.references import from_row

    assert all(from_row(r).arxiv in arxiv_of_notes or from_row(r).doi for r in v.store.bib_entries(with_note))
    assert not [p for p in v.doctor().problems if p.code.startswith(("bib-", "duplicate-bib", "unknown-citekey"))]


def test_a_stored_bibliography_that_cannot_be_read_back_is_read_again(vault):
    import sqlite3

    from conftest import build_dir

    Vault.open(vault).sync()
    db = sqlite3.connect(build_dir(vault) / "store.sqlite")
    with db:
        db.execute("UPDATE bibfiles SET data = ?", (json.dumps({"entries": [{"key": "x"}]}),))
    db.close()
    with open(vault / "refs/library.bib", "a", encoding="utf-8") as fh:
        fh.write("\n@misc{nobody2021, title = {Now in the bibliography}, year = 2021}\n")
    proc = cli(vault, "sync")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    v = Vault.open(vault)
    assert targets(v, "topics/Review.md")["nobody2021"] == ("reference", "ref:nobody2021")
    assert targets(v, "topics/Review.md")["vaswani2017attention"] == ("reference", "ref:vaswani2017attention")
