"""The CLI frame, `sync` and `search`: output formats, exit codes, errors without tracebacks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from vaultindex import __version__
from vaultindex.cli import cli

BEYOND = "papers/Beyond neural scaling laws.md"


def run(*args, env=None, cwd=None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_version_and_help():
    assert __version__ in run("--version").output
    result = run("--help")
    assert result.exit_code == 0
    for command in ("sync", "search"):
        assert command in result.output
    assert "Examples" in run("search", "--help").output


@pytest.mark.parametrize("bad", ["does/not/exist", "pyproject.toml"])
def test_a_vault_path_that_is_not_a_folder_is_one_error_line(bad):
    result = run("--vault", bad, "sync")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_sync_json_prints_stats_on_stdout(example_copy):
    result = CliRunner().invoke(cli, ["--vault", str(example_copy), "sync", "--json"])
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["added"] == stats["notes"] > 30
    assert any("Broken frontmatter draft.md" in w for w in stats["warnings"])
    assert "Indexed" in result.stderr and "warning" in result.stderr


def test_search_formats(example_copy):
    base = ["--vault", str(example_copy), "search", "data pruning"]
    runner = CliRunner()
    as_json = json.loads(runner.invoke(cli, [*base, "--json"]).stdout)
    assert as_json[0]["path"] == BEYOND
    assert {"path", "title", "score", "snippet", "tags", "year", "authors"} <= set(as_json[0])
    assert "\x01" not in as_json[0]["snippet"]
    lines = runner.invoke(cli, [*base, "--nl", "--limit", "3"]).stdout.splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["path"] == BEYOND
    paths = runner.invoke(cli, [*base, "--paths"]).stdout.splitlines()
    assert paths[0] == BEYOND and all(not os.path.isabs(p) for p in paths)
    table = runner.invoke(cli, base).stdout
    assert table.lstrip().startswith("1. Beyond neural scaling laws")


def test_typo_suggestion_goes_to_stderr(example_copy):
    result = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "prunning", "--paths"])
    assert result.exit_code == 0
    assert 'did you mean "pruning"?' in result.stderr
    assert result.stdout.splitlines()[0] == BEYOND


def test_malformed_query_is_an_error_line_and_exit_1(example_copy):
    result = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", '"unclosed'])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("Error: unbalanced quote")
    assert "Traceback" not in result.stderr


def test_no_hits_exits_0_with_a_note_on_stderr(example_copy):
    result = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "zzyzx", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert "No notes match" in result.stderr


def test_vault_from_environment_and_from_the_working_directory(example_copy):
    result = CliRunner().invoke(cli, ["search", "EWC", "--paths"], env={"VAULTINDEX_VAULT": str(example_copy)})
    assert result.stdout.splitlines()[0] == "papers/EWC - Overcoming catastrophic forgetting.md"
    # Walking up from a subfolder finds the vault by its .obsidian/ folder.
    proc = subprocess.run(
        [sys.executable, "-m", "vaultindex", "search", "EWC", "--paths"],
        cwd=example_copy / "papers" / "kaplan",
        capture_output=True,
        text=True,
        env={**os.environ, "VAULTINDEX_VAULT": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "papers/EWC - Overcoming catastrophic forgetting.md"


def test_internal_errors_hide_the_traceback_unless_debugging(example_copy, monkeypatch):
    from vaultindex import vault as vault_module

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(vault_module.Vault, "search", boom)
    result = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "x"])
    assert result.exit_code == 1 and "Error: internal error: RuntimeError: boom" in result.stderr
    debug = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "x"], env={"VAULTINDEX_DEBUG": "1"})
    assert isinstance(debug.exception, RuntimeError)


def test_search_while_another_process_holds_the_write_lock(example_copy):
    from vaultindex import Vault

    Vault.open(example_copy).sync()
    holder = Vault.open(example_copy)
    holder._lock.acquire("watch")
    try:
        (example_copy / "papers" / "New.md").write_text("# Zebrafish pruning\n")
        result = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "data pruning", "--paths"])
        assert result.exit_code == 0
        assert result.stdout.splitlines()[0] == BEYOND  # answered from what is indexed
        blocked = CliRunner().invoke(cli, ["--vault", str(example_copy), "sync", "--wait", "0"])
        assert blocked.exit_code == 1 and "a vaultindex watch is running" in blocked.stderr
        assert f"pid {os.getpid()}" in blocked.stderr
    finally:
        holder._lock.release()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_long_work_shows_a_bar_then_says_what_still_runs(monkeypatch):
    from vaultindex.cli.base import PROGRESS_MIN, progress_bar

    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    total = max(PROGRESS_MIN, 10) * 2
    with progress_bar() as progress:
        for done in range(1, total + 1):
            progress(done, total)
    shown = err.getvalue()
    assert "Indexing" in shown and "100%" in shown
    assert shown.rstrip().endswith("Writing the index...")


def test_short_work_or_a_pipe_shows_no_bar(monkeypatch):
    from vaultindex.cli.base import PROGRESS_MIN, progress_bar

    for err, total in ((_Terminal(), max(PROGRESS_MIN - 1, 1)), (io.StringIO(), PROGRESS_MIN * 2)):
        monkeypatch.setattr(sys, "stderr", err)
        with progress_bar() as progress:
            for done in range(1, total + 1):
                progress(done, total)
        assert err.getvalue() == ""
