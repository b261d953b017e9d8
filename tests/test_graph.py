"""Tests for vaultindex.graph, vaultindex.mentions and the graph queries of Vault.

Answers on example_vault were worked out by reading its files (see the comments); the
incremental graph is checked against one built from scratch, with hypothesis; the shared
real vaults are checked against an independent reading of DESIGN.md's resolution rules.
"""

from __future__ import annotations

import pickle
import posixpath
import tempfile
import unicodedata
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import corpus, write
from vaultindex import Vault
from vaultindex.errors import AmbiguousNote, NoteNotFound
from vaultindex.graph import LinkGraph
from vaultindex.mentions import find_mentions, names_of, search_phrases
from vaultindex.models import Citation, Link, Note, Paper
from vaultindex.ranking import pagerank

BEYOND = "papers/Beyond neural scaling laws.md"
IDEA = "Inbox/Idea - curriculum by difficulty.md"


def synced(root: Path) -> Vault:
    vault = Vault.open(root)
    vault.sync()
    return vault


def sources(found) -> list[str]:
    return [group.path for group in found]


# ---------------------------------------------------------------------------------------------
# example_vault, answers computed by hand from the files


def test_example_backlinks_of_beyond(synced_example):
    found = synced_example.backlinks("Beyond neural scaling laws")
    # grep -rn "Beyond neural scaling laws\|sorscher2022beyond\|2206.14486" example_vault,
    # minus the note itself, About (all in code) and the Inbox idea (plain text, not a link):
    expected = {
        "Reading list.md": [(11, "link", "")],
        "papers/Chinchilla - Compute-optimal LLMs.md": [(36, "link", "Results")],
        # two links on line 34, and the arXiv id of the paper in text on line 35
        "papers/Data diet - EL2N.md": [(34, "link", ""), (34, "link", "^key-result"), (35, "cite", "")],
        "papers/Easy training data for hard tasks.md": [(32, "link", "")],
        "papers/Effects of scale on worst-group performance.md": [(29, "link", "")],
        "papers/Selective annotation (vote-k).md": [(33, "link", "")],
        # [see @sorscher2022beyond, p. 3; @paul2021deep] and a wikilink, both on line 32
        "papers/Trivial or impossible.md": [(32, "cite", ""), (32, "link", "")],
        "papers/kaplan/Scaling laws.md": [(31, "link", "")],
        "topics/Data difficulty and selection.md": [(12, "link", ""), (18, "embed", "^key-result")],
        "topics/Scaling laws.md": [(20, "link", ""), (20, "link", "^key-result")],
        "topics/Self-supervised learning.md": [(22, "link", "")],
    }
    got = {b.path: [(ln.line, ln.kind, ln.subpath) for ln in b.links] for b in found}
    assert got == expected
    assert sources(found) == sorted(expected)
    data_diet = next(b for b in found if b.path == "papers/Data diet - EL2N.md")
    assert data_diet.title == "Deep learning on a data diet: finding important examples early in training"
    assert data_diet.links[2].target == "2206.14486"
    assert "arxiv.org/abs/2206.14486" in data_diet.links[2].context


def test_example_backlinks_of_the_duplicate_names(synced_example):
    kaplan = sources(synced_example.backlinks("papers/kaplan/Scaling laws.md"))
    topic = sources(synced_example.backlinks("topics/Scaling laws.md"))
    # Kaplan is reached only by path ([[kaplan/Scaling laws]], [[papers/kaplan/Scaling laws]],
    # a ../ Markdown link) and by its citekey (@kaplan2020scaling in the Chinchilla note)
    assert kaplan == [
        "Reading list.md",
        "papers/Beyond neural scaling laws.md",
        "papers/Chinchilla - Compute-optimal LLMs.md",
        "papers/Few-shot scaling laws for image classifiers.md",
        "topics/Scaling laws.md",
    ]
    # a bare [[Scaling laws]] goes to the topic page (shortest path); plus path-qualified links
    assert topic == [
        "Reading list.md",
        "papers/Chinchilla - Compute-optimal LLMs.md",
        "papers/Effects of scale on worst-group performance.md",
        "papers/Few-shot scaling laws for image classifiers.md",
        "papers/PaLM.md",
        "papers/Pham - Effect of model size on worst-group generalization.md",
        "papers/kaplan/Scaling laws.md",
    ]
    with pytest.raises(AmbiguousNote):
        synced_example.backlinks("Scaling laws")


