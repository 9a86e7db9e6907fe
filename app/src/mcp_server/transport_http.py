"""MCP Streamable HTTP (protocol 2025-11-25) on /mcp: POST, GET (SSE), DELETE.

A POST carrying a request is answered with plain JSON when the answer is all
there is to send; if the server has to send anything else first (progress, log
messages, a sampling or elicitation request), the response turns into an SSE
stream that carries those messages and ends with the answer.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from typing import Any

from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

from . import jsonrpc
from .guards import RequestGuards
from .security import RateLimiter
from .session import SUPPORTED_PROTOCOL_VERSIONS, Core, NullChannel, Session

log = logging.getLogger("mcp_server.http")

TRANSPORT = "streamable_http"
SESSION_HEADER = "Mcp-Session-Id"
VERSION_HEADER = "MCP-Protocol-Version"
SSE_KEEPALIVE_SECONDS = 15.0
SSE_RETRY_MS = 1000
MAX_STORED_EVENTS = 1000
MAX_STORED_STREAMS = 32


class SseChannel:
    """The messages of one SSE stream, kept (up to MAX_STORED_EVENTS) so that a client that lost
    the stream can resume it with Last-Event-ID. Writers follow it with a cursor."""

    def __init__(self, stream_id: str):
        self.stream_id = stream_id
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.sequence = 0
        self.finished = False  # no more messages will come
        self.detached = False  # the server asked to end the live HTTP stream (client resumes later)
        self._waiters: list[asyncio.Future[None]] = []

    def send(self, message: dict[str, Any]) -> None:
        if self.finished:
            return
        self.sequence += 1
        self.events.append((self.sequence, message))
        if len(self.events) > MAX_STORED_EVENTS:
            del self.events[: len(self.events) - MAX_STORED_EVENTS]
        self.wake()

    def finish(self, last: dict[str, Any] | None = None) -> None:
        if last is not None:
            self.send(last)
        self.finished = True
        self.wake()

    def detach(self) -> None:
        self.detached = True
        self.wake()

    def wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def after(self, sequence: int) -> list[tuple[int, dict[str, Any]]]:
        return [event for event in self.events if event[0] > sequence]

    async def changed(self, timeout: float | None = None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            pass

    def event_id(self, sequence: int) -> str:
        return f"{self.stream_id}.{sequence}"


async def settled(pending: Any) -> dict[str, Any] | None:
    """The response of Session.receive: given at once, or awaited."""
    if pending is None or isinstance(pending, dict):
        return pending
    return await pending


class HttpSession:
    """A Streamable HTTP session: the MCP session plus its transport state."""

    def __init__(self, session_id: str, session: Session, limiter: RateLimiter):
        self.session_id = session_id
        self.session = session
        self.limiter = limiter
        self.get_stream: SseChannel | None = None
        self.streams: OrderedDict[str, SseChannel] = OrderedDict()

    def keep(self, channel: SseChannel) -> None:
        """Remember a stream so that it can be resumed; the oldest are forgotten."""
        self.streams[channel.stream_id] = channel
        while len(self.streams) > MAX_STORED_STREAMS:
            self.streams.popitem(last=False)


class HttpSessions:
    """Live Streamable HTTP sessions by id; ends idle ones."""

    def __init__(self, core: Core, guards: RequestGuards):
        self.core = core
        self.guards = guards
        self._sessions: dict[str, HttpSession] = {}

    def create(self) -> HttpSession:
        session_id = secrets.token_urlsafe(32)
        settings = self.guards.settings
        http_session = HttpSession(session_id, self.core.open_session(TRANSPORT),
                                   RateLimiter(settings.rate_limit, settings.rate_burst))
        self._sessions[session_id] = http_session
        self.core.metrics.connections.labels(TRANSPORT).inc()
        self.core.metrics.sessions.labels(TRANSPORT).inc()
        return http_session

    def get(self, session_id: str) -> HttpSession | None:
        return self._sessions.get(session_id)

    def end(self, session_id: str) -> bool:
        http_session = self._sessions.pop(session_id, None)
        if http_session is None:
            return False
        http_session.session.close()
        if http_session.get_stream is not None:
            http_session.get_stream.finish()
        self.core.metrics.connections.labels(TRANSPORT).dec()
        return True

    def end_idle(self) -> int:
        cutoff = time.monotonic() - self.guards.settings.session_idle_seconds
        idle = [sid for sid, s in self._sessions.items()
                if s.session.last_seen < cutoff and not s.session.inflight and s.get_stream is None]
        for session_id in idle:
            self.end(session_id)
        return len(idle)

    def end_all(self) -> None:
        for session_id in list(self._sessions):
            self.end(session_id)

    def __len__(self) -> int:
        return len(self._sessions)


class StreamableHttp(RequestHandler):
    def initialize(self, core: Core, guards: RequestGuards, sessions: HttpSessions) -> None:
        self._get_channel: SseChannel | None = None
        self.core = core
        self.guards = guards
        self.sessions = sessions
        self.settings_ = guards.settings

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        if self.guards.refuse(self):
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.settings_.max_message_bytes:
            self._error(413, jsonrpc.INVALID_REQUEST,
                        f"Payload Too Large: messages are limited to {self.settings_.max_message_bytes} bytes")

    # --- helpers -------------------------------------------------------------

    def _error(self, status: int, code: int, message: str, request_id: Any = None) -> None:
        self.core.metrics.error(code)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(jsonrpc.encode(jsonrpc.error_response(request_id, code, message)))

    def _accepts(self, *types: str) -> bool:
        accept = self.request.headers.get("Accept", "")
        offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        if "*/*" in offered:
            return True
        return all(t in offered or f"{t.split('/')[0]}/*" in offered for t in types)

    def _session_for(self) -> HttpSession | None:
        """The session the request names; writes 400/404 and returns None when there is none."""
        session_id = self.request.headers.get(SESSION_HEADER)
        if not session_id:
            self._error(400, jsonrpc.INVALID_REQUEST, f"Bad Request: the {SESSION_HEADER} header is required")
            return None
        http_session = self.sessions.get(session_id)
        if http_session is None:
            self._error(404, jsonrpc.INVALID_REQUEST, "Not Found: session ended or unknown; initialize a new one")
            return None
        version = self.request.headers.get(VERSION_HEADER)
        if version is not None and version not in SUPPORTED_PROTOCOL_VERSIONS:
            self._error(400, jsonrpc.INVALID_REQUEST,
                        f"Bad Request: unsupported {VERSION_HEADER} {version!r}; "
                        f"supported: {', '.join(SUPPORTED_PROTOCOL_VERSIONS)}")
            return None
        return http_session

    def _write_event(self, channel: SseChannel, sequence: int, message: dict[str, Any] | None) -> None:
        data = b"" if message is None else jsonrpc.encode(message)
        self.write(b"id: " + channel.event_id(sequence).encode() + b"\ndata: " + data + b"\n\n")
        if message is not None:
            self.core.metrics.message_out(TRANSPORT)

    def _write_priming(self, channel: SseChannel) -> None:
        """retry, and an event with an id and no data: the client can resume from here."""
        self.write(f"retry: {SSE_RETRY_MS}\n".encode())
        self._write_event(channel, 0, None)

    async def _follow(self, channel: SseChannel, sequence: int, keepalive: float | None = None) -> int:
        """Write the channel's events after `sequence` as they come, until it finishes or detaches."""
        while True:
            for seq, message in channel.after(sequence):
                self._write_event(channel, seq, message)
                sequence = seq
            await self.flush()
            if channel.finished or channel.detached or self.core.shutting_down:
                return sequence
            before = channel.sequence
            await channel.changed(keepalive)
            if keepalive is not None and channel.sequence == before and not (channel.finished or channel.detached):
                self.write(b": keep-alive\n\n")

    def _start_sse(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache, no-transform")
        self.set_header("X-Accel-Buffering", "no")

    # --- POST ----------------------------------------------------------------

    async def post(self) -> None:
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._error(415, jsonrpc.INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json")
            return
        if not self._accepts("application/json", "text/event-stream"):
            self._error(406, jsonrpc.INVALID_REQUEST,
                        "Not Acceptable: Accept must list application/json and text/event-stream")
            return
        try:
            message = jsonrpc.decode(self.request.body, self.settings_.max_json_depth)
        except jsonrpc.JsonRpcError as exc:
            self._error(400, exc.code, exc.message)
            return
        self.core.metrics.message_in(TRANSPORT)
        if isinstance(message, dict) and message.get("method") == "initialize" and "id" in message:
            await self._initialize(message)
            return
        http_session = self._session_for()
        if http_session is None:
            return
        if not http_session.limiter.allow():
            self.set_header("Retry-After", "1")
            self._error(429, jsonrpc.RATE_LIMITED,
                        f"Too Many Requests: at most {http_session.limiter.rate:g} messages per second per session")
            return
        if isinstance(message, list):
            await self._batch(http_session, message)
            return
        await self._one(http_session, message)

    async def _initialize(self, message: dict[str, Any]) -> None:
        if self.core.shutting_down:
            self.set_header("Retry-After", "1")
            self._error(503, jsonrpc.SHUTTING_DOWN, "Service Unavailable: server is shutting down")
            return
        http_session = self.sessions.create()
        try:
            response = await settled(http_session.session.receive(message, NullChannel()))
        except jsonrpc.JsonRpcError as exc:
            response = exc.to_response()
        if response is None or "error" in response:
            self.sessions.end(http_session.session_id)
            self.set_status(400)
        else:
            self.set_header(SESSION_HEADER, http_session.session_id)
        self.set_header("Content-Type", "application/json")
        self.core.metrics.message_out(TRANSPORT)
        self.finish(jsonrpc.encode(response))

    async def _one(self, http_session: HttpSession, message: Any) -> None:
        channel = SseChannel(secrets.token_hex(6))
        try:
            pending = http_session.session.receive(message, channel)
        except jsonrpc.JsonRpcError as exc:
            self._error(400, exc.code, exc.message, exc.request_id)
            return
        if pending is None:
            self.set_status(202)
            self.finish()
            return
        if isinstance(pending, dict):  # answered at once
            channel.finish(pending)
        else:
            task = asyncio.ensure_future(pending)
            task.add_done_callback(lambda done: channel.finish(None if done.cancelled() else done.result()))
            await channel.changed()
        if channel.finished and channel.sequence <= 1:
            # The answer is all there is: plain JSON.
            response = channel.events[0][1] if channel.events else None
            if response is None:  # cancelled by the client
                self.set_status(202)
                self.finish()
                return
            self.set_header("Content-Type", "application/json")
            self.core.metrics.message_out(TRANSPORT)
            self.finish(jsonrpc.encode(response))
            return
        # Something comes before the answer (progress, logs, a request to the client): stream it.
        http_session.keep(channel)
        self._start_sse()
        self._write_priming(channel)
        try:
            await self._follow(channel, 0)
            self.finish()
        except StreamClosedError:
            pass  # the call still runs to completion (disconnect is not cancel); its events stay resumable

    async def _batch(self, http_session: HttpSession, messages: list[Any]) -> None:
        if http_session.session.protocol_version != "2025-03-26" or not messages:
            self._error(400, jsonrpc.INVALID_REQUEST,
                        "Invalid Request: JSON-RPC batches are only accepted in protocol version 2025-03-26")
            return
        channel = SseChannel(secrets.token_hex(6))
        waits = []
        errors = []
        for message in messages:
            try:
                pending = http_session.session.receive(message, channel)
            except jsonrpc.JsonRpcError as exc:
                errors.append(exc.to_response())
                continue
            if pending is not None:
                waits.append(settled(pending))
        responses = errors + [r for r in await asyncio.gather(*waits) if r is not None]
        if not responses:
            self.set_status(202)
            self.finish()
            return
        self.set_header("Content-Type", "application/json")
        self.finish(jsonrpc.encode(responses))

    # --- GET: the server-to-client stream -----------------------------------------

    async def get(self) -> None:
        if not self._accepts("text/event-stream"):
            self._error(406, jsonrpc.INVALID_REQUEST, "Not Acceptable: Accept must list text/event-stream")
            return
        http_session = self._session_for()
        if http_session is None:
            return
        last_event = self.request.headers.get("Last-Event-ID")
        if last_event:
            await self._resume(http_session, last_event)
            return
        if http_session.get_stream is not None and not http_session.get_stream.finished:
            self._error(409, jsonrpc.INVALID_REQUEST, "Conflict: this session already has a GET stream open")
            return
        channel = SseChannel(secrets.token_hex(6))
        self._get_channel = channel
        http_session.get_stream = channel
        http_session.keep(channel)
        http_session.session.outbox = channel
        self._start_sse()
        self._write_priming(channel)
        try:
            await self._follow(channel, 0, keepalive=SSE_KEEPALIVE_SECONDS)
            self.finish()
        except StreamClosedError:
            pass
        finally:
            if http_session.get_stream is channel:
                channel.finish()
                http_session.get_stream = None
                http_session.session.outbox = NullChannel()

    async def _resume(self, http_session: HttpSession, last_event: str) -> None:
        """Replay a stream after Last-Event-ID, then follow it until its answer."""
        stream_id, _sep, sequence = last_event.strip().rpartition(".")
        channel = http_session.streams.get(stream_id)
        if channel is None or not sequence.isdigit():
            self._error(404, jsonrpc.INVALID_REQUEST, "Not Found: no stream to resume with that Last-Event-ID")
            return
        self._start_sse()
        self.write(f"retry: {SSE_RETRY_MS}\n".encode())
        try:
            channel.detached = False
            await self._follow(channel, int(sequence), keepalive=SSE_KEEPALIVE_SECONDS)
            self.finish()
        except StreamClosedError:
            pass

    def on_connection_close(self) -> None:
        # Wake a GET stream waiting for messages so it notices the client left.
        channel = self._get_channel
        if channel is not None:
            channel.finish()

    # --- DELETE ----------------------------------------------------------------

    def delete(self) -> None:
        http_session = self._session_for()
        if http_session is None:
            return
        self.sessions.end(http_session.session_id)
        self.set_status(204)
        self.finish()
