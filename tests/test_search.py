"""Relevance and query syntax on example_vault, through the Python API."""

from __future__ import annotations

import pytest

from vaultindex.errors import QueryError

BEYOND = "papers/Beyond neural scaling laws.md"
EWC = "papers/EWC - Overcoming catastrophic forgetting.md"


def paths(vault, query: str, limit: int = 50) -> list[str]:
    return [h.path for h in vault.search(query, limit=limit).hits]


def test_data_pruning_ranks_beyond_neural_scaling_laws_first(synced_example):
    assert paths(synced_example, "data pruning")[0] == BEYOND


def test_catastrophic_forgetting_ranks_ewc_first(synced_example):
    assert paths(synced_example, "catastrophic forgetting")[0] == EWC


def test_a_typo_still_finds_the_paper_and_suggests_the_fix(synced_example):
    result = synced_example.search("prunning")
    assert result.suggestion == "pruning"
    assert result.hits[0].path == BEYOND
    assert all(h.fuzzy for h in result.hits)


def test_exact_matches_rank_above_fuzzy_ones(synced_example):
    # "forgeting" is a typo, "elastic" is exact: only exact hits may come first.
    result = synced_example.search("elastic OR forgeting", limit=20)
    flags = [h.fuzzy for h in result.hits]
    assert flags == sorted(flags)  # all False before any True


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("EWC", EWC),
        ("T0", "papers/T0 - Multitask prompted training.md"),
        ("vote-k", "papers/Selective annotation (vote-k).md"),
        ("PaLM", "papers/PaLM.md"),
    ],
)
def test_an_alias_finds_its_paper(synced_example, alias, expected):
    assert paths(synced_example, alias)[0] == expected


def test_tag_filter_includes_nested_tags(synced_example):
    ml = set(paths(synced_example, "tag:ml"))
    vision = set(paths(synced_example, "tag:ml/vision"))
    assert vision and vision < ml
    for note in synced_example.notes():
        assert (note.path in vision) == ("ml/vision" in note.tags)


def test_author_filter(synced_example):
    assert paths(synced_example, "author:kirkpatrick") == [EWC]


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("year:2022", lambda y: y == 2022),
        ("year:>2021", lambda y: y is not None and y > 2021),
        ("year:<=2017", lambda y: y is not None and y <= 2017),
        ("year:[2019 TO 2020]", lambda y: y is not None and 2019 <= y <= 2020),
    ],
)
def test_year_filters(synced_example, query, keep):
    expected = {n.path for n in synced_example.notes() if keep(n.paper.year)}
    assert expected
    assert set(paths(synced_example, query, limit=100)) == expected


def test_path_filter_is_a_folder_prefix(synced_example):
    found = paths(synced_example, "path:topics", limit=100)
    assert found and all(p.startswith("topics/") for p in found)
    assert len(found) == sum(n.path.startswith("topics/") for n in synced_example.notes())


def test_status_and_cites_filters(synced_example):
    reading = {n.path for n in synced_example.notes() if n.paper.status == "reading"}
    assert set(paths(synced_example, "status:reading")) == reading
    citing = {n.path for n in synced_example.notes() if any(c.key == "kirkpatrick2017overcoming" for c in n.citations)}
    assert citing and set(paths(synced_example, "cites:kirkpatrick2017overcoming")) == citing


def test_phrase_boolean_and_prefix_syntax(synced_example):
    assert BEYOND in paths(synced_example, '"data pruning"')
    both = set(paths(synced_example, "pruning AND forgetting"))
    either = set(paths(synced_example, "pruning OR forgetting"))
    assert both <= either
    without = set(paths(synced_example, "pruning -forgetting"))
    assert without.isdisjoint(set(paths(synced_example, "forgetting")))
    assert BEYOND in paths(synced_example, "prun*")
    assert set(paths(synced_example, "(pruning OR distillation) NOT tag:ml")).isdisjoint(
        set(paths(synced_example, "tag:ml", limit=100))
    )