def test_example_backlinks_of_an_attachment_and_a_markdown_link(synced_example):
    fig = synced_example.backlinks("attachments/fig-pruning.png")
    assert [(b.path, [(ln.line, ln.kind) for ln in b.links]) for b in fig] == [(BEYOND, [(28, "embed")])]
    # [SpanBERT](SpanBERT.md) in T0, [SpanBERT](papers/SpanBERT.md) in the reading list
    spanbert = sources(synced_example.backlinks("SpanBERT"))
    assert "papers/T0 - Multitask prompted training.md" in spanbert
    assert "Reading list.md" in spanbert
    # the URL-encoded Markdown link reaches the em-dash file name
    barlow = sources(synced_example.backlinks("papers/Zbontar — Barlow Twins.md"))
    assert "Reading list.md" in barlow


def test_example_frontmatter_and_table_links(synced_example):
    # related: "[[Continual learning]]" in the French note; `\|` alias inside a table
    found = {b.path: b for b in synced_example.backlinks("Continual learning")}
    french = found["topics/Apprentissage continu — résumé.md"]
    assert [ln.line for ln in french.links] == [5]
    ewc = {b.path: b for b in synced_example.backlinks("EWC - Overcoming catastrophic forgetting")}
    table = ewc["topics/Continual learning.md"].links[0]
    assert table.display == "EWC" and table.target == "EWC - Overcoming catastrophic forgetting"


def test_example_hidden_links_are_not_links(synced_example):
    targets = {u.target for u in synced_example.unresolved()}
    for hidden in ("Not a real link", "Also not a link", "Hidden link", "Html hidden link", "1, T", "this"):
        assert hidden not in targets
    # the Templates/ folder is excluded by .obsidian/app.json: its placeholder link is not read
    assert "Template placeholder link" not in targets


def test_example_unresolved(synced_example):
    found = synced_example.unresolved()
    got = [(u.kind, u.target, u.count, [(x.path, x.line) for x in u.uses]) for u in found]
    assert got == [
        # topics/Scaling laws.md line 30: [[Deep double descent]] [@nakkiran2019deep]
        ("link", "Deep double descent", 1, [("topics/Scaling laws.md", 30)]),
        # [[EWC]] names an alias, not a file: Obsidian leaves it dangling
        ("link", "EWC", 1, [("topics/Apprentissage continu — résumé.md", 14)]),
        ("paper", "@nakkiran2019deep", 1, [("topics/Scaling laws.md", 30)]),
    ]
    assert [u.node for u in found] == [
        "unresolved:deep double descent",
        "unresolved:ewc",
        "paper:citekey:nakkiran2019deep",
    ]


def test_example_orphans(synced_example):
    # The idea note links nowhere and nothing links to it; every other note is connected
    # (About links to the reading list, which links to every paper and topic).
    assert [(o.path, o.title) for o in synced_example.orphans()] == [(IDEA, "Idea - curriculum by difficulty")]


def test_example_mentions(synced_example):
    found = synced_example.mentions("Beyond neural scaling laws")
    got = {m.path: [(x.line, x.text) for x in m.mentions] for m in found}
    # About line 18 and 32 name it in plain text (lines 19-21 only inside code); the idea
    # note names it on line 10; every other occurrence is a link.
    assert got == {
        "About this vault.md": [(18, "Beyond neural scaling laws"), (32, "Beyond neural scaling laws")],
        IDEA: [(10, "Beyond neural scaling laws")],
    }
    assert found[1].mentions[0].context.startswith("Most work on example difficulty")
    assert found[1].mentions[0].column == 69


def test_example_mentions_skip_links_code_and_partial_words(synced_example):
    # LoRA appears only as [[LoRA]], [[LoRA#Results|LoRA]], inside code in About, and as QLoRA
    assert synced_example.mentions("LoRA") == []
    found = {m.path: [(x.line, x.text) for x in m.mentions] for m in synced_example.mentions("Moment probing")}
    assert found == {
        "About this vault.md": [(21, "moment probing")],  # "(moment probing note)", lower case
        "topics/Parameter-efficient tuning.md": [(21, "moment probing")],
    }


def test_example_mentions_by_alias(synced_example):
    found = {m.path: [x.line for x in m.mentions] for m in synced_example.mentions("EWC")}
    # "d'EWC" in the French note (line 20), "EWC's" in the topic (line 21); About names it in text
    assert found["topics/Apprentissage continu — résumé.md"] == [20]
    assert found["topics/Continual learning.md"] == [21]
    assert "papers/EWC - Overcoming catastrophic forgetting.md" not in found


