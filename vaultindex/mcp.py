"""The MCP server (`vaultindex mcp`): the vault's search, notes and link graph as tools for AI
assistants, over stdio, on the official `mcp` SDK. The only module that imports mcp.

Each tool makes the library call the CLI makes and answers with the same data as the
command's `--json` (as structured content, under "result", with "index": how fresh the
answer is) plus a short text form. Bad input is an error result whose text is the CLI's
`Error:` line; nothing a call does can end the session.

Fresh answers: while the server runs it keeps the index current itself (the library's
watcher in a background thread) unless another process already does (`vaultindex watch`,
or another server), in which case it reads that live index. Tool calls are answered one at
a time on a reader `Vault` that picks up each new commit.

Writes (create a note, append, add a tag) exist only with `--allow-write`; each is checked
and made atomic by writes.py, then waited for until the index holds it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from . import __version__
from .errors import VaultIndexError
from .mcptools import (
    do_backlinks,
    do_doctor,
    do_links,
    do_mentions,
    do_neighbourhood,
    do_orphans,
    do_path,
    do_rank,
    do_read_note,
    do_related,
    do_search,
    do_tags,
    do_unresolved,
    search_query,
)
from .models import to_json
from .text import json_safe

if TYPE_CHECKING:
    from .vault import Vault

log = logging.getLogger("vaultindex.mcp")

WATCH_READY_SECONDS = 30.0  # how long a call waits for a starting watcher's first reconcile
WATCH_RETRY_SECONDS = 5.0  # a watcher that failed is tried again after this long
WRITE_VISIBLE_SECONDS = 5.0  # how long a write waits for the index to hold it
ANSWERS_KEPT = 256  # answers kept for the current commit (see VaultService.call)

INSTRUCTIONS = """\
vaultindex serves a researcher's vault of Markdown paper notes (an Obsidian vault): full-text
search, the notes themselves, and the graph of [[wikilinks]] and [@citations] between them.
Start with `search` (its hits name the best-matching section: read just that part with
`read_note` and `heading`), then follow the graph with `backlinks`, `links`, `related`,
`neighbourhood` and `path`. Notes are named by path, file name, title or alias. Every answer
says how fresh the index is; the server keeps it in sync with the files while it runs."""


# -- keeping the index fresh -----------------------------------------------------------------------


class _WatchThread:
    """The library's watcher (watch.run) in a background thread, on its own Vault."""

    def __init__(self, root: Path, debounce_ms: int, polling: bool):
        from .vault import Vault

        self.vault = Vault.open(root)
        self.debounce_ms = debounce_ms
        self.polling = polling
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error: str = ""
        self.mode = ""
        self.batches = 0
        self.last_batch: float | None = None
        self.thread = threading.Thread(target=self._run, name="vaultindex-watch", daemon=True)

    def start(self, wait: float) -> bool:
        self.thread.start()
        self.ready.wait(wait)
        return self.alive

    @property
    def alive(self) -> bool:
        return self.thread.is_alive() and self.ready.is_set() and not self.error

    def _run(self) -> None:
        from .watch import run

        def on_ready(start: Any) -> None:
            self.mode = start.mode
            log.info("Watching %s (%s): %s notes in the index.", self.vault.root, start.mode, f"{start.stats.notes:,}")
            self.ready.set()

        def on_batch(stats: Any, paths: tuple) -> None:
            self.batches += 1
            self.last_batch = time.time()
            log.info("Index updated: +%d ~%d -%d (%.0f ms)", stats.added, stats.modified, stats.removed, stats.seconds * 1000)

        try:
            run(
                self.vault, self.stop, on_batch, debounce_ms=self.debounce_ms, polling=self.polling,
                notify=lambda message: log.warning("%s", message), on_ready=on_ready,
            )
        except VaultIndexError as exc:
            self.error = str(exc)
            log.warning("Not watching the vault: %s", exc)
        except Exception as exc:  # the watcher must never take the server down
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("The watcher stopped")
        finally:
            self.ready.set()

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)


