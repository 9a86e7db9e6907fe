"""MCP 2026-07-28 over WebSocket: the first message decides the connection's era; the same
stateless messages as over HTTP, one per text frame; listen streams as tagged notifications."""

from __future__ import annotations

import asyncio
import json

import pytest

from support.clients import RawWebSocket, modern_params

pytestmark = pytest.mark.anyio

SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"


async def test_a_connection_that_opens_with_2026_stays_stateless(server):
    async with RawWebSocket(server.ws_url) as client:
        discover = await client.modern("server/discover")
        assert discover["result"]["resultType"] == "complete" and "ttlMs" in discover["result"]
        call = await client.modern("tools/call", {"name": "test_simple_text"})
        assert call["result"]["resultType"] == "complete"
        # The 2025 lifecycle is not part of this connection's era ...
        for method in ("initialize", "ping"):
            assert (await client.modern(method))["error"]["code"] == -32601
        # ... and every request must still carry the envelope.
        bare = await client.request("tools/list", {})
        assert bare["error"]["code"] == -32602 and "_meta" in bare["error"]["message"]


async def test_a_connection_that_opens_with_initialize_stays_a_2025_session(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        listed = await client.request("tools/list", modern_params())
        assert "resultType" not in listed["result"]  # the envelope does not switch an open session
        assert (await client.request("server/discover", modern_params()))["error"]["code"] == -32601


async def test_input_required_over_websocket(server):
    async with RawWebSocket(server.ws_url) as client:
        tool = {"name": "test_input_required_result_sampling", "arguments": {}}
        first = (await client.modern("tools/call", tool))["result"]
        assert first["resultType"] == "input_required"
        assert first["inputRequests"]["capital_question"]["method"] == "sampling/createMessage"
        answer = {"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m"}
        done = await client.modern("tools/call", {**tool, "inputResponses": {"capital_question": answer},
                                                  "requestState": first["requestState"]})
        assert done["result"]["content"][0]["text"] == "Sampled answer: Paris"


async def test_listen_over_websocket_until_cancelled(server):
    async with RawWebSocket(server.ws_url) as client, RawWebSocket(server.ws_url) as writer:
        await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen",
                                          "params": modern_params({"notifications": {
                                              "resourceSubscriptions": ["notes://ws-listened"]}})}))
        ack = await client.recv()
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["_meta"] == {SUBSCRIPTION_ID: "L"}
        await writer.modern("tools/call", {"name": "save_note", "arguments": {
            "id": "ws-listened", "title": "t", "content": "c"}})
        updated = await client.recv()
        assert updated["params"] == {"uri": "notes://ws-listened", "_meta": {SUBSCRIPTION_ID: "L"}}
        # Cancelling the listen request ends the subscription: no answer, no more notifications.
        await client.notify("notifications/cancelled", {"requestId": "L"})
        await asyncio.sleep(0.1)
        await writer.modern("tools/call", {"name": "save_note", "arguments": {
            "id": "ws-listened", "title": "t2", "content": "c2"}})
        other = await client.modern("tools/list")  # the next frame answers this, nothing came before it
        assert other["result"]["tools"] and client.notifications == []
