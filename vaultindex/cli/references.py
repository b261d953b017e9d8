"""`vaultindex references`: the papers of the bibliography that have no note (and the block
that `search` prints for them)."""

from __future__ import annotations

from collections.abc import Sequence

import click

from . import cli
from .base import emit_json, emit_nl, for_terminal, output_options, pass_vault, plural, warn


def reference_line(hit) -> str:
    """`@key  Title (2015) — Last, First; Other, A. — Venue` (the hit already terminal-safe)."""
    year = f" ({hit.year})" if hit.year else ""
    names = "; ".join(hit.authors[:3]) + (" et al." if len(hit.authors) > 3 else "")
    parts = [f"{hit.title or '(no title)'}{year}", *(p for p in (names, hit.venue) if p)]
    return f"{click.style('@' + hit.key, bold=True)}  " + " — ".join(parts)


def echo_references(hits: Sequence, heading: bool = True) -> None:
    """Print reference hits as their own block (never mixed with notes)."""
    if heading:
        click.echo(click.style(f"\nIn the bibliography, no note ({plural(len(hits), 'paper')}):", bold=True))
    for hit in for_terminal(hits):
        click.echo(reference_line(hit))
        click.echo(f"    {click.style(f'{hit.path}:{hit.line}', fg='cyan')}")


@cli.command()
@click.argument("query", nargs=-1)
@click.option("-n", "--limit", default=None, type=click.IntRange(1, None), help="Most papers to show [default: all].")
@output_options
@pass_vault()
def references(vault, query: tuple[str, ...], limit: int | None, as_json: bool, nl: bool) -> None:
    """Papers of the bibliography (.bib and CSL-JSON files) that have no note, newest first.

    With QUERY, only those whose citekey, title, authors, year or venue hold every word
    (any letter case; `author:`-style field names are ignored). `search` shows the same
    papers in a block of their own below the notes.

    \b
    Examples:
      vaultindex references
      vaultindex references schmidhuber 2015 --json
    """
    matching = vault.references(" ".join(query))
    found = matching[:limit] if limit is not None else matching
    shown = f"{len(found)} of " if len(found) < len(matching) else ""
    warn(f"{shown}{plural(len(matching), 'paper')} in the bibliography without a note.")
    if as_json:
        emit_json(found)
    elif nl:
        emit_nl(found)
    else:
        echo_references(found, heading=False)
