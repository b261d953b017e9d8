"""Owns vault discovery, `.vaultindex/config.toml` and the rules for which files are ignored.

User-supplied patterns can never hang vaultindex: Obsidian's regular-expression filters run on
RE2 (linear time; google-re2 is a dependency), and when RE2 is not importable only patterns
that cannot backtrack badly run on Python's `re`; any other pattern is skipped with a warning
(Config.warnings). config.toml's globs go through fnmatch, which is linear since Python 3.9.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError, VaultNotFound

STATE_DIR = ".vaultindex"
CONFIG_FILE = "config.toml"
# Folders that are never part of the vault's content.
ALWAYS_IGNORED_DIRS = frozenset({".obsidian", ".trash", ".git", STATE_DIR})
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024
DEFAULT_TEMPLATES_FOLDER = "Templates"  # Obsidian's core Templates plugin, when templates.json names none


@dataclass(frozen=True)
class TagPagesConfig:
    dir: str = "Tags"
    sort: str = "title"  # title, year or modified
    min_count: int = 1
    watch: bool = False  # rewrite tag pages while `vaultindex watch` runs
    name: str = "{tag} (tag)"  # page file name; {tag} is the tag level (see tagpages.check_name)


@dataclass(frozen=True)
class NewNoteConfig:
    """`[new]`: how `vaultindex new @KEY` names and fills a paper's note."""

    folder: str | None = None  # None: Obsidian's folder for new notes, else the vault root
    template: str = ""  # "": a paper template in the templates folder, else the built-in one
    filename: str = "{{title}}"  # placeholders as in templates


@dataclass(frozen=True)
class Config:
    exclude: tuple[str, ...] = ()  # from config.toml: globs or folder prefixes
    obsidian_ignore: tuple[str, ...] = ()  # userIgnoreFilters from .obsidian/app.json
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    resolve_aliases: bool = False
    open_with: str = "obsidian"  # how the HTML graph opens a note: "obsidian" or "file"
    graph_attachments: bool = False  # [graph] attachments: `graph` draws attachments too
    tags: TagPagesConfig = field(default_factory=TagPagesConfig)
    index_dir: str = ""  # where the index lives ("": the user's cache folder; relative: to the vault)
    bibliography: tuple[str, ...] = ()  # CSL-JSON or .bib files besides the vault's *.bib
    new: NewNoteConfig = field(default_factory=NewNoteConfig)
    # Vault-relative folders that are no part of the vault: the index folder, when it is inside
    # it (set by the Vault). The scan never lists them, the watch drops their events.
    skip_dirs: tuple[str, ...] = ()
    # Problems with the settings that did not stop vaultindex (a pattern skipped), for the CLI to show.
    warnings: tuple[str, ...] = field(default=(), compare=False)

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
    if _is_regex(rule):
        matcher = _compile_filter(rule[1:-1])
        return callable(matcher) and matcher(path)  # a skipped pattern matches nothing
    return path.startswith(rule.lstrip("/"))


def _is_regex(rule: str) -> bool:
    return len(rule) > 2 and rule.startswith("/") and rule.endswith("/")


@functools.lru_cache(maxsize=256)
def _compile_filter(pattern: str) -> Callable[[str], bool] | str:
    """A linear-time matcher for a user's regular expression, or why it cannot be run safely."""
    try:
        import re2  # google-re2
    except ImportError:
        return _compile_checked(pattern)
    options = re2.Options()
    options.log_errors = False  # RE2 would print parse errors on stderr itself
    try:
        compiled = re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"RE2 cannot run it ({reason}; backreferences and lookarounds are not supported)"

    def search(path: str) -> bool:
        # RE2 takes UTF-8: a name byte that is not UTF-8 is matched as U+FFFD.
        text = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return compiled.search(text) is not None

    return search


MAX_UNBOUNDED = 3  # `*`, `+` or `{n,}` in one pattern for Python's backtracking engine


def _compile_checked(pattern: str) -> Callable[[str], bool] | str:
    """Without RE2: Python's `re`, only for patterns that cannot backtrack for long."""
    reason = backtracking_risk(pattern)
    if reason:
        return f"{reason}, which can take exponential time without RE2 (pip install google-re2)"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"it is not a valid regular expression ({exc})"
    return lambda path: compiled.search(path) is not None


_QUANTIFIER = re.compile(r"[*+]|\{\d*,?\d*\}")


