"""Owns the quick look before an answer: is the index as the disk is now?

Every query brings the index up to date first (Vault.refresh), and nearly always nothing
changed. Finding that out is a scan (stat calls only), the stored stamps compared with it in
one dict comparison, the attachment and excluded-file sets, and the bibliography files'
stamps; none of the write path (indexer.py, resolve.py, the bibliography's parsers) is
imported for it, which is a third of a fresh query's start-up. When anything differs, or the
look cannot be sure (a pending batch, another version's index, a folder it cannot list, notes
naming their own bibliography), the answer is "look closer" and the indexer does its usual
work, which finds the same and more.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import Config
from .errors import IndexCorrupt
from .fsutil import file_stamp
from .indexfolder import FULLTEXT_DIR, fulltext_fingerprint, fulltext_generation
from .scan import Scan, scan
from .store import Store
from .versions import version_stamp

BIB_CONFIG = "bib_config"  # meta key: the config's `bibliography` list the stored bibliography was read with


def bib_config(config: Config) -> str:
    """What the meta row BIB_CONFIG holds for this config."""
    return json.dumps([str(p) for p in config.bibliography])


def unchanged(root: Path, config: Config, store: Store, build_folder: Path, scanned: list[Scan] | None = None) -> Scan | None:
    """The scan of the vault when the index in `store` (of the build in `build_folder`) holds
    exactly what is on disk now; None when the writer must look (something changed, or this
    look cannot tell). Reads only; takes no lock. The scan made, if any, is appended to
    `scanned` either way: a writer holding the lock hands it on and does not scan again."""
    try:
        meta = dict(store.meta_values(("version", BIB_CONFIG)))
        if meta.get("version") != version_stamp() or store.has_pending():
            return None
        if fulltext_generation(build_folder / FULLTEXT_DIR) < 0:
            return None
        disk = scan(root, config)
        if scanned is not None:
            scanned.append(disk)
        if disk.unreadable or disk.notes != store.file_stamps():
            return None
        if disk.attachments != store.files("attachment") or disk.excluded != store.files("excluded"):
            return None
        # The bibliography: its files are the config's list, the vault's .bib attachments
        # (unchanged: just compared) and those notes name in frontmatter (then: look closer).
        if meta.get(BIB_CONFIG) != bib_config(config) or store.has_note_bibliographies():
            return None
        if not bib_files_as_stored(store):
            return None
    except IndexCorrupt:
        return None  # the writer finds it too, and rebuilds
    return disk


def bib_files_as_stored(store: Store) -> bool:
    """Whether every bibliography file the store read has the size and mtime it had then."""
    return all(file_stamp(file) == (size, mtime) for _path, file, _fmt, _origin, size, mtime in store.bib_stamps())


def files_as_committed(store: Store, build_folder: Path) -> bool:
    """Whether the build's files are as its last commit left them: Whoosh's files by name, size
    and mtime (else Whoosh must open and check its segments: the indexer's work), and the
    database file's header and length (IndexCorrupt when damaged)."""
    if store.get_meta("fulltext_files") != fulltext_fingerprint(build_folder / FULLTEXT_DIR):
        return False
    store.check_file()
    return True