def test_hits_carry_metadata_and_a_highlighted_snippet(synced_example):
    hit = synced_example.search("data pruning").hits[0]
    assert hit.title.startswith("Beyond neural scaling laws")
    assert hit.year == 2022 and "data-pruning" in hit.tags and hit.authors
    assert "\x01" in hit.snippet  # a matched word is marked for highlighting


def test_snippets_read_like_prose_not_like_markdown(synced_example):
    hits = synced_example.search("data pruning", limit=20).hits
    assert len(hits) >= 5
    for hit in hits:
        plain = hit.snippet.replace("\x01", "").replace("\x02", "")
        assert "[[" not in plain and "](" not in plain and "**" not in plain, hit
        # A row of tags ("- #data-pruning #ml/vision") matches the words too, but is no passage.
        assert not plain.startswith("#") and " - #" not in plain, hit
    # Where the query words stand together, that passage is shown.
    top = hits[0].snippet.replace("\x02 \x01", " ")
    assert "\x01data pruning\x02" in top.lower(), top


@pytest.mark.parametrize(
    "query", ['"unclosed phrase', "(pruning", "pruning)", "foo:bar", "year:recent", "   "]
)
def test_malformed_queries_raise_query_error(synced_example, query):
    with pytest.raises(QueryError):
        synced_example.search(query)


def test_no_hits_is_an_empty_result(synced_example):
    assert synced_example.search("zzyzx qqqq").hits == ()


def test_generated_tag_pages_are_left_out_of_search(example_copy):
    from vaultindex import Vault

    vault = Vault.open(example_copy)
    vault.sync()
    assert vault.write_tag_pages().written
    vault = Vault.open(example_copy)
    vault.sync()
    assert any(p.startswith("Tags/") for p in vault.catalog.records)
    found = [h.path for h in vault.search("data pruning", limit=100).hits]
    assert found[0] == BEYOND
    assert not any(p.startswith("Tags/") for p in found)


def test_not_excludes_the_first_matching_document_too(tmp_path):
    # Regression: Whoosh's AndNot let a prohibited document through when the prohibited
    # term's postings started before the wanted term's (fixed in fulltext.py).
    from conftest import write
    from vaultindex import Vault

    write(tmp_path, "a.md", "# One\nonly forgetting here\n")
    write(tmp_path, "b.md", "# Two\npruning and forgetting\n")
    write(tmp_path, "c.md", "# Three\npruning alone\n")
    vault = Vault.open(tmp_path)
    vault.sync()
    assert [h.path for h in vault.search("pruning -forgetting").hits] == ["c.md"]
    assert [h.path for h in vault.search("pruning NOT forgetting").hits] == ["c.md"]


def test_prefixes_that_stand_for_too_many_words_are_refused(tmp_path):
    from conftest import write
    from vaultindex import Vault
    from vaultindex.fulltext import MAX_EXPANSION

    words = " ".join(f"zeta{i:04d}" for i in range(MAX_EXPANSION + 5))
    write(tmp_path, "many.md", f"# Many words\n{words}\n")
    vault = Vault.open(tmp_path)
    vault.sync()
    with pytest.raises(QueryError, match="make it more specific"):
        vault.search("zeta*")
    with pytest.raises(QueryError, match="make it more specific"):
        vault.search("*eta0*")
    assert vault.search("zeta000*").hits[0].path == "many.md"  # ten words: fine
    with pytest.raises(QueryError, match="longer than"):
        vault.search("x " * 2000)


def test_hits_without_snippets_are_the_same_hits(synced_example):
    full = synced_example.search("data pruning")
    bare = synced_example.search("data pruning", snippets=False)
    assert [h.path for h in bare.hits] == [h.path for h in full.hits]
    assert all(h.snippet == "" for h in bare.hits) and all(h.snippet for h in full.hits[:3])


# -- "did you mean": a programmer's vault with the words at the counts real vaults have ----------


