"""Sync-tool conflict copies: recognised by name beside their original, reported by doctor (an
error, so `doctor --strict` fails), and never a target of a bare name while another file has it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write
from vaultindex.resolve import Resolver, conflict_candidates, conflict_copy

SYNCTHING = "note.sync-conflict-20260101-120000-ABCDEFG.md"


@pytest.mark.parametrize(
    ("path", "others", "original", "tool"),
    [
        (SYNCTHING, {"note.md"}, "note.md", "Syncthing"),
        ("a/b/Paper X.sync-conflict-20251231-235959-Q2RSTU7.md", {"a/b/Paper X.md"}, "a/b/Paper X.md", "Syncthing"),
        ("fig.sync-conflict-20260101-120000-ABCDEFG.png", {"fig.png"}, "fig.png", "Syncthing"),
        ("README.sync-conflict-20260101-120000-ABCDEFG", {"README"}, "README", "Syncthing"),
        ("note (conflicted copy 2026-01-01).md", {"note.md"}, "note.md", "Dropbox"),
        ("note (Someone's conflicted copy 2026-01-01).md", {"note.md"}, "note.md", "Dropbox"),
        ("note (Ana María\u2019s conflicted copy 2026-01-01).md", {"note.md"}, "note.md", "Dropbox"),
        ("note (conflicted copy 2026-01-01 (1)).md", {"note.md"}, "note.md", "Dropbox"),
        ("note (conflicted copy 2026-01-01 120000).md", {"note.md"}, "note.md", "Nextcloud/ownCloud"),
        ("note (conflicted copy alice 2026-01-01 120000).md", {"note.md"}, "note.md", "Nextcloud/ownCloud"),
        ("note_conflict-20260101-120000.md", {"note.md"}, "note.md", "Nextcloud/ownCloud"),
        ("note-DESKTOP-AB12CD3.md", {"note.md"}, "note.md", "OneDrive"),
        ("Week plan-LAPTOP-9QX7K2M.md", {"Week plan.md"}, "Week plan.md", "OneDrive"),
        # no original beside it: never a conflict copy
        (SYNCTHING, set(), None, None),
        (SYNCTHING, {"other/note.md"}, None, None),
        ("a/note (conflicted copy 2026-01-01).md", {"note.md", "b/note.md"}, None, None),
        ("note-DESKTOP-AB12CD3.md", {"note-DESKTOP.md", "note-DESKTOP-AB12CD3.txt"}, None, None),
        # names that only look a little like one
        ("note-ICML.md", {"note.md"}, None, None),
        ("note-v2.md", {"note.md"}, None, None),
        ("note-DESKTOP.md", {"note.md"}, None, None),
        ("note-DESKTOP-ABCDEFG.md", {"note.md"}, None, None),  # Windows' own names hold a digit
        ("Kaplan-2020.md", {"Kaplan.md"}, None, None),
        ("note (copy).md", {"note.md"}, None, None),
        ("note (conflicted copy).md", {"note.md"}, None, None),
        ("note.sync-conflict-2026-ABCDEFG.md", {"note.md"}, None, None),
        ("note.sync-conflict-20260101-120000-abcdefg.md", {"note.md"}, None, None),
        (".sync-conflict-20260101-120000-ABCDEFG.md", {".md"}, None, None),
        ("note.md", {"note.md"}, None, None),
    ],
)
def test_conflict_copy_table(path, others, original, tool):
    found = conflict_copy(path, others)
    if original is None:
        assert found is None
    else:
        assert found is not None and (found.original, found.tool) == (original, tool)


_NAME = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=20)
_FORMS = [
    "{stem}.sync-conflict-20260101-120000-ABCDEFG{ext}",
    "{stem} (conflicted copy 2026-01-01){ext}",
    "{stem} (Bo's conflicted copy 2026-01-01){ext}",
    "{stem} (conflicted copy 2026-01-01 120000){ext}",
    "{stem}-DESKTOP-AB12CD3{ext}",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(_NAME, min_size=1, max_size=3), st.sets(_NAME, max_size=6))
def test_never_flags_a_name_without_its_original_beside_it(parts, siblings):
    path = "/".join(parts)
    folder = path.rpartition("/")[0]
    others = {f"{folder}/{s}" if folder else s for s in siblings} - {path}
    found = conflict_copy(path, others)
    if found is not None:
        assert found.original in others and found.original != path
        assert found.original.rpartition("/")[0] == folder  # beside it, never elsewhere
    assert conflict_copy(path, set()) is None


@settings(max_examples=300, deadline=None)
@given(_NAME.filter(lambda s: not s.startswith(".")), st.sampled_from([".md", ".png", ".canvas"]), st.sampled_from(_FORMS))
def test_every_tool_form_is_found_beside_its_original(stem, ext, form):
    copy = form.format(stem=stem, ext=ext)
    assert conflict_copy(f"dir/{copy}", {f"dir/{stem}{ext}"}) is not None
    assert (f"dir/{stem}{ext}" in {o for o, _ in conflict_candidates(f"dir/{copy}")})


def test_a_bare_name_skips_conflict_copies_while_another_file_has_it():
    copy = "A/x.sync-conflict-20260101-120000-ABCDEFG.md"
    lookalike = "B/x.sync-conflict-20260101-120000-ABCDEFG.md"  # no x.md beside it: a real note
    r = Resolver(["A/x.md", copy, lookalike])
    res = r.resolve("C/n.md", "x.sync-conflict-20260101-120000-ABCDEFG")
    assert (res.status, res.path) == ("resolved", lookalike)
    # without its original, the copy is an ordinary note again, and the name is ambiguous
    r.remove("A/x.md")
    assert r.resolve("C/n.md", "x.sync-conflict-20260101-120000-ABCDEFG").status == "ambiguous"
    # a copy alone still answers its own name (what Obsidian opens)
    alone = Resolver(["A/x.md", copy])
    assert alone.resolve("C/n.md", "x.sync-conflict-20260101-120000-ABCDEFG").path == copy


# ------------------------------------------------------------------------------------------
# end to end: doctor on a vault a sync tool has been at
# ------------------------------------------------------------------------------------------

ORIGINAL = "---\ntitle: Note\n---\n# Note\n\nFirst line.\nSecond line.\nSee [[Other]] and [[Missing#Nope]].\n"
COPIES = {
    SYNCTHING: ORIGINAL.replace("Second line.", "Second line, edited on the laptop.") + "A new last line.\n",
    "note (conflicted copy 2026-01-01).md": ORIGINAL,
    "note (Someone's conflicted copy 2026-01-01).md": ORIGINAL.replace("First line.\n", ""),
    "note (conflicted copy 2026-01-01 120000).md": ORIGINAL + "More.\n",
    "note-DESKTOP-AB12CD3.md": ORIGINAL.replace("First", "1st"),
}


def _vault(tmp_path):
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    write(root, "note.md", ORIGINAL)
    write(root, "Other.md", "# Other\nBack to [[note]].\n")
    write(root, "Missing.md", "# Missing\n")
    write(root, "Kaplan-2020.md", "# Kaplan 2020\n[[note]]\n")  # looks like nothing
    write(root, "Kaplan.md", "# Kaplan\n")
    write(root, "orphan.sync-conflict-20260101-120000-ABCDEFG.md", "# No original beside me\n")
    for name, text in COPIES.items():
        write(root, name, text)
    return root


def _cli(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "vaultindex", "--vault", str(root), *args], capture_output=True, text=True, timeout=120
    )


def test_doctor_reports_each_conflict_copy_with_what_differs(tmp_path):
    root = _vault(tmp_path)
    run = _cli(root, "doctor", "--json")
    assert run.returncode == 0, run.stderr
    problems = json.loads(run.stdout)["problems"]
    copies = {p["path"]: p for p in problems if p["code"] == "conflict-copy"}
    assert set(copies) == set(COPIES)  # the orphan and Kaplan-2020.md are not copies
    for p in copies.values():
        assert p["severity"] == "error" and p["target"] == "note.md"
        assert p["message"].startswith("a conflict copy of note.md (")
    assert "+2/-1 lines; first difference at line 7: 'Second line, edited on the laptop.'" in copies[SYNCTHING]["message"]
    assert "identical to it" in copies["note (conflicted copy 2026-01-01).md"]["message"]
    assert "+0/-1 lines; first difference at line 6: (removed) 'First line.'" in copies["note (Someone's conflicted copy 2026-01-01).md"]["message"]
    assert "+1/-0 lines" in copies["note (conflicted copy 2026-01-01 120000).md"]["message"]
    assert "(OneDrive)" in copies["note-DESKTOP-AB12CD3.md"]["message"]
    # the copies' own links are their original's: reported once, for note.md, not six times
    broken = [p for p in problems if p["code"] == "broken-heading"]
    assert [p["path"] for p in broken] == ["note.md"]


def test_doctor_strict_fails_on_a_conflict_copy_and_text_names_it(tmp_path):
    root = _vault(tmp_path)
    (root / "Missing.md").write_text("# Missing\n## Nope\n")  # the only other error gone
    run = _cli(root, "doctor", "--strict")
    assert run.returncode == 1
    assert f"error: {SYNCTHING}: a conflict copy of note.md (Syncthing): +2/-1 lines" in run.stdout
    assert "[conflict-copy]" in run.stdout
    for name in COPIES:
        (root / name).unlink()
    run = _cli(root, "doctor", "--strict")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "conflict" not in run.stdout


def test_conflict_copies_leave_backlinks_and_ambiguity_alone(tmp_path):
    root = _vault(tmp_path)
    # A copy beside its original, and a note of the same name elsewhere (nothing beside it):
    # the bare name opens the note, not ambiguously, because the copy is not a note of its own.
    write(root, "p/idea.md", "# Idea\n")
    write(root, "p/idea.sync-conflict-20260101-120000-ABCDEFG.md", "# Idea\n")
    write(root, "q/idea.sync-conflict-20260101-120000-ABCDEFG.md", "# A note named like a copy\n")
    write(root, "Uses.md", "[[idea.sync-conflict-20260101-120000-ABCDEFG]]\n")
    run = _cli(root, "doctor", "--json")
    problems = json.loads(run.stdout)["problems"]
    assert [p for p in problems if p["code"] == "ambiguous-link"] == []
    run = _cli(root, "links", "Uses", "--json")
    assert [link["path"] for link in json.loads(run.stdout)] == ["q/idea.sync-conflict-20260101-120000-ABCDEFG.md"]
    run = _cli(root, "backlinks", "note", "--json")
    assert run.returncode == 0, run.stderr
    assert {b["path"] for b in json.loads(run.stdout)} == {"Other.md", "Kaplan-2020.md"}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([
    "x.md", "a/x.md", "x.sync-conflict-20260101-120000-ABCDEFG.md", "a/x.sync-conflict-20260101-120000-ABCDEFG.md",
    "x (conflicted copy 2026-01-01).md", "b/x (conflicted copy 2026-01-01).md",
])), max_size=16))
def test_graph_kept_current_equals_a_fresh_build_as_copies_and_originals_come_and_go(ops):
    from vaultindex.doctor import diagnose
    from vaultindex.graph import LinkGraph
    from vaultindex.parse import parse_note

    linker = parse_note("n.md", "[[x]] [[x.sync-conflict-20260101-120000-ABCDEFG]] [[x (conflicted copy 2026-01-01)]]\n")
    graph = LinkGraph.build([linker])
    present: dict[str, object] = {"n.md": linker}
    for add, path in ops:
        if add:
            note = parse_note(path, "# x\n")
            graph.update([note], ())
            present[path] = note
        elif path in present:
            graph.update((), [path])
            del present[path]
    fresh = LinkGraph.build(present.values())
    assert graph.links("n.md") == fresh.links("n.md")
    assert diagnose(graph) == diagnose(fresh)
