"""MCP over WebSocket against a running server and a real FerretDB."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from support.clients import INIT_PARAMS, RawWebSocket
from support.processes import TEST_TOKEN

pytestmark = pytest.mark.anyio


async def test_subprotocol_is_echoed(server):
    async with RawWebSocket(server.ws_url) as client:
        assert client.ws.subprotocol == "mcp"


async def test_initialize_negotiates_versions(server):
    for requested, expected in [("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"),
                                ("2024-11-05", "2024-11-05"), ("1999-01-01", "2025-11-25")]:
        async with RawWebSocket(server.ws_url) as client:
            reply = await client.request("initialize", {**INIT_PARAMS, "protocolVersion": requested})
            result = reply["result"]
            assert result["protocolVersion"] == expected
            assert result["serverInfo"]["name"] == "kringen-mcp-server"
            assert {"tools", "resources", "prompts", "logging", "completions"} <= set(result["capabilities"])


async def test_requests_before_initialize_are_refused_but_ping_works(server):
    async with RawWebSocket(server.ws_url) as client:
        assert (await client.request("ping"))["result"] == {}
        reply = await client.request("tools/list")
        assert reply["error"]["code"] == -32600 and "initialize" in reply["error"]["message"]


async def test_second_initialize_is_refused(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        reply = await client.request("initialize", INIT_PARAMS)
        assert reply["error"]["code"] == -32600


async def test_errors_use_jsonrpc_codes(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        assert (await client.request("no/such/method"))["error"]["code"] == -32601
        unknown = await client.request("tools/call", {"name": "no_such_tool", "arguments": {}})
        assert unknown["error"]["code"] == -32602 and "no_such_tool" in unknown["error"]["message"]
        assert (await client.request("tools/call", {"arguments": {}}))["error"]["code"] == -32602
        assert (await client.request("resources/read", {"uri": "test://missing"}))["error"]["code"] == -32002
        assert (await client.request("logging/setLevel", {"level": "loud"}))["error"]["code"] == -32602
        assert (await client.request("tools/list", {"cursor": "garbage!"}))["error"]["code"] == -32602
        await client.send_raw("{not json")
        parse = await client.recv()
        assert parse["error"]["code"] == -32700 and parse["id"] is None
        await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": 5}))
        assert (await client.recv())["error"]["code"] == -32600


async def test_invalid_arguments_are_a_tool_error(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        result = await client.call("get_note", {"id": 42})
        assert result["isError"] is True
        assert "Invalid arguments for tool get_note" in result["content"][0]["text"]
        assert "arguments.id" in result["content"][0]["text"]


async def test_tool_failure_is_an_iserror_result(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        result = await client.call("test_error_handling", {})
        assert result["isError"] is True and result["content"][0]["type"] == "text"


async def test_pagination_walks_every_tool(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        names, cursor = [], None
        while True:
            reply = await client.request("tools/list", {"cursor": cursor} if cursor else {})
            names += [t["name"] for t in reply["result"]["tools"]]
            cursor = reply["result"].get("nextCursor")
            if cursor is None:
                break
        assert len(names) == len(set(names)) >= 20
        assert {"save_note", "search_notes", "web_search", "test_simple_text"} <= set(names)


async def test_tools_have_schemas_and_annotations(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        tools = {t["name"]: t for t in (await client.request("tools/list"))["result"]["tools"]}
        save = tools["save_note"]
        assert save["inputSchema"]["type"] == "object" and save["outputSchema"]["type"] == "object"
        assert save["annotations"]["destructiveHint"] is True
        assert tools["get_note"]["annotations"]["readOnlyHint"] is True
        assert tools["web_search"]["annotations"]["openWorldHint"] is True


async def test_no_log_messages_before_the_client_asks(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        await client.call("test_tool_with_logging", {})
        assert not [n for n in client.notifications if n["method"] == "notifications/message"]


async def test_progress_and_logging_notifications(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        await client.request("logging/setLevel", {"level": "debug"})
        await client.call("test_tool_with_progress", {}, _meta={"progressToken": "tok-7"})
        progress = [n for n in client.notifications if n["method"] == "notifications/progress"]
        assert [p["params"]["progress"] for p in progress] == [0, 50, 100]
        assert all(p["params"]["progressToken"] == "tok-7" for p in progress)
        client.notifications.clear()
        await client.call("test_tool_with_logging", {})
        logs = [n for n in client.notifications if n["method"] == "notifications/message"]
        assert len(logs) == 3
        await client.request("logging/setLevel", {"level": "error"})
        client.notifications.clear()
        await client.call("test_tool_with_logging", {})
        assert not [n for n in client.notifications if n["method"] == "notifications/message"]


async def test_cancellation_stops_the_call_and_sends_no_response(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": "slow", "method": "tools/call",
                                          "params": {"name": "test_sampling", "arguments": {"prompt": "x"}}}))
        sampling = await client.recv()
        assert sampling["method"] == "sampling/createMessage"
        await client.notify("notifications/cancelled", {"requestId": "slow", "reason": "user gave up"})
        # Answering ping proves the server goes on; nothing must arrive for "slow".
        reply = await client.request("ping")
        assert reply["result"] == {}
        with pytest.raises(asyncio.TimeoutError):
            await client.recv(timeout=0.5)


async def test_sampling_round_trip_over_websocket(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                                          "params": {"name": "test_sampling", "arguments": {"prompt": "hi"}}}))
        sampling = await client.recv()
        await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": sampling["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "hello from the model"}, "model": "m"}}))
        reply = await client.recv()
        assert reply["id"] == 9
        assert reply["result"]["content"][0]["text"] == "LLM response: hello from the model"


async def test_batch_only_for_2025_03_26(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        await client.send_raw(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]))
        assert (await client.recv())["error"]["code"] == -32600
    async with RawWebSocket(server.ws_url) as client:
        await client.request("initialize", {**INIT_PARAMS, "protocolVersion": "2025-03-26"})
        await client.send_raw(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                          {"jsonrpc": "2.0", "id": 2, "method": "ping"}]))
        answers = await client.recv_any()  # a batch is answered with one array of responses
        ids = {answer["id"] for answer in answers}
        assert ids == {1, 2}
        # A batch with a request that has to wait is answered when all of it is done.
        await client.send_raw(json.dumps([{"jsonrpc": "2.0", "id": 3, "method": "ping"},
                                          {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                                           "params": {"name": "test_wait", "arguments": {"seconds": 0.05}}}]))
        answers = await client.recv_any()
        assert sorted(answer["id"] for answer in answers) == [3, 4]


async def test_binary_frame_closes_with_1003(server):
    async with RawWebSocket(server.ws_url) as client:
        await client.send_raw(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
        assert closed.value.rcvd.code == 1003


async def test_oversized_frame_closes_with_1009(make_server):
    small = make_server(MCP_MAX_MESSAGE_BYTES="2048")
    small.wait_ready()
    async with RawWebSocket(small.ws_url, max_size=None) as client:
        await client.initialize()
        await client.send_raw(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "a" * 4096}}))
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
        assert closed.value.rcvd.code == 1009


def _send_huge_frame(port: int, size: int) -> tuple[bool, bytes]:
    """Open a WebSocket by hand, send one text frame of `size` bytes, read the server's first frame:
    (whether the whole frame could be sent, what came back)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n"
                      f"Authorization: Bearer {TEST_TOKEN}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101"), head
        try:
            sock.sendall(bytes([0x81, 0xFF]) + struct.pack("!Q", size) + os.urandom(4) + b"x" * size)
            sent = True
        except OSError:
            sent = False
        received = b""
        try:
            while len(received) < 4 and (chunk := sock.recv(65536)):
                received += chunk
        except OSError:
            pass
        return sent, received


