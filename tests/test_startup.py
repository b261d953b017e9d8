"""What a fresh command does before its first answer (issue 14's fresh-command targets).

A query brings the index up to date first; when nothing changed (nearly always) that is a scan
and a compare (freshness.py), without the write path, the bibliography's parsers or any
command module but the one asked for. And the quick look must never miss a change: each kind
of change a query used to notice is noticed still.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import write

WRITE_PATH = {"vaultindex.indexer", "vaultindex.resolve", "vaultindex.bib", "vaultindex.parse", "whoosh", "yaml", "frontmatter"}
OTHER_COMMANDS = {"vaultindex.cli.index", "vaultindex.cli.export", "vaultindex.cli.watch", "vaultindex.cli.new", "vaultindex.cli.mcp"}

_PROBE = (
    "import sys\n"
    "from vaultindex.store import Store\n"
    "def whole_vault(*args, **kwargs):\n"
    "    sys.stderr.write('\\nWHOLE VAULT READ\\n')\n"
    "    raise SystemExit(3)\n"
    "Store.all_notes = Store.records = Store.names_for_resolution = whole_vault\n"
    "from vaultindex.cli import cli\n"
    "try:\n"
    "    cli.main(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n"
    "    sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
)


def _run(vault: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, "--vault", str(vault), *args], capture_output=True, text=True,
                          env={**os.environ, "VAULTINDEX_DEBUG": ""}, timeout=120)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")]
    assert line, proc.stderr
    return proc, set(line[-1].split()[1:])


def _top(modules: set[str]) -> set[str]:
    """Each module and every package above it (so that "yaml" matches yaml.loader)."""
    out = set()
    for name in modules:
        parts = name.split(".")
        out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def _synced(example_copy: Path) -> Path:
    proc = subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(example_copy), "sync"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return example_copy


def test_a_fresh_query_on_an_unchanged_vault_loads_no_write_path_and_no_other_command(example_copy):
    """Nor reads every note (Store.all_notes / records / names_for_resolution: the probe refuses
    them) or builds the graph: each answers from the rows its question needs."""
    vault = _synced(example_copy)
    for args in (["backlinks", "Beyond neural scaling laws", "--json"], ["unresolved"], ["tags"], ["orphans"],
                 ["links", "Beyond neural scaling laws"]):
        proc, modules = _run(vault, *args)
        assert "WHOLE VAULT READ" not in proc.stderr, args
        assert proc.returncode == 0, (args, proc.stderr)
        loaded = _top(modules)
        assert not loaded & WRITE_PATH, (args, sorted(loaded & WRITE_PATH))
        assert not loaded & OTHER_COMMANDS, (args, sorted(loaded & OTHER_COMMANDS))
        assert "networkx" not in loaded and "vaultindex.tagpages.render" not in loaded, args
        assert "vaultindex.graph" not in loaded, args


def test_fresh_search_doctor_and_a_cited_paper_read_no_whole_vault(example_copy):
    """`search` (its bibliography block), `doctor` and `backlinks @key` read the rows their
    question needs: the notes answering to a few paper ids, never every note; none builds the graph."""
    vault = _synced(example_copy)
    write(vault, "refs.bib", "@article{nobody2020, title = {Nobody Knows}, year = {2020}}\n")
    write(vault, "Citing.md", "As shown [@nobody2020].\n")
    _synced(vault)
    for args, shows in ((["search", "nobody", "--json"], "Nobody Knows"), (["doctor", "--json"], "problems"),
                        (["backlinks", "@nobody2020", "--json"], "Citing.md")):
        proc, modules = _run(vault, *args)
        assert "WHOLE VAULT READ" not in proc.stderr, args
        assert proc.returncode == 0 and shows in proc.stdout, (args, proc.stderr)
        assert not _top(modules) & {"networkx", "vaultindex.graph"}, args


def test_a_no_op_sync_loads_no_write_path_and_says_up_to_date(example_copy):
    vault = _synced(example_copy)
    proc, modules = _run(vault, "sync")
    assert proc.returncode == 0 and "Up to date:" in proc.stderr and "+0 ~0 -0" in proc.stderr, proc.stderr
    assert not _top(modules) & WRITE_PATH, sorted(_top(modules) & WRITE_PATH)


def test_help_still_lists_every_command_in_order(example_copy):
    proc = subprocess.run([sys.executable, "-m", "vaultindex", "--help"], capture_output=True, text=True)
    listed = [ln.split()[0] for ln in proc.stdout.split("Commands:")[1].splitlines() if ln.startswith("  ") and ln.split()]
    assert listed[:4] == ["sync", "info", "search", "backlinks"]
    assert {"watch", "tags", "graph", "new", "references", "mcp", "show", "doctor", "rank"} <= set(listed)


def _backlink_sources(vault: Path, note: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(vault), "backlinks", note, "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [b["path"] for b in json.loads(proc.stdout)]


def _bump(path: Path) -> None:
    """A later mtime for sure (some file systems keep whole seconds)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_the_quick_look_misses_no_change(example_copy):
    vault = _synced(example_copy)
    before = _backlink_sources(vault, "Beyond neural scaling laws")
    # An edit (same size is possible: the mtime says it), a new note, a removed one.
    new = write(vault, "New note.md", "See [[Beyond neural scaling laws]].\n")
    assert "New note.md" in _backlink_sources(vault, "Beyond neural scaling laws")
    new.write_text("See [[Beyond neural scaling laws]]!\n", encoding="utf-8")
    _bump(new)
    assert "New note.md" in _backlink_sources(vault, "Beyond neural scaling laws")
    new.write_text("No links any more.\n", encoding="utf-8")
    _bump(new)
    assert "New note.md" not in _backlink_sources(vault, "Beyond neural scaling laws")
    new.unlink()
    assert _backlink_sources(vault, "Beyond neural scaling laws") == before
    # A new attachment is a link target: a dangling link to it resolves.
    write(vault, "Linker.md", "![[chart.png]]\n")
    proc = subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(vault), "unresolved", "--json"], capture_output=True, text=True)
    assert any(u["target"] == "chart.png" for u in json.loads(proc.stdout))
    (vault / "attachments" / "chart.png").write_bytes(b"\x89PNG")
    proc = subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(vault), "unresolved", "--json"], capture_output=True, text=True)
    assert not any(u["target"] == "chart.png" for u in json.loads(proc.stdout)), proc.stdout


