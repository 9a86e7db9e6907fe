"""SIGTERM: readiness drops at once, in-flight calls finish, WebSockets close with 1001, exit well inside 30 s."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from support.clients import ModernHttp, RawWebSocket, SseReader, modern_params

pytestmark = pytest.mark.anyio


async def test_drain_then_close_with_1001(make_server):
    server = make_server(MCP_DRAIN_SECONDS="1", MCP_CONFORMANCE_FIXTURES="true")
    server.wait_ready()
    async with RawWebSocket(server.ws_url) as idle, RawWebSocket(server.ws_url) as busy:
        await idle.initialize()
        await busy.initialize()
        # A call in flight when SIGTERM arrives: test_sampling waits for our answer.
        await busy.send_raw(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                        "params": {"name": "test_sampling", "arguments": {"prompt": "p"}}}))
        sampling = await busy.recv()
        started = time.monotonic()
        server.terminate()
        # During the drain window the session is still served ...
        await asyncio.sleep(0.3)
        assert (await idle.request("ping"))["result"] == {}
        # ... but the listener is closed, so no new connection gets in (readiness is gone with it).
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"{server.base}/ready")
        await busy.send_raw(json.dumps({"jsonrpc": "2.0", "id": sampling["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "done"}, "model": "m"}}))
        answer = await busy.recv()
        assert answer["id"] == 1 and answer["result"]["content"][0]["text"] == "LLM response: done"
        for client in (idle, busy):
            with pytest.raises(ConnectionClosed) as closed:
                await client.recv(timeout=10)
            assert closed.value.rcvd.code == 1001
    exit_code = await asyncio.to_thread(server.proc.wait, 20)
    assert exit_code == 0
    assert time.monotonic() - started < 15


async def test_in_flight_call_finishes_before_close(make_server):
    server = make_server(MCP_DRAIN_SECONDS="0", MCP_CONFORMANCE_FIXTURES="true", MCP_SHUTDOWN_TIMEOUT_SECONDS="5")
    server.wait_ready()
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "test_wait", "arguments": {"seconds": 1}, "_meta": {"progressToken": "t"}}}))
        # Its first progress notification says the call is running: only then the signal.
        assert (await client.recv())["method"] == "notifications/progress"
        server.terminate()
        frames = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frames.append(await client.recv(timeout=10))
        assert closed.value.rcvd.code == 1001
        assert any(f.get("id") == 7 and f["result"]["content"][0]["text"] == "waited 1 s" for f in frames), frames
    assert await asyncio.to_thread(server.proc.wait, 20) == 0


async def test_busy_connection_still_gets_a_clean_1001(make_server):
    server = make_server(MCP_DRAIN_SECONDS="0.5", MCP_CONFORMANCE_FIXTURES="true", MCP_RATE_LIMIT="0")
    server.wait_ready()
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        server.terminate()
        with pytest.raises(ConnectionClosed) as closed:
            for i in range(100000):
                await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                                                  "params": {"name": "test_simple_text", "arguments": {}}}))
                await client.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert await asyncio.to_thread(server.proc.wait, 20) == 0


async def test_listen_streams_end_with_their_result_when_the_server_drains(make_server):
    server = make_server(MCP_DRAIN_SECONDS="0.5")
    server.wait_ready()
    async with ModernHttp(server.http_url) as client:
        params = modern_params({"notifications": {"resourceSubscriptions": ["notes://x"]}})
        body = {"jsonrpc": "2.0", "id": 9, "method": "subscriptions/listen", "params": params}
        async with client.client.stream("POST", server.http_url, content=json.dumps(body),
                                        headers=client.headers_for("subscriptions/listen", params)) as stream:
            events = SseReader(stream)
            assert (await events.next())["method"] == "notifications/subscriptions/acknowledged"
            server.terminate()
            messages = [await events.next(15)]
            assert messages[-1] == {"jsonrpc": "2.0", "id": 9, "result": {
                "resultType": "complete", "_meta": {"io.modelcontextprotocol/subscriptionId": 9,
                                                    "io.modelcontextprotocol/serverInfo": messages[-1]["result"][
                                                        "_meta"]["io.modelcontextprotocol/serverInfo"]}}}
    assert await asyncio.to_thread(server.proc.wait, 20) == 0
