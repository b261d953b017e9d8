"""`vaultindex graph`: an interactive HTML map of the vault, or the graph as json / graphml /
gexf / dot / mermaid."""

from __future__ import annotations

import os
import sys
import webbrowser
from pathlib import Path

import click

from . import cli
from .base import complete_note, pass_vault, warn

FORMATS = ("html", "json", "graphml", "gexf", "dot", "mermaid")
SUFFIXES = {
    ".html": "html", ".htm": "html", ".json": "json", ".graphml": "graphml", ".gexf": "gexf",
    ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid",
}


def _kinds(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    kinds = [k.strip().lower() for k in value.replace(" ", ",").split(",") if k.strip()]
    bad = [k for k in kinds if k not in ("link", "embed", "cite")]
    if bad or not kinds:
        raise click.BadParameter(f"{(bad or [value])[0]!r}: give a comma-separated list of link, embed, cite")
    return tuple(kinds)


@cli.command("graph")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), help="Output format [default: from -o's suffix, else html].")
@click.option("-o", "--output", metavar="FILE", help="Where to write; - for stdout [default: graph.html, or stdout for other formats].")
@click.option("--around", metavar="NOTE", shell_complete=complete_note, help="Only the notes near this one (path, file name, title or alias).")
@click.option("--depth", type=click.IntRange(0, 50), default=None, help="Links to follow from --around, either direction [default: 1].")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only nodes with this tag (nested tags match: ml keeps ml/vision). Repeatable.")
@click.option("--path", "paths", multiple=True, metavar="PREFIX", help="Only nodes whose path starts with PREFIX (e.g. papers/). Repeatable.")
@click.option("--kinds", callback=_kinds, metavar="KINDS", help="Edge kinds to keep, comma-separated: link,embed,cite [default: all].")
@click.option("--no-unresolved", is_flag=True, help="Only files: leave out unresolved link targets and cited papers without a note.")
@click.option("--no-orphans", is_flag=True, help="Leave out nodes without any edge.")
@click.option("--tags-as-nodes", is_flag=True, help="Add a node per tag, linked from its notes.")
@click.option("--color", "--colour", "color", type=click.Choice(("community", "tag")), default="community", show_default=True,
              help="html: colour nodes by Louvain community or by tag.")
@click.option("--open-with", type=click.Choice(("obsidian", "file")), default=None,
              help="html: clicking a node opens the note in Obsidian or as a file [default: config graph.open_with, else obsidian].")
@click.option("--open", "open_page", is_flag=True, help="html: open the page in the web browser afterwards.")
@pass_vault()
def graph_command(vault, fmt, output, around, depth, tags, paths, kinds, no_unresolved, no_orphans, tags_as_nodes,
                  color, open_with, open_page) -> None:
    """Draw the vault's link and citation graph, or export it.

    \b
    html (the default) is one self-contained page that works offline: zoom, pan, drag,
    search, hover for details, click to open a note. json is node-link data; graphml and
    gexf open in Gephi, Cytoscape and networkx; dot in Graphviz; mermaid in an Obsidian note.
    Nodes carry title, kind, tags, year, authors, degree, pagerank and community.

    \b
    Examples:
      vaultindex graph                                  # graph.html
      vaultindex graph --around "LoRA" --depth 2 -o lora.html
      vaultindex graph --tag ml/nlp --no-unresolved --color tag --open
      vaultindex graph -f graphml -o vault.graphml      # for Gephi
      vaultindex graph -f mermaid --around LoRA > lora.mmd
      vaultindex graph -f dot --path topics/ | dot -Tsvg > topics.svg
    """
    from ..export import GraphFilters, export

    if depth is not None and not around:
        raise click.UsageError("--depth needs --around NOTE")
    if fmt is None:
        fmt = SUFFIXES.get(Path(output).suffix.lower(), "html") if output and output != "-" else "html"
    if output is None:
        output = "graph.html" if fmt == "html" else "-"
    filters = GraphFilters(
        around=around,
        depth=1 if depth is None else depth,
        tags=tags,
        paths=paths,
        kinds=kinds or ("link", "embed", "cite"),
        unresolved=not no_unresolved,
        orphans=not no_orphans,
        tags_as_nodes=tags_as_nodes,
    )
    view = vault.graph_view(filters)
    if view.number_of_nodes() == 0:
        warn("No notes match these filters.")
    opts: dict = {}
    if fmt == "html":
        opts = {"color": color, "open_with": open_with or getattr(vault.config, "open_with", "obsidian")}
    elif fmt == "mermaid":
        opts = {"on_warning": lambda message: warn(f"warning: {message}"), "fenced": output.endswith(".md")}
    text = export(view, fmt, **opts)

    if output == "-":
        if fmt == "html" and sys.stdout.isatty():
            raise click.UsageError("refusing to print a whole HTML page on the terminal; use -o FILE")
        click.echo(text, nl=False)
    else:
        target = Path(output)
        if target.parent and not target.parent.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    nodes, edges = view.number_of_nodes(), view.number_of_edges()
    where = "stdout" if output == "-" else output
    warn(f"Wrote {fmt} to {where}: {nodes:,} node{'s' if nodes != 1 else ''}, {edges:,} edge{'s' if edges != 1 else ''}.")
    if open_page and output != "-":
        webbrowser.open(Path(output).resolve().as_uri())
