"""Owns the parsed notes kept beside the index: file stamps, notes and the graph, each cached
in its own file tagged with the index generation it belongs to.

The Whoosh index stays the one source of truth (it stores every parsed note); these files
only make a fresh process fast. A cache whose generation differs from the index's is
ignored and rebuilt from the index, so the two can never disagree. They are split so that a
query pays only for what it needs: the auto-sync reads the stamps (milliseconds), a graph
query the graph, and a note is unpickled only when something asks for it.
"""

from __future__ import annotations

import gc
import os
import pickle
import re
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

from .models import Note, Record

CATALOG_VERSION = 1  # bump when what the caches hold changes shape
STATE_FILE = "state.pickle"
NOTES_FILE = "notes.pickle"
GRAPH_FILE = "graph.pickle"
CACHE_FILES = (STATE_FILE, NOTES_FILE, GRAPH_FILE)

Stamp = tuple[int, int, str]  # size, mtime_ns, sha1 of the file's bytes


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Unpickling many small objects triggers the cyclic GC again and again; pausing it
    # makes loading about three times faster (measured on 10,000 notes).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class NoteStore(MutableMapping):
    """Notes by path, kept pickled and decoded on first access."""

    def __init__(self, blobs: Mapping[str, bytes] | None = None):
        self._blobs: dict[str, bytes | None] = dict(blobs or {})  # None: changed, not yet pickled
        self._notes: dict[str, Note] = {}

    def __getitem__(self, path: str) -> Note:
        note = self._notes.get(path)
        if note is None:
            blob = self._blobs[path]  # KeyError for an unknown path
            note = self._notes[path] = pickle.loads(blob)  # type: ignore[arg-type]
        return note

    def __setitem__(self, path: str, note: Note) -> None:
        self._notes[path] = note
        self._blobs[path] = None

    def __delitem__(self, path: str) -> None:
        del self._blobs[path]
        self._notes.pop(path, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)

    def __contains__(self, path: object) -> bool:
        return path in self._blobs

    def decode_all(self) -> None:
        """Unpickle every note now (faster than one by one when all are needed)."""
        missing = [p for p in self._blobs if p not in self._notes]
        with _gc_paused():
            for path in missing:
                self._notes[path] = pickle.loads(self._blobs[path])  # type: ignore[arg-type]

    def values(self):  # type: ignore[override]
        self.decode_all()
        return [self._notes[p] for p in self._blobs]

    def items(self):  # type: ignore[override]
        self.decode_all()
        return [(p, self._notes[p]) for p in self._blobs]

    def blobs(self) -> dict[str, bytes]:
        """Every note pickled; only the changed ones are pickled again."""
        for path, blob in self._blobs.items():
            if blob is None:
                self._blobs[path] = pickle.dumps(self._notes[path], protocol=pickle.HIGHEST_PROTOCOL)
        return self._blobs  # type: ignore[return-value]


class Records(Mapping):
    """`path -> Record` over the stamps and the notes (a view: notes decode on access)."""

    def __init__(self, catalog: "Catalog"):
        self._catalog = catalog

    def __getitem__(self, path: str) -> Record:
        size, mtime_ns, sha1 = self._catalog.stamps[path]
        return Record(self._catalog.notes[path], size, mtime_ns, sha1)

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalog.stamps)

    def __len__(self) -> int:
        return len(self._catalog.stamps)

    def __contains__(self, path: object) -> bool:
        return path in self._catalog.stamps


class Catalog:
    """What the index holds, in memory: stamps, attachments and excluded files always;
    notes and the graph loaded on first use."""

    def __init__(
        self,
        generation: int,
        stamps: dict[str, Stamp] | None = None,
        attachments: set[str] | None = None,
        excluded: set[str] | None = None,
        notes: NoteStore | None = None,
        load: Callable[[str], Any] | None = None,
    ):
        self.generation = generation
        self.stamps: dict[str, Stamp] = stamps if stamps is not None else {}
        self.attachments: set[str] = attachments if attachments is not None else set()
        self.excluded: set[str] = excluded if excluded is not None else set()
        self._notes = notes
        self._graph: Any = None
        self._graph_loaded = False
        self._load = load  # reads the notes or the graph of this generation, or None

    @property
    def notes(self) -> NoteStore:
        if self._notes is None:
            blobs = self._load(NOTES_FILE) if self._load else None
            self._notes = NoteStore(blobs if blobs is not None else {})
        return self._notes

    @property
    def graph(self) -> Any:
        """The cached graph.LinkGraph sharing these notes, or None when there is none yet."""
        if not self._graph_loaded:
            self._graph_loaded = True
            graph = self._load(GRAPH_FILE) if self._load else None
            if graph is not None:
                graph.notes = self.notes
            self._graph = graph
        return self._graph

    @graph.setter
    def graph(self, graph: Any) -> None:
        self._graph, self._graph_loaded = graph, True

    @property
    def records(self) -> Records:
        return Records(self)

    def put(self, record: Record) -> None:
        path = record.note.path
        self.notes[path] = record.note
        self.stamps[path] = (record.size, record.mtime_ns, record.sha1)

    def remove(self, path: str) -> None:
        self.stamps.pop(path, None)
        self.notes.pop(path, None)


# -- files -------------------------------------------------------------------------------------------

def index_generation(index_dir: Path, name: str) -> int:
    """The latest generation of a Whoosh index, read from its table-of-contents file names
    (no Whoosh import: a graph query need not pay for it). -1 when there is none."""
    pattern = re.compile(rf"^_{re.escape(name)}_(\d+)\.toc$")
    best = -1
    try:
        for entry in os.scandir(index_dir):
            m = pattern.match(entry.name)
            if m:
                best = max(best, int(m.group(1)))
    except OSError:
        return -1
    return best


def read_cache(folder: Path, name: str, generation: int) -> Any:
    """A cache file's content when it belongs to `generation`, else None (missing, stale, damaged)."""
    try:
        with open(folder / name, "rb") as fh, _gc_paused():
            tag, payload = pickle.load(fh)
    except Exception:  # missing, truncated or written by another version: rebuilt by the caller
        return None
    return payload if tag == generation else None


def stage_cache(folder: Path, name: str, generation: int, payload: Any) -> tuple[Path, Path]:
    """Write a cache file under a temporary name: (temporary, final) for publish()."""
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    tmp.write_bytes(pickle.dumps((generation, payload), protocol=pickle.HIGHEST_PROTOCOL))
    return tmp, folder / name


def publish(staged: list[tuple[Path, Path]]) -> None:
    """Move staged cache files into place, in order (renames: each one atomic)."""
    for tmp, final in staged:
        os.replace(tmp, final)


def discard(staged: list[tuple[Path, Path]]) -> None:
    for tmp, _ in staged:
        try:
            tmp.unlink()
        except OSError:
            pass


def write_cache(folder: Path, name: str, generation: int, payload: Any) -> None:
    publish([stage_cache(folder, name, generation, payload)])
