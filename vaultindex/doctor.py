"""Owns `doctor`: the checks that find what will not work as meant in Obsidian.

Links that are ambiguous, differ in letter case, point at a missing heading or block, into an
excluded file or at an alias; duplicate paper notes; invalid frontmatter; sync-tool conflict
copies; the bibliography's problems (unknown citekeys, a note whose ids disagree with its
entry, a key in two files, broken entries and malformed fields). `diagnose(graph)` reads a built `LinkGraph` (graph.py) and returns a `DoctorReport`;
it never changes anything. `Vault.doctor()` is the entry point the CLI and the MCP server use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .graph import LinkGraph
from .models import Citation, Diagnostic, Link, Note
from .resolve import citation_key, name_key
from .text import fold_name, nfc

if TYPE_CHECKING:
    from .resolve import ConflictCopy

__all__ = ["DoctorReport", "Problem", "diagnose"]


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of `doctor`. Codes: ambiguous-link, case-mismatch, broken-heading,
    broken-block, excluded-target, alias-link, duplicate-paper, invalid-frontmatter, note-error,
    note-warning, not-indexed, conflict-copy, unknown-citekey, bib-mismatch, duplicate-bib-key, bib-error, bib-warning."""

    code: str
    severity: str  # "error" or "warning"
    path: str
    line: int | None
    message: str
    target: str = ""
    candidates: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class DoctorReport:
    problems: tuple[Problem, ...]
    errors: int
    warnings: int

    @property
    def ok(self) -> bool:
        return not self.errors


# -- the checks -----------------------------------------------------------------------------------


def diagnose(graph: LinkGraph, read_text: Callable[[str], str] | None = None,
             bibliography: Collection[Diagnostic] = (), files: Collection[Diagnostic] = ()) -> DoctorReport:
    """Links that will not work as meant in Obsidian, duplicate paper notes, bad frontmatter,
    sync-tool conflict copies. Generated pages are never checked nor reported; a conflict
    copy is reported once, as such (its links are its original's). `read_text(path)`, when
    given, reads a note's text to say how a conflict copy differs from its original.
    `bibliography` are the diagnostics of the last read of the bibliography files, `files`
    the scan's (files and folders left out of the index)."""
    problems: list[Problem] = []
    copies = _conflict_copies(graph)
    problems.extend(_conflict_problem(copy, read_text) for copy in copies.values())
    alias_owners: dict[str, set[str]] = {}
    for path, note in graph.notes.items():
        if path in graph.generated:
            continue
        for alias in note.aliases:
            key = name_key(alias)
            if key:
                alias_owners.setdefault(key, set()).add(path)

    for source in sorted(graph.notes):
        if source in graph.generated or source in copies:
            continue
        note = graph.notes[source]
        for link, entry in zip(note.links, graph.link_entries(source)):
            problems.extend(_check_link(graph, source, link, entry, alias_owners))
        for d in note.diagnostics:  # everything `sync` counted when it read the note
            problems.append(_note_problem(d))
    problems.extend(_duplicate_papers(graph, copies))
    problems.extend(_bibliography_problems(graph, copies, bibliography))
    problems.extend(Problem("not-indexed", d.severity, d.path, d.line, d.message) for d in files)
    problems.sort(key=lambda p: (p.path, p.line or 0, p.code))
    errors = sum(p.severity == "error" for p in problems)
    return DoctorReport(tuple(problems), errors, len(problems) - errors)

def _note_problem(d: Diagnostic) -> Problem:
    kind = "note-error" if d.severity == "error" else "note-warning"
    code = "invalid-frontmatter" if "frontmatter" in d.message else kind
    return Problem(code, d.severity, d.path, d.line, d.message)


