"""One count of notes everywhere: the vault's own notes, with vaultindex's tag pages counted apart
(`sync`'s line and --json, the line a query prints after syncing, `info` and --json, the MCP
`info` tool). On academic-obsidian with tag pages written, `info` said 66 and `sync` 54 (+12)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from vaultindex import Vault
from vaultindex.cli import cli
from vaultindex.mcp import VaultService, do_info

# academic-obsidian's pattern: concept notes with a tag each, a few linked papers
NOTES = {
    "logic.md": "---\naliases: []\n---\n\nThe study of reasoning.\n\n---\n#concept\n",
    "fuzzy logic.md": "---\nisA: '[[logic]]'\n---\n\nDegrees of truth.\n\n---\n#concept\n",
    "t-norm.md": "A [[fuzzy logic]] conjunction.\n\n#concept #math\n",
    "Emile van Krieken.md": "---\nworksIn: []\n---\n\n---\n#author\n",
    "Logic tensor networks.md": "---\nauthor: '[[Emile van Krieken]]'\nyear: 2016\n---\n\nA [[t-norm]] in a network.\n\n#source/paper\n",
}


def _run(root: Path, *args: str):
    result = CliRunner().invoke(cli, ["--vault", str(root), *args])
    assert result.exit_code == 0, result.output
    return result


def test_every_count_is_of_the_vaults_own_notes(tmp_path: Path) -> None:
    root = tmp_path / "academic"
    (root / ".obsidian").mkdir(parents=True)
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    _run(root, "sync")
    _run(root, "tags", "write")
    pages = len(list((root / "Tags").rglob("*.md")))
    assert pages >= 4  # concept, math, author, source, source/paper

    synced = _run(root, "sync", "--json")
    assert f"5 notes (+{pages} tag pages)" in synced.stderr
    data = json.loads(synced.stdout)
    assert (data["notes"], data["tag_pages"]) == (5, pages)

    info = json.loads(_run(root, "info", "--json").stdout)
    assert (info["notes"], info["tag_pages"]) == (5, pages)
    assert f"notes:      5 (+{pages} tag pages)" in _run(root, "info").stdout

    (root / "sigmoid.md").write_text("A [[function]].\n", encoding="utf-8")
    query = _run(root, "backlinks", "sigmoid.md")  # syncs first, and says so in one line
    assert f"6 notes (+{pages} tag pages)" in query.stderr

    data, text = do_info(VaultService(str(root), watch=False), Vault.open(root))
    assert (data["notes"], data["tag_pages"]) == (6, pages)
    assert f"6 notes (+{pages} tag pages)" in text


def test_without_tag_pages_the_counts_say_nothing_of_them(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / ".obsidian").mkdir()
    synced = _run(tmp_path, "sync", "--json")
    assert "tag page" not in synced.stderr and json.loads(synced.stdout)["tag_pages"] == 0
    assert json.loads(_run(tmp_path, "info", "--json").stdout)["notes"] == 1
    assert "tag page" not in _run(tmp_path, "info").stdout