def test_example_links_with_resolution(synced_example):
    out = synced_example.links("topics/Scaling laws.md")
    kaplan = "papers/kaplan/Scaling laws.md"
    assert [(o.line, o.target, o.status, o.path) for o in out[:3]] == [
        (8, "kaplan/Scaling laws", "resolved", kaplan),
        (8, "../papers/kaplan/Scaling laws.md", "resolved", kaplan),
        (12, "kaplan/Scaling laws", "resolved", kaplan),
    ]
    assert out[1].form == "markdown"
    last = out[-2:]
    assert [(o.kind, o.target, o.status, o.path, o.node) for o in last] == [
        ("link", "Deep double descent", "unresolved", None, "unresolved:deep double descent"),
        ("cite", "nakkiran2019deep", "unresolved", None, "paper:citekey:nakkiran2019deep"),
    ]
    chinchilla = synced_example.links("Chinchilla")  # an alias names the note too
    ambiguous = [o for o in chinchilla if o.status == "ambiguous"]
    assert [(o.target, o.path, o.candidates) for o in ambiguous] == [
        ("Scaling laws", "topics/Scaling laws.md", ("topics/Scaling laws.md", kaplan))
    ]
    cite = [o for o in chinchilla if o.kind == "cite"]
    assert [(o.target, o.path) for o in cite] == [("kaplan2020scaling", kaplan)]


def test_example_self_links_are_not_edges(synced_example):
    out = synced_example.links("Moment probing")
    same_note = [o for o in out if o.target == ""]
    assert [(o.subpath, o.path) for o in same_note] == [("Method", "papers/Moment probing.md"),
                                                        ("Results", "papers/Moment probing.md")]
    # the Continual-T0 note cites its own DOI: not a backlink of itself
    assert "papers/Continual-T0.md" not in sources(synced_example.backlinks("Continual-T0"))
    g = synced_example.graph.to_networkx()
    assert not any(u == v for u, v in g.edges())


def test_example_related(synced_example):
    found = synced_example.related("Beyond neural scaling laws", limit=10)
    paths = [r.path for r in found]
    assert BEYOND not in paths
    # Trivial or impossible: links both ways; linked together with it from the reading list,
    # the data diet note, the easy-data note and the data topic; both link to the data diet
    # note; both tagged ml/vision (so ml); similar text
    top = found[0]
    assert top.path == "papers/Trivial or impossible.md"
    reasons = {r.kind: r for r in top.reasons}
    assert set(reasons) == {"link", "co-citation", "coupling", "tags", "text"}
    assert reasons["co-citation"].via == ("Reading list.md", "papers/Data diet - EL2N.md",
                                          "papers/Easy training data for hard tasks.md",
                                          "topics/Data difficulty and selection.md")
    assert reasons["coupling"].via == ("papers/Data diet - EL2N.md",)
    assert reasons["tags"].via == ("ml", "ml/vision")
    assert "papers/Data diet - EL2N.md" in paths[:3]
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    # the orphan idea shares no link or tag, so only its text can relate it
    idea = synced_example.related(IDEA, limit=50)
    assert all({r.kind for r in hit.reasons} <= {"text"} for hit in idea)


def test_example_path_and_rank(synced_example):
    route = synced_example.path("LoRA", "SimCLR")
    assert route is not None and route.length == 2
    assert [s.path for s in route.steps] == ["papers/LoRA.md", "Reading list.md", "papers/SimCLR.md"]
    assert [s.direction for s in route.steps] == ["", "<-", "->"]
    assert route.steps[1].line == 47  # - [x] [[LoRA]] — read
    assert synced_example.path("LoRA", IDEA) is None
    # only About links to the reading list, and nothing links to About
    assert synced_example.path("LoRA", "Reading list", directed=True) is None
    assert synced_example.path("LoRA", "Reading list").length == 1
    ranked = synced_example.rank(5)
    # the paper with 11 notes linking in is the hub, by PageRank and by in-degree
    assert ranked[0].path == BEYOND and ranked[0].in_degree == 11
    assert synced_example.rank(1, by="in")[0].path == BEYOND


def test_example_doctor(synced_example):
    report = synced_example.doctor()
    got = sorted((p.code, p.path, p.line) for p in report.problems)
    ambiguous = [
        ("ambiguous-link", p, line)
        for p, line in [
            ("papers/Chinchilla - Compute-optimal LLMs.md", 38),
            ("papers/Effects of scale on worst-group performance.md", 30),
            ("papers/Few-shot scaling laws for image classifiers.md", 32),
            ("papers/PaLM.md", 35),
            ("papers/Pham - Effect of model size on worst-group generalization.md", 35),
        ]
    ]
    assert got == sorted([
        *ambiguous,
        ("alias-link", "topics/Apprentissage continu — résumé.md", 14),
        ("invalid-frontmatter", "papers/Broken frontmatter draft.md", 8),
    ])
    assert (report.errors, report.warnings) == (2, 5)
    alias = next(p for p in report.problems if p.code == "alias-link")
    assert alias.candidates == ("papers/EWC - Overcoming catastrophic forgetting.md",)


