"""Tag pages: pure naming and rendering (table-tested), safe idempotent writes on a vault copy, the CLI."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write
from vaultindex import Vault
from vaultindex.cli import cli
from vaultindex.errors import VaultIndexError
from vaultindex.models import Note, Paper
from vaultindex.parse import parse_note
from vaultindex.resolve import name_key
from vaultindex.tagpages import (
    END_MARKER,
    BadTagFolder,
    PageEntry,
    TagInfo,
    TagLink,
    TagPage,
    check_folder,
    count_tags,
    is_generated,
    link_target,
    page_paths,
    plan_pages,
    render_block,
    render_page,
    safe_segment,
    tag_tree,
    update_page,
    yaml_scalar,
)

BEYOND = "papers/Beyond neural scaling laws.md"
WINDOWS_ILLEGAL = set('<>:"\\|?*')


def synced(root: Path) -> Vault:
    vault = Vault.open(root)
    vault.sync()
    return vault


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and mtime."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# ---------------------------------------------------------------------------------------------
# names: tags -> safe file names (pure)


@pytest.mark.parametrize(
    ("segment", "name"),
    [
        ("ml", "ml"),
        ("data-pruning", "data-pruning"),
        ("r\u00e9sum\u00e9", "r\u00e9sum\u00e9"),
        ("re\u0301sume\u0301", "r\u00e9sum\u00e9"),  # NFD -> NFC
        ("..", "__"),
        (".", "_"),
        ("", "_"),
        (".hidden", "_hidden"),
        ("a:b", "a_b"),
        ('a*b?c"d<e>f|g', "a_b_c_d_e_f_g"),
        ("a\\b", "a_b"),
        ("c#", "c_"),
        ("x^y[1]", "x_y_1_"),
        ("trailing.", "trailing"),
        ("trailing ", "trailing"),
        ("backup~", "backup"),
        ("con", "_con"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1", "_com1"),
        ("lpt9", "_lpt9"),
        ("console", "console"),
        ("notes.md", "notes.md_"),
        ("tab\there", "tab_here"),
    ],
)
def test_safe_segment(segment, name):
    assert safe_segment(segment) == name


def test_safe_segment_cuts_long_names():
    name = safe_segment("x" * 500)
    assert len(name.encode()) <= 80
    wide = safe_segment("\u00e9" * 300)  # two bytes each: never cut inside a character
    assert len(wide.encode()) <= 80 and wide == "\u00e9" * 40


TRAVERSAL = ["../../x", "/etc/passwd", "a/../../b", "..", "./x", "C:\\Windows\\x", "~/x", "a//b"]


def test_traversal_tags_stay_in_the_folder():
    # what the parser makes of such tags: their parents are tags too
    note = parse_note("n.md", "---\ntags: " + json.dumps(TRAVERSAL) + "\n---\n")
    assert "../../x" in note.tags and ".." in note.tags
    paths = page_paths(note.tags, "Tags")
    assert set(paths) == set(note.tags)
    assert len({p.casefold() for p in paths.values()}) == len(paths)
    for path in paths.values():
        parts = path.split("/")
        assert parts[0] == "Tags" and path.endswith(".md")
        assert all(part and part not in (".", "..") and not part.startswith(".") for part in parts)
        assert not WINDOWS_ILLEGAL & set(path)


def test_nested_pages_sit_in_the_parent_page_folder():
    paths = page_paths(["ml", "ml/vision", "ml/vision/detection", "ml/nlp"], "Tags")
    assert paths == {
        "ml": "Tags/ml (tag).md",
        "ml/vision": "Tags/ml/vision (tag).md",
        "ml/vision/detection": "Tags/ml/vision/detection (tag).md",
        "ml/nlp": "Tags/ml/nlp (tag).md",
    }
    # a changed level keeps its children together under the same (changed) folder name
    odd = page_paths(["a:b", "a:b/c"], "Tags")
    assert odd["a:b/c"].rpartition("/")[0] == odd["a:b"].removesuffix(" (tag).md")
    # the old scheme, as a template
    assert page_paths(["ml", "ml/vision"], "Tags", name="{tag}") == {"ml": "Tags/ml.md", "ml/vision": "Tags/ml/vision.md"}
    assert page_paths(["ml"], "Tags", name="Tag - {tag}") == {"ml": "Tags/Tag - ml.md"}


def test_colliding_names_get_distinct_deterministic_names():
    nfc, nfd = "r\u00e9sum\u00e9", unicodedata.normalize("NFD", "r\u00e9sum\u00e9")
    tags = ["a:b", "a_b", "a*b", nfc, nfd, "stra\u00dfe", "strasse", "con", "_con", "x.", "x"]
    paths = page_paths(tags, "Tags")
    folded = [unicodedata.normalize("NFC", p).casefold() for p in paths.values()]
    assert len(set(folded)) == len(tags)
    # a tag that needs no change keeps its plain name, whatever else exists
    assert paths["a_b"] == "Tags/a_b (tag).md" and paths[nfc] == f"Tags/{nfc} (tag).md" and paths["x"] == "Tags/x (tag).md"
    assert paths["strasse"] == "Tags/strasse (tag).md"
    # the same tags in another order give the same names; a changed name does not depend on its neighbours
    assert page_paths(list(reversed(tags)), "Tags") == paths
    assert page_paths(["a:b"], "Tags")["a:b"] == paths["a:b"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=8))
def test_any_tag_names_give_safe_unique_paths(raw):
    tags = sorted({t.strip("/") for t in raw if t.strip("/")})
    if not tags:
        return
    taken = {name_key(t.rsplit("/", 1)[-1] + " (tag)") for t in tags[::2]}  # notes named like some pages
    paths = page_paths(tags, "Tags", taken=taken)
    assert len({unicodedata.normalize("NFC", p).casefold() for p in paths.values()}) == len(tags)
    # no two pages share a file name anywhere in the vault, and none has a taken name
    keys = [name_key(p.rsplit("/", 1)[-1]) for p in paths.values()]
    assert len(set(keys)) == len(keys) and not set(keys) & taken
    for path in paths.values():
        parts = path.split("/")
        assert parts[0] == "Tags" and path.endswith(".md")
        for part in parts[1:]:
            assert part and not part.startswith(".") and part[-1] not in ". ~"
            assert not WINDOWS_ILLEGAL & set(part) and not any(ord(c) < 32 for c in part)
            assert part.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


@pytest.mark.parametrize(
    ("given", "folder"),
    [("Tags", "Tags"), ("Tags/", "Tags"), ("./Tags", "Tags"), ("Index/Tags", "Index/Tags"), ("My tags", "My tags")],
)
def test_check_folder_accepts_relative_folders(given, folder):
    assert check_folder(given) == folder


@pytest.mark.parametrize(
    "bad", ["", "  ", ".", "/", "/etc", "../x", "Tags/../../x", "a/..", "C:/Tags", "C:\\Tags", "Tags\\x", "~/Tags", ".obsidian", "Tags/.hidden", "Ta:gs"]
)
def test_check_folder_rejects_folders_outside_or_unsafe(bad):
    with pytest.raises(BadTagFolder) as exc:
        check_folder(bad)
    assert isinstance(exc.value, VaultIndexError) and str(exc.value)


# ---------------------------------------------------------------------------------------------
# planning and rendering (pure)


@pytest.mark.parametrize(
    ("path", "counts", "target"),
    [
        (BEYOND, {"beyond neural scaling laws": 1}, "Beyond neural scaling laws"),
        ("topics/Scaling laws.md", {"scaling laws": 2}, "topics/Scaling laws"),
        ("papers/kaplan/Scaling laws.md", {"scaling laws": 2}, "papers/kaplan/Scaling laws"),
        ("Root.md", {}, "Root"),
        ("papers/C# notes.md", {"c# notes": 1}, ""),
        ("papers/a|b.md", {}, ""),
    ],
)
def test_link_target_is_the_shortest_unambiguous_form(path, counts, target):
    assert link_target(path, counts) == target


def entry(path, title, authors=(), year=None, venue="", modified=0, target=None):
    stem = path.rsplit("/", 1)[-1][:-3]
    return PageEntry(path, stem if target is None else target, title, tuple(authors), year, venue, modified)


A = entry("papers/A.md", "Alpha: a paper", ["Ann One", "Bob Two", "Cy Three"], 2021, "ICML", modified=3)
B = entry("papers/B.md", "beta", ["Dee Four", "Eve Five"], 2023, modified=1)
C = entry("papers/C.md", "C", ["Solo Author"], None, "Workshop", modified=2)
D = entry("topics/D.md", "Gamma #1 [draft] | x", target="topics/D")


def block_lines(page):
    return render_block(page).splitlines()


@pytest.mark.parametrize(
    ("page", "expected", "absent"),
    [
        (  # title sort (case-insensitive), metadata, display only when the title differs
            TagPage("t", "Tags/t.md", (C, B, A)),
            [
                "# t",
                "3 notes tagged `t`.",
                "- [[A|Alpha: a paper]] — Ann One et al., 2021, ICML",
                "- [[B|beta]] — Dee Four and Eve Five, 2023",
                "- [[C]] — Solo Author, Workshop",
            ],
            ["## "],
        ),
        (  # year: newest first, "No year" last, year not repeated on the line
            TagPage("t", "Tags/t.md", (A, B, C), sort="year"),
            ["## 2023", "- [[B|beta]] — Dee Four and Eve Five", "## 2021", "## No year", "- [[C]] — Solo Author, Workshop"],
            ["2023, ", "2021, ICML"],
        ),
        (  # modified: newest first
            TagPage("t", "Tags/t.md", (C, B, A), sort="modified"),
            [],
            ["## "],
        ),
        (  # nested: parent and children links to the tag pages by path
            TagPage(
                "ml/vision",
                "Tags/ml/vision.md",
                (A,),
                parent=TagLink("ml", "Tags/ml.md"),
                children=(TagLink("ml/vision/det", "Tags/ml/vision/det.md", 1),),
            ),
            [
                "# ml/vision",
                "1 note tagged `ml/vision`. Parent tag: [[Tags/ml|ml]].",
                "Nested tags: [[Tags/ml/vision/det|ml/vision/det]] (1)",
            ],
            [],
        ),
        (  # characters that would break a link or make a tag are neutralised
            TagPage("c#", "Tags/c_.md", (D,)),
            ["# c\\#", "1 note tagged `c#`.", "- [[topics/D|Gamma #1 (draft) - x]]"],
            [],
        ),
        (  # a file name a wikilink cannot carry: relative Markdown link, URL-encoded
            TagPage("t", "Tags/x/t.md", (entry("papers/C# notes.md", "C# notes", target=""),)),
            ["- [C\\# notes](../../papers/C%23%20notes.md)"],
            ["[["],
        ),
        (  # orphan: kept for the user's text
            TagPage("gone", "Tags/gone.md"),
            ["# gone"],
            ["- "],
        ),
    ],
)
def test_render_block(page, expected, absent):
    lines = block_lines(page)
    for line in expected:
        assert line in lines
    for text in absent:
        assert not any(text in line for line in lines[1:-1])
    assert lines[0].startswith("<!-- vaultindex:begin") and lines[-1] == END_MARKER
    assert render_block(page) == render_block(page)  # deterministic


def test_render_orders_entries():
    def order(page):
        return [line.split("|")[0] for line in block_lines(page) if line.startswith("- ")]

    assert order(TagPage("t", "Tags/t.md", (C, B, A))) == ["- [[A", "- [[B", "- [[C]] — Solo Author, Workshop"]
    assert order(TagPage("t", "Tags/t.md", (C, A, B), sort="modified")) == ["- [[A", "- [[C]] — Solo Author, Workshop", "- [[B"]
    years = [line for line in block_lines(TagPage("t", "Tags/t.md", (C, A, B), sort="year")) if line.startswith("## ")]
    assert years == ["## 2023", "## 2021", "## No year"]


def test_rendered_page_is_generated_and_adds_no_tags():
    page = TagPage("ml/vision", "Tags/ml/vision.md", (A, D), parent=TagLink("ml", "Tags/ml.md"))
    text = render_page(page)
    note = parse_note(page.path, text)
    assert note.tags == ()  # no `tags:`/`tag:` key, no inline #tag in the body
    assert is_generated(note.frontmatter)
    assert note.frontmatter == {"generated_by": "vaultindex", "tag_name": "ml/vision", "count": 2}
    assert {link.target for link in note.links} == {"Tags/ml", "A", "topics/D"}


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_yaml_scalar_reads_back_exactly(value):
    assert yaml.safe_load(f"k: {yaml_scalar(value)}\n") == {"k": value}


def test_plan_pages_counts_nested_tags_and_skips_generated_pages():
    notes = [
        Note("papers/A.md", "A", tags=("ml", "ml/vision"), paper=Paper(year=2020)),
        Note("papers/B.md", "B", tags=("ml", "ml/nlp")),
        Note("papers/x/B.md", "B again", tags=("ml",)),
        Note("Tags/ml.md", "ml", tags=("ml",), frontmatter={"generated_by": "vaultindex"}),
    ]
    pages = {p.tag: p for p in plan_pages(notes, "Tags")}
    assert set(pages) == {"ml", "ml/nlp", "ml/vision"}
    assert pages["ml"].count == 3 and [c.tag for c in pages["ml"].children] == ["ml/nlp", "ml/vision"]
    assert pages["ml/vision"].parent == TagLink("ml", "Tags/ml (tag).md")
    targets = {e.path: e.target for e in pages["ml"].entries}
    assert targets == {"papers/A.md": "A", "papers/B.md": "papers/B", "papers/x/B.md": "papers/x/B"}
    only_big = plan_pages(notes, "Tags", min_count=2)
    assert [p.tag for p in only_big] == ["ml"] and only_big[0].children == ()
    # another file with the same name (an attachment, an excluded note) makes a name ambiguous
    other = plan_pages(notes, "Tags", other_paths=["Templates/A.md"])
    assert {e.path: e.target for e in other[0].entries}["papers/A.md"] == "papers/A"


# Notes and files named like pages ("ml (tag)", "x (tag)", a generated or a user's note) rename pages.
POOL = ["papers/X.md", "topics/X.md", "papers/Y.md", "Y.md", "a/Z.md", "b/c/W.md", "Tags/ml.md", "x.md",
        "Tags/ml (tag).md", "Notes/vision (tag).md"]
OTHERS = ["attachments/X", "Templates/Y.md", "fig.png", "Z.md", "x (tag).md"]
TAG_POOL = ["ml", "ml/vision", "ml/vision/det", "ml/nlp", "zz", "x"]
note_spec = st.fixed_dictionaries(
    {
        "tags": st.lists(st.sampled_from(TAG_POOL), max_size=3),
        "expand": st.booleans(),  # the parser expands nested tags; the pure API may get them raw
        "title": st.sampled_from(["A", "b", "\u00c7", "X"]),
        "year": st.sampled_from([None, 2020, 2021]),
        "generated": st.booleans(),
        "mtime": st.integers(0, 3),
    }
)
edits = st.lists(
    st.tuples(
        # None deletes the note, an int only changes its mtime (the same Note object), a spec rewrites it
        st.lists(st.tuples(st.sampled_from(POOL), st.one_of(st.none(), st.integers(4, 6), note_spec)), min_size=1, max_size=3),
        st.lists(st.sampled_from(OTHERS), max_size=2),
    ),
    min_size=1,
    max_size=10,
)


def make_note(path, spec):
    tags = set(spec["tags"])
    if spec["expand"]:
        tags = {"/".join(t.split("/")[:i]) for t in tags for i in range(1, t.count("/") + 2)}
    fm = {"generated_by": "vaultindex"} if spec["generated"] else {}
    return Note(path, spec["title"], tags=tuple(sorted(tags)), paper=Paper(year=spec["year"]), frontmatter=fm)


@settings(max_examples=200, deadline=None)
@given(edits, st.sampled_from(["title", "year", "modified"]), st.integers(1, 2))
def test_incremental_planning_equals_a_fresh_plan(batches, sort, min_count):
    cache: dict = {}
    notes: dict[str, Note] = {}  # unchanged notes stay the same objects, as in the index
    mtimes: dict[str, int] = {}
    for changes, others in batches:
        for path, spec in changes:
            if spec is None:
                notes.pop(path, None)
            elif isinstance(spec, int):
                mtimes[path] = spec
            else:
                notes[path] = make_note(path, spec)
                mtimes[path] = spec["mtime"]
        options = dict(sort=sort, min_count=min_count, modified=dict(mtimes), other_paths=others)
        listed = list(notes.values())
        planned = plan_pages(listed, "Tags", cache=cache, **options)
        assert planned == plan_pages(listed, "Tags", **options)
        users = {name_key(p.rsplit("/", 1)[-1]) for p in [*others, *(n.path for n in listed if not n.generated)]}
        page_keys = [name_key(page.path.rsplit("/", 1)[-1]) for page in planned]
        assert len(set(page_keys)) == len(page_keys) and not set(page_keys) & users


def test_count_tags_and_tree():
    notes = [
        Note("a.md", "a", tags=("ml", "ml/vision", "ml/vision/det")),
        Note("b.md", "b", tags=("ml", "ml/nlp", "zz")),
        Note("c.md", "c", tags=("zz",)),
    ]
    infos = count_tags(notes)
    assert infos[0] == TagInfo("ml", 2, ("a.md", "b.md"))
    lines = [f"{prefix}{i.tag} ({i.count})" for prefix, _, i in tag_tree(infos)]
    assert lines == ["ml (2)", "├─ ml/nlp (1)", "└─ ml/vision (1)", "   └─ ml/vision/det (1)", "zz (2)"]
    by_count = [i.tag for _, _, i in tag_tree(infos, "count")]
    assert by_count == ["ml", "ml/nlp", "ml/vision", "ml/vision/det", "zz"]
    # a nested tag without its parent in the list is shown at the top
    assert [p for p, _, _ in tag_tree([TagInfo("a/b", 1)])] == [""]


# ---------------------------------------------------------------------------------------------
# merging with the page on disk (pure)

PAGE = TagPage("t", "Tags/t.md", (A, B))
PAGE2 = TagPage("t", "Tags/t.md", (A, B, C))


def test_update_keeps_user_text_and_keys():
    fresh = render_page(PAGE)
    assert update_page(None, PAGE) == (fresh, "")
    head, rest = fresh.split("<!-- vaultindex:begin", 1)
    edited = (
        head.replace("count: 2\n", "count: 2\naliases: [tee]   # mine\ncssclasses:\n- wide\n")
        + "My intro, with a #tag of mine.\n\n<!-- vaultindex:begin"
        + rest
        + "\n## My notes\n\nKeep this.\n"
    )
    new, note = update_page(edited, PAGE2)
    assert note == ""
    assert "aliases: [tee]   # mine\ncssclasses:\n- wide\n" in new
    assert "My intro, with a #tag of mine.\n\n<!-- vaultindex:begin" in new
    assert new.endswith(END_MARKER + "\n\n## My notes\n\nKeep this.\n")
    assert "3 notes tagged" in new and "count: 3\n" in new
    assert update_page(new, PAGE2) == (new, "")  # idempotent
    assert parse_note("Tags/t.md", new).frontmatter["aliases"] == ["tee"]


def test_update_never_takes_over_a_user_file():
    for text in ["# My own note about t\n", "---\ntags: [t]\n---\nmine\n", "---\ngenerated_by: someone-else\n---\n", "---\n: [\n---\n"]:
        new, note = update_page(text, PAGE)
        assert new is None and "left untouched" in note


def test_update_repairs_missing_markers_without_losing_text():
    broken = render_page(PAGE).replace(END_MARKER, "") + "my text\n"
    new, note = update_page(broken, PAGE2)
    assert "markers" in note
    assert "my text" in new and new.count(END_MARKER) == 1 and "3 notes tagged" in new
    assert update_page(new, PAGE2) == (new, "")  # the stray begin marker stays in the user's text
    no_begin = "\n".join(line for line in render_page(PAGE).splitlines() if "vaultindex:begin" not in line) + "\nmine\n"
    new, note = update_page(no_begin, PAGE2)
    assert "markers" in note and "mine" in new and "3 notes tagged" in new
    assert update_page(new, PAGE2) == (new, "")  # and so does a stray end marker


def test_update_keeps_windows_line_endings_and_bom():
    text = "\ufeff" + render_page(PAGE).replace("\n", "\r\n") + "mine\r\n"
    new, _ = update_page(text, PAGE2)
    assert new.startswith("\ufeff---\r\n") and new.endswith("mine\r\n") and "\n" not in new.replace("\r\n", "")
    assert update_page(new, PAGE2)[0] == new


# ---------------------------------------------------------------------------------------------
# writing on a copy of example_vault


def test_pages_for_the_example_vault(example_copy):
    vault = synced(example_copy)
    tags_before = count_tags(vault.notes())
    result = vault.write_tag_pages()
    assert result.warnings == () and result.deleted == ()
    assert len(result.written) == len(tags_before)
    tags_dir = example_copy / "Tags"
    assert (tags_dir / "ml (tag).md").is_file() and (tags_dir / "ml" / "vision (tag).md").is_file()
    ml = (tags_dir / "ml (tag).md").read_text(encoding="utf-8")
    assert "Nested tags: [[Tags/ml/nlp (tag)|ml/nlp]]" in ml and "[[Tags/ml/vision (tag)|ml/vision]]" in ml
    vision = (tags_dir / "ml" / "vision (tag).md").read_text(encoding="utf-8")
    assert "Parent tag: [[Tags/ml (tag)|ml]]." in vision
    assert (
        "- [[Beyond neural scaling laws|Beyond neural scaling laws: beating power law scaling via data pruning]]"
        " — Ben Sorscher et al., 2022, NeurIPS" in vision
    )
    # the two "Scaling laws" notes are linked by path, the others by name
    scaling = (tags_dir / "scaling-laws (tag).md").read_text(encoding="utf-8")
    assert "[[papers/kaplan/Scaling laws|Scaling laws for neural language models]]" in scaling
    assert "[[topics/Scaling laws|Scaling laws]]" in scaling
    # once indexed, the pages are notes but not tagged notes, and the tags are the same
    vault = synced(example_copy)
    assert count_tags(vault.notes()) == tags_before
    assert all(not n.tags for n in vault.notes() if n.path.startswith("Tags/"))


def test_second_run_writes_nothing(example_copy, monkeypatch):
    vault = synced(example_copy)
    first = vault.write_tag_pages(sort="year")
    before = snapshot(example_copy / "Tags")
    assert len(before) == len(first.written)

    # the same Vault (as watch keeps it): no reads, no writes
    reads, replaces = [], []
    real_read, real_replace = Path.read_bytes, os.replace
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real_read(self))
    monkeypatch.setattr(os, "replace", lambda a, b: replaces.append(b) or real_replace(a, b))
    again = vault.write_tag_pages(sort="year")
    assert again.written == () and again.deleted == () and set(again.unchanged) == set(first.written)
    assert reads == [] and replaces == []
    monkeypatch.undo()

    # a fresh process, after the pages were indexed: still nothing to write
    vault = synced(example_copy)
    third = vault.write_tag_pages(sort="year")
    assert third.written == () and third.deleted == ()
    assert snapshot(example_copy / "Tags") == before  # byte-identical, mtimes unchanged


def test_a_changed_tag_rewrites_only_its_pages(example_copy):
    vault = synced(example_copy)
    vault.write_tag_pages()
    before = snapshot(example_copy / "Tags")
    write(example_copy, "papers/New.md", "---\ntitle: A new vision paper\nyear: 2025\ntags: [ml/vision]\n---\n")
    vault.sync()
    result = vault.write_tag_pages()
    assert result.written == ("Tags/ml (tag).md", "Tags/ml/vision (tag).md")  # not ml/nlp: its text does not change
    after = snapshot(example_copy / "Tags")
    changed = {p for p in after if after[p] != before.get(p)}
    assert changed == {p.removeprefix("Tags/") for p in result.written}
    assert "[[New|A new vision paper]] — 2025" in (example_copy / "Tags/ml/vision (tag).md").read_text(encoding="utf-8")


def test_user_text_survives_rewrites(example_copy):
    vault = synced(example_copy)
    vault.write_tag_pages()
    page = example_copy / "Tags" / "scaling-laws (tag).md"
    text = page.read_text(encoding="utf-8")
    text = text.replace("count: 9\n", "count: 9\naliases: [Scaling]\n")
    text = text.replace("<!-- vaultindex:begin", "Why I track this: compute budgets.\n\n<!-- vaultindex:begin", 1)
    text += "\n## Open questions\n\n- Does data pruning change the exponent? [[Beyond neural scaling laws]]\n"
    page.write_text(text, encoding="utf-8")
    mine = ["aliases: [Scaling]", "Why I track this: compute budgets.", "## Open questions", "change the exponent?"]

    write(example_copy, "papers/Other.md", "---\ntitle: Another scaling paper\ntags: [scaling-laws]\n---\n")
    vault.sync()
    assert "Tags/scaling-laws (tag).md" in vault.write_tag_pages().written
    rewritten = page.read_text(encoding="utf-8")
    assert all(m in rewritten for m in mine)
    assert "10 notes tagged `scaling-laws`." in rewritten and "[[Other|Another scaling paper]]" in rewritten

    # an edit inside the markers is put back; the user's text stays
    page.write_text(rewritten.replace("10 notes tagged", "ELEVEN notes tagged"), encoding="utf-8")
    assert "Tags/scaling-laws (tag).md" in vault.write_tag_pages().written
    assert page.read_text(encoding="utf-8") == rewritten


def test_traversal_tags_never_write_outside_the_folder(example_copy, tmp_path):
    write(example_copy, "papers/Evil.md", '---\ntags: ["../../x", "/etc/passwd", "a/../../b", "..", "con"]\n---\n')
    outside_before = sorted(p for p in tmp_path.rglob("*") if example_copy not in p.parents and p != example_copy)
    vault = synced(example_copy)
    root_before = sorted(p.name for p in example_copy.iterdir())
    result = vault.write_tag_pages()
    assert result.warnings == ()
    for rel in result.written:
        full = (example_copy / rel).resolve()
        assert full.is_relative_to((example_copy / "Tags").resolve())
    assert sorted(p for p in tmp_path.rglob("*") if example_copy not in p.parents and p != example_copy) == outside_before
    assert sorted(p.name for p in example_copy.iterdir()) == sorted([*root_before, "Tags"])
    assert not Path("/etc/passwd.md").exists()
    pages = {p.relative_to(example_copy / "Tags").as_posix() for p in (example_copy / "Tags").rglob("*.md")}
    assert "etc (tag).md" in pages and "etc/passwd (tag).md" in pages
    assert any(p.startswith("__-") for p in pages)  # "..", renamed, with a hash
    assert vault.write_tag_pages().written == ()


def test_case_and_sanitising_collisions_get_their_own_pages(example_copy):
    nfd = unicodedata.normalize("NFD", "r\u00e9sum\u00e9")
    write(example_copy, "papers/Upper.md", "---\ntags: [ML, a:b, a_b, Data-Pruning]\n---\n")
    write(example_copy, "papers/Nfd.md", f"---\ntags: [{nfd}]\n---\n")
    vault = synced(example_copy)
    tags = [i.tag for i in count_tags(vault.notes())]
    assert "ML" not in tags and "ml" in tags  # tags are case-insensitive: one page
    result = vault.write_tag_pages()
    assert result.warnings == ()
    assert len(result.written) == len(tags)
    folded = {unicodedata.normalize("NFC", p).casefold() for p in result.written}
    assert len(folded) == len(result.written)
    ml = (example_copy / "Tags/ml (tag).md").read_text(encoding="utf-8")
    assert "[[Upper]]" in ml
    pages_by_tag = {}
    for rel in result.written:
        fm = parse_note(rel, (example_copy / rel).read_text(encoding="utf-8")).frontmatter
        pages_by_tag[fm["tag_name"]] = rel
    assert set(pages_by_tag) == set(tags)
    assert pages_by_tag["a_b"] == "Tags/a_b (tag).md" and pages_by_tag["a:b"].startswith("Tags/a_b-")


def test_stale_pages_are_deleted_but_user_files_never(example_copy):
    vault = synced(example_copy)
    write(example_copy, "papers/Lonely.md", "---\ntags: [lonely, solo/deep]\n---\n")
    vault.sync()
    vault.write_tag_pages()
    assert (example_copy / "Tags/lonely (tag).md").exists() and (example_copy / "Tags/solo/deep (tag).md").exists()
    # a user's note in the tag folder, and a user's file where a page would go
    write(example_copy, "Tags/README.md", "My own index of tags.\n")
    write(example_copy, "Tags/topic (tag).md", "---\ntitle: my topic note\n---\nmine\n")
    (example_copy / "Tags/topic (tag).md").touch()
    # the user annotated the page of a tag that will go
    solo = example_copy / "Tags/solo (tag).md"
    solo.write_text(solo.read_text(encoding="utf-8") + "\nsolo work ideas\n", encoding="utf-8")

    (example_copy / "papers/Lonely.md").unlink()
    vault.sync()
    result = vault.write_tag_pages()
    assert result.deleted == ("Tags/lonely (tag).md", "Tags/solo/deep (tag).md")
    assert not (example_copy / "Tags/lonely (tag).md").exists() and not (example_copy / "Tags/solo").exists()
    # kept: the user's files, untouched, with a warning for the one in the way
    assert (example_copy / "Tags/README.md").read_text(encoding="utf-8") == "My own index of tags.\n"
    assert (example_copy / "Tags/topic (tag).md").read_text(encoding="utf-8") == "---\ntitle: my topic note\n---\nmine\n"
    warned = {d.path: d.message for d in result.warnings}
    # the user's note where the page would go makes the page take another name, not a warning
    assert "Tags/topic (tag).md" not in warned
    moved = [p for p in (example_copy / "Tags").glob("topic-* (tag).md")]
    assert len(moved) == 1 and "tag_name: topic\n" in moved[0].read_text(encoding="utf-8")
    # the annotated page of the vanished tag is kept, says so, and warns
    assert "solo work ideas" in solo.read_text(encoding="utf-8") and "No page is generated" in solo.read_text(encoding="utf-8")
    assert "holds your text" in warned["Tags/solo (tag).md"]
    again = vault.write_tag_pages()
    assert again.written == () and again.deleted == ()


def test_symlinks_in_the_tag_folder_are_not_followed(example_copy, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (example_copy / "Tags").mkdir()
    os.symlink(outside, example_copy / "Tags" / "ml")
    write(example_copy, "papers/Deep.md", "---\ntags: [ml/vision/detection]\n---\n")  # needs a folder under the link
    vault = synced(example_copy)
    result = vault.write_tag_pages()
    assert list(outside.iterdir()) == []  # not even an empty folder
    assert {d.path for d in result.warnings} == {"Tags/ml/nlp (tag).md", "Tags/ml/vision (tag).md", "Tags/ml/vision/detection (tag).md"}
    assert (example_copy / "Tags/ml (tag).md").is_file()


def test_symlinked_tag_folder_out_of_the_vault_is_refused(example_copy, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", example_copy / "Tags")
    with pytest.raises(BadTagFolder):
        synced(example_copy).write_tag_pages()


def test_dry_run_writes_nothing_and_shows_a_diff(example_copy):
    vault = synced(example_copy)
    first = vault.write_tag_pages(dry_run=True)
    assert first.dry_run and first.written and not (example_copy / "Tags").exists()
    assert "--- /dev/null\n+++ b/Tags/ml (tag).md\n" in first.diff and "+generated_by: vaultindex\n" in first.diff

    vault.write_tag_pages()
    before = snapshot(example_copy / "Tags")
    assert vault.write_tag_pages(dry_run=True).diff == ""
    write(example_copy, "papers/New.md", "---\ntitle: Fresh\ntags: [peft]\n---\n")
    (example_copy / "papers/SimCLR.md").unlink()  # contrastive goes away
    vault.sync()
    dry = vault.write_tag_pages(dry_run=True)
    assert "Tags/peft (tag).md" in dry.written and dry.deleted == ("Tags/contrastive (tag).md",)
    assert "+++ b/Tags/peft (tag).md\n" in dry.diff and "+- [[New|Fresh]]\n" in dry.diff
    assert "--- a/Tags/contrastive (tag).md\n+++ /dev/null\n" in dry.diff
    assert snapshot(example_copy / "Tags") == before


def test_options_come_from_config_and_are_checked(example_copy):
    write(example_copy, ".vaultindex/config.toml", '[tags]\ndir = "Index/Tags"\nmin_count = 5\nsort = "year"\n')
    vault = synced(example_copy)
    result = vault.write_tag_pages()
    assert result.folder == "Index/Tags"
    assert {p.removeprefix("Index/Tags/") for p in result.written} == {
        "ml (tag).md", "ml/nlp (tag).md", "ml/vision (tag).md", "llm (tag).md", "scaling-laws (tag).md", "topic (tag).md"
    }
    assert "## 2022" in (example_copy / "Index/Tags/ml (tag).md").read_text(encoding="utf-8")
    fewer = vault.write_tag_pages(min_count=20, dir="Index/Tags")  # ml's nested tags fall below: no links to them
    assert fewer.written == ("Index/Tags/ml (tag).md",) and len(fewer.deleted) == 5
    assert "Nested tags" not in (example_copy / "Index/Tags/ml (tag).md").read_text(encoding="utf-8")
    for bad in ({"dir": "../out"}, {"dir": "/tmp"}, {"sort": "size"}, {"min_count": 0}):
        with pytest.raises(VaultIndexError):
            vault.write_tag_pages(**bad)


def test_vault_facade(example_copy):
    vault = synced(example_copy)
    assert vault.tags() == count_tags(vault.notes())
    assert vault.write_tag_pages(dir="T").folder == "T"


# ---------------------------------------------------------------------------------------------
# CLI


def test_cli_lists_tags(example_copy):
    base = ["--vault", str(example_copy), "tags"]
    tree = run(*base)
    assert tree.exit_code == 0
    lines = tree.stdout.splitlines()
    assert "ml (21)" in lines and "├─ ml/nlp (10)" in lines and "└─ ml/vision (12)" in lines
    flat = run(*base, "--flat", "--sort", "count").stdout.splitlines()
    assert flat[:3] == ["ml (21)", "ml/vision (12)", "ml/nlp (10)"]
    data = json.loads(run(*base, "--json").stdout)
    assert {"tag": "ml/vision", "count": 12} in data and all(set(d) == {"tag", "count"} for d in data)
    with_notes = json.loads(run(*base, "--json", "--notes").stdout)
    assert BEYOND in next(d for d in with_notes if d["tag"] == "data-pruning")["notes"]
    assert run(*base, "--sort", "size").exit_code == 2


def test_cli_writes_pages(example_copy):
    base = ["--vault", str(example_copy), "tags", "write"]
    dry = run(*base, "--dry-run")
    assert dry.exit_code == 0 and "+++ b/Tags/ml (tag).md" in dry.stdout and not (example_copy / "Tags").exists()
    assert "would write" in dry.stderr

    first = json.loads(run(*base, "--json").stdout)
    assert "Tags/ml/vision (tag).md" in first["written"] and first["deleted"] == [] and first["warnings"] == []
    second = run(*base, "--json")
    assert second.exit_code == 0
    data = json.loads(second.stdout)
    assert data["written"] == [] and len(data["unchanged"]) == len(first["written"]) and "diff" not in data
    assert "0 written, 0 deleted" in second.stderr

    plain = run(*base, "--dir", "Other", "--min-count", "9")
    assert plain.exit_code == 0
    assert plain.stdout.splitlines() == ["wrote Other/ml (tag).md", "wrote Other/ml/nlp (tag).md", "wrote Other/ml/vision (tag).md", "wrote Other/scaling-laws (tag).md"]


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--dir", "../out"], 1), (["--dir", "/etc"], 1), (["--sort", "size"], 2), (["--min-count", "0"], 2)],
)
def test_cli_errors(example_copy, args, code):
    result = run("--vault", str(example_copy), "tags", "write", *args)
    assert result.exit_code == code
    if code == 1:
        assert result.stderr.splitlines()[-1].startswith("Error: ") and "Traceback" not in result.output
    assert not (example_copy.parent / "out").exists()


def test_cli_routes_around_a_user_file_named_like_a_page(example_copy):
    write(example_copy, "Tags/ml (tag).md", "my own ml note\n")
    result = run("--vault", str(example_copy), "tags", "write")
    assert result.exit_code == 0 and "warning:" not in result.stderr
    assert (example_copy / "Tags/ml (tag).md").read_text(encoding="utf-8") == "my own ml note\n"
    [page] = [line.removeprefix("wrote ") for line in result.stdout.splitlines() if line.startswith("wrote Tags/ml-")]
    assert page.endswith(" (tag).md") and "tag_name: ml\n" in (example_copy / page).read_text(encoding="utf-8")
    assert f"Parent tag: [[{page[:-3]}|ml]]" in (example_copy / "Tags/ml/vision (tag).md").read_text(encoding="utf-8")


def test_a_page_never_overwrites_a_file_made_after_the_sync(example_copy):
    vault = synced(example_copy)
    write(example_copy, "Tags/ml (tag).md", "my own ml note, not indexed yet\n")
    result = vault.write_tag_pages()
    assert "not a generated tag page" in {d.path: d.message for d in result.warnings}["Tags/ml (tag).md"]
    assert (example_copy / "Tags/ml (tag).md").read_text(encoding="utf-8") == "my own ml note, not indexed yet\n"


def test_the_docs_sample_page_is_what_the_command_writes(example_copy):
    """docs/tag-page-example.md is `vaultindex tags write --sort year`'s Tags/ml/vision (tag).md for example_vault."""
    from conftest import REPO

    assert run("--vault", str(example_copy), "tags", "write", "--sort", "year").exit_code == 0
    page = (example_copy / "Tags/ml/vision (tag).md").read_bytes()
    assert (REPO / "docs" / "tag-page-example.md").read_bytes() == page, (
        "regenerate docs/tag-page-example.md: copy example_vault, run "
        "`vaultindex --vault COPY tags write --sort year`, copy COPY/Tags/ml/vision (tag).md"
    )


