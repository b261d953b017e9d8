"""Any file name a Linux file system allows (bytes that are not UTF-8, Unicode in either
normal form, long names) goes through sync, search, --json, --paths -0, backlinks, graphml,
tag pages and watch: indexed like any other note, shown losslessly, never an error."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultindex import Vault
from vaultindex import watch as watch_module
from vaultindex.cli import cli
from vaultindex.text import unquote_path

WORD = "zqxjkvwordz"  # in no other note


def _file_name(stem: bytes) -> bytes:
    # "n" first: a leading "." or "~" would make a hidden or temporary file, rightly skipped.
    return b"n" + stem + b".md"


names = st.one_of(
    st.binary(min_size=1, max_size=60).filter(lambda b: b"/" not in b and b"\0" not in b),
    st.text(min_size=1, max_size=30)
    .filter(lambda t: "/" not in t and "\0" not in t)
    .flatmap(lambda t: st.sampled_from([unicodedata.normalize(f, t) for f in ("NFC", "NFD")]))
    .map(lambda t: t.encode("utf-8", "surrogatepass"))
    .filter(lambda b: b.decode("utf-8", "ignore") == b.decode("utf-8", "replace")),  # no lone surrogates
    st.integers(200, 240).map(lambda n: "é".encode() * (n // 2)),  # long: near NAME_MAX (255 bytes)
).map(_file_name)


def _vault(folder: Path, name: bytes) -> Path:
    root = folder / "vault"
    (root / ".obsidian").mkdir(parents=True)
    (root / "Hub.md").write_text("# Hub\n\nThe hub of the vault.\n", encoding="utf-8")
    with open(os.path.join(os.fsencode(root), name), "wb") as f:
        f.write(f"Odd name, {WORD} inside. #oddtag\n\nSee [[Hub]].\n".encode())
    return root


def _invoke(root: Path, *args: str):
    result = CliRunner().invoke(cli, ["--vault", str(root), *args], catch_exceptions=False)
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names)
def test_any_file_name_goes_through_every_output(name):
    with tempfile.TemporaryDirectory() as tmp:
        root = _vault(Path(tmp), name)
        path = os.fsdecode(name)
        _invoke(root, "sync")

        hits = json.loads(_invoke(root, "search", WORD, "--json").stdout)
        assert [unquote_path(h["path"]) for h in hits] == [path]
        assert _invoke(root, "search", WORD, "-0").stdout_bytes == name + b"\0"
        shown = _invoke(root, "search", WORD, "--paths").stdout
        assert len(shown.splitlines()) == 1 and unquote_path(shown.rstrip("\n")) == path

        backlinks = json.loads(_invoke(root, "backlinks", "Hub", "--json").stdout)
        assert path in {unquote_path(b["path"]) for b in backlinks}

        out = Path(tmp) / "g.graphml"
        _invoke(root, "graph", "-o", str(out))
        ET.parse(out)  # well-formed XML whatever the name

        _invoke(root, "tags", "write")
        pages = [p for p in root.rglob("*.md") if "oddtag" in p.name]
        assert len(pages) == 1
        page = pages[0].read_text(encoding="utf-8")  # valid UTF-8 whatever the name
        assert "generated_by: vaultindex" in page


def test_watch_indexes_a_name_that_is_not_utf8(tmp_path):
    root = _vault(tmp_path, b"start.md")
    vault = Vault.open(root)
    vault.sync()
    stop, ready, batches = threading.Event(), threading.Event(), []
    thread = threading.Thread(
        target=watch_module.run,
        kwargs=dict(vault=vault, stop_event=stop, on_batch=lambda stats, paths: batches.append(paths),
                    on_ready=lambda start: ready.set(), debounce_ms=100),
        daemon=True,
    )
    thread.start()
    try:
        assert ready.wait(30), "watch did not start"
        name = b"caf\xe9 \xff\xfe.md"  # Latin-1 bytes, as old archives leave them
        shutil.copy(root / "start.md", os.path.join(os.fsencode(root), name))
        reader = Vault.open(root)
        for _ in range(300):
            paths = [h.path for h in reader.search(WORD).hits]
            if os.fsdecode(name) in paths:
                break
            threading.Event().wait(0.1)
        assert os.fsdecode(name) in paths
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_a_markdown_link_keeps_the_bytes_it_percent_encodes(tmp_path):
    # How a tag page (or a user) links a note whose name is not UTF-8: `[x](n%80.md)`.
    root = _vault(tmp_path, b"n\x80.md")
    (root / "User.md").write_text("See [odd](n%80.md).\n", encoding="utf-8")
    backlinks = json.loads(_invoke(root, "backlinks", os.fsdecode(b"n\x80.md"), "--json").stdout)
    assert [b["path"] for b in backlinks] == ["User.md"]