def test_example_graph_views(synced_example):
    graph = synced_example.graph
    multi = graph.to_networkx()
    assert multi.nodes[BEYOND]["kind"] == "note"
    assert multi.nodes[BEYOND]["year"] == 2022
    assert multi.nodes["attachments/fig-pruning.png"]["kind"] == "attachment"
    assert multi.nodes["unresolved:deep double descent"] == {
        "kind": "unresolved", "title": "Deep double descent", "tags": (), "year": None, "authors": (),
    }
    assert multi.nodes["paper:citekey:nakkiran2019deep"]["kind"] == "paper"
    kinds = {data["kind"] for _, _, data in multi.edges(data=True)}
    assert kinds == {"link", "embed", "cite"}
    edge = multi.edges["papers/Data diet - EL2N.md", BEYOND, "L1"]
    assert (edge["subpath"], edge["line"], edge["status"]) == ("^key-result", 34, "resolved")
    simple = graph.simple()
    assert isinstance(simple, nx.DiGraph) and not simple.is_multigraph()
    assert simple.edges["papers/Data diet - EL2N.md", BEYOND]["count"] == 3
    assert simple.edges["papers/Data diet - EL2N.md", BEYOND]["kinds"] == ("cite", "link")
    assert set(simple.nodes) == set(multi.nodes)
    assert all(isinstance(n, str) for n in simple.nodes)


def test_unknown_note(synced_example):
    with pytest.raises(NoteNotFound):
        synced_example.backlinks("No such paper")


# ---------------------------------------------------------------------------------------------
# small vaults: resolution follows the files as they change


def test_dangling_link_resolves_when_the_target_appears(tmp_path):
    write(tmp_path, "a.md", "See [[Foo]] and [[Foo#Bar]].\n")
    vault = synced(tmp_path)
    assert [u.target for u in vault.unresolved()] == ["Foo"]
    write(tmp_path, "notes/Foo.md", "# Bar\n")
    vault.apply(["notes/Foo.md"])
    assert vault.unresolved() == []
    assert [(b.path, len(b.links)) for b in vault.backlinks("notes/Foo.md")] == [("a.md", 2)]
    (tmp_path / "notes/Foo.md").unlink()
    vault.apply(["notes/Foo.md"])
    assert [(u.target, u.count) for u in vault.unresolved()] == [("Foo", 2)]


def test_a_second_note_with_the_same_name_takes_over(tmp_path):
    write(tmp_path, "deep/er/Foo.md", "deep\n")
    write(tmp_path, "a/src.md", "[[Foo]]\n")
    vault = synced(tmp_path)
    assert [o.status for o in vault.links("a/src.md")] == ["resolved"]
    # a shorter path wins, and the link becomes ambiguous
    write(tmp_path, "x/Foo.md", "x\n")
    vault.apply(["x/Foo.md"])
    (link,) = vault.links("a/src.md")
    assert (link.status, link.path, link.candidates) == ("ambiguous", "x/Foo.md", ("x/Foo.md", "deep/er/Foo.md"))
    # one in the linking note's own folder wins over that
    write(tmp_path, "a/Foo.md", "a\n")
    vault.apply(["a/Foo.md"])
    assert vault.links("a/src.md")[0].path == "a/Foo.md"
    # and one at the vault root wins over everything
    write(tmp_path, "foo.md", "root, other case\n")
    vault.apply(["foo.md"])
    assert vault.links("a/src.md")[0].path == "foo.md"
    assert sources(vault.backlinks("foo.md")) == ["a/src.md"]
    assert vault.backlinks("a/Foo.md") == []
    # removing them one by one walks back
    for gone, now in (("foo.md", "a/Foo.md"), ("a/Foo.md", "x/Foo.md"), ("x/Foo.md", "deep/er/Foo.md")):
        (tmp_path / gone).unlink()
        vault.apply([gone])
        assert vault.links("a/src.md")[0].path == now
    assert vault.links("a/src.md")[0].status == "resolved"


def test_rename_moves_backlinks_and_leaves_old_names_dangling(tmp_path):
    write(tmp_path, "Old name.md", "---\ncitekey: smith2020\n---\n# Old name\n")
    write(tmp_path, "a.md", "[[Old name]] and [@smith2020]\n")
    write(tmp_path, "b.md", "[[New name]]\n")
    vault = synced(tmp_path)
    assert sources(vault.backlinks("Old name.md")) == ["a.md"]
    assert [u.target for u in vault.unresolved()] == ["New name"]
    (tmp_path / "sub").mkdir()
    (tmp_path / "Old name.md").rename(tmp_path / "sub" / "New name.md")
    vault.apply(["Old name.md", "sub/New name.md"])
    new = vault.backlinks("sub/New name.md")
    # b's dangling link now resolves; a's citation follows the citekey to the new path
    assert [(b.path, [ln.kind for ln in b.links]) for b in new] == [("a.md", ["cite"]), ("b.md", ["link"])]
    assert [u.target for u in vault.unresolved()] == ["Old name"]
    assert vault.graph.to_networkx().has_node("sub/New name.md")
    assert not vault.graph.to_networkx().has_node("Old name.md")


