"""A tool call whose arguments do not fit the tool (a misspelt name, a missing one, a wrong type
or range) is an error result of one `Error:` line naming the argument and what it takes, as
the CLI says it, and the session goes on (the SDK's own client on a served copy of example_vault)."""

from __future__ import annotations

import pytest

pytest.importorskip("mcp.server.mcpserver")

import anyio

from test_mcp import result, served

pytestmark = pytest.mark.slow

CALLS = [
    ("search", {"query": "data pruning", "lmit": 3}, "search has no argument 'lmit' (did you mean 'limit'?); it takes: query, limit,"),
    ("search", {"q": "data pruning"}, "search has no argument 'q'; it takes: query, limit, tag, folder, year, author, status"),
    ("backlinks", {}, "backlinks needs the argument 'note' (A note: its vault-relative path"),
    ("search", {"query": "x", "limit": "ten"}, "'limit' of search must be a valid integer"),
    ("search", {"query": "x", "limit": 0}, "'limit' of search must be greater than or equal to 1, not 0"),
    ("related", {"note": 3}, "'note' of related must be a valid string, not 3"),
    ("tags", {"sort": "size"}, "'sort' of tags must be 'name' or 'count', not 'size'"),
    ("neighbourhood", {"note": "LoRA", "kinds": ["links"]}, "'kinds.0' of neighbourhood must be 'link', 'embed' or 'cite'"),
]


def test_wrong_arguments_are_one_clear_error_line_and_the_server_keeps_serving(example_copy):
    async def main():
        async with served(example_copy) as session:
            for tool, args, said in CALLS:
                answer = await session.call_tool(tool, args)
                assert answer.is_error, (tool, args)
                text = answer.content[0].text
                assert text.startswith("Error: " + said), text
                assert "\n" not in text and "pydantic" not in text, text
            assert (await result(session, "search", query="LoRA", limit=1))[0]["path"] == "papers/LoRA.md"

    anyio.run(main)
