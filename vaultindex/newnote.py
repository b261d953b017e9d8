"""Owns writing a paper's note from its bibliography entry (`vaultindex new @KEY`).

Pure in the middle: `render_note` (entry + template text -> note text), `note_file_name`
(entry + pattern -> an Obsidian-safe file name), `existing_note` (is there a note for this paper
already?). At the edges: `find_template` (which template the vault has) and `write_new_file`
(create the file atomically, never through a symlink, never over an existing file).

Templates: the placeholders of Obsidian's core Templates plugin and of the common Zotero /
Citations plugin templates are filled (see PLACEHOLDERS); anything else in `{{...}}` (filters,
Templater's `<% %>`) is left as written.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .config import ALWAYS_IGNORED_DIRS, Config, templates_folder
from .errors import VaultIndexError
from .fsutil import create_new
from .models import BibEntry, Note
from .text import fold_name, math_as_text, split_frontmatter

# a template whose file name holds one of these words (first word that matches wins)
TEMPLATE_WORDS = ("paper", "literature", "reference", "zotero", "citation", "bib")
MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 180  # with ".md" and a temporary file's prefix, well under 255 bytes

# The standard keys are added in their order (empty ones left out), so the built-in frontmatter
# needs no lines of its own.
BUILTIN_TEMPLATE = """\
---
---

# {{title}}

{{authors}}{{year_suffix}}{{venue_suffix}}
{{abstract_section}}
## Notes

"""


class NoteExists(VaultIndexError):
    """`vaultindex new`: the paper already has a note, or the file name is taken."""


class NewNoteError(VaultIndexError):
    """`vaultindex new`: the note cannot be written (bad folder, template, entry)."""


# ------------------------------------------------------------------------------------------------
# values for placeholders
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    text: str  # as written into the body or a file name
    yaml: str  # as written as a whole frontmatter value ("" for no value)


# what YAML does not allow even in a double-quoted scalar (JSON leaves DEL and C1 as they are)
_NOT_YAML = re.compile("[\x7f-\x84\x86-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _yaml_str(text: str) -> str:
    """A JSON string is a YAML double-quoted scalar: safe for any title."""
    if not text:
        return ""
    quoted = json.dumps(_SURROGATE.sub("", text), ensure_ascii=False)
    return _NOT_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _yaml_list(items: Iterable[str]) -> str:
    items = [i for i in items if i]
    return "[" + ", ".join(_yaml_str(i) for i in items) + "]" if items else ""


_ACRONYM = re.compile(r"^(?=.*[A-Z].*(?:[A-Z]|\d))[\w][\w.+\-·]{1,19}$")


def _is_acronym(word: str) -> bool:
    """BERT, RoBERTa, GPT-3, LoRA, XLNet, YOLO9000: one word with two capitals (or a capital
    and a digit)."""
    return bool(_ACRONYM.match(word)) and not word.isdigit()


def title_aliases(title: str, short_title: str = "") -> tuple[str, ...]:
    """An acronym the paper goes by: the short title or the part of the title before `:`, or an
    acronym in parentheses ("... Transformers (BERT)"), when it is one word like BERT or GPT-3."""
    candidates = [short_title.strip()]
    if ":" in title:
        candidates.append(title.split(":", 1)[0].strip())
    candidates.extend(m.group(1) for m in re.finditer(r"\(([^()\s]{2,20})\)", title))
    for candidate in candidates:
        if candidate and _is_acronym(candidate) and candidate != title:
            return (candidate,)
    return ()


def _short_title(entry: BibEntry) -> str:
    from .bib import decode_latex

    short = decode_latex(entry.field("shorttitle") or entry.field("title-short"))
    if short:
        return short
    aliases = title_aliases(entry.title)
    if aliases:
        return aliases[0]
    return entry.title.split(":", 1)[0].strip() if ":" in entry.title else entry.title


def _moment(fmt: str, now: _dt.datetime) -> str:
    """The Moment.js tokens Obsidian's templates use most: YYYY YY MM M DD D HH mm ss."""
    tokens = {
        "YYYY": f"{now.year:04d}", "YY": f"{now.year % 100:02d}", "MM": f"{now.month:02d}",
        "M": str(now.month), "DD": f"{now.day:02d}", "D": str(now.day), "HH": f"{now.hour:02d}",
        "mm": f"{now.minute:02d}", "ss": f"{now.second:02d}",
    }
    return re.sub(r"YYYY|YY|MM|M|DD|D|HH|mm|ss", lambda m: tokens[m.group()], fmt)