def test_attachment_needs_its_extension_and_excluded_files_resolve(tmp_path):
    write(tmp_path, ".obsidian/app.json", '{"userIgnoreFilters": ["private/"]}')
    write(tmp_path, "img/fig.png", "png")
    write(tmp_path, "private/Secret.md", "hidden")
    write(tmp_path, "a.md", "![[fig.png]] ![[fig]] [[Secret]]\n")
    vault = synced(tmp_path)
    out = vault.links("a.md")
    assert [(o.kind, o.status, o.path) for o in out] == [
        ("embed", "resolved", "img/fig.png"),
        ("embed", "unresolved", None),
        ("link", "resolved", "private/Secret.md"),
    ]
    assert vault.graph.to_networkx().nodes["private/Secret.md"]["kind"] == "excluded"
    assert [p.code for p in vault.doctor().problems] == ["excluded-target"]
    assert sources(vault.backlinks("img/fig.png")) == ["a.md"]
    # the attachment disappears: the embed dangles
    (tmp_path / "img/fig.png").unlink()
    vault.apply(["img/fig.png"])
    assert vault.links("a.md")[0].status == "unresolved"
    assert vault.orphans() == []  # a.md still links to the excluded note, which exists


def test_citations_resolve_by_citekey_doi_arxiv_and_file_name(tmp_path):
    write(tmp_path, "p/Smith.md", "---\ncitekey: smith2020\ndoi: 10.1000/ABC\narxiv: 2101.00001\n---\n")
    write(tmp_path, "jones2019.md", "no citekey, named after it\n")
    write(tmp_path, "a.md", "[@smith2020] doi 10.1000/abc. arXiv:2101.00001v2 [@jones2019] [@nobody]\n")
    vault = synced(tmp_path)
    out = [(o.form, o.status, o.path, o.node) for o in vault.links("a.md")]
    assert out == [
        ("citekey", "resolved", "p/Smith.md", "p/Smith.md"),
        ("doi", "resolved", "p/Smith.md", "p/Smith.md"),
        ("arxiv", "resolved", "p/Smith.md", "p/Smith.md"),
        ("citekey", "resolved", "jones2019.md", "jones2019.md"),
        ("citekey", "unresolved", None, "paper:citekey:nobody"),
    ]
    # a note for the missing paper appears: the paper node becomes a note edge
    write(tmp_path, "Nobody.md", "---\ncitekey: nobody\n---\n")
    vault.apply(["Nobody.md"])
    assert vault.unresolved() == []
    assert sources(vault.backlinks("Nobody.md")) == ["a.md"]


def test_doctor_finds_subpaths_case_aliases_and_duplicates(tmp_path):
    write(tmp_path, "Target.md", "---\naliases: [Nick]\ndoi: 10.1234/x\n---\n# Intro\n## Deep: part 2\npara ^blk\n")
    write(tmp_path, "Copy.md", "---\ndoi: https://doi.org/10.1234/X\n---\n")
    write(tmp_path, "a.md", "\n".join([
        "[[Target#Intro]] [[Target#deep part 2]] [[Target#^blk]]",  # fine (headings compare leniently)
        "[[Target#Missing]] [[Target#^nope]] [[#Nowhere]]",
        "[[target]] [[Nick]]",
        "[[Target#Intro#Nope]]",
    ]) + "\n")
    vault = synced(tmp_path)
    report = vault.doctor()
    got = [(p.code, p.path, p.line, p.severity) for p in report.problems]
    assert got == [
        ("duplicate-paper", "Copy.md", None, "warning"),
        ("broken-block", "a.md", 2, "error"),
        ("broken-heading", "a.md", 2, "error"),
        ("broken-heading", "a.md", 2, "error"),
        ("alias-link", "a.md", 3, "error"),
        ("case-mismatch", "a.md", 3, "warning"),
        ("broken-heading", "a.md", 4, "error"),
    ]
    dup = report.problems[0]
    assert dup.candidates == ("Copy.md", "Target.md") and "10.1234/x" in dup.message
    assert (report.errors, report.warnings, report.ok) == (5, 2, False)


def test_alias_resolution_option(tmp_path):
    write(tmp_path, ".vaultindex/config.toml", "resolve_aliases = true\n")
    write(tmp_path, "Long name.md", "---\naliases: [Short]\n---\n")
    write(tmp_path, "a.md", "[[Short]]\n")
    vault = synced(tmp_path)
    assert vault.links("a.md")[0].path == "Long name.md"
    assert [p.code for p in vault.doctor().problems] == ["alias-link"]  # Obsidian still won't
    # the alias goes away: the link dangles again
    write(tmp_path, "Long name.md", "---\naliases: [Other]\n---\n")
    vault.apply(["Long name.md"])
    assert vault.links("a.md")[0].status == "unresolved"


