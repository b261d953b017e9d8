"""What a first-time user found running vaultindex on the two real vaults (academic-obsidian,
kevinywu-notes), each on a small temp vault that copies the real pattern."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from conftest import write
from vaultindex.cli import cli


def run(root: Path, *args: str, code: int = 0):
    result = CliRunner().invoke(cli, ["--vault", str(root), *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


# -- 1. a template never stands for a paper ---------------------------------------------------------

# kevinywu-notes: the Citations plugin's paper template carries the Transformer paper's arXiv URL
# as its example, and bib.bib has that paper.
TEMPLATE = (
    "# Paper Title\n\n**Authors**: Automatically generated\n\n"
    "[Paper](http://arxiv.org/abs/1706.03762)\n[Code](https://github.com/)\n\n## Abstract\n\n## Summary\n"
)
BIB = (
    "@online{vaswaniAttentionAllYou2023,\n  title = {Attention {{Is All You Need}}},\n"
    "  author = {Vaswani, Ashish and Shazeer, Noam},\n  date = {2023-08-01},\n"
    "  eprint = {1706.03762},\n  eprinttype = {arXiv},\n  doi = {10.48550/arXiv.1706.03762},\n"
    "  url = {http://arxiv.org/abs/1706.03762},\n}\n"
)


def template_vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    write(root, ".obsidian/templates.json", json.dumps({"folder": "templates/"}))
    write(root, "templates/Paper.md", TEMPLATE)
    write(root, "templates/Keyed.md", "---\ncitekey: vaswaniAttentionAllYou2023\ndoi: 10.48550/arXiv.1706.03762\n---\n# {{title}}\n")
    write(root, "bib.bib", BIB)
    write(root, "papers/Transformers.md", "# Transformers\n\nAs in [@vaswaniAttentionAllYou2023] and arXiv:1706.03762.\n")
    return root


def test_a_template_is_never_the_note_of_a_bibliography_entry(tmp_path: Path) -> None:
    root = template_vault(tmp_path)
    refs = json.loads(run(root, "references", "vaswani", "--json").stdout)
    assert [r["key"] for r in refs] == ["vaswaniAttentionAllYou2023"]
    search = run(root, "search", "transformers").stdout
    assert "@vaswaniAttentionAllYou2023" in search.split("In the bibliography", 1)[-1]


def test_a_template_is_never_the_node_a_citation_points_to(tmp_path: Path) -> None:
    root = template_vault(tmp_path)
    graph = json.loads(run(root, "graph", "-f", "json").stdout)
    cited = {e["target"] for e in graph["edges"] if e["source"] == "papers/Transformers.md"}
    assert cited and not any(t.startswith("templates/") for t in cited), cited
    assert not any(e["target"].startswith("templates/") for e in graph["edges"] if e["source"].startswith("papers/"))


# -- 2. `path` gives one answer ---------------------------------------------------------------------

def test_path_picks_the_same_chain_whatever_the_hash_seed(tmp_path: Path) -> None:
    """academic-obsidian: `path "fuzzy logic" "Edoardo Ponti"` gave 4 answers in 5 runs. Of the
    equally short chains, the one whose paths come first (by vault path) is shown."""
    import os
    import subprocess
    import sys

    root = tmp_path / "vault"
    middles = ["Kappa", "Delta", "Omega", "Beta", "Zeta", "Sigma", "Alpha nodes", "Gamma"]
    write(root, "start.md", "# start\n\n" + "\n".join(f"- [[{m}]]" for m in middles) + "\n")
    for m in middles:  # start -> m <- person: the chain goes against a link's direction too
        write(root, f"people/{m}.md", f"# {m}\n")
    write(root, "person.md", "# person\n\n" + "\n".join(f"- [[{m}]]" for m in reversed(middles)) + "\n")
    run(root, "sync")
    texts, chains = set(), set()
    for seed in ("0", "1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        cmd = [sys.executable, "-m", "vaultindex", "--vault", str(root), "path", "start", "person"]
        text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        data = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=True).stdout
        texts.add(text)
        chains.add(tuple(step["path"] for step in json.loads(data)["steps"]))
    assert chains == {("start.md", "people/Alpha nodes.md", "person.md")}
    assert len(texts) == 1 and "Alpha nodes" in texts.pop()


# -- 3. every warning `sync` counts is one `doctor` lists -------------------------------------------

def test_doctor_lists_every_warning_sync_counts(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    write(root, "ok.md", "# ok\n")
    (root / "latin1 content.md").write_bytes("# Café\n".encode("latin-1"))
    write(root, "unclosed fm.md", "---\ntitle: x\n\nbody\n")
    write(root, "big.md", "x" * 2048)
    write(root, ".vaultindex/config.toml", 'max_file_size = "1KB"\n')
    synced = run(root, "sync")
    counted = synced.stderr.splitlines()[-1]
    assert counted.endswith(", 3 warnings"), synced.stderr
    text = run(root, "doctor").stdout
    assert "latin1 content.md:1: not valid UTF-8" in text
    assert "unclosed fm.md:1: frontmatter has no closing '---' line" in text
    assert "big.md: larger than max_file_size" in text
    report = json.loads(run(root, "doctor", "--json").stdout)
    got = {(p["path"], p["line"], p["severity"]) for p in report["problems"]}
    assert got == {("latin1 content.md", 1, "warning"), ("unclosed fm.md", 1, "warning"), ("big.md", None, "warning")}
    assert report["warnings"] == 3


# -- 4. a misspelt config key is a warning ----------------------------------------------------------

def test_a_misspelt_config_key_warns_with_the_closest_known_key(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    write(root, "a.md", "# a\n")
    write(root, ".vaultindex/config.toml", 'bibliograpy = ["refs.bib"]\nresolve_aliases = false\n[tags]\nwach = true\ndir = "Tags"\n')
    result = run(root, "sync")
    lines = [ln for ln in result.stderr.splitlines() if "config.toml" in ln]
    assert lines == [
        "warning: .vaultindex/config.toml: unknown key bibliograpy, ignored (did you mean bibliography?)",
        "warning: .vaultindex/config.toml: unknown key [tags] wach, ignored (did you mean watch?)",
    ]


# -- 5. `sync` beside a running watch ---------------------------------------------------------------

def test_sync_beside_a_running_watch_says_the_watch_keeps_the_index(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    root = tmp_path / "vault"
    write(root, ".obsidian/app.json", "{}")
    write(root, "a.md", "# a\n\n[[b]]\n")
    watch = subprocess.Popen([sys.executable, "-m", "vaultindex", "--vault", str(root), "watch"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert watch.stderr is not None
        deadline = time.monotonic() + 60
        while "Watching" not in watch.stderr.readline():
            assert time.monotonic() < deadline and watch.poll() is None, "the watch did not start"
        result = run(root, "sync")
        assert result.stderr == f"A vaultindex watch (pid {watch.pid}) keeps this index current: nothing to do.\n"
        data = json.loads(run(root, "sync", "--json").stdout)
        assert data["watch"] == f"pid {watch.pid}" and data["added"] == 0
        full = run(root, "sync", "--full", "--wait", "0", code=1)
        assert f"Error: a vaultindex watch is running on this vault (pid {watch.pid})" in full.stderr
    finally:
        watch.terminate()
        watch.wait(30)


# -- 6. an index folder inside the vault is no part of it -------------------------------------------

def test_an_index_inside_the_vault_is_never_notes_nor_events(tmp_path: Path) -> None:
    import subprocess
    import sys
    import threading
    import time

    root = tmp_path / "vault"
    write(root, ".obsidian/app.json", "{}")
    write(root, "a.md", "# a\n\n![[store.sqlite]] and [[writer.lock]]\n")
    idx = str(root / "idx")
    synced = run(root, "--index-dir", idx, "sync")
    assert synced.stderr.count("the index folder idx/ is inside the vault") == 1, synced.stderr
    links = json.loads(run(root, "--index-dir", idx, "links", "a", "--json").stdout)
    assert [link["status"] for link in links] == ["unresolved", "unresolved"], links

    cmd = [sys.executable, "-m", "vaultindex", "--vault", str(root), "--index-dir", idx, "watch", "--debounce", "100"]
    watch = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert watch.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in watch.stderr), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("Watching" in line for line in lines):
            assert time.monotonic() < deadline and watch.poll() is None, lines
            time.sleep(0.05)
        write(root, "b.md", "# b\n")
        while not any(line.endswith("  b.md") for line in lines):
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)
        time.sleep(1.5)  # the index's own writes, had they been watched, would come now
    finally:
        watch.terminate()
        watch.wait(30)
        reader.join(10)
    batches = [line for line in lines if " ms  " in line]
    assert len(batches) == 1 and "+1 ~0 -0" in batches[0], lines
    assert not any("idx/" in line for line in lines if "inside the vault" not in line), lines
    assert sum("inside the vault" in line for line in lines) == 1


# -- 7. NO_COLOR ------------------------------------------------------------------------------------

def test_no_color_leaves_every_line_plain_on_a_terminal(example_copy: Path) -> None:
    def out(env: dict[str, str], *args: str) -> str:
        result = CliRunner().invoke(cli, ["--vault", str(example_copy), *args], color=True, env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "\x1b[" in out({}, "search", "pruning")  # a terminal gets styles ...
    for args in (("search", "pruning"), ("backlinks", "LoRA"), ("rank",), ("doctor",), ("links", "LoRA")):
        assert "\x1b[" not in out({"NO_COLOR": "1"}, *args), args  # ... unless NO_COLOR says no
    assert "\x1b[" not in out({"NO_COLOR": "yes"}, "search", "pruning")


# -- 10. the README says what happens ---------------------------------------------------------------

def test_the_readme_says_usage_errors_exit_2_and_what_the_watch_keeps(tmp_path: Path) -> None:
    from conftest import REPO

    write(tmp_path, "a.md", "# a\n")
    bad = CliRunner().invoke(cli, ["--vault", str(tmp_path), "search", "-n", "0", "x"])
    assert bad.exit_code == 2 and bad.stderr.startswith("Usage: ") and "Error: Invalid value" in bad.stderr
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "exit 2" in readme
    example = next(line for line in readme.splitlines() if line.startswith("vaultindex --vault ~/notes watch"))
    assert "[tags] watch = true" in example


# -- 8. `links` shows what the link shows -----------------------------------------------------------

def test_links_shows_the_display_text(tmp_path: Path) -> None:
    write(tmp_path, ".obsidian/app.json", "{}")
    write(tmp_path, "Expressiveness in Neurosymbolic Learning.md", "# E\n")
    write(tmp_path, "a.md", "# a\n\n- [[Expressiveness in Neurosymbolic Learning|Expressive NeSy]]\n- ![[pic.png|300]] [[a#a]]\n")
    text = run(tmp_path, "links", "a").stdout
    assert "[[Expressiveness in Neurosymbolic Learning|Expressive NeSy]] -> Expressiveness in Neurosymbolic Learning.md" in text
    assert "![[pic.png|300]]" in text and "[[a#a]] ->" in text
    data = json.loads(run(tmp_path, "links", "a", "--json").stdout)
    assert [link["display"] for link in data] == ["Expressive NeSy", "300", ""]


# -- 9. a mention's context holds the mention -------------------------------------------------------

def test_a_mention_far_into_a_long_line_is_shown_in_its_context(tmp_path: Path) -> None:
    """academic-obsidian: an abstract of 1,625 characters on one line, "fuzzy logic" at column 727."""
    write(tmp_path, ".obsidian/app.json", "{}")
    write(tmp_path, "fuzzy logic.md", "# fuzzy logic\n")
    before = "We study, both formally and empirically, how logical operators behave. " * 10
    after = " behave in a differentiable learning setting, and many are highly unsuitable." * 11
    line = "  > " + before + "operators from the fuzzy logic literature" + after
    write(tmp_path, "Analyzing.md", "# Analyzing\n\n" + line + "\n")
    column = line.index("fuzzy logic") + 1
    assert column > 700 and len(line) > 1500
    data = json.loads(run(tmp_path, "mentions", "fuzzy logic", "--json").stdout)
    (found,) = data[0]["mentions"]
    assert (found["line"], found["column"]) == (3, column)
    context = found["context"]
    assert "from the fuzzy logic literature" in context and len(context) <= 300
    assert context.startswith("…") and context.endswith("…")
    middle = context.index("fuzzy logic") + len("fuzzy logic") // 2
    assert abs(middle - len(context) / 2) < 10
    assert "from the fuzzy logic literature" in run(tmp_path, "mentions", "fuzzy logic").stdout


def test_a_mention_context_is_cut_only_where_the_line_goes_on() -> None:
    from vaultindex.mentions import CONTEXT_CHARS, find_mentions

    filler = "word " * 200
    for text in ("EWC " + filler, filler + "EWC", filler + "EWC " + filler, "short EWC line"):
        (found,) = find_mentions(text, ["EWC"])
        assert "EWC" in found.context and len(found.context) <= CONTEXT_CHARS
        assert found.context.startswith("…") == (not text.startswith("EWC") and len(text) > CONTEXT_CHARS)
        assert found.context.endswith("…") == (not text.endswith("EWC") and len(text) > CONTEXT_CHARS)


# -- 11. a NOTE argument as the shell gives it ------------------------------------------------------

def test_a_note_argument_may_be_a_path_from_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "vault"
    write(root, ".obsidian/app.json", "{}")
    write(root, "papers/Octo.md", "# Octo paper\n\n![[dino.png]] [[Other]]\n")
    write(root, "notes/Octo.md", "# Octo notes\n\n[[Other]] [[papers/Octo]]\n")
    write(root, "Other.md", "# Other\n")
    (root / "papers/img").mkdir(parents=True)
    (root / "papers/img/dino.png").write_bytes(b"\x89PNG\r\n")
    run(root, "sync")

    def first_link(*args: str) -> str:
        return json.loads(run(root, "links", *args, "--json").stdout)[0]["target"]

    monkeypatch.chdir(root / "papers")
    assert first_link("Octo.md") == "dino.png"  # the file in this folder, not "ambiguous"
    assert first_link("./Octo.md") == "dino.png"
    assert first_link("../notes/Octo.md") == "Other"
    assert first_link(str(root / "notes" / "Octo.md")) == "Other"
    assert first_link("papers/Octo.md") == "dino.png"  # a vault path still is one
    monkeypatch.chdir(root / "papers" / "img")
    sources = json.loads(run(root, "backlinks", "dino.png", "--json").stdout)
    assert [b["path"] for b in sources] == ["papers/Octo.md"]
    monkeypatch.chdir(tmp_path)  # outside the vault: names as ever
    assert [b["path"] for b in json.loads(run(root, "backlinks", "dino.png", "--json").stdout)] == ["papers/Octo.md"]
    assert "matches several notes" in run(root, "links", "Octo.md", code=1).stderr  # ambiguous, as before
