"""`vaultindex sync` and `vaultindex search`."""

from __future__ import annotations

import re

import click

from ..models import to_json
from ..text import escape_controls
from . import cli
from .base import (
    count_tag_pages,
    emit_json,
    emit_nl,
    emit_paths,
    for_terminal,
    highlight,
    open_vault,
    output_options,
    pass_vault,
    path_options,
    plural,
    progress_bar,
    report_sync,
    strip_marks,
    warn,
)


@cli.command()
@click.option("--full", is_flag=True, help="Rebuild the index from scratch.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON on stdout.")
@click.option(
    "--wait", default=10.0, show_default=True, metavar="SECONDS", help="How long to wait for another process writing the index."
)
@click.pass_context
def sync(ctx: click.Context, full: bool, as_json: bool, wait: float) -> None:
    """Bring the index up to date with the vault (only changed notes are read).

    While a `vaultindex watch` runs on the vault, it keeps the index current: `sync`
    says so and exits 0 (`sync --full` refuses: stop the watch first).

    \b
    Examples:
      vaultindex sync
      vaultindex sync --full --json
    """
    vault = open_vault(ctx)
    watch = "" if full else vault.watching()
    if watch:
        warn(f"A vaultindex watch ({watch}) keeps this index current: nothing to do.")
        if as_json:
            emit_json({"added": 0, "modified": 0, "removed": 0, "rebuilt": "", "warnings": [], "watch": watch})
        return
    with progress_bar() as progress:
        stats = vault.sync(full=full, progress=progress, wait=wait)
    pages = count_tag_pages(vault)
    report_sync(stats, tag_pages=pages)
    if as_json:
        emit_json(
            {
                "added": stats.added,
                "modified": stats.modified,
                "removed": stats.removed,
                "unchanged": stats.unchanged,
                "notes": stats.notes - pages,  # the vault's own notes; tag pages apart, as `info` counts them
                "tag_pages": pages,
                "seconds": round(stats.seconds, 3),
                "rebuilt": stats.rebuilt,
                "bibliography": to_json(stats.bibliography),  # null when no bibliography file was read
                "warnings": [str(d) for d in stats.diagnostics],
                "watch": "",
            }
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON on stdout.")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Where the index is and what it holds (the vault, the index folder and its size, notes,
    generation, last sync and any running watch). Writes nothing. `notes` counts the vault's
    own notes; vaultindex's tag pages are counted apart (`tag_pages`), as in `sync`.

    \b
    Examples:
      vaultindex info
      vaultindex info --json
    """
    import time as _time

    facts = open_vault(ctx).info()
    if as_json:
        emit_json(
            {
                "vault": facts.vault,
                "index_dir": facts.index_dir,
                "size": facts.size,
                "notes": facts.notes,
                "tag_pages": facts.tag_pages,
                "generation": facts.generation,
                "build": facts.build,
                "last_sync": facts.last_sync,
                "watch": facts.watch,
                "writer": facts.writer,
            }
        )
        return
    last = _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime(facts.last_sync)) if facts.last_sync else "never"
    rows = [
        ("vault", facts.vault),
        ("index", facts.index_dir),
        ("size", f"{facts.size / 1024 / 1024:.1f} MB"),
        ("notes", f"{facts.notes:,}" + (f" (+{plural(facts.tag_pages, 'tag page')})" if facts.tag_pages else "")),
        ("generation", str(facts.generation) if facts.build >= 0 else "no index yet"),
        ("last sync", last),
        ("watch", f"running ({facts.watch})" if facts.watch else "not running"),
    ]
    for name, value in rows:
        click.echo(f"{name + ':':<12}{value}")


class _SearchCommand(click.Command):
    """`search`, whose QUERY may hold `-word` (exclude a word) anywhere: a single-dash word
    that is not one of the command's own options (-n 5, -n5, -0, -h) is a query word, where
    click would have read `-lottery` as the options -l -o -t... and `-network` as -n etwork."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value, flags = set[str](), set[str]()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                names = [*param.opts, *param.secondary_opts]
                (flags if param.is_flag or param.count else takes_value).update(names)
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                words.extend(rest)
            elif arg in takes_value:  # -n 5, --limit 5
                options.append(arg)
                options.extend(value for value in [next(rest, None)] if value is not None)
            elif arg.startswith("--") or arg in flags or (arg[:2] in takes_value and arg[2:].isdigit()):
                options.append(arg)  # --limit=5, -n5, -0; an unknown --option stays an error
            else:
                words.append(arg)
        return super().parse_args(ctx, [*options, "--", *words])