def test_generated_tag_pages_are_left_out(tmp_path):
    write(tmp_path, "Tags/ml.md", "---\ngenerated_by: vaultindex\n---\n- [[Paper]]\n")
    write(tmp_path, "Paper.md", "#ml\n")
    write(tmp_path, "a.md", "[[ml]]\n")
    vault = synced(tmp_path)
    assert vault.backlinks("Paper") == []
    # a.md links only to the tag page, which is left out: both are orphans of the graph
    assert [o.path for o in vault.orphans()] == ["Paper.md", "a.md"]
    assert vault.links("a.md")[0].path == "Tags/ml.md"  # it still exists for resolution
    g = vault.graph
    assert "Tags/ml.md" not in g.to_networkx()
    assert g.to_networkx(include_generated=True).has_edge("Tags/ml.md", "Paper.md")


def test_backlinks_come_from_the_store_rows_as_the_graph_gives_them(tmp_path):
    write(tmp_path, "a.md", "[[b]]\n")
    write(tmp_path, "b.md", "x\n")
    synced(tmp_path)
    fresh = Vault.open(tmp_path)
    assert sources(fresh.backlinks("b")) == ["a.md"]  # SQL over the link rows, no graph built
    assert fresh._graph is None
    assert isinstance(fresh.catalog.graph, LinkGraph)  # built from the store when asked
    assert fresh.graph.backlinks("b.md") == fresh.backlinks("b")


def test_pagerank_matches_networkx_definition():
    g = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("e", "e2")])
    g.add_node("lonely")
    ours = pagerank(g)
    reference = nx.algorithms.link_analysis.pagerank_alg._pagerank_python(g)
    assert ours == pytest.approx(reference, abs=1e-5)
    assert sum(ours.values()) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# mentions (pure)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Deep Nets are great.", [(1, 1, "Deep Nets")]),
        ("deep   nets twice: DEEP NETS", [(1, 1, "deep   nets"), (1, 20, "DEEP NETS")]),
        ("deepnets and deep netsy are not whole words", []),
        ("[[Deep nets]] and [deep nets](x.md) and ![[Deep nets]]", []),
        ("`deep nets` and\n```\ndeep nets\n```\n$deep nets$ %% deep nets %%", []),
        ("---\ntitle: Deep nets\n---\nbody: Deep nets", [(4, 7, "Deep nets")]),
        ("#deep nets is a tag, deep\nnets spans lines", []),
        ("The DN paper (DN) — dn.", [(1, 5, "DN"), (1, 15, "DN"), (1, 21, "dn")]),
        ("Deep nets: the deep nets book", [(1, 1, "Deep nets"), (1, 16, "deep nets")]),
        ("Caf\u0065\u0301 and caf\u00e9", [(1, 1, "Café"), (1, 10, "café")]),  # NFD text, NFC name
    ],
)
def test_find_mentions(text, expected):
    found = find_mentions(text, ["Deep nets", "DN", "Café"])
    assert [(f.line, f.column, f.text) for f in found] == expected


def test_find_mentions_prefers_the_longest_name():
    found = find_mentions("Beyond scaling laws: data pruning wins", ["Beyond scaling laws", "Beyond scaling laws: data pruning"])
    assert [f.text for f in found] == ["Beyond scaling laws: data pruning"]


def test_names_and_phrases():
    names = names_of("A (b) test", ["a (B) TEST", "x", "Other"], "file")
    assert names == ["A (b) test", "Other", "file"]
    assert search_phrases(names)[:3] == ['"A b test"', '"Other"', '"file"']  # then underscore variants


# ---------------------------------------------------------------------------------------------
# incremental == from scratch (hypothesis)

NAMES = ["Foo", "foo", "Bar", "Baz"]
FOLDERS = ["", "x/", "x/y/", "z/"]
TARGETS = ["Foo", "FOO", "Bar", "Baz", "Qux", "x/Foo", "y/Foo", "../Foo", "./Bar", "/z/Foo", "Foo.md",
           "fig.png", "x/fig.png", "fig", "Al", ""]
CITES = [("k1", "citekey"), ("k2", "citekey"), ("foo", "citekey"), ("10.1/a", "doi"), ("2101.00001", "arxiv")]
ATTACHMENTS = ["fig.png", "x/fig.png", "z/Foo.pdf"]


