"""Owns writing notes into the vault for a caller (the MCP server's write tools): create a note
(from a template, with frontmatter), append to a note, add a tag.

Every write stays inside the vault: a path is vault-relative, without `..`, not absolute, not
in a hidden or ignored folder, and no folder on the way (nor the note) is a symlink, so nothing
outside the vault is ever reached. Every write is atomic (a temporary file beside the note,
then a rename or a hard link); a new note never replaces a file (the link fails when the name
is taken, even between the check and the write), and an edit is refused when the file changed
while it was being edited.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from .config import ALWAYS_IGNORED_DIRS
from .errors import VaultIndexError
from .fsutil import create_new, temp_beside
from .text import split_frontmatter

DEFAULT_TEMPLATE_FOLDER = "Templates"
MAX_NOTE_BYTES = 5_000_000
# Characters Obsidian does not allow in a file name (it refuses to create such notes).
_BAD_NAME_CHARS = re.compile(r'[\\:*?"<>|#^\[\]\x00-\x1f]')
_TAG_BODY = re.compile(r"[^\s!-,.:-@\[-^`{-~]+")  # parse.py's inline-tag body: no spaces, no ASCII punctuation but _ - /


class WriteRefused(VaultIndexError):
    """A write that would leave the vault, replace a file or break a note."""


@dataclass(frozen=True)
class Written:
    path: str  # vault-relative
    created: bool
    sha1: str  # of the bytes now on disk
    changed: bool = True  # False when the note already was as asked (a tag it had)


# -- paths ---------------------------------------------------------------------------------------


def safe_note_path(root: Path, rel: str, must_exist: bool | None = None) -> tuple[str, Path]:
    """The vault-relative POSIX path and the absolute path of a note to write, after every check."""
    if not isinstance(rel, str) or not rel.strip():
        raise WriteRefused("give the note's path inside the vault, such as papers/New paper.md")
    text = unicodedata.normalize("NFC", rel.strip().replace("\\", "/"))
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or text.startswith("~"):
        raise WriteRefused(f"{rel!r} is an absolute path: give a path inside the vault")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise WriteRefused(f"{rel!r} goes up with '..': give a path inside the vault")
    if not parts:
        raise WriteRefused(f"{rel!r} names no note")
    for part in parts:
        if part.startswith(".") or part in ALWAYS_IGNORED_DIRS:
            raise WriteRefused(f"{rel!r} is in a hidden or ignored folder ({part}): vaultindex writes only notes")
    name = parts[-1]
    if not name.lower().endswith(".md"):
        name += ".md"
        parts[-1] = name
    if _BAD_NAME_CHARS.search(name[:-3]) or name[:-3].strip() != name[:-3] or not name[:-3]:
        raise WriteRefused(f"{name!r} is not a name Obsidian accepts (no \\ : * ? \" < > | # ^ [ ], no leading or trailing spaces)")
    rel_path = "/".join(parts)
    real_root = root.resolve()
    here = real_root
    for part in parts[:-1]:
        here = here / part
        if here.is_symlink():
            raise WriteRefused(f"{rel!r} goes through the symlink {part!r}: vaultindex writes only to real folders in the vault")
        if here.exists() and not here.is_dir():
            raise WriteRefused(f"{'/'.join(parts[: parts.index(part) + 1])!r} is a file, not a folder")
    target = here / name
    if target.is_symlink():
        raise WriteRefused(f"{rel_path!r} is a symlink: vaultindex does not write through symlinks")
    try:
        target.parent.resolve().relative_to(real_root) if target.parent.exists() else None
    except ValueError:
        raise WriteRefused(f"{rel!r} resolves outside the vault") from None
    if must_exist is True and not target.is_file():
        raise WriteRefused(f"no note at {rel_path!r}")
    if must_exist is False and (target.exists() or target.is_symlink()):
        raise WriteRefused(f"{rel_path!r} already exists: vaultindex never overwrites a note (append to it instead)")
    return rel_path, target


def _make_folders(root: Path, target: Path) -> None:
    real_root = root.resolve()
    rel = target.parent.relative_to(real_root)
    here = real_root
    for part in rel.parts:
        here = here / part
        try:
            here.mkdir()
        except FileExistsError:
            pass
        if here.is_symlink() or not here.is_dir():
            raise WriteRefused(f"{here.relative_to(real_root).as_posix()!r} is not a real folder of the vault")


# -- atomic writing ------------------------------------------------------------------------------


def _create(target: Path, data: bytes) -> None:
    """Write a new file atomically; fails when the name is taken (even by a file made meanwhile)."""
    if not create_new(target, data, 0o644):
        raise WriteRefused(f"{target.name!r} already exists: vaultindex never overwrites a note")


def _replace(target: Path, data: bytes, expected: bytes) -> None:
    """Replace a note's bytes atomically, unless it changed since `expected` was read."""
    st = os.lstat(target)
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused(f"{target.name!r} is not a regular file")
    tmp = temp_beside(target, data, stat.S_IMODE(st.st_mode), fsync=True)
    try:
        if _read(target) != expected:
            raise WriteRefused(f"{target.name!r} changed while it was being edited: nothing written, try again")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _read(target: Path) -> bytes:
    fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise WriteRefused(f"{target.name!r} is not a regular file")
        data = fh.read(MAX_NOTE_BYTES + 1)
    if len(data) > MAX_NOTE_BYTES:
        raise WriteRefused(f"{target.name!r} is larger than {MAX_NOTE_BYTES:,} bytes: not edited")
    return data


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


