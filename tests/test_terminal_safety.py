"""Text from the vault never drives the terminal (issue 13, item 5), and path listings survive
names with a newline (item 6).

A title or a line holding `ESC ] 52 ; c ; ... BEL` (writes the clipboard) or `ESC [ 2 J` (clears
the screen) is shown escaped by every command that prints note text; `--json` keeps it exact.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write
from vaultindex.cli import cli

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # would put "rm -rf ~" on the clipboard
CLEAR = "\x1b[2J"
C1 = "\x9b2J"  # the one-byte CSI of C1 controls: clears the screen on some terminals too
EVIL_NAME = f"evil{CLEAR}name.md"


def _hostile_vault(root: Path) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    write(root, "Target.md", f"---\ntitle: \"Target \\e]52;c;cm0gLXJmIH4K\\a paper \\e[2J\"\naliases: [Target]\n"
                             f"tags: [ml]\n---\n# Target\nSome text {OSC52} about pruning {CLEAR}.\n")
    write(root, "Hostile.md", (
        "---\ntags: [ml]\n---\n"
        f"# Hostile {CLEAR}note\n"
        f"A line {OSC52} linking [[Target]] and pruning {C1}.\n"
        f"Also [[Target#No such{CLEAR} heading]] and [[Missing{CLEAR} note]] and [[{EVIL_NAME[:-3]}]].\n"
        f"Target is named here without a link {OSC52}.\n"
    ))
    write(root, EVIL_NAME, f"# Evil {OSC52}\n[[Target]] pruning\n")
    write(root, "Lonely.md", f"# Lonely {OSC52} orphan {CLEAR}\nnothing links here\n")
    (root / f"bad{CLEAR}yaml.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    root = _hostile_vault(tmp_path_factory.mktemp("hostile") / "vault")
    result = CliRunner().invoke(cli, ["--vault", str(root), "sync"])
    assert result.exit_code == 0, result.output
    return root


COMMANDS = [
    ("sync", "--full"),
    ("search", "pruning"),
    ("search", "pruning", "--paths"),
    ("backlinks", "Target"),
    ("mentions", "Target"),
    ("links", "Hostile"),
    ("doctor",),
    ("related", "Hostile"),
    ("unresolved",),
    ("orphans",),
    ("rank",),
    ("path", "Lonely", EVIL_NAME),  # no path: the names are echoed back in the message
    ("path", "Hostile", "Target"),
    ("backlinks", "Missing\x1b[2J note"),  # an Error: line quoting the argument
]

SGR = re.compile(r"\x1b\[[0-9;]*m")  # our own colours (only when asked for)


def _unsafe(text: str) -> list[str]:
    return sorted({f"U+{ord(ch):04X}" for ch in text if (ord(ch) < 0x20 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F})


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a).replace("\x1b", "ESC"))
@pytest.mark.parametrize("color", [False, True], ids=["pipe", "terminal"])
def test_human_output_never_carries_control_characters(hostile, args, color):
    result = CliRunner().invoke(cli, ["--vault", str(hostile), *args], color=color)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    out = SGR.sub("", result.stdout) if color else result.stdout
    err = SGR.sub("", result.stderr) if color else result.stderr
    assert _unsafe(out) == [], out
    assert _unsafe(err) == [], err
    assert "\\x1b" in out + err or "\\033" in out + err  # shown escaped (text: \\x1b, paths: \\033), not dropped


def test_json_keeps_the_exact_text(hostile):
    hits = json.loads(CliRunner().invoke(cli, ["--vault", str(hostile), "search", "title:target", "--json"]).stdout)
    assert hits[0]["title"] == f"Target {OSC52[:-1]}\x07 paper {CLEAR}"
    groups = json.loads(CliRunner().invoke(cli, ["--vault", str(hostile), "backlinks", "Target", "--json"]).stdout)
    assert EVIL_NAME in {g["path"] for g in groups}
    assert any(OSC52 in line["context"] for g in groups for line in g["links"])


def test_a_path_with_a_control_character_is_quoted_as_git_does(hostile):
    out = CliRunner().invoke(cli, ["--vault", str(hostile), "backlinks", "Target"]).stdout
    assert '"evil\\033[2Jname.md"' in out


# -- names with a newline: --paths quotes them, -0 gives them exactly ------------------------------

PATH_COMMANDS = [
    ("search", "pruning"),
    ("backlinks", "Target"),
    ("mentions", "Target"),
    ("related", "Target"),
    ("orphans",),
    ("rank",),
]


@pytest.fixture(scope="module")
def newline_vault(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("newline") / "vault"
    (root / ".obsidian").mkdir(parents=True)
    write(root, "Target.md", "# Target\nabout pruning\n")
    write(root, "two\nlines.md", "# Two lines\npruning, see [[Target]]; Target again\n")
    write(root, "sub dir/plain.md", "# Plain\npruning, see [[Target]]; Target again\n")
    write(root, "alone\nhere.md", "# Alone\npruning alone\n")
    assert CliRunner().invoke(cli, ["--vault", str(root), "sync"]).exit_code == 0
    return root


@pytest.mark.parametrize("args", PATH_COMMANDS, ids=" ".join)
def test_print0_gives_the_exact_names_and_paths_quotes_them(newline_vault, args):
    base = ["--vault", str(newline_vault), *args]
    as_json = json.loads(CliRunner().invoke(cli, [*base, "--json"]).stdout)
    expected = [item["path"] for item in as_json]
    assert any("\n" in p for p in expected)
    raw = CliRunner().invoke(cli, [*base, "-0"]).stdout_bytes
    assert raw.endswith(b"\0") and raw.split(b"\0")[:-1] == [os.fsencode(p) for p in expected]
    lines = CliRunner().invoke(cli, [*base, "--paths"]).stdout.splitlines()
    assert len(lines) == len(expected)  # one line per note, whatever its name
    assert [json.loads(line) if line.startswith('"') else line for line in lines] == expected


def test_print0_through_a_real_pipe_to_xargs(newline_vault):
    # The README's recipe: vaultindex search -0 --paths x | xargs -0 ...
    proc = subprocess.run(
        f"{sys.executable} -m vaultindex --vault '{newline_vault}' search -0 --paths pruning | xargs -0 -n1 printf '<%s>'",
        shell=True, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "<two\nlines.md>" in proc.stdout and "<sub dir/plain.md>" in proc.stdout


@pytest.mark.slow
def test_the_watch_log_escapes_names_and_diagnostics(tmp_path):
    import signal
    import threading
    import time

    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    write(vault, "start.md", "# Start\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vaultindex", "--vault", str(vault), "watch", "--debounce", "50", "--nl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    err: list[str] = []
    out: list[str] = []
    for stream, lines in ((proc.stderr, err), (proc.stdout, out)):
        threading.Thread(target=lambda s=stream, acc=lines: acc.extend(s), daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not any("Watching" in line for line in err) and time.monotonic() < deadline:
            time.sleep(0.1)
        write(vault, f"new{CLEAR}{OSC52}.md", "---\ntitle: [unclosed\n---\nbody\n")
        while not out and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    text = "".join(err)
    assert out and any("+1" in line and '"new\\033[2J\\033]52;' in line for line in err), text
    assert _unsafe(text) == [], text
    batch = json.loads(out[0])
    assert batch["paths"] == [f"new{CLEAR}{OSC52}.md"]  # --nl keeps the exact name


# Names that are valid text (bytes that are not UTF-8 are issue 13 item 2's, tested with the store).
_NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=30
).filter(lambda n: not n.startswith(".") and len(os.fsencode(n + ".md")) <= 255)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(_NAME, min_size=1, max_size=4, unique=True))
def test_any_file_name_comes_back_exactly_from_print0_and_losslessly_from_paths(tmp_path_factory, names):
    from vaultindex.text import unquote_path

    root = tmp_path_factory.mktemp("names")
    (root / ".obsidian").mkdir()
    for name in names:
        (root / f"{name}.md").write_text("zymurgy\n", encoding="utf-8")
    base = ["--vault", str(root), "search", "zymurgy", "-n", "100"]
    raw = CliRunner().invoke(cli, [*base, "-0"]).stdout_bytes
    expected = sorted(f"{name}.md" for name in names)
    assert sorted(os.fsdecode(p) for p in raw.split(b"\0")[:-1]) == expected
    lines = CliRunner().invoke(cli, [*base, "--paths"]).stdout.split("\n")[:-1]  # as xargs and read split
    assert sorted(unquote_path(line) for line in lines) == expected
    assert all(_unsafe(line) == [] for line in lines)
