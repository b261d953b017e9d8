"""Shared CLI plumbing: opening the vault once, turning library errors into `Error: ...`, output."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring as _encode_string  # the C one when there is one
from pathlib import Path
from typing import Any

import click

from ..errors import VaultIndexError
from ..models import Diagnostic, to_json
from ..text import escape_controls, json_safe, quote_path


class VaultGroup(click.Group):
    """Prints library errors as one `Error:` line (exit 1); VAULTINDEX_DEBUG=1 shows the traceback."""

    _load: Callable[[str | None], None] | None = None
    _modules: tuple[str, ...] = ()
    _homes: dict[str, str] = {}

    def set_loader(self, load: Callable[[str | None], None], modules: tuple[str, ...], homes: dict[str, str]) -> None:
        """Commands come from modules imported on first use: `load(module)` imports one (None:
        all), `homes` names the module of each command, `modules` gives the order of --help."""
        self._load, self._modules, self._homes = load, modules, dict(homes)

    def _load_all(self) -> None:
        if self._load is not None:
            self._load(None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and self._load is not None:
            self._load(self._homes.get(cmd_name))
            if cmd_name not in self.commands:
                self._load(None)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command in the order its module defines them, modules in `modules` order: sync and search first."""
        self._load_all()
        rank = {f"{__package__}.{m}": i for i, m in enumerate(self._modules)}
        names = list(self.commands)
        return sorted(names, key=lambda n: (rank.get(getattr(self.commands[n].callback, "__module__", ""), len(rank)), names.index(n)))

    def invoke(self, ctx: click.Context) -> Any:
        if no_color():
            ctx.color = False  # every command's click.echo/style output: plain (commands inherit it)
        try:
            return super().invoke(ctx)
        except VaultIndexError as exc:
            if os.environ.get("VAULTINDEX_DEBUG") == "1":
                raise
            warn(f"Error: {exc}")
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:  # Ctrl-C: a line, not a traceback (a batch in hand is not committed)
            if os.environ.get("VAULTINDEX_DEBUG") == "1":
                raise
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # `vaultindex search x | head`
            sys.stderr.close()
            ctx.exit(0)
        except Exception as exc:
            if os.environ.get("VAULTINDEX_DEBUG") == "1":
                raise
            warn(
                f"Error: internal error: {type(exc).__name__}: {exc} "
                "(set VAULTINDEX_DEBUG=1 for the traceback, and please report it)"
            )
            ctx.exit(1)


