"""How a vault's index stands, for `vaultindex info` and for long-running readers (the MCP
server): where it is, what it holds, when it was last written and who holds the writer lock.
Read from the store's meta row and the lock file; never writes anything."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import IndexCorrupt
from .indexfolder import current_build, folder_size
from .lock import LockHolder, WriterLock, describe

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class IndexState:
    """How fresh the index is, for a long-running reader (the MCP server) to report."""

    generation: int  # the index's commit number; -1 when there is no index yet
    written_at: float | None  # when it was last committed (seconds since the epoch)
    writer: str  # who holds the writer lock now: "watch", "sync", ... ("" when nobody)


@dataclass(frozen=True)
class IndexInfo:
    """What `vaultindex info` shows."""

    vault: str
    index_dir: str
    size: int  # bytes of every file in the index folder
    notes: int  # the vault's own notes: vaultindex's tag pages are counted apart (tag_pages)
    generation: int  # the Whoosh commit the store's rows belong to (-1: no index yet)
    build: int  # the folder of the current build (a full rebuild makes a new one)
    last_sync: float | None  # seconds since the epoch
    watch: str  # "pid N" of a running watch, "" when none
    writer: str  # who holds the writer lock now ("" when nobody)
    tag_pages: int = 0  # indexed tag pages vaultindex wrote (not in `notes`)


def watch_pid(holder: LockHolder | None) -> str:
    """"pid N" when the lock's holder is a `vaultindex watch`, else ""."""
    return f"pid {holder.pid}" if holder is not None and holder.role == "watch" else ""


def index_info(root: Path, index_dir: Path, lock: WriterLock, store: Callable[[], Store]) -> IndexInfo:
    """Where the index is and what it holds."""
    build = current_build(index_dir)
    notes, pages, generation, last = 0, 0, -1, None
    if build >= 0:
        try:
            opened = store()
            meta = opened.meta()
            pages = opened.count_generated()
            notes = opened.count() - pages
            generation = int(meta.get("generation", "-1"))
            last = float(meta["last_sync"]) if meta.get("last_sync") else None
        except (IndexCorrupt, ValueError):
            generation = -1
    elsewhere = lock.is_held_elsewhere()
    holder = lock.holder_info() if elsewhere else None
    return IndexInfo(
        vault=str(root),
        index_dir=str(index_dir),
        size=folder_size(index_dir) if os.path.isdir(index_dir) else 0,
        notes=notes,
        generation=generation,
        build=build,
        last_sync=last,
        watch=watch_pid(holder),
        writer=describe(holder) if elsewhere else "",
        tag_pages=pages,
    )


def index_state(index_dir: Path, lock: WriterLock, store: Callable[[], Store]) -> IndexState:
    """The index's commit number, when it was written, and who writes now."""
    generation, written_at = -1, None
    if current_build(index_dir) >= 0:
        try:
            meta = store().meta()
            generation = int(meta.get("generation", "-1"))
            written_at = float(meta["last_sync"]) if meta.get("last_sync") else None
        except (IndexCorrupt, ValueError):
            pass
    writer = ""
    if lock.held:
        writer = "this process"
    elif lock.is_held_elsewhere():
        holder = lock.holder_info()
        writer = (holder.role or "unknown") if holder is not None else "unknown process"
    return IndexState(generation, written_at, writer)
