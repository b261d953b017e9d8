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
import zlib
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

from .models import Note, Record

STATE_FILE = "state.pickle"
NOTES_DIR = "notes"  # notes/00.pickle ... notes/63.pickle
GRAPH_FILE = "graph.pickle"
CACHE_FILES = (STATE_FILE, GRAPH_FILE)
SHARDS = 64

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


def shard_of(path: str) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogatepass")) % SHARDS


class NoteStore(MutableMapping):
    """Notes by path, kept pickled in SHARDS shards and decoded on first access.

    A shard is read only when one of its notes is asked for, and only the shards a batch
    touched are written again (one edit rewrites 1/64 of the notes, not all of them).
    `load_shard(i)` returns shard i's {path: pickled note}, or None when its file is
    missing or stale; `on_stale()` then returns every note (read from the index).
    """

    def __init__(
        self,
        paths: Iterable[str] = (),
        load_shard: Callable[[int], dict[str, bytes] | None] | None = None,
        on_stale: Callable[[], dict[str, Note]] | None = None,
    ):
        self._paths: dict[str, None] = dict.fromkeys(paths)  # an ordered set
        self._shards: dict[int, dict[str, bytes | None]] = {}  # None: changed, not yet pickled
        self._notes: dict[str, Note] = {}
        self.dirty: set[int] = set()
        self._load_shard = load_shard
        self._on_stale = on_stale

    def _shard(self, i: int) -> dict[str, bytes | None]:
        shard = self._shards.get(i)
        if shard is None:
            shard = self._load_shard(i) if self._load_shard else {}
            if shard is None:
                self._recover()
                return self._shards[i]
            self._shards[i] = shard
        return shard

    def _recover(self) -> None:
        """A shard file is missing or stale: take every note from the index, and rewrite all."""
        notes = self._on_stale() if self._on_stale else {}
        self._notes = {p: notes[p] for p in self._paths if p in notes}
        self._paths = dict.fromkeys(self._notes)
        self._shards = {i: {} for i in range(SHARDS)}
        for path in self._paths:
            self._shards[shard_of(path)][path] = None
        self.dirty = set(range(SHARDS))

    def __getitem__(self, path: str) -> Note:
        note = self._notes.get(path)
        if note is None:
            if path not in self._paths:
                raise KeyError(path)
            blob = self._shard(shard_of(path)).get(path)
            if blob is None:
                if path not in self._notes:  # listed but not in its shard: the cache is stale
                    self._recover()
                return self._notes[path]
            note = self._notes[path] = pickle.loads(blob)
        return note

    def __setitem__(self, path: str, note: Note) -> None:
        i = shard_of(path)
        self._shard(i)[path] = None
        self._paths[path] = None
        self._notes[path] = note
        self.dirty.add(i)

    def __delitem__(self, path: str) -> None:
        del self._paths[path]
        i = shard_of(path)
        self._shard(i).pop(path, None)
        self._notes.pop(path, None)
        self.dirty.add(i)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def check_shards(self) -> None:
        """Read every shard now; a missing or damaged one makes the store recover from the index."""
        for i in range(SHARDS):
            self._shard(i)

    def decode_all(self) -> None:
        """Unpickle every note now (faster than one by one when all are needed)."""
        with _gc_paused():
            for path in self._paths:
                if path not in self._notes:
                    self[path]

    def values(self):  # type: ignore[override]
        self.decode_all()
        return [self._notes[p] for p in self._paths]

    def items(self):  # type: ignore[override]
        self.decode_all()
        return [(p, self._notes[p]) for p in self._paths]

    def shard_blobs(self, i: int) -> dict[str, bytes]:
        """Shard i with every note pickled (only the changed ones are pickled again)."""
        shard = self._shard(i)
        for path, blob in shard.items():
            if blob is None:
                shard[path] = pickle.dumps(self._notes[path], protocol=pickle.HIGHEST_PROTOCOL)
        return shard  # type: ignore[return-value]


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
        shard_generations: list[int] | None = None,
        notes: NoteStore | None = None,
        load: Callable[[str, int], Any] | None = None,
        from_index: Callable[[], dict[str, Note]] | None = None,
    ):
        self.generation = generation
        self.stamps: dict[str, Stamp] = stamps if stamps is not None else {}
        self.attachments: set[str] = attachments if attachments is not None else set()
        self.excluded: set[str] = excluded if excluded is not None else set()
        # The generation each note shard was last written at (-1: never).
        self.shard_generations = shard_generations if shard_generations is not None else [-1] * SHARDS
        self._notes = notes
        self._graph: Any = None
        self._graph_loaded = False
        self._load = load  # (file name, generation) -> its content when it is of that generation
        self._from_index = from_index

    @property
    def notes(self) -> NoteStore:
        if self._notes is None:
            load = self._load

            def load_shard(i: int) -> dict[str, bytes] | None:
                gen = self.shard_generations[i]
                if gen < 0:
                    return {}
                return load(f"{NOTES_DIR}/{i:02d}.pickle", gen) if load else None

            self._notes = NoteStore(self.stamps, load_shard, self._from_index)
        return self._notes

    @property
    def graph(self) -> Any:
        """The cached graph.LinkGraph sharing these notes, or None when there is none yet."""
        if not self._graph_loaded:
            self._graph_loaded = True
            graph = self._load(GRAPH_FILE, self.generation) if self._load else None
            if graph is not None:
                graph.notes = self.notes
            self._graph = graph
        return self._graph

    @graph.setter
    def graph(self, graph: Any) -> None:
        self._graph, self._graph_loaded = graph, True

    @property
    def notes_dirty(self) -> bool:
        """Whether note shards wait to be written (changed, or recovered from the index)."""
        return self._notes is not None and bool(self._notes.dirty)

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
    final = folder / name
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(pickle.dumps((generation, payload), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # a full disk, say: no half-written temporary file is left behind
        discard([(tmp, final)])
        raise
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