class VaultService:
    """The server's state: the vault (opened on first need, so that a missing vault is an
    error result rather than a dead server), the watcher, and one call at a time."""

    def __init__(self, vault_path: str | None, allow_write: bool = False, watch: bool = True,
                 debounce_ms: int = 200, polling: bool = False):
        self.vault_path = vault_path
        self.allow_write = allow_write
        self.watch = watch
        self.debounce_ms = debounce_ms
        self.polling = polling
        self.reader: Vault | None = None
        self.watcher: _WatchThread | None = None
        self._watch_failed_at = 0.0
        self._calls = threading.Lock()
        self._answers: dict[tuple, tuple[tuple, tuple[Any, str]]] = {}  # answers of the current commit

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Before serving (while this is the only thread, so a first full build may use
        Whoosh's faster multi-process writer): bring the index up to date and start watching."""
        try:
            reader = self._open()
        except VaultIndexError as exc:
            log.warning("Error: %s (each tool call will say so until it is fixed)", exc)
            return
        if self.watch and not reader.index_state().writer:
            try:
                from .vault import Vault

                writer = Vault.open(reader.root)
                stats = writer.sync(wait=0.5)
                log.info("Index up to date: %s notes (+%d ~%d -%d) in %.1f s.", f"{stats.notes:,}", stats.added,
                         stats.modified, stats.removed, stats.seconds)
            except VaultIndexError as exc:
                log.warning("Not syncing at start: %s", exc)
        self._keep_fresh(reader)

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None

    def _open(self) -> Vault:
        if self.reader is None:
            from .vault import Vault

            self.reader = Vault.open(self.vault_path)
        elif not self.reader.root.is_dir():
            from .errors import VaultNotFound

            raise VaultNotFound(f"vault folder '{self.reader.root}' does not exist any more")
        return self.reader

    def _keep_fresh(self, reader: Vault) -> str:
        """Make sure someone keeps the index current (our watcher, or another process's), then
        look at the latest commit. Returns who keeps it current."""
        watcher = self.watcher
        if watcher is not None and not watcher.alive:
            watcher.close()
            self.watcher = watcher = None
            self._watch_failed_at = time.monotonic()
        keeper = "this server" if watcher is not None else ""
        if not keeper:
            writer = reader.index_state().writer
            if writer:
                keeper = f"vaultindex {writer} (another process)"
            elif self.watch and time.monotonic() - self._watch_failed_at >= WATCH_RETRY_SECONDS:
                started = _WatchThread(reader.root, self.debounce_ms, self.polling)
                if started.start(WATCH_READY_SECONDS):
                    self.watcher = started
                    keeper = "this server"
                else:
                    started.close()
                    self._watch_failed_at = time.monotonic()
            if not keeper:
                stats = reader.refresh()  # nobody watches: bring the index up to date now
                keeper = "synced for this call" if stats is not None else "nobody (the index may lag)"
        reader.reload()
        return keeper

    # -- one tool call -----------------------------------------------------------------------------
    def call(self, work: Callable[[Vault], tuple[Any, str]], key: tuple | None = None) -> CallToolResult:
        """Run `work(vault) -> (data, text)` with a fresh index; errors become error results.

        With a `key`, the answer is kept until the next commit, so that asking again (an
        assistant often does) costs nothing: graph answers depend on the index alone; search,
        related and mentions also read the notes' files, which the watcher indexes within its
        quiet time, so an answer kept for the current commit is as fresh as the index.
        """
        with self._calls:
            started = time.perf_counter()
            try:
                reader = self._open()
                keeper = self._keep_fresh(reader)
                state = reader.index_state()
                stamp = (state.generation, state.written_at)
                cached = self._answers.get(key) if key is not None else None
                if cached is not None and cached[0] == stamp:
                    data, text = cached[1]
                else:
                    data, text = work(reader)
                    if key is not None:
                        self._answers[key] = (stamp, (data, text))
                        while len(self._answers) > ANSWERS_KEPT:
                            self._answers.pop(next(iter(self._answers)))
                fresh = self._freshness(reader, keeper)
            except VaultIndexError as exc:
                return _error(f"Error: {exc}")
            except Exception as exc:  # a bug: reported, logged, and the session goes on
                self.reader = None  # opened afresh for the next call
                log.exception("A tool call failed")
                return _error(
                    f"Error: internal error: {type(exc).__name__}: {exc} "
                    "(set VAULTINDEX_DEBUG=1 for the traceback, and please report it)"
                )
            log.debug("call answered in %.1f ms", (time.perf_counter() - started) * 1000)
            note = f"[index generation {fresh['generation']}, written {fresh['age']}; kept current by {fresh['kept_by']}]"
            return CallToolResult(
                content=[TextContent(type="text", text=f"{text}\n{note}" if text else note)],
                structured_content={"result": json_safe(to_json(data)), "index": fresh},
            )

    def _freshness(self, reader: Vault, keeper: str) -> dict[str, Any]:
        state = reader.index_state()
        written = state.written_at
        watcher = self.watcher
        return {
            "vault": str(reader.root),
            "generation": state.generation,
            "written_at": None if written is None else datetime.fromtimestamp(written, UTC).isoformat(timespec="seconds"),
            "age": _age(written),
            "kept_by": keeper,
            "watching": bool(watcher is not None or state.writer == "watch"),
            "last_batch_at": None if watcher is None or watcher.last_batch is None
            else datetime.fromtimestamp(watcher.last_batch, UTC).isoformat(timespec="seconds"),
        }

    def wait_until_indexed(self, reader: Vault, path: str, sha1: str) -> bool:
        """After a write: until the index holds these bytes of `path` (our watcher or another
        process's applies it within its quiet time; with nobody watching, sync now)."""
        from .fsutil import poll

        def indexed() -> bool:
            if not reader.index_state().writer:
                reader.refresh()
            reader.reload()
            return reader.indexed_sha1(path) == sha1

        return poll(indexed, WRITE_VISIBLE_SECONDS)


def _age(written: float | None) -> str:
    if written is None:
        return "never"
    seconds = max(0.0, time.time() - written)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def do_info(service: VaultService, vault: Vault) -> tuple[Any, str]:
    state = vault.index_state()
    facts = vault.info()  # counts in SQL: loading every note took 4.4 s at 10,000 notes
    watcher = service.watcher
    data = {
        "vault": str(vault.root),
        "notes": facts.notes,  # the vault's own notes, tag pages apart (as `vaultindex info`)
        "tag_pages": facts.tag_pages,
        "generation": state.generation,
        "last_sync": None if state.written_at is None
        else datetime.fromtimestamp(state.written_at, UTC).isoformat(timespec="seconds"),
        "watching": watcher is not None or state.writer == "watch",
        "watcher": "this server" if watcher is not None else (f"another process ({state.writer})" if state.writer else "none"),
        "watch_mode": watcher.mode if watcher is not None else "",
        "batches": watcher.batches if watcher is not None else 0,
        "writes_allowed": service.allow_write,
        "version": __version__,
    }
    pages = f" (+{facts.tag_pages:,} tag pages)" if facts.tag_pages else ""
    text = (f"{data['vault']}: {data['notes']:,} notes{pages}; last sync {data['last_sync'] or 'never'}; "
            f"watched by {data['watcher']}; writes {'allowed' if service.allow_write else 'off'}")
    return data, text


# -- the server ------------------------------------------------------------------------------------

NoteArg = Annotated[str, Field(description="A note: its vault-relative path (papers/LoRA.md), file name, title or alias.")]
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)


