"""Owns the SQL of `doctor`'s questions (doctor.py asks them through `Store.select`): the few
link rows that can be a problem, the notes with a diagnostic, the paper ids two notes share,
the bibliography's pairs. Each reads what its check needs, never every note or every link.

Which link rows can be a problem (doctor._check_link decides; a row left out here is one it
would pass): an ambiguous one; a dangling link (it may name an alias); one with a `#heading` or
`^block`; one into an excluded file; one whose written target is not exactly the end of the
path it opens (only those can differ in letter case); with alias resolution on, every resolved
one (whether its name is a file's is asked of the paths).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator

from .models import Diagnostic, Link
from .store import Store, decode_candidates, decode_path, encode_path, storable_text

__all__ = ["DoctorRows"]

_NO_DIAGNOSTICS = '"diagnostics":[]}'

_LINK_ROWS = """
SELECT l.source, l.seq, l.kind, l.target, l.subpath, l.display, l.form, l.line, l.context, l.status, l.node, l.candidates
FROM links l
WHERE +l.cite = 0 AND (
    l.status = 'ambiguous'
    OR (l.status = 'unresolved' AND instr(l.target, '/') = 0)
    OR l.subpath != ''
    OR {aliases}
    OR (l.status = 'resolved' AND (
        l.node IN (SELECT path FROM files WHERE kind = 'excluded')
        OR NOT (l.target = '' OR l.node = l.target OR l.node = l.target || '.md'
                OR substr(l.node, -length(l.target) - 1) = '/' || l.target
                OR substr(l.node, -length(l.target) - 4) = '/' || l.target || '.md'))))
