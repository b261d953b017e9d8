"""Write docs/cli.md from the commands' own --help, so the reference never drifts from the code.

    python docs/gen_cli_reference.py          # rewrite docs/cli.md
    python docs/gen_cli_reference.py --check  # exit 1 when docs/cli.md is stale (the tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from vaultindex.cli import cli

TARGET = Path(__file__).with_name("cli.md")


def _commands(group: click.Group, prefix: list[str]):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from _commands(command, [*prefix, name])


def render() -> str:
    runner = CliRunner()
    parts = [
        "# Command reference\n",
        "Generated from `--help` by `python docs/gen_cli_reference.py`; do not edit by hand.\n",
    ]
    for words in [[], *_commands(cli, [])]:
        title = " ".join(["vaultindex", *words])
        text = runner.invoke(cli, [*words, "--help"], prog_name="vaultindex", terminal_width=100).output
        parts.append(f"## `{title}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print("docs/cli.md is stale: run python docs/gen_cli_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
