"""bib/: BibTeX and CSL-JSON files -> entries, diagnostics with file and line, fingerprints."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, corpus, write
from vaultindex import bib
from vaultindex.config import load_config
from vaultindex.parse import normalize_arxiv, normalize_doi

FIXTURES = REPO / "tests" / "fixtures" / "bib"


@pytest.fixture
def bib_vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / "refs").mkdir(parents=True)
    shutil.copy(FIXTURES / "library.bib", root / "refs" / "library.bib")
    shutil.copy(FIXTURES / "more.bib", root / "more.bib")
    shutil.copy(FIXTURES / "library.json", root / "refs" / "library.json")
    write(root, ".vaultindex/config.toml", 'bibliography = ["refs/library.json"]\n')
    write(root, "papers/note.md", "---\ntitle: A note\n---\nText [@he2016deep].\n")
    return root


def _load(root: Path, frontmatters=None, previous=None) -> bib.Bibliography:
    return bib.load(root, load_config(root), frontmatters or {}, previous)


# -- decoding -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "latex, text",
    [
        (r'J{\"u}rgen', "Jürgen"),
        (r"{\L}ukasz", "Łukasz"),
        (r"{\'e}t{\'e}", "été"),
        (r"\'{e}", "é"),
        (r"Fran\c{c}ois", "François"),
        (r"Fran{\c c}ois", "François"),
        (r"Stra{\ss}e", "Straße"),
        (r"Ji{\v{r}}{\'\i}", "Jiří"),
        (r"\AA{}ngstr\"om", "Ångström"),
        (r"{\o}ystein", "øystein"),
        (r"{BERT}: Pre-training", "BERT: Pre-training"),
        (r"{{PROGRESSOR}}: {{A Perceptually Guided}}", "PROGRESSOR: A Perceptually Guided"),
        (r"Learning \emph{fast} and \textbf{slow}", "Learning fast and slow"),
        (r"Salt \& Pepper, 100\%", "Salt & Pepper, 100%"),
        (r"pages 1--10 --- and more", "pages 1–10 — and more"),
        ("A~B", "A B"),
        ("``quoted''", "“quoted”"),
        ("two\n   lines", "two lines"),
        (r"\$π\textasciicircum\{*\}\_\{0.6\}\$", "$π^{*}_{0.6}$"),
        (r"$\alpha$-nets", r"$\alpha$-nets"),
        (r"\unknownmacro{z} x", "z x"),
        ("Unclosed {brace", "Unclosed brace"),
        ("", ""),
    ],
)
def test_decode_latex(latex, text):
    assert bib.decode_latex(latex) == text


@pytest.mark.parametrize(
    "value, names",
    [
        ("Devlin, Jacob and Chang, Ming-Wei", ("Devlin, Jacob", "Chang, Ming-Wei")),
        ("Jacob Devlin and Ming-Wei Chang", ("Devlin, Jacob", "Chang, Ming-Wei")),
        ("Ludwig van Beethoven", ("van Beethoven, Ludwig",)),
        ("Jean de la Fontaine", ("de la Fontaine, Jean",)),
        ("van Beethoven, Ludwig", ("van Beethoven, Ludwig",)),
        ("Mu{\\ss}ter, Jr., Max", ("Mußter, Jr., Max",)),
        ("{\\L}ukasz Kaiser", ("Kaiser, Łukasz",)),
        ("{World Health Organization}", ("World Health Organization",)),
        ("{Barnes and Noble} and Smith, J.", ("Barnes and Noble", "Smith, J.")),
        ("Aristotle", ("Aristotle",)),
        ("Vaswani, Ashish and others", ("Vaswani, Ashish",)),
        ("Smith, J. AND Doe, A.", ("Smith, J.", "Doe, A.")),
    ],
)
def test_parse_names(value, names):
    assert bib.parse_names(value) == names


@pytest.mark.parametrize("value, month", [("jan", 1), ("Jan.", 1), ("January", 1), ("1", 1), ("01", 1), ("12", 12), ("sept", 9), ("13", None), ("ja", None), ("spring", None)])
def test_parse_month(value, month):
    assert bib.parse_month(value) == month


# -- one .bib file ------------------------------------------------------------------------------

def _fixture_entries() -> tuple[dict[str, bib.BibEntry], list]:
    text = (FIXTURES / "library.bib").read_text(encoding="utf-8")
    entries, diagnostics = bib.parse_bibtex(text, "refs/library.bib")
    return {e.key: e for e in entries}, diagnostics


def test_macros_concatenation_accents_and_months():
    entries, _ = _fixture_entries()
    e = entries["schmidhuber2015deep"]
    assert e.authors == ("Schmidhuber, Jürgen",)  # "J{\"u}rgen" # " Schmidhuber"
    assert e.venue == "Neural Networks"  # @string nn
    assert e.title == "Deep Learning in Neural Networks: An Overview"
    assert (e.year, e.month) == (2015, 1)  # month = jan (a BibTeX month macro)
    assert e.doi == normalize_doi("https://doi.org/10.1016/J.NEUNET.2014.09.003") == "10.1016/j.neunet.2014.09.003"
    assert (e.path, e.line, e.type) == ("refs/library.bib", 6, "article")
    assert entries["vaswani2017attention"].venue == "Journal of Machine Learning Research"
    assert entries["vaswani2017attention"].month == 12
    assert entries["kaiser2017one"].month == 6


def test_accented_authors_are_unicode_last_first():
    entries, _ = _fixture_entries()
    assert entries["kaiser2017one"].authors == (
        "Kaiser, Łukasz",
        "Gomez, Aidan N.",
        "Chollet, François",
        "Matas, Jiří",
        "van Beethoven, Ludwig",
        "Mußter, Jr., Max",
    )
    assert entries["kaiser2017one"].display_authors[0] == "Łukasz Kaiser"
    assert entries["who2020"].authors == ("World Health Organization",)
    assert entries["who2020"].title == "Coronavirus disease (COVID-19) & Straßenverkehr"


def test_arxiv_ids_from_eprint_and_journal():
    entries, _ = _fixture_entries()
    assert entries["devlin2019bert"].arxiv == normalize_arxiv("1810.04805v2") == "1810.04805"
    assert entries["kaiser2017one"].arxiv == "1706.05137"  # journal = {arXiv preprint arXiv:...}


def test_broken_entry_in_the_middle_costs_only_itself():
    entries, diagnostics = _fixture_entries()
    assert "broken2020" not in entries
    # every entry after the broken one is still read
    assert {"who2020", "naacl2019", "vaswani2017attention"} <= set(entries)
    broken = [d for d in diagnostics if "broken entry" in d.message]
    assert len(broken) == 1
    assert (broken[0].path, broken[0].line, broken[0].severity) == ("refs/library.bib", 36, "error")


def test_duplicate_key_in_one_file_keeps_the_first():
    entries, diagnostics = _fixture_entries()
    assert entries["vaswani2017attention"].title == "Attention is All you Need"
    dup = [d for d in diagnostics if "duplicate key" in d.message]
    assert [(d.line, d.path) for d in dup] == [(64, "refs/library.bib")]


def test_biblatex_date_and_doi_of_an_arxiv_paper():
    entries, diagnostics = bib.parse_bibtex((FIXTURES / "more.bib").read_text(), "more.bib")
    clip = {e.key: e for e in entries}["radford2021clip"]
    assert (clip.year, clip.month) == (2021, 7)
    assert clip.doi == "10.48550/arxiv.2103.00020"
    assert clip.arxiv == "2103.00020"
    assert diagnostics == []


def test_malformed_fields_are_diagnostics_with_lines():
    text = "@article{a,\n  title = {T},\n  year = {soon},\n  month = {Smarch},\n  doi = {not a doi},\n  journal = undefinedmacro,\n}\n"
    entries, diagnostics = bib.parse_bibtex(text, "x.bib")
    assert [e.key for e in entries] == ["a"]
    messages = sorted(d.message for d in diagnostics)
    assert any("year 'soon'" in m for m in messages)
    assert any("month 'Smarch'" in m for m in messages)
    assert any("not a DOI" in m for m in messages)
    assert any("undefined @string macro 'undefinedmacro'" in m for m in messages)
    assert all(d.line == 1 and d.path == "x.bib" for d in diagnostics)


def test_nothing_printed_on_stderr_for_a_broken_file(capfd):
    bib.parse_bibtex("@article{x, title = {never closed\n@book{y, title={Y}}\n", "x.bib")
    assert capfd.readouterr().err == ""


# -- CSL-JSON ------------------------------------------------------------------------------------

def test_csl_json():
    entries, diagnostics = bib.parse_csl_json((FIXTURES / "library.json").read_text(), "refs/library.json")
    by_key = {e.key: e for e in entries}
    he = by_key["he2016deep"]
    assert he.authors == ("He, Kaiming", "Zhang, Xiangyu", "van Beethoven, Ludwig")
    assert (he.year, he.month, he.venue, he.doi) == (2016, 6, "CVPR", "10.1109/cvpr.2016.90")
    assert he.line == 2
    llama = by_key["touvron2023llama"]
    assert (llama.arxiv, llama.year, llama.month) == ("2302.13971", 2023, 2)
    assert llama.authors == ("Touvron, Hugo", "Meta AI")
    assert llama.field("abstract").startswith("We introduce LLaMA")
    assert [(d.line, d.severity) for d in diagnostics] == [(16, "error")]  # the item without an id


@pytest.mark.parametrize("text", ["{not json", '{"a": 1}', "42", "[1, 2]", "[" * 5000])
def test_csl_json_bad_files_are_diagnostics(text):
    entries, diagnostics = bib.parse_csl_json(text, "bad.json")
    assert entries == []
    assert diagnostics and all(d.path == "bad.json" and d.line for d in diagnostics)


# -- the vault's bibliography --------------------------------------------------------------------

def test_vault_bibliography_files_keys_ids_and_crossref(bib_vault):
    b = _load(bib_vault)
    assert [f.path for f in b.files] == ["refs/library.json", "more.bib", "refs/library.bib"]
    # every *.bib of the vault and the CSL-JSON named in the config
    assert {"he2016deep", "schmidhuber2015deep", "radford2021clip"} <= set(b.by_key)
    assert b.get("@he2016deep") is b.by_key["he2016deep"]
    assert b.find("doi", "10.1109/cvpr.2016.90").key == "he2016deep"
    assert b.find("arxiv", "2302.13971").key == "touvron2023llama"
    assert b.find("citekey", "He2016Deep") is None  # case-sensitive, as in pandoc
    # the first file in order (config, then vault paths) has the key
    assert b.get("devlin2019bert").path == "more.bib"


def test_duplicate_keys_across_files_first_file_wins(tmp_path):
    root = tmp_path / "v"
    shutil.copy(FIXTURES / "library.bib", write(root, "a/library.bib", ""))
    shutil.copy(FIXTURES / "more.bib", write(root, "b/more.bib", ""))
    b = _load(root)
    devlin = b.get("devlin2019bert")
    assert devlin.path == "a/library.bib"
    assert devlin.year == 2019 and devlin.month == 6
    assert devlin.venue == "Proceedings of NAACL-HLT 2019"  # from the crossref parent
    assert devlin.arxiv == "1810.04805" and b.find("arxiv", "1810.04805") is devlin
    dup = [d for d in b.diagnostics if "also defined" in d.message]
    assert [(d.path, d.line) for d in dup] == [("b/more.bib", 1)]
    assert "a/library.bib:17" in dup[0].message


def test_crossref_across_files_and_missing_parent(tmp_path):
    root = tmp_path / "v"
    write(root, "child.bib", "@inproceedings{c, title={Child}, crossref={p}}\n@inproceedings{orphan, title={O}, crossref={nowhere}}\n")
    write(root, "parent.bib", "@proceedings{p, title={The Book}, year={1999}, publisher={ACM}}\n")
    b = _load(root)
    assert (b.get("c").venue, b.get("c").year) == ("The Book", 1999)
    missing = [d for d in b.diagnostics if "nowhere" in d.message]
    assert [(d.path, d.line) for d in missing] == [("child.bib", 2)]


def test_excluded_and_hidden_bib_files_are_not_read(tmp_path):
    root = tmp_path / "v"
    write(root, "kept.bib", "@misc{kept, title={K}}\n")
    write(root, "archive/old.bib", "@misc{old, title={O}}\n")
    write(root, ".trash/gone.bib", "@misc{gone, title={G}}\n")
    write(root, ".obsidian/x.bib", "@misc{obs, title={X}}\n")
    write(root, ".vaultindex/config.toml", 'exclude = ["archive/"]\n')
    assert set(_load(root).by_key) == {"kept"}


def test_frontmatter_bibliography_pure_and_confined():
    found = bib.frontmatter_bibliographies(
        {
            "papers/a.md": {"bibliography": "refs.json"},
            "papers/b.md": {"bibliography": ["/lib/x.json", "../../etc/passwd.json", "../shared.bib"]},
            "c.md": {"bibliography": 3},
            "d.md": {},
        }
    )
    assert found == [
        ("papers/a.md", ("papers/refs.json", "refs.json")),
        ("papers/b.md", ("lib/x.json",)),
        ("papers/b.md", ("shared.bib",)),
    ]


def test_frontmatter_bibliography_is_read(tmp_path):
    root = tmp_path / "v"
    shutil.copy(FIXTURES / "library.json", write(root, "papers/refs.json", ""))
    b = _load(root, {"papers/note.md": {"bibliography": "refs.json"}, "x.md": {"bibliography": "missing.json"}})
    assert b.get("he2016deep").path == "papers/refs.json"
    assert any(d.path == "x.md" and "not found" in d.message for d in b.diagnostics)


def test_frontmatter_cannot_reach_outside_the_vault(tmp_path):
    outside = tmp_path / "secret.json"
    shutil.copy(FIXTURES / "library.json", outside)
    root = tmp_path / "v"
    root.mkdir()
    os.symlink(outside, root / "link.json")  # a symlink placed in the vault pointing out
    b = _load(root, {"n.md": {"bibliography": ["../secret.json", "link.json"]}})
    assert len(b) == 0


def test_unchanged_files_are_not_read_again(bib_vault, monkeypatch):
    first = _load(bib_vault)
    reads = []
    real = bib._read_bytes
    monkeypatch.setattr(bib, "_read_bytes", lambda f: reads.append(Path(f).name) or real(f))
    second = _load(bib_vault, previous=first)
    assert reads == []
    assert all(a is b for a, b in zip(first.files, second.files))
    assert second.changed_keys(first) == set()
    # an edit to one .bib re-reads that file only
    path = bib_vault / "more.bib"
    path.write_text(path.read_text() + "\n@misc{added2024, title={Added}}\n")
    third = _load(bib_vault, previous=second)
    assert reads == ["more.bib"]
    assert third.changed_keys(second) == {"added2024"}
    assert third.file("refs/library.bib") is second.file("refs/library.bib")
    # touched but identical: the hash decides, the entries are reused
    os.utime(path, ns=(1, 1))
    fourth = _load(bib_vault, previous=third)
    assert fourth.file("more.bib").entries is third.file("more.bib").entries


def test_unreadable_and_non_utf8_files(tmp_path):
    root = tmp_path / "v"
    write(root, "ok.bib", "@misc{ok, title={OK}}\n")
    (root / "latin.bib").write_bytes("@misc{lat, author={J\xfcrgen M\xfcller}}\n".encode("latin-1"))
    os.mkfifo(root / "fifo.bib")
    b = _load(root)
    assert b.get("lat").authors == ("Müller, Jürgen",)
    assert any(d.path == "latin.bib" and "not UTF-8" in d.message and d.line == 1 for d in b.diagnostics)
    assert "ok" in b


# -- hypothesis: arbitrary text never raises; every diagnostic has the file and a line ------------

_bibish = st.lists(
    st.sampled_from(list("@{}\",=#%\\ \n\tabcAB01_-:~'$") + ["@article{", "@string{", "@comment{", "@preamble{", "title = ", " and ", '{\\"u}', "crossref = ", "month = jan"]),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_bibish, st.text(max_size=200)))
def test_bibtex_reader_never_raises(text):
    entries, diagnostics = bib.parse_bibtex(text, "h.bib")
    n_lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for d in diagnostics:
        assert d.path == "h.bib"
        assert d.line is not None and 1 <= d.line <= n_lines, d
    for e in entries:
        assert e.key and e.path == "h.bib" and 1 <= e.line <= n_lines


# -- the fast splitter reads every block as bibtexparser would ---------------------------------------

_word = st.sampled_from(["a", "Key", "x y", "10", "jan", "M{\\\"u}ller", "\\&", "A {B} c", "{C}", '{"}', "\\{", "\\}", "\\\"", "=", "#", "@", "\u00e9", "%", "\n"])
_braced = st.recursive(_word, lambda inner: st.lists(inner, max_size=3).map(lambda ws: "{" + " ".join(ws) + "}"), max_leaves=6)
_value = st.one_of(
    _braced.map(lambda v: v if v.startswith("{") else "{" + v + "}"),
    st.lists(st.sampled_from(["a", "b c", "{d}", '{"}', "\\\"", ",", "{", "}"]), max_size=4).map(lambda ws: '"' + "".join(ws) + '"'),
    st.sampled_from(["2020", "jan", "ab", 'ab # " x " # cd', "{A} # ab"]),
)
_field = st.tuples(st.sampled_from(["title", "Title", "author", "year", "month", "doi", "journal", "note", "", " x y "]), _value).map(lambda f: f"  {f[0]} = {f[1]}")
_entry = st.tuples(
    st.sampled_from(["@article{", "@Misc {", "@string{", "@inproceedings(", "@comment{", "@preamble{", "@{"]),
    st.sampled_from(["k1", "k2", "", "k 3", "K1"]),
    st.lists(_field, max_size=4),
    st.sampled_from(["\n}\n", ",\n}\n", "}", "\n)\n", "\n", "} trailing @x{\n"]),
).map(lambda e: e[0] + (e[2][0].strip() if e[0] == "@string{" and e[2] else e[1] + ",\n" + ",\n".join(e[2])) + e[3])
_noise = st.sampled_from(["{", "}", '"', ",", "=", "\\", "\n", " ", "@misc{", "\n@book{", "\\\n", "\r\n", "x", "\u00a0", "@ ", "(", ")"])
_bibtext = st.lists(st.one_of(_entry, _entry, _noise), max_size=10).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bibtext)
def test_the_fast_splitter_reads_every_file_as_bibtexparser_alone_does(text):
    """bib/split.py reads plain blocks itself and hands the rest to bibtexparser: the entries,
    fields, lines and diagnostics are the ones bibtexparser alone gives for the whole file."""
    import bibtexparser
    from hypothesis import assume

    from vaultindex.bib import bibtex, split

    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        bibtexparser.parse_string(normal, parse_stack=[])
    except Exception:  # noqa: BLE001 - a bibtexparser bug on this text: nothing to compare with
        assume(False)
    fast = bib.parse_bibtex(text, "h.bib")
    whole = [split.Chunk(0, len(normal), 0)]
    with mock.patch.object(bibtex.split, "chunks", lambda _text: iter(whole)):
        alone = bib.parse_bibtex(text, "h.bib")
    assert fast == alone


def test_the_fast_splitter_hands_only_the_broken_entry_to_bibtexparser():
    from vaultindex.bib import split

    text = (FIXTURES / "library.bib").read_text(encoding="utf-8")
    items = list(split.chunks(text))
    left = [i for i in items if isinstance(i, split.Chunk)]
    assert [text[c.start : c.end].split(",")[0] for c in left] == ["@article{broken2020"]
    assert [(i.key, i.line + 1) for i in items if isinstance(i, split.Block)][2:5] == [
        ("juergen", 4), ("schmidhuber2015deep", 6), ("devlin2019bert", 17)]


@pytest.mark.parametrize("text, entries", [
    ("\n" * 200_000 + "@misc{a, title = {A}}\n", 1),  # a regex that backtracked took 450 s here
    (" \n" * 100_000 + "@misc{a, title = {A}}\n", 1),
    ("@misc{a," + " " * 100_000 + "}\n", 1),
    ("@article{k, title = " + "{" * 20_000 + "}" * 20_000 + "}\n", 1),
    ("@a{\n" * 5_000, 0),  # broken entries in a row: one bibtexparser call, lines not counted again each time
])
def test_hostile_files_are_read_in_linear_time(text, entries):
    import time

    started = time.process_time()
    found, diagnostics = bib.parse_bibtex(text, "h.bib")
    assert len(found) == entries
    assert time.process_time() - started < 5.0


def test_a_plain_file_is_read_without_importing_bibtexparser():
    code = (
        "import sys; from vaultindex import bib; "
        "e, d = bib.parse_bibtex('@article{a, title = {T}, year = 2020}\\n', 'a.bib'); "
        "print(e[0].title, e[0].year, 'bibtexparser' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["T", "2020", "False"]


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(["id", "title", "author", "issued", "DOI", "URL", "number", "date-parts", "family", "given", "raw", "x"]), c, max_size=5), max_leaves=30))
def test_csl_reader_never_raises(data):
    text = json.dumps(data)
    entries, diagnostics = bib.parse_csl_json(text, "h.json")
    assert all(d.path == "h.json" and d.line and d.line >= 1 for d in diagnostics)


# -- the real vault's Better BibTeX export ---------------------------------------------------------

def test_real_better_bibtex_export(tmp_path):
    root = corpus("kevinywu-notes", tmp_path)
    b = _load(root)
    assert len(b) >= 50
    assert not [d for d in b.diagnostics if d.severity == "error"]
    e = b.get("ayalewPROGRESSORPerceptuallyGuided2024")
    assert e.title == "PROGRESSOR: A Perceptually Guided Reward Estimator with Self-Supervised Online Refinement"
    assert (e.year, e.month, e.arxiv, e.doi) == (2024, 11, "2411.17764", "10.48550/arxiv.2411.17764")
    assert e.authors[:2] == ("Ayalew, Tewodros", "Zhang, Xiao")
    assert all("\\" not in x.title and "{{" not in x.title for x in b)
    # Better BibTeX escapes a title's own braces and dollars: they stay, the protection goes
    assert b.get("amin$p^_06$VLAThat2025").title == "$π^{*}_{0.6}$: A VLA That Learns From Experience"


@pytest.mark.parametrize(
    "toml, message",
    [
        ("bibliography = 3\n", "bibliography must be a file name or a list"),
        ('bibliography = ["a.json", ""]\n', "bibliography must be a file name or a list"),
        ("[new]\nfolder = 1\n", "[new]: folder must be str"),
        ('[new]\nfilename = " "\n', "filename must not be empty"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, toml, message):
    from vaultindex.errors import ConfigError

    write(tmp_path, ".vaultindex/config.toml", toml)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_path)


def test_config_bibliography_string_and_outside_file(tmp_path):
    outside = tmp_path / "zotero" / "My Library.json"
    shutil.copy(FIXTURES / "library.json", write(tmp_path, "zotero/My Library.json", ""))
    root = tmp_path / "v"
    write(root, ".vaultindex/config.toml", f"bibliography = {json.dumps(str(outside))}\n")
    b = _load(root)
    assert b.get("he2016deep").path == str(outside)  # shown as written: it is not in the vault


def test_entry_without_key_duplicate_field_and_missing_comma():
    entries, diagnostics = bib.parse_bibtex(
        "@misc{a, title={A}, title={B}, Title={C}}\n@misc{, title={x}}\n@misc{b title={y}}\n@misc{c, title={C}}\n", "x.bib"
    )
    assert [(e.key, e.title) for e in entries] == [("a", "A"), ("c", "C")]
    assert [(d.line, d.severity) for d in diagnostics] == [(1, "warning"), (2, "error"), (3, "error")]
    assert "title given twice" in diagnostics[0].message
