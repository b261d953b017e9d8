"""`vaultindex show NOTE`: a note as it is on disk, one section of it, its frontmatter; the same
data as MCP's read_note (one Vault.read_note under both)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from vaultindex.cli import cli

EWC = "papers/EWC - Overcoming catastrophic forgetting.md"


def run(vault: Path, *args: str):
    return CliRunner().invoke(cli, ["--vault", str(vault), "show", *args])


def test_show_by_alias_prints_the_body_without_the_frontmatter(example_copy: Path) -> None:
    result = run(example_copy, "Elastic weight consolidation")
    assert result.exit_code == 0, result.output
    assert "## Method" in result.stdout and "## Results" in result.stdout
    assert "citekey:" not in result.stdout and not result.stdout.startswith("---")


def test_heading_prints_only_that_section(example_copy: Path) -> None:
    result = run(example_copy, EWC, "--heading", "method")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## Method\n")
    assert "Fisher" in result.stdout and "## Results" not in result.stdout


def test_frontmatter_prints_the_properties_as_written(example_copy: Path) -> None:
    result = run(example_copy, "EWC", "--frontmatter")
    assert result.exit_code == 0, result.output
    assert "citekey: kirkpatrick2017overcoming" in result.stdout.splitlines()
    assert "## Method" not in result.stdout


def test_json_is_what_read_note_answers(example_copy: Path) -> None:
    from vaultindex import Vault
    from vaultindex.mcptools import do_read_note

    result = run(example_copy, "EWC", "--heading", "Results", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["path"] == EWC and shown["section"]["heading"] == "Results"
    assert shown["frontmatter"]["citekey"] == "kirkpatrick2017overcoming"
    assert [h["text"] for h in shown["headings"]][1:] == ["Summary", "Method", "Results", "Notes"]
    answered, _ = do_read_note(Vault.open(example_copy), "EWC", "Results", 1_000_000)
    assert json.loads(json.dumps(answered, default=str)) == {**shown, "truncated": False}


def test_an_unknown_note_or_heading_is_an_error_line(example_copy: Path) -> None:
    missing = run(example_copy, "No such paper")
    assert missing.exit_code == 1 and 'Error: no note named "No such paper"' in missing.output
    heading = run(example_copy, "EWC", "--heading", "Appendix")
    assert heading.exit_code == 1 and 'Error: no heading "Appendix"' in heading.output
    assert "Traceback" not in missing.output + heading.output


def test_control_characters_in_a_note_are_shown_escaped(example_copy: Path) -> None:
    (example_copy / "Escapes.md").write_text("# Escapes\n\nred \x1b[31mtext\x07 here\n", encoding="utf-8")
    result = run(example_copy, "Escapes")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\\x1b[31mtext\\x07 here" in result.stdout
