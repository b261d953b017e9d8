"""writes.py: the MCP server's writes stay inside the vault, never replace a file, keep the note's text."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultindex.parse import parse_note
from vaultindex.writes import WriteRefused, add_tag, append_to_note, create_note, fill_template, safe_note_path


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / "papers").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    return root


_part = st.one_of(st.sampled_from(["..", ".", "", "out", "papers", ".obsidian", "~", "C:", "a b", "%2e%2e"]),
                  st.text(alphabet="ab./\\~:-", min_size=1, max_size=6))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_part, min_size=1, max_size=5), st.booleans())
def test_a_path_is_refused_or_lands_inside_the_vault(vault, parts, absolute):
    rel = ("/" if absolute else "") + "/".join(parts)
    try:
        clean, target = safe_note_path(vault, rel)
    except WriteRefused:
        return
    real = vault.resolve()
    assert target.parent.resolve(strict=False).is_relative_to(real) or not target.parent.exists()
    assert str(target).startswith(str(real) + os.sep)
    assert not clean.startswith("/") and ".." not in clean.split("/") and clean.endswith(".md")
    assert not any(p.startswith(".") for p in clean.split("/"))
    here = real
    for part in clean.split("/")[:-1]:  # no symlink on the way
        here = here / part
        assert not here.is_symlink()


def test_create_never_replaces_and_refuses_escapes(vault, tmp_path):
    (vault / "papers" / "A.md").write_text("mine\n")
    with pytest.raises(WriteRefused, match="already exists"):
        create_note(vault, "papers/A.md", "x")
    assert (vault / "papers" / "A.md").read_text() == "mine\n"
    for bad in ["../x.md", "/etc/x.md", "out/x.md", "papers/../../x.md", ".trash/x.md", "a:b.md"]:
        with pytest.raises(WriteRefused):
            create_note(vault, bad, "x")
    assert list((tmp_path / "outside").iterdir()) == []
    made = create_note(vault, "new/folder/B", "hello", {"title": "B", "year": None, "tags": ["x"]})
    assert made.path == "new/folder/B.md"
    text = (vault / made.path).read_text()
    assert text == "---\ntitle: B\nyear:\ntags:\n- x\n---\nhello\n"
    assert not [p for p in (vault / "new" / "folder").iterdir() if p.name.startswith(".")]  # no temp file left


def test_template_variables_and_properties(vault):
    (vault / "Templates").mkdir()
    (vault / "Templates" / "Paper.md").write_text('---\ntitle: "{{title}}"\nstatus: to-read\ntags: [t]\n---\n# {{title}}\nRead on {{date:YYYY-MM-DD}}.\n')
    made = create_note(vault, "papers/LoRA 2", template="Paper", frontmatter={"tags": ["peft"]}, now=datetime(2026, 1, 2, 3, 4))
    note = parse_note(made.path, (vault / made.path).read_text())
    assert note.title == "LoRA 2" and note.frontmatter["status"] == "to-read" and note.tags == ("peft",)
    assert "# LoRA 2\nRead on 2026-01-02." in (vault / made.path).read_text()
    assert fill_template("{{time}} {{Title}} {{other}}", "T", datetime(2026, 1, 2, 3, 4)) == "03:04 T {{other}}"
    with pytest.raises(WriteRefused, match="no template"):
        create_note(vault, "papers/C", template="Nope")


@pytest.mark.parametrize(
    "before",
    [
        "---\ntitle: A\ntags:\n  - ml\n  - nlp\nyear: 2020\n---\nbody #inline\n",
        "---\ntitle: A\ntags: [ml, nlp]\nyear: 2020\n---\nbody\n",
        "---\ntitle: A\ntags: ml, nlp\n---\nbody\n",
        "---\ntitle: A\ntags: ml nlp\n---\nbody\n",
        "---\ntitle: A # a comment\n---\nbody\n",
        "---\ntitle: A\ntags:\n---\nbody\n",
        "no frontmatter at all\n",
        "---\r\ntitle: A\r\ntags: [ml]\r\n---\r\nwindows\r\n",
    ],
)
def test_add_tag_keeps_everything_else(vault, before):
    path = vault / "papers" / "A.md"
    path.write_bytes(before.encode())
    old = parse_note("papers/A.md", before.replace("\r\n", "\n"))
    add_tag(vault, "papers/A.md", "#zoo/oceania")
    after = path.read_bytes().decode()
    new = parse_note("papers/A.md", after.replace("\r\n", "\n"))
    assert {"zoo", "zoo/oceania"} <= set(new.tags) and set(old.tags) <= set(new.tags)
    assert {k: v for k, v in new.frontmatter.items() if k != "tags"} == {k: v for k, v in old.frontmatter.items() if k != "tags"}
    assert after.endswith(before.split("---")[-1] if "---" in before else before)  # the body untouched
    assert ("\r\n" in after) == ("\r\n" in before)
    assert add_tag(vault, "papers/A.md", "Zoo/Oceania").changed is False


def test_bad_tags_and_appends(vault, tmp_path):
    (vault / "papers" / "A.md").write_text("text")
    for bad in ["two words", "1984", "", "#", "a,b", "/x"]:
        with pytest.raises(WriteRefused):
            add_tag(vault, "papers/A.md", bad)
    append_to_note(vault, "papers/A.md", "- more\n")
    assert (vault / "papers" / "A.md").read_text() == "text\n- more\n"
    (tmp_path / "outside" / "t.md").write_text("outside")
    (vault / "papers" / "link.md").symlink_to(tmp_path / "outside" / "t.md")
    with pytest.raises(WriteRefused):
        append_to_note(vault, "papers/link.md", "x")
    assert (tmp_path / "outside" / "t.md").read_text() == "outside"


def test_note_create_works_where_hard_links_cannot_be_made(vault, monkeypatch):
    # exFAT, some network shares and FUSE file systems refuse hard links (EPERM): a note is still
    # created, and still never over an existing one
    import errno
    import os

    from vaultindex import fsutil

    def no_link(*args, **kwargs):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(fsutil.os, "link", no_link)
    made = create_note(vault, "papers/Linkless", "hello")
    assert (vault / made.path).read_text() == "hello\n"
    with pytest.raises(WriteRefused, match="already exists"):
        create_note(vault, "papers/Linkless", "again")
    assert (vault / made.path).read_text() == "hello\n"
