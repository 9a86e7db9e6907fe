"""The fast path: a POST to /mcp skips Tornado's routing and RequestHandler.

`FastHttp` is what the HTTPServer serves: for each request it looks at the start line and
headers, and a POST to /mcp that is not a WebSocket upgrade gets a lean delegate that collects
the body and runs `LeanStreamableHttp`: the same `McpHttp` code as `transport_http.StreamableHttp`
(guards, size limit, era, headers, rate limit, JSON or SSE, metrics, access log) on
`lean_handler.LeanHandler` instead of a RequestHandler. Every other request goes, untouched,
to the Tornado Application.
"""

from __future__ import annotations

from collections.abc import Awaitable

from tornado import httputil
from tornado.web import Application

from .core import Core
from .guards import RequestGuards
from .http_sessions import HttpSessions
from .lean_handler import LeanHandler, LeanRequest
from .transport_http import McpHttp
from .wire.http11 import Headers


class LeanStreamableHttp(McpHttp, LeanHandler):
    """/mcp on the fast path."""


def tornado_headers(headers: Headers) -> httputil.HTTPHeaders:
    """The connection's headers as the Tornado Application takes them (llhttp has checked each)."""
    converted = httputil.HTTPHeaders()
    seen = set()
    for name, value in headers.fields:
        lowered = name.lower()
        if lowered in seen:
            converted.add(name, value)
        else:
            seen.add(lowered)
            converted[name] = value
    return converted


class FastHttp(httputil.HTTPServerConnectionDelegate):
    """POST `path` to the lean handler; everything else to `app` (with no `path`, everything)."""

    def __init__(self, app: Application, path: str | None, core: Core, guards: RequestGuards, sessions: HttpSessions):
        self.app = app
        self.path = path
        self.log_function = app.log_request
        self.kwargs = {"core": core, "guards": guards, "sessions": sessions}

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _Choose(self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        self.app.on_close(server_conn)

    def takes(self, start_line: httputil.RequestStartLine, headers: Headers) -> bool:
        return (start_line.method == "POST" and start_line.path.partition("?")[0] == self.path
                and headers.get("Upgrade", "").lower() != "websocket")


class _Choose(httputil.HTTPMessageDelegate):
    """Decides at the headers; the Application's delegate gets the request as it would have."""

    __slots__ = ("fast", "server_conn", "request_conn", "delegate", "request", "chunks")

    def __init__(self, fast: FastHttp, server_conn: object, request_conn: httputil.HTTPConnection):
        self.fast = fast
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.delegate: httputil.HTTPMessageDelegate | None = None
        self.request: LeanRequest | None = None
        self.chunks: list[bytes] = []

    def headers_received(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                         headers: Headers) -> Awaitable[None] | None:  # type: ignore[override]
        assert isinstance(start_line, httputil.RequestStartLine)
        if self.fast.takes(start_line, headers):
            self.request = LeanRequest(start_line, headers, self.request_conn)
            return None
        self.delegate = self.fast.app.start_request(self.server_conn, self.request_conn)
        return self.delegate.headers_received(start_line, tornado_headers(headers))

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self.delegate is not None:
            return self.delegate.data_received(chunk)
        self.chunks.append(chunk)
        return None

    def finish(self) -> None:
        if self.delegate is not None:
            self.delegate.finish()
            return
        request = self.request
        assert request is not None
        chunks = self.chunks
        request.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        handler = LeanStreamableHttp(request, self.fast.log_function)
        handler.initialize(**self.fast.kwargs)
        handler.execute()

    def on_connection_close(self) -> None:
        if self.delegate is not None:
            self.delegate.on_connection_close()
        self.chunks = []

