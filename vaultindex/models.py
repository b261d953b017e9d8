"""Frozen dataclasses shared by every layer: what a note is, what a query returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .text import is_generated


def to_json(obj: Any) -> Any:
    """A dataclass (or a list of them) as plain JSON-serialisable data."""
    if isinstance(obj, (list, tuple)):
        return [to_json(o) for o in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    return obj


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
class BibliographyChange:
    """What a batch changed in the bibliography: the files read again (or gone), and the
    entries added, changed and removed over all of them."""

    files: tuple[str, ...] = ()
    added: int = 0
    changed: int = 0
    removed: int = 0

    @property
    def summary(self) -> str:
        """`refs/library.bib: +1 ~0 -0 entries` (`2 files: ...` for more than one)."""
        where = self.files[0] if len(self.files) == 1 else f"{len(self.files):,} files"
        return f"{where}: +{self.added} ~{self.changed} -{self.removed} entries"

    def merged(self, other: BibliographyChange | None) -> BibliographyChange:
        if other is None:
            return self
        return BibliographyChange(tuple(sorted({*self.files, *other.files})), self.added + other.added,
                                  self.changed + other.changed, self.removed + other.removed)


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
    bibliography: BibliographyChange | None = None  # None: no bibliography file was read again

    @property
    def changed(self) -> bool:
        return bool(self.added or self.modified or self.removed or self.bibliography)


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


# -- what the link graph answers (graph.py: backlinks, links, unresolved, related, path, rank) ----


@dataclass(frozen=True, slots=True)
class LinkLine:
    """One link, embed or citation as written in a note."""

    line: int
    kind: str  # "link", "embed" or "cite"
    target: str  # as written, without subpath; a citation's key
    subpath: str = ""
    display: str = ""
    context: str = ""  # the line's text


@dataclass(frozen=True, slots=True)
class Backlink:
    """A note that links to, embeds or cites the note asked about, with each place it does."""

    path: str
    title: str
    links: tuple[LinkLine, ...]


@dataclass(frozen=True, slots=True)
class MentionLine:
    line: int
    column: int  # 1-based
    text: str  # the mention as written
    context: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A note that names the note asked about without linking it."""

    path: str
    title: str
    mentions: tuple[MentionLine, ...]


@dataclass(frozen=True, slots=True)
class OutLink:
    """One outgoing link or citation of a note and where it points."""

    line: int
    kind: str  # "link", "embed" or "cite"
    target: str
    subpath: str
    display: str
    context: str
    form: str  # links: "wiki", "markdown", "frontmatter"; citations: "citekey", "doi", "arxiv"
    status: str  # "resolved", "ambiguous" or "unresolved"
    path: str | None  # the file it opens; None when unresolved
    node: str  # the graph node it points to
    candidates: tuple[str, ...] = ()  # ambiguous: every match, preferred first


@dataclass(frozen=True, slots=True)
class Use:
    path: str
    line: int
    context: str


@dataclass(frozen=True, slots=True)
class UnresolvedTarget:
    """A link target that matches no file, or a cited paper that has no note."""

    node: str
    kind: str  # "link" or "paper"
    target: str  # as written most often (a paper: "@key", "doi:...", "arXiv:...")
    count: int
    uses: tuple[Use, ...]
    # a paper in the bibliography (node "ref:<key>"): what its entry says, and where it is
    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    bib: str = ""  # "refs.bib:12"; "" when no bibliography has the paper


@dataclass(frozen=True, slots=True)
class NoteRef:
    path: str
    title: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why two notes are related, and what connects them (`via`):

    "link": "links to" and/or "linked from"; "co-citation": the notes that link to both;
    "coupling": the targets (notes, dangling targets, papers) both link to or cite;
    "tags": the shared tags; "text": nothing (Whoosh's more-like-this on the body).
    """

    kind: str
    score: float  # the raw strength of this reason (see graph.LinkGraph.related)
    via: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RelatedNote:
    path: str
    title: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class PathStep:
    """One note on a link path and how it was reached from the previous one."""

    path: str
    title: str
    direction: str = ""  # "->": the previous note links here; "<-": this note links back; "" first
    line: int = 0  # line of that link, in the note that holds it
    context: str = ""


@dataclass(frozen=True, slots=True)
class LinkPath:
    steps: tuple[PathStep, ...]
    directed: bool

    @property
    def length(self) -> int:
        return len(self.steps) - 1


@dataclass(frozen=True, slots=True)
class RankedNote:
    path: str
    title: str
    pagerank: float
    in_degree: int  # notes linking here
    out_degree: int  # notes linked from here
