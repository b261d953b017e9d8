"""What the link questions answer (backlinks, mentions, links, unresolved, orphans): frozen
dataclasses built from the store's link rows (vault.py) or a LinkGraph (graph.py). Apart from
models.py so that a command loads only the answers it gives (each dataclass costs about a
millisecond to create on import); `models` still gives these names (imported on first use)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LinkLine", "Backlink", "MentionLine", "Mention", "OutLink", "Use", "UnresolvedTarget", "NoteRef"]


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


def paper_label(node: str) -> str:
    """How a cited paper with no note and no entry is shown: `@key`, `doi:...`, `arXiv:...`."""
    kind, _, key = node[len("paper:") :].partition(":")
    return {"citekey": "@", "doi": "doi:", "arxiv": "arXiv:"}.get(kind, kind + ":") + key
