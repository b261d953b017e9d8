"""PURE link and citation resolution over the set of vault paths, following Obsidian's rules.

Nothing here reads the disk: a `Resolver` is told which paths exist (notes and attachments)
and answers where a link target points; a `CitationIndex` is told which notes exist and
answers which note a citation points to. Both are incremental (`add` / `remove`) and give
exactly the answers a freshly built instance would.

Link rules (Obsidian's observed behaviour, see docs/DESIGN):

* names compare case-insensitively (Unicode case folding) after NFC normalisation;
* the exact file name is tried first, then the name plus ``.md`` (unless the target already
  ends in ``.md``): ``[[Foo]]`` finds ``Foo.md``, ``[[fig.png]]`` finds ``fig.png``,
  ``[[fig]]`` does not find ``fig.png``, ``[[Foo.pdf]]`` finds ``Foo.pdf`` before
  ``Foo.pdf.md``;
* a bare name is looked up vault-wide; a target with ``/`` is a path from the vault root,
  else a path suffix aligned to a folder boundary; a leading ``/`` means the root only;
  ``./`` and ``../`` are relative to the linking note's folder (escaping the root fails);
* several matches: a file at the vault root wins, else one in the linking note's folder,
  else the shortest path (in characters), else the alphabetically first; the answer is then
  "ambiguous" and lists every candidate in that order;
* aliases are a fallback for bare targets only, and only when ``resolve_aliases`` is on;
* generated pages and sync-tool conflict copies are "quiet": a bare name reaches one only
  when no other file has that name (vaultindex's own rule, see docs/obsidian-compatibility.md).

Invalidation contract for callers that keep resolved links: adding or removing the file
``dir/Name.ext`` (or changing its aliases ``A``) can only change the resolution of targets
whose ``link_key(target)`` is ``name_key("Name.ext")`` (or ``name_key(a)`` for ``a`` in ``A``,
old and new), or ``name_key`` of a path in ``Resolver.copies_of(dir/Name.ext)`` (its conflict
copies, which become quiet or loud with it); re-adding a path with another ``generated`` flag
changes the targets keyed by its own name. For citations, re-resolve those whose
``citation_key(c)`` is in ``CitationIndex.keys_for(path)`` (before and after the change).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .models import Citation, Link, Note
from .text import fold_name

__all__ = [
    "Resolution",
    "Resolver",
    "CitationIndex",
    "name_key",
    "link_key",
    "citation_key",
    "ConflictCopy",
    "conflict_copy",
    "conflict_candidates",
    "resolve_file",
]


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a link target or a citation points.

    `status` is "resolved" (one match), "ambiguous" (several matches; `path` is still the one
    Obsidian would open, `candidates` lists all of them in preference order) or "unresolved".
    `via` says how it was found: "name", "path", "relative", "alias", "self", "citekey",
    "filename", "doi" or "arxiv" ("" when unresolved).
    """

    status: str
    path: str | None = None
    candidates: tuple[str, ...] = ()
    via: str = ""


_UNRESOLVED = Resolution("unresolved")


# -- sync-tool conflict copies ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConflictCopy:
    """A file that a sync tool left beside `original` when two machines changed it at once."""

    path: str
    original: str
    tool: str  # "Syncthing", "Dropbox", "Nextcloud/ownCloud" or "OneDrive"


