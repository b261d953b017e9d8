"""The library's exceptions; each message says what to do next. The CLI prints them as `Error: ...`."""


class VaultIndexError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""


class VaultNotFound(VaultIndexError):
    """The vault path does not exist or is not a folder."""


class ConfigError(VaultIndexError):
    """`.vaultindex/config.toml` cannot be read or has a bad value."""


class QueryError(VaultIndexError):
    """A search query that cannot be parsed."""


class IndexLocked(VaultIndexError):
    """Another process is writing the index."""


class IndexWriteError(VaultIndexError):
    """The index cannot be written (a full disk, a read-only folder); the previous index is intact."""


class IndexCorrupt(VaultIndexError):
    """The index on disk cannot be read; it will be rebuilt."""


class NoteNotFound(VaultIndexError):
    """A NOTE argument names no note."""


class AmbiguousNote(VaultIndexError):
    """A NOTE argument names several notes."""

    def __init__(self, query: str, candidates: list[str]):
        self.candidates = candidates
        listing = ", ".join(candidates)
        super().__init__(f'"{query}" matches several notes: {listing}. Give the path instead.')


class WatchError(VaultIndexError):
    """The watcher cannot start (already running, nothing to watch)."""
