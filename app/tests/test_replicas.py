"""Interchangeable replicas: two server processes on one MongoDB-wire database serve the same
2025-11-25 Streamable HTTP session; it ends everywhere, expires on time, and an unreachable
store is a 503, never a 404."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from websockets.exceptions import ConnectionClosed

from support.clients import ModernHttp, RawHttp, RawWebSocket, SseReader
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
                "action": "accept", "content": {"name": "Across"}}})
            assert answer.status_code == 202
            final = await events.next(10)
    assert final["id"] == 8 and final["result"]["content"][0]["text"] == "Hello, Across!"
