"""Owns `doctor`: the checks that find what will not work as meant in Obsidian.

Links that are ambiguous, differ in letter case, point at a missing heading or block, into an
excluded file or at an alias; duplicate paper notes; invalid frontmatter; sync-tool conflict
copies; the bibliography's problems (unknown citekeys, a note whose ids disagree with its
entry, a key in two files, broken entries and malformed fields). `diagnose(graph)` reads a built `LinkGraph` (graph.py) and returns a `DoctorReport`;
it never changes anything. `Vault.doctor()` is the entry point the CLI and the MCP server use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .linkstate import base
from .models import Citation, Diagnostic, Link, Note, Paper
from .resolve import citation_key, name_key
from .text import fold_name, nfc

if TYPE_CHECKING:
    from .graph import LinkGraph
    from .references import Reference
    from .resolve import ConflictCopy
    from .store import Store

__all__ = ["DoctorReport", "Facts", "Problem", "check", "diagnose", "graph_facts", "store_facts"]


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


# -- what the checks read ---------------------------------------------------------------------------

Entry = str | tuple[str, ...] | None  # where a link points, as linkstate.Entry


@dataclass
class Facts:
    """What the checks read, gathered from a built graph (`graph_facts`) or from the store's
    rows (`store_facts`, what `Vault.doctor` uses: SQL that never loads the whole vault).
    Collections may hold more than can be a problem (the graph's hold everything): each check
    decides."""

    links: Iterable[tuple[str, Link, Entry]]  # (source, link, entry) by source, in note order
    alias_owners: dict[str, set[str]]  # name_key(alias) -> non-generated notes with that alias
    has_name: Callable[[str], bool]  # whether any file's name has this name_key (alias resolution)
    excluded: Collection[str]
    anchors: Callable[[str], Anchors | None]  # of a note the links' #heading / ^block name (generated ones too)
    diagnostics: Iterable[Diagnostic]  # of the non-generated notes, by path
    papers: Iterable[tuple[str, Paper]]  # non-generated notes that may share a paper id
    copies: dict[str, ConflictCopy]
    resolve_aliases: bool = False
    bib_keys: list[str] = field(default_factory=list)
    unknown_citekeys: Iterable[tuple[str, int, str]] = ()  # (source, line, key) of citations pointing nowhere
    citekey_entries: Iterable[tuple[str, Paper, Reference]] = ()  # notes whose citekey is an entry's


def graph_facts(graph: LinkGraph) -> Facts:
    """The facts of a built LinkGraph (every note and link: the whole-graph computation)."""
    copies = _conflict_copies(sorted(graph.notes.keys() | graph.attachments), graph.generated,
                              lambda path: graph.resolver.conflict_copy(path))
    regular = [p for p in sorted(graph.notes) if p not in graph.generated]
    alias_owners: dict[str, set[str]] = {}
    for path in regular:
        for alias in graph.notes[path].aliases:
            if key := name_key(alias):
                alias_owners.setdefault(key, set()).add(path)
    refs = graph.references
    unknown = [(source, link.line, link.target) for source in regular for link in graph.links(source)
               if link.kind == "cite" and link.form == "citekey" and link.status == "unresolved"]
    entries = []
    for path in regular:
        paper = graph.notes[path].paper
        entry = refs.by_key.get(paper.citekey) if refs is not None and paper.citekey else None
        if entry is not None:
            entries.append((path, paper, entry))
    return Facts(
        links=[(source, link, entry) for source in regular
               for link, entry in zip(graph.notes[source].links, graph.link_entries(source))],
        alias_owners=alias_owners,
        has_name=lambda key: bool(graph.resolver.paths_for_key(key)),
        excluded=graph.excluded,
        anchors=_anchors_of(graph.notes),
        diagnostics=[d for path in regular for d in graph.notes[path].diagnostics],
        papers=[(path, graph.notes[path].paper) for path in regular],
        copies=copies,
        resolve_aliases=graph.resolve_aliases,
        bib_keys=list(refs.by_key) if refs is not None else [],
        unknown_citekeys=unknown,
        citekey_entries=entries,
    )


def store_facts(store: Store, resolve_aliases: bool) -> Facts:
    """The facts from the store's rows (storedoctor.py): the links that can be a problem, the
    notes with a diagnostic, the notes sharing a paper id, and the paths (for conflict copies)."""
    from .references import from_row
    from .storedoctor import DoctorRows

    rows = DoctorRows(store)
    notes, files = rows.file_paths()
    generated = {p for p, g in notes if g}
    attachments = rows.attachments()
    copies = _conflict_copies(sorted({p for p, _ in notes} | set(attachments)), generated,
                              _copy_finder([p for p, _ in notes] + files))
    links = list(rows.links(resolve_aliases, generated))
    anchored = [(e if isinstance(e, str) else e[0], link.subpath.startswith("^")) for _, link, e in links if link.subpath and e is not None]
    blocked = sorted({p for p, block in anchored if block})
    blocks = rows.block_ids(blocked) if blocked else {}
    targets = {p: Anchors(frozenset(map(_heading_key, texts)), frozenset(b.casefold() for b in blocks.get(p, ())))
               for p, texts in rows.heading_texts(sorted({p for p, _ in anchored})).items()}
    alias_owners: dict[str, set[str]] = {}
    dangling = {name_key(link.target) for _, link, entry in links if entry is None and "/" not in link.target}
    for key, path in rows.alias_owners(dangling - {""}) if dangling else ():
        if path not in generated:
            alias_owners.setdefault(key, set()).add(path)
    names: set[str] | None = None

    def has_name(key: str) -> bool:
        nonlocal names
        if names is None:
            names = {fold_name(p).rsplit("/", 1)[-1] for p in [p for p, _ in notes] + files}  # as Resolver.paths_for_key
        return key + ".md" in names or (not key.endswith(".md") and key in names)

    bib_keys = rows.bib_keys()
    return Facts(
        links=links,
        alias_owners=alias_owners,
        has_name=has_name,
        excluded=rows.excluded(),
        anchors=targets.get,
        diagnostics=rows.diagnostics(),
        papers=[(path, Paper(citekey=c, doi=d, arxiv=x)) for path, (c, d, x) in sorted(rows.shared_ids().items())],
        copies=copies,
        resolve_aliases=resolve_aliases,
        bib_keys=bib_keys,
        unknown_citekeys=rows.unknown_citekeys() if bib_keys else (),
        citekey_entries=[(p, Paper(citekey=c, doi=d, arxiv=x), from_row(entry)) for p, c, d, x, entry in rows.citekey_entries()],
    )


def _copy_finder(paths: Iterable[str]) -> Callable[[str], ConflictCopy | None]:
    """conflict_copy over the given paths (names compared folded, as the resolver does); the
    folded set is made only when some name reads as a copy."""
    from .resolve import conflict_copy

    known: set[str] | None = None
    source = list(paths)

    def find(path: str) -> ConflictCopy | None:
        nonlocal known
        if known is None:
            known = {fold_name(p) for p in source}
        folded = known
        return conflict_copy(path, lambda original: fold_name(original) in folded)

    return find


# -- the checks -----------------------------------------------------------------------------------


def diagnose(graph: LinkGraph, read_text: Callable[[str], str] | None = None,
             bibliography: Collection[Diagnostic] = (), files: Collection[Diagnostic] = ()) -> DoctorReport:
    """`check(graph_facts(graph), ...)`: doctor over a built graph."""
    return check(graph_facts(graph), read_text, bibliography, files)


def check(facts: Facts, read_text: Callable[[str], str] | None = None,
          bibliography: Collection[Diagnostic] = (), files: Collection[Diagnostic] = ()) -> DoctorReport:
    """Links that will not work as meant in Obsidian, duplicate paper notes, bad frontmatter,
    sync-tool conflict copies. Generated pages are never checked nor reported; a conflict
    copy is reported once, as such (its links are its original's). `read_text(path)`, when
    given, reads a note's text to say how a conflict copy differs from its original.
    `bibliography` are the diagnostics of the last read of the bibliography files, `files`
    the scan's (files and folders left out of the index)."""
    problems: list[Problem] = []
    copies = facts.copies
    problems.extend(_conflict_problem(copy, read_text) for copy in copies.values())
    for source, link, entry in facts.links:
        if source not in copies:
            problems.extend(_check_link(facts, source, link, entry))
    # everything `sync` counted when it read the note
    problems.extend(_note_problem(d) for d in facts.diagnostics if d.path not in copies)
    problems.extend(_duplicate_papers((p, paper) for p, paper in facts.papers if p not in copies))
    problems.extend(_bibliography_problems(facts, copies, bibliography))
    problems.extend(Problem("not-indexed", d.severity, d.path, d.line, d.message) for d in files)
    problems.sort(key=lambda p: (p.path, p.line or 0, p.code))
    errors = sum(p.severity == "error" for p in problems)
    return DoctorReport(tuple(problems), errors, len(problems) - errors)

def _note_problem(d: Diagnostic) -> Problem:
    kind = "note-error" if d.severity == "error" else "note-warning"
    code = "invalid-frontmatter" if "frontmatter" in d.message else kind
    return Problem(code, d.severity, d.path, d.line, d.message)


def _check_link(facts: Facts, source: str, link: Link, entry: Entry) -> list[Problem]:
    shown = _show(link)
    found: list[Problem] = []

    def problem(code: str, severity: str, message: str, candidates: tuple[str, ...] = ()) -> None:
        found.append(Problem(code, severity, source, link.line, message, link.target, candidates))

    if entry is None:
        key = name_key(link.target)
        if "/" not in link.target and key in facts.alias_owners:
            owners = tuple(sorted(facts.alias_owners[key]))
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
    if facts.resolve_aliases and link.target and "/" not in link.target and not facts.has_name(name_key(link.target)):
        problem("alias-link", "error",
                f"{shown} resolves through an alias of {target}; Obsidian resolves links by file "
                "name only, so it will not open it", (target,))
        return found
    if target in facts.excluded:
        problem("excluded-target", "warning", f"{shown} points into an excluded file: {target}")
    if link.target and _case_differs(link.target, target):
        problem("case-mismatch", "warning",
                f"{shown} differs from the file name {base(target)!r} only in letter case")
    anchors = facts.anchors(target) if link.subpath else None
    if anchors is not None:
        broken = _check_subpath(link.subpath, anchors, target)
        if broken is not None:
            code, message = broken
            problem(code, "error", f"{shown}: {message}")
    return found

def _conflict_copies(paths: Iterable[str], generated: Collection[str],
                     find: Callable[[str], ConflictCopy | None]) -> dict[str, ConflictCopy]:
    """path -> ConflictCopy for every note and attachment a sync tool left beside its original."""
    from .resolve import conflict_candidates

    found: dict[str, ConflictCopy] = {}
    for path in paths:
        if path in generated or not conflict_candidates(path):
            continue
        copy = find(path)
        if copy is not None:
            found[path] = copy
    return found

def _duplicate_papers(papers: Iterable[tuple[str, Paper]]) -> list[Problem]:
    groups: dict[tuple[str, str], set[str]] = {}
    for path, paper in papers:
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


def _bibliography_problems(facts: Facts, copies: Collection[str], diagnostics: Collection[Diagnostic]) -> list[Problem]:
    """Citekeys no note and no bibliography has (when the vault has a bibliography: an error, as
    pandoc cannot cite it and it is most often a typo; without one, a cited paper with no note is
    the normal state of a reading list, listed by `unresolved`), notes whose DOI or arXiv id
    disagrees with the entry of their citekey, and what reading the files found."""
    import difflib

    keys = facts.bib_keys
    out = []
    for source, line, key in facts.unknown_citekeys if keys else ():
        if source in copies:
            continue
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.8)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        out.append(Problem("unknown-citekey", "error", source, line, f"@{key} is in no note and no bibliography{hint}", key))
    for source, paper, entry in facts.citekey_entries:
        if source in copies:
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


@dataclass(frozen=True, slots=True)
class Anchors:
    """What a link's `#heading` or `^block` can name in one note: its headings' keys
    (`_heading_key`) and its block ids, case-folded."""

    headings: frozenset[str]
    blocks: frozenset[str]


def _anchors_of(notes: Mapping[str, Note]) -> Callable[[str], Anchors | None]:
    """The Anchors of the notes in `notes`, each worked out once."""
    cache: dict[str, Anchors] = {}

    def anchors(path: str) -> Anchors | None:
        found = cache.get(path)
        if found is None and (note := notes.get(path)) is not None:
            found = cache[path] = Anchors(frozenset(_heading_key(h.text) for h in note.headings),
                                          frozenset(b.casefold() for b in note.block_ids))
        return found

    return anchors


def _check_subpath(subpath: str, anchors: Anchors, path: str) -> tuple[str, str] | None:
    """(code, message) when `subpath` names no heading or block of the note, else None."""
    if subpath.startswith("^"):
        block = subpath[1:].strip().casefold()
        if block and block not in anchors.blocks:
            return "broken-block", f"no block ^{subpath[1:]} in {path}"
        return None
    wanted = _heading_key(subpath.split("#")[-1])
    if not wanted:
        return None
    if wanted not in anchors.headings:
        return "broken-heading", f"no heading {subpath.split('#')[-1]!r} in {path}"
    return None
