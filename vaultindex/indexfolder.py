"""The index folder on disk: its marker and safety checks, the builds and their switch, Whoosh's
files by name, the old in-vault index's removal, sizes. The only module that imports platformdirs;
no SQL here (that is store.py's) and no Whoosh import (fulltext/ owns it).

Layout of an index folder (outside the vault by default, mode 0700):

    vaultindex-index.json   the marker written when vaultindex made the folder (it refuses any other)
    writer.lock             the one writer lock (sync, watch, tags write)
    current                 the number N of the build readers use
    bN/store.sqlite         notes, links, names, tags, headings (WAL mode; -wal/-shm beside it)
    bN/fulltext/            the Whoosh index of build N

A rebuild writes b(N+1) beside bN and switches `current` at the end; readers keep answering
from bN until then, and a failed or killed rebuild leaves bN. Only files vaultindex created are
ever deleted, by exact name or by the Whoosh naming rule inside a build folder it made.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import IndexWriteError, VaultIndexError
from .fsutil import write_atomically

if TYPE_CHECKING:
    from .config import Config

MARKER = "vaultindex-index.json"
CURRENT = "current"
LOCK_FILE = "writer.lock"
DB_FILE = "store.sqlite"
FULLTEXT_DIR = "fulltext"
DB_FILES = (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + "-journal")
# Files of the old in-vault index (before the index moved out of the vault), removed by name.
LEGACY_FILES = ("state.pickle", "graph.pickle", "catalog.pickle", "version.json", "write.lock")
_LEGACY_NOTE_SHARD = re.compile(r"^\.?\d\d\.pickle(\.\d+\.tmp)?$")
_LEGACY_TMP = re.compile(r"^\.(state|graph|catalog|version)\.(pickle|json)\.\d+\.tmp$")
_WHOOSH_FILE = re.compile(r"^_?MAIN(_|\.|WRITELOCK)")
_BUILD = re.compile(r"^b(\d+)$")
_STAGED = re.compile(r"^\.(current|vaultindex-index\.json)\.\d+\.tmp$")  # write_new's staged files
_TOC = re.compile(r"^_MAIN_(\d+)\.toc$")
_TOC_TEMP = re.compile(r"^_MAIN_\d+\.toc\..+$")


class IndexFolderError(VaultIndexError):
    """The index folder is unsafe to use (a symlink, or a folder vaultindex did not make)."""


INDEX_DIR_ENV = "VAULTINDEX_INDEX_DIR"


def resolve_index_dir(root: Path, config: Config, explicit: str | os.PathLike | None = None) -> Path:
    """--index-dir, else $VAULTINDEX_INDEX_DIR, else the config's index_dir (relative to the
    vault), else the user's cache folder (one folder per vault)."""
    for choice in (explicit, os.environ.get(INDEX_DIR_ENV) or None, getattr(config, "index_dir", None) or None):
        if choice:
            path = Path(choice).expanduser()
            return path if path.is_absolute() else (root / path if choice is not explicit else Path.cwd() / path)
    return default_index_dir(root)


def default_index_dir(vault: Path) -> Path:
    """`<user cache>/vaultindex/<vault folder name>-<hash of its real path>`."""
    real = os.path.realpath(vault)
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:10]
    name = re.sub(r"[^\w.-]+", "_", Path(real).name, flags=re.ASCII).strip("._")[:40] or "vault"
    return Path(user_cache_dir()) / f"{name}-{digest}"


def user_cache_dir() -> str:
    """platformdirs' `user_cache_dir("vaultindex")`. On Linux with an absolute $XDG_CACHE_HOME or
    $HOME (nearly always) it is worked out here by the XDG rule platformdirs follows: importing
    platformdirs (tempfile, random, shutil...) was a tenth of a fresh query's start-up."""
    if sys.platform == "linux" and not hasattr(sys, "getandroidapilevel") and "ANDROID_DATA" not in os.environ:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        if os.path.isabs(xdg):
            return os.path.join(xdg, "vaultindex")
        if os.path.isabs(os.environ.get("HOME", "")):
            return os.path.join(os.path.expanduser("~/.cache"), "vaultindex")
    from platformdirs import user_cache_dir as platform_cache_dir

    return platform_cache_dir("vaultindex", appauthor=False)


