"""The module boundaries of DESIGN.md: one owner per third-party library, a fast CLI start."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import REPO

PACKAGE = REPO / "vaultindex"
# library -> the modules allowed to import it ("cli" is a package: any module in it)
OWNERS = {
    "click": {"cli"},
    "whoosh": {"fulltext"},
    "networkx": {"graph", "export"},
    "watchdog": {"watch"},
    "yaml": {"parse.frontmatter", "tagpages", "writes"},  # tagpages and writes write frontmatter
    "frontmatter": {"parse.frontmatter"},  # python-frontmatter: reading and writing frontmatter
    "sqlite3": {"store"},
    "platformdirs": {"store"},
    "bibtexparser": {"bib"},
    "pylatexenc": {"bib"},  # bibtexparser's LaTeX decoder, for what bib.py's fast rules leave
    "re2": {"config"},
    "mcp": {"mcp"},
    "pydantic": {"mcp"},  # the MCP tools' argument schemas
}


def _imports(path) -> set[str]:
    """Top-level package names imported at run time (imports for type checkers only do not count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_has_one_owner(library):
    users = set()
    for path in PACKAGE.rglob("*.py"):
        if library in _imports(path):
            parts = path.relative_to(PACKAGE).with_suffix("").parts
            owned = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]  # cli, cli.base
            users.add(next((m for m in owned if m in OWNERS[library]), ".".join(parts)))
    assert users and users <= OWNERS[library], f"{library} imported by {sorted(users - OWNERS[library])}"


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from vaultindex.cli import cli; "
        "print(','.join(m for m in ('whoosh', 'networkx', 'watchdog', 'yaml', 'bibtexparser', 'pylatexenc', 'mcp', 'pydantic') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_graph_queries_import_neither_whoosh_nor_the_parser(synced_example):
    # A fresh `backlinks` beside a running watch reads only the caches: importing Whoosh and
    # compiling the parser's patterns would be a quarter of its time at 10,000 notes.
    code = (
        "import sys; from vaultindex import Vault; "
        f"v = Vault.open({str(synced_example.root)!r}); "
        "assert v.backlinks('Beyond neural scaling laws'); v.unresolved(); v.rank(); "
        "print(','.join(m for m in ('whoosh', 'yaml', 'vaultindex.parse') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
