"""A template is never a citation's target: `[@paper]` is not the template `templates/Paper.md`
(kevinywu-notes keeps its templates in `templates/`, set in .obsidian/templates.json), in the
store's link rows, in the graph, in `@key` lookups and in `references`, synced whole or one
change at a time. A real note named after the key still is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultindex import Vault
from vaultindex.cli import cli
from vaultindex.errors import NoteNotFound

# kevinywu-notes' templates/Paper.md, shortened: no frontmatter, an example arXiv link
PAPER_TEMPLATE = "# Paper Title\n\n**Authors**: Automatically generated\n\n[Paper](http://arxiv.org/abs/1706.03762)\n"


def _vault(root: Path, folder: str | None) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    if folder is not None:
        (root / ".obsidian" / "templates.json").write_text(json.dumps({"folder": folder + "/"}), encoding="utf-8")
    where = root / (folder or "Templates")
    where.mkdir(parents=True)
    (where / "Paper.md").write_text(PAPER_TEMPLATE, encoding="utf-8")
    (where / "vaswani2017.md").write_text("# {{title}}\n", encoding="utf-8")
    (root / "note.md").write_text("# Reading\n\nSee [@paper], [@Paper] and [@vaswani2017].\n", encoding="utf-8")
    return root


def _run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--vault", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _cites(root: Path) -> dict[str, str | None]:
    """citation key (folded) -> the note it resolves to."""
    return {link["target"].lower(): link["path"] for link in json.loads(_run(root, "links", "note.md", "--json"))}


@pytest.mark.parametrize("folder", ["templates", None, "Meta/Templates"])
def test_a_citation_never_resolves_to_a_template(tmp_path: Path, folder: str | None) -> None:
    root = _vault(tmp_path / "v", folder)
    _run(root, "sync")
    assert _cites(root) == {"paper": None, "vaswani2017": None}
    where = folder or "Templates"
    assert json.loads(_run(root, "backlinks", f"{where}/Paper.md", "--json")) == []
    vault = Vault.open(root)
    assert not [e for e in vault.graph.links("note.md") if e.path and e.path.startswith(where)]
    with pytest.raises(NoteNotFound):
        vault.cited_node("paper")
    unresolved = _run(root, "unresolved")
    assert "@paper" in unresolved and "@vaswani2017" in unresolved


def test_a_template_added_or_moved_later_changes_nothing_and_a_real_note_still_answers(tmp_path: Path) -> None:
    root = tmp_path / "v"
    (root / ".obsidian").mkdir(parents=True)
    (root / ".obsidian" / "templates.json").write_text('{"folder": "templates/"}', encoding="utf-8")
    (root / "note.md").write_text("See [@paper].\n", encoding="utf-8")
    _run(root, "sync")
    (root / "templates").mkdir()
    (root / "templates" / "Paper.md").write_text(PAPER_TEMPLATE, encoding="utf-8")
    _run(root, "sync")
    assert _cites(root) == {"paper": None}
    (root / "templates" / "Paper.md").rename(root / "Paper.md")  # out of the templates folder: a note
    _run(root, "sync")
    assert _cites(root) == {"paper": "Paper.md"}
    assert Vault.open(root).cited_node("paper") == "Paper.md"
    (root / "Paper.md").rename(root / "templates" / "Paper.md")
    _run(root, "sync")
    assert _cites(root) == {"paper": None}
    _run(root, "sync", "--full")
    assert _cites(root) == {"paper": None}
