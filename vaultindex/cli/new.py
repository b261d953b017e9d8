"""`vaultindex new @KEY`: write a paper's note from its bibliography entry."""

from __future__ import annotations

import click

from ..text import quote_path
from . import cli
from .base import pass_vault, warn


@cli.command("new")
@click.argument("key")
@click.option("--dry-run", is_flag=True, help="Print the note on stdout and write nothing.")
@click.option("--folder", metavar="FOLDER", help="Vault folder for the note [default: [new] folder in the config, else Obsidian's folder for new notes, else the vault root].")
@click.option("--name", metavar="NAME", help="File name of the note [default: from the title, see [new] filename].")
@click.option("--template", metavar="PATH", help="Template note to fill [default: [new] template, else a paper template in the templates folder, else the built-in one].")
@pass_vault()
def new(vault, key: str, dry_run: bool, folder: str | None, name: str | None, template: str | None) -> None:
    """Write the note of a paper from its bibliography entry, and index it.

    KEY is a citekey of a .bib or CSL-JSON file of the vault (`@` optional). The note gets
    title, authors, year, venue, doi, arxiv, url, citekey and aliases (an acronym such as
    BERT) in its frontmatter. Refuses (exit 1, nothing written) when a note for the paper
    exists (same citekey, DOI or arXiv id, or the file name is taken). Prints the path.

    \b
    Examples:
      vaultindex new @devlin2019bert
      vaultindex new devlin2019bert --dry-run
      vaultindex new @devlin2019bert --folder papers --name BERT
    """
    from .. import bib
    from ..errors import IndexLocked
    from ..newnote import plan, write_new_file

    notes = vault.notes()
    bibliography = bib.load(vault.root, vault.config, {n.path: n.frontmatter for n in notes})
    planned = plan(vault.root, vault.config, notes, bibliography, key, folder=folder, name=name, template=template)
    for remark in planned.remarks:
        warn(remark)
    if dry_run:
        warn(f"Would write {quote_path(planned.path)} (nothing written)")
        click.echo(planned.text, nl=False)
        return
    write_new_file(vault.root, planned.path, planned.text)
    click.echo(quote_path(planned.path))
    try:
        vault.sync(wait=2.0)
    except IndexLocked:
        warn("Another vaultindex process (a running watch) is writing the index; it will index the note.")