@cli.command(cls=_SearchCommand)
@click.argument("query", nargs=-1, required=True)
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 10_000), help="Most hits to show.")
@output_options
@path_options
@click.option(
    "--sections",
    is_flag=True,
    help="Also show each hit's best-matching section: heading path and lines (always in --json).",
)
@click.option("--no-references", is_flag=True, help="Leave out the bibliography's papers without a note (notes only).")
@pass_vault()
def search(vault, query: tuple[str, ...], limit: int, as_json: bool, nl: bool, paths: bool, print0: bool, sections: bool,
           no_references: bool) -> None:
    """Search the vault, best note first.

    \b
    QUERY words are ANDed; also "exact phrase", OR, NOT, -word, prun*, (grouping),
    and fields: tag:ml (nested tags too), title:, author:, year:2022, year:>2020,
    year:[2019 TO 2021], path:papers/, status:read, cites:KEY, venue:.
    A misspelt word is corrected when the exact query finds little.

    \b
    Examples:
      vaultindex search "data pruning"
      vaultindex search 'tag:ml/vision year:>2020 distillation'
      vaultindex search --paths "catastrophic forgetting" | xargs $EDITOR
      vaultindex search -0 "catastrophic forgetting" | xargs -0 $EDITOR
      vaultindex search --sections "data pruning"

    \b
    Papers of the bibliography that have no note (see `references`) whose key, title,
    authors, year or venue hold the words follow the notes, in a block of their own; in
    --json and --nl each object has a "kind": "note" or "reference" (those after the notes,
    as `references --json` shows them). --paths and -0 list notes only.
    """
    from ..references import tagged

    paths = paths or print0
    text = " ".join(query)
    result = vault.search(text, limit=limit, snippets=not paths)
    refs = [] if no_references or paths else vault.references(text, limit=limit)
    if result.suggestion:
        warn(f'did you mean "{result.suggestion}"? (showing those matches too)')
    if not result.hits:
        warn("No notes match." if not refs else "No notes match; papers of the bibliography do.")
    if as_json:
        emit_json(tagged(map(_plain, result.hits), refs))
    elif nl:
        emit_nl(tagged(map(_plain, result.hits), refs))
    elif paths:
        emit_paths((hit.path for hit in result.hits), print0)
    else:
        for rank, (raw, hit) in enumerate(zip(result.hits, for_terminal(result.hits)), 1):
            year = f" ({hit.year})" if hit.year else ""
            fuzzy = "  ~typo" if hit.fuzzy else ""
            click.echo(click.style(f"{rank:>2}. {hit.title}{year}", bold=True) + fuzzy)
            tags = "  " + " ".join(f"#{t}" for t in hit.tags) if hit.tags else ""
            click.echo(f"    {click.style(hit.path, fg='cyan')}{tags}")
            if hit.snippet:
                click.echo(f"    {highlight(_escaped_snippet(raw.snippet))}")
            if sections and hit.section is not None:
                where = " > ".join(hit.section.path) or "(before the first heading)"
                lines = f"lines {hit.section.start_line}-{hit.section.end_line}"
                click.echo(f"    § {where}  {lines}: {hit.section.snippet}")  # for_terminal escaped it
        if refs:
            from .references import echo_references

            echo_references(refs)


def _escaped_snippet(raw: str) -> str:
    """The snippet with the note's control characters escaped, and the index's own match
    markers (\\x01, \\x02) kept for highlight()."""
    return "".join(part if part in MARKS else escape_controls(part) for part in re.split("([\x01\x02])", raw))


MARKS = ("\x01", "\x02")


def _plain(hit):
    from dataclasses import replace

    return replace(hit, snippet=strip_marks(hit.snippet))
