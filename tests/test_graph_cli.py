"""The link-graph commands through click's CliRunner: JSON shapes, human output, exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from conftest import EXAMPLE_VAULT, write
from vaultindex.cli import cli

BEYOND = "papers/Beyond neural scaling laws.md"


@pytest.fixture(scope="module")
def vault_dir(tmp_path_factory):
    """One synced copy of example_vault for the read-only commands of this module."""
    dest = tmp_path_factory.mktemp("cli") / "vault"
    shutil.copytree(EXAMPLE_VAULT, dest, ignore=shutil.ignore_patterns(".vaultindex"))
    result = CliRunner().invoke(cli, ["--vault", str(dest), "sync"])
    assert result.exit_code == 0, result.output
    return dest


def run(vault_dir, *args):
    return CliRunner().invoke(cli, ["--vault", str(vault_dir), *args])


def run_json(vault_dir, *args):
    result = run(vault_dir, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_backlinks_json(vault_dir):
    data = run_json(vault_dir, "backlinks", "Beyond neural scaling laws")
    assert [d["path"] for d in data][:3] == [
        "Reading list.md",
        "papers/Chinchilla - Compute-optimal LLMs.md",
        "papers/Data diet - EL2N.md",
    ]
    diet = data[2]
    assert diet["title"].startswith("Deep learning on a data diet")
    assert [(ln["line"], ln["kind"], ln["subpath"]) for ln in diet["links"]] == [
        (34, "link", ""), (34, "link", "^key-result"), (35, "cite", ""),
    ]
    assert set(diet["links"][0]) == {"line", "kind", "target", "subpath", "display", "context"}


def test_backlinks_human_output_is_grouped_by_note(vault_dir):
    result = run(vault_dir, "backlinks", "LoRA")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Reading list.md"
    assert lines[1] == "  47: - [x] [[LoRA]] — read"
    assert "papers/Easy training data for hard tasks.md  The unreasonable effectiveness" in lines[2]
    assert lines[3] == "  34: - QLoRA builds on [[LoRA]]."
    assert "4 notes link here (4 links)." in result.stderr


def test_backlinks_nl_and_by_path_or_alias(vault_dir):
    result = run(vault_dir, "backlinks", "papers/LoRA.md", "--nl")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in rows][0] == "Reading list.md"
    by_alias = run_json(vault_dir, "backlinks", "Low-rank adaptation")
    assert [r["path"] for r in by_alias] == [r["path"] for r in rows]


def test_unknown_and_ambiguous_notes_exit_1(vault_dir):
    result = run(vault_dir, "backlinks", "No such paper")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no note named")
    result = run(vault_dir, "related", "Scaling laws")
    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert "papers/kaplan/Scaling laws.md" in result.stderr and "topics/Scaling laws.md" in result.stderr


def test_missing_argument_is_a_usage_error(vault_dir):
    assert run(vault_dir, "backlinks").exit_code == 2
    assert run(vault_dir, "path", "LoRA").exit_code == 2


def test_mentions(vault_dir):
    data = run_json(vault_dir, "mentions", "Beyond neural scaling laws")
    assert [(d["path"], [m["line"] for m in d["mentions"]]) for d in data] == [
        ("About this vault.md", [18, 32]),
        ("Inbox/Idea - curriculum by difficulty.md", [10]),
    ]
    assert data[1]["mentions"][0]["text"] == "Beyond neural scaling laws"
    human = run(vault_dir, "mentions", "Beyond neural scaling laws")
    assert "Inbox/Idea - curriculum by difficulty.md" in human.stdout
    assert "  10: Most work on example difficulty" in human.stdout
    assert "3 unlinked mentions in 2 notes." in human.stderr


def test_links(vault_dir):
    data = run_json(vault_dir, "links", "topics/Scaling laws.md")
    assert data[-1] == {
        "line": 30, "kind": "cite", "target": "nakkiran2019deep", "subpath": "", "display": "",
        "context": data[-1]["context"], "form": "citekey", "status": "unresolved", "path": None,
        "node": "paper:citekey:nakkiran2019deep", "candidates": [],
    }
    human = run(vault_dir, "links", "Chinchilla - Compute-optimal LLMs").stdout
    assert "[[Scaling laws]] -> topics/Scaling laws.md  (ambiguous; also papers/kaplan/Scaling laws.md)" in human
    assert "@kaplan2020scaling -> papers/kaplan/Scaling laws.md" in human


def test_unresolved(vault_dir):
    data = run_json(vault_dir, "unresolved")
    assert [(d["kind"], d["target"], d["count"]) for d in data] == [
        ("link", "Deep double descent", 1), ("link", "EWC", 1), ("paper", "@nakkiran2019deep", 1),
    ]
    papers = run_json(vault_dir, "unresolved", "--kind", "paper")
    assert [d["target"] for d in papers] == ["@nakkiran2019deep"]
    human = run(vault_dir, "unresolved").stdout
    assert "[[Deep double descent]]  (no such file; used 1 time)" in human
    assert "  topics/Scaling laws.md:30: Test error is not always monotone" in human


def test_orphans(vault_dir):
    assert run_json(vault_dir, "orphans") == [
        {"path": "Inbox/Idea - curriculum by difficulty.md", "title": "Idea - curriculum by difficulty"}
    ]
    assert run(vault_dir, "orphans", "--paths").stdout == "Inbox/Idea - curriculum by difficulty.md\n"


def test_related(vault_dir):
    data = run_json(vault_dir, "related", "Beyond neural scaling laws", "-n", "3")
    assert len(data) == 3
    assert data[0]["path"] == "papers/Trivial or impossible.md"
    kinds = [r["kind"] for r in data[0]["reasons"]]
    assert kinds == ["link", "co-citation", "coupling", "tags", "text"]
    assert data[0]["score"] >= data[1]["score"] >= data[2]["score"]
    human = run(vault_dir, "related", "Beyond neural scaling laws", "-n", "1").stdout
    assert human.splitlines()[0].startswith(" 1. Trivial or impossible")
    assert "linked together from 4 notes" in human and "tags #ml, #ml/vision" in human


def test_path(vault_dir):
    data = run_json(vault_dir, "path", "LoRA", "SimCLR")
    assert data["length"] == 2 and data["directed"] is False
    assert [(s["path"], s["direction"]) for s in data["steps"]] == [
        ("papers/LoRA.md", ""), ("Reading list.md", "<-"), ("papers/SimCLR.md", "->"),
    ]
    human = run(vault_dir, "path", "LoRA", "SimCLR")
    assert "  <- Reading list.md" in human.stdout
    none = run(vault_dir, "path", "LoRA", "Inbox/Idea - curriculum by difficulty.md")
    assert none.exit_code == 1
    assert "No link path" in none.stderr
    assert run(vault_dir, "path", "LoRA", "Reading list", "--directed", "--json").stdout.strip() == "null"


def test_rank(vault_dir):
    data = run_json(vault_dir, "rank", "-n", "3")
    assert data[0]["path"] == BEYOND and data[0]["in_degree"] == 11
    assert set(data[0]) == {"path", "title", "pagerank", "in_degree", "out_degree"}
    by_in = run_json(vault_dir, "rank", "--by", "in", "-n", "2")
    assert [d["in_degree"] for d in by_in] == sorted((d["in_degree"] for d in by_in), reverse=True)
    human = run(vault_dir, "rank", "-n", "1").stdout.splitlines()
    assert "pagerank" in human[0] and BEYOND in human[1]


def test_doctor_and_strict(vault_dir):
    result = run(vault_dir, "doctor")
    assert result.exit_code == 0
    assert "error: papers/Broken frontmatter draft.md:8: invalid YAML" in result.stdout
    assert "[ambiguous-link]" in result.stdout
    assert "2 errors, 5 warnings." in result.stderr
    strict = run(vault_dir, "doctor", "--strict")
    assert strict.exit_code == 1
    data = json.loads(run(vault_dir, "doctor", "--json").stdout)
    assert (data["errors"], data["warnings"]) == (2, 5)
    assert {p["code"] for p in data["problems"]} == {"invalid-frontmatter", "ambiguous-link", "alias-link"}


def test_doctor_strict_passes_on_a_clean_vault(tmp_path):
    write(tmp_path, "a.md", "[[b#Intro]]\n")
    write(tmp_path, "b.md", "# Intro\n")
    result = CliRunner().invoke(cli, ["--vault", str(tmp_path), "doctor", "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "0 errors, 0 warnings." in result.stderr


def test_graph_command_name_is_left_for_the_export_command():
    from vaultindex.cli import graph as graph_commands

    names = {name for name in dir(graph_commands)}
    assert "graph" not in names or not hasattr(graph_commands.graph, "callback")
    for name in ("backlinks", "mentions", "links", "unresolved", "orphans", "related", "path", "rank", "doctor"):
        assert name in cli.commands


# -- terminal safety: note text and paths never reach the terminal raw (issue 13 items 5, 10) -----

ESC = "\x1b]52;c;aGFja2Vk\x07\x1b[2J"  # OSC 52 (writes the clipboard), then clear the screen


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "vault"
    write(root, "Hub.md", f"---\ntitle: {json.dumps('Hub ' + ESC)}\n---\nSee [[Spoke]] and [[Ghost {ESC}]] here {ESC}.\n"
                          f"Also [[Spoke|odd {ESC}]] and @smith{ESC}\n")
    write(root, "Spoke.md", f"---\ntitle: {json.dumps('Spoke ' + ESC)}\ntags: [t]\n---\nBack to [[Hub]] {ESC} and Hub.\n")
    write(root, "Other.md", f"---\ntitle: {json.dumps('Other ' + ESC)}\ntags: [t]\n---\nThe Hub, plain {ESC}.\n")
    write(root, f"odd\tname {chr(0x7f)}.md", "[[Hub#No such heading]] [[Nowhere]]\n")
    write(root, "Lonely.md", f"---\ntitle: {json.dumps('Lonely ' + ESC)}\n---\nnothing\n")
    write(root, "lonely \x1b]0;x\x07.md", "nothing\n")  # a file name holding an escape (sets the window title)
    result = CliRunner().invoke(cli, ["--vault", str(root), "sync"])
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize("args", [
    ("backlinks", "Hub"), ("links", "Hub"), ("mentions", "Hub"), ("related", "Hub"), ("unresolved",),
    ("orphans",), ("orphans", "--paths"), ("path", "Spoke", "Hub.md"), ("rank",), ("doctor",),
])
def test_graph_commands_escape_control_characters(hostile_dir, args):
    result = run(hostile_dir, *args)
    assert result.exit_code == 0, result.output
    out = result.stdout + result.stderr
    assert out.strip(), args
    assert not any(ch in out for ch in "\x1b\x07\x7f"), (args, out)
    assert all(ch in "\n\t" or ord(ch) >= 0x20 for ch in out), (args, out)
    if args[0] in ("backlinks", "links", "related", "rank", "path", "orphans", "unresolved") and "--paths" not in args:
        assert "\\x1b]52;c;" in result.stdout, (args, result.stdout)  # shown, visibly


def test_graph_commands_quote_odd_paths_and_json_keeps_the_text(hostile_dir):
    quoted = '"odd\\tname \\177.md"'
    assert quoted in run(hostile_dir, "backlinks", "Hub").stdout
    assert quoted in run(hostile_dir, "doctor").stdout
    assert '"lonely \\033]0;x\\a.md"' in run(hostile_dir, "orphans", "--paths").stdout.splitlines()
    data = run_json(hostile_dir, "backlinks", "Hub")
    assert {d["path"] for d in data} >= {"odd\tname \x7f.md", "Spoke.md"}
    assert run_json(hostile_dir, "rank")[0]["title"].endswith(ESC)


def test_mentions_prints_a_line_once_however_often_the_name_stands_on_it(vault_dir):
    data = run_json(vault_dir, "mentions", "EWC")
    about = next(d for d in data if d["path"] == "About this vault.md")
    assert [m["line"] for m in about["mentions"]].count(29) == 2  # JSON keeps each mention, with its column
    human = run(vault_dir, "mentions", "EWC")
    rows = [row for row in human.stdout.splitlines() if row.startswith("  29: ")]
    assert len(rows) == 1 and rows[0].endswith("(2 mentions)")
    assert "  23: " in human.stdout and "  23: 9." in human.stdout
    assert not [row for row in human.stdout.splitlines() if row.startswith("  23: ") and "mentions)" in row]
