"""Where tag pages go: safe file names for tags, the page folder and name template, and
planning what each page lists (PURE: no disk, no clock)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping

from ..errors import VaultIndexError
from ..models import Note
from ..resolve import name_key
from ..text import fold_name, has_bad_bytes
from .pages import KEY_GENERATED, PAGE_SORTS, BadTagFolder, PageEntry, TagLink, TagPage, is_generated, parent_tag

# --------------------------------------------------------------------------------------------
# file names (pure)
# --------------------------------------------------------------------------------------------

# Illegal on Windows or macOS, or meaningful in a wikilink (`#` heading, `^` block, `|` alias).
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*#^\[\]]')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{p}{n}" for p in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
MAX_SEGMENT_BYTES = 80  # before a disambiguating suffix; keeps deep paths well under limits


def safe_segment(segment: str) -> str:
    """One tag level -> a file or folder name safe on Linux, macOS and Windows.

    NFC; characters illegal on Windows/macOS or special in wikilinks become `_`; no leading
    dots (hidden files), no trailing dots, spaces or `~`; never empty, `.` or `..`; Windows'
    reserved device names get a `_` prefix; never ends in `.md` (the page of `x` is `x.md`);
    long names are cut at MAX_SEGMENT_BYTES. Callers add a hash when the name changed.
    """
    name = unicodedata.normalize("NFC", segment)
    name = _UNSAFE_CHARS.sub("_", name).strip()
    stripped = name.lstrip(".")
    name = "_" * (len(name) - len(stripped)) + stripped
    name = name.rstrip(". ~")
    if not name:
        name = "_"
    if name.casefold().endswith(".md"):
        name += "_"
    if name.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name.encode("utf-8")) > MAX_SEGMENT_BYTES:
        name = name.encode("utf-8")[:MAX_SEGMENT_BYTES].decode("utf-8", "ignore").rstrip(". ~")
    return name


def _digest(text: str, size: int) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:size]


def _sibling_names(segments: Iterable[str]) -> dict[str, str]:
    """Distinct file names for the tag levels under one parent, deterministic.

    A level that is already a safe name keeps it; one that had to be changed gets a short
    hash of the original (so its name does not depend on which other tags exist); names
    that still collide when compared case-insensitively get longer hashes, the
    alphabetically first original keeping the shortest name.
    """
    cleaned = {s: safe_segment(s) for s in segments}
    order = sorted(cleaned, key=lambda s: (cleaned[s] != s, s))
    taken: set[str] = set()
    names: dict[str, str] = {}
    for seg in order:
        base = cleaned[seg]
        name = base if base == seg else f"{base}-{_digest(seg, 6)}"
        size = 6
        while fold_name(name) in taken:
            size += 6
            name = f"{base}-{_digest(seg, size)}" if size <= 40 else f"{base}-{_digest(seg, 40)}-{size}"
        taken.add(fold_name(name))
        names[seg] = name
    return names


def check_folder(folder: str) -> str:
    """The tag page folder as a clean vault-relative POSIX path; BadTagFolder when unsafe."""
    raw = str(folder)
    text = raw.strip()
    shown = repr(raw)
    if not text:
        raise BadTagFolder("the tag page folder is empty: give a folder inside the vault, such as Tags")
    if "\\" in text or "\x00" in text:
        raise BadTagFolder(f"tag page folder {shown}: use / between folder names")
    if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text):
        raise BadTagFolder(f"tag page folder {shown} is absolute: give a folder relative to the vault, such as Tags")
    parts = [p for p in text.strip("/").split("/") if p not in ("",)]
    if any(p == ".." for p in parts):
        raise BadTagFolder(f"tag page folder {shown} leads out of the vault: give a folder inside it, such as Tags")
    parts = [p for p in parts if p != "."]
    if not parts:
        raise BadTagFolder(f"tag page folder {shown} is the vault itself: give a sub-folder, such as Tags")
    for part in parts:
        if part.startswith(".") or part != part.strip():
            raise BadTagFolder(
                f"tag page folder {shown}: {part!r} is hidden or starts/ends with a space; Obsidian would not show the pages"
            )
        if safe_segment(part) != unicodedata.normalize("NFC", part) or part.endswith("~"):
            raise BadTagFolder(f"tag page folder {shown}: {part!r} is not a portable folder name")
    return "/".join(parts)


DEFAULT_NAME = "{tag} (tag)"


class BadPageName(VaultIndexError):
    """The tag page name template is not usable."""


def check_name(template: str) -> str:
    """The page name template (`{tag}` stands for one tag level) when it gives safe, portable
    file names for every tag; BadPageName otherwise."""
    text = str(template)
    shown = repr(text)
    if text.count("{tag}") != 1 or text.replace("{tag}", "").count("{") or text.replace("{tag}", "").count("}"):
        raise BadPageName(f"tag page name {shown} must hold {{tag}} exactly once (and no other braces), such as \"{DEFAULT_NAME}\"")
    for sample in ("x", "Δ"):
        name = text.replace("{tag}", sample)
        if safe_segment(name) != unicodedata.normalize("NFC", name):
            raise BadPageName(
                f"tag page name {shown} does not make a portable file name (no / \\ : * ? \" < > | # ^ [ ], "
                "no leading dot or trailing space or dot): try \"" + DEFAULT_NAME + "\""
            )
    return text


def _page_name(template: str, level: str) -> str:
    return template.replace("{tag}", level)


def page_paths(
    tags: Iterable[str], folder: str, *, name: str = DEFAULT_NAME, taken: Container[str] = frozenset()
) -> dict[str, str]:
    """tag -> vault-relative page path: `ml` -> `Tags/ml (tag).md`, `ml/vision` -> `Tags/ml/vision (tag).md`.

    `name` is the file name template (`{tag}` = the tag level); `taken` holds the name keys
    (`resolve.name_key`) of the vault's other files. No page gets a name key in `taken`, nor one
    another page has: such a page adds a short hash of its tag to the level (`vision-1a2b3c (tag)`),
    the page with the fewest levels (then the first tag) keeping the plain name among pages.
    The page of a nested tag sits in a folder named after its parent's level, so the names
    are chosen level by level (parents of nested tags are included even when not given).
    Every path stays inside `folder`, whatever the tag contains.
    """
    return _page_paths(tags, folder, name, taken)[0]


def _page_paths(tags: Iterable[str], folder: str, name: str, taken: Container[str]) -> tuple[dict[str, str], set[str]]:
    """page_paths, and every name key it considered (a change in `taken` at one of those keys
    can change the answer; at any other key it cannot)."""
    tags = list(tags)
    folder = folder.strip("/")
    wanted = set()
    for tag in tags:
        segments = tag.split("/")
        for i in range(1, len(segments) + 1):
            wanted.add(tuple(segments[:i]))
    by_parent: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for parts in wanted:
        by_parent[parts[:-1]].add(parts[-1])
    names = {parent: _sibling_names(segs) for parent, segs in by_parent.items()}
    stems: dict[tuple[str, ...], str] = {}
    for parts in sorted(wanted, key=len):
        own = names[parts[:-1]][parts[-1]]
        stems[parts] = f"{stems[parts[:-1]]}/{own}" if len(parts) > 1 else own
    considered: set[str] = set()
    used: set[str] = set()
    out: dict[str, str] = {}
    for tag in sorted(set(tags), key=lambda t: (t.count("/"), t)):
        stem = stems[tuple(tag.split("/"))]
        where, _, level = stem.rpartition("/")
        file = _page_name(name, level)
        key = name_key(file)
        size = 6
        while True:
            considered.add(key)
            if key not in used and key not in taken:
                break
            file = _page_name(name, f"{level}-{_digest(tag, min(size, 40))}" + (f"-{size}" if size > 40 else ""))
            key = name_key(file)
            size += 6
        used.add(key)
        out[tag] = f"{folder}/{where}/{file}.md" if where else f"{folder}/{file}.md"
    return out, considered


# --------------------------------------------------------------------------------------------
# planning (pure)
# --------------------------------------------------------------------------------------------

_WIKILINK_UNSAFE = re.compile(r"[#^|\[\]\n\r]")


def link_target(path: str, name_counts: Mapping[str, int]) -> str:
    """The shortest wikilink target that reaches `path`: its file name when no other file in
    the vault has that name (compared as Obsidian does), else its path; both without `.md`.
    "" when the path holds characters a wikilink cannot carry (`# ^ | [ ]`, bytes that are not UTF-8)."""
    base = path.rsplit("/", 1)[-1]
    if _WIKILINK_UNSAFE.search(path) or has_bad_bytes(path):
        return ""
    stem = base[:-3] if base.lower().endswith(".md") else base
    if name_counts.get(name_key(base), 0) <= 1:
        return stem
    return path[:-3] if path.lower().endswith(".md") else path


def plan_pages(
    notes: Iterable[Note],
    folder: str,
    *,
    sort: str = "title",
    min_count: int = 1,
    modified: Mapping[str, int] | None = None,
    other_paths: Iterable[str] = (),
    cache: dict | None = None,
    name: str = DEFAULT_NAME,
) -> list[TagPage]:
    """The pages to write, sorted by path: one per tag carried by at least `min_count` notes.

    `modified` maps note paths to mtimes (for sort="modified"); `other_paths` are the vault's
    other files (attachments, excluded notes, other pages), which can make a name ambiguous.
    Generated pages among `notes` are not listed and give no tags. `name` is the page file
    name template (see page_paths): no page ever gets the name of a note or file that is not a
    generated page, so a page never takes a bare `[[Name]]` link in Obsidian.

    `cache` (any dict the caller keeps between calls) only saves work, never changes the
    answer: the next call then redoes only what the changed notes (compared by identity)
    affect, and returns the very same TagPage objects for untouched tags.
    """
    if sort not in PAGE_SORTS:
        raise VaultIndexError(f"cannot sort tag pages by {sort!r}: use one of {', '.join(PAGE_SORTS)}")
    params = (folder, sort, max(1, min_count), name)
    planner = cache.get("planner") if cache is not None else None
    if planner is None or planner.params != params:
        planner = _Planner(*params)
        if cache is not None:
            cache["planner"] = planner
    return planner.plan(notes, modified or {}, other_paths)


class _Planner:
    """plan_pages' state between calls: tag membership, names, entries and pages."""

    def __init__(self, folder: str, sort: str, min_count: int, name: str):
        self.params = (folder, sort, min_count, name)
        self.folder, self.sort, self.min_count, self.name = folder, sort, min_count, name
        # Name keys of the files pages must not be named like (all but generated pages), and
        # the keys the last naming looked at: only a change there can rename a page.
        self.taken: Counter = Counter()
        self.taker: dict[str, str] = {}  # path -> its key, for the paths counted in `taken`
        self.others: set[str] = set()
        self.name_keys: set[str] = set()
        self.notes: dict[str, Note] = {}  # path -> note as last seen
        self.mtimes: dict[str, int] = {}
        self.by_tag: dict[str, set[str]] = {}
        self.paths: dict[str, str] = {}  # tag -> page path
        self.universe: set[str] = set()
        self.names: Counter = Counter()
        self.keys: dict[str, str] = {}  # path -> name key
        self.entries: dict[str, PageEntry] = {}
        self.pages: dict[str, TagPage] = {}
        self.counts: dict[str, int] = {}  # tag -> count its pages were built with

    @staticmethod
    def _tags(note: Note | None) -> tuple[str, ...]:
        if note is None or not note.tags:
            return ()
        fm = note.frontmatter
        if fm and KEY_GENERATED in fm and is_generated(fm):
            return ()
        return note.tags

    def _key(self, path: str) -> str:
        key = self.keys.get(path)
        if key is None:
            key = self.keys[path] = name_key(path.rsplit("/", 1)[-1])
        return key

    def _take_names(self, current: Mapping[str, Note], other_paths: Iterable[str], changed: list[str], gone: list[str]) -> set[str]:
        """Bring `taken` up to date (every file but generated pages); the keys that came or went."""
        others = set(other_paths) - current.keys()
        moved: set[str] = set()
        check = [*changed, *gone, *(others ^ self.others)]
        self.others = others
        for path in check:
            note = current.get(path)
            wanted = (note is not None and not (note.frontmatter and KEY_GENERATED in note.frontmatter
                                               and is_generated(note.frontmatter))) or path in others
            had = self.taker.get(path)
            if wanted and had is None:
                key = self.taker[path] = self._key(path)
                self.taken[key] += 1
                if self.taken[key] == 1:
                    moved.add(key)
            elif not wanted and had is not None:
                del self.taker[path]
                self.taken[had] -= 1
                if self.taken[had] <= 0:
                    del self.taken[had]
                    moved.add(had)
        return moved

    def _entry(self, note: Note, target: str) -> PageEntry:
        return PageEntry(
            path=note.path,
            target=target,
            title=note.title,
            authors=note.paper.authors,
            year=note.paper.year,
            venue=note.paper.venue,
            modified=self.mtimes.get(note.path, 0),
        )

    def plan(self, notes: Iterable[Note], modified: Mapping[str, int], other_paths: Iterable[str]) -> list[TagPage]:
        current = {n.path: n for n in notes}
        by_mtime = self.sort == "modified"
        dirty: set[str] = set()  # tags whose page must be built again
        touched: list[str] = []  # notes whose entry must be made again

        # 1. membership: only notes that are not the same objects as last time
        changed = [p for p, n in current.items() if self.notes.get(p) is not n]
        if by_mtime:
            changed += [p for p in current if modified.get(p, 0) != self.mtimes.get(p, 0) and self.notes.get(p) is current[p]]
        gone = [p for p in self.notes if p not in current]
        for path in [*changed, *gone]:
            old, new = self._tags(self.notes.get(path)), self._tags(current.get(path))
            for tag in old:
                members = self.by_tag.get(tag)
                if members is not None:
                    members.discard(path)
                    if not members:
                        del self.by_tag[tag]
            for tag in new:
                self.by_tag.setdefault(tag, set()).add(path)
            if old != new:
                dirty.update(old, new)
            if new:
                touched.append(path)
            else:
                self.entries.pop(path, None)
        for path in gone:
            self.notes.pop(path, None)
            self.mtimes.pop(path, None)
        for path in changed:
            self.notes[path] = current[path]
            if by_mtime:
                self.mtimes[path] = modified.get(path, 0)

        # 2. page paths: they depend on the set of tags, and on the names of the other files
        renamed = self._take_names(current, other_paths, changed, gone)
        rebuild_all = set(self.by_tag) != set(self.paths) or bool(renamed & self.name_keys)
        if rebuild_all:
            self.paths, self.name_keys = _page_paths(self.by_tag, self.folder, self.name, self.taken)
        kept = {t for t, members in self.by_tag.items() if len(members) >= self.min_count}

        # 3. names: a file added or removed anywhere can make a name (un)ambiguous
        universe = {*current, *other_paths, *(self.paths[t] for t in kept)}
        if universe != self.universe:
            moved_keys = set()
            for path in universe - self.universe:
                key = self._key(path)
                self.names[key] += 1
                moved_keys.add(key)
            for path in self.universe - universe:
                key = self._key(path)
                self.names[key] -= 1
                if self.names[key] <= 0:
                    del self.names[key]
                self.keys.pop(path, None)
                moved_keys.add(key)
            self.universe = universe
            touched += [p for p in self.entries if self.keys.get(p) in moved_keys]

        # 4. entries of touched notes; a different entry dirties the note's tags
        for path in touched:
            note = self.notes.get(path)
            if note is None or not self._tags(note):
                continue
            entry = self._entry(note, link_target(path, self.names))
            if self.entries.get(path) != entry:
                self.entries[path] = entry
                dirty.update(self._tags(note))

        # 5. pages of dirty tags, and of their parents (nested tag counts and links)
        if rebuild_all:
            dirty = set(self.by_tag)
        for tag in [t for t in dirty if t in self.by_tag]:
            if self.counts.get(tag) != len(self.by_tag[tag]):
                parent = parent_tag(tag)
                while parent and parent not in self.by_tag:
                    parent = parent_tag(parent)
                if parent:
                    dirty.add(parent)
        for tag in list(self.pages):
            if tag not in kept:
                del self.pages[tag]
                self.counts.pop(tag, None)
                parent = parent_tag(tag)
                if parent:
                    dirty.add(parent)
        children: dict[str, list[str]] = defaultdict(list)
        for tag in kept:
            if "/" in tag:
                children[parent_tag(tag)].append(tag)
        entry_of = self.entries.__getitem__
        for tag in dirty:
            if tag not in kept:
                continue
            members = self.by_tag[tag]
            parent = parent_tag(tag)
            self.counts[tag] = len(members)
            self.pages[tag] = TagPage(
                tag=tag,
                path=self.paths[tag],
                entries=tuple(map(entry_of, sorted(members))),
                parent=TagLink(parent, self.paths[parent]) if parent in kept else None,
                children=tuple(TagLink(c, self.paths[c], len(self.by_tag[c])) for c in sorted(children.get(tag, ()))),
                sort=self.sort,
            )
        return sorted(self.pages.values(), key=lambda p: p.path)