# ---------------------------------------------------------------------------------------------
# tags named like notes (the real-vault pattern): a page never takes a link from a note

NAMED_LIKE_NOTES = {
    "Compiler/Prolog.md": "# Prolog\n\nA logic language. #prolog #lang/logic\n",
    "Compiler/Parsing.md": "# Parsing\n\nDCGs in [[Prolog]]. #prolog #compiler\n",
    "Rust.md": "# Rust\n\nOwnership: [[Ownership]]. #rust\n",
    "Languages/Ownership.md": "# Ownership\n\nBorrowing in [[Rust]]. #rust/ownership #lang\n",
    "Languages/Logic.md": "# Logic\n\nSee [[Prolog]], [[prolog]] and [[Compiler/Prolog]]. #lang/logic\n",
    "Journal/2026-01-01.md": "# Day\n\n[[Rust]] and [[Prolog]] and [[Ownership]] and [[Lang]]. #journal\n",
    "Lang.md": "# Lang\n\nAll the [[Logic]]. #lang\n",
    "compiler.md": "# compiler\n\nA note named like a tag.\n",
}


def named_like_notes(root: Path) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    for rel, text in NAMED_LIKE_NOTES.items():
        write(root, rel, text)
    return root


def link_state(root: Path) -> tuple[dict, list]:
    """Every note's backlinks and doctor's findings, as a fresh process sees them."""
    vault = synced(root)
    backlinks = {
        n.path: sorted((b.path, tuple((ln.line, ln.target) for ln in b.links)) for b in vault.backlinks(n.path))
        for n in vault.notes()
        if not n.generated
    }
    problems = sorted((p.code, p.path, p.line or 0, p.message) for p in vault.doctor().problems)
    return backlinks, problems