def _check_link(graph: LinkGraph, source: str, link: Link, entry: object,
                alias_owners: dict[str, set[str]]) -> list[Problem]:
    shown = _show(link)
    found: list[Problem] = []

    def problem(code: str, severity: str, message: str, candidates: tuple[str, ...] = ()) -> None:
        found.append(Problem(code, severity, source, link.line, message, link.target, candidates))

    if entry is None:
        key = name_key(link.target)
        if "/" not in link.target and key in alias_owners:
            owners = tuple(sorted(alias_owners[key]))
            problem("alias-link", "error",
                    f"{shown} names an alias of {', '.join(owners)}; Obsidian resolves links "
                    "by file name only, so it will not open it", owners)
        return found
    if isinstance(entry, tuple):
        target = entry[0]
        problem("ambiguous-link", "warning",
                f"{shown} is ambiguous: it opens {target}; other matches: {', '.join(entry[1:])}", entry)
    else:
        target = entry
    if (
        graph.resolve_aliases
        and link.target
        and "/" not in link.target
        and not graph.resolver.paths_for_key(name_key(link.target))
    ):
        problem("alias-link", "error",
                f"{shown} resolves through an alias of {target}; Obsidian resolves links by file "
                "name only, so it will not open it", (target,))
        return found
    if target in graph.excluded:
        problem("excluded-target", "warning", f"{shown} points into an excluded file: {target}")
    if link.target and _case_differs(link.target, target):
        problem("case-mismatch", "warning",
                f"{shown} differs from the file name {_base(target)!r} only in letter case")
    if link.subpath and target in graph.notes:
        broken = _check_subpath(link.subpath, graph.notes[target], target)
        if broken is not None:
            code, message = broken
            problem(code, "error", f"{shown}: {message}")
    return found

def _conflict_copies(graph: LinkGraph) -> dict[str, ConflictCopy]:
    """path -> ConflictCopy for every note and attachment a sync tool left beside its original."""
    found: dict[str, ConflictCopy] = {}
    for path in sorted(graph.notes.keys() | graph.attachments):
        if path in graph.generated:
            continue
        copy = graph.resolver.conflict_copy(path)
        if copy is not None:
            found[path] = copy
    return found

def _duplicate_papers(graph: LinkGraph, copies: Collection[str] = ()) -> list[Problem]:
    groups: dict[tuple[str, str], set[str]] = {}
    for path, note in graph.notes.items():
        if path in graph.generated or path in copies:
            continue
        paper = note.paper
        for kind, value in (("doi", paper.doi), ("arxiv", paper.arxiv), ("citekey", paper.citekey)):
            if value:
                found = citation_key(Citation(value, kind))
                if found[1]:
                    groups.setdefault(found, set()).add(path)
    out = []
    label = {"doi": "DOI", "arxiv": "arXiv id", "citekey": "citekey"}
    for (kind, key), paths in sorted(groups.items()):
        if len(paths) > 1:
            ordered = tuple(sorted(paths))
            out.append(Problem(
                "duplicate-paper", "warning", ordered[0], None,
                f"{len(ordered)} notes have the same {label[kind]} {key}: {', '.join(ordered)}",
                key, ordered,
            ))
    return out


def _bibliography_problems(graph: LinkGraph, copies: Collection[str], diagnostics: Collection[Diagnostic]) -> list[Problem]:
    """Citekeys no note and no bibliography has (when the vault has a bibliography: an error, as
    pandoc cannot cite it and it is most often a typo; without one, a cited paper with no note is
    the normal state of a reading list, listed by `unresolved`), notes whose DOI or arXiv id
    disagrees with the entry of their citekey, and what reading the files found."""
    import difflib

    refs = graph.references
    keys = list(refs.by_key) if refs is not None else []
    out = []
    for source in sorted(graph.notes):
        if source in graph.generated or source in copies:
            continue
        for link in graph.links(source) if keys else ():
            if link.kind != "cite" or link.form != "citekey" or link.status != "unresolved":
                continue
            close = difflib.get_close_matches(link.target, keys, n=1, cutoff=0.8)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            out.append(Problem("unknown-citekey", "error", source, link.line,
                               f"@{link.target} is in no note and no bibliography{hint}", link.target))
        paper = graph.notes[source].paper
        entry = refs.by_key.get(paper.citekey) if refs is not None and paper.citekey else None
        if entry is None:
            continue
        for label, mine, theirs, kind in (("DOI", paper.doi, entry.doi, "doi"), ("arXiv id", paper.arxiv, entry.arxiv, "arxiv")):
            if mine and theirs and citation_key(Citation(mine, kind)) != citation_key(Citation(theirs, kind)):
                out.append(Problem("bib-mismatch", "warning", source, None,
                                   f"{label} {mine} differs from the bibliography's @{entry.key} "
                                   f"({entry.path}:{entry.line}): {theirs}", entry.key))
    for d in diagnostics:
        if "is also defined in" in d.message or d.message.startswith(("duplicate key", "duplicate id")):
            code = "duplicate-bib-key"
        else:
            code = "bib-error" if d.severity == "error" else "bib-warning"
        out.append(Problem(code, "error" if d.severity == "error" else "warning", d.path, d.line, d.message))
    return out


