"""MCP over WebSocket: subprotocol `mcp`, one JSON-RPC message per text frame.

The handler is a plain RequestHandler: the guards, then the handshake's rules (wire.websocket), the
101, and the transport handed over to a WebSocketConnection (ws_connection.py), which gives it each
text message as bytes. The first message decides the connection's MCP era: `initialize` begins a
2025 session; a request whose `_meta` names 2026-07-28 makes every message of the connection a
stateless one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from tornado.web import RequestHandler

from . import jsonrpc
from .auth import Challenge, Principal
from .core import Core
from .engine import Engine, is_pending
from .guards import RequestGuards
from .security import RateLimiter
from .tickets import TicketsUnavailable
from .wire import websocket
from .ws_connection import WebSocketConnection

log = logging.getLogger("mcp_server.websocket")

SUBPROTOCOL = "mcp"
TRANSPORT = "websocket"
# RFC 6455 close codes
GOING_AWAY = 1001
POLICY_VIOLATION = 1008
UNSUPPORTED_DATA = 1003
CLOSE_HANDSHAKE_SECONDS = 2.0


class McpWebSocket(RequestHandler):
    """One WebSocket connection = one MCP conversation (a 2025 session or stateless 2026-07-28)."""

    core: Core
    guards: RequestGuards
    principal: Principal  # set by the guards

    def initialize(self, core: Core, guards: RequestGuards) -> None:
        self.core = core
        self.guards = guards
        self.conversation: Engine | None = None  # chosen by the first message
        self.limiter = RateLimiter(guards.settings.rate_limit, guards.settings.rate_burst)
        self._max_depth = guards.settings.max_json_depth
        self._metrics = core.metrics
        self._closed = False
        self._close_waiter: asyncio.Future[None] | None = None  # created when draining
        self.ws: WebSocketConnection | None = None  # once upgraded

    def get(self) -> Awaitable[None] | None:
        refused = self.guards.refuse(self, websocket=True)
        if refused is True:
            return None
        if refused is not False:
            return self._get_later(refused)  # type: ignore[arg-type]
        self._upgrade()
        return None

    async def _get_later(self, refused: Awaitable[bool]) -> None:
        if not await refused:
            self._upgrade()

    def _upgrade(self) -> None:
        if self.core.draining:
            self._metrics.rejected.labels("shutting_down").inc()
            self.set_status(503)
            self.set_header("Retry-After", "1")
            self.finish("server is shutting down\n")
            return
        headers = self.request.headers
        problem = websocket.handshake_problem(headers)
        if problem is not None:
            status, message = problem
            self._metrics.rejected.labels("bad_upgrade").inc()
            self.set_status(status)
            if status == 426:
                self.set_header("Sec-WebSocket-Version", websocket.VERSION)
            self.finish(message + "\n")
            return
        self.set_status(101)
        self.set_header("Upgrade", "websocket")
        self.set_header("Connection", "Upgrade")
        self.set_header("Sec-WebSocket-Accept", websocket.accept_value(headers["Sec-WebSocket-Key"]))
        if SUBPROTOCOL in websocket.offered_subprotocols(headers):
            self.set_header("Sec-WebSocket-Protocol", SUBPROTOCOL)  # never a ticket's
        self.finish()
        settings = self.guards.settings
        self.ws = WebSocketConnection(self, settings.max_message_bytes, settings.ws_ping_seconds or None,
                                      settings.ws_ping_seconds or None)
        self._metrics.connections.labels(TRANSPORT).inc()
        self._metrics.sessions.labels(TRANSPORT).inc()
        self.core.lifecycle.needs_goodbye(self)
        self.request.connection.hand_over(self.ws)

    def close(self, code: int | None = None, reason: str = "") -> None:
        if self.ws is not None:
            self.ws.close(code, reason)

    # --- Channel ------------------------------------------------------------

    def send(self, message: dict[str, Any] | list[dict[str, Any]]) -> None:
        ws = self.ws
        if ws is None or ws.is_closing():
            return
        self._metrics.message_out(TRANSPORT, jsonrpc.message_count(message))
        ws.send_text(jsonrpc.encode(message))  # UTF-8: goes out as a text frame as it is

    def end_stream(self) -> None:
        return None  # a WebSocket has no per-request stream to end

    # --- incoming ------------------------------------------------------------

    def on_binary(self, message: bytes) -> None:
        self._metrics.message_in(TRANSPORT)
        self.close(UNSUPPORTED_DATA, "binary frames are not supported; send JSON-RPC as text")

    def on_text(self, message: bytes) -> None:
        metrics = self._metrics
        metrics.message_in(TRANSPORT)
        if not self.limiter.allow() or not self.guards.principal_allows(self.principal, self.request.remote_ip):
            metrics.error(jsonrpc.RATE_LIMITED)
            self._reject_over_limit(message)
            return
        try:
            value = jsonrpc.decode(message, self._max_depth)
            challenge = self.guards.auth.scope_challenge(self.principal, value)
            if challenge is not None:
                self._refuse(value, challenge)
                return
            conversation = self.conversation
            if conversation is None:
                conversation = self.conversation = self.core.open_for(value, self)
            reply = conversation.receive(value, self)
        except jsonrpc.JsonRpcError as exc:
            metrics.error(exc.code)
            self.send(exc.to_response())
            return
        if reply is None:
            return
        if is_pending(reply):
            reply.add_done_callback(self._answered)  # type: ignore[union-attr]
            return
        self.send(reply)  # type: ignore[arg-type]

    def _refuse(self, message: Any, challenge: Challenge) -> None:
        """A token that expired ends the connection (1008; the client reconnects with a new one);
        a missing scope refuses the request (JSON-RPC error with what the HTTP answer would carry)."""
        self._metrics.rejected.labels(challenge.reason).inc()
        if challenge.status == 401:
            self.close(POLICY_VIOLATION, "access token expired: reconnect with a new one")
            return
        request_id = message.get("id") if isinstance(message, dict) else None
        if jsonrpc.is_valid_id(request_id):
            self.send(jsonrpc.error_response(request_id, jsonrpc.FORBIDDEN, challenge.message, {
                "status": challenge.status, "error": challenge.error, "scope": challenge.scope,
                "www_authenticate": self.guards.auth.www_authenticate(challenge)}))

    def _answered(self, done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            return
        exc = done.exception()
        if exc is not None:
            log.error("request handling failed: %r", exc)
            return
        answer = done.result()
        if answer is not None:
            self.send(answer)

    def _reject_over_limit(self, message: bytes) -> None:
        # Answer a request so the client knows why; notifications are dropped (they expect no answer).
        try:
            value = jsonrpc.decode(message, self._max_depth)
        except jsonrpc.JsonRpcError:
            return
        if isinstance(value, dict) and "method" in value and jsonrpc.is_valid_id(value.get("id")):
            self.send(jsonrpc.error_response(
                value["id"], jsonrpc.RATE_LIMITED,
                f"Rate limit exceeded: at most {self.limiter.rate:g} messages per second per connection and "
                f"{self.guards.principal_limits.rate:g} per principal"))

    def on_closed(self, code: int | None, reason: str) -> None:
        self._closed = True
        if self._close_waiter is not None and not self._close_waiter.done():
            self._close_waiter.set_result(None)
        if self.conversation is not None:
            self.conversation.close()
        self._metrics.connections.labels(TRANSPORT).dec()
        self.core.lifecycle.gone(self)

    # --- shutdown (lifecycle.Goodbye) --------------------------------------------

    async def drain(self, timeout: float) -> None:
        """Let in-flight calls finish (up to timeout), close with 1001, and wait (briefly) for the
        client's closing handshake, so the close frame is on the wire before the process exits."""
        if self.conversation is not None:
            await self.conversation.settle(timeout)
        if self._closed:
            return
        self._close_waiter = asyncio.get_running_loop().create_future()
        self.close(GOING_AWAY, "server shutting down")
        try:
            await asyncio.wait_for(self._close_waiter, CLOSE_HANDSHAKE_SECONDS)
        except asyncio.TimeoutError:
            pass


class WebSocketTicket(RequestHandler):
    """POST /mcp/ticket: a single-use ticket for a WebSocket upgrade (tickets.py), for clients that
    can set no Authorization header on the upgrade (browsers, URL-only clients)."""

    principal: Principal  # set by the guards

    def initialize(self, guards: RequestGuards) -> None:
        self.guards = guards

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> Awaitable[bool] | None:
        refused = self.guards.refuse(self)
        return None if isinstance(refused, bool) else refused

    async def post(self) -> None:
        try:
            answer = await self.guards.auth.issue_ticket(self.principal)
        except TicketsUnavailable:
            self.set_status(503)
            self.set_header("Retry-After", "1")
            self.finish({"error": "temporarily_unavailable", "error_description": "the ticket store cannot be reached"})
            return
        self.finish(answer)
