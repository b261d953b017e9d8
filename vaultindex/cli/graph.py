"""Link-graph commands: backlinks, mentions, links, unresolved, orphans, related, path, rank, doctor.

(The `graph` command name itself belongs to the picture/export command in cli/export.py.)
"""

from __future__ import annotations

import click

from ..models import to_json
from ..text import escape_controls, quote_path
from . import cli
from .base import (
    complete_note,
    echo_lines,
    emit_json,
    emit_nl,
    emit_paths,
    for_terminal,
    output_options,
    pass_vault,
    path_options,
    plural,
    warn,
)


def _emit(items, as_json: bool, nl: bool) -> bool:
    """JSON or JSON lines when asked; True when the caller should not print text."""
    if as_json:
        emit_json(items)
        return True
    if nl:
        emit_nl(items)
        return True
    return False


def _emit_paths(found, paths: bool, print0: bool) -> bool:
    """--paths / -0: only the notes' paths; True when the caller should not print text."""
    if paths or print0:
        emit_paths((item.path for item in found), print0)
        return True
    return False


def _heading(path: str, title: str) -> str:
    name = path.rsplit("/", 1)[-1].removesuffix(".md")
    extra = f"  {title}" if title and title != name else ""
    return click.style(path, fg="cyan") + extra


@cli.command()
@click.argument("note", shell_complete=complete_note)
@output_options
@path_options
@pass_vault()
def backlinks(vault, note: str, as_json: bool, nl: bool, paths: bool, print0: bool) -> None:
    """Notes that link to, embed or cite NOTE, with each line, grouped by note.

    \b
    NOTE is a path, file name, title or alias, or @KEY: a cited paper (its note, or
    its bibliography entry when it has no note).

    \b
    Examples:
      vaultindex backlinks "Beyond neural scaling laws"
      vaultindex backlinks papers/LoRA.md --json
      vaultindex backlinks @schmidhuber2015deep
    """
    found = vault.backlinks(note)
    count = sum(len(b.links) for b in found)
    warn(f"{plural(len(found), 'note')} {'links' if len(found) == 1 else 'link'} here ({plural(count, 'link')}).")
    if _emit(found, as_json, nl) or _emit_paths(found, paths, print0):
        return
    out = []
    for group in for_terminal(found):
        out.append(_heading(group.path, group.title))
        # One row per line of text, however many links it holds: "(2 links, cite)".
        by_line: dict[int, list] = {}
        for link in group.links:
            by_line.setdefault(link.line, []).append(link)
        for line, links in by_line.items():
            kinds = [link.kind for link in links]
            notes = [f"{len(links)} links"] if len(links) > 1 else []
            notes += sorted({k for k in kinds if k != "link"})
            mark = f" ({', '.join(notes)})" if notes else ""
            out.append(f"  {line}: {links[0].context}{mark}")
    echo_lines(out)


@cli.command()
@click.argument("note", shell_complete=complete_note)
@output_options
@path_options
@pass_vault()
def mentions(vault, note: str, as_json: bool, nl: bool, paths: bool, print0: bool) -> None:
    """Notes that name NOTE (title, alias or file name) without linking to it.

    Whole words, any letter case; text inside links, code and comments does not count.
    NOTE is a path, file name, title or alias.

    \b
    Examples:
      vaultindex mentions "Beyond neural scaling laws"
      vaultindex mentions LoRA --json
    """
    found = vault.mentions(note)
    count = sum(len(m.mentions) for m in found)
    warn(f"{plural(count, 'unlinked mention')} in {plural(len(found), 'note')}.")
    if _emit(found, as_json, nl) or _emit_paths(found, paths, print0):
        return
    for group in for_terminal(found):
        click.echo(_heading(group.path, group.title))
        # One row per line of text, however often the name stands on it: "(2 mentions)".
        by_line: dict[int, list] = {}
        for m in group.mentions:
            by_line.setdefault(m.line, []).append(m)
        for line, found_here in by_line.items():
            mark = f" ({len(found_here)} mentions)" if len(found_here) > 1 else ""
            click.echo(f"  {line}: {found_here[0].context}{mark}")