# -- helpers --------------------------------------------------------------------------------------


def _conflict_problem(copy: ConflictCopy, read_text: Callable[[str], str] | None) -> Problem:
    """One `conflict-copy` error: which file it copies, and how it differs when both can be read."""
    original = copy.original
    message = f"a conflict copy of {original} ({copy.tool})"
    if read_text is not None and copy.path.lower().endswith(".md"):
        try:
            summary = _difference(read_text(original), read_text(copy.path))
        except Exception:  # noqa: BLE001 - a file gone or unreadable since the scan: still report the copy
            summary = "could not be compared"
        message += f": {summary}"
    message += "; merge what you need into the original, then delete the copy"
    return Problem("conflict-copy", "error", copy.path, None, message, original, (original,))


def _difference(original: str, copy: str) -> str:
    """How `copy` differs from `original`, in one line: lines added/removed and the first change."""
    import difflib

    if original == copy:
        return "identical to it"
    a, b = original.splitlines(), copy.splitlines()
    added = removed = 0
    first = None
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if tag == "equal":
            continue
        removed += i2 - i1
        added += j2 - j1
        if first is None:
            first = (j1 + 1, b[j1] if j1 < j2 else None, a[i1] if i1 < i2 else None)
    if first is None:  # only line endings or a final newline differ
        return "differs only in line endings or whitespace at the end"
    line, new, old = first
    shown = _clip(new) if new is not None else f"(removed) {_clip(old or '')}"
    return f"+{added}/-{removed} lines; first difference at line {line}: {shown}"


def _clip(text: str, size: int = 60) -> str:
    text = text.strip()
    return repr(text if len(text) <= size else text[: size - 1] + "…")


def _show(link: Link) -> str:
    """The link roughly as written, for messages."""
    target = link.target + (f"#{link.subpath}" if link.subpath else "")
    if link.form == "markdown":
        return f"[{link.display}]({target})"
    bang = "!" if link.kind == "embed" else ""
    return f"{bang}[[{target}{'|' + link.display if link.display else ''}]]"


def _case_differs(target: str, path: str) -> bool:
    """True when the written target names `path` with different letter case somewhere."""
    written = [p for p in target.strip("/").split("/") if p not in ("", ".", "..")]
    actual = path.split("/")[-len(written):] if written else []
    if not written or len(actual) != len(written):
        return False
    if not written[-1].lower().endswith(".md") and actual[-1].lower().endswith(".md"):
        actual[-1] = actual[-1][:-3]
    for w, a in zip(written, actual):
        w, a = nfc(w), nfc(a)
        if w != a and fold_name(w) == fold_name(a):
            return True
    return False


_NON_WORD = re.compile(r"[\W_]+")


def _heading_key(text: str) -> str:
    """Headings compare leniently: case, punctuation and spacing do not matter."""
    return _NON_WORD.sub(" ", fold_name(text)).strip()


def _check_subpath(subpath: str, note: Note, path: str) -> tuple[str, str] | None:
    """(code, message) when `subpath` names no heading or block of `note`, else None."""
    if subpath.startswith("^"):
        block = subpath[1:].strip().casefold()
        if block and block not in {b.casefold() for b in note.block_ids}:
            return "broken-block", f"no block ^{subpath[1:]} in {path}"
        return None
    wanted = _heading_key(subpath.split("#")[-1])
    if not wanted:
        return None
    if wanted not in {_heading_key(h.text) for h in note.headings}:
        return "broken-heading", f"no heading {subpath.split('#')[-1]!r} in {path}"
    return None


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]
