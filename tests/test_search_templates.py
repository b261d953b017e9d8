"""Notes in the templates folder (Obsidian's core Templates plugin: `.obsidian/templates.json`,
else `Templates/`) are templates, not papers: search leaves them out unless a path: filter
names the folder."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from vaultindex.cli import cli

TEMPLATE = "---\ntitle: \"{{title}}\"\ntags: [paper]\n---\n# {{title}}\n\n## Data pruning\n\nWhat data pruning does here.\n"
PAPER = "---\ntitle: Beyond neural scaling laws\n---\n# Summary\n\nData pruning beats power-law scaling.\n"


def found(root: Path, *query: str) -> list[str]:
    result = CliRunner().invoke(cli, ["--vault", str(root), "search", "--paths", *query])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def vault(tmp_path: Path, folder: str, configured: bool) -> Path:
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    if configured:
        (root / ".obsidian" / "templates.json").write_text(json.dumps({"folder": folder}), encoding="utf-8")
    for rel, text in ((f"{folder}/Paper template.md", TEMPLATE), ("papers/Beyond.md", PAPER)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_the_templates_folder_is_left_out_of_search(tmp_path: Path) -> None:
    root = vault(tmp_path, "Templates", configured=False)
    assert found(root, "data pruning") == ["papers/Beyond.md"]


def test_the_folder_obsidian_is_set_to_is_the_one_left_out(tmp_path: Path) -> None:
    root = vault(tmp_path, "Meta/Templates", configured=True)
    assert found(root, "data pruning") == ["papers/Beyond.md"]


def test_a_path_filter_naming_the_folder_finds_the_templates(tmp_path: Path) -> None:
    root = vault(tmp_path, "Meta/Templates", configured=True)
    assert found(root, "path:Meta/Templates/", "pruning") == ["Meta/Templates/Paper template.md"]
    assert found(root, "path:Meta", "pruning") == ["Meta/Templates/Paper template.md"]
