"""`vaultindex new` with a template that has no placeholders in its body (kevinywu-notes'
templates/Paper.md, academic-obsidian's Templater templates): the leading `# Paper Title`
becomes the paper's title, as in the notes made from it, and stderr says what was copied as
written. A template with placeholders is filled as before, with nothing said."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from vaultindex.cli import cli

BIB = """@online{ayalew2024,
  title = {{{PROGRESSOR}}: {{A Perceptually Guided Reward Estimator}}},
  author = {Ayalew, Tewodros and Wu, Kevin Yuanbo},
  date = {2024-11-26}, eprint = {2411.17764}, eprinttype = {arXiv},
}
"""
# kevinywu-notes/templates/Paper.md, shortened
KEVIN_TEMPLATE = (
    "# Paper Title\n\n**Authors**: Automatically generated from \"Citations\" Obsidian plugin\n\n"
    "[[templates/README#[YYYY-MM] Paper Title|README]]\n\n[Paper](http://arxiv.org/abs/1706.03762)\n\n"
    "## Summary\n\n- Notes from the introduction and conclusion sections\n"
)
# academic-obsidian/Templates/Paper Template.md
ACADEMIC_TEMPLATE = (
    "---\naliases: \nauthor: \nhasTopic: \nyear: \nCreated:\n"
    '  - <% tp.file.include("[[templates/timestamp note]]") %>\n---\n\n<%tp.file.cursor()%>\n\n--- \n#source/paper \n'
)


def _vault(root: Path, folder: str, template: str) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    (root / ".obsidian" / "templates.json").write_text(f'{{"folder": "{folder}/"}}', encoding="utf-8")
    (root / folder).mkdir()
    (root / folder / "Paper.md").write_text(template, encoding="utf-8")
    (root / "bib.bib").write_text(BIB, encoding="utf-8")
    return root


def _new(root: Path):
    result = CliRunner().invoke(cli, ["--vault", str(root), "new", "@ayalew2024"])
    assert result.exit_code == 0, result.output
    path = result.stdout.strip()
    return (root / path).read_text(encoding="utf-8"), result.stderr


def test_the_leading_heading_becomes_the_title_and_stderr_says_the_rest_is_copied(tmp_path: Path) -> None:
    text, err = _new(_vault(tmp_path / "kevin", "templates", KEVIN_TEMPLATE))
    body = text.split("\n---\n", 1)[1]
    assert body.lstrip().startswith("# PROGRESSOR: A Perceptually Guided Reward Estimator\n")
    assert "# Paper Title" not in body
    assert "## Summary\n\n- Notes from the introduction" in body  # the rest as written
    assert 'arxiv: "2411.17764"' in text  # the paper's own id in the frontmatter
    assert "templates/Paper.md has no {{placeholders}} in its body" in err
    assert "first heading became the title" in err


def test_a_templater_template_is_copied_and_stderr_says_so(tmp_path: Path) -> None:
    text, err = _new(_vault(tmp_path / "academic", "Templates", ACADEMIC_TEMPLATE))
    assert "<%tp.file.cursor()%>" in text and "#source/paper" in text
    assert 'author: ["Tewodros Ayalew", "Kevin Yuanbo Wu"]' in text and "year: 2024" in text
    assert "Templates/Paper.md has no {{placeholders}} in its body: it is copied as written" in err
    assert "Templater" in err


def test_a_template_with_placeholders_is_filled_and_nothing_is_said(tmp_path: Path) -> None:
    template = "# Paper Title\n\n{{authors}}\n\n## Notes\n"
    text, err = _new(_vault(tmp_path / "filled", "templates", template))
    assert "# Paper Title" in text and "Tewodros Ayalew, Kevin Yuanbo Wu" in text
    assert "placeholders" not in err
