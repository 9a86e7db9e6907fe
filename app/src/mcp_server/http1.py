"""HTTP/1.1 connections on asyncio transports, under Tornado's HTTPServer and Application.

Tornado's HTTP1Connection reads a request through several IOStream futures (the head, then the
body), switches the socket's event-loop registration on and off around each read, sets TCP_NODELAY
off and on again for each response and arms an idle timer per request: most of what a small
`tools/call` costs. Here each accepted socket is handed to an asyncio transport (uvloop's, in C)
and `Http1Connection` cuts requests from what it reads. What a request means stays Tornado's:
start lines and headers are parsed by `tornado.httputil`, every request goes to the server's
delegate (`FastHttp`: POST /mcp to the lean handler, the rest to the Tornado Application) through
the same `HTTPConnection` calls as before (`write_headers`, `write`, `finish`, `set_close_callback`,
`detach`), and the framing rules (keep-alive, `Connection: close`, chunked answers, HTTP/1.0,
`Expect: 100-continue`, chunked request bodies, the size limits) are the ones Tornado applies.
A WebSocket upgrade detaches the transport to the frame layer (`ws_frames`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from tornado import httputil
from tornado.http1connection import HTTP1ConnectionParameters, is_transfer_encoding_chunked, parse_int
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream, StreamClosedError

from .header_block import parse_header_block
from .transport_end import TransportEnd
from .ws_frames import TransportStream

log = logging.getLogger("mcp_server.http")
app_log = logging.getLogger("tornado.application")

HEAD_END = b"\r\n\r\n"
BARE_LF_HEAD_END = re.compile(rb"\r?\n\r?\n")  # how Tornado finds the end of a head
LINE_END = b"\r\n"
CONTINUE = b"HTTP/1.1 100 (Continue)\r\n\r\n"
BUFFERED_LIMIT = 1 << 20  # bytes of the next requests held while one is answered; more pauses reading


class RequestContext:
    """What HTTPServerRequest reads of its connection's context."""

    __slots__ = ("remote_ip", "protocol")

    def __init__(self, address: Any):
        self.remote_ip = address[0] if isinstance(address, tuple) and address else "0.0.0.0"
        self.protocol = "http"


class Http1Server(HTTPServer):
    """Tornado's HTTPServer (listening sockets, `stop`, `close_all_connections`, the delegate) whose
    plain-TCP connections are served by `Http1Connection`."""

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        if self.ssl_options is not None or self.conn_params.decompress:
            super().handle_stream(stream, address)  # TLS and gzip bodies: Tornado's own connection
            return
        # Nothing has been read from the socket yet: the stream is dropped and the transport owns it.
        connection = Http1Connection(self, self.conn_params, address)
        self._connections.add(connection)  # type: ignore[arg-type]  # close_all_connections awaits close()
        asyncio.ensure_future(connection.start(stream.socket))


