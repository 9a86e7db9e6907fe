"""The official MCP Python SDK clients against a running server:
1.x (`mcp[ws]==1.30.0`) over WebSocket, and 2.x over Streamable HTTP."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.websocket import websocket_client

from support.processes import REPO, TEST_TOKEN

HERE = Path(__file__).parent


@pytest.mark.anyio
async def test_sdk1_websocket_client(server):
    url = server.ws_url.replace("ws://", f"ws://mcp:{TEST_TOKEN}@")
    async with websocket_client(url) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.protocolVersion == "2025-11-25"
            assert init.serverInfo.name == "kringen-mcp-server"
            tools = {t.name for t in (await session.list_tools()).tools}
            assert {"save_note", "get_note", "list_notes", "search_notes", "delete_note", "web_search"} <= tools
            saved = await session.call_tool("save_note", {"id": "sdk1-note", "title": "From SDK 1",
                                                          "content": "over websocket"})
            assert not saved.isError and saved.structuredContent["id"] == "sdk1-note"
            got = await session.call_tool("get_note", {"id": "sdk1-note"})
            assert got.structuredContent["content"] == "over websocket"
            resource = await session.read_resource("notes://sdk1-note")
            assert "over websocket" in resource.contents[0].text
            prompt = await session.get_prompt("summarize_note", {"id": "sdk1-note"})
            assert prompt.messages[1].content.type == "resource"
            progress = []

            async def on_progress(value, total, message):
                progress.append(value)

            await session.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
            assert progress == [0, 50, 100]
            await session.set_logging_level("warning")
            completion = await session.complete(
                ref={"type": "ref/prompt", "name": "summarize_note"}, argument={"name": "id", "value": "sdk1"})
            assert completion.completion.values == ["sdk1-note"]


def _sdk2(url: str, mode: str) -> dict:
    python = os.environ.get("MCP_SDK2_PYTHON")
    if not python:
        pytest.fail("MCP_SDK2_PYTHON is not set: `make test` creates .venv-sdk2 with the SDK 2.x client")
    out = subprocess.run([python, str(HERE / "sdk2" / "roundtrip.py"), url, TEST_TOKEN, mode],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("mode", "negotiated"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
def test_sdk2_streamable_http_client(server, mode, negotiated):
    seen = _sdk2(server.http_url, mode)
    assert seen["protocol_version"] == negotiated
    assert seen["server"] == "kringen-mcp-server"
    assert "search_notes" in seen["tools"]
    assert seen["saved"]["id"] == "sdk2-note"
    assert seen["got"]["content"] == "streamable http"
    assert seen["resource_text"].startswith("# From SDK 2")
    assert seen["prompt_roles"] == ["user", "user"]
    assert seen["progress"] == [0, 50, 100]
    assert seen["elicited"] == "Hello, SDK Two!"


def test_typescript_client_2_negotiates_2026_over_streamable_http(server):
    modules = subprocess.run(["bash", str(REPO / "hack/build/ts-client.sh")], check=True, capture_output=True,
                             text=True).stdout.strip().splitlines()[-1]
    out = subprocess.run([f"{modules}/.bin/node", str(HERE / "ts2" / "roundtrip.mjs"), modules, server.http_url,
                          TEST_TOKEN], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["era"] == "modern" and seen["protocol_version"] == "2026-07-28"
    assert seen["server"] == "kringen-mcp-server" and "search_notes" in seen["tools"]
    assert seen["saved"]["id"] == "ts2-note" and seen["resource_text"].startswith("# From TS 2")
    assert seen["elicited"] == "Hello, TS Two!"
