"""The README's promises and the generated CLI reference stay true."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import REPO

# Run the repository's own code, whatever else is installed.
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def test_cli_reference_is_generated_from_help():
    proc = subprocess.run(
        [sys.executable, str(REPO / "docs" / "gen_cli_reference.py"), "--check"], capture_output=True, text=True, env=ENV
    )
    assert proc.returncode == 0, proc.stderr


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert blocks[0] == 'pip install . && vaultindex --vault example_vault search "data pruning"'
    test_command = blocks[1]
    assert "pytest" in test_command
    assert test_command in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_first_command_prints_the_right_paper_first(example_copy):
    proc = subprocess.run(
        [sys.executable, "-m", "vaultindex", "--vault", str(example_copy), "search", "data pruning"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.lstrip().startswith("1. Beyond neural scaling laws")