def test_tag_pages_leave_every_backlink_and_doctor_finding_as_they_were(tmp_path):
    root = named_like_notes(tmp_path / "vault")
    before = link_state(root)
    assert before[0]["Compiler/Prolog.md"]  # the fixture does link the notes
    result = run("--vault", str(root), "tags", "write")
    assert result.exit_code == 0, result.output
    after = link_state(root)
    assert after == before
    pages = sorted(p.relative_to(root).as_posix() for p in (root / "Tags").rglob("*.md"))
    assert "Tags/prolog (tag).md" in pages and "Tags/rust/ownership (tag).md" in pages
    assert "Tags/compiler (tag).md" in pages  # beside compiler.md: its own name
    # no page has the name of any other file, compared as Obsidian compares names
    names = [name_key(p.rsplit("/", 1)[-1]) for p in [*pages, *NAMED_LIKE_NOTES]]
    assert len(names) == len(set(names))


def _old_page(tag: str, extra: str = "") -> str:
    return f"---\ngenerated_by: vaultindex\ntag_name: {tag}\ncount: 1\n---\n{extra}\n<!-- vaultindex:begin -->\n# {tag}\n<!-- vaultindex:end -->\n"


def test_pages_under_old_names_are_cleaned_up_and_user_files_never_touched(tmp_path):
    root = named_like_notes(tmp_path / "vault")
    clean = link_state(root)
    # what an earlier vaultindex wrote: Tags/prolog.md takes [[Prolog]] from Compiler/Prolog.md
    write(root, "Tags/prolog.md", _old_page("prolog"))
    write(root, "Tags/rust.md", _old_page("rust", "My own notes on rust tags.\n"))  # the user wrote in it
    write(root, "Tags/lang/logic.md", _old_page("lang/logic"))
    write(root, "Tags/gone.md", _old_page("gone"))
    write(root, "Tags/Compiler.md", "# Compiler\nMy own note, no marker.\n")  # a user's file: never touched
    outside = write(tmp_path / "elsewhere", "journal.md", _old_page("journal"))
    os.symlink(outside, root / "Tags" / "journal.md")  # a generated page reached through a symlink
    os.symlink(outside.parent, root / "Tags" / "linked")
    # (vaultindex's resolver already skips these pages for bare names; Obsidian does not)

    result = run("--vault", str(root), "tags", "write", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["deleted"]) == {"Tags/prolog.md", "Tags/lang/logic.md", "Tags/gone.md"}
    assert data["renamed"] == [["Tags/rust.md", "Tags/rust (tag).md"]]
    rust = (root / "Tags/rust (tag).md").read_text(encoding="utf-8")
    assert "My own notes on rust tags." in rust and "[[Rust]]" in rust
    assert not (root / "Tags/rust.md").exists() and not (root / "Tags/lang/logic.md").exists()
    assert (root / "Tags/Compiler.md").read_text(encoding="utf-8") == "# Compiler\nMy own note, no marker.\n"
    assert (root / "Tags/journal.md").is_symlink() and outside.read_text(encoding="utf-8") == _old_page("journal")
    assert (root / "Tags/linked").is_symlink()
    # Compiler.md (the user's) and compiler.md share a name: that ambiguity is theirs, not ours
    backlinks, problems = link_state(root)
    assert backlinks["Compiler/Prolog.md"] == clean[0]["Compiler/Prolog.md"]
    assert {k: v for k, v in backlinks.items() if k in clean[0]} == clean[0]
    again = run("--vault", str(root), "tags", "write", "--json")
    assert json.loads(again.stdout)["written"] == [] and json.loads(again.stdout)["deleted"] == []


