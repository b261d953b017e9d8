"""`vaultindex mcp` end to end: the SDK's own client starts the server as a subprocess on a temp
copy of example_vault, lists its tools, calls each one and compares with the CLI's --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

pytest.importorskip("mcp.server.mcpserver")

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from conftest import REPO

pytestmark = pytest.mark.slow

ENV = {**os.environ, "PYTHONPATH": str(REPO)}
READ_TOOLS = {
    "search", "read_note", "backlinks", "links", "mentions", "related", "unresolved", "orphans", "path", "rank",
    "tags", "doctor", "neighbourhood", "info",
}
WRITE_TOOLS = {"create_note", "append_to_note", "add_tag"}


@asynccontextmanager
async def served(vault: Path, *args: str):
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "vaultindex", "--vault", str(vault), "mcp", *args], env=ENV, cwd=str(REPO)
    )
    with open(vault.parent / "server.log", "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


def cli(vault: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vaultindex", "--vault", str(vault), *args], capture_output=True, text=True, env=ENV
    )


def cli_json(vault: Path, *args: str):
    proc = cli(vault, *args, "--json")
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def cli_error(vault: Path, *args: str) -> str:
    proc = cli(vault, *args)
    assert proc.returncode == 1
    return [line for line in proc.stderr.splitlines() if line.startswith("Error:")][0]


async def result(session: ClientSession, tool: str, **arguments):
    answer = await session.call_tool(tool, arguments)
    assert not answer.is_error, answer.content[0].text
    assert answer.content[0].text.strip()  # a short text form for the model
    assert isinstance(answer.structured_content["index"]["generation"], int)  # how fresh it is
    return answer.structured_content["result"]


def test_lists_read_only_tools_and_each_answers_like_the_cli(example_copy):
    calls = [
        ("search", {"query": "data pruning"}, ["search", "data pruning"]),
        ("search", {"query": "scaling", "tag": "ml/vision", "year": ">2020", "limit": 3},
         ["search", "scaling tag:ml/vision year:>2020", "-n", "3"]),
        ("backlinks", {"note": "Beyond neural scaling laws"}, ["backlinks", "Beyond neural scaling laws"]),
        ("links", {"note": "LoRA"}, ["links", "LoRA"]),
        ("mentions", {"note": "LoRA"}, ["mentions", "LoRA"]),
        ("related", {"note": "LoRA", "limit": 5}, ["related", "LoRA", "-n", "5"]),
        ("unresolved", {"kind": "paper"}, ["unresolved", "--kind", "paper"]),
        ("orphans", {}, ["orphans"]),
        ("path", {"source": "LoRA", "target": "SimCLR"}, ["path", "LoRA", "SimCLR"]),
        ("rank", {"limit": 5, "by": "in"}, ["rank", "-n", "5", "--by", "in"]),
        ("tags", {"sort": "count", "notes": True}, ["tags", "--sort", "count", "--notes"]),
        ("doctor", {}, ["doctor"]),
    ]

    async def main():
        async with served(example_copy) as session:
            tools = (await session.list_tools()).tools
            names = {t.name for t in tools}
            assert names == READ_TOOLS
            for t in tools:
                assert len(t.description) > 40, t.name
                assert t.input_schema["type"] == "object"
                assert t.annotations.read_only_hint is True
            search = next(t for t in tools if t.name == "search")
            assert {"query", "limit", "tag", "year", "folder", "author"} <= set(search.input_schema["properties"])
            for tool, args, command in calls:
                assert await result(session, tool, **args) == cli_json(example_copy, *command), tool

            # The notes of one tag are the entry of `tags --json --notes` for it.
            ml = await result(session, "tags", tag="ml/vision")
            assert ml in cli_json(example_copy, "tags", "--notes")
            # The neighbourhood is `graph -f json --around`.
            around = await result(session, "neighbourhood", note="LoRA", depth=1, kinds=["link"])
            proc = cli(example_copy, "graph", "-f", "json", "--around", "LoRA", "--depth", "1", "--kinds", "link", "-o", "-")
            assert around == json.loads(proc.stdout)
            info = await result(session, "info")
            assert info["notes"] == 39 and info["watching"] is True and info["watcher"] == "this server"
            assert info["last_sync"]

            # Search hits carry their best section; read_note returns just that part.
            hit = (await result(session, "search", query="catastrophic forgetting"))[0]
            section = hit["section"]
            assert section["path"][-1] == section["heading"] and section["start_line"] <= section["end_line"]
            part = await result(session, "read_note", note=hit["path"], heading=" > ".join(section["path"]))
            lines = (example_copy / hit["path"]).read_text(encoding="utf-8").split("\n")
            assert part["text"].split("\n")[0] == lines[section["start_line"] - 1]
            assert "catastrophic forgetting" in part["text"].lower()
            whole = await result(session, "read_note", note="Data pruning beats scaling laws")  # an alias
            assert whole["path"] == "papers/Beyond neural scaling laws.md"
            assert whole["frontmatter"]["year"] == 2022 and not whole["text"].startswith("---")
            assert whole["text"].startswith("# Beyond neural scaling laws")

    anyio.run(main)


def test_bad_input_is_an_error_result_with_the_cli_message_and_the_session_goes_on(example_copy, tmp_path):
    async def main():
        async with served(example_copy) as session:
            for tool, args, command in [
                ("backlinks", {"note": "No such paper"}, ["backlinks", "No such paper"]),
                ("search", {"query": '"unbalanced'}, ["search", '"unbalanced']),
                ("search", {"query": "colour:red"}, ["search", "colour:red"]),
                ("path", {"source": "LoRA", "target": "nothing here"}, ["path", "LoRA", "nothing here"]),
            ]:
                answer = await session.call_tool(tool, args)
                assert answer.is_error
                assert answer.content[0].text == cli_error(example_copy, *command)
            answer = await session.call_tool("read_note", {"note": "LoRA", "heading": "No such heading"})
            assert answer.is_error and "no heading" in answer.content[0].text
            answer = await session.call_tool("tags", {"tag": "no-such-tag"})
            assert answer.is_error and answer.content[0].text.startswith("Error: ")
            answer = await session.call_tool("search", {"query": "x", "limit": 0})  # refused by the schema
            assert answer.is_error
            assert (await result(session, "search", query="LoRA"))[0]["path"] == "papers/LoRA.md"  # still serving

        missing = tmp_path / "not-a-vault"
        async with served(missing) as session:
            answer = await session.call_tool("search", {"query": "x"})
            assert answer.is_error and answer.content[0].text == cli_error(missing, "search", "x")
            answer = await session.call_tool("info", {})
            assert answer.is_error

    anyio.run(main)


def test_an_edit_in_an_editor_shows_in_the_next_search(example_copy):
    note = example_copy / "papers" / "LoRA.md"

    async def main():
        async with served(example_copy) as session:
            before = await session.call_tool("search", {"query": "zorblax"})
            assert before.structured_content["result"] == []
            generation = before.structured_content["index"]["generation"]
            # An editor's atomic save: a temporary file renamed onto the note.
            tmp = note.with_name(".LoRA.md.tmp")
            tmp.write_text(note.read_text(encoding="utf-8") + "\nA zorblax adapter, added in the editor.\n", encoding="utf-8")
            os.replace(tmp, note)
            saved = time.monotonic()
            while True:
                answer = await session.call_tool("search", {"query": "zorblax"})
                hits = answer.structured_content["result"]
                if hits or time.monotonic() - saved > 3:
                    break
                await anyio.sleep(0.05)
            waited = time.monotonic() - saved
            assert [h["path"] for h in hits] == ["papers/LoRA.md"]
            assert waited < 2.0, f"took {waited:.2f} s"
            assert answer.structured_content["index"]["generation"] > generation
            assert hits[0]["section"]["heading"] in ("Notes", "LoRA") or hits[0]["section"]["snippet"].startswith("A zorblax")

    anyio.run(main)


def test_stdout_carries_only_protocol_messages(example_copy):
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "LoRA"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "backlinks", "arguments": {"note": "?"}}},
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vaultindex", "--vault", str(example_copy), "mcp"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    out_lines = []
    try:
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            if "id" in message:
                out_lines.append(proc.stdout.readline())
        rest, err = proc.communicate(timeout=60)  # closes stdin: the client is gone
    finally:
        if proc.poll() is None:
            proc.kill()
    out_lines += rest.splitlines()
    parsed = [json.loads(line) for line in out_lines if line.strip()]
    assert [m.get("id") for m in parsed] == [1, 2, 3]
    assert all(m["jsonrpc"] == "2.0" for m in parsed)
    assert parsed[2]["result"]["isError"] is True
    assert "Watching" in err  # logs go to stderr
    assert proc.returncode == 0


def test_write_tools_only_with_the_flag_stay_inside_the_vault_and_are_indexed_at_once(example_copy, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (example_copy / "escape").symlink_to(outside, target_is_directory=True)
    (example_copy / "papers" / "linked.md").symlink_to(outside / "target.md")
    original = (example_copy / "papers" / "SimCLR.md").read_bytes()

    async def main():
        async with served(example_copy) as session:
            names = {t.name for t in (await session.list_tools()).tools}
            assert not names & WRITE_TOOLS
            answer = await session.call_tool("create_note", {"path": "x.md"})
            assert answer.is_error

        async with served(example_copy, "--allow-write") as session:
            names = {t.name for t in (await session.list_tools()).tools}
            assert names >= WRITE_TOOLS
            for path in ["../evil.md", "papers/../../evil.md", str(outside / "abs.md"), "escape/evil.md",
                         "papers/linked.md", ".obsidian/evil.md", "papers/SimCLR.md"]:
                answer = await session.call_tool("create_note", {"path": path, "body": "pwned"})
                assert answer.is_error, path
                assert answer.content[0].text.startswith("Error: ")
            assert list(outside.iterdir()) == [] and not (tmp_path / "evil.md").exists()
            assert (example_copy / "papers" / "SimCLR.md").read_bytes() == original  # never overwritten

            created = await result(
                session, "create_note", path="papers/Quokka paper", template="Paper note template",
                frontmatter={"title": "Quokka: a marsupial benchmark", "year": 2025, "tags": ["marsupials"]},
                body="The quokka benchmark measures smiles. See [[LoRA]].",
            )
            assert created["path"] == "papers/Quokka paper.md" and created["indexed"] is True
            text = (example_copy / "papers" / "Quokka paper.md").read_text(encoding="utf-8")
            assert "## Key ideas" in text and "year: 2025" in text and "{{" not in text.split("---")[1]
            # In the index at once: no waiting for the watcher's next batch.
            hits = await result(session, "search", query="quokka smiles")
            assert hits[0]["path"] == "papers/Quokka paper.md"
            backlinks = await result(session, "backlinks", note="LoRA")
            assert "papers/Quokka paper.md" in [b["path"] for b in backlinks]

            tagged = await result(session, "add_tag", note="Quokka: a marsupial benchmark", tag="#zoo/oceania")
            assert "zoo/oceania" in tagged["tags"] and "marsupials" in tagged["tags"]
            again = await result(session, "add_tag", note="papers/Quokka paper.md", tag="zoo/oceania")
            assert again["changed"] is False
            answer = await session.call_tool("add_tag", {"note": "LoRA", "tag": "two words"})
            assert answer.is_error

            await result(session, "append_to_note", note="LoRA", text="- Wombat follow-up idea.")
            assert (example_copy / "papers" / "LoRA.md").read_text(encoding="utf-8").endswith("- Wombat follow-up idea.\n")
            assert (await result(session, "search", query="wombat"))[0]["path"] == "papers/LoRA.md"
            answer = await session.call_tool("append_to_note", {"note": "papers/linked.md", "text": "x"})
            assert answer.is_error

        assert cli_json(example_copy, "tags", "--notes")  # the CLI reads what the server wrote
        assert "papers/Quokka paper.md" in next(t for t in cli_json(example_copy, "tags", "--notes") if t["tag"] == "zoo")["notes"]

    anyio.run(main)


def test_reads_the_live_index_of_a_running_watch(example_copy):
    watch = subprocess.Popen(
        [sys.executable, "-m", "vaultindex", "--vault", str(example_copy), "watch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    try:
        for line in watch.stderr:
            if "Watching" in line:
                break

        async def main():
            async with served(example_copy) as session:
                info = await result(session, "info")
                assert info["watching"] is True and info["watcher"].startswith("another process")
                (example_copy / "papers" / "New capybara note.md").write_text("# Capybara\n\nCapybaras everywhere.\n")
                saved = time.monotonic()
                hits = []
                while not hits and time.monotonic() - saved < 3:
                    hits = (await session.call_tool("search", {"query": "capybaras"})).structured_content["result"]
                    await anyio.sleep(0.05)
                assert [h["path"] for h in hits] == ["papers/New capybara note.md"]
                assert time.monotonic() - saved < 2.0

        anyio.run(main)
    finally:
        watch.terminate()
        watch.wait(timeout=20)


def test_readme_registers_the_server_as_this_test_starts_it():
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    config = json.loads(next(b for b in re.findall(r"```json\n(.*?)\n```", readme, re.S) if "mcpServers" in b))
    server = next(iter(config["mcpServers"].values()))
    assert server["command"] == "vaultindex"
    assert server["args"][0] == "--vault" and server["args"][2:] == ["mcp"]  # as served() runs it
    section = readme.split("### For AI assistants: `vaultindex mcp`")[1].split("\n## ")[0]
    named = set(re.findall(r"^\| (.+?) \|", section, re.M)) - {"tool", "---"}
    tools = {t.strip("` ") for cell in named for t in cell.split(",")}
    assert tools == READ_TOOLS | WRITE_TOOLS


def test_without_the_sdk_the_command_says_how_to_install_it(example_copy):
    code = (
        "import sys; sys.modules['mcp'] = None; from vaultindex.cli import main; "
        f"sys.argv = ['vaultindex', '--vault', {str(example_copy)!r}, 'mcp']; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == (
        "Error: `vaultindex mcp` needs the MCP SDK (mcp 2.3 or later): install it with pip install 'vaultindex[mcp]'"
    )
