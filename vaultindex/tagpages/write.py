"""Writing tag pages (I/O at the edge): `write_pages(source, memory)` brings the pages under the
tag folder in line with the index. It writes only the pages whose text changes (atomically),
deletes pages of vanished tags only when they carry the generated marker and hold no text of
the user's, renames pages holding the user's text, and never touches a user's own file.

It works from data: a `TagSource` (the indexed notes and the vault's other files, which
`Vault.write_tag_pages` gathers) and a `TagPageMemory` (what the last run on this vault saw,
which the caller keeps between runs: the watcher's Vault keeps one for as long as it runs)."""

from __future__ import annotations

import difflib
import errno
import os
import posixpath
import stat
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import TagPagesConfig
from ..errors import VaultIndexError
from ..fsutil import write_atomically
from ..models import Diagnostic, Record
from ..resolve import name_key
from ..text import fold_name
from .naming import check_folder, check_name, page_paths, plan_pages
from .pages import KEY_TAG, PAGE_SORTS, BadTagFolder, TagPage, TagPagesResult, is_generated
from .render import has_user_text, split_page, update_page


@dataclass(frozen=True)
class TagSource:
    """What tag pages are made from, as the index holds it now."""

    root: Path
    settings: TagPagesConfig  # config.toml [tags]: the defaults of write_pages' options
    records: Mapping[str, Record]  # every indexed note (generated pages included), by path
    attachments: Set[str] = frozenset()  # every other file of the vault: a page never takes
    excluded: Set[str] = frozenset()  # the name of one


@dataclass
class _Seen:
    """What we last saw at a path: its stat, its text and the page that text was checked against."""

    key: tuple
    text: str | None
    page: TagPage | None = None


@dataclass
class TagPageMemory:
    """What one run of write_pages leaves for the next on the same vault, so that a run where
    nothing changed reads no file and renders no page: each page's stat and text as last seen
    (`seen`), and plan_pages' cache (its planner, for the last options used)."""

    seen: dict[str, _Seen] = field(default_factory=dict)
    plans: dict[str, Any] = field(default_factory=dict)


def _stat_key(st: os.stat_result) -> tuple:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


class _Disk:
    """Reads, writes and deletes pages under the tag folder, remembering what it saw."""

    def __init__(self, root: Path, folder: str, memo: dict[str, _Seen]):
        self.root = root
        self.folder = folder
        self.memo = memo
        self.real_folder = os.path.realpath(root / folder)
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, self.real_folder]) != real_root:
            raise BadTagFolder(f"tag page folder {folder!r} leads out of the vault (through a symlink)")

    def full(self, rel: str) -> Path:
        return self.root / rel

    def look(self, rel: str) -> tuple[str, tuple | None, str | None]:
        """(kind, stat key, text): kind is "absent", "file", "symlink", "folder" or "other";
        text is None for a file that is not UTF-8 text."""
        try:
            st = os.lstat(self.full(rel))
        except FileNotFoundError:
            self.memo.pop(rel, None)
            return "absent", None, None
        except OSError:
            return "other", None, None
        if stat.S_ISLNK(st.st_mode):
            return "symlink", None, None
        if stat.S_ISDIR(st.st_mode):
            return "folder", None, None
        if not stat.S_ISREG(st.st_mode):
            return "other", None, None
        key = _stat_key(st)
        seen = self.memo.get(rel)
        if seen is not None and seen.key == key:
            return "file", key, seen.text
        try:
            data = self.full(rel).read_bytes()
            text: str | None = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        self.memo[rel] = _Seen(key, text)
        return "file", key, text

    def _inside(self, rel: str) -> bool:
        """Whether the folder that holds `rel` stays inside the tag folder: no folder below the
        tag folder is a symlink (checked before any folder is created), nor leads out."""
        below = rel.split("/")[len(self.folder.split("/")) : -1]
        current = self.full(self.folder)
        for part in below:
            current = current / part
            if current.is_symlink():
                return False
        parent = os.path.realpath(self.full(rel).parent)
        return os.path.commonpath([self.real_folder, parent]) == self.real_folder

    def _unchanged_since(self, rel: str, key: tuple | None) -> bool:
        try:
            st = os.lstat(self.full(rel))
        except FileNotFoundError:
            return key is None
        except OSError:
            return False
        return key is not None and stat.S_ISREG(st.st_mode) and _stat_key(st) == key

    def write(self, rel: str, text: str, key: tuple | None, page: TagPage | None) -> str:
        """Write atomically; "" when done, else why not."""
        full = self.full(rel)
        if not self._inside(rel):
            return "its folder leads out of the tag page folder (a symlink?): left untouched"
        try:
            full.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"cannot create its folder: {exc.strerror or exc}"
        if not self._unchanged_since(rel, key):
            return "changed while the tag pages were being written: left for the next run"
        try:
            write_atomically(full, text.encode("utf-8"))
            st = os.lstat(full)
        except OSError as exc:
            return f"cannot write it: {exc.strerror or exc}"
        self.memo[rel] = _Seen(_stat_key(st), text, page)
        return ""

    def delete(self, rel: str, key: tuple) -> str:
        if not self._inside(rel):
            return "its folder leads out of the tag page folder (a symlink?): left untouched"
        if not self._unchanged_since(rel, key):
            return "changed while the tag pages were being written: left for the next run"
        try:
            os.unlink(self.full(rel))
        except OSError as exc:
            return f"cannot delete it: {exc.strerror or exc}"
        self.memo.pop(rel, None)
        self._prune(rel)
        return ""

    def move(self, rel: str, key: tuple, new: str) -> str:
        """Rename a page to `new`, never over an existing file; "" when done, else why not."""
        if not (self._inside(rel) and self._inside(new)):
            return "its folder leads out of the tag page folder (a symlink?): left untouched"
        if not self._unchanged_since(rel, key):
            return "changed while the tag pages were being written: left for the next run"
        target = self.full(new)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(self.full(rel), target)  # fails when `new` exists: nothing is overwritten
            except FileExistsError:
                raise
            except OSError:  # no hard links here (FAT, some network drives): check, then rename
                if os.path.lexists(target):
                    raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
                os.rename(self.full(rel), target)
            else:
                os.unlink(self.full(rel))
        except FileExistsError:
            return f"cannot be renamed to {new}: a file is there"
        except OSError as exc:
            return f"cannot be renamed to {new}: {exc.strerror or exc}"
        self.memo.pop(rel, None)
        self._prune(rel)
        return ""

    def _prune(self, rel: str) -> None:
        """Remove the folders that `rel` leaving makes empty, up to (not including) the tag folder."""
        parent = posixpath.dirname(rel)
        while parent and parent != self.folder and parent.startswith(self.folder + "/"):
            try:
                os.rmdir(self.full(parent))
            except OSError:
                break
            parent = posixpath.dirname(parent)

    def files(self) -> list[str]:
        """Markdown files under the tag folder (hidden names and symlinked folders skipped)."""
        found: list[str] = []
        start = self.full(self.folder)
        if not start.is_dir() or start.is_symlink():
            return found
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and not os.path.islink(os.path.join(dirpath, d))
            )
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(".") or not name.lower().endswith(".md"):
                    continue
                found.append(f"{rel_dir}/{name}")
        return sorted(found)