def check_folder(folder: Path) -> bool:
    """Whether `folder` is an index folder vaultindex made; raises IndexFolderError when it is unsafe.

    Never follows a symlink: a symlink there is refused, as is a folder with files in it but
    no marker (so vaultindex never writes into, or deletes from, a folder of the user's).
    """
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise IndexFolderError(f"cannot use the index folder {folder} ({exc.strerror})") from exc
    if stat.S_ISLNK(st.st_mode):
        raise IndexFolderError(
            f"the index folder {folder} is a symlink; vaultindex never follows one for what it writes: "
            "remove it or choose another folder with --index-dir"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise IndexFolderError(f"the index folder {folder} is not a folder: remove it or choose another with --index-dir")
    try:
        marker = os.lstat(folder / MARKER)
        if stat.S_ISREG(marker.st_mode):
            return True
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise IndexFolderError(f"cannot use the index folder {folder} ({exc.strerror})") from exc
    try:
        empty = not any(os.scandir(folder))
    except OSError as exc:
        raise IndexFolderError(f"cannot use the index folder {folder} ({exc.strerror})") from exc
    if empty:
        return False
    raise IndexFolderError(
        f"{folder} holds files but was not made by vaultindex (no {MARKER}); vaultindex will not write "
        "or delete anything there: choose an empty or new folder with --index-dir"
    )


def make_folder(folder: Path, vault: Path) -> None:
    """Create (or adopt, when empty) the index folder, mode 0700, with its marker."""
    if check_folder(folder):
        return
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    check_folder(folder)  # a symlink put there meanwhile is refused
    os.chmod(folder, 0o700)
    data = json.dumps({"vault": os.fsdecode(os.path.realpath(vault)), "created": time.time()}, ensure_ascii=True)
    write_new(folder / MARKER, data.encode("ascii"))


def write_new(path: Path, data: bytes) -> None:
    """Write a small file atomically (temporary file, then rename), never through a symlink."""
    write_atomically(path, data, 0o600)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # removes a symlink itself, never what it points to


def remove_build(folder: Path) -> None:
    """Delete one build folder vaultindex made: its database files and Whoosh's files, by name."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        _unlink(folder)
        return
    for name in DB_FILES:
        _unlink(folder / name)
    ft = folder / FULLTEXT_DIR
    with contextlib.suppress(OSError):  # a file that is not ours keeps the folder: it is never forced
        if stat.S_ISDIR(os.lstat(ft).st_mode):
            _remove_whoosh_files(ft)
            os.rmdir(ft)
        else:
            _unlink(ft)
    with contextlib.suppress(OSError):
        os.rmdir(folder)


def _remove_whoosh_files(folder: Path) -> None:
    """Whoosh's files in a full-text folder of ours: `MAIN_*`, `_MAIN_*.toc`, and its temporary
    `MAIN.tmp/` folder with whatever its writers put there (`<random>.doclist` job files)."""
    for entry in os.scandir(folder):
        if not _WHOOSH_FILE.match(entry.name):
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name == "MAIN.tmp":
                with contextlib.suppress(OSError):
                    for inner in os.scandir(entry.path):
                        if not inner.is_dir(follow_symlinks=False):
                            _unlink(Path(inner.path))
                    os.rmdir(entry.path)
        else:
            _unlink(Path(entry.path))


def fulltext_generation(folder: Path) -> int:
    """The latest generation of a Whoosh index, from its table-of-contents file names (-1: none);
    no Whoosh import, so that a no-op sync or a graph query does not pay for it."""
    best = -1
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            m = _TOC.match(entry.name)
            if m:
                best = max(best, int(m.group(1)))
    return best


def fulltext_fingerprint(folder: Path) -> str:
    """The name, size and mtime of each of Whoosh's files in a full-text folder (its TOCs and
    segments; not its lock or temporary folder), as JSON. Recorded with every commit: a `sync`
    that finds the same files need not open Whoosh (nor import it: 0.3 s at 10,000 notes) to
    know that nothing damaged them since; an emptied, truncated or rewritten file changes its
    size or mtime, and then every segment is opened and checked."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            name = entry.name
            if not _WHOOSH_FILE.match(name) or name == "MAIN_WRITELOCK" or name == "MAIN.tmp":
                continue
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                found.append((name, st.st_size, st.st_mtime_ns))
    return json.dumps(sorted(found), separators=(",", ":"))


