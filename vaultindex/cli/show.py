"""`vaultindex show NOTE`: a note as it is on disk now, or one section of it (MCP's read_note)."""

from __future__ import annotations

import click

from ..text import escape_controls
from . import cli
from .base import complete_note, emit_json, pass_vault


@cli.command()
@click.argument("note", shell_complete=complete_note)
@click.option("--heading", "-H", metavar="HEADING",
              help='Only this section: a heading\'s text (any letter case) or a path such as "Method > Results".')
@click.option("--frontmatter", is_flag=True, help="Print the frontmatter (as written) instead of the text.")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON: path, title, frontmatter, tags, aliases, headings, section, text.")
@pass_vault()
def show(vault, note: str, heading: str | None, frontmatter: bool, as_json: bool) -> None:
    """Print NOTE's text without its frontmatter, or the section under --heading.

    \b
    NOTE is a path, file name, title or alias. The section is the heading and
    everything under it, as Obsidian's [[Note#Heading]] shows it.

    \b
    Examples:
      vaultindex show "Beyond neural scaling laws"
      vaultindex show EWC --heading Method
      vaultindex show papers/LoRA.md --frontmatter
      vaultindex show LoRA --json
    """
    found = vault.read_note(note, heading)
    if as_json:
        emit_json(found.data())
        return
    text = found.frontmatter_text if frontmatter else found.text
    if text:  # line by line: a note can never move the cursor or clear the screen
        click.echo("\n".join(escape_controls(line) for line in text.rstrip("\n").split("\n")))
