"""Owns bibliographies: BibTeX/BibLaTeX (`*.bib`) and CSL-JSON files -> BibEntry values.

This package's modules: `bibtex` (the one importer of bibtexparser), `latex` (LaTeX -> Unicode,
the one importer of pylatexenc), `csl` (CSL-JSON), `fields` (names, dates and ids, shared by
both readers); here, the files, their sources in a vault and the `Bibliography` with its lookups.
Both libraries are imported on first use. Reading is pure per file (`parse_bibtex`,
`parse_csl_json`: text -> entries and diagnostics, never raising); `read` puts files together
into a `Bibliography` and re-reads only the files whose fingerprint (size, mtime, then SHA-1)
changed since a previous one.

Typical use (what a sync does):

    sources, problems = bib.vault_sources(root, config, attachments, frontmatters)
    bibliography = bib.read(sources, previous=old_bibliography)
    entry = bibliography.find(citation.kind, citation.key)   # citekey, doi or arxiv
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import ALWAYS_IGNORED_DIRS, Config
from ..models import BibEntry, Diagnostic
from .bibtex import parse_bibtex
from .csl import parse_csl_json
from .fields import NOT_INHERITED, entry_from_fields, parse_month, parse_names
from .latex import decode_latex, verbatim

BIBTEX_SUFFIX = ".bib"
CSL_JSON_SUFFIX = ".json"
MAX_BIB_SIZE = 64 * 1024 * 1024  # a whole Zotero library export is a few MB; past this, refuse

__all__ = [
    "BibEntry",
    "BibFile",
    "BibSource",
    "Bibliography",
    "Fingerprint",
    "decode_latex",
    "frontmatter_bibliographies",
    "load",
    "outside_files",
    "parse_bibtex",
    "parse_csl_json",
    "parse_month",
    "parse_names",
    "read",
    "vault_sources",
]


# ------------------------------------------------------------------------------------------------
# files, sources, the bibliography
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a file looked like when read: a changed size or mtime means "maybe changed" (then the
    SHA-1 decides), so an unchanged file is never read again."""

    size: int
    mtime_ns: int
    sha1: str


@dataclass(frozen=True, slots=True)
class BibSource:
    """A bibliography file to read: `path` as shown (vault-relative POSIX, or as written in the
    config for a file outside the vault), `file` the absolute file, `format` bibtex or csl-json."""

    path: str
    file: Path
    format: str
    origin: str = "vault"  # "vault" (a *.bib found by the scan), "config" or "frontmatter"


