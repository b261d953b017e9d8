"""The command line: the only package that imports click. Each command parses options, calls
one Vault method and renders the answer (data on stdout, progress and warnings on stderr)."""

from __future__ import annotations

import os
import signal
import sys
import threading


def _interrupted_while_loading(signum, frame) -> None:  # nothing is written yet: just stop
    os.write(2, b"Interrupted.\n")
    os._exit(130)


# Ctrl-C while click and the commands load (a few hundred ms on a busy machine) stops quietly,
# as it does within a command, instead of printing an import's traceback.
_ON_MAIN_THREAD = threading.current_thread() is threading.main_thread()
_PREVIOUS_SIGINT = signal.signal(signal.SIGINT, _interrupted_while_loading) if _ON_MAIN_THREAD else None


def _restore_ctrl_c() -> None:
    if _ON_MAIN_THREAD and signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
        signal.signal(signal.SIGINT, _PREVIOUS_SIGINT)


import click

from .. import __version__
from ..errors import VaultIndexError
from ..text import escape_controls
from .base import VaultGroup, complete_folder, pass_vault  # noqa: F401  (pass_vault: re-exported for command modules)


@click.group(
    cls=VaultGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Run `vaultindex COMMAND --help` for a command's options and examples. "
    "Set VAULTINDEX_DEBUG=1 to see tracebacks.",
)
@click.version_option(__version__, "-V", "--version", prog_name="vaultindex")
@click.option(
    "--vault",
    "vault_path",
    envvar="VAULTINDEX_VAULT",
    metavar="PATH",
    shell_complete=complete_folder,
    help="The vault folder [env VAULTINDEX_VAULT; default: the nearest folder up holding "
    ".vaultindex/ or .obsidian/, else the current folder (said on stderr; never the home "
    "folder or /)].",
)
@click.option(
    "--index-dir",
    envvar="VAULTINDEX_INDEX_DIR",
    metavar="PATH",
    help="The folder of this vault's index [env VAULTINDEX_INDEX_DIR; default: the config's "
    "index_dir, else a folder per vault in the user's cache folder].",
)
@click.pass_context
def cli(ctx: click.Context, vault_path: str | None, index_dir: str | None) -> None:
    """Keep a vault of Markdown paper notes searchable and connected.

    \b
    Examples:
      vaultindex --vault ~/notes search "data pruning"
      vaultindex backlinks "Beyond neural scaling laws"
      vaultindex watch
    """
    ctx.obj = {"vault_path": vault_path, "index_dir": index_dir}


# The modules that add commands to `cli`, in the order `--help` lists them, and which module
# defines each command: a command imports only its own module (a fresh `backlinks` need not
# load the options of twenty others); `--help`, completion and a name not listed here load all.
COMMAND_MODULES = ("index", "graph", "watch", "tags", "export", "new", "references", "mcp", "show")
COMMAND_HOMES = {
    "sync": "index", "info": "index", "search": "index",
    **dict.fromkeys(("backlinks", "mentions", "links", "unresolved", "orphans", "related", "path", "rank", "doctor"), "graph"),
    "watch": "watch", "tags": "tags", "graph": "export", "new": "new", "references": "references", "mcp": "mcp",
    "show": "show",
}


def load_commands(module: str | None = None) -> None:
    """Import the command module `module` (None: all of them), which adds its commands to `cli`."""
    for name in COMMAND_MODULES if module is None else (module,):
        try:
            __import__(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise


cli.set_loader(load_commands, COMMAND_MODULES, COMMAND_HOMES)
_restore_ctrl_c()


def main() -> None:
    try:
        cli.main(prog_name="vaultindex", standalone_mode=True)
    except VaultIndexError as exc:  # raised outside a command, or re-raised for VAULTINDEX_DEBUG=1
        if os.environ.get("VAULTINDEX_DEBUG") == "1":
            raise  # the traceback, as README and --help promise
        click.echo(f"Error: {escape_controls(str(exc))}", err=True)
        sys.exit(1)


if os.environ.get("VAULTINDEX_DEBUG") == "1":  # pragma: no cover
    import faulthandler

    faulthandler.enable()
