"""Owns the link questions answered from the store's rows in SQL: backlinks, outgoing links,
unresolved targets and orphans, turned into answers.py's dataclasses. Each reads the rows its
question needs (a note's links, the links to one note, the dangling ones), never the whole
vault; `Vault` calls these through `Vault._ask` (which rebuilds a damaged index once)."""

from __future__ import annotations

from collections import Counter

from .answers import Backlink, LinkLine, NoteRef, OutLink, UnresolvedTarget, Use, paper_label
from .store import Store, decode_candidates, decode_path

__all__ = ["backlinks", "links", "orphans", "unresolved"]

REFERENCE = "ref:"  # the node of a bibliography paper with no note (references.REFERENCE)


def backlinks(store: Store, path: str) -> list[Backlink]:
    """Notes that link to, embed or cite `path`, by source path, each with line and text."""
    by_source: dict[str, list[LinkLine]] = {}
    titles: dict[str, str] = {}
    rows = store.links_to(path)
    for source, cite, _seq, kind, target, subpath, display, line, context, title in sorted(rows, key=lambda r: (r[0], r[1], r[2])):
        src = decode_path(source)
        titles[src] = title
        if cite:
            by_source.setdefault(src, []).append(LinkLine(line, "cite", target, "", "", context))
        else:
            by_source.setdefault(src, []).append(LinkLine(line, kind, target, subpath, display, context))
    out = []
    for src in sorted(by_source):
        lines = sorted(by_source[src], key=lambda ln: (ln.line, ln.kind != "cite"))
        out.append(Backlink(src, titles[src], tuple(lines)))
    return out


def links(store: Store, path: str) -> list[OutLink]:
    """The outgoing links and citations of `path` with where each points."""
    out = []
    for (_src, _cite, _seq, _key, node, status, cands, kind, target, subpath, display, form, line, context) in store.links_of(path):
        node = decode_path(node)
        out.append(OutLink(line, kind, target, subpath, display, context, form, status,
                           node if status != "unresolved" else None, node, decode_candidates(cands)))
    return out


def unresolved(store: Store) -> list[UnresolvedTarget]:
    """Dangling link targets and cited papers with no note, most used first."""
    uses: dict[str, list[Use]] = {}
    forms: dict[str, Counter] = {}
    for node, cite, source, line, context, target in store.unresolved_rows():
        uses.setdefault(node, []).append(Use(decode_path(source), line, context))
        if not cite:
            forms.setdefault(node, Counter())[target] += 1
    keys = [node[len(REFERENCE):] for node in uses if node.startswith(REFERENCE)]
    refs = {}
    if keys:  # papers of the bibliography (a vault without one need not load references.py)
        from .references import from_row

        refs = {r[0]: from_row(r) for r in store.bib_entries(keys)}
    out = []
    for node, found in uses.items():
        ref = refs.get(node[len(REFERENCE):]) if node.startswith(REFERENCE) else None
        if node in forms:
            label = min(forms[node], key=lambda f: (-forms[node][f], f))
            out.append(UnresolvedTarget(node, "link", label, len(found), tuple(found)))
        elif ref is not None:  # in the bibliography: what its entry says
            out.append(UnresolvedTarget(node, "paper", "@" + ref.key, len(found), tuple(found), ref.title,
                                        ref.authors, ref.year, f"{ref.path}:{ref.line}"))
        else:
            out.append(UnresolvedTarget(node, "paper", paper_label(node), len(found), tuple(found)))
    out.sort(key=lambda u: (-u.count, u.kind != "link", u.target.casefold(), u.node))
    return out


def orphans(store: Store) -> list[NoteRef]:
    """Notes with no links to or from another note or file."""
    return [NoteRef(p, t) for p, t in store.orphans()]