# -- frontmatter ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", ""))


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def _split(text: str) -> tuple[str | None, str]:
    """(frontmatter YAML text or None, the rest)."""
    try:
        yaml_text, body, _ = split_frontmatter(text)
    except ValueError:  # not closed: no frontmatter
        return None, text
    return yaml_text, body


def _load(yaml_text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(yaml_text) if yaml_text.strip() else {}
    except yaml.YAMLError as exc:
        raise WriteRefused(f"the frontmatter is not valid YAML ({exc.__class__.__name__}): fix it first") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WriteRefused("the frontmatter is not a set of properties: fix it first")
    return data


# -- templates -----------------------------------------------------------------------------------


def template_folder(root: Path) -> str:
    """Obsidian's template folder (core Templates plugin setting), else Templates."""
    try:
        folder = json.loads((root / ".obsidian" / "templates.json").read_text(encoding="utf-8")).get("folder")
        if isinstance(folder, str) and folder.strip("/"):
            return folder.strip("/")
    except (OSError, ValueError, AttributeError):
        pass
    return DEFAULT_TEMPLATE_FOLDER


def find_template(root: Path, name: str) -> tuple[str, str]:
    """A template's vault-relative path and text: a path in the vault, or a name in the template folder."""
    folder = template_folder(root)
    tried = []
    for candidate in (name, f"{name}.md", f"{folder}/{name}", f"{folder}/{name}.md"):
        try:
            rel, path = safe_note_path(root, candidate, must_exist=None)
        except WriteRefused:
            continue
        tried.append(rel)
        if path.is_file():
            return rel, _read(path).decode("utf-8", errors="replace")
    raise WriteRefused(f'no template named "{name}" (looked for {", ".join(dict.fromkeys(tried)) or name}; templates live in {folder}/)')


def fill_template(text: str, title: str, now: datetime) -> str:
    """Obsidian's template variables: {{title}}, {{date}}, {{time}}, {{date:FORMAT}}, {{time:FORMAT}}."""

    def value(m: re.Match[str]) -> str:
        name, fmt = m.group(1).lower(), m.group(2)
        if name == "title":
            return title
        if fmt:
            return _moment(now, fmt.strip())
        return now.strftime("%Y-%m-%d" if name == "date" else "%H:%M")

    return re.sub(r"\{\{\s*(title|date|time)\s*(?::([^}]*))?\}\}", value, text, flags=re.I)


def _moment(now: datetime, fmt: str) -> str:
    """The common tokens of the moment.js formats Obsidian uses."""
    tokens = {"YYYY": "%Y", "YY": "%y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "DD": "%d", "dddd": "%A",
              "ddd": "%a", "HH": "%H", "mm": "%M", "ss": "%S"}
    pattern = re.compile("|".join(sorted(tokens, key=len, reverse=True)))
    return now.strftime(pattern.sub(lambda m: tokens[m.group()], fmt.replace("%", "%%")))


# -- the three writes ----------------------------------------------------------------------------


def create_note(
    root: Path,
    path: str,
    body: str = "",
    frontmatter: Mapping[str, Any] | None = None,
    template: str | None = None,
    now: datetime | None = None,
) -> Written:
    """A new note at `path` (`.md` added when missing): the template's text (variables filled,
    its properties merged under the given ones), or the frontmatter and body given."""
    rel, target = safe_note_path(root, path, must_exist=False)
    title = rel.rsplit("/", 1)[-1][:-3]
    props: dict[str, Any] = {}
    text_body = ""
    if template:
        _, tmpl = find_template(root, template)
        filled = fill_template(tmpl.replace("\r\n", "\n"), title, now or datetime.now())
        yaml_text, text_body = _split(filled)
        if yaml_text is not None:
            props = _load(yaml_text)
    for key, value in (frontmatter or {}).items():
        props[str(key)] = value
    if body:
        text_body = (text_body.rstrip("\n") + "\n\n" if text_body.strip() else "") + body
    text = (f"---\n{_dump(props)}---\n" if props else "") + text_body
    if not text.endswith("\n"):
        text += "\n"
    data = text.encode("utf-8")
    _make_folders(root, target)
    _create(target, data)
    return Written(rel, True, _sha1(data))


def append_to_note(root: Path, path: str, text: str) -> Written:
    """`text` added at the end of the note, on a line of its own."""
    if not text.strip():
        raise WriteRefused("nothing to append: give some text")
    rel, target = safe_note_path(root, path, must_exist=True)
    old = _read(target)
    current = old.decode("utf-8", errors="strict") if _decodes(old) else None
    if current is None:
        raise WriteRefused(f"{rel!r} is not UTF-8 text: not edited")
    newline = "\r\n" if "\r\n" in current else "\n"
    addition = text.replace("\r\n", "\n").strip("\n").replace("\n", newline)
    sep = "" if not current or current.endswith(("\n", "\r")) else newline
    data = (current + sep + addition + newline).encode("utf-8")
    _replace(target, data, old)
    return Written(rel, False, _sha1(data))


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def clean_tag(tag: str) -> str:
    """A tag as written in frontmatter (no `#`), checked against Obsidian's rules."""
    t = unicodedata.normalize("NFC", str(tag).strip()).lstrip("#")
    if not t or not _TAG_BODY.fullmatch(t) or t.replace("/", "").isdigit() or t.startswith("/") or t.endswith("/"):
        raise WriteRefused(
            f"{tag!r} is not a tag Obsidian accepts: letters, digits, _ - and / (nested), "
            "at least one non-digit, no spaces"
        )
    return t


def add_tag(root: Path, path: str, tag: str) -> Written:
    """The tag added to the note's frontmatter `tags` (the note's own formatting kept); a note
    that already has it is left as it is."""
    t = clean_tag(tag)
    rel, target = safe_note_path(root, path, must_exist=True)
    old = _read(target)
    if not _decodes(old):
        raise WriteRefused(f"{rel!r} is not UTF-8 text: not edited")
    current = old.decode("utf-8")
    newline = "\r\n" if "\r\n" in current else "\n"
    text = current.replace("\r\n", "\n")
    yaml_text, rest = _split(text)
    props = _load(yaml_text) if yaml_text is not None else {}
    key = next((k for k in props if str(k).lower() in ("tags", "tag")), None)
    have = _tag_values(props.get(key)) if key is not None else []
    if t.casefold() in (h.casefold() for h in have):
        return Written(rel, False, _sha1(old), changed=False)
    new_yaml = _with_tag(yaml_text or "", key, props.get(key) if key is not None else None, t)
    check = _load(new_yaml)
    if t.casefold() not in (h.casefold() for h in _tag_values(check.get(key or "tags"))):
        raise WriteRefused(f"cannot add a tag to the frontmatter of {rel!r} without rewriting it: add #{t} by hand")
    if any(check.get(k) != v for k, v in props.items() if k != key):
        raise WriteRefused(f"adding the tag would change other properties of {rel!r}: add #{t} by hand")
    result = f"---\n{new_yaml}---\n{rest}" if yaml_text is not None else f"---\n{new_yaml}---\n{text}"
    data = result.replace("\n", newline).encode("utf-8")
    _replace(target, data, old)
    return Written(rel, False, _sha1(data))


def _tag_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.lstrip("#") for v in re.split(r"[,\s]+", value) if v.strip()]
    if isinstance(value, list):
        return [str(v).lstrip("#") for v in value if v is not None]
    return [str(value)]


