"""HTTP/1.1 connections on asyncio transports, under Tornado's HTTPServer and Application.

Tornado's HTTP1Connection reads a request through several IOStream futures (the head, then the
body), switches the socket's event-loop registration on and off around each read, sets TCP_NODELAY
off and on again for each response and arms an idle timer per request: most of what a small
`tools/call` costs. Here each accepted socket is handed to an asyncio transport (uvloop's, in C);
`Http1Connection` is the shell around the sans-I/O core `wire.http11` (which parses with llhttp and
holds the framing rules): it owns the buffers, the timers, the flow control and the upgrade
hand-off, and gives every request to the server's delegate (`FastHttp`: POST /mcp to the lean
handler, the rest to the Tornado Application) through the `HTTPConnection` calls (`write_headers`,
`write`, `finish`, `set_close_callback`). After a WebSocket upgrade's 101 the handler hands the
transport over to a `ws_connection.WebSocketConnection`.

What one client can take is bounded here:
- memory: reading stops while more than `BUFFERED_LIMIT` bytes wait unparsed, and no further
  request is started while the transport cannot take the answers (`pause_writing`), so a client
  that pipelines and never reads holds the server to one answer beyond the transport's buffer;
- turns: one request per event-loop turn per connection, so a pipelined burst shares the loop with
  every other connection;
- time: a head must arrive within `head_timeout`, a body within `body_timeout` of its head, and a
  keep-alive connection may sit idle for `idle_timeout` (408, or a quiet close when idle);
- count: beyond `max_connections` open connections (WebSockets too) a new one is answered 503 and
  closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream, StreamClosedError

from .transport_end import TransportEnd
from .wire.http11 import CONTINUE, Refusal, Request, RequestReader, ResponseFraming
from .ws_connection import WebSocketConnection

log = logging.getLogger("mcp_server.http")
app_log = logging.getLogger("tornado.application")

BUFFERED_LIMIT = 65536  # unparsed bytes held (pipelined requests behind the one answered); more pauses reading
_NO_READER = RequestReader(0, 0)  # a detached connection's
OVER_CAPACITY = Refusal(503, "Service Unavailable", "too many open connections: try again later")


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may take (the settings' values, config.py; see the module's docstring)."""

    max_body: int
    head_timeout: float
    body_timeout: float
    idle_timeout: float
    max_connections: int
    max_head: int = 65536


class RequestContext:
    """What HTTPServerRequest reads of its connection's context."""

    __slots__ = ("remote_ip", "protocol")

    def __init__(self, address: Any):
        self.remote_ip = address[0] if isinstance(address, tuple) and address else "0.0.0.0"
        self.protocol = "http"


