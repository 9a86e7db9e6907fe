"""Interchangeable replicas: two server processes on one MongoDB-wire database serve the same
2025-11-25 Streamable HTTP session; it ends everywhere, expires on time, and an unreachable
store is a 503, never a 404."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from websockets.exceptions import ConnectionClosed

from support.clients import INIT_PARAMS, ModernHttp, RawHttp, RawWebSocket, SseReader
from support.processes import FerretDB, McpServerProcess

pytestmark = pytest.mark.anyio

CACHE_SECONDS = 0.5


@pytest.fixture
def replicas(mongodb_uri):
    database = f"r_{uuid.uuid4().hex[:8]}"
    procs = [McpServerProcess(mongodb_uri, database, MCP_CONFORMANCE_FIXTURES="true", MCP_RATE_LIMIT="0",
                              MCP_SESSION_CACHE_SECONDS=str(CACHE_SECONDS), MCP_SESSION_IDLE_SECONDS="4").start()
             for _ in range(2)]
    for proc in procs:
        proc.wait_ready()
    yield procs
    for proc in procs:
        proc.stop()


async def _post(client: RawHttp, url: str, message: dict):
    client.url = url
    return await client.post(message)


async def test_a_session_created_on_one_replica_is_served_and_ended_by_the_other(replicas):
    a, b = replicas
    async with RawHttp(a.http_url) as client:
        await client.initialize()
        level = await _post(client, b.http_url, {"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel",
                                                 "params": {"level": "info"}})
        assert level.status_code == 200 and level.json()["result"] == {}
        # The log level set through B holds on A: A streams the tool's log messages.
        await asyncio.sleep(CACHE_SECONDS + 0.1)
        logged = await _post(client, a.http_url, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                  "params": {"name": "test_tool_with_logging", "arguments": {}}})
        assert logged.headers["Content-Type"].startswith("text/event-stream") and logged.text.count("notifications/message") == 3
        for replica in (a, b, a, b):
            called = await _post(client, replica.http_url, {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                                                            "params": {"name": "test_simple_text"}})
            assert called.status_code == 200 and called.json()["result"]["content"], called.text
        ended = await client.client.delete(b.http_url, headers=client.headers())
        assert ended.status_code == 204
        await asyncio.sleep(CACHE_SECONDS + 0.1)
        for replica in (a, b):
            gone = await _post(client, replica.http_url, {"jsonrpc": "2.0", "id": 4, "method": "ping"})
            assert gone.status_code == 404, (replica.port, gone.text)


async def test_a_session_expires_on_time_everywhere_and_a_forged_id_is_unknown(replicas):
    a, b = replicas
    async with RawHttp(a.http_url) as client:
        await client.initialize()
        assert (await _post(client, b.http_url, {"jsonrpc": "2.0", "id": 1, "method": "ping"})).status_code == 200
        await asyncio.sleep(4.5)  # the idle window (MCP_SESSION_IDLE_SECONDS=4) passes with no request
        for replica in (a, b):
            assert (await _post(client, replica.http_url, {"jsonrpc": "2.0", "id": 2, "method": "ping"})).status_code == 404
        client.session_id = "forged-" + "x" * 36
        assert (await _post(client, b.http_url, {"jsonrpc": "2.0", "id": 3, "method": "ping"})).status_code == 404


async def test_an_active_session_outlives_the_idle_window(replicas):
    a, b = replicas
    async with RawHttp(a.http_url) as client:
        await client.initialize()
        for step in range(6):  # 6 s in all, with a request every second: longer than the 4 s idle window
            await asyncio.sleep(1)
            replica = (a, b)[step % 2]
            assert (await _post(client, replica.http_url, {"jsonrpc": "2.0", "id": step, "method": "ping"})).status_code == 200


async def test_an_unreachable_session_store_is_503_not_404():
    ferret = FerretDB().start()
    server = McpServerProcess(ferret.uri, "r_down", MONGODB_TIMEOUT_MS="500", MCP_SESSION_CACHE_SECONDS="0").start()
    try:
        server.wait_ready()
        async with RawHttp(server.http_url) as client:
            await client.initialize()
            assert (await client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})).status_code == 200
            ferret.stop()
            down = await client.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
            assert down.status_code == 503 and "unreachable" in down.json()["error"]["message"]
            assert down.headers["Retry-After"] == "1"
    finally:
        server.stop()
        ferret.stop()


async def test_a_websocket_client_carries_on_at_another_replica_after_a_1001(replicas):
    a, b = replicas
    async with RawWebSocket(a.ws_url) as modern, RawWebSocket(a.ws_url) as legacy:
        assert (await modern.modern("tools/call", {"name": "test_simple_text"}))["result"]["resultType"] == "complete"
        await legacy.initialize()
        a.terminate()
        for client in (modern, legacy):
            with pytest.raises(ConnectionClosed) as closed:
                await client.recv(timeout=15)
            assert closed.value.rcvd.code == 1001
    # 2026-07-28: nothing to restore, the next request just goes to the other replica ...
    async with RawWebSocket(b.ws_url) as modern:
        assert (await modern.modern("tools/call", {"name": "test_simple_text"}))["result"]["resultType"] == "complete"
    # ... a 2025 client initializes again.
    async with RawWebSocket(b.ws_url) as legacy:
        assert (await legacy.request("tools/list"))["error"]["code"] == -32600  # no session on a new connection
        await legacy.initialize()
        assert (await legacy.call("test_simple_text", {}))["content"]


async def test_a_change_made_on_one_replica_reaches_subscribers_on_the_other(replicas):
    a, b = replicas
    uri = "notes://shared-change"
    async with RawHttp(b.http_url) as legacy, ModernHttp(a.http_url) as writer:
        await legacy.initialize()
        await legacy.request("resources/subscribe", {"uri": uri})
        async with legacy.client.stream("GET", b.http_url, headers=legacy.headers(Accept="text/event-stream")) as get:
            events = SseReader(get)
            await writer.result("tools/call", {"name": "save_note", "arguments": {
                "id": "shared-change", "title": "t", "content": "written on A"}})
            updated = await events.next()
    assert updated == {"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}}


async def test_an_answer_to_the_server_may_reach_another_replica(replicas):
    """A 2025 client's answer to an elicitation asked by A, POSTed to B, reaches the call on A."""
    a, b = replicas
    async with RawHttp(a.http_url) as client:
        await client.initialize()
        body = {"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                "params": {"name": "test_input_required_result_elicitation", "arguments": {}}}
        async with client.client.stream("POST", a.http_url, content=json.dumps(body),
                                        headers=client.headers()) as stream:
            events = SseReader(stream)
            asked = await events.next()
            assert asked["method"] == "elicitation/create"
            answer = await _post(client, b.http_url, {"jsonrpc": "2.0", "id": asked["id"], "result": {
                "action": "accept", "content": {"name": "Across", "a.b": 1, "$x": 2}}})  # keys no field may have
            assert answer.status_code == 202
            final = await events.next(10)
    assert final["id"] == 8 and final["result"]["content"][0]["text"] == "Hello, Across!"


# Keys a client may choose that MongoDB and FerretDB refuse as field names (dotted, `$`-prefixed, empty):
# the MCP Inspector and desktop hosts declare extensions under dotted names.
CHOSEN_BY_CLIENTS = {
    "roots": {"listChanged": True}, "sampling": {}, "elicitation": {"form": {}, "url": {}},
    "extensions": {"io.modelcontextprotocol/tasks": {}, "io.modelcontextprotocol/skills": {},
                   "io.modelcontextprotocol/ui": {"mimeTypes": ["text/html;profile=mcp-app"]}},
    "$vendor": {"a.b": [1, {"$c": None}]}, "": {"": ""}}


async def test_a_session_declaring_extensions_is_opened_and_served_by_the_other_replica(replicas):
    """Issue 22: the Inspector's initialize (extensions under dotted names) was answered 503 'the
    session store is unreachable' and told to retry for ever."""
    a, b = replicas
    params = {**INIT_PARAMS, "capabilities": CHOSEN_BY_CLIENTS,
              "clientInfo": {"name": "inspector.like", "version": "2.12.0", "$meta": {"x.y": 1}}}
    async with RawHttp(a.http_url) as client:
        opened = await client.initialize(params)
        assert opened.status_code == 200, opened.text
        called = await _post(client, b.http_url, {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                                                  "params": {"name": "test_simple_text"}})
        assert called.status_code == 200 and called.json()["result"]["content"], called.text


async def test_a_session_record_reads_back_exactly_what_the_client_sent(mongodb_uri):
    from pymongo import AsyncMongoClient

    from mcp_server.session_records import MongoSessionRecords, SessionRecord
    client = AsyncMongoClient(mongodb_uri)
    try:
        records = MongoSessionRecords(client[f"r_{uuid.uuid4().hex[:8]}"]["mcp_sessions"])
        record = SessionRecord("s1", "2025-11-25", CHOSEN_BY_CLIENTS, {"name": "x", "a.b": {"$c": [1.5, "é"]}},
                               None, ("note://a.b",), time.time() + 60, "static-token")
        await records.create(record)
        assert await records.load("s1") == record
        await records.update("s1", client_capabilities={"$changed": {"d.e": True}})
        assert (await records.load("s1")).client_capabilities == {"$changed": {"d.e": True}}
    finally:
        await client.close()


async def test_a_record_the_store_refuses_is_a_500_not_a_503_to_retry(make_server):
    """A write refused for its data is not an outage: no Retry-After, no invitation to send it again."""
    server = make_server(MCP_MAX_MESSAGE_BYTES=str(32 * 1024 * 1024))  # room for a record over 16 MiB
    server.wait_ready()
    params = {**INIT_PARAMS, "capabilities": {"experimental": {"big": "x" * (17 * 1024 * 1024)}}}
    async with RawHttp(server.http_url) as client:
        refused = await client.initialize(params)
    assert refused.status_code == 500 and "Retry-After" not in refused.headers
    assert "the session store refused the session record" in refused.json()["error"]["message"]