class Http1Connection(TransportEnd, httputil.HTTPConnection):
    """One client connection: requests read from the transport one after another, each answered
    (finish()) before the next is looked at."""

    def __init__(self, server: Http1Server, params: HTTP1ConnectionParameters, address: Any):
        self.server = server
        self.context = RequestContext(address)
        self.stream = self  # the key transport_http keeps per-connection state under
        self._max_header = params.max_header_size or 65536
        self._max_body = params.max_body_size or 100 * 1024 * 1024
        self._idle_timeout = params.header_timeout or 3600.0
        self._no_keep_alive = params.no_keep_alive
        super().__init__()
        self._buffer = b""
        self._paused = False
        self._last_active = time.monotonic()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._close_callback: Any = None
        # the request being read or answered
        self._answering = False
        self._request_line: httputil.RequestStartLine | None = None
        self._request_headers: httputil.HTTPHeaders | None = None
        self._disconnect_on_finish = False
        self._chunking = False
        self._remaining: int | None = None  # of the answer's Content-Length
        self._body_reader: _FixedBody | _ChunkedBody | None = None  # a body still arriving
        self._detached = False

    async def start(self, sock: Any) -> None:
        try:
            await self._loop.connect_accepted_socket(lambda: self, sock)
        except OSError:
            sock.close()
            self._gone()

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        self._idle_timer = self._loop.call_later(self._idle_timeout, self._idle_check)

    def data_received(self, data: bytes) -> None:
        self._buffer = self._buffer + data if self._buffer else data
        if self._answering:
            if len(self._buffer) > BUFFERED_LIMIT and not self._paused:
                self._paused = True
                self.transport.pause_reading()  # type: ignore[union-attr]
            return
        self._read_requests()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            callback()
        self._gone()

    # --- reading requests ------------------------------------------------------------------

    def _read_requests(self) -> None:
        while not self._answering and not self._closed and self._buffer:
            try:
                if not self._read_one():
                    return
            except httputil.HTTPInputError as exc:
                self._refuse(400, "Bad Request", str(exc))
                return
            except Exception:  # noqa: BLE001 - as Tornado: logged, and the connection ends
                self._failed()
                return

    def _read_one(self) -> bool:
        """Starts the next request if its head and body are all there; False if more must come."""
        buffer = self._buffer
        if self._body_reader is None:
            end, skip = buffer.find(HEAD_END), len(HEAD_END)
            if end < 0 and (bare := BARE_LF_HEAD_END.search(buffer)) is not None:
                end, skip = bare.start(), bare.end() - bare.start()  # lines ended by LF alone (RFC 9112 2.2)
            if (end if end >= 0 else len(buffer)) > self._max_header:
                self._refuse(431, "Request Header Fields Too Large", f"the request head is over {self._max_header} bytes")
                return False
            if end < 0:
                return False
            head = buffer[:end].decode("latin1").lstrip("\r\n")
            line, _, header_text = head.partition("\n")
            line = line.removesuffix("\r")
            start_line = httputil.parse_request_start_line(line)
            headers = parse_header_block(header_text)
            body_reader = _ChunkedBody(self._max_body) if is_transfer_encoding_chunked(headers) else None
            length = 0 if body_reader is not None else self._content_length(headers)
            self._request_line, self._request_headers = start_line, headers
            self._disconnect_on_finish = not self._can_keep_alive(start_line, headers)
            buffer = buffer[end + skip:]
            if headers.get("Expect") == "100-continue" and (body_reader is not None or length):
                self._write_raw(CONTINUE)
            if body_reader is None:
                if len(buffer) >= length:
                    self._buffer = buffer[length:]
                    self._dispatch(buffer[:length])
                    return True
                body_reader = _FixedBody(length)
            self._buffer = buffer
            self._body_reader = body_reader
        body, self._buffer = self._body_reader.take(self._buffer)
        if body is None:
            return False
        self._body_reader = None
        self._dispatch(body)
        return True

    def _content_length(self, headers: httputil.HTTPHeaders) -> int:
        value = headers.get("Content-Length")
        if value is None:
            return 0
        if "," in value:
            pieces = [piece.strip() for piece in value.split(",")]
            if any(piece != pieces[0] for piece in pieces):
                raise httputil.HTTPInputError(f"Multiple unequal Content-Lengths: {value!r}")
            value = pieces[0]
        try:
            length = parse_int(value)
        except ValueError:
            raise httputil.HTTPInputError(f"Only integer Content-Length is allowed: {value}") from None
        if length > self._max_body:
            raise httputil.HTTPInputError(f"Content-Length too long: {length} bytes, at most {self._max_body}")
        return length

    def _can_keep_alive(self, start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders) -> bool:
        if self._no_keep_alive:
            return False
        connection = headers.get("Connection", "").lower()
        if start_line.version == "HTTP/1.1":
            return connection != "close"
        if ("Content-Length" in headers or headers.get("Transfer-Encoding", "").lower() == "chunked"
                or start_line.method in ("HEAD", "GET")):
            return connection == "keep-alive"
        return False

    def _dispatch(self, body: bytes) -> None:
        self._answering = True
        self._last_active = time.monotonic()
        self._chunking = False
        self._remaining = None
        delegate = self.server.start_request(self, self)
        assert self._request_line is not None and self._request_headers is not None
        started = delegate.headers_received(self._request_line, self._request_headers)
        if started is not None:
            asyncio.ensure_future(self._after(started, lambda: self._deliver(delegate, body)))
            return
        self._deliver(delegate, body)

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
        except Exception:  # noqa: BLE001
            self._failed()

    def _failed(self) -> None:
        app_log.error("Uncaught exception serving an HTTP request", exc_info=True)
        self.close_transport()

    def _refuse(self, code: int, reason: str, message: str) -> None:
        """A request that cannot be read: the status and what is wrong, then the connection ends."""
        # the message may quote a header's value (a token's, too): it goes to the client, not the log
        log.info("malformed HTTP request from %s: answered %d %s", self.context.remote_ip, code, reason)
        body = message.encode("utf-8", "replace") + b"\n"
        self._write_raw(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: %d\r\n"
                        b"Connection: close\r\n\r\n%s" % (code, reason.encode(), len(body), body))
        self._answering = True  # nothing more is read
        self.close_transport()

    # --- HTTPConnection: writing the answer ----------------------------------------------------

    def write_headers(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                      headers: httputil.HTTPHeaders, chunk: bytes | None = None) -> asyncio.Future[None]:
        assert isinstance(start_line, httputil.ResponseStartLine)
        request = self._request_line
        assert request is not None
        code = start_line.code
        self._chunking = (request.version == "HTTP/1.1" and request.method != "HEAD" and code not in (204, 304)
                          and (code < 100 or code >= 200) and "Content-Length" not in headers)
        if request.version == "HTTP/1.1" and self._disconnect_on_finish:
            headers["Connection"] = "close"
        if request.version == "HTTP/1.0" and not self._disconnect_on_finish:
            headers["Connection"] = "Keep-Alive"
        if self._chunking:
            headers["Transfer-Encoding"] = "chunked"
        if request.method == "HEAD" or code == 304:
            self._remaining = 0
        elif "Content-Length" in headers:
            self._remaining = parse_int(headers["Content-Length"])
        else:
            self._remaining = None
        lines = [f"HTTP/1.1 {code} {start_line.reason}"]
        lines.extend(f"{name}: {value}" for name, value in headers.get_all())
        for line in lines:
            if "\r" in line or "\n" in line:
                raise ValueError(f"Illegal characters (CR or LF) in header: {line!r}")
        data = "\r\n".join(lines).encode("latin1") + HEAD_END
        if chunk:
            data += self._format_chunk(chunk)
        return self._write_raw(data)

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        return self._write_raw(self._format_chunk(chunk))

    def finish(self) -> None:
        if self._remaining and not self._closed:  # fewer bytes than the Content-Length said
            self.close_transport()
            raise httputil.HTTPOutputError(f"Tried to write {self._remaining} bytes less than Content-Length")
        if self._chunking:
            self._write_raw(b"0\r\n\r\n")
        self._close_callback = None
        self._answering = False
        self._last_active = time.monotonic()
        if self._disconnect_on_finish:
            self.close_transport()
            return
        if self._paused:
            self._paused = False
            self.transport.resume_reading()  # type: ignore[union-attr]
        if self._buffer:
            self._loop.call_soon(self._read_requests)  # a pipelined request: not inside this call stack

    def _format_chunk(self, chunk: bytes) -> bytes:
        if self._remaining is not None:
            self._remaining -= len(chunk)
            if self._remaining < 0:
                self.close_transport()
                raise httputil.HTTPOutputError("Tried to write more data than Content-Length")
        if self._chunking and chunk:
            return b"%x\r\n%s\r\n" % (len(chunk), chunk)
        return chunk

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

    def detach(self) -> TransportStream:  # type: ignore[override]
        """Hands the connection to the WebSocket frame layer (after the 101 was written)."""
        assert self.transport is not None
        self._detached = True
        self._close_callback = None
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        stream = TransportStream(self.transport, self._buffer)
        self._buffer = b""
        self.transport.set_protocol(stream)
        self._gone()
        return stream

    # --- the connection as the server sees it ---------------------------------------------------

    async def close(self) -> None:
        """For HTTPServer.close_all_connections: ends the connection and waits until it is gone."""
        if not self._detached:
            self.close_transport()
            if self.transport is not None:
                await self._lost
        self._gone()

    def _idle_check(self) -> None:
        idle_for = time.monotonic() - self._last_active
        if self._closed or self._detached:
            return
        if not self._answering and idle_for >= self._idle_timeout:
            self.close_transport()
            return
        self._idle_timer = self._loop.call_later(max(self._idle_timeout - idle_for, 1.0), self._idle_check)

    def _gone(self) -> None:
        self.server._connections.discard(self)  # type: ignore[arg-type]  # noqa: SLF001


