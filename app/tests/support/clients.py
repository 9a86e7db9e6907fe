"""Small raw clients for protocol tests (the official SDK clients are used in test_sdk_clients.py)."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx
import websockets

from .processes import TEST_TOKEN

PROTOCOL = "2025-11-25"
CLIENT_CAPABILITIES = {"sampling": {}, "elicitation": {}, "roots": {"listChanged": True}}
INIT_PARAMS = {"protocolVersion": PROTOCOL, "capabilities": CLIENT_CAPABILITIES,
               "clientInfo": {"name": "raw-test", "version": "1"}}


MODERN = "2026-07-28"
NAME_FIELD = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


def modern_params(params: dict[str, Any] | None = None, capabilities: dict[str, Any] | None = None,
                  **meta: Any) -> dict[str, Any]:
    """Request params with the 2026-07-28 `_meta` envelope (extra `_meta` keys by keyword)."""
    envelope = {"io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": CLIENT_CAPABILITIES if capabilities is None else capabilities,
                "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "1"}, **meta}
    return {**(params or {}), "_meta": envelope}


class RawWebSocket:
    """A WebSocket MCP client that shows every frame the server sends."""

    def __init__(self, url: str, token: str | None = TEST_TOKEN, subprotocols: tuple[str, ...] = ("mcp",),
                 **connect: Any):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.subprotocols = list(subprotocols)
        self.connect_args = connect
        self.ws: Any = None
        self.ids = itertools.count(1)
        self.notifications: list[dict[str, Any]] = []

    async def __aenter__(self) -> RawWebSocket:
        self.ws = await websockets.connect(self.url, subprotocols=self.subprotocols, additional_headers=self.headers,
                                           **self.connect_args)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.ws.close()

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        message = await self.recv_any(timeout)
        assert isinstance(message, dict), message
        return message

    async def recv_any(self, timeout: float = 10) -> Any:
        """The next frame's JSON value (an object, or a batch's array)."""
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def request(self, method: str, params: dict[str, Any] | None = None, request_id: Any = None) -> dict[str, Any]:
        rid = next(self.ids) if request_id is None else request_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        await self.ws.send(json.dumps(message))
        while True:
            reply = await self.recv()
            if reply.get("id") == rid and ("result" in reply or "error" in reply):
                return reply
            self.notifications.append(reply)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.ws.send(json.dumps(message))

    async def initialize(self) -> dict[str, Any]:
        reply = await self.request("initialize", INIT_PARAMS)
        await self.notify("notifications/initialized")
        return reply

    async def call(self, tool: str, arguments: dict[str, Any], **params: Any) -> dict[str, Any]:
        reply = await self.request("tools/call", {"name": tool, "arguments": arguments, **params})
        assert "result" in reply, reply
        return reply["result"]

    async def modern(self, method: str, params: dict[str, Any] | None = None, request_id: Any = None,
                     **meta: Any) -> dict[str, Any]:
        """A 2026-07-28 request (the `_meta` envelope on it); the reply."""
        return await self.request(method, modern_params(params, **meta), request_id)


class ModernHttp:
    """A 2026-07-28 Streamable HTTP client: every request stands alone, headers as SEP-2243 says."""

    def __init__(self, url: str, token: str | None = TEST_TOKEN):
        self.url = url
        self.client = httpx.AsyncClient(timeout=20)
        self.token = token
        self.ids = itertools.count(1)

    async def __aenter__(self) -> ModernHttp:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.aclose()

    def headers_for(self, method: str, params: dict[str, Any]) -> dict[str, str]:
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
                   "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
        if method in NAME_FIELD and isinstance(params.get(NAME_FIELD[method]), str):
            headers["Mcp-Name"] = params[NAME_FIELD[method]]
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def post(self, method: str, params: dict[str, Any] | None = None, *, envelope: bool = True,
                   headers: dict[str, str | None] | None = None, request_id: Any = None,
                   **meta: Any) -> tuple[httpx.Response, list[dict[str, Any]]]:
        """POST one request; headers given as None are left out. Returns the response and its messages."""
        body_params = modern_params(params, **meta) if envelope else (params or {})
        message = {"jsonrpc": "2.0", "id": next(self.ids) if request_id is None else request_id,
                   "method": method, "params": body_params}
        sent = self.headers_for(method, body_params)
        for name, value in (headers or {}).items():
            sent.pop(name, None)
            if value is not None:
                sent[name] = value
        response = await self.client.post(self.url, content=json.dumps(message), headers=sent)
        return response, messages_of(response)

    async def result(self, method: str, params: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
        response, messages = await self.post(method, params, **meta)
        assert response.status_code == 200 and "result" in messages[-1], (response.status_code, messages)
        return messages[-1]["result"]


class RawHttp:
    """A Streamable HTTP client with full control over headers."""

    def __init__(self, url: str, token: str | None = TEST_TOKEN):
        self.url = url
        self.client = httpx.AsyncClient(timeout=20)
        self.base_headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if token:
            self.base_headers["Authorization"] = f"Bearer {token}"
        self.session_id: str | None = None
        self.ids = itertools.count(1)

    async def __aenter__(self) -> RawHttp:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.aclose()

    def headers(self, **extra: str) -> dict[str, str]:
        headers = dict(self.base_headers)
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
            headers["MCP-Protocol-Version"] = PROTOCOL
        headers.update(extra)
        return headers

    async def post(self, body: Any, **headers: str) -> httpx.Response:
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return await self.client.post(self.url, content=content, headers=self.headers(**headers))

    async def initialize(self, params: dict[str, Any] | None = None) -> httpx.Response:
        response = await self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params or INIT_PARAMS})
        self.session_id = response.headers.get("Mcp-Session-Id")
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return response

    async def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[httpx.Response, list[dict]]:
        """POST a request; return the response and the JSON-RPC messages it carried (JSON or SSE)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self.ids), "method": method}
        if params is not None:
            message["params"] = params
        response = await self.post(message)
        return response, messages_of(response)


class SseReader:
    """Reads the JSON-RPC messages of a streamed SSE response one at a time."""

    def __init__(self, response: httpx.Response):
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> dict[str, Any]:
        async for line in self._lines:
            if line.startswith("data:") and line[5:].strip():
                return json.loads(line[5:])
        raise AssertionError("the stream ended")


def messages_of(response: httpx.Response) -> list[dict[str, Any]]:
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("application/json"):
        return [response.json()]
    if kind.startswith("text/event-stream"):
        return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return []
