"""Flat frontmatter (`key: value` lines) is read without YAML's constructor: the data must be
exactly what the YAML load gives, for every text the fast reader accepts, and the fast reader
must accept the common frontmatter (bench/'s notes, the real vaults' simple ones)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultindex.parse.frontmatter import _flat_load, _guarded_load
from vaultindex.text import split_frontmatter

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Values YAML 1.1 reads as other things than strings, or refuses, beside plain ones.
SCALARS = st.sampled_from([
    "", "read", "ICLR", "Felix Petrov", "ml/nlp", "a.b", "e.g.", "x_1", "yes", "Yes", "NO", "on", "Off", "true",
    "False", "null", "Null", "~", "y", "n", "0", "7", "2016", "007", "1_000", "1.5", "1e3", "-3", "+3", ".inf",
    ".nan", "2020-01-01", "12:30", "0x1F", "0o17", "a: b", "a #c", "#c", "a#b", "'q'", '"q"', "a, b", "[a]",
    "{a: 1}", "- a", "&a", "*a", "!t", "|", ">", "%x", "@x", "`x`", "a  b", "A-", "Ωmega", "a:b", "=", "<<",
    "10.67559/j.2016.91394", "10/2020", "1/2", "2206.14486", "1:20", "1/2 b", "0/", "/a", "10.1/x y",
    '"1204.03853"', "'x y'", '"a\\"b"', '"a\\nb"', "'it''s'", '""', "''", '"#x"', "'a: b'", '"a', "'\\'", '"x" y',
])
KEYS = st.sampled_from(["title", "tags", "year", "aliases", "a-b", "k_1", "yes", "on", "null", "Title", "x"])
ITEMS = st.lists(SCALARS, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
SPACES = st.sampled_from(["", " ", "  "])


@st.composite
def frontmatter(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        value = draw(st.one_of(SCALARS, ITEMS, st.sampled_from(["[]", "[ ]", "[a,b]", "[a, b,]", "[[a]]"])))
        sep = draw(st.sampled_from([": ", ":  ", ":", ": "]))
        lines.append(draw(KEYS) + sep + value + draw(SPACES))
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", " ", "# note", "  indented: x", "- item", "---", "\tx: 1"])))
    return "\n".join(lines)


def yaml_data(text: str):
    try:
        return yaml.load(text, Loader=LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return "invalid"


@settings(max_examples=1500, deadline=None)
@given(frontmatter())
def test_flat_frontmatter_reads_as_yaml_reads_it(text):
    flat = _flat_load(text)
    if flat is not None:
        assert flat == yaml_data(text)
        assert [type(v) for v in flat.values()] == [type(v) for v in yaml_data(text).values()]


def test_common_frontmatter_takes_the_fast_way():
    paper = ("title: Hierarchical Networks for Warmup Adam\nauthors: [Felix Petrov, Jun Takahashi]\nyear: 2016\n"
             "doi: 10.67559/j.2016.91394\ncitekey: petrov2016hierarchical\ntags: [ml/optimization, ml/nlp]\n"
             "aliases: [HNWA]\nstatus: read\nvenue: ICLR")
    assert _flat_load(paper) == yaml_data(paper)
    assert _flat_load(paper)["doi"] == "10.67559/j.2016.91394" and _flat_load(paper)["year"] == 2016
    arxiv = "arxiv: 2206.14486"  # a float, as YAML reads it: YAML's way
    assert _flat_load(arxiv) is None and _guarded_load(arxiv) == {"arxiv": 2206.14486}
    topic = "tags: [topic, ml/nlp]\naliases: [translation]"
    assert _flat_load(topic) == {"tags": ["topic", "ml/nlp"], "aliases": ["translation"]}
    assert _flat_load("status: yes") is None and _guarded_load("status: yes") == {"status": True}


@pytest.mark.skipif(not CORPORA.is_dir(), reason="the shared corpora are not here")
def test_real_vaults_frontmatter_reads_as_yaml_reads_it():
    taken = 0
    for path in sorted(CORPORA.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        try:
            yaml_text = split_frontmatter(text)[0]
        except ValueError:  # no closing line
            continue
        if yaml_text is None:
            continue
        flat = _flat_load(yaml_text)
        if flat is not None:
            taken += 1
            assert flat == yaml_data(yaml_text), path
    assert taken > 0
