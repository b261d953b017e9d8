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
    "yaml": {"parse.frontmatter", "writes"},  # writes edits notes' frontmatter
    "frontmatter": {"parse.frontmatter"},  # python-frontmatter: reading and writing frontmatter
    "sqlite3": {"store"},
    "platformdirs": {"indexfolder"},
    "bibtexparser": {"bib.bibtex"},
    "pylatexenc": {"bib.latex"},  # bibtexparser's LaTeX decoder, for what bib/latex.py's fast rules leave
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


# -- the import graph of vaultindex's own modules -------------------------------------------------
# Function-level imports count (a lazy import is still a dependency); imports under
# `if TYPE_CHECKING:` do not (they never run).


def _module_name(path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _runtime_tree(path) -> ast.Module:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    return tree


def _from_module(module: str, node: ast.ImportFrom) -> str:
    """The absolute module name an `from ... import` statement reads from."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".")
    if MODULES[module].name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _vaultindex_imports(module: str) -> list[tuple[str, str, int]]:
    """(module imported, name taken from it or "", line) for every import of a vaultindex module."""
    found = []
    for node in ast.walk(_runtime_tree(MODULES[module])):
        if isinstance(node, ast.Import):
            found += [(a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "vaultindex"]
        elif isinstance(node, ast.ImportFrom):
            source = _from_module(module, node)
            if source.split(".")[0] != "vaultindex":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.append((submodule, "", node.lineno) if submodule in MODULES else (source, alias.name, node.lineno))
    return found


def test_no_module_imports_another_modules_private_names():
    reach_ins = [
        f"{module}:{line}: from {source} import {name}"
        for module in MODULES
        for source, name, line in _vaultindex_imports(module)
        if name.startswith("_") and not name.startswith("__") and source != module
    ]
    assert reach_ins == []


# Whoosh internals that the fulltext package uses on purpose: a query's term expansion, a failed
# writer's cleanup and the highlighter's merging of matched tokens have no public API (whoosh3 is
# pinned to the range fulltext/patches.py was tested on).
THIRD_PARTY_INTERNALS = {
    ("vaultindex.fulltext.grammar", "_btexts"),
    ("vaultindex.fulltext", "_cleanup_on_error"),
    ("vaultindex.fulltext.analysis", "_merge_matched_tokens"),
    # scoring.py evaluates Whoosh's matchers a posting list at a time, with their own fields
    *(("vaultindex.fulltext.scoring", name) for name in (
        "_basepos", "_blocklength", "_boost", "_byteids", "_cached_reader", "_count", "_data", "_dbfile", "_default",
        "_doccount", "_exclude", "_find_next", "_i", "_ids", "_read_data", "_read_ids", "_read_weights", "_score",
        "_scored", "_term", "_typecode", "_weight", "_weights")),
}
# Standard-library names that are public despite the underscore (namedtuple's API, os._exit).
PUBLIC_UNDERSCORE = {"_replace", "_asdict", "_fields", "_make", "_exit"}


def test_no_module_uses_another_modules_private_attributes():
    """`x._name` is allowed on self and cls, and on any object when this module defines `_name`
    (its own class's instances, its own module-level names); never on another module's objects
    (`vault._lock`, `store._conn`, `graph._links`)."""
    reach_ins = []
    for module, path in MODULES.items():
        tree = _runtime_tree(path)
        own = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                own.add(node.target.id)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            if node.attr in own or node.attr in PUBLIC_UNDERSCORE or (module, node.attr) in THIRD_PARTY_INTERNALS:
                continue
            reach_ins.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert reach_ins == []


def _import_graph() -> dict[str, set[str]]:
    """module -> the vaultindex modules it imports. A module importing its own parent package
    is left out: Python imports every parent package before the module anyway, so that edge is
    always there and is not a design choice (cli/index.py takes the `cli` group from cli/)."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        for source, _, _ in _vaultindex_imports(module):
            if source in MODULES and source != module and not module.startswith(source + "."):
                graph[module].add(source)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_vaultindex_modules():
    assert _cycles(_import_graph()) == []


# The layers of README's development section, top first: a module imports from its own layer
# or the ones below, never from above (a new module must be placed here).
LAYERS = (
    ("cli", "mcp", "mcptools", "__main__"),
    ("vault",),
    ("indexer", "linkplan", "catalog", "freshness", "questions", "watch", "watchloop", "graph", "linkstate", "references", "doctor", "ranking",
     "tagpages", "export", "html", "palette", "bib", "newnote", "writes", "mentions", "sections", "hits"),
    ("store", "storeschema", "storedoctor", "notejson", "indexfolder", "status", "fulltext", "parse", "resolve", "scan", "inbox", "lock", "config", "snippet",
     "versions"),
    ("models", "answers", "errors", "text", "fsutil"),
)


def _layer(module: str) -> int | None:
    parts = module.split(".")[1:]  # without "vaultindex"
    if not parts:
        return len(LAYERS)  # the package itself: __version__ and lazy re-exports only
    return next((i for i, names in enumerate(LAYERS) if parts[0] in names), None)


def test_every_module_has_a_layer_and_imports_point_down():
    unplaced = sorted(m for m in MODULES if _layer(m) is None)
    upward = sorted(
        f"{module} -> {source}"
        for module, sources in _import_graph().items()
        for source in sources
        if source != "vaultindex" and (_layer(source) or 0) < (_layer(module) or 0)
    )
    assert unplaced == [] and upward == []