_DATE = r"\d{4}-\d{2}-\d{2}"
# Each pattern matches the part a tool inserts between a file's stem and its extension.
_CONFLICT_MARKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # note.sync-conflict-20260101-120000-ABCDEFG.md (the device id's first 7 characters)
    ("Syncthing", re.compile(r"\.sync-conflict-\d{8}-\d{6}-[A-Z0-9]{7}")),
    # note (conflicted copy 2026-01-01 120000).md, also with the user's name before the date
    ("Nextcloud/ownCloud", re.compile(rf" \(conflicted copy (?:[^()/]{{1,64}} )?{_DATE} \d{{6}}\)")),
    # ownCloud before 2.5: note_conflict-20260101-120000.md
    ("Nextcloud/ownCloud", re.compile(r"_conflict-\d{8}-\d{6}")),
    # note (conflicted copy 2026-01-01).md, note (Someone's conflicted copy 2026-01-01).md, ... (1).md
    ("Dropbox", re.compile(rf" \((?:[^()/]{{1,64}}['\u2019]s )?conflicted copy {_DATE}(?: \(\d+\))?\)")),
    # note-DESKTOP-AB12CD3.md: OneDrive appends the computer's name. Any word can follow a
    # hyphen, so only the names Windows gives a computer itself (DESKTOP-/LAPTOP-/WIN- and
    # 7 to 11 upper-case letters and digits, at least one digit) count.
    ("OneDrive", re.compile(r"-(?:DESKTOP|LAPTOP|WIN)-(?=[A-Z]*\d)[A-Z0-9]{7,11}")),
)


def conflict_candidates(path: str) -> tuple[tuple[str, str], ...]:
    """PURE: (original path, tool) for every reading of `path` as a sync tool's conflict copy,
    from its name alone (whether that original exists is the caller's question)."""
    folder, sep, base = path.rpartition("/")
    if "conflict" not in base and "-DESKTOP-" not in base and "-LAPTOP-" not in base and "-WIN-" not in base:
        return ()  # the common case, in a fraction of a microsecond
    dot = base.rfind(".")
    splits = [(base[:dot], base[dot:]), (base, "")] if dot > 0 else [(base, "")]
    found = []
    for stem, ext in splits:  # `name.ext`, or a name without an extension
        for tool, mark in _CONFLICT_MARKS:
            for m in mark.finditer(stem):
                if m.end() == len(stem) and m.start() > 0:
                    found.append((f"{folder}{sep}{stem[: m.start()]}{ext}", tool))
    return tuple(dict.fromkeys(found))


def conflict_copy(path: str, exists) -> ConflictCopy | None:
    """PURE: `path` as a conflict copy when its name says so AND `exists(original)` is true
    for the file it copies, in the same folder; else None. `exists` is any predicate or
    container of paths (compare names as the file system does)."""
    check = exists if callable(exists) else exists.__contains__
    for original, tool in conflict_candidates(path):
        if original != path and check(original):
            return ConflictCopy(path, original, tool)
    return None
_MD = ".md"


def name_key(s: str) -> str:
    """The lookup key of a file name (or a link target's last component).

    NFC, case-folded, with one trailing ``.md`` removed: ``name_key("Foo.MD") == "foo"``,
    ``name_key("fig.png") == "fig.png"``. It does not split on ``/``.
    """
    k = fold_name(s)
    return k[: -len(_MD)] if k.endswith(_MD) else k


def link_key(target: str) -> str:
    """The `name_key` of the last path component of a link target.

    "" for same-note links (``[[#Heading]]``) and for targets naming a folder (``a/``,
    ``..``), which never resolve to a file.
    """
    last = target.rsplit("/", 1)[-1]
    if last in ("", ".", ".."):
        return ""
    return name_key(last)


def _discard(index: dict[str, set[str]], key: str, path: str) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.discard(path)
        if not bucket:
            del index[key]