def _diff(rel: str, old: str | None, new: str | None) -> str:
    a = (old or "").splitlines(keepends=True)
    b = (new or "").splitlines(keepends=True)
    lines = difflib.unified_diff(
        a, b, fromfile=f"a/{rel}" if old is not None else "/dev/null", tofile=f"b/{rel}" if new is not None else "/dev/null"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def write_pages(
    source: TagSource,
    memory: TagPageMemory | None = None,
    *,
    dir: str | None = None,  # noqa: A002 - the config and CLI name
    sort: str | None = None,
    min_count: int | None = None,
    name: str | None = None,
    dry_run: bool = False,
) -> TagPagesResult:
    """Bring the tag pages in line with the index: write the pages whose text changes, delete
    the generated pages of tags that are gone, leave everything else alone.

    Options default to `source.settings` (config.toml [tags]). Uses the notes as `source`
    holds them (the index: sync first). `memory` is what the last run on this vault left (a new
    one is as good, only slower). A page never has the name of another file of the vault: a page written under
    a name that is now taken (or under an older naming scheme) is renamed when it holds text of
    the user's, else deleted and written again under its new name. With dry_run nothing is
    written and `diff` shows what would change. Cheap when nothing changed: one stat per file
    in the tag folder, no reads, no writes.
    """
    cfg = source.settings
    folder = check_folder(cfg.dir if dir is None else dir)
    template = check_name(cfg.name if name is None else name)
    sort = cfg.sort if sort is None else sort
    if sort not in PAGE_SORTS:
        raise VaultIndexError(f"cannot sort tag pages by {sort!r}: use one of {', '.join(PAGE_SORTS)}")
    min_count = cfg.min_count if min_count is None else min_count
    if not isinstance(min_count, int) or min_count < 1:
        raise VaultIndexError(f"min_count must be a whole number of at least 1, not {min_count!r}")

    memory = memory if memory is not None else TagPageMemory()
    records = source.records
    notes = [record.note for record in records.values()]
    memo = memory.seen
    cache = memory.plans
    disk = _Disk(source.root, folder, memo)
    others = set(records) | source.attachments | source.excluded
    modified = {p: r.mtime_ns for p, r in records.items()} if sort == "modified" else None

    def plan(gone: set[str]) -> list[TagPage]:
        live = [n for n in notes if n.path not in gone] if gone else notes
        return plan_pages(live, folder, sort=sort, min_count=min_count, modified=modified, other_paths=others - gone,
                          cache=cache, name=template)

    pages = plan(set())
    planned_folded = {fold_name(p.path) for p in pages}
    by_tag = {p.tag: p for p in pages}

    written: list[str] = []
    deleted: list[str] = []
    renamed: list[tuple[str, str]] = []
    unchanged: list[str] = []
    warnings: list[Diagnostic] = []
    diffs: list[str] = []
    moved_text: dict[str, str] = {}  # dry run: new path -> the text a rename would bring there

    def taken_keys() -> set[str]:
        """Name keys a page must not have: every file but generated pages, and the pages."""
        keys = {name_key(p.rsplit("/", 1)[-1]) for p in others if not _is_page(records.get(p))}
        return keys | {name_key(p.path.rsplit("/", 1)[-1]) for p in pages}

    # 1. Pages on disk that no tag wants under that name any more: rename the ones holding
    #    text of the user's to the page's new name (or keep them as orphans when the tag is
    #    gone), delete the others; never touch anything that is not a generated page.
    orphans: list[TagPage] = []
    taken: set[str] | None = None
    for rel in disk.files():
        if fold_name(rel) in planned_folded:
            continue
        kind, key, text = disk.look(rel)
        if kind != "file" or key is None or text is None:
            continue
        parts = split_page(text)
        if not is_generated(parts.data):
            continue  # the user's own note in the tag folder
        if has_user_text(parts):
            raw = parts.data.get(KEY_TAG) if parts.data else None
            tag = str(raw) if raw not in (None, "") else rel.rsplit("/", 1)[-1].removesuffix(".md")
            target = by_tag.get(tag)
            orphan = target is None
            if target is None:
                # The tag is gone: keep the page, under a name no other file has.
                if taken is None:
                    taken = taken_keys()
                if name_key(rel.rsplit("/", 1)[-1]) not in taken:
                    orphans.append(TagPage(tag=tag, path=rel, sort=sort))
                    warnings.append(Diagnostic(rel, _ORPHAN_NOTE.format(tag=tag)))
                    continue
                target = TagPage(tag=tag, path=page_paths([tag], folder, name=template, taken=taken)[tag], sort=sort)
                taken.add(name_key(target.path.rsplit("/", 1)[-1]))
            if disk.look(target.path)[0] != "absent" or target.path in moved_text:
                problem = f"holds your text, but {target.path} exists: not renamed; move your text there and delete this page"
            elif dry_run:
                diffs.append(_diff(rel, text, None))
                moved_text[target.path] = text
                problem = ""
            else:
                problem = disk.move(rel, key, target.path)
            if problem:
                warnings.append(Diagnostic(rel, problem))
                if orphan:
                    orphans.append(TagPage(tag=tag, path=rel, sort=sort))
                continue
            renamed.append((rel, target.path))
            if orphan:
                orphans.append(target)
                warnings.append(Diagnostic(target.path, _ORPHAN_NOTE.format(tag=tag)))
            continue
        if dry_run:
            diffs.append(_diff(rel, text, None))
            deleted.append(rel)
            continue
        problem = disk.delete(rel, key)
        if problem:
            warnings.append(Diagnostic(rel, problem))
        else:
            deleted.append(rel)

    # 2. The pages themselves (planned again when a deleted page freed a name).
    gone = set(deleted) | {old for old, _ in renamed}
    if gone:
        pages = plan(gone)
    for page in sorted([*pages, *orphans], key=lambda p: p.path):
        if page.path in moved_text:
            kind, key, text = "file", None, moved_text[page.path]
        else:
            kind, key, text = disk.look(page.path)
        if kind not in ("absent", "file"):
            warnings.append(Diagnostic(page.path, f"is a {kind}, not a tag page: left untouched"))
            continue
        seen = memo.get(page.path)
        if kind == "file" and seen is not None and seen.key == key and seen.page == page:
            unchanged.append(page.path)
            continue
        if kind == "file" and text is None:
            warnings.append(Diagnostic(page.path, "is not UTF-8 text, so not a generated tag page: left untouched"))
            continue
        new, note = update_page(text, page)
        if new is None:
            warnings.append(Diagnostic(page.path, note))
            continue
        if new == text and page.path not in moved_text:
            assert key is not None  # new is text, so text came from a file on disk: look() gave its stat key
            memo[page.path] = _Seen(key, text, page)
            unchanged.append(page.path)
            continue
        if note:
            warnings.append(Diagnostic(page.path, note))
        if dry_run:
            diffs.append(_diff(page.path, None if page.path in moved_text else text, new))
            written.append(page.path)
            continue
        problem = disk.write(page.path, new, key, page)
        if problem:
            warnings.append(Diagnostic(page.path, problem))
        else:
            written.append(page.path)

    return TagPagesResult(
        folder=folder,
        written=tuple(sorted(written)),
        deleted=tuple(sorted(deleted)),
        renamed=tuple(sorted(renamed)),
        unchanged=tuple(sorted(unchanged)),
        warnings=tuple(sorted(warnings, key=lambda d: (d.path, d.message))),
        dry_run=dry_run,
        diff="".join(diffs) if dry_run else "",
    )


_ORPHAN_NOTE = "tag {tag!r} has no page any more, but this page holds your text: kept; delete it when done"


def _is_page(record: Record | None) -> bool:
    """Whether an indexed record is a generated page (which pages may be named like)."""
    return record is not None and record.note.generated
