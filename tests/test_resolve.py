"""Tests for vaultindex.resolve: Obsidian's link rules, citations, incremental == fresh."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultindex.models import Citation, Link, Note, Paper
from vaultindex.resolve import (
    CitationIndex,
    Resolution,
    Resolver,
    citation_key,
    link_key,
    name_key,
)

NFC_CAFE = "Caf\u00e9"  # é as one code point
NFD_CAFE = "Cafe\u0301"  # e + combining acute

# ---------------------------------------------------------------------------------------
# keys


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Foo.md", "foo"),
        ("Foo.MD", "foo"),
        ("Foo", "foo"),
        ("fig.png", "fig.png"),
        ("Foo.pdf.md", "foo.pdf"),
        ("Foo.md.md", "foo.md"),
        ("Stra\u00dfe", "strasse"),
        (NFD_CAFE + ".md", unicodedata.normalize("NFC", "caf\u00e9")),
        (NFC_CAFE, "caf\u00e9"),
    ],
)
def test_name_key(text, key):
    assert name_key(text) == key


@pytest.mark.parametrize(
    ("target", "key"),
    [
        ("Foo", "foo"),
        ("papers/Foo.md", "foo"),
        ("../topics/X", "x"),
        ("/a/fig.PNG", "fig.png"),
        ("", ""),
        ("papers/", ""),
        ("..", ""),
        ("a/..", ""),
    ],
)
def test_link_key(target, key):
    assert link_key(target) == key


# ---------------------------------------------------------------------------------------
# the rules, one table: (paths, source, target, status, path, via)

R, A, U = "resolved", "ambiguous", "unresolved"

RULES = [
    # case-insensitive (full case folding)
    pytest.param(["Scaling Laws.md"], "n.md", "scaling laws", R, "Scaling Laws.md", "name", id="case-lower"),
    pytest.param(["Scaling Laws.md"], "n.md", "SCALING LAWS.MD", R, "Scaling Laws.md", "name", id="case-upper-ext"),
    pytest.param(["Stra\u00dfe.md"], "n.md", "STRASSE", R, "Stra\u00dfe.md", "name", id="casefold-sharp-s"),
    pytest.param(["papers/Foo.md"], "n.md", "PAPERS/foo", R, "papers/Foo.md", "path", id="case-path"),
    # Unicode NFC on both sides
    pytest.param([NFC_CAFE + ".md"], "n.md", NFD_CAFE, R, NFC_CAFE + ".md", "name", id="nfd-link-nfc-file"),
    pytest.param([NFD_CAFE + ".md"], "n.md", NFC_CAFE, R, NFD_CAFE + ".md", "name", id="nfc-link-nfd-file"),
    pytest.param(["x/" + NFD_CAFE + ".md"], "n.md", "X/" + NFC_CAFE, R, "x/" + NFD_CAFE + ".md", "path",
                 id="nfc-path-nfd-file"),
    # .md optional for notes
    pytest.param(["Foo.md"], "n.md", "Foo", R, "Foo.md", "name", id="md-omitted"),
    pytest.param(["Foo.md"], "n.md", "Foo.md", R, "Foo.md", "name", id="md-given"),
    pytest.param(["papers/Foo.md"], "n.md", "papers/Foo.md", R, "papers/Foo.md", "path", id="md-given-path"),
    pytest.param(["Foo.md"], "n.md", "Fo", U, None, "", id="prefix-no-match"),
    # attachments need their extension
    pytest.param(["attachments/fig.png"], "n.md", "fig.png", R, "attachments/fig.png", "name", id="attachment"),
    pytest.param(["attachments/fig.png"], "n.md", "FIG.PNG", R, "attachments/fig.png", "name", id="attachment-case"),
    pytest.param(["attachments/fig.png"], "n.md", "fig", U, None, "", id="attachment-no-ext"),
    pytest.param(["attachments/fig.png"], "n.md", "fig.png.md", U, None, "", id="attachment-plus-md"),
    pytest.param(["Foo.pdf", "Foo.pdf.md"], "n.md", "Foo.pdf", R, "Foo.pdf", "name", id="exact-name-first"),
    pytest.param(["Foo.pdf.md"], "n.md", "Foo.pdf", R, "Foo.pdf.md", "name", id="then-name-plus-md"),
    pytest.param(["Foo.pdf.md"], "n.md", "Foo", U, None, "", id="pdf-md-not-by-stem"),
    pytest.param(["Foo.md.md"], "n.md", "Foo.md", U, None, "", id="no-md-md"),
    # several matches: root wins, then same folder, then shortest, then alphabetical
    pytest.param(["papers/Foo.md", "Foo.md", "a/b/Foo.md"], "papers/n.md", "Foo", A, "Foo.md", "name",
                 id="root-wins-over-same-folder"),
    pytest.param(["zz/Foo.md", "papers/deep/Foo.md"], "papers/deep/n.md", "Foo", A, "papers/deep/Foo.md", "name",
                 id="same-folder"),
    pytest.param(["a/Foo.md", "longer/Foo.md"], "other/n.md", "Foo", A, "a/Foo.md", "name", id="shortest"),
    pytest.param(["abcdef/Foo.md", "a/b/Foo.md"], "n.md", "Foo", A, "a/b/Foo.md", "name",
                 id="shortest-in-characters"),
    pytest.param(["b/Foo.md", "a/Foo.md"], "c/n.md", "Foo", A, "a/Foo.md", "name", id="alphabetical"),
    pytest.param(["foo.md", "Foo.md"], "n.md", "FOO", A, "Foo.md", "name", id="case-variants-alphabetical"),
    pytest.param(["a/Foo.md", "b/foo.md"], "n.md", "foo", A, "a/Foo.md", "name", id="two-case-variants"),
    pytest.param(["a/fig.png", "b/fig.png"], "b/n.md", "fig.png", A, "b/fig.png", "name",
                 id="attachments-same-folder"),
    # path from the vault root, then a path suffix aligned to a folder boundary
    pytest.param(["papers/Foo.md"], "n.md", "papers/Foo", R, "papers/Foo.md", "path", id="root-path"),
    pytest.param(["papers/Foo.md", "x/papers/Foo.md"], "x/n.md", "papers/Foo", R, "papers/Foo.md", "path",
                 id="root-path-beats-suffix"),
    pytest.param(["papers/kaplan/Scaling laws.md"], "n.md", "kaplan/Scaling laws", R,
                 "papers/kaplan/Scaling laws.md", "path", id="suffix"),
    pytest.param(["papers/kaplan/Scaling laws.md"], "n.md", "plan/Scaling laws", U, None, "",
                 id="suffix-must-align-folder"),
    pytest.param(["papers/kaplan/Scaling laws.md"], "n.md", "ing laws", U, None, "", id="name-must-be-whole"),
    pytest.param(["papers/kaplan/Scaling laws.md"], "n.md", "kaplan/ing laws", U, None, "",
                 id="suffix-name-must-be-whole"),
    pytest.param(["a/k/X.md", "bb/k/X.md", "k/Y.md"], "n.md", "k/X", A, "a/k/X.md", "path", id="suffix-ambiguous"),
    pytest.param(["x/papers/Foo.md", "papers/Foo.md"], "n.md", "/papers/Foo", R, "papers/Foo.md", "path",
                 id="leading-slash-root"),
    pytest.param(["x/papers/Foo.md"], "n.md", "/papers/Foo", U, None, "", id="leading-slash-no-suffix"),
    pytest.param(["Foo.md", "a/Foo.md"], "a/n.md", "/Foo", R, "Foo.md", "path", id="leading-slash-bare"),
    pytest.param(["papers/Foo.md"], "n.md", "papers/", U, None, "", id="folder-is-not-a-file"),
    pytest.param(["papers.md"], "n.md", "papers/", U, None, "", id="folder-is-not-its-note"),
    # ./ and ../ relative to the linking note's folder
    pytest.param(["topics/X.md", "papers/X.md"], "papers/a.md", "../topics/X", R, "topics/X.md", "relative",
                 id="parent"),
    pytest.param(["topics/X.md", "papers/X.md"], "papers/a.md", "./X", R, "papers/X.md", "relative",
                 id="same-folder-dot"),
    pytest.param(["topics/X.md", "papers/X.md"], "papers/sub/a.md", "../X", R, "papers/X.md", "relative",
                 id="parent-deep"),
    pytest.param(["topics/X.md", "papers/X.md"], "papers/a.md", "./sub/../X.md", R, "papers/X.md", "relative",
                 id="normalised-dotdot"),
    pytest.param(["X.md"], "a.md", "./X", R, "X.md", "relative", id="dot-at-root"),
    pytest.param(["topics/X.md"], "papers/a.md", "./X", U, None, "", id="relative-no-name-fallback"),
    pytest.param(["X.md"], "papers/a.md", "../../X", U, None, "", id="escape-root"),
    pytest.param(["X.md"], "a.md", "../X", U, None, "", id="escape-root-from-root"),
    pytest.param(["X.md"], "n.md", "a/../../X", U, None, "", id="escape-root-mid-path"),
    pytest.param(["X.md"], "papers/a.md", "..", U, None, "", id="dotdot-is-a-folder"),
    # same-note links
    pytest.param(["a/n.md"], "a/n.md", "", R, "a/n.md", "self", id="self"),
    pytest.param([], "ghost.md", "", R, "ghost.md", "self", id="self-even-unknown"),
    pytest.param([], "n.md", "Foo", U, None, "", id="empty-vault"),
]


@pytest.mark.parametrize(("paths", "source", "target", "status", "path", "via"), RULES)
def test_rules(paths, source, target, status, path, via):
    res = Resolver(paths).resolve(source, target)
    assert (res.status, res.path, res.via) == (status, path, via)
    if status == A:
        assert len(res.candidates) > 1 and res.candidates[0] == path
    else:
        assert res.candidates == ()


@pytest.mark.parametrize(
    ("paths", "source", "target", "candidates"),
    [
        (["papers/Foo.md", "Foo.md", "a/b/Foo.md"], "papers/n.md", "Foo", ("Foo.md", "papers/Foo.md", "a/b/Foo.md")),
        (["zz/Foo.md", "a/b/Foo.md", "c/Foo.md", "b/Foo.md"], "zz/n.md", "foo",
         ("zz/Foo.md", "b/Foo.md", "c/Foo.md", "a/b/Foo.md")),
        (["a/k/X.md", "bb/k/X.md"], "bb/n.md", "k/x.md", ("a/k/X.md", "bb/k/X.md")),
    ],
)
def test_ambiguity_lists_candidates_in_preference_order(paths, source, target, candidates):
    res = Resolver(paths).resolve(source, target)
    assert res.status == "ambiguous"
    assert res.candidates == candidates
    assert res.path == candidates[0]


def test_unique_name_with_other_extension_is_not_ambiguous():
    # Foo.md and Foo.png share no file name: [[Foo]] is the note, [[Foo.png]] the picture.
    r = Resolver(["a/Foo.md", "b/Foo.png"])
    assert r.resolve("n.md", "Foo") == Resolution("resolved", "a/Foo.md", via="name")
    assert r.resolve("n.md", "Foo.png") == Resolution("resolved", "b/Foo.png", via="name")


# ---------------------------------------------------------------------------------------
# aliases


@pytest.mark.parametrize(
    ("resolve_aliases", "extra", "target", "status", "path", "via"),
    [
        (False, [], "Chinchilla", U, None, ""),
        (True, [], "Chinchilla", R, "papers/Training compute.md", "alias"),
        (True, [], "chinchilla.md", R, "papers/Training compute.md", "alias"),
        (True, [], "x/Chinchilla", U, None, ""),  # aliases are for bare targets only
        (True, ["topics/Chinchilla.md"], "Chinchilla", R, "topics/Chinchilla.md", "name"),  # a name beats an alias
        (True, [], "Hoffmann 2022", R, "papers/Training compute.md", "alias"),
        (True, [], "Unknown", U, None, ""),
    ],
)
def test_aliases(resolve_aliases, extra, target, status, path, via):
    r = Resolver(
        ["papers/Training compute.md", *extra],
        aliases={"papers/Training compute.md": ["Chinchilla", "Hoffmann 2022"]},
        resolve_aliases=resolve_aliases,
    )
    res = r.resolve("n.md", target)
    assert (res.status, res.path, res.via) == (status, path, via)


def test_alias_shared_by_two_notes_is_ambiguous_and_replaced_on_add():
    r = Resolver(aliases={"b/One.md": ["Same"], "a/Two.md": ["same"]}, resolve_aliases=True)
    res = r.resolve("n.md", "SAME")
    assert (res.status, res.path, res.candidates, res.via) == ("ambiguous", "a/Two.md", ("a/Two.md", "b/One.md"), "alias")
    r.add("a/Two.md", ["Other"])  # re-adding replaces the aliases
    assert r.resolve("n.md", "same") == Resolution("resolved", "b/One.md", via="alias")
    assert r.resolve("n.md", "other") == Resolution("resolved", "a/Two.md", via="alias")
    r.remove("b/One.md")
    assert r.resolve("n.md", "same").status == "unresolved"


# ---------------------------------------------------------------------------------------
# incremental add / remove


def test_incremental_add_remove():
    r = Resolver(["a/n.md"])
    assert r.resolve("a/n.md", "Foo").status == "unresolved"
    r.add("papers/Foo.md")  # a dangling link resolves once its target exists
    assert r.resolve("a/n.md", "Foo") == Resolution("resolved", "papers/Foo.md", via="name")
    r.add("a/foo.md")  # a second same-named note: ambiguous, same folder preferred
    assert r.resolve("a/n.md", "Foo") == Resolution(
        "ambiguous", "a/foo.md", ("a/foo.md", "papers/Foo.md"), "name"
    )
    assert r.paths_for_key(link_key("Foo")) == ("a/foo.md", "papers/Foo.md")
    r.remove("a/foo.md")  # removing restores
    assert r.resolve("a/n.md", "Foo") == Resolution("resolved", "papers/Foo.md", via="name")
    r.remove("papers/Foo.md")
    assert r.resolve("a/n.md", "Foo").status == "unresolved"
    r.remove("papers/Foo.md")  # unknown: no-op
    assert "a/n.md" in r and "papers/Foo.md" not in r and 42 not in r
    assert len(r) == 1


def test_add_twice_is_idempotent():
    r = Resolver()
    r.add("x/Foo.md")
    r.add("x/Foo.md")
    assert r.resolve("n.md", "Foo") == Resolution("resolved", "x/Foo.md", via="name")
    r.remove("x/Foo.md")
    assert r.resolve("n.md", "Foo").status == "unresolved"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("foo", ("Foo.md", "Foo", "x/foo.MD")),
        ("foo.pdf", ("Foo.pdf", "Foo.pdf.md")),
        ("foo.md", ("Foo.md.md",)),
        ("fig.png", ("a/fig.png",)),
        ("fig", ()),
    ],
)
def test_paths_for_key(key, expected):
    r = Resolver(["Foo.md", "Foo", "x/foo.MD", "Foo.pdf", "Foo.pdf.md", "Foo.md.md", "a/fig.png"])
    assert set(r.paths_for_key(key)) == set(expected)
    assert all(name_key(p.rsplit("/", 1)[-1]) == key for p in r.paths_for_key(key))


def test_resolve_link_uses_the_target():
    r = Resolver(["papers/Foo.md"])
    assert r.resolve_link("n.md", Link(target="Foo", subpath="Results")).path == "papers/Foo.md"
    assert r.resolve_link("n.md", Link(target="", subpath="Results")) == Resolution("resolved", "n.md", via="self")


def test_ten_thousand_notes_resolve_at_scale():
    # Speed is measured in bench/, not here: this checks the answers at vault scale.
    paths = [f"folder{i % 50}/sub{i % 7}/Note {i}.md" for i in range(10_000)]
    paths += [f"dup{i}/Note {i}.md" for i in range(0, 10_000, 10)]  # some ambiguity
    r = Resolver(paths)
    jobs = []
    for i, source in enumerate(paths[:10_000]):
        jobs += [
            (source, f"Note {(i * 7) % 10_000}"),
            (source, f"sub{i % 7}/Note {i}"),
            (source, f"../sub{(i + 1) % 7}/Note {i + 1}"),
            (source, f"Missing {i}"),
            (source, f"NOTE {(i * 13) % 10_000}.md"),
        ]
    results = [r.resolve(s, t) for s, t in jobs]
    assert len(results) == 50_000
    # "Missing i" and the "../sub" links (whose folder differs) dangle: two of five.
    assert sum(res.status == "unresolved" for res in results) == 20_000
    assert all(res.path == f"folder{i % 50}/sub{i % 7}/Note {i}.md" for i, res in enumerate(results[1::5]))


# ---------------------------------------------------------------------------------------
# citations


def note(path: str, **paper) -> Note:
    return Note(path=path, title=path, paper=Paper(**paper))


def citation_index() -> CitationIndex:
    return CitationIndex(
        [
            note("papers/Scaling laws.md", citekey="kaplan2020scaling", doi="10.48550/ARXIV.2001.08361",
                 arxiv="2001.08361v1"),
            note("papers/@hoffmann2022.md", arxiv="2203.15556"),
            note("papers/sorscher2022.md", doi="10.5555/Beyond"),
            note("topics/Data pruning.md"),
        ]
    )


@pytest.mark.parametrize(
    ("citation", "status", "path", "via"),
    [
        (Citation("kaplan2020scaling"), R, "papers/Scaling laws.md", "citekey"),
        (Citation("Kaplan2020Scaling"), R, "papers/Scaling laws.md", "citekey"),
        (Citation("hoffmann2022"), R, "papers/@hoffmann2022.md", "filename"),  # @key.md
        (Citation("sorscher2022"), R, "papers/sorscher2022.md", "filename"),  # key.md
        (Citation("@sorscher2022"), R, "papers/sorscher2022.md", "filename"),
        (Citation("10.48550/arxiv.2001.08361", kind="doi"), R, "papers/Scaling laws.md", "doi"),
        (Citation("10.48550/ARXIV.2001.08361", kind="doi"), R, "papers/Scaling laws.md", "doi"),
        (Citation("https://doi.org/10.5555/beyond", kind="doi"), R, "papers/sorscher2022.md", "doi"),
        (Citation("2001.08361", kind="arxiv"), R, "papers/Scaling laws.md", "arxiv"),
        (Citation("2203.15556v3", kind="arxiv"), R, "papers/@hoffmann2022.md", "arxiv"),
        (Citation("2203.15556", kind="doi"), U, None, ""),
        (Citation("nobody2019"), U, None, ""),
        (Citation("10.1/none", kind="doi"), U, None, ""),
        (Citation("1234.56789", kind="arxiv"), U, None, ""),
        (Citation("x", kind="isbn"), U, None, ""),
        (Citation(""), U, None, ""),
    ],
)
def test_citations(citation, status, path, via):
    res = citation_index().resolve(citation)
    assert (res.status, res.path, res.via) == (status, path, via)


def test_citekey_in_frontmatter_beats_file_name():
    idx = CitationIndex([note("smith2020.md"), note("papers/Smith's paper.md", citekey="smith2020")])
    assert idx.resolve(Citation("smith2020")) == Resolution("resolved", "papers/Smith's paper.md", via="citekey")


@pytest.mark.parametrize(
    ("notes", "citation", "candidates", "via"),
    [
        ([note("b/A.md", citekey="k"), note("a/B.md", citekey="K")], Citation("k"), ("a/B.md", "b/A.md"), "citekey"),
        ([note("x/k.md"), note("@k.md")], Citation("k"), ("@k.md", "x/k.md"), "filename"),
        ([note("b.md", doi="10.1/X"), note("a.md", doi="10.1/x")], Citation("10.1/x", kind="doi"),
         ("a.md", "b.md"), "doi"),
        ([note("b.md", arxiv="2206.14486v2"), note("a.md", arxiv="2206.14486")], Citation("2206.14486", kind="arxiv"),
         ("a.md", "b.md"), "arxiv"),
    ],
)
def test_duplicate_citation_targets_are_ambiguous(notes, citation, candidates, via):
    res = CitationIndex(notes).resolve(citation)
    assert (res.status, res.path, res.candidates, res.via) == ("ambiguous", candidates[0], candidates, via)


def test_citation_remove_and_readd():
    idx = citation_index()
    path = "papers/Scaling laws.md"
    assert idx.keys_for(path) == {
        ("citekey", "kaplan2020scaling"),
        ("citekey", "scaling laws"),
        ("doi", "10.48550/arxiv.2001.08361"),
        ("arxiv", "2001.08361"),
    }
    assert citation_key(Citation("Kaplan2020Scaling")) in idx.keys_for(path)
    idx.remove(path)
    assert idx.keys_for(path) == set()
    assert path not in idx
    assert idx.resolve(Citation("kaplan2020scaling")).status == "unresolved"
    assert idx.resolve(Citation("2001.08361", kind="arxiv")).status == "unresolved"
    idx.remove(path)  # no-op
    idx.add(note(path, citekey="kaplan2020"))
    assert idx.resolve(Citation("kaplan2020")).path == path
    idx.add(note(path))  # re-adding replaces: the old citekey is gone
    assert idx.resolve(Citation("kaplan2020")).status == "unresolved"
    assert len(idx) == 4


# ---------------------------------------------------------------------------------------
# hypothesis: brute-force reference, incremental == fresh, invalidation keys, never raises

FOLDERS = ["", "a/", "A/", "b/", "ab/", "a/b/", "a/B/", "c/a/", "c/a/b/", "\u00e9/", "e\u0301/"]
NAMES = ["Foo", "foo", "FOO", "Bar", NFC_CAFE, NFD_CAFE, "x.pdf", "Stra\u00dfe", "STRASSE", "b", "ing", "Scaling"]
EXTS = [".md", ".md", ".MD", ".png", "", ".md.md"]
PREFIXES = ["", "", "", "./", "../", "/", "a/", "b/", "A/b/", "ab/", "a/../", "../a/", "./b/../", "../../", "c/",
            "\u00e9/", "E\u0301/", "x/"]
TARGET_EXTS = ["", "", ".md", ".MD", ".png", ".pdf"]

paths_st = st.builds(lambda f, n, e: f + n + e, st.sampled_from(FOLDERS), st.sampled_from(NAMES), st.sampled_from(EXTS))
targets_st = st.one_of(
    st.builds(lambda p, n, e: p + n + e, st.sampled_from(PREFIXES), st.sampled_from(NAMES + ["Alias", "ALIAS"]),
              st.sampled_from(TARGET_EXTS)),
    st.sampled_from(["", ".", "..", "a/", "/", "./", "a//Foo", "Foo/"]),
    st.text(alphabet="aAbB/.\u00e9e\u0301fFoO", max_size=10),
)
sources_st = st.one_of(paths_st, st.sampled_from(["n.md", "a/n.md", "a/b/n.md", "c/a/b/n.md", "b/n.md"]))
aliases_st = st.lists(st.sampled_from(["Alias", "alias", "Foo", "Other", "Caf\u00e9"]), max_size=2)


def _ref_fold(s: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", s).casefold())


def _ref_fold_path(p: str) -> str:
    return "/".join(_ref_fold(x) for x in p.split("/"))


def _ref_pick(hits: list[str], source: str, via: str) -> Resolution:
    if len(hits) == 1:
        return Resolution("resolved", hits[0], via=via)
    src_dir = source.rpartition("/")[0]

    def rank(p: str):
        at_root = "/" not in p
        same = p.rpartition("/")[0] == src_dir
        return (not at_root, not same, len(p), _ref_fold(p), p)

    ordered = tuple(sorted(hits, key=rank))
    return Resolution("ambiguous", ordered[0], ordered, via)


def reference_resolve(paths, source, target, aliases=None, resolve_aliases=False) -> Resolution:
    """The rules, written as plainly as possible: loops over every path."""
    paths = sorted(set(paths))
    if target == "":
        return Resolution("resolved", source, via="self")
    unresolved = Resolution("unresolved")

    def first_nonempty(*groups):
        for g in groups:
            if g:
                return g
        return []

    if "/" not in target and target not in (".", ".."):
        t = _ref_fold(target)
        exact = [p for p in paths if _ref_fold(p.split("/")[-1]) == t]
        with_md = [] if t.endswith(".md") else [p for p in paths if _ref_fold(p.split("/")[-1]) == t + ".md"]
        hits = first_nonempty(exact, with_md)
        if hits:
            return _ref_pick(hits, source, "name")
        if resolve_aliases and aliases:
            k = t[:-3] if t.endswith(".md") else t
            hits = []
            for p in paths:
                for a in aliases.get(p, ()):
                    fa = _ref_fold(a)
                    if (fa[:-3] if fa.endswith(".md") else fa) == k:
                        hits.append(p)
                        break
            if hits:
                return _ref_pick(hits, source, "alias")
        return unresolved

    relative = target in (".", "..") or target.startswith("./") or target.startswith("../")
    rooted = target.startswith("/")
    segments = target.split("/")
    if segments[-1] in ("", ".", ".."):
        return unresolved
    stack = source.split("/")[:-1] if relative else []
    for seg in segments:
        if seg in ("", "."):
            continue
        if seg == "..":
            if not stack:
                return unresolved
            stack.pop()
        else:
            stack.append(seg)
    want = _ref_fold_path("/".join(stack))
    exact = [p for p in paths if _ref_fold_path(p) == want]
    with_md = [] if want.endswith(".md") else [p for p in paths if _ref_fold_path(p) == want + ".md"]
    hits = first_nonempty(exact, with_md)
    if hits:
        return _ref_pick(hits, source, "relative" if relative else "path")
    if relative or rooted:
        return unresolved
    exact = [p for p in paths if _ref_fold_path(p).endswith("/" + want)]
    with_md = [] if want.endswith(".md") else [p for p in paths if _ref_fold_path(p).endswith("/" + want + ".md")]
    hits = first_nonempty(exact, with_md)
    if hits:
        return _ref_pick(hits, source, "path")
    return unresolved


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paths=st.lists(paths_st, max_size=14),
    alias_map=st.dictionaries(paths_st, aliases_st, max_size=4),
    resolve_aliases=st.booleans(),
    probes=st.lists(st.tuples(sources_st, targets_st), min_size=1, max_size=12),
)
def test_matches_brute_force_reference(paths, alias_map, resolve_aliases, probes):
    all_paths = set(paths) | set(alias_map)
    r = Resolver(paths, aliases=alias_map, resolve_aliases=resolve_aliases)
    for source, target in probes:
        expected = reference_resolve(all_paths, source, target, alias_map, resolve_aliases)
        assert r.resolve(source, target) == expected, (source, target)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(st.tuples(st.booleans(), paths_st, aliases_st), max_size=30),
    probes=st.lists(st.tuples(sources_st, targets_st), min_size=1, max_size=12),
)
def test_incremental_equals_fresh(ops, probes):
    inc = Resolver(resolve_aliases=True)
    final: dict[str, list[str]] = {}
    for is_add, path, aliases in ops:
        if is_add:
            inc.add(path, aliases)
            final[path] = aliases
        else:
            inc.remove(path)
            final.pop(path, None)
    fresh = Resolver(final, aliases=final, resolve_aliases=True)
    assert set(inc) == set(fresh) == set(final)
    for source, target in probes:
        assert inc.resolve(source, target) == fresh.resolve(source, target), (source, target)
        key = link_key(target)
        assert inc.paths_for_key(key) == fresh.paths_for_key(key)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paths=st.lists(paths_st, max_size=10),
    new=paths_st,
    aliases=aliases_st,
    probes=st.lists(st.tuples(sources_st, targets_st), min_size=1, max_size=12),
)
def test_a_change_only_affects_targets_with_its_keys(paths, new, aliases, probes):
    """The invalidation contract: adding `dir/Name` changes only links keyed name_key(Name) or an alias key."""
    before = Resolver([p for p in paths if p != new], resolve_aliases=True)
    after = Resolver([p for p in paths if p != new], resolve_aliases=True)
    after.add(new, aliases)
    keys = {name_key(new.rsplit("/", 1)[-1])} | {name_key(a) for a in aliases}
    for source, target in probes:
        if before.resolve(source, target) != after.resolve(source, target):
            assert link_key(target) in keys, (source, target)


@settings(max_examples=300, deadline=None)
@given(
    paths=st.lists(st.text(max_size=12), max_size=8),
    source=st.text(max_size=12),
    target=st.text(max_size=16),
    resolve_aliases=st.booleans(),
)
def test_resolve_never_raises(paths, source, target, resolve_aliases):
    r = Resolver(paths, aliases={p: [p] for p in paths[:2]}, resolve_aliases=resolve_aliases)
    res = r.resolve(source, target)
    assert res.status in ("resolved", "ambiguous", "unresolved")
    if res.status == "unresolved":
        assert res.path is None
    elif res.via != "self":
        assert res.path in r
    link_key(target)
    name_key(target)
    for p in paths:
        r.remove(p)
    assert len(r) == 0


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.booleans(),
            st.sampled_from(["a/k1.md", "b/@k1.md", "k2.md", "c/x.md", "d/y.md"]),
            st.sampled_from(["", "k1", "K2", "k3"]),
            st.sampled_from(["", "10.1/A", "10.1/a", "10.2/b"]),
            st.sampled_from(["", "2206.14486", "2206.14486v2", "hep-th/9901001"]),
        ),
        max_size=20,
    ),
    citations=st.lists(
        st.builds(Citation, st.sampled_from(["k1", "k2", "k3", "x", "10.1/a", "2206.14486", "hep-th/9901001"]),
                  st.sampled_from(["citekey", "doi", "arxiv"])),
        min_size=1, max_size=8,
    ),
)
def test_citation_index_incremental_equals_fresh(ops, citations):
    inc = CitationIndex()
    final: dict[str, Note] = {}
    for is_add, path, key, doi, arxiv in ops:
        if is_add:
            n = note(path, citekey=key, doi=doi, arxiv=arxiv)
            inc.add(n)
            final[path] = n
        else:
            inc.remove(path)
            final.pop(path, None)
    fresh = CitationIndex(final.values())
    for c in citations:
        res = inc.resolve(c)
        assert res == fresh.resolve(c)
        # keys_for names every note a citation can resolve to
        for p in res.candidates or ((res.path,) if res.path else ()):
            assert citation_key(c) in inc.keys_for(p)


# ---------------------------------------------------------------------------------------
# quiet paths: generated pages and conflict copies never take a bare name from another file

QUIET_FOLDERS = ["", "a/", "b/", "Tags/"]
QUIET_NAMES = ["prolog", "Prolog", "prolog (tag)", "x", "x.sync-conflict-20260101-120000-ABCDEFG",
               "x (conflicted copy 2026-01-01)", "x-DESKTOP-AB12CD3"]
quiet_paths_st = st.builds(lambda f, n: f + n + ".md", st.sampled_from(QUIET_FOLDERS), st.sampled_from(QUIET_NAMES))
quiet_targets_st = st.sampled_from([*QUIET_NAMES, "PROLOG", "a/x", "Tags/prolog"])


def _reference_quiet(paths: set[str], generated: set[str], source: str, target: str) -> Resolution:
    """The rule written plainly: drop quiet paths from a bare name's matches unless only they match."""
    from vaultindex.resolve import conflict_copy

    res = reference_resolve(paths, source, target)
    if "/" in target or res.status != "ambiguous":
        return res
    folded = {_ref_fold_path(p) for p in paths}
    loud = [p for p in res.candidates
            if p not in generated and conflict_copy(p, lambda o: _ref_fold_path(o) in folded) is None]
    return _ref_pick(loud, source, "name") if loud else res


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(st.tuples(st.booleans(), quiet_paths_st, st.booleans()), max_size=25),
    probes=st.lists(st.tuples(st.sampled_from(["n.md", "a/n.md", "Tags/n.md"]), quiet_targets_st), min_size=1, max_size=10),
)
def test_quiet_paths_incremental_equals_fresh_and_the_rule(ops, probes):
    inc = Resolver()
    final: dict[str, bool] = {}
    for is_add, path, generated in ops:
        if is_add:
            inc.add(path, generated=generated)
            final[path] = generated
        else:
            inc.remove(path)
            final.pop(path, None)
    fresh = Resolver()
    for path, generated in final.items():
        fresh.add(path, generated=generated)
    generated = {p for p, g in final.items() if g}
    for source, target in probes:
        got = inc.resolve(source, target)
        assert got == fresh.resolve(source, target) == _reference_quiet(set(final), generated, source, target)


def test_a_tag_page_never_takes_a_bare_name_from_a_note():
    r = Resolver(["Compiler/Prolog.md"])
    r.add("Tags/prolog.md", generated=True)  # a page written under the old name
    assert r.resolve("n.md", "Prolog") == Resolution("resolved", "Compiler/Prolog.md", via="name")
    assert r.resolve("n.md", "Tags/prolog").path == "Tags/prolog.md"  # a path still reaches it
    r.remove("Compiler/Prolog.md")
    assert r.resolve("n.md", "Prolog").path == "Tags/prolog.md"  # alone, it answers its name
    r.add("Compiler/Prolog.md")
    r.add("Tags/prolog.md")  # the marker removed: an ordinary note again
    assert r.resolve("n.md", "Prolog").status == "ambiguous"
