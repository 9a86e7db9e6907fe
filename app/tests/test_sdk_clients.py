"""The official MCP Python SDK clients against a running server: 1.x (`mcp[ws]==1.30.0`) over
WebSocket and over Streamable HTTP (declaring sampling, elicitation and roots, as desktop hosts do),
and 2.x over Streamable HTTP."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession
from mcp import types
from mcp.client.streamable_http import streamable_http_client
from mcp.client.websocket import websocket_client

from support.processes import REPO, TEST_TOKEN

HERE = Path(__file__).parent


async def _sdk1_roundtrip(session: ClientSession, note_id: str, content: str) -> None:
    """List, write, read back (tool, resource, prompt), progress, log level, completion."""
    init = await session.initialize()
    assert init.protocolVersion == "2025-11-25"
    assert init.serverInfo.name == "kringen-mcp-server"
    tools = {t.name for t in (await session.list_tools()).tools}
    assert {"save_note", "get_note", "list_notes", "search_notes", "delete_note", "web_search"} <= tools
    saved = await session.call_tool("save_note", {"id": note_id, "title": "From SDK 1", "content": content})
    assert not saved.isError and saved.structuredContent["id"] == note_id
    got = await session.call_tool("get_note", {"id": note_id})
    assert got.structuredContent["content"] == content
    resource = await session.read_resource(f"notes://{note_id}")
    assert content in resource.contents[0].text
    prompt = await session.get_prompt("summarize_note", {"id": note_id})
    assert prompt.messages[1].content.type == "resource"
    progress = []

    async def on_progress(value, total, message):
        progress.append(value)

    await session.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
    assert progress == [0, 50, 100]
    await session.set_logging_level("warning")
    completion = await session.complete(
        ref={"type": "ref/prompt", "name": "summarize_note"}, argument={"name": "id", "value": note_id[:4]})
    assert note_id in completion.completion.values


@pytest.mark.anyio
async def test_sdk1_websocket_client(server):
    url = server.ws_url.replace("ws://", f"ws://mcp:{TEST_TOKEN}@")
    async with websocket_client(url) as (read, write):
        async with ClientSession(read, write) as session:
            await _sdk1_roundtrip(session, "sdk1-note", "over websocket")


@pytest.mark.anyio
async def test_sdk1_streamable_http_client_declaring_what_desktop_hosts_declare(server):
    """Sampling, elicitation and roots declared (a host's callbacks): the capabilities go into the
    session record, and the server's requests to the client reach these callbacks."""
    asked = []

    async def sampling(context, params):
        asked.append("sampling")
        return types.CreateMessageResult(role="assistant", model="host-model",
                                         content=types.TextContent(type="text", text="sampled"))

    async def elicitation(context, params):
        asked.append("elicitation")
        return types.ElicitResult(action="accept", content={"name": "Host"})

    async def roots(context):
        asked.append("roots")
        return types.ListRootsResult(roots=[types.Root(uri="file:///work", name="work")])

    headers = {"Authorization": f"Bearer {TEST_TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http, \
            streamable_http_client(server.http_url, http_client=http) as (read, write, _session_id):
        async with ClientSession(read, write, sampling_callback=sampling, elicitation_callback=elicitation,
                                 list_roots_callback=roots) as session:
            await _sdk1_roundtrip(session, "sdk1-http-note", "over streamable http")
            sampled = await session.call_tool("test_sampling", {"prompt": "hi"})
            elicited = await session.call_tool("test_elicitation", {"message": "who?"})
    assert not sampled.isError and not elicited.isError, (sampled, elicited)
    assert asked[:2] == ["sampling", "elicitation"]


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
