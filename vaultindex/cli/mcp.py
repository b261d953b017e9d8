"""`vaultindex mcp`: serve the vault to AI assistants over the Model Context Protocol (stdio)."""

from __future__ import annotations

import click

from ..errors import VaultIndexError
from . import cli


@cli.command("mcp")
@click.option("--allow-write", is_flag=True, help="Also offer tools that create notes, append to notes and add tags.")
@click.option(
    "--debounce", "debounce_ms", default=200, show_default=True, type=click.IntRange(0, 60_000), metavar="MS",
    help="The watcher's quiet time after a change before it is indexed.",
)
@click.option("--polling", is_flag=True, help="Watch by polling (network drives, WSL's /mnt).")
@click.pass_context
def mcp_command(ctx: click.Context, allow_write: bool, debounce_ms: int, polling: bool) -> None:
    """Serve the vault to an AI assistant over MCP (the Model Context Protocol) on stdin/stdout.

    An MCP client (Claude Desktop, Claude Code, Cursor, ...) starts this command itself: see the
    README for its configuration. Tools: search (with the best-matching section of each hit),
    read_note, backlinks, links, mentions, related, unresolved, orphans, path, rank, tags,
    doctor, neighbourhood and info; with --allow-write also create_note, append_to_note and
    add_tag, which write only inside the vault and never replace a file.

    The index is kept current while the server runs (it watches the vault itself unless a
    `vaultindex watch` already does). stdout carries only the protocol; logs go to stderr.
    Needs the mcp package: pip install 'vaultindex[mcp]'.

    \b
    Examples:
      vaultindex --vault ~/notes mcp
      vaultindex --vault ~/notes mcp --allow-write
    """
    try:
        from ..mcp import serve
    except ImportError as exc:  # no SDK, or a 1.x one (no MCPServer)
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types", "pydantic"):
            raise
        raise VaultIndexError(
            "`vaultindex mcp` needs the MCP SDK (mcp 2.3 or later): install it with pip install 'vaultindex[mcp]'"
        ) from None

    serve(ctx.find_root().obj.get("vault_path"), allow_write=allow_write, debounce_ms=debounce_ms, polling=polling)