class Http1Server(HTTPServer):
    """Tornado's HTTPServer (listening sockets, `stop`, the delegate) whose connections are served
    by `Http1Connection`. `refused(reason)` is told each connection or request refused before
    the delegate saw it (for the metrics)."""

    def initialize(self, request_callback: Any, *, limits: ConnectionLimits,  # type: ignore[override]
                   refused: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        if kwargs.get("ssl_options") is not None or kwargs.get("decompress_request"):
            raise ValueError("Http1Server serves plain HTTP/1.1: terminate TLS in front of it")
        super().initialize(request_callback, **kwargs)
        self.limits = limits
        self.refused = refused or (lambda reason: None)
        self.open_count = 0  # every accepted connection until its socket closes, WebSockets included
        self.connections: set[Http1Connection] = set()  # the ones still speaking HTTP

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        # Nothing has been read from the socket yet: the stream is dropped and the transport owns it.
        over = self.open_count >= self.limits.max_connections
        connection = Http1Connection(self, address, over_capacity=over)
        self.open_count += 1
        self.connections.add(connection)
        asyncio.ensure_future(connection.start(stream.socket))

    def connection_gone(self, connection: Http1Connection | None = None) -> None:
        """A connection's socket closed (`connection`: the HTTP connection, None for a WebSocket)."""
        self.open_count -= 1
        if connection is not None:
            self.connections.discard(connection)

    async def close_all_connections(self) -> None:
        """Ends every HTTP connection and waits until each is gone (WebSockets end by their own drain)."""
        closing = list(self.connections)
        for connection in closing:
            connection.close()
        await asyncio.gather(*(connection.wait_closed() for connection in closing))


class Http1Connection(TransportEnd, httputil.HTTPConnection):
    """One client connection: requests read one after another, each answered (finish()) before the
    next is started."""

    def __init__(self, server: Http1Server, address: Any, over_capacity: bool = False):
        self.server = server
        self.context = RequestContext(address)
        self.stream = self  # the key transport_http keeps per-connection state under
        limits = server.limits
        self._limits = limits
        super().__init__(on_lost=self._lost_transport)
        self._reader = RequestReader(limits.max_head, limits.max_body)
        self._over_capacity = over_capacity
        self._eof = False  # the client half-closed: nothing more arrives
        self._close_callback: Any = None
        self._counted = True  # in the server's open count until the socket closes
        # the request being answered
        self._answering = False
        self._request: Request | None = None
        self._framing: ResponseFraming | None = None
        self._detached = False
        # one timer for the head, body and idle deadlines (see _enter and _on_timer)
        self._phase = "head"
        self._deadline = self._loop.time() + limits.head_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._serve_soon: asyncio.Handle | None = None

    async def start(self, sock: Any) -> None:
        try:
            await self._loop.connect_accepted_socket(lambda: self, sock)
        except OSError:
            sock.close()
            self._lost_transport()

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        if self._over_capacity:
            self._refuse(OVER_CAPACITY, "connections_over_limit")
            return
        self._timer = self._loop.call_at(self._deadline, self._on_timer)

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.receive_data(data)
        self._serve()
        if reader.buffered > BUFFERED_LIMIT:
            self.pause_reading()

    def eof_received(self) -> bool:
        """The client sent all it will. An answer in progress is told, as when the connection closes
        (a client that closes a response stream cancels its request, and a server cannot tell a
        half-close from a close); the transport stays open for what is still written, the requests
        already received are answered, then the connection ends."""
        self._eof = True
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            callback()
        self._serve()
        return True

    def resume_writing(self) -> None:
        super().resume_writing()
        self._serve()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._timer is not None:
            self._timer.cancel()
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            callback()

    def _lost_transport(self) -> None:
        if self._counted:
            self._counted = False
            self.server.connection_gone(self)

    # --- reading requests ------------------------------------------------------------------

    def _serve(self) -> None:
        """Starts the next request if it is all there and the connection may take an answer."""
        self._serve_soon = None
        if self._answering or self._closed or self._detached or not self.writable():
            return
        reader = self._reader
        try:
            request = reader.next_request()
        except Refusal as refusal:
            self._refuse(refusal, "malformed_request")
            return
        if request is None:
            if self._eof:  # nothing more will come: a request still incomplete never will be
                self.close_transport()
                return
            if reader.take_continue():
                self._write_raw(CONTINUE)
            if reader.buffered <= BUFFERED_LIMIT:
                self.resume_reading()
            if reader.reading_body:
                self._enter("body", self._limits.body_timeout)
            elif reader.reading_head or reader.buffered:
                self._enter("head", self._limits.head_timeout)
            return
        try:
            self._dispatch(request)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)

    def _dispatch(self, request: Request) -> None:
        self._answering = True
        self._phase = "answering"
        self._request = request
        self._framing = None
        start_line = httputil.RequestStartLine(request.method, request.target, request.version)
        delegate = self.server.start_request(self, self)
        # wire.http11.Headers, not Tornado's HTTPHeaders: the delegate (fast_http) makes those for the
        # requests that go to the Tornado Application
        started = delegate.headers_received(start_line, request.headers)  # type: ignore[arg-type]
        if started is not None:
            asyncio.ensure_future(self._after(started, lambda: self._deliver(delegate, request.body)))
            return
        self._deliver(delegate, request.body)

    def _deliver(self, delegate: httputil.HTTPMessageDelegate, body: bytes) -> None:
        if body:
            received = delegate.data_received(body)
            if received is not None:
                asyncio.ensure_future(self._after(received, delegate.finish))
                return
        delegate.finish()

    async def _after(self, waiting: Awaitable[None], then: Callable[[], None]) -> None:
        """A delegate that returned an awaitable goes on once it is done."""
        try:
            await waiting
            then()
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """A delegate raised: what Tornado's request refuses (a Host that is not one) is a 400; anything
        else is logged, as Tornado does, and the connection ends."""
        if isinstance(exc, httputil.HTTPInputError):
            self._refuse(Refusal(400, "Bad Request", str(exc)), "malformed_request")
            return
        app_log.error("Uncaught exception serving an HTTP request", exc_info=exc)
        self.close_transport()

    def _refuse(self, refusal: Refusal, reason: str) -> None:
        """A request that cannot be read (or a connection over the limit): the status and what is
        wrong, then the connection ends."""
        # the message may quote what the client sent (a token, too): it goes to the client, not the log
        log.info("HTTP request from %s refused: answered %d %s", self.context.remote_ip, refusal.status,
                 refusal.reason)
        self.server.refused(reason)
        self._answering = True  # nothing more is read
        self._write_raw(refusal.answer())
        self.close_transport()

    # --- the deadlines ---------------------------------------------------------------------

    def _enter(self, phase: str, seconds: float) -> None:
        """A phase with a deadline: kept if the connection is already in it (a head or body does
        not get more time for each piece), else set from now."""
        if self._phase == phase:
            return
        self._phase = phase
        self._deadline = deadline = self._loop.time() + seconds
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._closed or self._detached:
            return
        now = self._loop.time()
        if self._phase == "answering":
            self._timer = self._loop.call_at(now + self._limits.idle_timeout, self._on_timer)
            return
        if now < self._deadline:
            self._timer = self._loop.call_at(self._deadline, self._on_timer)
            return
        if self._phase == "idle":
            self.close_transport()
            return
        seconds = self._limits.head_timeout if self._phase == "head" else self._limits.body_timeout
        self._refuse(Refusal(408, "Request Timeout", f"the request {self._phase} did not arrive within {seconds:g} s"),
                     f"{self._phase}_timeout")

    # --- HTTPConnection: writing the answer ----------------------------------------------------

    def write_headers(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                      headers: httputil.HTTPHeaders, chunk: bytes | None = None) -> asyncio.Future[None]:
        assert isinstance(start_line, httputil.ResponseStartLine)
        request = self._request
        assert request is not None
        # after an upgrade request llhttp reads no more HTTP: an answer other than 101 ends the connection
        keep_alive = request.keep_alive and (not request.upgrade or start_line.code == 101)
        self._framing = framing = ResponseFraming(request, keep_alive)
        return self._write_raw(framing.head(start_line.code, start_line.reason, headers, chunk or b""))

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        assert self._framing is not None
        try:
            data = self._framing.body(chunk)
        except ValueError as exc:
            self.close_transport()
            raise httputil.HTTPOutputError(str(exc)) from None
        return self._write_raw(data)

    def finish(self) -> None:
        framing = self._framing
        assert framing is not None
        try:
            tail = framing.end()
        except ValueError as exc:  # fewer bytes than the Content-Length said
            if not self._closed:
                self.close_transport()
                raise httputil.HTTPOutputError(str(exc)) from None
            return
        if tail:
            self._write_raw(tail)
        self._close_callback = None
        self._answering = False
        self._request = self._framing = None
        if not framing.keep_alive:
            self.close_transport()
            return
        self._phase = "idle"
        self._deadline = self._loop.time() + self._limits.idle_timeout
        if (self._reader.pending or self._reading_paused or self._eof) and self._serve_soon is None:
            # a pipelined request: in a later turn, so that other connections are served between
            self._serve_soon = self._loop.call_soon(self._serve)

    def _write_raw(self, data: bytes) -> asyncio.Future[None]:
        try:
            return self.write_out(data)
        except StreamClosedError as exc:  # as HTTP1Connection: the future fails, nothing is raised
            future = self._loop.create_future()
            future.set_exception(exc)
            future.exception()
            return future

    def set_close_callback(self, callback: Any) -> None:
        self._close_callback = callback

    def hand_over(self, websocket: WebSocketConnection) -> None:
        """Hands the transport to a WebSocket, after the 101 was written, with what arrived after
        the upgrade request."""
        assert self.transport is not None
        self._detached = True
        self._close_callback = None
        if self._timer is not None:
            self._timer.cancel()
        self.server.connections.discard(self)
        if self._closed:  # the client went while the 101 was written: the WebSocket is over already
            websocket.connection_lost(None)
            return
        self._counted = False  # the WebSocket's end counts it, and holds nothing of this object
        early = self._reader.after_upgrade()
        self._reader = _NO_READER  # the handler keeps this object for the WebSocket's life: not its parser
        self.resume_reading()  # the WebSocket's flow control starts from reading
        self.transport.set_protocol(websocket)
        websocket.adopt(self.transport, early, self.server.connection_gone)

    # --- the connection as the server sees it ---------------------------------------------------

    def close(self) -> None:
        """Ends the connection at once (what is buffered is still sent)."""
        self.server.connections.discard(self)
        if not self._detached:
            self.close_transport()

    async def wait_closed(self) -> None:
        if not self._detached and self.transport is not None:
            await self._lost