def test_a_note_made_after_its_page_gets_the_name_and_the_page_moves(tmp_path):
    root = named_like_notes(tmp_path / "vault")
    vault = synced(root)
    vault.write_tag_pages()
    assert (root / "Tags/rust (tag).md").exists()
    # a user's note named exactly like the page, and a note linking to it by that name
    write(root, "Notes/Rust (tag).md", "# Rust (tag)\nWhy I tag things rust.\n")
    write(root, "Notes/Index.md", "See [[Rust (tag)]].\n")
    vault.sync()
    result = vault.write_tag_pages()
    [(old, new)] = [(d, w) for d in result.deleted for w in result.written if "rust-" in w and "/" not in w[5:]]
    assert old == "Tags/rust (tag).md" and new.startswith("Tags/rust-") and new.endswith(" (tag).md")
    assert "Parent tag: [[" + new[:-3] + "|rust]]" in (root / "Tags/rust/ownership (tag).md").read_text(encoding="utf-8")
    vault.sync()
    assert [b.path for b in vault.backlinks("Notes/Rust (tag).md")] == ["Notes/Index.md"]
    assert not [p for p in vault.doctor().problems if p.code == "ambiguous-link"]
    assert vault.write_tag_pages().changed is False


def test_the_old_naming_scheme_still_never_clashes(tmp_path):
    root = named_like_notes(tmp_path / "vault")
    write(root, ".vaultindex/config.toml", '[tags]\nname = "{tag}"\n')
    before = link_state(root)
    result = run("--vault", str(root), "tags", "write")
    assert result.exit_code == 0, result.output
    written = result.stdout.split()
    assert "Tags/lang.md" not in written and "Tags/rust.md" not in written  # Lang.md, Rust.md exist
    assert "Tags/journal.md" in written
    assert link_state(root) == before
    for bad in ("{tag}/x", "x", "{tag} {tag}", ".{tag}", "{tag}.", "{tag} #x", "{name}"):
        failed = run("--vault", str(root), "tags", "write", "--name", bad)
        assert failed.exit_code == 1 and failed.stderr.splitlines()[-1].startswith("Error: tag page name"), bad


