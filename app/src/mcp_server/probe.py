"""A one-shot MCP client for checks from inside a pod:
`python -m mcp_server.probe URL [TOOL [JSON-ARGUMENTS]]`.

Connects over WebSocket (ws://, wss://) or Streamable HTTP (http://, https://), initializes,
lists tools and optionally calls one; prints what it saw as one JSON object; exits 1 on failure.
The bearer token comes from MCP_PROBE_TOKEN, else the first line of MCP_AUTH_TOKENS_FILE.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from typing import Any

import orjson
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

PROTOCOL_VERSION = "2025-11-25"
INIT = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "mcp_server.probe", "version": "1"}}


class ProbeError(Exception):
    pass


def token() -> str | None:
    if os.environ.get("MCP_PROBE_TOKEN"):
        return os.environ["MCP_PROBE_TOKEN"]
    path = os.environ.get("MCP_AUTH_TOKENS_FILE")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    return line.strip()
    return None


def _headers(bearer: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer}"} if bearer else {}


def _result(method: str, reply: dict[str, Any]) -> dict[str, Any]:
    if "error" in reply:
        raise ProbeError(f"{method}: JSON-RPC error {reply['error'].get('code')}: {reply['error'].get('message')}")
    return reply["result"]


class WebSocketSession:
    def __init__(self, url: str, bearer: str | None):
        self.url, self.bearer, self.ids = url, bearer, itertools.count(1)
        self.conn: Any = None

    async def open(self) -> None:
        request = HTTPRequest(self.url, headers=_headers(self.bearer), connect_timeout=10, request_timeout=10)
        try:
            self.conn = await websocket_connect(request, subprotocols=["mcp"])
        except HTTPClientError as exc:
            raise ProbeError(f"WebSocket upgrade refused: HTTP {exc.code}") from None

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        rid = next(self.ids)
        await self.conn.write_message(orjson.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                                    "params": params or {}}).decode())
        while True:
            frame = await asyncio.wait_for(self.conn.read_message(), 30)
            if frame is None:
                raise ProbeError(f"{method}: connection closed (code {self.conn.close_code})")
            reply = orjson.loads(frame)
            if reply.get("id") == rid:
                return _result(method, reply)

    async def notify(self, method: str) -> None:
        await self.conn.write_message(orjson.dumps({"jsonrpc": "2.0", "method": method}).decode())

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close(1000)


class HttpSession:
    def __init__(self, url: str, bearer: str | None):
        self.url, self.bearer, self.ids = url, bearer, itertools.count(1)
        self.session_id: str | None = None
        self.client = AsyncHTTPClient()

    async def open(self) -> None:
        return None

    async def _post(self, body: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   **_headers(self.bearer)}
        if self.session_id:
            headers.update({"Mcp-Session-Id": self.session_id, "MCP-Protocol-Version": PROTOCOL_VERSION})
        try:
            return await self.client.fetch(HTTPRequest(self.url, method="POST", headers=headers,
                                                       body=orjson.dumps(body), request_timeout=30))
        except HTTPClientError as exc:
            raise ProbeError(f"{body.get('method')}: HTTP {exc.code}") from None

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        rid = next(self.ids)
        response = await self._post({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}})
        if method == "initialize":
            self.session_id = response.headers.get("Mcp-Session-Id")
        if response.headers.get("Content-Type", "").startswith("text/event-stream"):
            for line in response.body.decode().splitlines():
                if line.startswith("data:") and line[5:].strip():
                    reply = orjson.loads(line[5:])
                    if reply.get("id") == rid:
                        return _result(method, reply)
            raise ProbeError(f"{method}: no response in the event stream")
        return _result(method, orjson.loads(response.body))

    async def notify(self, method: str) -> None:
        await self._post({"jsonrpc": "2.0", "method": method})

    async def close(self) -> None:
        self.client.close()


async def probe(url: str, tool: str | None, arguments: dict[str, Any]) -> dict[str, Any]:
    session = WebSocketSession(url, token()) if url.startswith(("ws://", "wss://")) else HttpSession(url, token())
    await session.open()
    try:
        init = await session.request("initialize", INIT)
        await session.notify("notifications/initialized")
        tools = [t["name"] for t in (await session.request("tools/list"))["tools"]]
        seen: dict[str, Any] = {"url": url, "protocol_version": init["protocolVersion"],
                                "server": init["serverInfo"], "tools": tools}
        if tool:
            seen["result"] = await session.request("tools/call", {"name": tool, "arguments": arguments})
            if seen["result"].get("isError"):
                raise ProbeError(f"tool {tool} failed: {seen['result']['content'][0].get('text')}")
        return seen
    finally:
        await session.close()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    url, tool = argv[0], (argv[1] if len(argv) > 1 else None)
    arguments = orjson.loads(argv[2]) if len(argv) > 2 else {}
    try:
        seen = asyncio.run(probe(url, tool, arguments))
    except (ProbeError, OSError, asyncio.TimeoutError) as exc:
        print(orjson.dumps({"url": url, "error": str(exc) or type(exc).__name__}).decode())
        return 1
    print(orjson.dumps(seen).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