def complete_note(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of a NOTE argument from what is indexed: file names, titles and aliases
    starting with what was typed (paths once it holds a `/`). Reads only: it never syncs or
    writes the index, prints nothing, and offers nothing when there is no index or no vault."""
    from click.shell_completion import CompletionItem

    try:
        from ..config import locate_vault
        from ..vault import Vault

        where = locate_vault(ctx.find_root().params.get("vault_path"))
        notes = Vault.open(where.root).notes()
    except Exception:  # noqa: BLE001 - no vault, no index, a damaged one: no suggestions, and no noise
        return []
    typed = incomplete.casefold()
    offers: dict[str, str] = {}  # value -> path it names
    by_name: dict[str, list[str]] = {}
    for note in notes:
        by_name.setdefault(note.name.casefold(), []).append(note.path)
    for note in notes:
        if "/" in incomplete:
            names = [note.path, note.path.removesuffix(".md")]
        else:
            unique = len(by_name[note.name.casefold()]) == 1
            names = [note.name if unique else note.path, note.title, *note.aliases]
        for name in names:
            if name and name.casefold().startswith(typed) and "\n" not in name:
                offers.setdefault(name, note.path)
    return [CompletionItem(value, help=path) for value, path in sorted(offers.items())[:COMPLETION_LIMIT]]


COMPLETION_LIMIT = 200


def complete_folder(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of a folder (--vault): the shell lists the folders itself."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="dir")]


NOTE_ARGUMENTS = frozenset({"note", "source", "target"})  # the commands' NOTE, A and B arguments


def vault_path_of(root: Path, value: str) -> str:
    """A NOTE argument that is a file's path, as the shell gives it, made vault-relative:
    an absolute path inside the vault, `./x.md` or `../x.md`, or (when the current folder is
    inside the vault) a file name or path from there, unless a path with `/` is a file from the
    vault root too. Anything else (a name, title, alias) is left for the vault to look up."""
    given = Path(value)
    cwd = Path.cwd()
    from_cwd = _relative_to(cwd, root) is not None and ("/" not in value or not (root / value).is_file())
    if not (given.is_absolute() or value.startswith(("./", "../")) or from_cwd):
        return value
    full = given if given.is_absolute() else cwd / given
    rel = _relative_to(full, root)
    return rel if rel and full.is_file() else value


def _relative_to(path: Path, root: Path) -> str | None:
    """`path` relative to `root` as POSIX ("" for root itself), None when outside it."""
    for a, b in ((os.path.abspath(path), os.path.abspath(root)), (os.path.realpath(path), os.path.realpath(root))):
        try:
            rel = Path(a).relative_to(b).as_posix()
        except ValueError:
            continue
        return "" if rel == "." else rel
    return None


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
            for name in NOTE_ARGUMENTS & kwargs.keys():
                if isinstance(kwargs[name], str):
                    kwargs[name] = vault_path_of(vault.root, kwargs[name])
            if refresh:
                stats = vault.refresh()
                if stats is not None and (stats.changed or stats.rebuilt):
                    report_sync(stats, details=False, tag_pages=count_tag_pages(vault))
            result = fn(vault, *args, **kwargs)
            if vault.repaired is not None:
                report_sync(vault.repaired, details=False, tag_pages=count_tag_pages(vault))
            return result

        return wrapper

    return decorate


def open_vault(ctx: click.Context):
    from ..config import locate_vault
    from ..vault import Vault

    root = ctx.find_root()
    if "vault" not in root.obj:
        where = locate_vault(root.obj.get("vault_path"))
        if where.fallback:
            # Said every time, not only the first: the index may live outside the folder, so
            # nothing in it tells a first run from a later one, and a query that silently reads
            # a source checkout or a parent of two vaults is worse than one line on stderr.
            warn(
                f"Note: no .obsidian/ or .vaultindex/ folder here or above; using {quote_path(str(where.root))} "
                "as the vault. Choose another with --vault PATH or VAULTINDEX_VAULT."
            )
        vault = root.obj["vault"] = Vault.open(where.root, index_dir=root.obj.get("index_dir"))
        for message in getattr(vault.config, "warnings", ()):
            warn(message)
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


def echo_lines(lines: Iterable[str]) -> None:
    """Print lines on stdout with one click.echo (each call costs: 4,700 lines took 0.1 s)."""
    text = "\n".join(lines)
    if text:
        click.echo(text)


def warn(message: str) -> None:
    """A line for the person on stderr. Whatever it quotes from the vault (a path, a title, a
    diagnostic) has its control characters escaped, so that a note can never drive the terminal."""
    click.echo("\n".join(escape_controls(line) for line in message.split("\n")), err=True)


def for_terminal(value: Any) -> Any:
    """A copy of a query's answer to print for a person: paths (fields `path`, `paths`,
    `candidates`, `notes`) quoted as git does, all other text with its control characters
    escaped. `--json` prints the answer itself, with the exact text."""

    def shown(item: Any, as_path: bool) -> Any:
        cls = type(item)
        if cls is str:
            return quote_path(item) if as_path else escape_controls(item)
        if cls in _PLAIN:  # line numbers, counts, scores: nothing to escape (most calls)
            return item
        if isinstance(item, str):
            return quote_path(item) if as_path else escape_controls(item)
        if isinstance(item, (list, tuple)):
            items = [shown(v, as_path) for v in item]
            if all(a is b for a, b in zip(items, item, strict=True)):
                return item
            return type(item)(items)
        if isinstance(item, dict):
            return {shown(k, False): shown(v, False) for k, v in item.items()}
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            changes = {}
            for name in _init_fields(type(item)):
                old = getattr(item, name)
                new = shown(old, name in _PATH_FIELDS)
                if new is not old:
                    changes[name] = new
            # Nearly all text needs no escaping: the item itself then (2,000 unresolved
            # targets with their uses spent 0.3 s in copies that changed nothing).
            return dataclasses.replace(item, **changes) if changes else item
        return item

    return shown(value, False)


_PLAIN = frozenset({int, float, bool, type(None)})


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


_PATH_FIELDS = frozenset({"path", "paths", "candidates", "notes"})


def diagnostic_line(d: Diagnostic) -> str:
    where = f"{quote_path(d.path)}:{d.line}" if d.line else quote_path(d.path)
    return f"{d.severity}: {where}: {escape_controls(d.message)}"


def report_diagnostics(diagnostics: Iterable[Diagnostic], limit: int = 50) -> int:
    diagnostics = list(diagnostics)
    for d in diagnostics[:limit]:
        warn(diagnostic_line(d))
    if len(diagnostics) > limit:
        warn(f"... and {len(diagnostics) - limit} more (see `vaultindex doctor`)")
    return len(diagnostics)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def report_sync(stats, details: bool = True, tag_pages: int = 0) -> None:
    """The sync summary line on stderr; with details, each warning first. `tag_pages` of the
    indexed notes are vaultindex's own tag pages: said apart from the user's notes."""
    if stats.rebuilt:
        warn(f"Rebuilding the index: {stats.rebuilt}")
    count = report_diagnostics(stats.diagnostics) if details else len(stats.diagnostics)
    warnings = f", {plural(count, 'warning')}" if count else ""
    if count and not details:
        warnings += " (see `vaultindex doctor`)"
    tag_pages = min(max(tag_pages, 0), stats.notes)
    notes = plural(stats.notes - tag_pages, "note") + (f" (+{plural(tag_pages, 'tag page')})" if tag_pages else "")
    verb = "Indexed" if stats.changed or stats.rebuilt else "Up to date:"
    bib = f"; bibliography {stats.bibliography.summary}" if stats.bibliography is not None else ""
    warn(f"{verb} {notes} in {stats.seconds:.1f} s: +{stats.added} ~{stats.modified} -{stats.removed}{bib}{warnings}")


def count_tag_pages(vault) -> int:
    """How many indexed notes are tag pages vaultindex wrote (`generated_by: vaultindex`): the
    counts a user sees (sync, watch, info, --json, MCP) are of the vault's own notes, and tag
    pages are said apart. A count in SQL; 0 when there is no index."""
    from ..errors import VaultIndexError

    try:
        return vault.store.count_generated()
    except VaultIndexError:
        return 0


def emit_json(data: Any) -> None:
    click.echo(dumps_indented(json_safe(to_json(data))))


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2)`, the same text, several times faster:
    with an indent the json module encodes in Python, one generator step per token (a thousand
    backlinks: 47,000 steps), where this joins each container's parts at once."""
    try:
        return _indented(value, "\n")
    except (TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False, indent=2)  # what json says of anything else