@pytest.mark.slow
def test_watch_renames_a_page_when_a_note_takes_its_name(tmp_path):
    from test_watch import Running

    root = named_like_notes(tmp_path / "vault")
    write(root, ".vaultindex/config.toml", '[tags]\nwatch = true\nname = "{tag}"\n')
    with Running(root) as w:
        w.wait(lambda: w.has("Tags/journal.md"), "pages written at start")  # no note is named journal yet
        assert any(p.startswith("Tags/prolog-") for p in w.state)  # Compiler/Prolog.md has that name
        write(root, "Notes/Journal.md", "# Journal\nMy own note named like the tag.\n")
        write(root, "Notes/Uses.md", "[[Journal]]\n")
        w.wait(lambda: w.has("Notes/Journal.md") and not w.has("Tags/journal.md")
               and any(p.startswith("Tags/journal-") for p in w.state), "the page renamed")
        assert not (root / "Tags/journal.md").exists()
    backlinks, problems = link_state(root)
    assert not [p for p in problems if p[0] == "ambiguous-link"]
    assert [b[0] for b in backlinks["Notes/Journal.md"]] == ["Notes/Uses.md"]


@pytest.mark.parametrize("template", ["{tag} (tag)", "{tag}"])
@pytest.mark.parametrize("name", ["academic-obsidian", "kevinywu-notes"])
def test_real_vaults_keep_their_backlinks_and_doctor_findings(tmp_path, name, template):
    import shutil

    from conftest import REPO

    # ../shared/corpora beside the checkout, or beside the folder of worktrees it sits in
    found = [c / name for c in (REPO.parent / "shared" / "corpora", REPO.parents[1] / "shared" / "corpora") if (c / name).is_dir()]
    if not found:
        pytest.skip(f"../shared/corpora/{name} is not here")
    root = tmp_path / name
    shutil.copytree(found[0], root)
    first = link_state(root)
    result = run("--vault", str(root), "tags", "write", "--json", "--name", template)
    assert result.exit_code == 0, result.output
    assert link_state(root) == first  # doctor's findings one by one, every note's backlinks link by link
    # A note made after the pages, named like a page: the next write moves the page away.
    note = "Inbox/" + template.replace("{tag}", "Topic") + ".md"
    write(root, note, "# Topic\nMy note about topics. [[Topic (tag)]] [[Topic]]\n")
    before = link_state(root)
    result = run("--vault", str(root), "tags", "write", "--json", "--name", template)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    after = link_state(root)
    assert after == before
    pages = [*data["written"], *data["unchanged"]]
    if name == "academic-obsidian":  # it tags 19 notes `topic`; kevinywu-notes has no tags
        assert any(p.startswith("Tags/topic-") for p in data["written"])
    keys = [name_key(p.rsplit("/", 1)[-1]) for p in pages]
    others = {name_key(p.name) for p in root.rglob("*") if p.is_file() and "Tags" not in p.relative_to(root).parts}
    assert len(set(keys)) == len(keys) and not set(keys) & others
    print(f"{name}, {template!r}: {len(pages)} pages, {len(first[1])} doctor findings, "
          f"{sum(len(b) for b in first[0].values())} backlinks, the same before and after")
