"""The CLI frame, `sync` and `search`: output formats, exit codes, errors without tracebacks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

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
        beside = CliRunner().invoke(cli, ["--vault", str(example_copy), "sync", "--wait", "0"])
        assert beside.exit_code == 0 and f"A vaultindex watch (pid {os.getpid()}) keeps this index current" in beside.stderr
        blocked = CliRunner().invoke(cli, ["--vault", str(example_copy), "sync", "--full", "--wait", "0"])
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


# -- outside a vault (issue 12, item 8) ------------------------------------------------------------

def _vaultindex(*args, cwd, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "vaultindex", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "VAULTINDEX_VAULT": "", **(env or {})},
    )


def test_a_folder_taken_as_a_vault_by_fallback_is_named_on_stderr(tmp_path):
    folder = tmp_path / "checkout"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "readme.md").write_text("# Readme\nabout pruning\n")
    for _ in range(2):
        proc = _vaultindex("search", "pruning", "--paths", cwd=folder / "docs")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == ["readme.md"]
        note = [line for line in proc.stderr.splitlines() if line.startswith("Note:")]
        assert len(note) == 1 and str(folder / "docs") in note[0]
        assert "--vault" in note[0] and "VAULTINDEX_VAULT" in note[0]
        # Said every time the working folder is taken; an index kept in the folder itself
        # (.vaultindex/) marks it as a vault from then on.
        if (folder / "docs" / ".vaultindex").is_dir():
            break
    # Inside a real vault (or with --vault / the environment) nothing is said.
    (folder / ".obsidian").mkdir()
    assert "Note:" not in _vaultindex("search", "pruning", cwd=folder).stderr
    (folder / ".obsidian").rmdir()
    assert "Note:" not in _vaultindex("--vault", ".", "search", "pruning", cwd=folder).stderr
    assert "Note:" not in _vaultindex("search", "pruning", cwd=tmp_path, env={"VAULTINDEX_VAULT": str(folder)}).stderr


def test_the_home_folder_or_root_is_refused_unless_given_explicitly(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "todo.md").write_text("# Todo\npruning\n")
    for cwd in (home, Path("/")):
        proc = _vaultindex("search", "pruning", cwd=cwd, env={"HOME": str(home)})
        assert proc.returncode == 1, proc.stdout
        assert proc.stderr.startswith("Error: no vault here") and "Traceback" not in proc.stderr
        assert "--vault" in proc.stderr and "VAULTINDEX_VAULT" in proc.stderr
    assert not (home / ".vaultindex").exists()  # nothing was written
    explicit = _vaultindex("--vault", str(home), "search", "pruning", "--paths", cwd=home, env={"HOME": str(home)})
    assert explicit.returncode == 0 and explicit.stdout.splitlines() == ["todo.md"]
    from_env = _vaultindex("search", "pruning", "--paths", cwd=home, env={"HOME": str(home), "VAULTINDEX_VAULT": "~"})
    assert from_env.returncode == 0 and from_env.stdout.splitlines() == ["todo.md"], from_env.stderr


# -- VAULTINDEX_DEBUG=1 (issue 12, item 9) ---------------------------------------------------------

def test_debug_shows_the_traceback_of_a_library_error_too(tmp_path):
    plain = _vaultindex("--vault", str(tmp_path / "nope"), "sync", cwd=tmp_path)
    assert plain.returncode == 1 and plain.stderr.startswith("Error: vault folder") and "Traceback" not in plain.stderr
    debug = _vaultindex("--vault", str(tmp_path / "nope"), "sync", cwd=tmp_path, env={"VAULTINDEX_DEBUG": "1"})
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr and "VaultNotFound" in debug.stderr


# -- shell completion (issue 12, item 9) -----------------------------------------------------------

def _complete(words: str, cwd, env=None):
    """What bash completion offers for the last word of `words`, the way click is asked by the shell."""
    parts = words.split(" ")
    proc = subprocess.run(
        [sys.executable, "-m", "vaultindex"],
        cwd=cwd, capture_output=True, text=True, timeout=60,
        env={**os.environ, "VAULTINDEX_VAULT": "", "_VAULTINDEX_COMPLETE": "bash_complete",
             "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1), **(env or {})},
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return [line.split(",", 1) for line in proc.stdout.splitlines() if line]


def _tree(*roots):
    return {
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for root in roots for p in Path(root).rglob("*")
    }


def test_note_arguments_complete_from_the_index_without_writing(example_copy, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {"XDG_CACHE_HOME": str(cache)}
    # No index yet: nothing offered, and nothing written.
    before = _tree(example_copy, cache)
    assert _complete("vaultindex backlinks Bey", cwd=example_copy, env=env) == []
    assert _tree(example_copy, cache) == before
    assert CliRunner().invoke(cli, ["--vault", str(example_copy), "sync"], env=env).exit_code == 0
    before = _tree(example_copy, cache)
    offers = _complete("vaultindex backlinks Bey", cwd=example_copy, env=env)
    assert ["plain", "Beyond neural scaling laws"] in offers
    assert all(value.casefold().startswith("bey") for _, value in offers)
    # Titles and aliases too, whatever the case typed; paths once a `/` is typed; --vault and env work.
    assert ["plain", "papers/Beyond neural scaling laws.md"] in _complete(
        f"vaultindex --vault {example_copy} related papers/bey", cwd=tmp_path, env=env
    )
    assert _complete("vaultindex path LoRA be", cwd=tmp_path, env={**env, "VAULTINDEX_VAULT": str(example_copy)})
    assert _tree(example_copy, cache) == before  # completion never writes the index


def test_vault_option_completes_folders(tmp_path):
    assert _complete("vaultindex --vault no", cwd=tmp_path) == [["dir", "no"]]


# -- Ctrl-C (issue 13, item 3) ---------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.6, 2.5])
def test_ctrl_c_stops_a_command_within_a_second_without_a_traceback(tmp_path, delay):
    import random
    import signal
    import time

    rng = random.Random(7)
    words = [f"word{i}" for i in range(2000)]
    vault = tmp_path / "big"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "app.json").write_text(json.dumps({"userIgnoreFilters": ["/^(a|aa)+$/"]}))
    (vault / ("a" * 40)).mkdir()
    # Enough notes that the command is still at work after the longer delay on a fast, quiet
    # machine (1,500 were done in under 2.5 s), and that Whoosh's multi-process writer runs.
    for i in range(4000):
        (vault / f"note {i}.md").write_text(f"# Note {i}\n" + " ".join(rng.choices(words, k=300)) + "\n")
    # A terminal sends Ctrl-C to the whole process group: Whoosh's sub-writers get it too.
    proc = subprocess.Popen(
        [sys.executable, "-m", "vaultindex", "--vault", str(vault), "search", "word1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "VAULTINDEX_DEBUG": ""},
    )
    try:
        time.sleep(delay)
        assert proc.poll() is None, "the command ended before it could be interrupted"
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("still running 10 s after Ctrl-C")
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert took < 1.0, f"{took:.2f} s after Ctrl-C"
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == "Interrupted."


def _search_paths(vault: Path, *args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["--vault", str(vault), "search", *args])
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line]


def test_a_dash_word_in_the_query_excludes_it_and_is_no_option(example_copy):
    with_lottery = _search_paths(example_copy, "--paths", "pruning")
    expected = _search_paths(example_copy, "--paths", "pruning NOT lottery")
    assert "papers/Lottery ticket hypothesis.md" in with_lottery
    assert "papers/Lottery ticket hypothesis.md" not in expected
    assert _search_paths(example_copy, "--paths", "pruning", "-lottery") == expected
    assert _search_paths(example_copy, "-lottery", "pruning", "--paths") == expected
    assert _search_paths(example_copy, "--paths", "--", "-lottery", "pruning") == expected
    # the command's own options still work beside a dash-word, short or long, value apart or attached
    assert _search_paths(example_copy, "-n", "2", "-lottery", "pruning", "--paths") == expected[:2]
    assert _search_paths(example_copy, "-n2", "--paths", "pruning", "-lottery") == expected[:2]
    assert _search_paths(example_copy, "--limit=2", "--paths", "pruning", "-lottery") == expected[:2]
    nul = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "-0", "-n", "1", "pruning", "-lottery"])
    assert nul.stdout == expected[0] + "\0"
    # words that start with one of the options' letters are words too: -network is not -n etwork
    for word in ("-network", "-hinton", "-pruning"):
        result = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "--paths", word])
        assert result.exit_code == 0 and "Usage" not in result.output, result.output
    assert "pruning" not in " ".join(_search_paths(example_copy, "--paths", "-n", "50", "-pruning")).lower()


def test_an_unknown_long_option_is_still_an_error(example_copy):
    result = CliRunner().invoke(cli, ["--vault", str(example_copy), "search", "--jsn", "pruning"])
    assert result.exit_code == 2 and "No such option '--jsn'" in result.output


def test_sync_counts_the_users_notes_apart_from_tag_pages_and_says_a_no_op(example_copy):
    def sync() -> str:
        result = CliRunner().invoke(cli, ["--vault", str(example_copy), "sync"])
        assert result.exit_code == 0, result.output
        return result.stderr.strip().splitlines()[-1]

    assert sync().startswith("Indexed 39 notes in ")
    assert sync().startswith("Up to date: 39 notes in ") and sync().endswith(" s: +0 ~0 -0")
    written = CliRunner().invoke(cli, ["--vault", str(example_copy), "tags", "write"])
    assert written.exit_code == 0, written.output
    pages = len(list((example_copy / "Tags").rglob("*.md")))
    assert pages > 10
    assert sync().startswith(f"Indexed 39 notes (+{pages} tag pages) in ")  # +0 notes, +36 pages
    assert sync().startswith(f"Up to date: 39 notes (+{pages} tag pages) in ")
    (example_copy / "papers" / "Typed.md").write_text("# Typed\n\nA new note.\n", encoding="utf-8")
    assert sync().startswith(f"Indexed 40 notes (+{pages} tag pages) in ")


def test_sync_says_one_note_in_the_singular(tmp_path):
    (tmp_path / "a.md").write_text("hello\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--vault", str(tmp_path), "sync"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines()[-1].startswith("Indexed 1 note in ")
