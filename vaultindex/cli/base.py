"""Shared CLI plumbing: opening the vault once, turning library errors into `Error: ...`, output."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from typing import Any, Callable, Iterable

import click

from ..errors import VaultIndexError
from ..models import Diagnostic, to_json
from ..text import json_safe


class VaultGroup(click.Group):
    """Prints library errors as one `Error:` line (exit 1); VAULTINDEX_DEBUG=1 shows the traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # the order they are defined in: sync and search first

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VaultIndexError as exc:
            if os.environ.get("VAULTINDEX_DEBUG") == "1":
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `vaultindex search x | head`
            sys.stderr.close()
            ctx.exit(0)
        except Exception as exc:
            if os.environ.get("VAULTINDEX_DEBUG") == "1":
                raise
            click.echo(
                f"Error: internal error: {type(exc).__name__}: {exc} "
                "(set VAULTINDEX_DEBUG=1 for the traceback, and please report it)",
                err=True,
            )
            ctx.exit(1)


def pass_vault(refresh: bool = True) -> Callable:
    """Decorator: open the vault named by --vault and pass it as the first argument.

    With refresh, bring the index up to date first (near-free when nothing changed); when
    another process is writing (a running `watch`), query what is there.
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        @click.pass_context
        def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
            vault = open_vault(ctx)
            if refresh:
                stats = vault.refresh()
                if stats is not None and (stats.changed or stats.rebuilt):
                    report_sync(stats, details=False)
            result = fn(vault, *args, **kwargs)
            if vault.repaired is not None:
                report_sync(vault.repaired, details=False)
            return result

        return wrapper

    return decorate


def open_vault(ctx: click.Context):
    from ..vault import Vault

    root = ctx.find_root()
    if "vault" not in root.obj:
        root.obj["vault"] = Vault.open(root.obj.get("vault_path"), index_dir=root.obj.get("index_dir"))
    return root.obj["vault"]


PROGRESS_MIN = 200  # notes to index before a progress bar is worth showing


@contextlib.contextmanager
def progress_bar(label: str = "Indexing", then: str = "Writing the index..."):
    """A `progress(done, total)` callback drawing a bar on stderr when it is a terminal and the
    work is long; the bar closes when the work is done or the block ends. When it closes done,
    `then` says what still runs (Whoosh's writers finish after the last note is read: seconds
    for 10,000 notes), so that a full bar followed by silence does not look like a hang."""
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_MIN or not sys.stderr.isatty():
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)
            bar = None
            if then:
                warn(then)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def warn(message: str) -> None:
    click.echo(message, err=True)


def report_diagnostics(diagnostics: Iterable[Diagnostic], limit: int = 50) -> int:
    diagnostics = list(diagnostics)
    for d in diagnostics[:limit]:
        warn(f"{d.severity}: {d}")
    if len(diagnostics) > limit:
        warn(f"... and {len(diagnostics) - limit} more (see `vaultindex doctor`)")
    return len(diagnostics)


def report_sync(stats, details: bool = True) -> None:
    """The sync summary line on stderr; with details, each warning first."""
    if stats.rebuilt:
        warn(f"Rebuilding the index: {stats.rebuilt}")
    count = report_diagnostics(stats.diagnostics) if details else len(stats.diagnostics)
    verb = "Indexed"
    warnings = f", {count:,} warning{'s' if count != 1 else ''}" if count else ""
    if count and not details:
        warnings += " (see `vaultindex doctor`)"
    warn(
        f"{verb} {stats.notes:,} notes in {stats.seconds:.1f} s: "
        f"+{stats.added} ~{stats.modified} -{stats.removed}{warnings}"
    )


def emit_json(data: Any) -> None:
    click.echo(json.dumps(json_safe(to_json(data)), ensure_ascii=False, indent=2))


def emit_nl(items: Iterable[Any]) -> None:
    for item in items:
        click.echo(json.dumps(json_safe(to_json(item)), ensure_ascii=False))


def output_options(fn: Callable) -> Callable:
    """--json and --nl for a listing command."""
    fn = click.option("--nl", "nl", is_flag=True, help="One JSON object per line.")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(fn)
    return fn


def highlight(snippet: str) -> str:
    """Turn the index's match markers into bold on a terminal, plain text elsewhere."""
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return snippet.replace("\x01", "\x1b[1;33m").replace("\x02", "\x1b[0m")
    return strip_marks(snippet)


def strip_marks(snippet: str) -> str:
    return snippet.replace("\x01", "").replace("\x02", "")
