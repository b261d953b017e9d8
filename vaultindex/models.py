"""Frozen dataclasses shared by every layer: what a note is, what a query returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .text import is_generated


def to_json(obj: Any) -> Any:
    """A dataclass (or a list of them) as plain JSON-serialisable data: what dataclasses.asdict
    gives (new dicts, lists and tuples all through), built without its deep copy of every
    string and number (a thousand backlinks spent 0.1 s there)."""
    if isinstance(obj, (list, tuple)):
        return [to_json(o) for o in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return _plain(obj)
    return obj


_LEAVES = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """dataclasses.asdict's conversion (3.11), with its deep copy skipped for the atomic values
    (deepcopy gives those back as they are)."""
    if isinstance(value, _LEAVES):
        return value
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None and hasattr(cls, "__dataclass_fields__"):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return cls(*[_plain(v) for v in value])
    if isinstance(value, (list, tuple)):
        return cls(_plain(v) for v in value)
    if isinstance(value, dict):
        return cls((_plain(k), _plain(v)) for k, v in value.items())
    import copy

    return copy.deepcopy(value)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _pickled_by_fields(cls: type) -> type:
    """Pickle a dataclass as a call with its field values: about twice as fast to load as
    the default for slotted dataclasses, which matters for 10,000 notes."""
    names = tuple(f.name for f in fields(cls))

    def __reduce__(self: Any) -> tuple:
        return cls, tuple(getattr(self, n) for n in names)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem found in one file; `line` is 1-based in the file, when known."""

    path: str
    message: str
    line: int | None = None
    severity: str = "warning"  # "warning" or "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str
    line: int


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Link:
    """One outgoing link as written in a note (not yet resolved).

    `target` is the decoded target without its subpath: "" for `[[#Heading]]`.
    `subpath` is what follows the first `#`, without it: "Results", "^key-result".
    """

    target: str
    kind: str = "link"  # "link" or "embed"
    subpath: str = ""
    display: str = ""
    line: int = 0
    context: str = ""
    form: str = "wiki"  # "wiki", "markdown" or "frontmatter"


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Citation:
    """A cited paper: a pandoc citekey, a DOI (lower case) or an arXiv id (no version)."""

    key: str
    kind: str = "citekey"  # "citekey", "doi" or "arxiv"
    line: int = 0
    context: str = ""


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Paper:
    """Bibliographic metadata from the frontmatter, normalised."""

    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str = ""
    doi: str = ""
    arxiv: str = ""
    citekey: str = ""
    url: str = ""
    status: str = ""


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Note:
    """Everything vaultindex knows about one Markdown file, parsed from its text alone."""

    path: str
    title: str
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # lower case, without '#', parents of nested tags included
    links: tuple[Link, ...] = ()
    citations: tuple[Citation, ...] = ()
    headings: tuple[Heading, ...] = ()
    block_ids: tuple[str, ...] = ()
    paper: Paper = Paper()
    frontmatter: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)
    body: str = ""
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def generated(self) -> bool:
        """A page vaultindex wrote itself (a tag page): left out of search, tag counts and the graph."""
        return is_generated(self.frontmatter)

    @property
    def name(self) -> str:
        """The file name without folder and without `.md`."""
        base = self.path.rsplit("/", 1)[-1]
        return base[:-3] if base.lower().endswith(".md") else base


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Record:
    """What the index stores per note: the parsed note without its body, and the file's stamp."""

    note: Note
    size: int
    mtime_ns: int
    sha1: str


@dataclass(frozen=True, slots=True)
class Section:
    """A part of a note: a heading and the lines up to the next heading (sections.py).

    `path` is the heading path, outermost first (`("Method", "Results")`); () and heading ""
    for the text before the first heading. Lines are 1-based in the file, frontmatter counted.
    """

    heading: str
    path: tuple[str, ...]
    level: int  # 1-6; 0 for the text before the first heading
    start_line: int
    end_line: int
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class SearchHit:
    path: str
    title: str
    score: float
    snippet: str = ""
    tags: tuple[str, ...] = ()
    year: int | None = None
    authors: tuple[str, ...] = ()
    fuzzy: bool = False  # found only through typo-tolerant matching
    section: Section | None = None  # the best-matching part of the note, when its text matches


@dataclass(frozen=True, slots=True)
class SyncStats:
    added: int = 0
    modified: int = 0
    removed: int = 0
    unchanged: int = 0
    notes: int = 0  # notes in the index afterwards
    seconds: float = 0.0
    rebuilt: str = ""  # why the index was rebuilt from scratch, "" when it was not
    diagnostics: tuple[Diagnostic, ...] = ()
    paths: tuple[str, ...] = ()  # the notes added, modified or removed
    attachments: tuple[str, ...] = ()  # the attachments added or removed

    @property
    def changed(self) -> bool:
        return bool(self.added or self.modified or self.removed)


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class BibEntry:
    """One entry of a bibliography file (BibTeX or CSL-JSON), decoded to Unicode (see bib/).

    `authors` are "Last, First" ("von Last, Jr, First"; a single name as it is); `doi` and
    `arxiv` are normalised as notes' ids are; `path` and `line` say where the entry is written.
    `fields` keeps every field as read (lower-case names; BibTeX values with macros expanded,
    LaTeX not decoded: `bib.decode_latex` decodes one)."""

    key: str
    type: str = ""
    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    month: int | None = None
    venue: str = ""
    doi: str = ""
    arxiv: str = ""
    url: str = ""
    path: str = ""
    line: int = 0
    crossref: str = ""
    fields: tuple[tuple[str, str], ...] = ()

    def field(self, name: str, default: str = "") -> str:
        """A field's value as read ("" when the entry has none)."""
        wanted = name.lower()
        return next((v for k, v in self.fields if k == wanted), default)

    @property
    def display_authors(self) -> tuple[str, ...]:
        """Authors as "First von Last Jr" (how a note or a title page shows them)."""
        shown = []
        for name in self.authors:
            parts = [p.strip() for p in name.split(", ")]
            if len(parts) == 2:
                shown.append(f"{parts[1]} {parts[0]}".strip())
            elif len(parts) >= 3:
                shown.append(f"{', '.join(parts[2:])} {parts[0]} {parts[1]}".strip())
            else:
                shown.append(name)
        return tuple(shown)


# -- answers, defined where they are made and imported on first use ------------------------------
# Each frozen dataclass costs about a millisecond to create; a fresh `backlinks` needs two of
# them, not all. `from vaultindex.models import Backlink` keeps working (PEP 562).

# (The answers of the whole-graph questions, RankedNote, RelatedNote, LinkPath..., are ranking.py's.)
_ELSEWHERE = dict.fromkeys(("LinkLine", "Backlink", "MentionLine", "Mention", "OutLink", "Use", "UnresolvedTarget", "NoteRef"), "answers")

if TYPE_CHECKING:
    from .answers import (
        Backlink as Backlink,
    )
    from .answers import (
        LinkLine as LinkLine,
    )
    from .answers import (
        Mention as Mention,
    )
    from .answers import (
        MentionLine as MentionLine,
    )
    from .answers import (
        NoteRef as NoteRef,
    )
    from .answers import (
        OutLink as OutLink,
    )
    from .answers import (
        UnresolvedTarget as UnresolvedTarget,
    )
    from .answers import (
        Use as Use,
    )



def __getattr__(name: str) -> Any:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __package__), name)
