"""text.py: how paths and note text are shown to a person and written as JSON."""

import json
import os

from hypothesis import given
from hypothesis import strategies as st

from vaultindex.text import escape_controls, json_safe, quote_path, unquote_path

names = st.binary(min_size=1, max_size=40).map(os.fsdecode)


@given(names)
def test_quote_path_is_lossless_and_one_line(path):
    quoted = quote_path(path)
    assert unquote_path(quoted) == path
    assert "\n" not in quoted and "\r" not in quoted
    quoted.encode("utf-8")  # never a surrogate: printable on a strict UTF-8 stream


def test_quote_path_like_git():
    assert quote_path("papers/LoRA.md") == "papers/LoRA.md"
    assert quote_path("注意力.md") == "注意力.md"
    assert quote_path(os.fsdecode(b"bad-\xff.md")) == '"bad-\\377.md"'
    assert quote_path("two\nlines.md") == '"two\\nlines.md"'


@given(st.text())
def test_escape_controls_leaves_no_control_character(text):
    shown = escape_controls(text)
    assert not any(ord(c) < 0x20 and c != "\t" or 0x7F <= ord(c) <= 0x9F for c in shown)
    shown.encode("utf-8")


def test_escape_controls_defuses_terminal_escapes():
    assert escape_controls("a\x1b]52;c;aGk=\x07b") == "a\\x1b]52;c;aGk=\\x07b"
    assert escape_controls("\x1b[2J") == "\\x1b[2J"
    assert escape_controls("plain 文字\ttab") == "plain 文字\ttab"


def test_json_safe_keeps_text_and_quotes_only_bad_bytes():
    bad = os.fsdecode(b"bad-\xff.md")
    data = json_safe({"path": bad, "title": "a\x1bb", "links": [bad, "ok"]})
    text = json.dumps(data, ensure_ascii=False)
    text.encode("utf-8")
    back = json.loads(text)
    assert back["title"] == "a\x1bb"
    assert unquote_path(back["path"]) == bad
    assert back["links"] == ['"bad-\\377.md"', "ok"]
