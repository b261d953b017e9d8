"""Vault discovery, config.toml, ignore rules and scanning."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


# -- user-supplied patterns can never hang vaultindex (issue 13, item 3) ---------------------------

EVIL = "/^(a|aa)+$/"  # exponential on a backtracking engine: 40 a's and a non-match take minutes


def _evil_vault(root, filters):
    write(root, ".obsidian/app.json", json.dumps({"userIgnoreFilters": filters}))
    write(root, "a" * 40 + "/note.md", "# Deep\n")  # the folder's path "aaa...a/" fails to match
    write(root, "kept.md", "# Kept\n")
    return root


def test_a_catastrophic_obsidian_regex_runs_in_linear_time(tmp_path):
    import time

    cfg = load_config(_evil_vault(tmp_path, [EVIL]))
    started = time.perf_counter()
    result = scan(tmp_path, cfg)
    assert time.perf_counter() - started < 1.0
    assert set(result.notes) == {"a" * 40 + "/note.md", "kept.md"}
    assert cfg.warnings == () and cfg.obsidian_ignore == (EVIL,)  # honoured, not skipped
    assert cfg.is_excluded("a" * 40) and not cfg.is_excluded("a" * 40 + "/")


@pytest.mark.parametrize(
    ("rule", "reason"),
    [("/(a)\\1/", "backreference"), ("/x(?=y)/", "lookaround"), ("/[unclosed/", "RE2 cannot run it")],
)
def test_a_pattern_that_cannot_run_safely_is_skipped_with_a_warning(tmp_path, rule, reason):
    cfg = load_config(_evil_vault(tmp_path, [rule, "kept-folder/"]))
    assert cfg.obsidian_ignore == ("kept-folder/",)
    assert len(cfg.warnings) == 1 and ".obsidian/app.json" in cfg.warnings[0] and json.dumps(rule) in cfg.warnings[0]
    assert reason in cfg.warnings[0]


def test_without_re2_only_patterns_that_cannot_backtrack_badly_run(tmp_path, monkeypatch):
    import builtins
    import time

    from vaultindex import config

    real_import = builtins.__import__

    def no_re2(name, *args, **kwargs):
        if name == "re2":
            raise ImportError("no re2 here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_re2)
    config._compile_filter.cache_clear()
    try:
        safe = ["/^Templates\\//", "/\\.excalidraw\\.md$/", "/^(?:daily|weekly)\\/.*/", "/(foo|bar)?zz/"]
        unsafe = [EVIL, "/(a+)+$/", "/(a?)+b/", "/(x{2,})*/", "/(a)\\1/", "/a*b*c*d*e/"]
        cfg = load_config(_evil_vault(tmp_path, safe + unsafe))
        assert cfg.obsidian_ignore == tuple(safe)
        assert [w.split('"', 2)[1] for w in cfg.warnings] == [u.replace("\\", "\\\\") for u in unsafe]
        assert all("without RE2" in w for w in cfg.warnings if "backreference" not in w)
        started = time.perf_counter()
        scan(tmp_path, cfg)
        assert time.perf_counter() - started < 1.0
        assert cfg.is_excluded("notes/x.excalidraw.md") and not cfg.is_excluded("notes/x.md")
    finally:
        config._compile_filter.cache_clear()


def test_config_globs_are_linear_too(tmp_path):
    import time

    cfg = Config(exclude=("*a*a*a*a*a*a*a*a*a*a*b",))
    started = time.perf_counter()
    assert not cfg.is_excluded("a" * 5000)
    assert time.perf_counter() - started < 0.5


def test_a_skipped_pattern_is_reported_by_every_command(tmp_path):
    from click.testing import CliRunner

    from vaultindex.cli import cli

    _evil_vault(tmp_path, ["/(a)\\1/"])
    result = CliRunner().invoke(cli, ["--vault", str(tmp_path), "search", "deep", "--paths"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["a" * 40 + "/note.md"]
    assert 'warning: .obsidian/app.json: Excluded files pattern "/(a)\\\\1/" is skipped' in result.stderr


def test_the_fallback_to_the_working_folder_is_flagged_and_never_the_home_folder(tmp_path, monkeypatch):
    from vaultindex.config import locate_vault

    plain = tmp_path / "plain"
    plain.mkdir()
    assert locate_vault(start=plain).fallback and locate_vault(start=plain).root == plain
    (plain / ".obsidian").mkdir()
    assert not locate_vault(start=plain).fallback
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(VaultNotFound, match="your home folder"):
        find_vault(start=tmp_path)
    with pytest.raises(VaultNotFound, match="root"):
        find_vault(start=Path("/"))
    assert find_vault(tmp_path) == tmp_path  # given explicitly: taken
