"""Owns vault discovery, `.vaultindex/config.toml` and the rules for which files are ignored."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError, VaultNotFound

STATE_DIR = ".vaultindex"
CONFIG_FILE = "config.toml"
# Folders that are never part of the vault's content.
ALWAYS_IGNORED_DIRS = frozenset({".obsidian", ".trash", ".git", STATE_DIR})
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024


@dataclass(frozen=True)
class TagPagesConfig:
    dir: str = "Tags"
    sort: str = "title"  # title, year or modified
    min_count: int = 1
    watch: bool = False  # rewrite tag pages while `vaultindex watch` runs


@dataclass(frozen=True)
class Config:
    exclude: tuple[str, ...] = ()  # from config.toml: globs or folder prefixes
    obsidian_ignore: tuple[str, ...] = ()  # userIgnoreFilters from .obsidian/app.json
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    resolve_aliases: bool = False
    open_with: str = "obsidian"  # how the HTML graph opens a note: "obsidian" or "file"
    tags: TagPagesConfig = field(default_factory=TagPagesConfig)
    index_dir: str = ""  # where the index lives ("": the user's cache folder; relative: to the vault)

    def is_excluded(self, path: str) -> bool:
        """Whether a vault-relative POSIX path is excluded by the user's rules."""
        return any(_matches(rule, path) for rule in self.exclude) or any(
            _matches_obsidian(rule, path) for rule in self.obsidian_ignore
        )


def _matches(rule: str, path: str) -> bool:
    rule = rule.strip().lstrip("/")
    if not rule:
        return False
    if any(ch in rule for ch in "*?["):
        return fnmatch.fnmatchcase(path, rule) or fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], rule)
    rule = rule.rstrip("/")
    return path == rule or path.startswith(rule + "/")


def _matches_obsidian(rule: str, path: str) -> bool:
    # Obsidian's filters are path prefixes, or regular expressions written as /.../.
    if len(rule) > 2 and rule.startswith("/") and rule.endswith("/"):
        try:
            return re.search(rule[1:-1], path) is not None
        except re.error:
            return False
    return path.startswith(rule.lstrip("/"))


def find_vault(explicit: str | os.PathLike | None = None, start: Path | None = None) -> Path:
    """The vault folder: the one given, else the nearest folder up holding .vaultindex/ or .obsidian/."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise VaultNotFound(f"vault folder {str(explicit)!r} does not exist")
        if not path.is_dir():
            raise VaultNotFound(f"vault path {str(explicit)!r} is not a folder")
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / STATE_DIR).is_dir() or (folder / ".obsidian").is_dir():
            return folder
    return here


def _parse_size(value: object) -> int:
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?\s*", value)
        if m:
            scale = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]
            return int(float(m.group(1)) * scale)
    raise ConfigError(f"max_file_size must be a number of bytes or a size such as \"5MB\", not {value!r}")


def _expect(table: dict, key: str, kind: type, where: str):
    value = table[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where}: {key} must be {kind.__name__}, not {value!r}")
    return value


def load_config(vault: Path) -> Config:
    """Read config.toml and Obsidian's excluded files; a missing file means defaults."""
    cfg = Config(obsidian_ignore=_obsidian_ignore_filters(vault))
    path = vault / STATE_DIR / CONFIG_FILE
    if not path.is_file():
        return cfg
    where = f"{STATE_DIR}/{CONFIG_FILE}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where} cannot be read: {exc}") from exc
    changes: dict = {}
    if "exclude" in data:
        excl = data["exclude"]
        if not isinstance(excl, list) or not all(isinstance(x, str) for x in excl):
            raise ConfigError(f"{where}: exclude must be a list of strings")
        changes["exclude"] = tuple(excl)
    if "max_file_size" in data:
        changes["max_file_size"] = _parse_size(data["max_file_size"])
    if "index_dir" in data:
        changes["index_dir"] = _expect(data, "index_dir", str, where)
    if "resolve_aliases" in data:
        changes["resolve_aliases"] = _expect(data, "resolve_aliases", bool, where)
    if "open_with" in data.get("graph", {}):
        value = _expect(data["graph"], "open_with", str, where + " [graph]")
        if value not in ("obsidian", "file"):
            raise ConfigError(f"{where} [graph]: open_with must be \"obsidian\" or \"file\"")
        changes["open_with"] = value
    tags = data.get("tags", {})
    if tags:
        tag_changes = {}
        for key, kind in (("dir", str), ("sort", str), ("min_count", int), ("watch", bool)):
            if key in tags:
                tag_changes[key] = _expect(tags, key, kind, where + " [tags]")
        if tag_changes.get("sort", "title") not in ("title", "year", "modified"):
            raise ConfigError(f"{where} [tags]: sort must be title, year or modified")
        changes["tags"] = replace(cfg.tags, **tag_changes)
    return replace(cfg, **changes)


def _obsidian_ignore_filters(vault: Path) -> tuple[str, ...]:
    try:
        data = json.loads((vault / ".obsidian" / "app.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    filters = data.get("userIgnoreFilters") if isinstance(data, dict) else None
    if not isinstance(filters, list):
        return ()
    return tuple(f for f in filters if isinstance(f, str) and f.strip())
