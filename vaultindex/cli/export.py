"""`vaultindex graph`: an interactive HTML map of the vault, or the graph as json / graphml /
gexf / dot / mermaid / svg."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import click

from ..fsutil import write_atomically
from ..text import quote_path
from . import cli
from .base import complete_note, pass_vault, warn

FORMATS = ("html", "json", "graphml", "gexf", "dot", "mermaid", "svg")


def _kinds(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    kinds = [k.strip().lower() for k in value.replace(" ", ",").split(",") if k.strip()]
    bad = [k for k in kinds if k not in ("link", "embed", "cite")]
    if bad or not kinds:
        raise click.BadParameter(f"{(bad or [value])[0]!r}: give a comma-separated list of link, embed, cite")
    return tuple(kinds)


def _format_for(output: str, fmt: str | None) -> str:
    """The format to write: --format, else the one -o's suffix names (an Error for any other suffix)."""
    from ..export import FORMAT_SUFFIXES, format_of

    if output == "-":
        return fmt or "html"
    implied = format_of(output)
    if fmt is None and implied is None:
        suffix = Path(output).suffix
        what = f"no format has the suffix {suffix!r}" if suffix else "it has no suffix"
        raise click.BadParameter(
            f"cannot tell which format to write to {quote_path(output)}: {what}. Use one of "
            f"{', '.join(FORMAT_SUFFIXES)}, or give --format ({', '.join(FORMATS)})",
            param_hint="'-o' / '--output'",
        )
    if fmt is not None and implied is not None and implied != fmt:
        warn(f"warning: writing {fmt} to {quote_path(output)} (its suffix usually means {implied})")
    return fmt or implied  # type: ignore[return-value]


def _check_target(output: str) -> None:
    """Refuse before any work: -o names a folder, or a file in a folder that does not exist."""
    target = Path(output)
    if target.is_dir():
        raise click.BadParameter(
            f"{quote_path(output)} is a folder: give a file name, e.g. {quote_path(str(target / 'graph.html'))}",
            param_hint="'-o' / '--output'",
        )
    parent = target.parent
    if not parent.is_dir():
        if parent.exists():
            raise click.ClickException(f"cannot write {quote_path(output)}: {quote_path(str(parent))} is not a folder")
        raise click.ClickException(f"cannot write {quote_path(output)}: the folder {quote_path(str(parent))} does not exist")


def write_output(output: str, text: str) -> None:
    """Write the whole text or nothing: into a temporary file beside the target, then renamed over
    it (a reader never sees half a page; the temporary file is removed on any failure or Ctrl-C).
    An existing file keeps its permissions; a symlink is written through, as `>` would; a device
    or a pipe (/dev/null, /dev/stdout) is written directly."""
    target = Path(output)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise click.ClickException(f"cannot write {quote_path(output)}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(target, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise click.ClickException(f"cannot write {quote_path(output)}: {exc.strerror or exc}") from None
        return
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    mode = stat.S_IMODE(st.st_mode) if st is not None else None
    try:
        write_atomically(target, text.encode("utf-8"), mode)
    except OSError as exc:
        raise click.ClickException(f"cannot write {quote_path(output)}: {exc.strerror or exc}") from None


@cli.command("graph")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS),
              help="Output format [default: from -o's suffix (.html .json .graphml .gexf .dot .gv .mmd .md .svg), "
                   "else html]; svg needs Graphviz.")
@click.option("-o", "--output", metavar="FILE",
              help="Where to write; - for stdout [default: graph.html, or stdout for other formats]. The folder must exist.")
@click.option("--around", metavar="NOTE", shell_complete=complete_note,
              help="Only the notes near this one (path, file name, title or alias; @KEY: a cited paper).")