@cli.command()
@click.argument("note", shell_complete=complete_note)
@output_options
@pass_vault()
def links(vault, note: str, as_json: bool, nl: bool) -> None:
    """Outgoing links and citations of NOTE and where each one points.

    \b
    NOTE is a path, file name, title or alias.

    \b
    Examples:
      vaultindex links "topics/Scaling laws"
      vaultindex links LoRA --json
    """
    found = vault.links(note)
    if _emit(found, as_json, nl):
        return
    if not found:
        warn("No outgoing links.")
    for link in for_terminal(found):
        if link.kind == "cite":
            written = {"citekey": "@", "doi": "doi:", "arxiv": "arXiv:"}.get(link.form, "") + link.target
        elif link.form == "markdown":
            sub = f"#{link.subpath}" if link.subpath else ""
            written = ("!" if link.kind == "embed" else "") + f"[{link.display}]({link.target}{sub})"
        else:
            sub = f"#{link.subpath}" if link.subpath else ""
            shown = f"|{link.display}" if link.display else ""
            written = ("!" if link.kind == "embed" else "") + f"[[{link.target}{sub}{shown}]]"
        if link.status == "unresolved":
            where = click.style("no note (cited paper)" if link.kind == "cite" else "unresolved", fg="red")
        elif link.status == "reference":
            where = click.style(f"no note; in the bibliography as @{link.node.removeprefix('ref:')}", fg="yellow")
        else:
            where = link.path or ""
            if link.status == "ambiguous":
                others = ", ".join(link.candidates[1:])
                where += click.style(f"  (ambiguous; also {others})", fg="yellow")
        click.echo(f"{link.line:>5}: {written} -> {where}")


@cli.command()
@click.option(
    "--kind",
    type=click.Choice(["all", "link", "paper"]),
    default="all",
    show_default=True,
    help="Dangling links, cited papers with no note, or both.",
)
@output_options
@pass_vault()
def unresolved(vault, kind: str, as_json: bool, nl: bool) -> None:
    """Link targets that match no file, and cited papers with no note, most used first.

    A cited paper that is in a bibliography (.bib, CSL-JSON) shows its title, authors and
    year and where its entry is.

    \b
    Examples:
      vaultindex unresolved
      vaultindex unresolved --kind paper --json
    """
    found = [u for u in vault.unresolved() if kind in ("all", u.kind)]
    warn(f"{plural(len(found), 'unresolved target')}.")
    if _emit(found, as_json, nl):
        return
    # Escaped field by field as for_terminal would (paths quoted, other text's controls made
    # visible), without its generic copy of 2,000 targets and their uses (a third of the command).
    out = []
    for target in found:
        what = "cited, no note" if target.kind == "paper" else "no such file"
        if target.bib:
            what = f"cited, no note; {escape_controls(target.bib)}"
        label = escape_controls(target.target if target.kind == "paper" else f"[[{target.target}]]")
        out.append(f"{click.style(label, bold=True)}  ({what}; used {plural(target.count, 'time')})")
        if target.bib:
            names = escape_controls("; ".join(target.authors[:3]) + (" et al." if len(target.authors) > 3 else ""))
            year = f" ({target.year})" if target.year else ""
            out.append(f"  {escape_controls(target.title) or '(no title)'}{year}" + (f" — {names}" if names else ""))
        out.extend(f"  {quote_path(use.path)}:{use.line}: {escape_controls(use.context)}" for use in target.uses)
    echo_lines(out)


@cli.command()
@output_options
@path_options
@pass_vault()
def orphans(vault, as_json: bool, nl: bool, paths: bool, print0: bool) -> None:
    """Notes with no links to or from any other note or file.

    \b
    Examples:
      vaultindex orphans
      vaultindex orphans --paths | xargs $EDITOR
    """
    found = vault.orphans()
    warn(f"{plural(len(found), 'orphan note')}.")
    if _emit(found, as_json, nl) or _emit_paths(found, paths, print0):
        return
    for ref in for_terminal(found):
        click.echo(_heading(ref.path, ref.title))


_REASON_TEXT = {
    "link": lambda r: "linked directly" if len(r.via) < 2 else "linked both ways",
    "co-citation": lambda r: f"linked together from {plural(len(r.via), 'note')}",
    "coupling": lambda r: f"both link to {plural(len(r.via), 'target')}",
    "tags": lambda r: "tags " + ", ".join(f"#{t}" for t in r.via),
    "text": lambda r: "similar text",
}


@cli.command()
@click.argument("note", shell_complete=complete_note)
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000), help="Most notes to show.")
@output_options
@path_options
@pass_vault()
def related(vault, note: str, limit: int, as_json: bool, nl: bool, paths: bool, print0: bool) -> None:
    """Notes related to NOTE, best first, with the reasons.

    Combines direct links, co-citation (linked or cited together from the same note),
    bibliographic coupling (they link to or cite the same notes), shared tags and text
    similarity. NOTE is a path, file name, title or alias, or @KEY: a cited paper's note, or
    the paper's bibliography entry when it has no note (then the notes citing it and the
    papers cited beside it).

    \b
    Examples:
      vaultindex related "Beyond neural scaling laws"
      vaultindex related LoRA -n 5 --json
    """
    found = vault.related(note, limit=limit)
    if _emit(found, as_json, nl):
        return
    if not found:
        warn("No related notes found.")
    if _emit_paths(found, paths, print0):
        return
    for rank, hit in enumerate(for_terminal(found), 1):
        click.echo(click.style(f"{rank:>2}. {hit.title}", bold=True) + f"  ({hit.score:.2f})")
        shown = f"@{hit.path[4:]} (no note; in the bibliography)" if hit.path.startswith("ref:") else hit.path
        click.echo(f"    {click.style(shown, fg='cyan')}")
        click.echo("    " + "; ".join(_REASON_TEXT[r.kind](r) for r in hit.reasons))