@st.composite
def notes(draw, path=None):
    if path is None:
        path = draw(st.sampled_from(FOLDERS)) + draw(st.sampled_from(NAMES)) + ".md"
    links = tuple(
        Link(target, draw(st.sampled_from(["link", "embed"])), draw(st.sampled_from(["", "H", "^b"])),
             "", i + 1, f"line {i}")
        for i, target in enumerate(draw(st.lists(st.sampled_from(TARGETS), max_size=4)))
    )
    cites = tuple(Citation(k, kind, 10 + i) for i, (k, kind) in enumerate(draw(st.lists(st.sampled_from(CITES), max_size=2, unique=True))))
    paper = Paper(citekey=draw(st.sampled_from(["", "k1", "k2"])), doi=draw(st.sampled_from(["", "10.1/a"])))
    aliases = tuple(draw(st.lists(st.sampled_from(["Al", "Foo", "Other"]), max_size=2, unique=True)))
    generated = draw(st.booleans()) and draw(st.booleans())
    fm = {"generated_by": "vaultindex"} if generated else {}
    return Note(path, path.rsplit("/", 1)[-1][:-3], aliases=aliases, tags=("t",), links=links,
                citations=cites, paper=paper, frontmatter=fm)


operations = st.one_of(
    st.tuples(st.just("upsert"), notes()),
    st.tuples(st.just("delete"), st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("rename"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("files"), st.sets(st.sampled_from(ATTACHMENTS)), st.sets(st.sampled_from(["z/Foo.md", "x/Bar.md"]))),
)


def graph_state(g: LinkGraph):
    """Everything observable: both networkx views with attributes, links, and the indexes."""
    views = []
    for include in (False, True):
        m = g.to_networkx(include_generated=include)
        assert all(g.node_attrs(n) == d for n, d in m.nodes(data=True))
        views.append((
            sorted((n, repr(sorted(d.items()))) for n, d in m.nodes(data=True)),
            sorted((u, v, k, repr(sorted(d.items()))) for u, v, k, d in m.edges(keys=True, data=True)),
        ))
    links = {p: g.links(p) for p in g.notes}
    return views, links, g._in, g._by_key, g._by_cite, g.generated, g.unresolved(), g.orphans()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=1, max_size=10), resolve_aliases=st.booleans())
def test_incremental_graph_equals_full_build(ops, resolve_aliases):
    graph = LinkGraph(resolve_aliases)
    current: dict[str, Note] = {}
    attachments: set[str] = set()
    excluded: set[str] = set()
    for op in ops:
        if op[0] == "upsert":
            note = op[1]
            if note.path in excluded:
                continue
            current[note.path] = note
            graph.update([note], [])
        elif op[0] == "delete":
            path = op[1] + op[2] + ".md"
            if current.pop(path, None) is not None:
                graph.update([], [path])
        elif op[0] == "rename":
            old, new = op[1] + op[2] + ".md", op[3] + op[4] + ".md"
            if old in current and new not in current and new not in excluded and old != new:
                note = current.pop(old)
                moved = Note(new, note.title, note.aliases, note.tags, note.links, note.citations,
                             paper=note.paper, frontmatter=note.frontmatter)
                current[new] = moved
                graph.update([moved], [old])  # one batch, as a move arrives
        else:
            attachments = set(op[1])
            excluded = {p for p in op[2] if p not in current}
            graph.update([], [], attachments, excluded)
        fresh = LinkGraph.build(current.values(), attachments, excluded, resolve_aliases=resolve_aliases)
        assert graph_state(graph) == graph_state(fresh)
        # Each step goes through the cache, as from one watch batch or process to the next
        # (the names part of the pickle is reused while no name, alias or citekey changes).
        restored = pickle.loads(pickle.dumps(graph))
        restored.notes = dict(graph.notes)
        assert graph_state(restored) == graph_state(fresh)
        graph = restored


def vault_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".vaultindex" not in p.parts}


file_ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
                  st.lists(st.sampled_from(TARGETS[:-1]), max_size=3), st.sampled_from(["", "k1"])),
        st.tuples(st.just("delete"), st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
        st.tuples(st.just("rename"), st.sampled_from(FOLDERS), st.sampled_from(NAMES), st.sampled_from(FOLDERS),
                  st.sampled_from(NAMES)),
        st.tuples(st.just("attach"), st.sampled_from(ATTACHMENTS)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=file_ops)
def test_vault_sync_path_keeps_the_graph_exact(ops):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root, "start.md", "[[Foo]] [[Bar]] [@k1]\n")
        vault = Vault.open(root)
        vault.sync()
        for op in ops:
            if op[0] == "write":
                rel = op[1] + op[2] + ".md"
                links = " ".join(f"[[{t}]]" for t in op[3])
                fm = f"---\ncitekey: {op[4]}\n---\n" if op[4] else ""
                write(root, rel, f"{fm}{links}\n")
                touched = [rel]
            elif op[0] == "delete":
                rel = op[1] + op[2] + ".md"
                if (root / rel).exists():
                    (root / rel).unlink()
                touched = [rel]
            elif op[0] == "rename":
                old, new = op[1] + op[2] + ".md", op[3] + op[4] + ".md"
                if not (root / old).exists() or (root / new).exists():
                    continue
                (root / new).parent.mkdir(parents=True, exist_ok=True)
                (root / old).rename(root / new)
                touched = [old, new]
            else:
                write(root, op[1], "binary")
                touched = [op[1]]
            vault.apply(touched)
            catalog = vault.catalog
            fresh = LinkGraph.build((r.note for r in catalog.records.values()), catalog.attachments,
                                    catalog.excluded)
            assert graph_state(vault.graph) == graph_state(fresh)
        # a fresh process reads the same graph back from disk
        assert graph_state(Vault.open(root).graph) == graph_state(vault.graph)


