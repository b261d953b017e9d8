"""The MCP server's tool answers: for each tool, the library call the CLI makes, its data (the
command's `--json`) and a short text form. Pure of the protocol: mcp.py serves them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import VaultIndexError
from .models import to_json

if TYPE_CHECKING:
    from .vault import Vault

TEXT_ITEMS = 20  # items listed in a tool's text form (the structured content has them all)


def _listing(items: list[str], total: int | None = None) -> str:
    total = len(items) if total is None else total
    shown = items[:TEXT_ITEMS]
    more = f"\n... and {total - len(shown):,} more (all of them are in the structured result)" if total > len(shown) else ""
    return "\n".join(shown) + more


def _plain_hits(hits: Any) -> list[Any]:
    from dataclasses import replace

    return [replace(h, snippet=h.snippet.replace("\x01", "").replace("\x02", "")) for h in hits]


def search_query(query: str, tag: str | None = None, folder: str | None = None, year: str | None = None,
                 author: str | None = None, status: str | None = None) -> str:
    """The query with the filters written in the query syntax, as one would type them to the CLI."""
    parts = [query.strip()]
    for field, value in (("tag", tag), ("path", folder), ("year", year), ("author", author), ("status", status)):
        if value is not None and str(value).strip():
            value = str(value).strip()
            parts.append(f'{field}:"{value}"' if (" " in value and field == "author") else f"{field}:{value}")
    return " ".join(p for p in parts if p)


def do_search(vault: Vault, query: str, limit: int) -> tuple[Any, str]:
    from .references import tagged

    result = vault.search(query, limit=limit)
    hits = _plain_hits(result.hits)
    refs = vault.references(query, limit=limit)  # papers of the bibliography with no note, after the notes
    lines = []
    if result.suggestion:
        lines.append(f'(did you mean "{result.suggestion}"? showing those matches too)')
    for rank, hit in enumerate(hits, 1):
        year = f" ({hit.year})" if hit.year else ""
        lines.append(f"{rank}. {hit.title}{year} — {hit.path}")
        if hit.section is not None:
            where = " > ".join(hit.section.path) or "(before the first heading)"
            lines.append(f"   § {where}, lines {hit.section.start_line}-{hit.section.end_line}: {hit.section.snippet}")
        elif hit.snippet:
            lines.append(f"   {hit.snippet}")
    if refs:
        lines.append(f"In the bibliography, no note ({len(refs):,}):")
        lines.extend(f"@{r.key}: {r.title}" + (f" ({r.year})" if r.year else "") + f" — {r.path}:{r.line}" for r in refs)
    return tagged(hits, refs), "\n".join(lines) if hits or refs else "No notes match."


def do_read_note(vault: Vault, note: str, heading: str | None, max_chars: int) -> tuple[Any, str]:
    found = vault.read_note(note, heading)  # `vaultindex show`'s call
    content = found.text
    truncated = len(content) > max_chars
    if truncated:
        content = content[:max_chars]
    data = {**found.data(), "text": content, "truncated": truncated}
    section = found.section
    where = f" § {' > '.join(section.path)} (lines {section.start_line}-{section.end_line})" if section else ""
    cut = f"\n[cut at {max_chars:,} characters: ask for a heading, or a larger max_chars]" if truncated else ""
    return data, f"# {found.note.title} — {found.note.path}{where}\n\n{content}{cut}"


def do_backlinks(vault: Vault, note: str) -> tuple[Any, str]:
    found = vault.backlinks(note)
    lines = [f"{b.path}: " + "; ".join(f"line {link.line}: {link.context}" for link in b.links[:3]) for b in found]
    return found, (f"{len(found):,} notes link here.\n" + _listing(lines, len(found))) if found else "No notes link here."


def do_links(vault: Vault, note: str) -> tuple[Any, str]:
    found = vault.links(note)
    lines = [f"line {link.line}: {link.kind} {link.target} -> {link.path or link.status}" for link in found]
    return found, _listing(lines) if found else "No outgoing links."


def do_mentions(vault: Vault, note: str) -> tuple[Any, str]:
    found = vault.mentions(note)
    lines = [f"{m.path}: " + "; ".join(f"line {x.line}: {x.context}" for x in m.mentions[:3]) for m in found]
    return found, _listing(lines) if found else "No unlinked mentions."


def do_related(vault: Vault, note: str, limit: int) -> tuple[Any, str]:
    found = vault.related(note, limit=limit)
    lines = [f"{i}. {r.title} — {r.path} ({r.score:.2f}; {', '.join(x.kind for x in r.reasons)})" for i, r in enumerate(found, 1)]
    return found, _listing(lines) if found else "No related notes found."


def do_unresolved(vault: Vault, kind: str) -> tuple[Any, str]:
    found = [u for u in vault.unresolved() if kind in ("all", u.kind)]
    lines = [f"{u.target} ({'cited, no note' if u.kind == 'paper' else 'no such file'}; used {u.count}x)"
             + (f" — in the bibliography: {u.title} ({u.year or 'n.d.'})" if u.bib else "") for u in found]
    return found, _listing(lines) if found else "No unresolved targets."


def do_orphans(vault: Vault) -> tuple[Any, str]:
    found = vault.orphans()
    return found, _listing([o.path for o in found]) if found else "No orphan notes."


def do_path(vault: Vault, source: str, target: str, directed: bool) -> tuple[Any, str]:
    found = vault.path(source, target, directed=directed)
    if found is None:
        return None, f"No {'directed ' if directed else ''}link path between {source!r} and {target!r}."
    data = {"directed": found.directed, "length": found.length, "steps": to_json(list(found.steps))}
    return data, " ".join(f"{s.direction} {s.path}".strip() for s in found.steps)


def do_rank(vault: Vault, limit: int, by: str) -> tuple[Any, str]:
    found = vault.rank(limit, by=by)
    lines = [f"{i}. {r.path} (pagerank {r.pagerank:.4f}, {r.in_degree} in, {r.out_degree} out)" for i, r in enumerate(found, 1)]
    return found, _listing(lines)


def do_tags(vault: Vault, tag: str | None, sort: str, notes: bool) -> tuple[Any, str]:
    from .tagpages import sort_tags

    infos = sort_tags(vault.tags(), sort)
    if tag is not None:
        wanted = tag.strip().lstrip("#").casefold()
        match = [i for i in infos if i.tag == wanted]
        if not match:
            raise VaultIndexError(f'no note has the tag "{tag}" (see the tags tool for the list)')
        info = match[0]
        return {"tag": info.tag, "count": info.count, "notes": list(info.notes)}, f"#{info.tag}: {info.count} notes\n" + _listing(list(info.notes))
    data = [{"tag": i.tag, "count": i.count, **({"notes": list(i.notes)} if notes else {})} for i in infos]
    return data, _listing([f"#{i.tag} ({i.count})" for i in infos]) if infos else "No tags."


def do_doctor(vault: Vault) -> tuple[Any, str]:
    report = vault.doctor()
    lines = [f"{p.severity}: {p} [{p.code}]" for p in report.problems]
    return report, f"{report.errors} errors, {report.warnings} warnings.\n" + _listing(lines, len(lines))


def do_neighbourhood(vault: Vault, note: str, depth: int, kinds: Sequence[str] | None) -> tuple[Any, str]:
    from .export import GraphFilters, export

    view = vault.graph_view(GraphFilters(around=note, depth=depth, kinds=tuple(kinds or ("link", "embed", "cite"))))
    data = json.loads(export(view, "json"))
    nodes = [f"{n.get('id')} ({n.get('kind', '')})" for n in data.get("nodes", [])]
    return data, f"{len(data.get('nodes', [])):,} nodes, {len(data.get('links', data.get('edges', []))):,} edges:\n" + _listing(nodes)
