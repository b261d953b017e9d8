"""`doctor` answers from the store's rows (doctor.store_facts, storedoctor.py), never the whole
vault: its report must equal the whole-graph computation (doctor.diagnose over a LinkGraph
built from every note) on any vault, and a fresh `doctor` must not build the graph."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPORA, write
from vaultindex import Vault
from vaultindex.doctor import diagnose
from vaultindex.models import to_json
from vaultindex.scan import scan


def _whole_graph(vault: Vault):
    """doctor as it was computed before: over a LinkGraph of every note."""
    files = scan(vault.root, vault.config).diagnostics
    return diagnose(vault.graph, read_text=vault.read_text, bibliography=vault.bibliography_diagnostics(), files=files)


def _same_report(vault: Vault) -> None:
    new, old = vault.doctor(), _whole_graph(vault)
    assert to_json(new) == to_json(old)


# -- any vault ---------------------------------------------------------------------------------------

NAMES = ["Alpha", "alpha", "Beta", "Gamma", "Beta.sync-conflict-20260101-120000-ABCDEFG", "Nick", "smith2020"]
FOLDERS = ["", "sub/", "Sub/", "other/"]
SUBPATHS = ["", "#Intro", "#intro", "#Deep: part 2", "#Missing", "#^blk", "#^BLK", "#^nope", "#Intro#Nope"]
TARGETS = ["Alpha", "alpha", "ALPHA", "Beta", "sub/Alpha", "SUB/alpha", "Nick", "Missing", "", "secret", "fig.png",
           "Gamma.md", "../Beta", "./Gamma"]
IDS = ["", "doi: 10.1234/x", "doi: https://doi.org/10.1234/X", "arxiv: 2101.00001", "arxiv: 2101.00001v2", "citekey: smith2020",
       "citekey: Smith2020"]


@st.composite
def notes(draw):
    out = {}
    for _ in range(draw(st.integers(1, 7))):
        path = draw(st.sampled_from(FOLDERS)) + draw(st.sampled_from(NAMES)) + ".md"
        front = [draw(st.sampled_from(IDS))]
        if draw(st.booleans()):
            front.append("aliases: [Nick]")
        if draw(st.integers(0, 6)) == 0:
            front.append("generated_by: vaultindex")
        if draw(st.integers(0, 8)) == 0:
            front.append("bad: [unclosed")
        links = [f"{'!' if draw(st.integers(0, 4)) == 0 else ''}[[{t}{s}]]"
                 for t, s in draw(st.lists(st.tuples(st.sampled_from(TARGETS), st.sampled_from(SUBPATHS)), max_size=5))]
        cites = [f"[@{k}]" for k in draw(st.lists(st.sampled_from(["smith2020", "smith2021", "nobody"]), max_size=2))]
        body = "\n".join([" ".join(links), "# Intro", "## Deep: part 2", "para ^blk", " ".join(cites)])
        out[path] = "---\n" + "\n".join(f for f in front if f) + "\n---\n" + body + "\n"
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=notes(), bib=st.booleans(), aliases=st.booleans())
def test_doctor_from_the_rows_equals_the_whole_graph(tmp_path_factory, files, bib, aliases):
    root = tmp_path_factory.mktemp("vault")
    write(root, ".obsidian/app.json", json.dumps({"userIgnoreFilters": ["secret.md"]}))
    write(root, "secret.md", "excluded\n")
    write(root, "fig.png", "png")
    if aliases:
        write(root, ".vaultindex/config.toml", "resolve_aliases = true\n")
    if bib:
        write(root, "refs.bib", "@article{smith2020, title = {A}, doi = {10.9999/other}, year = {2020}}\n"
                                "@article{smith2021x, title = {B}, year = {2021}}\n")
    for path, text in files.items():
        write(root, path, text)
    vault = Vault.open(root)
    vault.sync()
    _same_report(vault)


# -- the real vaults --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["academic-obsidian", "kevinywu-notes"])
def test_doctor_from_the_rows_equals_the_whole_graph_on_a_real_vault(tmp_path, name):
    src = CORPORA / name
    if not src.is_dir():
        pytest.skip(f"{src} is not here")
    root = tmp_path / name
    shutil.copytree(src, root, symlinks=True)
    vault = Vault.open(root)
    vault.sync()
    _same_report(vault)


def test_a_note_with_diagnostics_property_still_shows_its_own(tmp_path):
    """storedoctor finds the notes with diagnostics by the end of their JSON (`diagnostics` is
    Note's last field): a frontmatter key of that name must not hide a note's own."""
    import dataclasses

    from vaultindex.models import Note

    assert dataclasses.fields(Note)[-1].name == "diagnostics"
    (tmp_path / "a.md").write_bytes(b"---\ndiagnostics: []\n---\nnot UTF-8: \xff\n")
    vault = Vault.open(tmp_path)
    vault.sync()
    assert [p.code for p in vault.doctor().problems] == ["note-warning"]
    _same_report(vault)


def test_doctor_from_the_rows_equals_the_whole_graph_on_example_vault(example_copy):
    vault = Vault.open(example_copy)
    vault.sync()
    report = vault.doctor()
    assert report.problems  # example_vault shows a few on purpose
    _same_report(vault)


# -- a fresh doctor never builds the whole graph ---------------------------------------------------

_PROBE = (
    "import sys\n"
    "from vaultindex.store import Store\n"
    "def refuse(*args, **kwargs):\n"
    "    raise SystemExit('read every note row')\n"
    "Store.all_notes = Store.records = refuse\n"
    "from vaultindex.cli import cli\n"
    "try:\n"
    "    cli.main(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n"
    "    sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
)


def test_a_fresh_doctor_reads_no_whole_vault_and_builds_no_graph(example_copy):
    proc = subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(example_copy), "sync"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-c", _PROBE, "--vault", str(example_copy), "doctor", "--json"],
                          capture_output=True, text=True, env={**os.environ, "VAULTINDEX_DEBUG": ""}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "read every note row" not in proc.stderr
    modules = set(proc.stderr.rsplit("MODULES ", 1)[1].split())
    assert not modules & {"networkx", "vaultindex.graph", "vaultindex.parse", "whoosh"}, sorted(modules & {"networkx", "vaultindex.graph"})
    report = json.loads(proc.stdout)
    assert {p["code"] for p in report["problems"]} >= {"ambiguous-link"}
    assert Path(example_copy).is_dir()
