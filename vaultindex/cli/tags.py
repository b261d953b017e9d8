"""`vaultindex tags` (list tags) and `vaultindex tags write` (one index note per tag)."""

from __future__ import annotations

import click

from ..text import escape_controls, quote_path
from . import cli
from .base import emit_json, pass_vault, report_diagnostics, warn


@cli.group("tags", invoke_without_command=True)
@click.option("--flat", is_flag=True, help="One tag per line instead of a tree.")
@click.option(
    "--sort",
    type=click.Choice(["name", "count"]),
    default="name",
    show_default=True,
    help="Order of tags (count: most notes first).",
)
@click.option("--notes", "with_notes", is_flag=True, help="Also list each tag's notes (paths).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout: [{tag, count, notes?}].")
@click.pass_context
def tags(ctx: click.Context, flat: bool, sort: str, with_notes: bool, as_json: bool) -> None:
    """List every tag with its number of notes, nested tags as a tree.

    A note tagged ml/vision counts for ml too. Tag pages written by `tags write` are not
    counted.

    \b
    Examples:
      vaultindex tags
      vaultindex tags --flat --sort count
      vaultindex tags --json --notes
      vaultindex tags write --dry-run
    """
    if ctx.invoked_subcommand is None:
        _list_tags(flat=flat, sort=sort, with_notes=with_notes, as_json=as_json)


@pass_vault()
def _list_tags(vault, flat: bool, sort: str, with_notes: bool, as_json: bool) -> None:
    from ..tagpages import sort_tags, tag_tree

    infos = vault.tags(notes=with_notes)  # the counts alone come from SQL
    if as_json:
        emit_json(
            [
                {"tag": i.tag, "count": i.count, **({"notes": list(i.notes)} if with_notes else {})}
                for i in sort_tags(infos, sort)
            ]
        )
        return
    if not infos:
        warn("No tags.")
        return
    rows = [("", "", i) for i in sort_tags(infos, sort)] if flat else tag_tree(infos, sort)
    for prefix, below, info in rows:
        click.echo(f"{prefix}{escape_controls(info.tag)} ({info.count})")
        if with_notes:
            for path in info.notes:
                click.echo(f"{below}    {quote_path(path)}")  # as every listing shows a path


@tags.command("write")
@click.option("--dir", "folder", metavar="FOLDER", help="Folder for the pages, inside the vault [config: tags.dir; default Tags].")
@click.option("--dry-run", is_flag=True, help="Print what would change as a diff; write nothing.")
@click.option("--min-count", type=click.IntRange(min=1), metavar="N", help="Only tags with at least N notes [config: tags.min_count; default 1].")
@click.option(
    "--sort",
    type=click.Choice(["title", "year", "modified"]),
    help="Order of notes on a page; year also groups them by year [config: tags.sort; default title].",
)
@click.option(
    "--name",
    "name",
    metavar="TEMPLATE",
    help='Page file name, {tag} standing for the tag level [config: tags.name; default "{tag} (tag)"].',
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@pass_vault()
def write(
    vault, folder: str | None, dry_run: bool, min_count: int | None, sort: str | None, name: str | None, as_json: bool
) -> None:
    """Write one note per tag (and nested level) listing its notes.

    \b
    Pages go to "FOLDER/ml (tag).md", "FOLDER/ml/vision (tag).md", ... A page never
    has the file name of another file in the vault (it would take [[links]] from that
    note in Obsidian): when a note has it, the page adds a short hash to its name, and
    pages written under a name that is now taken are renamed or deleted. Only the text
    between the <!-- vaultindex:begin --> and <!-- vaultindex:end --> markers is
    generated: write your own notes above or below, they are kept. A page is rewritten
    only when its text changes; pages of tags that are gone are deleted when they hold
    no text of yours; files that vaultindex did not write are never touched. Defaults
    come from .vaultindex/config.toml [tags] (dir, sort, min_count, name, watch);
    options override them.

    \b
    Examples:
      vaultindex tags write
      vaultindex tags write --dry-run
      vaultindex tags write --dir Index/Tags --sort year --min-count 2
    """
    result = vault.write_tag_pages(dir=folder, sort=sort, min_count=min_count, name=name, dry_run=dry_run)
    report_diagnostics(result.warnings)
    if as_json:
        data = {
            "folder": result.folder,
            "dry_run": result.dry_run,
            "written": list(result.written),
            "deleted": list(result.deleted),
            "renamed": [list(pair) for pair in result.renamed],
            "unchanged": list(result.unchanged),
            "warnings": [str(d) for d in result.warnings],
        }
        if dry_run:
            data["diff"] = result.diff
        emit_json(data)
    elif dry_run:
        if result.diff:
            click.echo(result.diff, nl=False)
    else:
        for path in result.written:
            click.echo(f"wrote {quote_path(path)}")
        for path in result.deleted:
            click.echo(f"deleted {quote_path(path)}")
        for old, new in result.renamed:
            click.echo(f"renamed {quote_path(old)} -> {quote_path(new)}")
    verb = ("would write", "would delete", "would rename") if dry_run else ("written", "deleted", "renamed")
    moved = f", {len(result.renamed)} {verb[2]}" if result.renamed else ""
    warn(
        f"Tag pages in {result.folder}/: {len(result.written)} {verb[0]}, {len(result.deleted)} {verb[1]}{moved}, "
        f"{len(result.unchanged)} unchanged"
    )
