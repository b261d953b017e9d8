"""`vaultindex watch`: keep the index in sync while the user edits."""

from __future__ import annotations

import json
import signal
import threading
from datetime import datetime

import click

from ..models import SyncStats, to_json
from ..text import json_safe, quote_path
from . import cli
from .base import count_tag_pages, open_vault, plural, progress_bar, report_diagnostics, report_sync, warn


@cli.command()
@click.option(
    "--debounce",
    "debounce_ms",
    default=200,
    show_default=True,
    type=click.IntRange(0, 60_000),
    metavar="MS",
    help="Quiet time after the last change before a batch is applied (a stream of saves is "
    "still applied every 2 s).",
)
@click.option(
    "--polling",
    is_flag=True,
    help="Look for changes every second instead of using file-system events: for network "
    "drives, WSL's /mnt, and other places where events do not arrive.",
)
@click.option("--nl", "nl", is_flag=True, help="Also print each batch as one JSON object per line on stdout.")
@click.pass_context
def watch(ctx: click.Context, debounce_ms: int, polling: bool, nl: bool) -> None:
    """Keep the index in sync with every save until stopped (Ctrl-C).

    Reconciles the vault first, then applies changes in batches, one line per batch on
    stderr. Tag pages are rewritten after each batch when `[tags] watch = true` is set in
    .vaultindex/config.toml. Queries in other terminals keep working throughout; only one
    watch (or sync) writes the index at a time, and a plain `sync` beside a watch says
    the watch keeps the index current and exits 0.

    \b
    Examples:
      vaultindex watch                  # in a terminal pane beside your editor
      vaultindex watch --debounce 500   # wait for longer pauses between batches
      vaultindex watch --polling        # a vault on a network drive
    """
    from ..watch import WatchOptions, WatchStart, batch_line, run

    vault = open_vault(ctx)
    stop = threading.Event()

    def on_ready(start: WatchStart) -> None:
        pages = count_tag_pages(vault)  # vaultindex's own tag pages, counted apart from the notes
        report_sync(start.stats, tag_pages=pages)
        counts = plural(start.stats.notes - pages, "note") + (f", {plural(pages, 'tag page')}" if pages else "")
        folders = f", {start.folders:,} folders" if start.mode != "polling" else ""
        warn(f"Watching {quote_path(str(vault.root))}: {counts} ({start.mode}{folders}). Press Ctrl-C to stop.")

    def on_batch(stats: SyncStats, paths: tuple[str, ...]) -> None:
        warn(batch_line(stats, [quote_path(p) for p in paths]))  # warn() escapes what is left
        report_diagnostics(stats.diagnostics)
        if nl:
            click.echo(
                json.dumps(
                    json_safe({
                        "time": datetime.now().isoformat(timespec="seconds"),
                        "added": stats.added,
                        "modified": stats.modified,
                        "removed": stats.removed,
                        "notes": stats.notes - count_tag_pages(vault),  # as sync and info count them
                        "ms": round(stats.seconds * 1000, 1),
                        "paths": list(paths),
                        "bibliography": to_json(stats.bibliography),
                        "warnings": [str(d) for d in stats.diagnostics],
                    }),
                    ensure_ascii=False,
                )
            )

    def notify(message: str) -> None:
        warn(f"{datetime.now():%H:%M:%S}  {message}")

    restore = _stop_on_signals(stop)
    try:
        with progress_bar() as progress:
            options = WatchOptions(
                debounce_ms=debounce_ms, polling=polling, on_batch=on_batch, on_ready=on_ready, notify=notify, progress=progress
            )
            summary = run(vault, stop, options=options)
    except KeyboardInterrupt:
        warn("Stopped at once; the next start picks up whatever was not applied.")
        ctx.exit(130)
    finally:
        restore()
    changes = f"+{summary.added} ~{summary.modified} -{summary.removed}"
    suffix = "es" if summary.batches != 1 else ""
    warn(f"Stopped after {summary.batches:,} batch{suffix}: {changes}.")


def _stop_on_signals(stop: threading.Event):
    """Ctrl-C, SIGTERM and SIGHUP end the watch after the batch in hand; a second one stops at once."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()  # (no printing here: the main thread may be half way through a line)

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    previous = {}
    for name in names:
        if hasattr(signal, name):
            sig = getattr(signal, name)
            previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
