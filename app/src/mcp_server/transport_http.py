"""MCP Streamable HTTP on /mcp, both eras on one endpoint.

A POST names its era by its `MCP-Protocol-Version` header and its body's `_meta`
(`http_era`): a 2026-07-28 request stands alone (no session, POST only); anything else follows
the 2025-11-25 rules (initialize mints an `Mcp-Session-Id`; GET opens the session's stream;
DELETE ends it). Either way a request is answered with plain JSON when the answer is all there
is to send, and with an SSE stream when something (progress, log messages, a 2025 request to
the client) comes first.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable
from typing import Any

from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

from . import jsonrpc, sse
from .auth import Principal
from .core import Core
from .engine import Reply, is_pending, settled
from .guards import RequestGuards
from .http_headers import VERSION_HEADER, check_routing_headers, check_version_header
from .http_sessions import GET_STREAM_PREFIX, HttpSession, HttpSessions, new_stream_id
from .mcp2025 import SUPPORTED_PROTOCOL_VERSIONS as SESSION_VERSIONS
from .mcp2026 import META_PROTOCOL_VERSION, RequestMeta, Stateless, unsupported_version
from .mcp2026 import SUPPORTED_PROTOCOL_VERSIONS as MODERN_VERSIONS
from .security import RateLimiter
from .session_records import RecordsError, RecordsUnavailable
from .sse import SseChannel

log = logging.getLogger("mcp_server.http")

TRANSPORT = "streamable_http"
SESSION_HEADER = "Mcp-Session-Id"
SSE_KEEPALIVE_SECONDS = 15.0
# HTTP status of a JSON error answer in the 2026-07-28 era (the 2025 era answers 200).
MODERN_ERROR_STATUS = {
    jsonrpc.PARSE_ERROR: 400, jsonrpc.INVALID_REQUEST: 400, jsonrpc.INVALID_PARAMS: 400,
    jsonrpc.HEADER_MISMATCH: 400, jsonrpc.MISSING_CLIENT_CAPABILITY: 400, jsonrpc.UNSUPPORTED_PROTOCOL_VERSION: 400,
    jsonrpc.METHOD_NOT_FOUND: 404, jsonrpc.RATE_LIMITED: 429, jsonrpc.INTERNAL_ERROR: 500,
    jsonrpc.SHUTTING_DOWN: 503,
}


# One token bucket per client connection (keep-alive carries many requests), gone with it.
_CONNECTION_LIMITERS: weakref.WeakKeyDictionary[Any, RateLimiter] = weakref.WeakKeyDictionary()


def http_era(header_version: str | None, message: Any) -> str:
    """'modern' (2026-07-28), 'legacy' (a 2025 session or initialize), or 'conflict' (a 2025
    version header on a body whose _meta names a version)."""
    if header_version is not None and header_version.strip() not in SESSION_VERSIONS:
        return "modern"
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict) or META_PROTOCOL_VERSION not in meta or message.get("method") == "initialize":
        return "legacy"
    return "modern" if header_version is None else "conflict"


class McpHttp:
    """What /mcp does with one HTTP exchange. The primitives it uses (`request`, `set_status`,
    `set_header`, `clear_header`, `write`, `flush`, `finish`) come from Tornado's RequestHandler
    (`StreamableHttp`) or from the lean handler of the fast path (`fast_http.LeanStreamableHttp`):
    one set of rules for both."""

    principal: Principal  # set by the guards
    request: Any
    set_status: Any
    set_header: Any
    clear_header: Any
    write: Any
    flush: Any
    finish: Any

    def initialize(self, core: Core, guards: RequestGuards, sessions: HttpSessions) -> None:
        self.core = core
        self.guards = guards
        self.sessions = sessions
        self.settings_ = guards.settings
        self._stream: SseChannel | None = None  # the GET stream this request serves
        self._pending: asyncio.Future[Any] | None = None  # the 2026 request this response answers

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> Awaitable[None] | None:
        refused = self.guards.refuse(self)
        if refused is True:
            return None
        if refused is not False:
            return self._prepare_later(refused)  # type: ignore[arg-type]
        self._check_length()
        return None

    async def _prepare_later(self, refused: Awaitable[bool]) -> None:
        if not await refused:
            self._check_length()

    def _check_length(self) -> None:
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.settings_.max_message_bytes:
            self._error(413, jsonrpc.INVALID_REQUEST,
                        f"Payload Too Large: messages are limited to {self.settings_.max_message_bytes} bytes")

    # --- helpers -------------------------------------------------------------

    def _error(self, status: int, code: int, message: str, request_id: Any = None) -> None:
        self._refuse(status, jsonrpc.JsonRpcError(code, message), request_id)

    def _refuse(self, status: int, exc: jsonrpc.JsonRpcError, request_id: Any = None) -> None:
        self.core.metrics.error(exc.code)
        self._json(exc.to_response(request_id), status)

    def _json(self, message: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.core.metrics.message_out(TRANSPORT, jsonrpc.message_count(message))
        self.finish(jsonrpc.encode(message))

    def _accepted(self) -> None:
        self.set_status(202)
        self.clear_header("Content-Type")  # no body (Tornado would call it text/html)
        self.finish()

    def _accepts(self, *types: str) -> bool:
        accept = self.request.headers.get("Accept", "")
        offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        if "*/*" in offered:
            return True
        return all(t in offered or f"{t.split('/')[0]}/*" in offered for t in types)

    def _start_sse(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache, no-transform")
        self.set_header("X-Accel-Buffering", "no")

    def _write_events(self, channel: SseChannel, sequence: int, numbered: bool) -> int:
        for seq, message in channel.after(sequence):
            self.write(sse.event(message, f"{channel.stream_id}.{seq}" if numbered else None))
            self.core.metrics.message_out(TRANSPORT, jsonrpc.message_count(message))
            sequence = seq
        return sequence

    async def _follow(self, channel: SseChannel, sequence: int, numbered: bool,
                      keepalive: float | None = SSE_KEEPALIVE_SECONDS) -> int:
        """Write the channel's events after `sequence` as they come, until it finishes or detaches."""
        while True:
            sequence = self._write_events(channel, sequence, numbered)
            await self.flush()
            if channel.done() or (numbered and self.core.draining):
                return sequence
            before = channel.sequence
            await channel.changed(keepalive)
            if keepalive is not None and channel.sequence == before and not channel.done():
                self.write(sse.KEEPALIVE)

    @staticmethod
    def _feed(reply: Reply, channel: SseChannel) -> asyncio.Future[Any] | None:
        """Make the answer the last event of `channel`: now, or when its task ends (the task is returned)."""
        if not is_pending(reply):
            channel.finish(reply)
            return None
        task = asyncio.ensure_future(reply)  # type: ignore[arg-type]
        task.add_done_callback(lambda done: channel.finish(None if done.cancelled() else done.result()))
        return task

    # --- POST ----------------------------------------------------------------

    def post(self) -> Awaitable[None] | None:
        """Answered at once when nothing waits (a 2026-07-28 request answered inline); else the awaitable."""
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._error(415, jsonrpc.INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json")
            return None
        if not self._accepts("application/json", "text/event-stream"):
            self._error(406, jsonrpc.INVALID_REQUEST,
                        "Not Acceptable: Accept must list application/json and text/event-stream")
            return None
        try:
            message = jsonrpc.decode(self.request.body, self.settings_.max_json_depth)
        except jsonrpc.JsonRpcError as exc:
            self._refuse(400, exc)
            return None
        self.core.metrics.message_in(TRANSPORT)
        challenge = self.guards.auth.scope_challenge(self.principal, message)
        if challenge is not None:
            self.guards.challenge(self, challenge, message.get("id") if isinstance(message, dict) else None)
            return None
        era = http_era(self.request.headers.get(VERSION_HEADER), message)
        if era == "modern":
            return self._post_modern(message)
        if era == "conflict":
            self._error(400, jsonrpc.HEADER_MISMATCH,
                        f"Header mismatch: {VERSION_HEADER} names a 2025 revision but _meta names "
                        f"{message['params']['_meta'][META_PROTOCOL_VERSION]!r}", message.get("id"))
            return None
        if isinstance(message, dict) and message.get("method") == "initialize" and "id" in message:
            return self._initialize(message)
        return self._post_in_session(message)

    # --- POST, 2026-07-28 ----------------------------------------------------------

    def _post_modern(self, message: Any) -> Awaitable[None] | None:
        if not isinstance(message, dict):
            self._error(400, jsonrpc.INVALID_REQUEST,
                        "Invalid Request: the body must be one JSON-RPC request or notification (no batches)")
            return None
        request_id = message.get("id")
        try:
            kind = jsonrpc.classify(message)
            if kind == "notification":
                self._accepted()  # nothing in this era needs one over HTTP: closing a stream cancels
                return None
            if kind == "response":
                raise jsonrpc.JsonRpcError(jsonrpc.INVALID_REQUEST,
                                           "Invalid Request: clients send no responses in protocol 2026-07-28")
            params = message.get("params") or {}
            meta = self._request_meta(params)
            check_version_header(self.request.headers, meta.version)
            meta.check_version()
            check_routing_headers(self.request.headers, message["method"], params, self.core.catalog)
        except jsonrpc.JsonRpcError as exc:
            self._refuse(MODERN_ERROR_STATUS.get(exc.code, 400), exc, request_id)
            return None
        limiter = self._connection_limiter()
        if not limiter.allow():
            self.set_header("Retry-After", "1")
            self._error(429, jsonrpc.RATE_LIMITED,
                        f"Too Many Requests: at most {limiter.rate:g} messages per second per connection", request_id)
            return None
        conversation = self.core.open_stateless()
        channel = SseChannel("")
        try:
            self._pending = self._feed(conversation.receive(message, channel), channel)
            if self._pending is None:
                only, answer = channel.only_answer()
                if only:  # answered inline: no task, no stream
                    self._answer_modern(answer)
                    conversation.close()
                    return None
        except BaseException:
            conversation.close()
            raise
        return self._stream_modern(conversation, channel)

    async def _stream_modern(self, conversation: Stateless, channel: SseChannel) -> None:
        """Wait for a 2026 request's answer; stream what comes before it (progress, logs) as SSE."""
        try:
            if self._pending is not None and channel.sequence == 0 and not channel.finished:
                await channel.changed()  # unless it changed already (this may start after the request's task)
            only, answer = channel.only_answer()
            if only:
                self._answer_modern(answer)
                return
            self._start_sse()
            await self._follow(channel, 0, numbered=False)
            self.finish()
        except StreamClosedError:
            pass  # on_connection_close cancelled the request
        finally:
            if self._pending is not None and not self._pending.done():
                self._pending.cancel()
            conversation.close()

    def _request_meta(self, params: dict[str, Any]) -> RequestMeta:
        try:
            return RequestMeta(params)
        except jsonrpc.JsonRpcError:
            # Without _meta the header is all the request says: if it names no version served here,
            # that is the problem to report.
            header = (self.request.headers.get(VERSION_HEADER) or "").strip()
            if header and header not in SESSION_VERSIONS and header not in MODERN_VERSIONS:
                raise unsupported_version(header) from None
            raise

    def _connection_limiter(self) -> RateLimiter:
        """Stateless requests have no session: they are limited per TCP connection."""
        stream = self.request.connection.stream  # type: ignore[union-attr]
        limiter = _CONNECTION_LIMITERS.get(stream)
        if limiter is None:
            limiter = _CONNECTION_LIMITERS[stream] = RateLimiter(self.settings_.rate_limit, self.settings_.rate_burst)
        return limiter

    def _answer_modern(self, answer: Any) -> None:
        if answer is None:  # cancelled
            self._accepted()
            return
        error = answer.get("error") if isinstance(answer, dict) else None
        status = MODERN_ERROR_STATUS.get(error.get("code"), 200) if isinstance(error, dict) else 200
        self._json(answer, status)

    # --- POST, 2025 sessions ---------------------------------------------------------

    async def _initialize(self, message: dict[str, Any]) -> None:
        if self.core.draining:
            self.set_header("Retry-After", "1")
            self._error(503, jsonrpc.SHUTTING_DOWN, "Service Unavailable: server is shutting down")
            return
        http_session = self.sessions.open()
        try:
            response = await settled(http_session.session.receive(message, SseChannel("")))
        except jsonrpc.JsonRpcError as exc:
            response = exc.to_response()
        if not isinstance(response, dict) or "error" in response:
            self.sessions.forget(http_session.session_id)
            self._json(response, 400)
            return
        try:
            await self.sessions.record(http_session, self.principal.subject)
        except RecordsError as exc:
            self.sessions.forget(http_session.session_id)
            self._store_failed(exc, message.get("id"))
            return
        self.set_header(SESSION_HEADER, http_session.session_id)
        self._json(response)

    def _store_failed(self, exc: RecordsError, request_id: Any = None) -> None:
        """503 with Retry-After when the store cannot be reached; 500 when it refused (a retry would
        fail the same way)."""
        if isinstance(exc, RecordsUnavailable):
            self.set_header("Retry-After", "1")
            self._error(503, jsonrpc.INTERNAL_ERROR, f"Service Unavailable: {exc}; send the request again", request_id)
            return
        log.error("%s", exc)
        self._error(500, jsonrpc.INTERNAL_ERROR, f"Internal error: {exc}", request_id)

    async def _session_for(self) -> HttpSession | None:
        """The session the request names; writes 400/404/503 and returns None when there is none."""
        session_id = self.request.headers.get(SESSION_HEADER)
        if not session_id:
            self._error(400, jsonrpc.INVALID_REQUEST,
                        f"Bad Request: send {SESSION_HEADER} (protocol 2025-11-25 and earlier: initialize first) "
                        f"or name protocol 2026-07-28 in {VERSION_HEADER} and params._meta")
            return None
        try:
            http_session = await self.sessions.get(session_id)
        except RecordsError as exc:
            self._store_failed(exc)
            return None
        if http_session is None or http_session.owner != self.principal.subject:
            # Another principal's session is as unknown to this one as a session that never was.
            self._error(404, jsonrpc.INVALID_REQUEST, "Not Found: session ended or unknown; initialize a new one")
            return None
        version = self.request.headers.get(VERSION_HEADER)
        if version is not None and version not in SESSION_VERSIONS:
            self._error(400, jsonrpc.INVALID_REQUEST,
                        f"Bad Request: unsupported {VERSION_HEADER} {version!r}; "
                        f"supported: {', '.join(SESSION_VERSIONS)}, 2026-07-28")
            return None
        return http_session

    async def _post_in_session(self, message: Any) -> None:
        http_session = await self._session_for()
        if http_session is None:
            return
        if not http_session.limiter.allow():
            self.set_header("Retry-After", "1")
            self._error(429, jsonrpc.RATE_LIMITED,
                        f"Too Many Requests: at most {http_session.limiter.rate:g} messages per second per session")
            return
        channel = SseChannel(new_stream_id(get_stream=False))
        try:
            reply = http_session.session.receive(message, channel)
        except jsonrpc.JsonRpcError as exc:
            self._refuse(400, exc)
            return
        if reply is None:
            self._accepted()
            return
        if self._feed(reply, channel) is not None:
            await channel.changed()
        only, answer = channel.only_answer()
        if only:
            if answer is None:  # cancelled by the client
                self._accepted()
            else:
                self._json(answer)
            return
        # Something comes before the answer (progress, logs, a request to the client): stream it.
        http_session.keep(channel)
        self._start_sse()
        self.write(sse.retry_field() + sse.event(None, f"{channel.stream_id}.0"))  # resumable from here
        try:
            await self._follow(channel, 0, numbered=True, keepalive=None)
            self.finish()
        except StreamClosedError:
            pass  # the call still runs to completion (disconnect is not cancel); its events stay resumable

    # --- GET: the 2025 session's server-to-client stream --------------------------------

    async def get(self) -> None:
        if self._not_a_session_request():
            return
        if not self._accepts("text/event-stream"):
            self._error(406, jsonrpc.INVALID_REQUEST, "Not Acceptable: Accept must list text/event-stream")
            return
        http_session = await self._session_for()
        if http_session is None:
            return
        last_event = self.request.headers.get("Last-Event-ID")
        if last_event and http_session.stream(last_event.strip().rpartition(".")[0]) is not None:
            await self._resume(http_session, last_event)
            return
        if last_event and not last_event.startswith(GET_STREAM_PREFIX):
            # A request's stream lives on the replica that ran the request (it went away, or the
            # stream was forgotten): its answer cannot be replayed here. The session itself is fine.
            self._error(409, jsonrpc.INVALID_REQUEST,
                        "Conflict: that stream is not on this replica (its request's answer is lost); "
                        "send the request again")
            return
        # A new GET stream, or one that was on another replica: server-to-client messages go on here.
        channel = SseChannel(new_stream_id(get_stream=True))
        if not http_session.open_get_stream(channel):
            self._error(409, jsonrpc.INVALID_REQUEST, "Conflict: this session already has a GET stream open")
            return
        self._stream = channel
        self._start_sse()
        self.write(sse.retry_field() + sse.event(None, f"{channel.stream_id}.0"))
        try:
            await self._follow(channel, 0, numbered=True)
            self.finish()
        except StreamClosedError:
            pass
        finally:
            http_session.close_get_stream(channel)

    async def _resume(self, http_session: HttpSession, last_event: str) -> None:
        """Replay a stream after Last-Event-ID, then follow it until its answer."""
        stream_id, _sep, sequence = last_event.strip().rpartition(".")
        channel = http_session.stream(stream_id)
        if channel is None or not sequence.isdigit():
            self._error(400, jsonrpc.INVALID_REQUEST, "Bad Request: malformed Last-Event-ID")
            return
        self._start_sse()
        self.write(sse.retry_field())
        try:
            channel.reattach()
            await self._follow(channel, int(sequence), numbered=True)
            self.finish()
        except StreamClosedError:
            pass

    def _not_a_session_request(self) -> bool:
        """GET and DELETE belong to 2025 sessions; without one they are not allowed (2026-07-28 is POST only)."""
        if self.request.headers.get(SESSION_HEADER):
            return False
        self.set_header("Allow", "POST")
        self._error(405, jsonrpc.INVALID_REQUEST,
                    f"Method Not Allowed: {self.request.method} needs an {SESSION_HEADER} "
                    "(protocol 2025-11-25 and earlier); protocol 2026-07-28 uses POST only")
        return True

    def on_connection_close(self) -> None:
        # A GET stream waiting for messages notices the client left; a 2026 request is cancelled.
        if self._stream is not None:
            self._stream.finish()
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()

    # --- DELETE ----------------------------------------------------------------

    async def delete(self) -> None:
        if self._not_a_session_request():
            return
        http_session = await self._session_for()
        if http_session is None:
            return
        try:
            await self.sessions.end(http_session.session_id)
        except RecordsError as exc:
            self._store_failed(exc)
            return
        self.set_status(204)
        self.clear_header("Content-Type")
        self.finish()


class StreamableHttp(McpHttp, RequestHandler):
    """/mcp served by Tornado's RequestHandler (the requests the fast path leaves to it)."""