def backtracking_risk(pattern: str) -> str:
    """Why a backtracking engine could take exponential (or high polynomial) time on `pattern`,
    or "" when it cannot: a backreference, a repeated group that holds a quantifier or an
    alternation (`(a+)+`, `(a|aa)*`), or more than MAX_UNBOUNDED unbounded quantifiers."""
    if re.search(r"\\[1-9]|\(\?P=|\\k<", pattern):
        return "it holds a backreference"
    stack: list[bool] = [False]  # per open group: holds a quantifier or an alternation
    unbounded = 0
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a character class: skip to its end
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "(":
            stack.append(False)
            i += 1
            continue
        if ch == "|":
            stack[-1] = True
            i += 1
            continue
        inner = False
        if ch == ")":
            inner = stack.pop() if len(stack) > 1 else False
            i += 1
        m = _QUANTIFIER.match(pattern, i)
        if m:
            if inner:
                return "a repeated group holds a quantifier or an alternation"
            stack[-1] = True
            unbounded += m.group() in "*+" or m.group().endswith(",}")
            i = m.end()
        elif ch != ")":
            if ch == "?" and pattern[i - 1 : i] not in ("(", ""):
                stack[-1] = True  # `a?` is a quantifier too (`(a?)+`); `(?:` is not
            i += 1
        if inner:
            stack[-1] = True  # the group's own quantifiers count for the group around it
    if unbounded > MAX_UNBOUNDED:
        return f"it has more than {MAX_UNBOUNDED} unbounded quantifiers"
    return ""


@dataclass(frozen=True)
class VaultLocation:
    root: Path
    fallback: bool = False  # no vault marker here or above: the working folder was taken


