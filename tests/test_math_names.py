"""Math in a title, read as text where a title becomes a file name (`vaultindex new`) or a tag
page's link text: kevinywu-notes' bib.bib has `$π^{*}_{0.6}$: A VLA That Learns From
Experience`, which `new` named `$π{}_{0.6}$ - A VLA That Learns From Experience.md`."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultindex.cli import cli
from vaultindex.models import BibEntry
from vaultindex.newnote import note_file_name
from vaultindex.text import math_as_text

FORBIDDEN = set('*"\\/<>:|?#^[]')


def test_math_as_text_rules() -> None:
    assert math_as_text("$π^{*}_{0.6}$: A VLA That Learns From Experience") == "π*0.6: A VLA That Learns From Experience"
    assert math_as_text(r"$\alpha$-divergence") == "α-divergence"
    assert math_as_text(r"The $\mathcal{O}(n \log n)$ bound") == "The O(n log n) bound"
    assert math_as_text(r"$\ell_1$ and $\ell_{2}$ penalties") == "ℓ1 and ℓ2 penalties"
    assert math_as_text(r"Fast \(k\)-means") == "Fast k-means"
    assert math_as_text("costs $5 and $6") == "costs $5 and $6"  # pandoc: no math here
    assert math_as_text("Not all neuro-symbolic concepts are created equal_ Analysis") == (
        "Not all neuro-symbolic concepts are created equal_ Analysis"
    )


def test_file_names_of_math_titles() -> None:
    def name(title: str) -> str:
        return note_file_name(BibEntry("k", title=title))

    assert name("$π^{*}_{0.6}$: A VLA That Learns From Experience") == "π0.6 - A VLA That Learns From Experience.md"
    assert name(r"$\pi_0$: A Vision-Language-Action Flow Model") == "π0 - A Vision-Language-Action Flow Model.md"
    assert name(r"$k$-means++ in $O(\log k)$") == "k-means++ in O(log k).md"


MATH_CHARS = st.text(alphabet="abxyzπ0123456789.*+-=(),^_{} ", min_size=1, max_size=12)
COMMANDS = st.sampled_from([r"\pi", r"\alpha", r"\mathcal{O}", r"\log", r"\ell", r"\frac{a}{b}", r"\leq", r"\,"])


@st.composite
def math_titles(draw: st.DrawFn) -> tuple[str, str, str]:
    inner = draw(st.lists(st.one_of(MATH_CHARS, COMMANDS), min_size=1, max_size=4).map("".join))
    inner = inner.strip().replace("$", "") or "x"
    before = draw(st.text(alphabet=st.characters(blacklist_characters="$\\", blacklist_categories=("Cs",)), max_size=20))
    after = draw(st.text(alphabet=st.characters(blacklist_characters="$\\", blacklist_categories=("Cs",)), max_size=20))
    return before, inner, after


@settings(max_examples=300, deadline=None)
@given(math_titles())
def test_a_math_span_never_leaves_tex_in_a_file_name(parts: tuple[str, str, str]) -> None:
    before, inner, after = parts
    title = f"{before} ${inner}$ {after}"
    name = note_file_name(BibEntry("key2024", title=title))
    assert name.endswith(".md") and len(name) > 3
    stem = name[:-3]
    assert not FORBIDDEN & set(stem)
    text = math_as_text(f"${inner}$") if re.fullmatch(r"\S(?:.*\S)?", inner) else inner
    assert not set("{}^\\$") & set(text)  # the span itself, read as text
    for ch in re.sub(r"\\[A-Za-z]+", "", inner):  # every letter and digit of the math stays, in order
        if ch.isalnum():
            assert ch in text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="$\\", blacklist_categories=("Cs",)), max_size=40))
def test_text_without_math_is_unchanged(text: str) -> None:
    assert math_as_text(text) == text


def test_new_and_tag_pages_read_the_math_as_text(tmp_path: Path) -> None:
    root = tmp_path / "kevin"
    (root / ".obsidian").mkdir(parents=True)
    (root / "bib.bib").write_text(
        "@online{amin2025,\n  title = {\\$π\\textasciicircum\\{*\\}\\_\\{0.6\\}\\$: A {{VLA That Learns From Experience}}},\n"
        "  author = {Amin, Ali}, date = {2025-11-18}, eprint = {2511.14759}, eprinttype = {arXiv},\n"
        "  keywords = {vla},\n}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["--vault", str(root), "new", "@amin2025"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "π0.6 - A VLA That Learns From Experience.md"
    note = root / "π0.6 - A VLA That Learns From Experience.md"
    text = note.read_text(encoding="utf-8")
    assert 'title: "$π^{*}_{0.6}$: A VLA That Learns From Experience"' in text  # the title as written
    note.write_text(text + "\n#vla\n", encoding="utf-8")
    result = runner.invoke(cli, ["--vault", str(root), "tags", "write"])
    assert result.exit_code == 0, result.output
    page = next((root / "Tags").rglob("*.md")).read_text(encoding="utf-8")
    assert "[[π0.6 - A VLA That Learns From Experience|π*0.6: A VLA That Learns From Experience]]" in page