# ---------------------------------------------------------------------------------------------
# the shared real vaults: every link against an independent reading of DESIGN.md's rules


def _fold(s: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", s).casefold())


def _matching(files: list[str], test, want: str) -> list[str]:
    """Files whose folded path passes `test` for the wanted text; the exact name first, then with ".md"."""
    exact = [f for f in files if test(_fold(f), want)]
    if exact or want.endswith(".md"):
        return exact
    return [f for f in files if test(_fold(f), want + ".md")]


def expected_resolution(files: list[str], source: str, target: str) -> tuple[str, str | None, set[str]]:
    """Where Obsidian opens `target` written in `source`, from DESIGN.md's rules, by brute force."""
    if not target:
        return "resolved", source, {source}
    if target.endswith("/") or target.rsplit("/", 1)[-1] in (".", ".."):
        return "unresolved", None, set()  # a folder, never a file
    if "/" not in target:  # a name, looked up vault-wide
        hits = _matching(files, lambda f, w: f.rsplit("/", 1)[-1] == w, _fold(target))
    elif target.startswith(("./", "../")):  # relative to the linking note's folder
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        if joined.startswith(".."):
            return "unresolved", None, set()
        hits = _matching(files, lambda f, w: f == w, _fold(joined))
    else:  # a path from the vault root, else (unless it starts with "/") a path suffix
        want = _fold(target.lstrip("/"))
        hits = _matching(files, lambda f, w: f == w, want)
        if not hits and not target.startswith("/"):
            hits = _matching(files, lambda f, w: f.endswith("/" + w), want)
    if not hits:
        return "unresolved", None, set()
    # the vault root wins, then the linking note's folder, then the shortest path, then A-Z
    src_dir = posixpath.dirname(source)
    hits.sort(key=lambda p: ("/" in p, posixpath.dirname(p) != src_dir, len(p), _fold(p), p))
    return ("resolved" if len(hits) == 1 else "ambiguous"), hits[0], set(hits)


@pytest.mark.parametrize("name", ["academic-obsidian", "kevinywu-notes"])
def test_corpus_links_resolve_as_obsidian_does(name, tmp_path):
    root = corpus(name, tmp_path)
    vault = synced(root)
    catalog = vault.catalog
    files = sorted(set(catalog.records) | catalog.attachments | catalog.excluded)
    checked = 0
    disagreements = []
    for path in sorted(catalog.records):
        note = catalog.records[path].note
        outs = [o for o in vault.links(path) if o.kind != "cite"]
        assert len(outs) == len(note.links)
        for _link, out in zip(sorted(note.links, key=lambda ln: ln.line), outs):
            status, where, candidates = expected_resolution(files, path, out.target)
            checked += 1
            if (out.status, out.path) != (status, where) or (status == "ambiguous" and set(out.candidates) != candidates):
                disagreements.append((path, out.line, out.target, out.status, out.path, status, where))
    assert checked > 100
    assert disagreements == []


@pytest.mark.parametrize("name", ["academic-obsidian", "kevinywu-notes"])
def test_corpus_commands_answer(name, tmp_path):
    root = corpus(name, tmp_path)
    vault = synced(root)
    graph = vault.graph
    notes = sorted(p for p in graph.notes if p not in graph.generated)
    busiest = max(notes, key=lambda p: len(graph.backlinks(p)))
    assert vault.backlinks(busiest)
    assert vault.related(busiest)
    vault.mentions(busiest)
    assert vault.rank(5)[0].in_degree >= 1
    report = vault.doctor()
    assert report.errors == sum(p.severity == "error" for p in report.problems)
    fresh = LinkGraph.build((catalog_note for catalog_note in graph.notes.values()), graph.attachments,
                            graph.excluded)
    assert graph_state(fresh) == graph_state(graph)
    if name == "kevinywu-notes":
        # 22 README.md files reached by path-qualified links: none of them is ambiguous
        assert not [p for p in report.problems if p.code == "ambiguous-link"]
        assert [u for u in vault.unresolved() if u.kind == "link"] == []
    else:
        # paper notes link their authors through frontmatter properties
        assert any(o.form == "frontmatter" and o.status == "resolved" for p in notes for o in vault.links(p))