async def test_a_frame_far_over_the_limit_still_gets_a_readable_1009(make_server):
    # 8 MiB against the default 1 MiB: closing the socket with the rest of the frame unread would make
    # the kernel answer with a reset; the server reads and drops the rest, so the client reads the 1009.
    server = make_server()
    server.wait_ready()
    for _ in range(3):
        sent, received = await asyncio.to_thread(_send_huge_frame, server.port, 8 * 1024 * 1024)
        assert sent, "the server reset the connection before the client finished sending"
        assert received[:1] == b"\x88" and struct.unpack("!H", received[2:4])[0] == 1009, received[:16]


async def test_upgrade_refused_without_token(server):
    with pytest.raises(InvalidStatus) as refused:
        async with RawWebSocket(server.ws_url, token=None):
            pass
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as wrong:
        async with RawWebSocket(server.ws_url, token="wrong-token-wrong-token"):
            pass
    assert wrong.value.response.status_code == 401


async def test_token_in_url_credentials_works(server):
    url = server.ws_url.replace("ws://", f"ws://mcp:{TEST_TOKEN}@")
    async with websockets.connect(url, subprotocols=["mcp"]) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        assert json.loads(await ws.recv())["result"] == {}


async def test_bad_origin_and_host_refused(server):
    with pytest.raises(InvalidStatus) as origin:
        async with RawWebSocket(server.ws_url, origin="http://evil.example.com"):
            pass
    assert origin.value.response.status_code == 403
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "mcp",
               "Authorization": f"Bearer {TEST_TOKEN}"}
    async with httpx.AsyncClient() as http:
        bad = await http.get(server.http_url, headers={**upgrade, "Host": "evil.example.com"})
        good = await http.get(server.http_url, headers={**upgrade, "Host": f"localhost:{server.port}"})
    assert bad.status_code == 421
    assert good.status_code == 101