def _indented(value: Any, newline: str) -> str:
    if isinstance(value, str):
        return _encode_string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    inner = newline + "  "
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join([_indented(v, inner) for v in value]) + newline + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [_key_text(k) + ": " + _indented(v, inner) for k, v in value.items()]
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    raise TypeError(type(value).__name__)


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return _encode_string(key)
    if isinstance(key, float):
        return _encode_string(_float_text(key))
    if key is True or key is False or key is None:
        return _encode_string(json.dumps(key))
    if isinstance(key, int):
        return _encode_string(int.__repr__(key))
    raise TypeError(type(key).__name__)


def emit_nl(items: Iterable[Any]) -> None:
    for item in items:
        click.echo(json.dumps(json_safe(to_json(item)), ensure_ascii=False))


def path_options(fn: Callable) -> Callable:
    """--paths and -0/--print0 for a command whose answer is a list of notes."""
    fn = click.option(
        "-0", "--print0", "print0", is_flag=True,
        help="Print only paths, each followed by a NUL byte, exactly as on disk (for xargs -0; implies --paths).",
    )(fn)
    fn = click.option(
        "--paths", is_flag=True,
        help="Print only paths, one per line (for xargs $EDITOR); odd names are quoted as git does.",
    )(fn)
    return fn


def emit_paths(paths: Iterable[str], print0: bool) -> None:
    """Paths for a pipe: NUL-terminated raw bytes with -0, else one per line, quoted when odd
    (a name with a newline would otherwise read as two paths)."""
    if not print0:
        for path in paths:
            click.echo(quote_path(path))
        return
    for path in paths:
        click.echo(os.fsencode(path) + b"\0", nl=False)  # bytes go to the binary stream as they are


def output_options(fn: Callable) -> Callable:
    """--json and --nl for a listing command."""
    fn = click.option("--nl", "nl", is_flag=True, help="One JSON object per line.")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(fn)
    return fn


def no_color() -> bool:
    """Whether NO_COLOR (any non-empty value, no-color.org) asks for output without styling.
    The one test of it: VaultGroup turns all click styling off with it, highlight() too."""
    return bool(os.environ.get("NO_COLOR"))


def highlight(snippet: str) -> str:
    """Turn the index's match markers into bold on a terminal, plain text elsewhere."""
    ctx = click.get_current_context(silent=True)
    colour = ctx.color if ctx is not None else None
    if (sys.stdout.isatty() if colour is None else colour) and not no_color():
        return snippet.replace("\x01", "\x1b[1;33m").replace("\x02", "\x1b[0m")
    return strip_marks(snippet)


def strip_marks(snippet: str) -> str:
    return snippet.replace("\x01", "").replace("\x02", "")