@cli.command()
@click.argument("source", metavar="A", shell_complete=complete_note)
@click.argument("target", metavar="B", shell_complete=complete_note)
@click.option("--directed", is_flag=True, help="Follow links only in their direction (A links to ... B).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@pass_vault()
def path(vault, source: str, target: str, directed: bool, as_json: bool) -> None:
    """The shortest chain of links between notes A and B (exit 1 when there is none).

    Links count in both directions unless --directed. A and B are paths, file names,
    titles or aliases.

    \b
    Examples:
      vaultindex path LoRA SimCLR
      vaultindex path "Reading list" "Deep double descent" --directed --json
    """
    found = vault.path(source, target, directed=directed)
    if as_json:
        emit_json(None if found is None else {"directed": found.directed, "length": found.length,
                                              "steps": to_json(list(found.steps))})
    if found is None:
        warn(f"No {'directed ' if directed else ''}link path between {source!r} and {target!r}.")
        click.get_current_context().exit(1)
    if as_json:
        return
    for step in for_terminal(found.steps):
        if not step.direction:
            click.echo(_heading(step.path, step.title))
            continue
        how = "links to" if step.direction == "->" else "is linked from"
        click.echo(f"  {step.direction} {_heading(step.path, step.title)}")
        click.echo(f"       ({how}, line {step.line}: {step.context})")


@cli.command()
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 100_000), help="Most notes to show.")
@click.option("--by", type=click.Choice(["pagerank", "in"]), default="pagerank", show_default=True,
              help="Order by PageRank or by the number of notes linking in.")
@output_options
@path_options
@pass_vault()
def rank(vault, limit: int, by: str, as_json: bool, nl: bool, paths: bool, print0: bool) -> None:
    """The vault's hubs: notes by PageRank and in-degree over note-to-note links.

    \b
    Examples:
      vaultindex rank
      vaultindex rank --by in -n 50 --json
    """
    found = vault.rank(limit, by=by)
    if _emit(found, as_json, nl) or _emit_paths(found, paths, print0):
        return
    found = for_terminal(found)
    click.echo(click.style(f"{'#':>3}  {'pagerank':>8}  {'in':>4}  {'out':>4}  note", bold=True))
    for i, r in enumerate(found, 1):
        click.echo(f"{i:>3}  {r.pagerank:8.4f}  {r.in_degree:>4}  {r.out_degree:>4}  {_heading(r.path, r.title)}")


@cli.command()
@click.option("--strict", is_flag=True, help="Exit 1 when an error is found (for a vault's CI).")
@output_options
@pass_vault()
def doctor(vault, strict: bool, as_json: bool, nl: bool) -> None:
    """Check links and notes: ambiguous links, case-only mismatches, broken heading and block
    links, links into excluded files, [[Alias]] links Obsidian will not open, duplicate paper
    notes, invalid frontmatter, and conflict copies that Syncthing, Dropbox, Nextcloud,
    ownCloud or OneDrive left beside a note (with how each differs from it).

    The bibliography (.bib and CSL-JSON files): citekeys in no note and no bibliography,
    a note whose DOI or arXiv id disagrees with the entry of its citekey, a key defined in
    two files (or twice in one), broken entries and malformed fields, with file and line.

    Broken heading and block links, [[Alias]] links, invalid frontmatter, conflict copies,
    broken bibliography entries and unknown citekeys (reported when the vault has a
    bibliography) are errors; the rest are warnings. Tag pages are never reported.

    \b
    Examples:
      vaultindex doctor
      vaultindex doctor --strict --json
    """
    report = vault.doctor()
    if as_json:
        emit_json(report)
    elif nl:
        emit_nl(report.problems)
    else:
        for p in for_terminal(report.problems):
            colour = "red" if p.severity == "error" else "yellow"
            click.echo(f"{click.style(p.severity, fg=colour)}: {p} [{p.code}]")
    warn(f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}.")
    if strict and report.errors:
        click.get_current_context().exit(1)