@pytest.fixture(scope="module")
def dev_vault(tmp_path_factory):
    """170 daily notes with `todo` (and `set`, `linear`), one note on tokio, 11 on the linker,
    3 with `offset`, 5 with `docker`: the counts behind the corrections users reported."""
    from conftest import write
    from vaultindex import Vault

    root = tmp_path_factory.mktemp("dev") / "vault"
    for day in range(170):
        extra = " Set the linear warmup again." if day % 3 == 0 else ""
        write(root, f"daily/2025-{day // 28 + 1:02d}-{day % 28 + 1:02d}.md", f"# Day {day}\n\n- todo: review the queue.{extra}\n")
    write(root, "rust/Async runtimes.md", "# Async runtimes\n\nTokio schedules futures on a work-stealing pool.\n")
    for i in range(11):
        write(root, f"build/Symbols {i}.md", f"# Symbols {i}\n\nThe linker resolves symbol {i} at build time.\n")
    for i in range(3):
        write(root, f"formats/Record {i}.md", f"# Record {i}\n\nEach record starts at a byte offset from the header.\n")
    for i in range(5):
        write(root, f"ops/Image {i}.md", f"# Image {i}\n\nBuild the docker image and push it.\n")
    vault = Vault.open(root)
    vault.sync()
    return vault


@pytest.mark.parametrize(
    ("typed", "meant", "found"),
    [
        ("ofset", "offset", "formats/Record 0.md"),  # not "set" (two deletions, in 57 notes)
        ("linkr", "linker", "build/Symbols 0.md"),  # not "linear" (two edits)
        ("tokoi", "tokio", "rust/Async runtimes.md"),  # a swap is one edit; not "todo" (170 times as common)
        ("docekr", "docker", "ops/Image 0.md"),
        ("offest", "offset", "formats/Record 0.md"),
    ],
)
def test_did_you_mean_picks_the_nearest_word(dev_vault, typed, meant, found):
    result = dev_vault.search(typed, limit=20)
    assert result.suggestion == meant
    assert found in {h.path for h in result.hits}


def test_did_you_mean_prefers_the_commoner_of_two_equally_near_words(tmp_path):
    from conftest import write
    from vaultindex import Vault

    for i in range(4):
        write(tmp_path, f"c{i}.md", f"# C{i}\n\nthe cache is warm\n")
    write(tmp_path, "k.md", "# K\n\nthe cacha is a tree\n")
    vault = Vault.open(tmp_path)
    vault.sync()
    assert vault.search("cachx").suggestion == "cache"  # cache (4 notes) over cacha (1 note)


def test_two_edits_only_when_no_word_is_one_edit_away(dev_vault):
    assert dev_vault.search("lnkerr").suggestion == "linker"  # two edits, nothing nearer
    assert dev_vault.search("tkoo").suggestion is None  # four letters: one edit at most (todo and tokio are two)
    assert dev_vault.search("qqqqqq").suggestion is None


def test_did_you_mean_in_the_cli(dev_vault):
    from click.testing import CliRunner

    from vaultindex.cli import cli

    out = CliRunner().invoke(cli, ["--vault", str(dev_vault.root), "search", "--paths", "tokoi"])
    assert out.exit_code == 0, out.output
    assert 'did you mean "tokio"?' in out.stderr
    assert out.stdout.splitlines() == ["rust/Async runtimes.md"]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("docekr", "docker", 1), ("tokoi", "tokio", 1), ("tokoi", "todo", 2), ("ofset", "set", 2), ("ca", "abc", 3),
     ("kitten", "sitting", 3), ("", "abc", 3), ("same", "same", 0)],
)
def test_optimal_string_alignment_distance(a, b, distance):
    from vaultindex.fulltext import osa_distance

    assert osa_distance(a, b, 5) == distance
    assert osa_distance(a, b, distance) == distance
    if distance:
        assert osa_distance(a, b, distance - 1) == distance  # above the limit: limit + 1