def _with_tag(yaml_text: str, key: str | None, value: Any, tag: str) -> str:
    """The YAML text with `tag` added to its tags property, editing only that property's lines."""
    if yaml_text and not yaml_text.endswith("\n"):
        yaml_text += "\n"
    scalar = _dump({"x": [tag]}).split("\n")[1].strip()[2:]  # the tag as one YAML list item
    if key is None:
        return yaml_text + f"tags:\n  - {scalar}\n"
    lines = yaml_text.split("\n")
    at = next(i for i, line in enumerate(lines) if re.match(rf"^{re.escape(str(key))}\s*:", line))
    head = lines[at]
    after = head.split(":", 1)[1].strip()
    if not after or after.startswith("#"):  # a block list (or nothing yet) below the key
        end = at + 1
        indent = "  "
        while end < len(lines) and (lines[end].startswith((" ", "\t", "-")) or not lines[end].strip()):
            if lines[end].lstrip().startswith("-"):
                indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
            end += 1
        while end > at + 1 and not lines[end - 1].strip():
            end -= 1
        lines.insert(end, f"{indent}- {scalar}")
    elif after.startswith("[") and after.rstrip().endswith("]"):
        inner = after.strip()[1:-1].strip()
        lines[at] = f"{head.split(':', 1)[0]}: [{inner + ', ' if inner else ''}{scalar}]"
    elif isinstance(value, str):
        lines[at] = f"{head.split(':', 1)[0]}: {after}, {scalar}" if "," in after else f"{head.split(':', 1)[0]}: {after} {scalar}"
    else:
        lines[at] = f"{head.split(':', 1)[0]}: [{after}, {scalar}]"
    return "\n".join(lines)