def placeholder_values(entry: BibEntry, now: _dt.datetime | None = None) -> dict[str, Value]:
    """Folded placeholder name (lower case, no spaces, `_` or `-`) -> its value for this entry."""
    from .bib import decode_latex

    now = now or _dt.datetime.now()
    authors = entry.display_authors
    aliases = title_aliases(entry.title, decode_latex(entry.field("shorttitle")))
    abstract = decode_latex(entry.field("abstract"))
    venue = entry.venue
    values = {
        "title": Value(entry.title, _yaml_str(entry.title)),
        "shorttitle": Value(_short_title(entry), _yaml_str(_short_title(entry))),
        "citekey": Value(entry.key, _yaml_str(entry.key)),
        "authors": Value(", ".join(authors), _yaml_list(authors)),
        "year": Value(str(entry.year or ""), str(entry.year or "")),
        "month": Value(str(entry.month or ""), str(entry.month or "")),
        "venue": Value(venue, _yaml_str(venue)),
        "publisher": Value(decode_latex(entry.field("publisher")), _yaml_str(decode_latex(entry.field("publisher")))),
        "doi": Value(entry.doi, _yaml_str(entry.doi)),
        "arxiv": Value(entry.arxiv, _yaml_str(entry.arxiv)),
        "url": Value(entry.url, _yaml_str(entry.url)),
        "abstract": Value(abstract, _yaml_str(abstract)),
        "type": Value(entry.type, _yaml_str(entry.type)),
        "aliases": Value(", ".join(aliases), _yaml_list(aliases)),
        "date": Value(now.strftime("%Y-%m-%d"), now.strftime("%Y-%m-%d")),
        "time": Value(now.strftime("%H:%M"), _yaml_str(now.strftime("%H:%M"))),
        # pieces of the built-in template
        "yearsuffix": Value(f" ({entry.year})" if entry.year else "", ""),
        "venuesuffix": Value(f". *{venue}*" if venue else "", ""),
        "abstractsection": Value(f"\n## Abstract\n\n> {abstract}\n" if abstract else "", ""),
    }
    synonyms = {
        "authorstring": "authors", "author": "authors", "creators": "authors",
        "key": "citekey", "citationkey": "citekey", "id": "citekey",
        "journal": "venue", "containertitle": "venue", "publicationtitle": "venue",
        "booktitle": "venue", "journaltitle": "venue", "abstractnote": "abstract",
        "itemtype": "type", "entrytype": "type", "alias": "aliases",
    }
    for name, target in synonyms.items():
        values[name] = values[target]
    return values


# The placeholders `vaultindex new` fills (documented in the README).
PLACEHOLDERS = (
    "title", "short title", "citekey", "authors", "year", "month", "venue", "publisher", "doi",
    "arxiv", "url", "abstract", "type", "aliases", "date", "time", "date:FORMAT", "time:FORMAT",
)


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


_PLACEHOLDER = re.compile(r"\{\{\s*([^{}|]+?)\s*\}\}")


def _lookup(raw: str, values: dict[str, Value], now: _dt.datetime) -> Value | None:
    name, _, fmt = raw.partition(":")
    folded = _fold(name)
    if fmt and folded in ("date", "time"):
        text = _moment(fmt.strip(), now)
        return Value(text, _yaml_str(text))
    return values.get(folded)


def _fill_text(text: str, values: dict[str, Value], now: _dt.datetime, quote: str = "") -> str:
    """Placeholders -> text; inside a YAML double- or single-quoted scalar (`quote`), escaped."""

    def sub(m: re.Match[str]) -> str:
        value = _lookup(m.group(1), values, now)
        if value is None:
            return m.group(0)
        if quote == '"':
            return _yaml_str(value.text)[1:-1]
        if quote == "'":
            return value.text.replace("'", "''")
        return value.text

    return _PLACEHOLDER.sub(sub, text)


# ------------------------------------------------------------------------------------------------
# the note
# ------------------------------------------------------------------------------------------------

