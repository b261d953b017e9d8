"""A file name that is not plain (bytes that are not UTF-8, control characters, spaces, quotes,
Unicode) is shown one way in every command: the path as quote_path writes it (`"bad-\\377.md"`)
in text, in that quoted form in --json (unquote_path gives the name back), and a title taken
from the file name reads the same way (`bad-\\377`, text.name_shown), never with U+FFFD (which
`orphans` showed), never with a raw byte (which `tags --notes` printed)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultindex.cli import cli
from vaultindex.text import json_safe, name_shown, quote_path, unquote_path

WORD = "zqxjkvwordz"
PIECES = [b"\xff", b"\x80", b"\xe9", b"\n", b"\t", b"\x1b", b"\x7f", b" ", b"  ", "é".encode(), "e\u0301".encode(),
          "文字".encode(), b"a", b"Z", b'"', b"\\", b"-", b"'"]
names = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map(lambda parts: b"n" + b"".join(parts) + b".md")


def _run(root: Path, *args: str):
    result = CliRunner().invoke(cli, ["--vault", str(root), *args], catch_exceptions=False)
    assert result.exit_code == 0, (args, result.output)
    return result


def _text(result, path: str, title: str | None = None) -> str:
    out = result.stdout_bytes.decode("utf-8")  # valid UTF-8 whatever the name
    assert "\ufffd" not in out
    assert not any(ch in out for ch in "\x1b\x7f\x80\x9b\r")  # nothing a terminal would obey
    assert quote_path(path) in out.splitlines() or any(quote_path(path) in line for line in out.splitlines())
    if title is not None:
        assert title in out
    return out


def _vault(folder: Path, name: bytes) -> Path:
    root = folder / "vault"
    (root / ".obsidian").mkdir(parents=True)
    (root / "Hub.md").write_text("# Hub\n\nThe hub of the vault.\n", encoding="utf-8")
    with open(os.path.join(os.fsencode(root), name), "wb") as f:
        f.write(f"An odd name, {WORD} inside, about the hub. #oddtag\n".encode())  # an orphan
    return root


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names)
def test_an_odd_file_name_is_shown_one_way_in_every_command(name: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _vault(Path(tmp), name)
        path = os.fsdecode(name)
        title = name_shown(path[:-3])  # no heading, no frontmatter: the file name is the title
        _run(root, "sync")

        _text(_run(root, "search", WORD), path, title)
        assert unquote_path(_text(_run(root, "search", "--paths", WORD), path).rstrip("\n")) == path
        _text(_run(root, "orphans"), path, title)
        _text(_run(root, "tags", "--notes"), path)
        _text(_run(root, "related", "Hub.md"), path, title)
        _text(_run(root, "rank"), path, title)

        for args in (("search", WORD), ("orphans",), ("related", "Hub.md")):
            rows = json.loads(_run(root, *args, "--json").stdout)
            row = next(r for r in rows if unquote_path(r["path"]) == path)
            assert row["path"] == json_safe(path)  # quote_path's form when a byte is not UTF-8, else as is
            assert row.get("title", title) == title
        tags = json.loads(_run(root, "tags", "--notes", "--json").stdout)
        assert [unquote_path(p) for t in tags if t["tag"] == "oddtag" for p in t["notes"]] == [path]


def test_the_title_of_a_name_that_is_not_utf8_reads_as_its_path(tmp_path: Path) -> None:
    root = _vault(tmp_path, b"orph-\xfd.md")
    _run(root, "sync")
    out = _run(root, "orphans").stdout
    assert '"orph-\\375.md"  orph-\\375' in out
    rows = json.loads(_run(root, "orphans", "--json").stdout)
    assert {"path": '"orph-\\375.md"', "title": "orph-\\375"} in rows
    assert '"orph-\\375.md"' in _run(root, "tags", "--notes").stdout
