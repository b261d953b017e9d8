"""Vault discovery, config.toml, ignore rules and scanning."""

from __future__ import annotations

import json
import os

import pytest

from conftest import write
from vaultindex.config import Config, find_vault, load_config
from vaultindex.errors import ConfigError, VaultNotFound
from vaultindex.scan import FileInfo, diff, scan


def test_find_vault_walks_up_to_a_marker(tmp_path):
    (tmp_path / "v" / ".obsidian").mkdir(parents=True)
    deep = tmp_path / "v" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_vault(start=deep) == tmp_path / "v"
    assert find_vault(start=tmp_path) == tmp_path  # no marker: the working directory


def test_find_vault_rejects_missing_and_non_folders(tmp_path):
    (tmp_path / "file.md").write_text("x")
    with pytest.raises(VaultNotFound, match="does not exist"):
        find_vault(tmp_path / "nope")
    with pytest.raises(VaultNotFound, match="not a folder"):
        find_vault(tmp_path / "file.md")


def test_config_values_and_defaults(tmp_path):
    assert load_config(tmp_path) == Config()
    write(
        tmp_path,
        ".vaultindex/config.toml",
        'exclude = ["drafts/"]\nmax_file_size = "1MB"\n[tags]\ndir = "Index"\nsort = "year"\n',
    )
    cfg = load_config(tmp_path)
    assert cfg.exclude == ("drafts/",) and cfg.max_file_size == 1024 * 1024
    assert cfg.tags.dir == "Index" and cfg.tags.sort == "year" and cfg.tags.min_count == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("exclude = 3", "exclude must be a list"),
        ("max_file_size = \"lots\"", "max_file_size"),
        ("[tags]\nsort = \"random\"", "sort must be"),
        ("[tags]\nmin_count = \"2\"", "min_count must be int"),
        ("not toml at all = = =", "cannot be read"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    write(tmp_path, ".vaultindex/config.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_scan_honours_ignored_folders_obsidian_filters_and_config(tmp_path):
    for rel in [
        "a.md", "papers/b.md", "fig.png", ".obsidian/x.md", ".trash/t.md", ".git/g.md",
        ".vaultindex/v.md", "drafts/d.md", "Templates/t.md", "notes/x.excalidraw.md", ".hidden.md",
    ]:
        write(tmp_path, rel, "# x\n")
    write(tmp_path, ".obsidian/app.json", json.dumps({"userIgnoreFilters": ["Templates/"]}))
    write(tmp_path, ".vaultindex/config.toml", 'exclude = ["drafts/", "*.excalidraw.md"]\n')
    result = scan(tmp_path, load_config(tmp_path))
    assert set(result.notes) == {"a.md", "papers/b.md"}
    assert result.attachments == {"fig.png"}
    assert result.excluded == {"drafts/d.md", "Templates/t.md", "notes/x.excalidraw.md"}


def test_scan_reports_problems_and_goes_on(tmp_path):
    write(tmp_path, "ok.md", "# ok\n")
    write(tmp_path, "big.md", "x" * 2000)
    os.symlink(tmp_path / "missing.md", tmp_path / "broken.md")
    (tmp_path / "loop").mkdir()
    os.symlink(tmp_path / "loop", tmp_path / "loop" / "again")
    result = scan(tmp_path, Config(max_file_size=1000))
    assert set(result.notes) == {"ok.md"}
    messages = {d.path: d.message for d in result.diagnostics}
    assert "larger than max_file_size" in messages["big.md"]
    assert "broken symlink" in messages["broken.md"]
    assert "symlink loop" in messages["loop/again"]


def test_diff_is_pure_and_exact():
    disk = {"a.md": FileInfo(1, 1), "b.md": FileInfo(2, 2), "c.md": FileInfo(3, 3)}
    indexed = {"b.md": FileInfo(2, 2), "c.md": FileInfo(3, 4), "d.md": FileInfo(4, 4)}
    changes = diff(disk, indexed)
    assert (changes.added, changes.modified, changes.removed) == (("a.md",), ("c.md",), ("d.md",))