# frontmatter keys the note always carries, and the names a template may give them
STANDARD_KEYS = {
    "title": ("title",),
    "authors": ("authors", "author"),
    "year": ("year",),
    "venue": ("venue", "journal", "booktitle", "conference"),
    "doi": ("doi",),
    "arxiv": ("arxiv",),
    "url": ("url",),
    "citekey": ("citekey", "citation-key"),
    "aliases": ("aliases", "alias"),
}
_KEY_LINE = re.compile(r"^([A-Za-z_][\w\- ]*?)[ \t]*:(?=\s|$)(.*)$")
_EMPTY_VALUES = {"", "''", '""', "[]", "~", "null", "{}"}


def _split_template(text: str) -> tuple[list[str] | None, str]:
    try:
        yaml_text, body, _ = split_frontmatter(text.replace("\r\n", "\n"))
    except ValueError:  # not closed: no frontmatter
        return None, text
    return (None, text) if yaml_text is None else (yaml_text.split("\n")[:-1], body)


def _fill_value(rest: str, values: dict[str, Value], now: _dt.datetime) -> str:
    """The text after `key:` with placeholders filled: a placeholder that is the whole value
    becomes a typed YAML value (a quoted string, a list of authors, a year)."""
    stripped = rest.strip()
    whole = re.fullmatch(r"""(["']?)\{\{\s*([^{}|]+?)\s*\}\}\1""", stripped)
    if whole:
        value = _lookup(whole.group(2), values, now)
        if value is not None:
            return f" {value.yaml}" if value.yaml else ""
    quote = stripped[:1] if stripped[:1] in ("'", '"') else ""
    return _fill_text(rest, values, now, quote)


def fills_body(template: str, now: _dt.datetime | None = None) -> bool:
    """Whether the template's body (after its frontmatter) holds a placeholder `new` fills."""
    now = now or _dt.datetime.now()
    values = placeholder_values(BibEntry("x"), now)  # which names fill, not their values
    body = _split_template(template)[1]
    return any(_lookup(m.group(1), values, now) is not None for m in _PLACEHOLDER.finditer(body))


# a body's first line, when it is a level-1 heading (a template's `# Paper Title`)
_FIRST_HEADING = re.compile(r"\A(\s*\n)*# +\S[^\n]*")


def _title_heading(body: str, title: str) -> str:
    """A placeholder-free template's leading `# Paper Title` as the paper's title, the way the
    notes made from such a template read (kevinywu-notes: `# Paper Title` in templates/Paper.md,
    `# LoRA: Low-Rank Adaptation of Large Language Models` in the notes)."""
    return _FIRST_HEADING.sub(lambda m: "# " + " ".join(title.split()), body, count=1) if title.strip() else body


def render_note(entry: BibEntry, template: str | None = None, now: _dt.datetime | None = None) -> str:
    """The note's text for `entry`: the template (or the built-in one) with its placeholders
    filled, and the standard frontmatter keys (title, authors, year, venue, doi, arxiv, url,
    citekey, aliases) filled where the template leaves them empty or added where it has none.
    A template whose body has no placeholder to fill gets the title as its leading `# heading`
    (when it starts with one); the rest of its body is copied as written."""
    now = now or _dt.datetime.now()
    values = placeholder_values(entry, now)
    fm_lines, body = _split_template(template if template is not None else BUILTIN_TEMPLATE)
    if template is not None and not fills_body(template, now):
        body = _title_heading(body, entry.title)
    out: list[str] = []
    present: set[str] = set()
    lines = fm_lines or []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _KEY_LINE.match(line) if line and not line[0].isspace() else None
        if not m:
            out.append(_fill_item(line, values, now))
            i += 1
            continue
        key, rest = m.group(1), m.group(2)
        j = i + 1
        continuation = []
        while j < len(lines) and lines[j] and (lines[j][0].isspace() or lines[j].startswith("- ") or lines[j] == "-"):
            continuation.append(lines[j])
            j += 1
        standard = next((s for s, names in STANDARD_KEYS.items() if key.lower() in names), None)
        empty = rest.strip() in _EMPTY_VALUES and all(c.strip() in ("", "-") for c in continuation)
        if standard:
            present.add(standard)
        if standard and empty:
            filled = values[standard].yaml
            out.append(f"{key}:{' ' + filled if filled else ''}")
        else:
            out.append(f"{key}:{_fill_value(rest, values, now)}")
            out.extend(_fill_item(c, values, now) for c in continuation)
        i = j
    for standard in STANDARD_KEYS:
        if standard not in present and values[standard].yaml:
            out.append(f"{standard}: {values[standard].yaml}")
    body_text = _fill_text(body, values, now)
    frontmatter = "\n".join(out).strip("\n")
    text = f"---\n{frontmatter}\n---\n\n{body_text.lstrip(chr(10))}"
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def _fill_item(line: str, values: dict[str, Value], now: _dt.datetime) -> str:
    """A continuation line of the frontmatter (`  - "{{citekey}}"`): placeholders filled as text
    (escaped inside double quotes)."""
    m = re.match(r"^(\s*-\s*)(.*)$", line)
    if m:
        return m.group(1) + _fill_value(m.group(2), values, now).lstrip()
    return _fill_text(line, values, now, '"' if '"' in line else "")