@click.option("--depth", type=click.IntRange(0, 50), default=None, help="Links to follow from --around, either direction [default: 1].")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only nodes with this tag (nested tags match: ml keeps ml/vision). Repeatable.")
@click.option("--path", "paths", multiple=True, metavar="PREFIX", help="Only nodes whose path starts with PREFIX (e.g. papers/). Repeatable.")
@click.option("--kinds", callback=_kinds, metavar="KINDS", help="Edge kinds to keep, comma-separated: link,embed,cite [default: all].")
@click.option("--attachments/--no-attachments", default=None,
              help="Draw attachments (images, PDFs) and links to missing ones too "
                   "[default: config graph.attachments, else no: notes only, as in Obsidian].")
@click.option("--excluded", is_flag=True, help="Draw files matched by the exclude rules too (Obsidian hides them).")
@click.option("--no-unresolved", is_flag=True, help="Only files: leave out unresolved link targets and cited papers without a note.")
@click.option("--no-references", is_flag=True, help="Leave out the papers of the bibliography that have no note.")
@click.option("--no-orphans", is_flag=True, help="Leave out nodes without any edge.")
@click.option("--tags-as-nodes", is_flag=True, help="Add a node per tag, linked from its notes.")
@click.option("--color", "--colour", "color", type=click.Choice(("community", "tag")), default="community", show_default=True,
              help="html: colour nodes by Louvain community or by tag.")
@click.option("--open-with", type=click.Choice(("obsidian", "file")), default=None,
              help="html: clicking a node opens the note in Obsidian or as a file [default: config graph.open_with, else obsidian].")
@click.option("--open", "open_page", is_flag=True, help="html: open the page in the web browser afterwards.")
@pass_vault()
def graph_command(vault, fmt, output, around, depth, tags, paths, kinds, attachments, excluded, no_unresolved, no_references,
                  no_orphans, tags_as_nodes, color, open_with, open_page) -> None:
    """Draw the vault's link and citation graph, or export it.

    \b
    html (the default) is one self-contained page that works offline: zoom, pan, drag,
    search, hover for details, click to open a note. json is node-link data; graphml and
    gexf open in Gephi, Cytoscape and networkx; dot in Graphviz; mermaid in an Obsidian note;
    svg is drawn by Graphviz when it is installed.
    Nodes carry title, kind, tags, year, authors, degree, pagerank and community. Like
    Obsidian's graph, attachments are left out unless --attachments. Papers cited but
    without a note are nodes too: kind reference when a bibliography (.bib, CSL-JSON) has
    them (squares in the html page), else paper.

    \b
    Examples:
      vaultindex graph                                  # graph.html
      vaultindex graph --around "LoRA" --depth 2 -o lora.html
      vaultindex graph --tag ml/nlp --no-unresolved --color tag --open
      vaultindex graph -o vault.graphml                 # for Gephi (format from the suffix)
      vaultindex graph -f mermaid --around LoRA > lora.mmd
      vaultindex graph --around @schmidhuber2015deep      # a paper of the bibliography
      vaultindex graph --path topics/ -o topics.svg     # needs Graphviz
    """
    from ..export import GraphFilters, export

    if depth is not None and not around:
        raise click.UsageError("--depth needs --around NOTE")
    if output is None:
        output = "graph.html" if fmt in (None, "html") else "-"
    if output != "-":
        _check_target(output)
    fmt = _format_for(output, fmt)
    filters = GraphFilters(
        around=around,
        depth=1 if depth is None else depth,
        tags=tags,
        paths=paths,
        kinds=kinds or ("link", "embed", "cite"),
        attachments=getattr(vault.config, "graph_attachments", False) if attachments is None else attachments,
        excluded=excluded,
        unresolved=not no_unresolved,
        references=not no_references,
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
        write_output(output, text)
    nodes, edges = view.number_of_nodes(), view.number_of_edges()
    where = "stdout" if output == "-" else quote_path(output)
    warn(f"Wrote {fmt} to {where}: {nodes:,} node{'s' if nodes != 1 else ''}, {edges:,} edge{'s' if edges != 1 else ''}.")
    if open_page and output != "-":
        import webbrowser  # only for --open: it costs about 30 ms of imports at start-up

        webbrowser.open(Path(output).resolve().as_uri())