def locate_vault(explicit: str | os.PathLike | None = None, start: Path | None = None) -> VaultLocation:
    """The vault folder: the one given, else the nearest folder up holding .vaultindex/ or
    .obsidian/, else the working folder itself (fallback=True), unless that is the home folder
    or the file system's root, which are taken only when given explicitly."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise VaultNotFound(f"vault folder {str(explicit)!r} does not exist")
        if not path.is_dir():
            raise VaultNotFound(f"vault path {str(explicit)!r} is not a folder")
        return VaultLocation(path.resolve())
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / STATE_DIR).is_dir() or (folder / ".obsidian").is_dir():
            return VaultLocation(folder)
    what = _too_wide(here)
    if what:
        raise VaultNotFound(
            f"no vault here: neither {here} nor a folder above it holds .obsidian/ or {STATE_DIR}/, "
            f"and {what} is taken as a vault only when given explicitly. Run vaultindex inside a "
            "vault, or name one with --vault PATH or VAULTINDEX_VAULT"
        )
    return VaultLocation(here, fallback=True)


def _too_wide(folder: Path) -> str:
    """Why `folder` is too wide to index by accident ("your home folder"), or ""."""
    if folder.parent == folder:
        return "the file system's root"
    try:
        if folder == Path.home().resolve():
            return "your home folder"
    except (RuntimeError, KeyError, OSError):  # no home folder known
        pass
    return ""


def find_vault(explicit: str | os.PathLike | None = None, start: Path | None = None) -> Path:
    """The vault folder (see locate_vault)."""
    return locate_vault(explicit, start).root


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
    filters, warnings = _obsidian_ignore_filters(vault)
    cfg = Config(obsidian_ignore=filters, warnings=warnings)
    path = vault / STATE_DIR / CONFIG_FILE
    if not path.is_file():
        return cfg
    where = f"{STATE_DIR}/{CONFIG_FILE}"
    import tomllib  # only when there is a config file (its import is a tenth of a query's start-up)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where} cannot be read: {exc}") from exc
    changes: dict = {"warnings": cfg.warnings + _unknown_keys(data, where)}
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
    if "attachments" in data.get("graph", {}):
        changes["graph_attachments"] = _expect(data["graph"], "attachments", bool, where + " [graph]")
    tags = data.get("tags", {})
    if tags:
        tag_changes = {}
        for key, kind in (("dir", str), ("sort", str), ("min_count", int), ("watch", bool), ("name", str)):
            if key in tags:
                tag_changes[key] = _expect(tags, key, kind, where + " [tags]")
        if tag_changes.get("sort", "title") not in ("title", "year", "modified"):
            raise ConfigError(f"{where} [tags]: sort must be title, year or modified")
        changes["tags"] = replace(cfg.tags, **tag_changes)
    if "bibliography" in data:
        bib = data["bibliography"]
        bib = [bib] if isinstance(bib, str) else bib
        if not isinstance(bib, list) or not all(isinstance(x, str) and x.strip() for x in bib):
            raise ConfigError(f"{where}: bibliography must be a file name or a list of them")
        changes["bibliography"] = tuple(x.strip() for x in bib)
    new = data.get("new", {})
    if new:
        new_changes = {k: _expect(new, k, str, where + " [new]") for k in ("folder", "template", "filename") if k in new}
        if not new_changes.get("filename", "x").strip():
            raise ConfigError(f"{where} [new]: filename must not be empty")
        changes["new"] = replace(cfg.new, **new_changes)
    return replace(cfg, **changes)


# The keys config.toml may hold, by table ("" the top level): anything else is a warning.
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": ("index_dir", "exclude", "max_file_size", "resolve_aliases", "bibliography", "tags", "graph", "new"),
    "tags": ("dir", "sort", "min_count", "watch", "name"),
    "graph": ("open_with", "attachments"),
    "new": ("folder", "template", "filename"),
}


def _unknown_keys(data: dict, where: str) -> tuple[str, ...]:
    """A warning for each key vaultindex does not know (a misspelling, most likely), naming the
    closest known key. A warning, not an error: a key that is a bad value stops vaultindex, but a
    key it does not read (a newer version's, a typo) leaves every other setting usable."""
    from difflib import get_close_matches

    found = []
    for table, known in KNOWN_KEYS.items():
        section = data.get(table, {}) if table else data
        if not isinstance(section, dict):
            continue
        for key in section:
            if key in known:
                continue
            shown = f"[{table}] {key}" if table else key
            close = get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else f" (known keys: {', '.join(known)})"
            found.append(f"warning: {where}: unknown key {shown}, ignored{hint}")
    return tuple(found)


def _obsidian_ignore_filters(vault: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Obsidian's "Excluded files" and a warning for each pattern that is skipped."""
    try:
        data = json.loads((vault / ".obsidian" / "app.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return (), ()
    filters = data.get("userIgnoreFilters") if isinstance(data, dict) else None
    if not isinstance(filters, list):
        return (), ()
    kept, warnings = [], []
    for rule in filters:
        if not (isinstance(rule, str) and rule.strip()):
            continue
        problem = _compile_filter(rule[1:-1]) if _is_regex(rule) else None
        if isinstance(problem, str):
            warnings.append(f"warning: .obsidian/app.json: Excluded files pattern {json.dumps(rule)} is skipped: {problem}")
            continue
        kept.append(rule)
    return tuple(kept), tuple(warnings)


def templates_folder(root: Path) -> str:
    """The vault's templates folder: the one Obsidian's core Templates plugin is set to
    (`.obsidian/templates.json`), else `Templates`. Its notes are templates, not papers:
    `search` leaves them out unless a `path:` filter names the folder; `new` reads them."""
    try:
        data = json.loads((root / ".obsidian" / "templates.json").read_text(encoding="utf-8"))
        folder = data.get("folder") if isinstance(data, dict) else None
    except (OSError, ValueError):
        folder = None
    if isinstance(folder, str) and folder.strip().strip("/"):
        return folder.strip().strip("/")
    return DEFAULT_TEMPLATES_FOLDER


def folder_inside(root: Path, folder: Path) -> str:
    """`folder` as a vault-relative POSIX path when it lies inside the vault `root`, else ""."""
    try:
        rel = Path(os.path.realpath(folder)).relative_to(os.path.realpath(root))
    except ValueError:
        return ""
    return rel.as_posix() if rel.parts else ""


def index_inside(root: Path, config: Config, folder: Path) -> Config:
    """The config for a vault whose index folder is `folder`: when that lies inside the vault,
    the folder is skipped (never notes, never events) and a warning says it travels along."""
    rel = folder_inside(root, folder)
    if not rel:
        return config
    warning = (f"warning: the index folder {rel}/ is inside the vault: sync tools (Syncthing, Dropbox, "
               "iCloud, git) will copy it; keep it outside (the default) unless you mean to")
    return replace(config, skip_dirs=(rel,), warnings=(*config.warnings, warning))


def in_folder(path: str, folder: str) -> bool:
    """Whether the vault-relative `path` lies in `folder` (a vault-relative folder path)."""
    folder = folder.strip("/")
    return bool(folder) and (path == folder or path.startswith(folder + "/"))