@dataclass(frozen=True)
class BibFile:
    source: BibSource
    fingerprint: Fingerprint | None  # None: the file could not be read
    entries: tuple[BibEntry, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def path(self) -> str:
        return self.source.path


@dataclass(frozen=True)
class Bibliography:
    """Every entry of every bibliography file. Keys are case-sensitive (as in pandoc); when two
    files define a key, the first file (config order, then vault paths) wins and a diagnostic
    says so. DOIs and arXiv ids are normalised as notes' ids are."""

    files: tuple[BibFile, ...] = ()
    by_key: Mapping[str, BibEntry] = field(default_factory=dict)
    by_doi: Mapping[str, BibEntry] = field(default_factory=dict)
    by_arxiv: Mapping[str, BibEntry] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()

    def __len__(self) -> int:
        return len(self.by_key)

    def __iter__(self) -> Iterator[BibEntry]:
        return iter(self.by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self.by_key

    def get(self, key: str) -> BibEntry | None:
        """The entry for a citekey (a leading `@` is ignored)."""
        return self.by_key.get(key.removeprefix("@") if key.startswith("@") else key)

    def find(self, kind: str, key: str) -> BibEntry | None:
        """The entry a citation names: kind "citekey", "doi" or "arxiv" (as models.Citation)."""
        if kind == "doi":
            return self.by_doi.get(key.lower())
        if kind == "arxiv":
            return self.by_arxiv.get(key.lower())
        return self.get(key)

    def file(self, path: str) -> BibFile | None:
        return next((f for f in self.files if f.path == path), None)

    def changed_keys(self, previous: Bibliography | None) -> set[str]:
        """Citekeys whose entry was added, removed or changed since `previous` (what a caller must
        re-resolve). Entries moving to another line count as changed."""
        if previous is None:
            return set(self.by_key)
        old, new = previous.by_key, self.by_key
        return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


def _fingerprint(file: Path) -> tuple[os.stat_result, None] | tuple[None, str]:
    try:
        st = os.stat(file)
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):
        return None, "is not a regular file, skipped"
    if st.st_size > MAX_BIB_SIZE:
        return None, f"larger than {MAX_BIB_SIZE // 1024 // 1024} MB, skipped"
    return st, None


def _read_bytes(file: Path) -> bytes:
    # Opened without blocking and checked: a FIFO put in place of a .bib never hangs a sync.
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(22, "not a regular file")
        return fh.read(MAX_BIB_SIZE + 1)


def _decode_bytes(data: bytes, path: str) -> tuple[str, list[Diagnostic]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        note = Diagnostic(path, "not UTF-8; read as Latin-1 (save it as UTF-8 to be sure)", line)
        return data.decode("latin-1"), [note]


def read_file(source: BibSource, previous: BibFile | None = None) -> BibFile:
    """One bibliography file; `previous` is reused as it is when the file has not changed."""
    st, problem = _fingerprint(source.file)
    if st is None:
        return BibFile(source, None, (), (Diagnostic(source.path, problem or "cannot be read", None, "error"),))
    old = previous.fingerprint if previous is not None and previous.source == source else None
    if old is not None and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
        return previous  # type: ignore[return-value]
    try:
        data = _read_bytes(source.file)
    except OSError as exc:
        return BibFile(source, None, (), (Diagnostic(source.path, f"cannot be read: {exc.strerror or exc}", None, "error"),))
    sha1 = hashlib.sha1(data).hexdigest()
    fingerprint = Fingerprint(len(data), st.st_mtime_ns, sha1)
    if old is not None and old.sha1 == sha1:
        return BibFile(source, fingerprint, previous.entries, previous.diagnostics)  # type: ignore[union-attr]
    text, diagnostics = _decode_bytes(data, source.path)
    parser = parse_bibtex if source.format == "bibtex" else parse_csl_json
    entries, found = parser(text, source.path)
    return BibFile(source, fingerprint, tuple(entries), tuple(diagnostics + found))


def read(sources: Iterable[BibSource], previous: Bibliography | None = None) -> Bibliography:
    """Read the bibliography files (only those changed since `previous`) and index their entries."""
    old_files = {f.source.path: f for f in previous.files} if previous is not None else {}
    files = tuple(read_file(s, old_files.get(s.path)) for s in sources)
    if previous is not None and len(files) == len(previous.files) and all(a is b for a, b in zip(files, previous.files)):
        return previous  # nothing changed: not even the key tables are rebuilt
    return assemble(files)


def assemble(files: tuple[BibFile, ...]) -> Bibliography:
    """Files -> the Bibliography: first definition of a key wins; crossref applied."""
    by_key: dict[str, BibEntry] = {}
    diagnostics: list[Diagnostic] = [d for f in files for d in f.diagnostics]
    for f in files:
        for entry in f.entries:
            first = by_key.get(entry.key)
            if first is None:
                by_key[entry.key] = entry
            elif first.path != entry.path:
                diagnostics.append(
                    Diagnostic(
                        entry.path,
                        f'key "{entry.key}" is also defined in {first.path}:{first.line}; that one is used',
                        entry.line,
                    )
                )
    for key, entry in list(by_key.items()):
        if entry.crossref:
            resolved, problem = _apply_crossref(entry, by_key)
            by_key[key] = resolved
            if problem:
                diagnostics.append(Diagnostic(entry.path, f"{key}: {problem}", entry.line))
    by_doi: dict[str, BibEntry] = {}
    by_arxiv: dict[str, BibEntry] = {}
    for entry in by_key.values():
        if entry.doi:
            by_doi.setdefault(entry.doi, entry)
        if entry.arxiv:
            by_arxiv.setdefault(entry.arxiv, entry)
    return Bibliography(files, by_key, by_doi, by_arxiv, tuple(diagnostics))


def _apply_crossref(entry: BibEntry, by_key: Mapping[str, BibEntry]) -> tuple[BibEntry, str]:
    fields = dict(entry.fields)
    parent_key, seen = entry.crossref, {entry.key}
    while parent_key:
        parent = by_key.get(parent_key)
        if parent is None:
            return entry if len(seen) == 1 else _rebuilt(entry, fields), f'crossref "{parent_key}" is not in any bibliography'
        if parent.key in seen:
            return _rebuilt(entry, fields), f'crossref loop through "{parent_key}"'
        seen.add(parent.key)
        parent_fields = dict(parent.fields)
        for name, value in parent_fields.items():
            if name not in NOT_INHERITED and name not in fields:
                fields[name] = value
        if "booktitle" not in fields and parent_fields.get("title"):
            fields["booktitle"] = parent_fields["title"]  # biblatex: the parent's title is the book
        parent_key = verbatim(parent_fields.get("crossref", ""))
    return _rebuilt(entry, fields), ""


def _rebuilt(entry: BibEntry, fields: dict[str, str]) -> BibEntry:
    rebuilt, _ = entry_from_fields(entry.key, entry.type, fields, entry.path, entry.line)
    return rebuilt


def _safe_relpath(base: str, target: str) -> str | None:
    """`target` (POSIX, relative to the vault folder `base`) as a clean vault path, or None when
    it leaves the vault or names an ignored folder."""
    joined = posixpath.normpath(posixpath.join(base, target))
    if joined.startswith("../") or joined == ".." or joined.startswith("/") or joined == ".":
        return None
    if any(part in ALWAYS_IGNORED_DIRS for part in joined.split("/")[:-1]):
        return None
    return joined


def frontmatter_bibliographies(frontmatters: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    """Pure: the pandoc `bibliography:` key of each note -> [(note path, candidate paths)].

    A value is a path or a list of paths; a relative one is tried from the note's folder, then
    from the vault root; one starting with `/` is from the vault root. Paths that leave the vault
    are dropped (a note cannot make vaultindex read files elsewhere)."""
    found = []
    for note_path, fm in frontmatters.items():
        if not isinstance(fm, Mapping):
            continue
        value = fm.get("bibliography")
        items = value if isinstance(value, list) else [value]
        folder = posixpath.dirname(note_path)
        for item in items:
            if not isinstance(item, str) or not item.strip():
                continue
            item = item.strip().replace("\\", "/")
            if item.startswith("/"):
                candidates = [_safe_relpath("", item.lstrip("/"))]
            else:
                candidates = [_safe_relpath(folder, item), _safe_relpath("", item)]
            unique = tuple(dict.fromkeys(c for c in candidates if c))
            if unique:
                found.append((note_path, unique))
    return found


def _format_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(BIBTEX_SUFFIX):
        return "bibtex"
    if lower.endswith(CSL_JSON_SUFFIX):
        return "csl-json"
    return None


def vault_sources(
    root: Path,
    config: Config,
    attachments: Iterable[str],
    frontmatters: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[BibSource], list[Diagnostic]]:
    """The bibliography files of a vault, in the order their keys take precedence: the config's
    `bibliography` list, then every `*.bib` the scan found (sorted), then files named in notes'
    frontmatter. A file named twice is read once."""
    sources: list[BibSource] = []
    diagnostics: list[Diagnostic] = []
    seen: set[str] = set()
    real_root = os.path.realpath(root)

    def add(path: str, file: Path, origin: str, where: str, line: int | None = None) -> None:
        fmt = _format_of(path)
        if fmt is None:
            diagnostics.append(Diagnostic(where, f"bibliography {path!r}: only .bib and CSL .json files are read", line))
            return
        ident = os.path.realpath(file)
        if ident in seen:
            return
        seen.add(ident)
        sources.append(BibSource(path, file, fmt, origin))

    for written in config.bibliography:
        file = Path(written).expanduser()
        if not file.is_absolute():
            file = root / file
        inside = os.path.realpath(file)
        shown = os.path.relpath(inside, real_root).replace(os.sep, "/") if inside.startswith(real_root + os.sep) else written
        add(shown, file, "config", ".vaultindex/config.toml")
    for path in sorted(p for p in attachments if p.lower().endswith(BIBTEX_SUFFIX)):
        add(path, root / path, "vault", path)
    for note_path, candidates in frontmatter_bibliographies(frontmatters or {}):
        chosen = next((c for c in candidates if _inside(root, real_root, c)), None)
        if chosen is None:
            diagnostics.append(Diagnostic(note_path, f"bibliography {candidates[0]!r} not found in the vault"))
            continue
        add(chosen, root / chosen, "frontmatter", note_path)
    return sources, diagnostics


def outside_files(root: Path, config: Config) -> list[Path]:
    """The files of the config's `bibliography` list that are not inside the vault (a Zotero
    export kept elsewhere), as real absolute paths: `watch` watches them apart."""
    real_root = os.path.realpath(root)
    found = []
    for written in config.bibliography:
        file = Path(written).expanduser()
        real = os.path.realpath(file if file.is_absolute() else root / file)
        if not real.startswith(real_root + os.sep) and _format_of(real) is not None:
            found.append(Path(real))
    return list(dict.fromkeys(found))


def _inside(root: Path, real_root: str, rel: str) -> bool:
    """`rel` is a regular file whose real location is inside the vault."""
    real = os.path.realpath(root / rel)
    return real.startswith(real_root + os.sep) and os.path.isfile(real)


def load(
    root: Path,
    config: Config,
    frontmatters: Mapping[str, Mapping[str, Any]] | None = None,
    previous: Bibliography | None = None,
) -> Bibliography:
    """Scan the vault for bibliography files and read them (a convenience over vault_sources and
    read for callers that have no scan at hand)."""
    from ..scan import scan

    listing = scan(root, config)
    sources, problems = vault_sources(root, config, listing.attachments, frontmatters)
    bibliography = read(sources, previous)
    if not problems:
        return bibliography
    return Bibliography(
        bibliography.files,
        bibliography.by_key,
        bibliography.by_doi,
        bibliography.by_arxiv,
        tuple(problems) + bibliography.diagnostics,
    )
