"""Owns the catalog view: what the index holds (stamps, records, attachments, excluded files, the
graph) with the shape the older in-memory catalog had, read from the store on each use.

It reads through the `ask` it is given (Vault._ask: a read on the current store that rebuilds a
damaged index once), so it knows nothing of the Vault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar

from .models import Record

if TYPE_CHECKING:
    from .graph import LinkGraph
    from .store import Store

T = TypeVar("T")


class Ask(Protocol):
    """Runs one read on the index's store and returns its answer (Vault._ask)."""

    def __call__(self, question: Callable[[Store], T], /) -> T: ...


class CatalogView:
    """The index's content as the older catalog showed it: `stamps`, `records`, `attachments`, `excluded`."""

    def __init__(self, ask: Ask, graph: Callable[[], LinkGraph]):
        self._ask = ask
        self._graph = graph

    @property
    def generation(self) -> int:
        return int(self._ask(lambda s: s.get_meta("generation", "-1")))

    @property
    def stamps(self) -> dict[str, tuple[int, int, str]]:
        return self._ask(lambda s: s.stamps())

    @property
    def records(self) -> Records:
        return Records(self._ask)

    @property
    def attachments(self) -> set[str]:
        return self._ask(lambda s: s.files("attachment"))

    @property
    def excluded(self) -> set[str]:
        return self._ask(lambda s: s.files("excluded"))

    @property
    def graph(self) -> LinkGraph:
        return self._graph()


class Records(Mapping):
    """`path -> Record`, read from the store (all at once when iterated with items()/values())."""

    def __init__(self, ask: Ask):
        self._ask = ask
        self._paths = ask(lambda s: s.paths())
        self._all: dict[str, Record] | None = None

    def _load(self) -> dict[str, Record]:
        if self._all is None:
            self._all = {r.note.path: r for r in self._ask(lambda s: list(s.records()))}
        return self._all

    def __getitem__(self, path: str) -> Record:
        if self._all is not None:
            return self._all[path]
        record = self._ask(lambda s: s.record(path))
        if record is None:
            raise KeyError(path)
        return record

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in set(self._paths)

    def items(self):
        data = self._load()
        return [(p, data[p]) for p in self._paths if p in data]

    def values(self):
        return [r for _, r in self.items()]


__all__ = ["Ask", "CatalogView", "Records"]