class _FixedBody:
    """A Content-Length body still arriving, kept in the pieces it came in (a large body read in
    many pieces is joined once, not copied again with every read)."""

    __slots__ = ("remaining", "parts")

    def __init__(self, length: int):
        self.remaining = length
        self.parts: list[bytes] = []

    def take(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        """The body (None until it is all there) and what follows it."""
        if len(buffer) < self.remaining:
            self.parts.append(buffer)
            self.remaining -= len(buffer)
            return None, b""
        self.parts.append(buffer[:self.remaining])
        rest, self.remaining = buffer[self.remaining:], 0
        return b"".join(self.parts), rest


class _ChunkedBody:
    """A chunked request body (RFC 9112 7.1), decoded as it arrives; no trailers, as Tornado."""

    __slots__ = ("limit", "parts", "size")

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def take(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        """The body (None until its last chunk is there) and what is not consumed yet."""
        at = 0
        while True:
            line_end = buffer.find(LINE_END, at)
            if line_end < 0:
                if len(buffer) - at > 64:
                    raise httputil.HTTPInputError("a chunk size line over 64 bytes")
                return None, buffer[at:]
            try:
                length = int(buffer[at:line_end].split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise httputil.HTTPInputError(f"bad chunk size line {buffer[at:line_end][:64]!r}") from None
            if length < 0:
                raise httputil.HTTPInputError("negative chunk size")
            end = line_end + 2 + length
            if len(buffer) < end + 2:
                return None, buffer[at:]
            if buffer[end:end + 2] != LINE_END:
                raise httputil.HTTPInputError("improperly terminated chunked request")
            if length == 0:
                return b"".join(self.parts), buffer[end + 2:]
            self.size += length
            if self.size > self.limit:
                raise httputil.HTTPInputError(f"chunked body too large: over {self.limit} bytes")
            self.parts.append(buffer[line_end + 2:end])
            at = end + 2