ORDER BY l.source, l.cite, l.seq
"""
# (`+l.cite`: a scan of the table in its own order, 8x faster at 10,000 notes than the index on
# `cite` and a lookup per row; generated sources are left out by the caller.)


class DoctorRows:
    """The rows of one store that doctor's checks read."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def links(self, resolve_aliases: bool, generated: Collection[str]) -> Iterator[tuple[str, Link, str | tuple[str, ...] | None]]:
        """(source, link, entry) of the links of the notes not in `generated` that can be a problem, by
        source and in the note's order; the entry as LinkState's: a path, the candidates of an
        ambiguous link (preferred first), or None when it is dangling."""
        sql = _LINK_ROWS.format(aliases="(l.status = 'resolved' AND instr(l.target, '/') = 0)" if resolve_aliases else "0")
        for source, _seq, kind, target, subpath, display, form, line, context, status, node, cands in self.store.select(sql):
            path = decode_path(source)
            if path in generated:
                continue
            entry: str | tuple[str, ...] | None
            if status == "unresolved":
                entry = None
            elif status == "ambiguous":
                entry = decode_candidates(cands)
            else:
                entry = decode_path(node)
            yield path, Link(target, kind, subpath, display, line, context, form), entry

    def alias_owners(self, keys: Iterable[str]) -> list[tuple[str, str]]:
        """(key, path) of the notes with an alias whose name_key is one of `keys` (the
        resolution keys of kind `alias`; generated notes too)."""
        out: list[tuple[str, str]] = []
        for part in _chunks(sorted({storable_text(k) for k in keys})):
            out += [(k, decode_path(p)) for k, p in self.store.select(
                f"SELECT key, path FROM reskeys WHERE kind = 'alias' AND key IN ({','.join('?' * len(part))})", part)]
        return out

    def file_paths(self) -> tuple[list[tuple[str, bool]], list[str]]:
        """([(note path, generated)], [attachment and excluded paths])."""
        notes = [(decode_path(p), bool(g)) for p, g in self.store.select("SELECT path, generated FROM notes")]
        files = [decode_path(p) for (p,) in self.store.select("SELECT path FROM files")]
        return notes, files

    def attachments(self) -> list[str]:
        return [decode_path(p) for (p,) in self.store.select("SELECT path FROM files WHERE kind = 'attachment'")]

    def excluded(self) -> set[str]:
        return {decode_path(p) for (p,) in self.store.select("SELECT path FROM files WHERE kind = 'excluded'")}

    def heading_texts(self, paths: list[str]) -> dict[str, list[str]]:
        """path -> the texts of its headings, for the given paths that are notes (from the
        heading rows; a note whose JSON keeps its headings, as rows cannot hold their text, from that)."""
        out: dict[str, list[str]] = {}
        in_json: list[str] = []
        for part in _chunks([encode_path(p) for p in paths]):
            marks = ",".join("?" * len(part))
            for p, has_json in self.store.select(
                f"SELECT path, instr(data, '\"headings\":') > 0 FROM notejson WHERE path IN ({marks})", part
            ):
                if has_json:
                    in_json.append(p)
                else:
                    out[decode_path(p)] = []
            for p, text in self.store.select(f"SELECT path, text FROM headings WHERE path IN ({marks}) ORDER BY path, rowid", part):
                if (path := decode_path(p)) in out:
                    out[path].append(text)
        for path, note in self.store.hit_fields([decode_path(p) for p in in_json]).items():
            out[path] = [h.text for h in note.headings]
        return out

    def block_ids(self, paths: list[str]) -> dict[str, list[str]]:
        """path -> its block ids (`^id`), for the given paths that are notes."""
        out: dict[str, list[str]] = {}
        for part in _chunks([encode_path(p) for p in paths]):
            for p, data in self.store.select(f"SELECT path, data FROM notejson WHERE path IN ({','.join('?' * len(part))})", part):
                out[decode_path(p)] = list(json.loads(data).get("block_ids", ()))
        return out

    def diagnostics(self) -> list[Diagnostic]:
        """The diagnostics of the non-generated notes that have any, by path, as sync counted
        them (the notes' JSON: `diagnostics` is Note's last field, so the JSON of a note that
        has none ends with `"diagnostics":[]}`, see notejson.py; frontmatter cannot end it)."""
        rows = self.store.select(
            "SELECT j.path, j.data FROM notejson j JOIN notes n ON n.path = j.path "
            f"WHERE n.generated = 0 AND substr(j.data, -{len(_NO_DIAGNOSTICS)}) != ?", (_NO_DIAGNOSTICS,)
        )
        found = self.store.hit_fields([decode_path(p) for p, _ in rows])
        return [d for path in sorted(found) for d in found[path].diagnostics]

    def shared_ids(self) -> dict[str, tuple[str, str, str]]:
        """path -> (citekey, doi, arxiv) of the non-generated notes that share a paper id with
        another note: the groups of the store's resolution keys (a note's file name counts
        there as a citekey too, so the caller compares the notes' own ids)."""
        rows = self.store.select(
            "SELECT DISTINCT r.path FROM reskeys r JOIN ("
            "  SELECT kind, key FROM reskeys WHERE kind IN ('citekey', 'doi', 'arxiv') "
            "  GROUP BY kind, key HAVING count(DISTINCT path) > 1) d ON d.kind = r.kind AND d.key = r.key"
        )
        out: dict[str, tuple[str, str, str]] = {}
        for part in _chunks(sorted(p for (p,) in rows)):
            for p, c, d, x in self.store.select(
                f"SELECT path, citekey, doi, arxiv FROM notes WHERE generated = 0 AND path IN ({','.join('?' * len(part))})", part
            ):
                out[decode_path(p)] = (c or "", d or "", x or "")
        return out

    def unknown_citekeys(self) -> list[tuple[str, int, str]]:
        """(source, line, key) of the `@key` citations of non-generated notes that point nowhere,
        by source, in file order."""
        rows = self.store.select(
            "SELECT l.source, l.line, l.target FROM links l JOIN notes s ON s.path = l.source "
            "WHERE l.cite = 1 AND l.form = 'citekey' AND l.status = 'unresolved' AND s.generated = 0 "
            "ORDER BY l.source, l.line, l.seq"
        )
        return [(decode_path(s), line, key) for s, line, key in rows]

    def bib_keys(self) -> list[str]:
        return [k for (k,) in self.store.select("SELECT key FROM bibentries ORDER BY key")]

    def citekey_entries(self) -> list[tuple[str, str, str, str, tuple]]:
        """(path, citekey, doi, arxiv, entry row) of the non-generated notes whose citekey is a
        bibliography entry's, with that entry (Store.bib_entries' row)."""
        rows = self.store.select(
            "SELECT n.path, n.citekey, n.doi, n.arxiv, e.key, e.path, e.line, e.type, e.title, e.authors, e.year, e.venue, "
            "e.doi, e.arxiv, e.url FROM notes n JOIN bibentries e ON e.key = n.citekey WHERE n.generated = 0 AND n.citekey != ''"
        )
        return [(decode_path(p), c or "", d or "", x or "", tuple(entry)) for p, c, d, x, *entry in rows]


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