class _Server(MCPServer):
    """The SDK's server, but a call whose arguments do not fit the tool (a misspelt or unknown
    name, a missing one, a wrong type or range) is an error result with one line saying which
    argument and what it takes, as the CLI's `Error:` line does, instead of pydantic's report."""

    def __init__(self) -> None:
        super().__init__("vaultindex", title="vaultindex", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
        self.arguments: dict[str, dict[str, str]] = {}  # tool -> its arguments -> what each one is

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        from mcp.server.mcpserver.exceptions import ToolError
        from pydantic import ValidationError

        if not self.arguments:  # each tool's arguments and their descriptions, from its schema
            self.arguments = {t.name: {arg: str(spec.get("description", "")) for arg, spec in
                                       t.input_schema.get("properties", {}).items()} for t in await self.list_tools()}
        known = self.arguments.get(name)
        if known is not None and (unknown := sorted(set(arguments) - set(known))):
            return _error(f"Error: {argument_problem(name, known, unknown=unknown)}")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if known is None or not isinstance(exc.__cause__, ValidationError):
                raise
            return _error(f"Error: {argument_problem(name, known, errors=exc.__cause__.errors())}")


def argument_problem(tool: str, known: dict[str, str], unknown: Sequence[str] = (), errors: Sequence[Any] = ()) -> str:
    """One line on what is wrong with a call's arguments: unknown names (with the closest known
    one), else each of pydantic's `errors` as "argument: what it takes (what was given)"."""
    from difflib import get_close_matches

    takes = ", ".join(known) or "no arguments"
    if unknown:
        parts = []
        for name in unknown:
            close = get_close_matches(name, list(known), n=1)
            parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return f"{tool} has no argument {', '.join(parts)}; it takes: {takes}"
    said = []
    for err in errors:
        name = ".".join(str(part) for part in err.get("loc", ())) or "arguments"
        top = str(err.get("loc", ("",))[0])
        if err.get("type") == "missing":
            said.append(f"{tool} needs the argument {name!r}" + (f" ({known[top]})" if known.get(top) else ""))
        else:
            message = str(err.get("msg", "invalid")).removeprefix("Input ").replace("should be", "must be", 1)
            given = repr(err.get("input"))
            said.append(f"{name!r} of {tool} {message}, not {given if len(given) <= 60 else given[:57] + '...'}")
    return "; ".join(said) or f"the arguments of {tool} do not fit it; it takes: {takes}"


def build_server(service: VaultService) -> MCPServer:
    server = _Server()

    def tool(fn: Callable[..., CallToolResult], annotations: ToolAnnotations = READ) -> None:
        server.add_tool(fn, name=fn.__name__.removeprefix("tool_"), description=fn.__doc__, annotations=annotations)

    def tool_search(
        query: Annotated[str, Field(description='Words to find (ANDed). Also "exact phrase", OR, NOT, -word, prun*, (grouping), '
                                                "and fields: tag:ml, title:, author:, year:2022, year:>2020, year:[2019 TO 2021], "
                                                "path:papers/, status:read, cites:KEY, venue:.")],
        limit: Annotated[int, Field(ge=1, le=200, description="Most hits to return.")] = 10,
        tag: Annotated[str | None, Field(description="Only notes with this tag (nested tags too: ml keeps ml/vision).")] = None,
        folder: Annotated[str | None, Field(description="Only notes whose path starts with this (papers/).")] = None,
        year: Annotated[str | None, Field(description="Only notes of this year: 2022, >2020, <=2019, [2019 TO 2021].")] = None,
        author: Annotated[str | None, Field(description="Only notes with an author of this name.")] = None,
        status: Annotated[str | None, Field(description="Only notes with this status property (read, to-read...).")] = None,
    ) -> CallToolResult:
        """Search the vault's notes, best first, like `vaultindex search --json`. Each hit has the note's path, title,
        score, tags, year, authors, a snippet, and `section`: the best-matching part of the note (its heading path,
        start_line and end_line, and a snippet), so that you can read only that part with read_note(heading=...).
        A misspelt word is corrected when the exact query finds little (hits marked fuzzy). Every object has a `kind`:
        "note", or "reference" for the papers of the bibliography that have no note (key, title, authors, year,
        venue, and the path and line of their entry), which come after the notes."""
        q = search_query(query, tag, folder, year, author, status)
        return service.call(lambda v: do_search(v, q, limit), ("search", q, limit))

    def tool_read_note(
        note: NoteArg,
        heading: Annotated[str | None, Field(description='Return only this section: a heading\'s text, or a path such as "Method > Results".')] = None,
        max_chars: Annotated[int, Field(ge=100, le=1_000_000, description="Cut the text after this many characters.")] = 50_000,
    ) -> CallToolResult:
        """Read a note as it is on disk now: its text (without the frontmatter), or one section of it (the heading and
        everything under it), with the frontmatter properties, tags, aliases and headings (with line numbers)
        given separately."""
        return service.call(lambda v: do_read_note(v, note, heading, max_chars))

    def tool_backlinks(note: NoteArg) -> CallToolResult:
        """Notes that link to, embed or cite this note, each with the line and its text (`vaultindex backlinks --json`)."""
        return service.call(lambda v: do_backlinks(v, note), ("backlinks", note))

    def tool_links(note: NoteArg) -> CallToolResult:
        """The note's outgoing links and citations and where each one points: the note or file it resolves to,
        or unresolved / ambiguous (`vaultindex links --json`)."""
        return service.call(lambda v: do_links(v, note), ("links", note))

    def tool_mentions(note: NoteArg) -> CallToolResult:
        """Notes that name this note (its title, an alias or its file name) without linking to it: candidates
        for new links (`vaultindex mentions --json`)."""
        return service.call(lambda v: do_mentions(v, note), ("mentions", note))

    def tool_related(
        note: NoteArg, limit: Annotated[int, Field(ge=1, le=1000, description="Most notes to return.")] = 10,
    ) -> CallToolResult:
        """Notes related to this one, best first, with the reasons: direct links, co-citation, bibliographic
        coupling, shared tags, similar text (`vaultindex related --json`)."""
        return service.call(lambda v: do_related(v, note, limit), ("related", note, limit))

    def tool_unresolved(
        kind: Annotated[Literal["all", "link", "paper"], Field(description="Dangling links, cited papers with no note, or both.")] = "all",
    ) -> CallToolResult:
        """Link targets that match no file and cited papers that have no note, most used first, with where each
        is used (`vaultindex unresolved --json`)."""
        return service.call(lambda v: do_unresolved(v, kind), ("unresolved", kind))

    def tool_orphans() -> CallToolResult:
        """Notes with no links to or from any other note or file (`vaultindex orphans --json`)."""
        return service.call(do_orphans, ("orphans",))

    def tool_path(
        source: NoteArg, target: NoteArg,
        directed: Annotated[bool, Field(description="Follow links only in their direction (source links to ... target).")] = False,
    ) -> CallToolResult:
        """The shortest chain of links between two notes, each step with the line that links them
        (`vaultindex path --json`); null when there is none."""
        return service.call(lambda v: do_path(v, source, target, directed), ("path", source, target, directed))

    def tool_rank(
        limit: Annotated[int, Field(ge=1, le=100_000, description="Most notes to return.")] = 20,
        by: Annotated[Literal["pagerank", "in"], Field(description="Order by PageRank or by the number of notes linking in.")] = "pagerank",
    ) -> CallToolResult:
        """The vault's hub notes by PageRank (or in-degree) over note-to-note links (`vaultindex rank --json`)."""
        return service.call(lambda v: do_rank(v, limit, by), ("rank", limit, by))

    def tool_tags(
        tag: Annotated[str | None, Field(description="Give a tag to get its notes (nested tags included); leave out to list every tag.")] = None,
        sort: Annotated[Literal["name", "count"], Field(description="Order of the tags.")] = "name",
        notes: Annotated[bool, Field(description="With the list of every tag: also each tag's notes.")] = False,
    ) -> CallToolResult:
        """Every tag with its number of notes (`vaultindex tags --json`), or the notes of one tag. A note tagged
        ml/vision counts for ml too."""
        return service.call(lambda v: do_tags(v, tag, sort, notes), ("tags", tag, sort, notes))

    def tool_doctor() -> CallToolResult:
        """Problems in the vault: ambiguous or broken links, broken heading and block links, [[Alias]] links
        Obsidian will not open, duplicate paper notes, invalid frontmatter (`vaultindex doctor --json`)."""
        return service.call(do_doctor, ("doctor",))

    def tool_neighbourhood(
        note: NoteArg,
        depth: Annotated[int, Field(ge=0, le=10, description="Links to follow from the note, either direction.")] = 1,
        kinds: Annotated[list[Literal["link", "embed", "cite"]] | None, Field(description="Edge kinds to follow (default: all).")] = None,
    ) -> CallToolResult:
        """The graph around a note: the notes, files and cited papers within `depth` links, and the links between
        them, as node-link data (`vaultindex graph -f json --around NOTE --depth N --kinds ...`)."""
        return service.call(lambda v: do_neighbourhood(v, note, depth, kinds), ("neighbourhood", note, depth, tuple(kinds or ())))

    def tool_info() -> CallToolResult:
        """The vault folder, how many notes are indexed, when the index was last written, and whether a watcher
        keeps it current."""
        return service.call(lambda v: do_info(service, v))

    for fn in (tool_search, tool_read_note, tool_backlinks, tool_links, tool_mentions, tool_related, tool_unresolved,
               tool_orphans, tool_path, tool_rank, tool_tags, tool_doctor, tool_neighbourhood, tool_info):
        tool(fn)
    if service.allow_write:
        _add_write_tools(server, service, tool)
    return server


def _add_write_tools(server: MCPServer, service: VaultService, tool: Callable[..., None]) -> None:
    from . import writes

    def written(vault: Vault, result: Any, verb: str) -> tuple[Any, str]:
        visible = service.wait_until_indexed(vault, result.path, result.sha1) if result.changed else True
        note = vault.find_note(result.path) if visible else None
        data = {
            "path": result.path,
            "created": result.created,
            "changed": result.changed,
            "indexed": visible,
            "title": note.title if note else "",
            "tags": list(note.tags) if note else [],
        }
        text = f"{verb} {result.path}" if result.changed else f"{result.path} already was as asked: nothing written"
        if not visible:
            text += " (not in the index yet)"
        return data, text

    def tool_create_note(
        path: Annotated[str, Field(description="Where, inside the vault: papers/New paper.md (.md is added when missing). Never an existing file.")],
        body: Annotated[str, Field(description="The note's Markdown text (after the template's, when there is one).")] = "",
        frontmatter: Annotated[dict[str, Any] | None, Field(description="Properties for the frontmatter: title, authors, year, tags, aliases...")] = None,
        template: Annotated[str | None, Field(description="A template note: its path, or its name in the vault's template folder. {{title}}, {{date}} and {{time}} are filled.")] = None,
    ) -> CallToolResult:
        """Create a new note (never replaces a file). Returns its path once it is in the index."""
        return service.call(lambda v: written(v, writes.create_note(v.root, path, body, frontmatter, template), "Created"))

    def tool_append_to_note(
        note: NoteArg, text: Annotated[str, Field(description="Markdown to add at the end of the note, on new lines.")],
    ) -> CallToolResult:
        """Add text at the end of an existing note (atomic; refused when the file changes meanwhile)."""
        return service.call(lambda v: written(v, writes.append_to_note(v.root, v.find_note(note).path, text), "Appended to"))

    def tool_add_tag(
        note: NoteArg, tag: Annotated[str, Field(description="The tag, without or with #: ml/vision.")],
    ) -> CallToolResult:
        """Add a tag to a note's frontmatter tags (the rest of the frontmatter is kept as written)."""
        return service.call(lambda v: written(v, writes.add_tag(v.root, v.find_note(note).path, tag), f"Tagged #{tag.lstrip('#')}:"))

    write = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
    tool(tool_create_note, write)
    tool(tool_append_to_note, write)
    tool(tool_add_tag, ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False))


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s vaultindex mcp: %(message)s"))
    root = logging.getLogger()
    if not any(getattr(h, "_vaultindex", False) for h in root.handlers):
        handler._vaultindex = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("vaultindex").setLevel(logging.DEBUG if os.environ.get("VAULTINDEX_DEBUG") == "1" else logging.INFO)


def serve(vault_path: str | None, allow_write: bool = False, debounce_ms: int = 200, polling: bool = False) -> None:
    """Serve the vault over stdio until the client closes the connection."""
    _setup_logging()
    service = VaultService(vault_path, allow_write=allow_write, debounce_ms=debounce_ms, polling=polling)
    server = build_server(service)
    service.start()
    log.info("Serving %s over stdio (%s).", service.reader.root if service.reader else vault_path or ".",
             "writes allowed" if allow_write else "read-only")
    try:
        server.run("stdio")
    finally:
        service.close()