def remove_whoosh_temporaries(folder: Path) -> None:
    """What a Whoosh writer killed mid-commit leaves (Whoosh never cleans it): its
    `_MAIN_<gen>.toc.<stamp>` files and its `MAIN.tmp/` folder. Never `MAIN_WRITELOCK`.
    The caller holds the writer lock."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if _TOC_TEMP.match(entry.name) and not entry.is_dir(follow_symlinks=False):
                _unlink(Path(entry.path))
            elif entry.name == "MAIN.tmp" and entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    for inner in os.scandir(entry.path):
                        if not inner.is_dir(follow_symlinks=False):
                            _unlink(Path(inner.path))
                    os.rmdir(entry.path)


def remove_leftovers(folder: Path) -> None:
    """What a killed writer left (the caller holds the writer lock, so nobody is using it): a
    half-built generation beside the current one, staged small files, Whoosh's temporary
    files. Only names vaultindex or Whoosh give their files, inside the folder vaultindex made."""
    current = current_build(folder)
    for other in builds(folder):
        if other != current:
            remove_build(folder / f"b{other}")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if _STAGED.match(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    if current >= 0:
        remove_whoosh_temporaries(folder / f"b{current}" / FULLTEXT_DIR)


def remove_legacy_index(state_dir: Path) -> bool:
    """Remove an index kept inside the vault by older versions (`.vaultindex/index`, the pickles),
    only by its known file names; the config and anything else stays. Whether anything went."""
    try:
        if not stat.S_ISDIR(os.lstat(state_dir).st_mode):
            return False  # a symlink or a file: not ours to clean
    except OSError:
        return False
    removed = False
    for name in LEGACY_FILES:
        path = state_dir / name
        with contextlib.suppress(OSError):
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                os.unlink(path)
                removed = True
    with contextlib.suppress(OSError):
        for entry in os.scandir(state_dir):
            if _LEGACY_TMP.match(entry.name) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed = True
    for sub, rule in (("notes", _LEGACY_NOTE_SHARD), ("index", _WHOOSH_FILE)):
        path = state_dir / sub
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                continue
            entries = list(os.scandir(path))
        except OSError:
            continue
        if sub == "index":
            if not any(e.name.startswith("_MAIN_") for e in entries):
                continue  # not a Whoosh index of ours
            with contextlib.suppress(OSError):
                _remove_whoosh_files(path)
                removed = True
        else:
            for entry in entries:
                if rule.match(entry.name) and not entry.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        removed = True
        with contextlib.suppress(OSError):
            os.rmdir(path)  # only when it is empty now
    return removed


def current_build(folder: Path) -> int:
    """The build readers use (-1: none yet)."""
    try:
        fd = os.open(folder / CURRENT, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb") as fh:
            return int(fh.read(32).strip() or -1)
    except (OSError, ValueError):
        return -1


def builds(folder: Path) -> list[int]:
    try:
        return sorted(int(m.group(1)) for e in os.scandir(folder) if (m := _BUILD.match(e.name)))
    except OSError:
        return []


def folder_size(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def write_error(folder: Path, exc: OSError, state: str) -> IndexWriteError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some disk space"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = f"make {folder} writable (or choose another index folder with --index-dir)"
    else:
        hint = "fix the problem"
    return IndexWriteError(f"cannot write the index in {folder} ({reason}); {state}: {hint} and run `vaultindex sync` again")


__all__ = [
    "IndexFolderError",
    "MARKER",
    "CURRENT",
    "LOCK_FILE",
    "DB_FILE",
    "FULLTEXT_DIR",
    "DB_FILES",
    "LEGACY_FILES",
    "default_index_dir",
    "check_folder",
    "make_folder",
    "write_new",
    "remove_build",
    "fulltext_generation",
    "fulltext_fingerprint",
    "remove_whoosh_temporaries",
    "remove_legacy_index",
    "current_build",
    "builds",
    "folder_size",
    "write_error",
]