class Resolver:
    """Resolves link targets against the set of vault paths, as Obsidian does.

    `paths` are vault-relative POSIX paths of every note (``.md``) and attachment.
    `aliases` maps a note path to its aliases (a path only listed there is added too).
    With `resolve_aliases`, a bare target that matches no file name falls back to aliases.
    """

    __slots__ = ("resolve_aliases", "_folded", "_alias_keys", "_by_base", "_by_path", "_by_alias", "_generated",
                 "_copy_of")

    def __init__(
        self,
        paths: Iterable[str] = (),
        *,
        aliases: Mapping[str, Iterable[str]] | None = None,
        resolve_aliases: bool = False,
    ) -> None:
        self.resolve_aliases = resolve_aliases
        self._folded: dict[str, str] = {}  # path -> folded path
        self._alias_keys: dict[str, tuple[str, ...]] = {}  # path -> its alias keys
        self._by_base: dict[str, set[str]] = {}  # folded file name (with extension) -> paths
        self._by_path: dict[str, set[str]] = {}  # folded full path -> paths (case variants)
        self._by_alias: dict[str, set[str]] = {}  # alias key -> paths
        self._generated: set[str] = set()  # pages vaultindex wrote (tag pages)
        # folded path of a possible original -> the paths named as its conflict copies
        self._copy_of: dict[str, set[str]] = {}
        for path in paths:
            self.add(path)
        for path, names in (aliases or {}).items():
            self.add(path, names)

    # -- the set of paths ---------------------------------------------------------------

    def add(self, path: str, aliases: Iterable[str] = (), *, generated: bool = False) -> None:
        """Register `path` with `aliases` (replacing the aliases it had, if already known).

        A `generated` path (a tag page) and a sync tool's conflict copy (see `conflict_copy`)
        are quiet: a bare name reaches one only when no other file has that name, so neither
        ever takes a link from a note nor makes one ambiguous."""
        if path in self._folded:
            self.remove(path)
        folded = fold_name(path)
        self._folded[path] = folded
        self._by_base.setdefault(folded.rsplit("/", 1)[-1], set()).add(path)
        self._by_path.setdefault(folded, set()).add(path)
        if generated:
            self._generated.add(path)
        for original, _tool in conflict_candidates(path):
            self._copy_of.setdefault(fold_name(original), set()).add(path)
        keys = tuple(dict.fromkeys(k for k in map(name_key, aliases) if k))
        if keys:
            self._alias_keys[path] = keys
            for key in keys:
                self._by_alias.setdefault(key, set()).add(path)

    def remove(self, path: str) -> None:
        """Forget `path` (no-op when unknown)."""
        folded = self._folded.pop(path, None)
        if folded is None:
            return
        _discard(self._by_base, folded.rsplit("/", 1)[-1], path)
        _discard(self._by_path, folded, path)
        self._generated.discard(path)
        for original, _tool in conflict_candidates(path):
            _discard(self._copy_of, fold_name(original), path)
        for key in self._alias_keys.pop(path, ()):
            _discard(self._by_alias, key, path)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path in self._folded

    def __len__(self) -> int:
        return len(self._folded)

    def __iter__(self):
        return iter(self._folded)

    def conflict_copy(self, path: str) -> ConflictCopy | None:
        """`path` as a conflict copy of a file this resolver knows (names compared folded)."""
        by_path = self._by_path
        return conflict_copy(path, lambda original: fold_name(original) in by_path)

    def copies_of(self, path: str) -> tuple[str, ...]:
        """The known paths whose names make them conflict copies of `path` (when it exists)."""
        return tuple(sorted(self._copy_of.get(fold_name(path), ())))

    def is_quiet(self, path: str) -> bool:
        """Whether bare names skip `path` when another file has the same name."""
        return path in self._generated or self.conflict_copy(path) is not None

    def paths_for_key(self, key: str) -> tuple[str, ...]:
        """All paths whose file name has `name_key` equal to `key` (a key, not a name), sorted."""
        found = set(self._by_base.get(key + _MD, ()))
        if not key.endswith(_MD):
            found.update(self._by_base.get(key, ()))
        return tuple(sorted(found))

    # -- resolution ---------------------------------------------------------------------

    def resolve_link(self, source: str, link: Link) -> Resolution:
        return self.resolve(source, link.target)

    def resolve(self, source: str, target: str) -> Resolution:
        """Where `target` (a decoded link target without subpath) written in `source` points."""
        if not target:
            return Resolution("resolved", source, via="self")
        if "/" not in target and target not in (".", ".."):
            return self._resolve_name(source, target)
        return self._resolve_path(source, target)

    def _resolve_name(self, source: str, target: str) -> Resolution:
        name = fold_name(target)
        hits: set[str] | list[str] | None = self._by_base.get(name)
        if not hits and not name.endswith(_MD):
            hits = self._by_base.get(name + _MD)
        if hits:
            if len(hits) > 1:
                loud = [p for p in hits if not self.is_quiet(p)]
                if loud:
                    hits = loud
            return _pick(hits, source, "name")
        if self.resolve_aliases:
            hits = self._by_alias.get(name_key(target))
            if hits:
                return _pick(hits, source, "alias")
        return _UNRESOLVED

    def _resolve_path(self, source: str, target: str) -> Resolution:
        relative = target in (".", "..") or target.startswith(("./", "../"))
        rooted = target.startswith("/")
        parts = target.split("/")
        if parts[-1] in ("", ".", ".."):
            return _UNRESOLVED  # a folder, never a file
        stack = fold_name(source).split("/")[:-1] if relative else []
        for part in parts:
            if part in ("", "."):
                continue
            if part == "..":
                if not stack:
                    return _UNRESOLVED  # above the vault root
                stack.pop()
            else:
                stack.append(fold_name(part))
        want = "/".join(stack)
        hits: set[str] | list[str] | None = self._by_path.get(want)
        if not hits and not want.endswith(_MD):
            hits = self._by_path.get(want + _MD)
        if hits:
            return _pick(hits, source, "relative" if relative else "path")
        if relative or rooted:
            return _UNRESOLVED
        # A path suffix that starts at a folder boundary: "kaplan/x" finds "papers/kaplan/x.md".
        base = stack[-1]
        hits = self._suffix_hits(base, "/" + want)
        if not hits and not base.endswith(_MD):
            hits = self._suffix_hits(base + _MD, "/" + want + _MD)
        if hits:
            return _pick(hits, source, "path")
        return _UNRESOLVED

    def _suffix_hits(self, base: str, suffix: str) -> list[str]:
        folded = self._folded
        return [p for p in self._by_base.get(base, ()) if folded[p].endswith(suffix)]


