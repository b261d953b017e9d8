"""Owns listing the vault's files, and the pure diff between what is on disk and what is indexed."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .config import ALWAYS_IGNORED_DIRS, Config
from .models import Diagnostic

NOTE_SUFFIX = ".md"


class FileInfo(NamedTuple):
    """A file's stamp. A tuple, so that a scan compares with the stored (size, mtime_ns) pairs
    as one dict comparison in C (a no-op sync of 10,000 notes spends its time in stat calls)."""

    size: int
    mtime_ns: int


Stamp = tuple[int, int]  # (size, mtime_ns): what a scan keeps of each note (FileInfo(*stamp) names them)


@dataclass
class Scan:
    """What is on disk now. Paths are vault-relative POSIX strings."""

    # Plain (size, mtime_ns) tuples: a NamedTuple per note cost 10% of a no-op scan.
    notes: dict[str, Stamp] = field(default_factory=dict)
    attachments: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)  # exist, but the user excluded them
    # Folders that exist but cannot be listed (permissions, a network drive that is away):
    # what is indexed under them stays as it is, as `git status` does.
    unreadable: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()  # size or mtime differ: the content hash decides
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.removed)


def is_note(path: str) -> bool:
    return path.lower().endswith(NOTE_SUFFIX)


# Every ignored name starts or ends with one of these characters (see is_ignored_name): a
# name that does neither, nearly every note, is decided with two look-ups.
_IGNORED_FIRST = frozenset(".~#")
_IGNORED_LAST = frozenset("~px_#")


def is_ignored_name(name: str) -> bool:
    """Hidden files and folders are not part of the vault, as in Obsidian; nor are editors'
    scratch files: vim's `.swp` and `~` backups, JetBrains' `___jb_tmp___` / `___jb_old___`,
    emacs' `#note.md#` auto-saves, Office's `~$` locks, `.tmp` files."""
    return (
        name.startswith((".", "~$"))
        or name.endswith(("~", ".swp", ".swx", ".tmp", "___jb_tmp___", "___jb_old___"))
        or (len(name) > 2 and name.startswith("#") and name.endswith("#"))
    )


def scan(root: Path, config: Config, under: str = "") -> Scan:
    """List notes and attachments below `under` (a vault-relative folder, "" for all)."""
    result = Scan()
    start = root / under if under else root
    seen_dirs: set[tuple[int, int]] = set()
    _walk(root, start, under, config, result, seen_dirs)
    return result


def _walk(
    root: Path, folder: Path, rel: str, config: Config, out: Scan, seen: set, excluded: bool = False
) -> None:
    try:
        st = folder.stat()
    except FileNotFoundError:
        return  # gone: what was indexed under it is removed
    except OSError as exc:
        _unreadable(out, rel, exc)
        return
    ident = (st.st_dev, st.st_ino)
    if ident in seen:
        out.diagnostics.append(Diagnostic(rel, "symlink loop: folder already visited, skipped"))
        return
    seen.add(ident)
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    except OSError as exc:
        _unreadable(out, rel, exc)
        return
    rules = bool(config.exclude or config.obsidian_ignore)  # no rules: no pattern is tried per file
    limit = config.max_file_size
    notes = out.notes
    prefix = rel + "/" if rel else ""
    # The loop a no-op sync spends its time in (with the stat calls): at 10,000 notes each
    # step per file counts, so the common case (a note, no rules) is tested first and inline.
    for entry in entries:
        name = entry.name
        if (name[0] in _IGNORED_FIRST or name[-1] in _IGNORED_LAST) and (is_ignored_name(name) or name in ALWAYS_IGNORED_DIRS):
            continue
        path = prefix + name
        try:
            info = entry.stat()  # follows symlinks
        except OSError:
            kind = "broken symlink" if entry.is_symlink() else "unreadable file"
            out.diagnostics.append(Diagnostic(path, f"{kind}, skipped"))
            continue
        mode = info.st_mode
        if _S_ISREG(mode) and not excluded and not rules and (name.endswith(NOTE_SUFFIX) or name.lower().endswith(NOTE_SUFFIX)):
            if info.st_size <= limit:
                notes[path] = (info.st_size, info.st_mtime_ns)
                continue
        elif _S_ISDIR(mode):
            if path in config.skip_dirs:  # the index folder, inside the vault (Config.skip_dirs)
                continue
            inside_excluded = excluded or (rules and config.is_excluded(path + "/"))
            _walk(root, Path(entry.path), path, config, out, seen, inside_excluded)
            continue
        elif not _S_ISREG(mode):
            continue
        if excluded or (rules and config.is_excluded(path)):
            # Excluded files still exist for Obsidian: links to them resolve, they are not indexed.
            out.excluded.add(path)
            continue
        if not is_note(path):
            out.attachments.add(path)
            continue
        if info.st_size > limit:
            out.diagnostics.append(
                Diagnostic(path, f"larger than max_file_size ({limit / 1024 / 1024:g} MB), not indexed")
            )
            out.attachments.add(path)  # still a link target
            continue
        notes[path] = (info.st_size, info.st_mtime_ns)


_S_ISREG = stat.S_ISREG
_S_ISDIR = stat.S_ISDIR


def _unreadable(out: Scan, rel: str, exc: OSError) -> None:
    out.unreadable.add(rel)
    out.diagnostics.append(
        Diagnostic(rel or ".", f"cannot list folder: {exc.strerror or exc}; its notes stay as they were indexed")
    )


def diff(disk: Mapping[str, Stamp], indexed: Mapping[str, Stamp]) -> Changes:
    """Which notes were added, possibly modified (size or mtime differ) or removed (stamps are
    (size, mtime_ns) tuples; FileInfo is one)."""
    if disk == indexed:
        return Changes()  # the common case (a no-op sync, a query's auto-sync), in one C comparison
    added = sorted(disk.keys() - indexed.keys())  # (set operations on the key views: C loops)
    removed = sorted(indexed.keys() - disk.keys())
    stamp = indexed.get
    modified = sorted(p for p, info in disk.items() if stamp(p, info) != info)  # (an added path gives its own stamp)
    return Changes(tuple(added), tuple(modified), tuple(removed))
