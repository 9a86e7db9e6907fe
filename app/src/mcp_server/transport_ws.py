"""MCP over WebSocket: subprotocol `mcp`, one JSON-RPC message per text frame."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from . import jsonrpc
from .guards import RequestGuards
from .security import RateLimiter
from .session import Core, Session

log = logging.getLogger("mcp_server.websocket")

SUBPROTOCOL = "mcp"
TRANSPORT = "websocket"
# RFC 6455 close codes
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
POLICY_VIOLATION = 1008
TOO_BIG = 1009
TEXT_OPCODE = 0x1
CLOSE_HANDSHAKE_SECONDS = 2.0


class McpWebSocket(WebSocketHandler):
    """One WebSocket connection = one MCP session."""

    core: Core
    guards: RequestGuards

    def initialize(self, core: Core, guards: RequestGuards) -> None:
        self.core = core
        self.guards = guards
        self.session: Session | None = None
        self.limiter = RateLimiter(guards.settings.rate_limit, guards.settings.rate_burst)
        self._max_depth = guards.settings.max_json_depth
        self._metrics = core.metrics
        self._closed = False
        self._close_waiter: asyncio.Future[None] | None = None  # created when draining
        self._write_frame: Callable[..., Any] | None = None

    # Not a coroutine itself: Tornado awaits what it returns, and the connection's whole receive
    # loop runs under this frame, so an extra coroutine here would be resumed on every frame read.
    def get(self, *args: Any, **kwargs: Any) -> Awaitable[None] | None:  # type: ignore[override]
        if self.guards.refuse(self, websocket=True):
            return None
        if self.core.shutting_down:
            self._metrics.rejected.labels("shutting_down").inc()
            self.set_status(503)
            self.set_header("Retry-After", "1")
            self.finish("server is shutting down\n")
            return None
        return super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        return self.guards.hosts.origin_allowed(origin)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)
        # write_message() wraps every write in a new task so that its future may be awaited; we never
        # await it, so frames go straight to the protocol's frame writer when this Tornado has one
        # and no compression was negotiated (the IOStream already consumes write errors).
        connection = self.ws_connection
        writer = getattr(connection, "_write_frame", None)
        self._write_frame = writer if writer is not None and getattr(connection, "_compressor", None) is None else None
        self.session = self.core.open_session(TRANSPORT, self)
        self._metrics.connections.labels(TRANSPORT).inc()
        self._metrics.sessions.labels(TRANSPORT).inc()
        self.guards.websockets.add(self)

    # --- Channel ------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            return
        self._metrics.message_out(TRANSPORT)
        data = jsonrpc.encode(message)  # UTF-8: goes out as a text frame as it is
        try:
            if self._write_frame is not None:
                self._write_frame(True, TEXT_OPCODE, data)
            else:
                self.write_message(data)
        except (WebSocketClosedError, StreamClosedError):
            pass

    # --- incoming ------------------------------------------------------------

    def on_message(self, message: str | bytes) -> None:
        metrics = self._metrics
        metrics.message_in(TRANSPORT)
        if isinstance(message, bytes):
            self.close(UNSUPPORTED_DATA, "binary frames are not supported; send JSON-RPC as text")
            return
        if not self.limiter.allow():
            metrics.error(jsonrpc.RATE_LIMITED)
            self._reject_over_limit(message)
            return
        try:
            value = jsonrpc.decode(message, self._max_depth)
        except jsonrpc.JsonRpcError as exc:
            metrics.error(exc.code)
            self.send(exc.to_response())
            return
        if isinstance(value, list):
            self._batch(value)
            return
        self._receive(value)

    def _receive(self, value: Any) -> None:
        session = self.session
        assert session is not None
        try:
            pending = session.receive(value, self)
        except jsonrpc.JsonRpcError as exc:
            self._metrics.error(exc.code)
            self.send(exc.to_response())
            return
        if pending is None:
            return
        if isinstance(pending, dict):  # answered at once
            self.send(pending)
            return
        pending.add_done_callback(self._answered)

    def _answered(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("request handling failed: %r", exc)
            return
        response = task.result()
        if response is not None:
            self.send(response)

    def _batch(self, values: list[Any]) -> None:
        session = self.session
        assert session is not None
        if session.protocol_version != "2025-03-26" or not values:
            self._metrics.error(jsonrpc.INVALID_REQUEST)
            self.send(jsonrpc.error_response(
                None, jsonrpc.INVALID_REQUEST,
                "Invalid Request: JSON-RPC batches are only accepted in protocol version 2025-03-26"))
            return
        for value in values:
            self._receive(value)

    def _reject_over_limit(self, message: str) -> None:
        # Answer a request so the client knows why; notifications are dropped (they expect no answer).
        try:
            value = jsonrpc.decode(message, self._max_depth)
        except jsonrpc.JsonRpcError:
            return
        if isinstance(value, dict) and "method" in value and jsonrpc.is_valid_id(value.get("id")):
            self.send(jsonrpc.error_response(
                value["id"], jsonrpc.RATE_LIMITED,
                f"Rate limit exceeded: at most {self.limiter.rate:g} messages per second per connection"))

    def on_close(self) -> None:
        self._closed = True
        if self._close_waiter is not None and not self._close_waiter.done():
            self._close_waiter.set_result(None)
        if self.session is not None:
            self.session.close()
            self._metrics.connections.labels(TRANSPORT).dec()
        self.guards.websockets.discard(self)

    # --- shutdown ------------------------------------------------------------

    async def drain(self, timeout: float) -> None:
        """Let in-flight calls finish (up to timeout), close with 1001, and wait (briefly) for the
        client's closing handshake, so the close frame is on the wire before the process exits."""
        if self.session is not None and self.session.inflight:
            await asyncio.wait(list(self.session.inflight.values()), timeout=timeout)
        if self._closed:
            return
        self._close_waiter = asyncio.get_running_loop().create_future()
        self.close(GOING_AWAY, "server shutting down")
        try:
            await asyncio.wait_for(self._close_waiter, CLOSE_HANDSHAKE_SECONDS)
        except asyncio.TimeoutError:
            pass
