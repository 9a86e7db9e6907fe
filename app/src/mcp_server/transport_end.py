"""What both ends of the server built on asyncio transports share (http1.Http1Connection and, after
an upgrade, ws_connection.WebSocketConnection): whether the connection is closed, a future for when it is
gone, writes that report when the transport's buffer has room again, a bound on what a client that
reads nothing can make the server buffer, and a close that sends what is buffered first but does
not wait forever for a client that reads nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tornado.iostream import StreamClosedError

ABORT_AFTER_SECONDS = 5.0  # a close whose buffered answer the client does not read becomes an abort
# Answers buffered for a client that does not read them, beyond which the connection is aborted.
# Both shells stop reading while the transport is over its high-water mark (64 KiB), so only what
# the server sends unasked (notifications on a stream) or one large answer can reach it.
WRITE_BUFFER_LIMIT = 16 * 1024 * 1024

log = logging.getLogger("mcp_server.http")


class TransportEnd(asyncio.Protocol):
    transport: asyncio.Transport | None

    def __init__(self, on_lost: Callable[[], None] | None = None) -> None:
        self.transport = None
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._lost = self._loop.create_future()
        self._written = self._loop.create_future()  # done while writes are not held back
        self._written.set_result(None)
        self._on_lost = on_lost
        self._reading_paused = False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if not self._lost.done():
            self._lost.set_result(None)
        if not self._written.done():
            self._written.set_exception(StreamClosedError())
            self._written.exception()  # retrieved: a writer that does not wait for it is not logged
        on_lost, self._on_lost = self._on_lost, None
        if on_lost is not None:
            on_lost()

    def pause_writing(self) -> None:
        self._written = self._loop.create_future()

    def resume_writing(self) -> None:
        if not self._written.done():
            self._written.set_result(None)

    def writable(self) -> bool:
        """The transport takes more at once (its buffer is under the high-water mark)."""
        return self._written.done()

    def write_out(self, data: bytes) -> asyncio.Future[None]:
        """Writes data; the future is done when the transport can take more (at once, usually)."""
        transport = self.transport
        if self._closed or transport is None:
            raise StreamClosedError()
        transport.write(data)
        if not self._written.done() and transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            log.warning("connection aborted: over %d bytes of answers unread by the client", WRITE_BUFFER_LIMIT)
            self.abort_transport()
            raise StreamClosedError()
        return self._written

    def pause_reading(self) -> None:
        """Stops reading from the client (flow control); a no-op when already paused or closed."""
        if not self._reading_paused and not self._closed and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused and not self._closed and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()

    def closed(self) -> bool:
        return self._closed

    def abort_transport(self) -> None:
        """Drops the connection at once, whatever is buffered."""
        if not self._closed and self.transport is not None:
            self._closed = True
            self.transport.abort()

    def close_transport(self) -> None:
        if not self._closed:
            self._closed = True
            transport = self.transport
            if transport is not None:
                transport.close()  # what is buffered goes first, then FIN
                if transport.get_write_buffer_size():
                    self._loop.call_later(ABORT_AFTER_SECONDS, transport.abort)