def resolve_file(paths: Iterable[str], name: str) -> Resolution:
    """Where a link `[[name]]` written at the vault root points among `paths` (attachments, say):
    `backlinks dino.png` names the file Obsidian's `![[dino.png]]` shows."""
    resolver = Resolver()
    for path in paths:
        resolver.add(path)
    return resolver.resolve("", name)


def _rank(path: str, source_dir: str | None) -> tuple[bool, bool, int, str, str]:
    folder, sep, _ = path.rpartition("/")
    return (bool(sep), folder != source_dir, len(path), fold_name(path), path)


def _pick(hits: Iterable[str], source: str | None, via: str) -> Resolution:
    hits = list(hits)
    if len(hits) == 1:
        return Resolution("resolved", hits[0], via=via)
    source_dir = source.rpartition("/")[0] if source is not None else None
    ranked = tuple(sorted(hits, key=lambda p: _rank(p, source_dir)))
    return Resolution("ambiguous", ranked[0], ranked, via)


# -- citations --------------------------------------------------------------------------

_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")
_ARXIV_PREFIXES = ("https://arxiv.org/abs/", "https://arxiv.org/pdf/", "http://arxiv.org/abs/",
                   "http://arxiv.org/pdf/", "arxiv:")
_ARXIV_VERSION = re.compile(r"v\d+$")


def _norm_citekey(key: str) -> str:
    return fold_name(key.strip().lstrip("@"))


def _norm_doi(doi: str) -> str:
    d = doi.strip().lower()
    for prefix in _DOI_PREFIXES:
        if d.startswith(prefix):
            d = d[len(prefix):]
            break
    return d


