"""Hostile and broken input: every message gets the right answer, and other sessions keep being served."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed

from support.clients import RawHttp, RawWebSocket

pytestmark = pytest.mark.anyio

MALFORMED = [
    ("{", -32700),
    ('{"jsonrpc": "2.0", "id": 1, "method": "ping"', -32700),
    ("[]", -32600),
    ("42", -32600),
    ('"ping"', -32600),
    ('{"jsonrpc": "1.0", "id": 1, "method": "ping"}', -32600),
    ('{"jsonrpc": "2.0", "id": null, "method": "ping"}', -32600),
    ('{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}', -32600),
    ('{"jsonrpc": "2.0", "id": 1, "method": ["ping"]}', -32600),
    ('{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "no/such"}', -32601),
    ('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "nope"}}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_note", "arguments": []}}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": 5}}', -32602),
    ('{"jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": {"ref": {"type": "x"},'
     ' "argument": {"name": "a", "value": ""}}}', -32602),
    ("[" * 100 + "]" * 100, -32700),
    ('{"a":' * 100 + "1" + "}" * 100, -32700),
]


async def test_each_malformed_message_gets_its_error_and_the_session_survives(server):
    async with RawWebSocket(server.ws_url) as bad, RawWebSocket(server.ws_url) as good:
        await bad.initialize()
        await good.initialize()
        for raw, code in MALFORMED:
            await bad.send_raw(raw)
            reply = await bad.recv()
            assert reply["error"]["code"] == code, (raw[:60], reply)
            assert reply["error"]["message"]
        assert (await bad.request("ping"))["result"] == {}
        assert (await good.call("test_simple_text", {}))["content"]


async def test_flood_is_rate_limited_and_others_unaffected(make_server):
    server = make_server(MCP_RATE_LIMIT="50", MCP_RATE_BURST="100", MCP_CONFORMANCE_FIXTURES="true")
    server.wait_ready()
    async with RawWebSocket(server.ws_url) as flood, RawWebSocket(server.ws_url) as good:
        await flood.initialize()
        await good.initialize()
        count = 1000
        for i in range(count):
            await flood.send_raw(json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}))
        codes = {"ok": 0, "limited": 0}
        for _ in range(count):
            reply = await flood.recv()
            if "result" in reply:
                codes["ok"] += 1
            else:
                assert reply["error"]["code"] == -32000 and "Rate limit" in reply["error"]["message"]
                codes["limited"] += 1
        # The burst (100, less the 2 messages of the handshake) plus what refills while we send.
        assert codes["limited"] > count // 2 and 95 <= codes["ok"] < count // 2
        # The other session was never limited.
        for _ in range(20):
            assert (await good.call("test_simple_text", {}))["content"]


async def test_oversized_frame_only_closes_that_connection(make_server):
    server = make_server(MCP_MAX_MESSAGE_BYTES="4096", MCP_CONFORMANCE_FIXTURES="true")
    server.wait_ready()
    async with RawWebSocket(server.ws_url, max_size=None) as big, RawWebSocket(server.ws_url) as good:
        await big.initialize()
        await good.initialize()
        await big.send_raw("x" * 100_000)
        with pytest.raises(ConnectionClosed) as closed:
            await big.recv()
        assert closed.value.rcvd.code == 1009
        assert (await good.call("test_simple_text", {}))["content"]


async def test_http_malformed_bodies(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        for raw, code in MALFORMED:
            if raw.startswith("["):
                continue  # arrays are batches over HTTP; covered below
            response = await client.post(raw)
            body = response.json()
            if response.status_code == 200:
                assert body["error"]["code"] == code, (raw[:60], body)
            else:
                assert response.status_code == 400 and body["error"]["code"] == code, (raw[:60], body)
        batch = await client.post("[]")
        assert batch.status_code == 400 and "batches" in batch.json()["error"]["message"]
        response, messages = await client.request("ping")
        assert messages[0]["result"] == {}
