"""The command line: the only package that imports click. Each command parses options, calls
one Vault method and renders the answer (data on stdout, progress and warnings on stderr)."""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from ..errors import VaultIndexError
from .base import VaultGroup, pass_vault  # noqa: F401  (re-exported for command modules)


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
    help="The vault folder [env VAULTINDEX_VAULT; default: the nearest folder up holding "
    ".vaultindex/ or .obsidian/, else the current folder].",
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


def _register() -> None:
    # Each module adds its commands to `cli`; imported here so `cli` is complete on import.
    from . import index  # noqa: F401

    for optional in ("graph", "watch", "tags", "export"):
        try:
            __import__(f"{__name__}.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{optional}":
                raise


_register()


def main() -> None:
    try:
        cli.main(prog_name="vaultindex", standalone_mode=True)
    except VaultIndexError as exc:  # raised outside a command (rare)
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


if os.environ.get("VAULTINDEX_DEBUG") == "1":  # pragma: no cover
    import faulthandler

    faulthandler.enable()