def _norm_arxiv(arxiv: str) -> str:
    a = arxiv.strip().lower()
    for prefix in _ARXIV_PREFIXES:
        if a.startswith(prefix):
            a = a[len(prefix):]
            break
    if a.endswith(".pdf"):
        a = a[: -len(".pdf")]
    return _ARXIV_VERSION.sub("", a)


_NORMALISE = {"citekey": _norm_citekey, "doi": _norm_doi, "arxiv": _norm_arxiv}


def citation_key(citation: Citation) -> tuple[str, str]:
    """(kind, normalised key) of a citation, comparable with `CitationIndex.keys_for`.

    Citekeys are case-folded (NFC), DOIs lower-cased without a resolver prefix, arXiv ids
    lower-cased without ``arXiv:`` or a version suffix.
    """
    normalise = _NORMALISE.get(citation.kind)
    return (citation.kind, normalise(citation.key) if normalise else citation.key)


class CitationIndex:
    """Which note a citation points to: by citekey, DOI or arXiv id, else by file name.

    `templates` is the vault's templates folder (config.templates_folder): its notes are never
    a citation's target, not even by file name (`[@paper]` is not `templates/Paper.md`)."""

    __slots__ = ("_maps", "_regs", "_templates")

    def __init__(self, notes: Iterable[Note] = (), templates: str = "") -> None:
        self._templates = fold_name(templates.strip("/"))
        # map name -> key -> paths; "filename" holds the names of key.md / @key.md notes.
        self._maps: dict[str, dict[str, set[str]]] = {
            "citekey": {}, "filename": {}, "doi": {}, "arxiv": {},
        }
        self._regs: dict[str, tuple[tuple[str, str], ...]] = {}  # path -> (map, key)
        for note in notes:
            self.add(note)

    def add(self, note: Note) -> bool:
        """Register (or re-register) the note's citekey, DOI, arXiv id and file name; whether
        anything changed."""
        paper = note.paper
        regs: list[tuple[str, str]] = []
        if paper.citekey and (k := _norm_citekey(paper.citekey)):
            regs.append(("citekey", k))
        if paper.doi and (k := _norm_doi(paper.doi)):
            regs.append(("doi", k))
        if paper.arxiv and (k := _norm_arxiv(paper.arxiv)):
            regs.append(("arxiv", k))
        name = note.name
        if name.startswith("@"):
            name = name[1:]
        if name and (k := fold_name(name)) and not self._is_template(note.path):
            regs.append(("filename", k))
        if self._regs.get(note.path) == tuple(regs):
            return False
        self.remove(note.path)
        self._regs[note.path] = tuple(regs)
        for map_name, key in regs:
            self._maps[map_name].setdefault(key, set()).add(note.path)
        return True

    def _is_template(self, path: str) -> bool:
        folder = self._templates
        return bool(folder) and (folded := fold_name(path)).startswith(folder) and folded[len(folder):][:1] == "/"

    def remove(self, path: str) -> bool:
        """Forget the note at `path`; whether it was known."""
        regs = self._regs.pop(path, None)
        for map_name, key in regs or ():
            _discard(self._maps[map_name], key, path)
        return regs is not None

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path in self._regs

    def __len__(self) -> int:
        return len(self._regs)

    def keys_for(self, path: str) -> set[tuple[str, str]]:
        """The (citation kind, normalised key) pairs the note at `path` answers to."""
        return {("citekey" if m == "filename" else m, k) for m, k in self._regs.get(path, ())}

    def resolve(self, citation: Citation) -> Resolution:
        kind, key = citation_key(citation)
        if not key:
            return _UNRESOLVED
        if kind == "citekey":
            if hits := self._maps["citekey"].get(key):
                return _pick(hits, None, "citekey")
            if hits := self._maps["filename"].get(key):
                return _pick(hits, None, "filename")
            return _UNRESOLVED
        if kind in ("doi", "arxiv") and (hits := self._maps[kind].get(key)):
            return _pick(hits, None, kind)
        return _UNRESOLVED