def test_the_quick_look_sees_the_bibliography_change(example_copy):
    vault = _synced(example_copy)
    write(vault, "Citing.md", "As shown [@smith2020quick].\n")

    def kinds() -> dict[str, str]:
        proc = subprocess.run([sys.executable, "-m", "vaultindex", "--vault", str(vault), "unresolved", "--json"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return {u["node"]: u.get("title", "") for u in json.loads(proc.stdout)}

    assert kinds().get("paper:citekey:smith2020quick") == ""
    bib = write(vault, "refs.bib", "@article{smith2020quick, title = {Quick Looks}, year = {2020}}\n")
    assert kinds().get("ref:smith2020quick") == "Quick Looks"
    time.sleep(0.01)
    bib.write_text("@article{smith2020quick, title = {Quicker Looks}, year = {2020}}\n", encoding="utf-8")
    _bump(bib)
    assert kinds().get("ref:smith2020quick") == "Quicker Looks"
    # A bibliography named by the config only (outside the vault): its edits are seen too.
    outside = example_copy.parent / "elsewhere.bib"
    outside.write_text("@article{jones2021far, title = {Far Away}, year = {2021}}\n", encoding="utf-8")
    write(vault, "Far.md", "[@jones2021far]\n")
    (vault / ".vaultindex").mkdir(exist_ok=True)
    (vault / ".vaultindex" / "config.toml").write_text(f'bibliography = ["{outside}"]\n', encoding="utf-8")
    assert kinds().get("ref:jones2021far") == "Far Away"
    outside.write_text("@article{jones2021far, title = {Farther Away}, year = {2021}}\n", encoding="utf-8")
    _bump(outside)
    assert kinds().get("ref:jones2021far") == "Farther Away"


def test_the_cache_folder_is_platformdirs_own_without_importing_it(tmp_path):
    """indexfolder.user_cache_dir works the XDG rule out itself on Linux: it must give exactly
    what platformdirs gives, for every kind of environment."""
    code = ("import platformdirs, sys\nfrom vaultindex.indexfolder import user_cache_dir\n"
            "print(user_cache_dir()); print(platformdirs.user_cache_dir('vaultindex', appauthor=False))")
    base = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "HOME")}
    for extra in ({"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}, {"XDG_CACHE_HOME": "relative/cache", "HOME": str(tmp_path)},
                  {"XDG_CACHE_HOME": "", "HOME": str(tmp_path)}, {"HOME": str(tmp_path / "home")}, {"HOME": "relative-home"}, {}):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**base, **extra})
        ours, theirs = proc.stdout.splitlines() or ["", ""]
        assert proc.returncode == 0 and ours == theirs, (extra, proc.stdout, proc.stderr)