# ------------------------------------------------------------------------------------------------
# the file name
# ------------------------------------------------------------------------------------------------

_FORBIDDEN = {":": " - ", "/": "-", "\\": "-", "|": "-", "*": "", '"': "", "<": "", ">": "", "?": "", "#": "", "^": "", "[": "", "]": ""}
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_name(text: str) -> str:
    """Text -> a file name (without `.md`) that Obsidian accepts on every system: none of
    `* " \\ / < > : | ? # ^ [ ]`, no control characters, no leading dot, bounded length."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(_FORBIDDEN.get(ch, ch) for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"( - )+", " - ", text)
    text = text.lstrip(". -").rstrip(". ")
    if len(text) > MAX_NAME_CHARS or len(text.encode("utf-8")) > MAX_NAME_BYTES:
        cut = text[:MAX_NAME_CHARS]
        while len(cut.encode("utf-8")) > MAX_NAME_BYTES:
            cut = cut[:-1]
        if " " in cut[MAX_NAME_CHARS // 2 :]:
            cut = cut[: cut.rindex(" ")]
        text = cut.rstrip(". -")
    if text.split(".")[0].lower() in _WINDOWS_RESERVED:
        text += "_"
    return text


def note_file_name(entry: BibEntry, pattern: str = "{{title}}", now: _dt.datetime | None = None) -> str:
    """The note's file name (with `.md`) from the pattern; the citekey when the pattern gives
    nothing usable. Math in the title is read as text (text.math_as_text): `$π^{*}_{0.6}$: A
    VLA...` is named `π0.6 - A VLA...`, where Obsidian would show `$π{}_{0.6}$ - A VLA...`."""
    now = now or _dt.datetime.now()
    values = placeholder_values(entry, now)
    for key in ("title", "shorttitle"):
        values[key] = Value(math_as_text(values[key].text), values[key].yaml)
    name = safe_name(_fill_text(pattern, values, now))
    if not name:
        name = safe_name(entry.key) or "Untitled paper"
    return name + ".md"


# ------------------------------------------------------------------------------------------------
# checks and choices that look at the vault
# ------------------------------------------------------------------------------------------------


def existing_note(
    notes: Iterable[Note], entry: BibEntry, target: str, templates: Iterable[str] = ()
) -> tuple[str, str] | None:
    """(path, why) of a note that already stands for this paper or takes its file name.

    `templates` are folders (and files) of templates: their example ids and citekeys stand
    for no paper, so they never count; only their file names still may clash."""
    target_name = fold_name(target.rsplit("/", 1)[-1].removesuffix(".md"))
    key_names = {fold_name(entry.key), fold_name("@" + entry.key)}
    skip = [fold_name(t.strip("/")) for t in templates if t.strip("/")]
    for note in notes:
        name = fold_name(note.name)
        where = fold_name(note.path)
        if any(where == t or where.startswith(t + "/") for t in skip):
            if name == target_name:
                return note.path, _SAME_NAME
            continue
        paper = note.paper
        if paper.citekey and paper.citekey == entry.key:
            return note.path, f"its citekey is {entry.key}"
        if entry.doi and paper.doi == entry.doi:
            return note.path, f"its DOI is {entry.doi}"
        if entry.arxiv and paper.arxiv == entry.arxiv:
            return note.path, f"its arXiv id is {entry.arxiv}"
        if name in key_names:
            return note.path, f"it is named after the citekey (a citation [@{entry.key}] resolves to it)"
        if name == target_name:
            return note.path, _SAME_NAME
    return None


_SAME_NAME = "it has the same file name, so Obsidian's [[links]] to either would be ambiguous"


def _template_rel(chosen: str) -> str:
    """A template named in the config or on the command line, as a vault-relative .md path."""
    rel = chosen.replace("\\", "/").strip("/")
    return rel if rel.lower().endswith(".md") else rel + ".md"


def find_template(root: Path, config: Config, explicit: str | None = None) -> str | None:
    """The vault-relative path of the paper template to use, or None for the built-in one.

    `explicit` (the --template option), else `[new] template` in the config, else the first
    Markdown file in the templates folder whose name contains "paper", else "literature",
    "reference", "zotero", "citation", "bib" (alphabetical among equals)."""
    chosen = explicit if explicit is not None else config.new.template
    if chosen:
        rel = _template_rel(chosen)
        if not (root / rel).is_file():
            raise NewNoteError(f"template {rel!r} not found in the vault")
        return rel
    folder = templates_folder(root)
    try:
        names = sorted(p.name for p in (root / folder).iterdir() if p.suffix.lower() == ".md" and p.is_file())
    except OSError:
        return None
    for word in TEMPLATE_WORDS:
        for name in names:
            if word in name.lower():
                return f"{folder}/{name}"
    return None


def note_folder(root: Path, config: Config, explicit: str | None = None) -> str:
    """Where the note goes: --folder, else `[new] folder`, else Obsidian's folder for new notes
    (`newFileLocation: folder` in .obsidian/app.json), else the vault root. Checked: inside the
    vault, not hidden, not excluded from the index."""
    folder = explicit if explicit is not None else config.new.folder
    if folder is None:
        try:
            app = json.loads((root / ".obsidian" / "app.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            app = {}
        if isinstance(app, dict) and app.get("newFileLocation") == "folder":
            value = app.get("newFileFolderPath")
            folder = value if isinstance(value, str) else ""
    folder = (folder or "").replace("\\", "/").strip().strip("/")
    parts = [p for p in folder.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise NewNoteError(f"folder {folder!r} is outside the vault")
    if any(p in ALWAYS_IGNORED_DIRS or p.startswith(".") for p in parts):
        raise NewNoteError(f"folder {folder!r} is hidden or ignored: its notes would not be indexed")
    clean = "/".join(parts)
    if clean and config.is_excluded(clean + "/"):
        raise NewNoteError(f"folder {clean!r} is excluded from the index by the config")
    return clean


# ------------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------------

_O_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


def write_new_file(root: Path, rel: str, text: str) -> None:
    """Create `rel` (vault-relative) with `text`, atomically: the file appears whole or not at
    all, never replaces anything (NoteExists), and no folder on the way may be a symlink
    (missing folders are made)."""
    parts = rel.split("/")
    try:
        dir_fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise NewNoteError(f"cannot open the vault folder: {exc.strerror}") from exc
    try:
        for i, part in enumerate(parts[:-1]):
            shown = "/".join(parts[: i + 1])
            try:
                os.mkdir(part, dir_fd=dir_fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise NewNoteError(f"cannot make folder {shown}: {exc.strerror}") from exc
            try:
                inner = os.open(part, _O_DIR, dir_fd=dir_fd)
            except OSError as exc:
                why = "is a symlink" if _is_link(part, dir_fd) else f"cannot be opened ({exc.strerror})"
                raise NewNoteError(f"folder {shown} {why}; vaultindex writes only into real folders") from exc
            os.close(dir_fd)
            dir_fd = inner
        _create_in(dir_fd, parts[-1], text.encode("utf-8"), rel)
    finally:
        os.close(dir_fd)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


def _create_in(dir_fd: int, name: str, data: bytes, rel: str) -> None:
    """Write the new note `name` in the open folder: it appears whole, and only if the name is free."""
    try:
        created = create_new(Path(name), data, dir_fd=dir_fd)
    except OSError as exc:
        raise NewNoteError(f"cannot write {rel}: {exc.strerror}") from exc
    if not created:
        raise NoteExists(f"{rel} already exists; nothing was written")


# ------------------------------------------------------------------------------------------------
# the whole step, for the CLI
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    path: str  # vault-relative POSIX
    text: str
    entry: BibEntry
    template: str | None  # the template used, None for the built-in one
    remarks: tuple[str, ...] = ()  # what the user should know about how the note was made (stderr)


def plan(
    root: Path,
    config: Config,
    notes: Iterable[Note],
    bibliography,
    key: str,
    folder: str | None = None,
    name: str | None = None,
    template: str | None = None,
    now: _dt.datetime | None = None,
) -> Planned:
    """Everything `vaultindex new` decides before it writes: which entry, which file, what text.
    Raises NewNoteError (no such entry, bad template) or NoteExists (the paper has a note)."""
    key = key.strip().removeprefix("[").removesuffix("]").removeprefix("@")
    entry = bibliography.get(key)
    if entry is None:
        raise NewNoteError(_not_found(key, bibliography))
    now = now or _dt.datetime.now()
    rel_folder = note_folder(root, config, folder)
    file_name = safe_name(name.removesuffix(".md")) + ".md" if name else note_file_name(entry, config.new.filename, now)
    if file_name == ".md":
        raise NewNoteError(f"--name {name!r} gives no usable file name")
    path = f"{rel_folder}/{file_name}" if rel_folder else file_name
    templates = [templates_folder(root), *(_template_rel(t) for t in (config.new.template, template) if t)]
    found = existing_note(notes, entry, path, templates)
    if found:
        raise NoteExists(f"a note for @{key} exists: {found[0]} ({found[1]}); nothing was written")
    if os.path.lexists(root / path):
        raise NoteExists(f"{path} already exists; nothing was written")
    template_path = find_template(root, config, template)
    template_text = None
    if template_path:
        try:
            template_text = (root / template_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NewNoteError(f"template {template_path} cannot be read: {exc}") from exc
    text = render_note(entry, template_text, now)
    _check(path, text, entry, template_path)
    remarks = _remarks(template_path, template_text, now) if template_path and template_text is not None else ()
    return Planned(path, text, entry, template_path, remarks)


def _remarks(template_path: str, template: str, now: _dt.datetime) -> tuple[str, ...]:
    """What to tell the user of a template that fills nothing in the body (kevinywu-notes'
    templates/Paper.md, academic-obsidian's Templater templates): it is copied as written."""
    if fills_body(template, now):
        return ()
    body = _split_template(template)[1]
    heading = "its first heading became the title, the rest" if _FIRST_HEADING.match(body) else "it"
    templater = " (Templater's <% %> commands too)" if "<%" in body else ""
    return (
        f"template {template_path} has no {{{{placeholders}}}} in its body: {heading} is copied as "
        f"written{templater}; title, authors, year, ids and citekey are in the frontmatter. "
        "Write {{authors}}, {{abstract}}, {{url}}... in the template to fill them in the body.",
    )


def _check(path: str, text: str, entry: BibEntry, template: str | None) -> None:
    """The note must parse as vaultindex and Obsidian will read it, and carry the citekey."""
    from .parse import parse_note

    note = parse_note(path, text)
    errors = [d for d in note.diagnostics if d.severity == "error"]
    source = f"template {template}" if template else "the built-in template"
    if errors:
        raise NewNoteError(f"{source} gives a note that does not parse ({errors[0].message}); fix the template")
    if note.paper.citekey != entry.key:
        raise NewNoteError(f"{source} gives a note without citekey {entry.key!r}; fix the template")


def _not_found(key: str, bibliography) -> str:
    import difflib

    if not len(bibliography):
        return (
            f"no bibliography entry @{key}: no bibliography found (put a .bib file in the vault, or "
            'name CSL-JSON files in .vaultindex/config.toml: bibliography = ["refs.json"])'
        )
    close = difflib.get_close_matches(key, list(bibliography.by_key), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join('@' + c for c in close)}?" if close else ""
    files = len(bibliography.files)
    return f"no bibliography entry @{key} ({len(bibliography)} entries in {files} file{'s' if files != 1 else ''}){hint}"
