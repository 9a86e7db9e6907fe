"""The part of Tornado's RequestHandler that /mcp uses, on an HTTP/1 connection, without the rest.

A RequestHandler per request builds an HTTPServerRequest (URI, host and argument parsing), a
handler with its own header object, UI modules and transforms, a task for `_execute`, an etag
check and a formatted Date. This one keeps what the exchange needs: the request's method, path,
headers and body as parsed for the connection; status and headers (Tornado's defaults, the Date
formatted once a second); `write`/`flush`/`finish` through the same `HTTPConnection` calls, so the
framing (Content-Length, chunked, keep-alive, `Connection: close`) is the connection's (http1.py).
`prepare` and the method may return an awaitable or not: only a request that waits runs in a task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import formatdate
from typing import Any

import tornado
from tornado import escape, httputil
from tornado.iostream import StreamClosedError

app_log = logging.getLogger("tornado.application")

_DEFAULT_HEADERS = {"Server": f"TornadoServer/{tornado.version}", "Content-Type": "text/html; charset=UTF-8"}
_NO_BODY = (204, 304)
_ERROR_PAGE = b"<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>"


class _Date:
    """The Date header, formatted once per second."""

    second = -1
    value = ""

    @classmethod
    def now(cls) -> str:
        now = time.time()
        if int(now) != cls.second:
            cls.second, cls.value = int(now), formatdate(now, usegmt=True)
        return cls.value


class ResponseHeaders(dict):  # type: ignore[type-arg]
    """Response headers as the connection's write_headers reads them (http1.py); names are given in
    canonical form, so a plain dict serves."""

    def get_all(self) -> Any:
        return self.items()


class LeanRequest:
    """What an exchange reads of its request."""

    __slots__ = ("method", "path", "headers", "body", "connection", "_start")

    def __init__(self, start_line: httputil.RequestStartLine, headers: Mapping[str, str],
                 connection: httputil.HTTPConnection):
        self.method = start_line.method
        self.path = start_line.path.partition("?")[0]
        self.headers = headers
        self.body = b""
        self.connection = connection
        self._start = time.monotonic()

    @property
    def remote_ip(self) -> str:
        return self.connection.context.remote_ip  # type: ignore[no-any-return]

    def request_time(self) -> float:
        return time.monotonic() - self._start


class LeanHandler:
    """RequestHandler's `set_status`/`set_header`/`write`/`flush`/`finish`/`on_connection_close`
    contract for one request. Subclasses give `prepare()` and a method per HTTP method."""

    def __init__(self, request: LeanRequest, log_function: Callable[[Any], None]):
        self.request = request
        self._log_function = log_function
        self._headers_written = False
        self._finished = False
        self._clear()
        request.connection.set_close_callback(self.on_connection_close)

    def _clear(self) -> None:
        self._status = 200
        self._headers = ResponseHeaders(_DEFAULT_HEADERS)
        self._headers["Date"] = _Date.now()
        self._buffer: list[bytes] = []
        self.set_default_headers()

    # --- what RequestHandler offers ----------------------------------------------

    def set_default_headers(self) -> None:
        pass

    def on_connection_close(self) -> None:
        pass

    def prepare(self) -> Awaitable[None] | None:
        return None

    def get_status(self) -> int:
        return self._status

    def set_status(self, status: int) -> None:
        self._status = status

    def set_header(self, name: str, value: Any) -> None:
        self._headers[name] = str(value)

    def clear_header(self, name: str) -> None:
        self._headers.pop(name, None)

    def write(self, chunk: bytes | str | dict[str, Any]) -> None:
        if isinstance(chunk, dict):
            chunk = escape.json_encode(chunk)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
        self._buffer.append(escape.utf8(chunk))

    def flush(self) -> asyncio.Future[None]:
        chunk = b"".join(self._buffer)
        self._buffer = []
        connection = self.request.connection
        if self._headers_written:
            return connection.write(chunk)
        start_line = httputil.ResponseStartLine("", self._status, httputil.responses.get(self._status, "Unknown"))
        written = connection.write_headers(start_line, self._headers, chunk)  # type: ignore[arg-type]
        self._headers_written = True  # not before: headers that cannot be written leave a 500 to answer
        return written

    def finish(self, chunk: bytes | str | dict[str, Any] | None = None) -> asyncio.Future[None]:
        if self._finished:
            raise RuntimeError("finish() called twice")
        if chunk is not None:
            self.write(chunk)
        if not self._headers_written:
            if self._status in _NO_BODY or 100 <= self._status < 200:
                if self._buffer:
                    raise RuntimeError(f"Cannot send body with status code HTTP{self._status}")
                for name in ("Content-Encoding", "Content-Language", "Content-Type"):
                    self._headers.pop(name, None)
            elif "Content-Length" not in self._headers:
                self._headers["Content-Length"] = str(sum(len(part) for part in self._buffer))
        connection = self.request.connection
        connection.set_close_callback(None)
        future = self.flush()
        connection.finish()
        self._finished = True
        self._log_function(self)
        return future

    # --- running the request -------------------------------------------------

    def execute(self) -> None:
        """Run `prepare` and the method: at once, and in a task only from the first wait on."""
        try:
            prepared = self.prepare()
            if prepared is not None:
                self._in_task(self._after(prepared, self._method))
                return
            if self._finished:
                return
            result = self._method()
            if result is not None:
                self._in_task(self._after(result, None))
                return
            self._auto_finish()
        except Exception:  # noqa: BLE001 - as RequestHandler: logged, answered with 500
            self._uncaught()

    def _method(self) -> Awaitable[None] | None:
        return getattr(self, self.request.method.lower())()  # type: ignore[no-any-return]

    async def _after(self, first: Awaitable[None], then: Callable[[], Awaitable[None] | None] | None) -> None:
        try:
            await first
            if then is not None and not self._finished:
                result = then()
                if result is not None:
                    await result
            self._auto_finish()
        except Exception:  # noqa: BLE001
            self._uncaught()

    @staticmethod
    def _in_task(coroutine: Awaitable[None]) -> None:
        asyncio.ensure_future(coroutine)

    def _auto_finish(self) -> None:
        if not self._finished:
            try:
                self.finish()
            except StreamClosedError:
                pass

    def _uncaught(self) -> None:
        app_log.error("Uncaught exception %s %s", self.request.method, self.request.path, exc_info=True)
        if self._finished:
            return
        if self._headers_written:
            self.request.connection.close()
            return
        self._clear()
        self._status = 500
        try:
            self.finish(_ERROR_PAGE)
        except StreamClosedError:
            pass
