"""What both ends of the server built on asyncio transports share (http1.Http1Connection and, after
an upgrade, ws_frames.TransportStream): whether the connection is closed, a future for when it is
gone, writes that report when the transport's buffer has room again, and a close that sends what
is buffered first but does not wait forever for a client that reads nothing."""

from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError

ABORT_AFTER_SECONDS = 5.0  # a close whose buffered answer the client does not read becomes an abort


class TransportEnd(asyncio.Protocol):
    transport: asyncio.Transport | None

    def __init__(self) -> None:
        self.transport = None
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._lost = self._loop.create_future()
        self._written = self._loop.create_future()  # done while writes are not held back
        self._written.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if not self._lost.done():
            self._lost.set_result(None)
        if not self._written.done():
            self._written.set_exception(StreamClosedError())
            self._written.exception()  # retrieved: a writer that does not wait for it is not logged

    def pause_writing(self) -> None:
        self._written = self._loop.create_future()

    def resume_writing(self) -> None:
        if not self._written.done():
            self._written.set_result(None)

    def write_out(self, data: bytes) -> asyncio.Future[None]:
        """Writes data; the future is done when the transport can take more (at once, usually)."""
        if self._closed or self.transport is None:
            raise StreamClosedError()
        self.transport.write(data)
        return self._written

    def closed(self) -> bool:
        return self._closed

    def close_transport(self) -> None:
        if not self._closed:
            self._closed = True
            transport = self.transport
            if transport is not None:
                transport.close()  # what is buffered goes first, then FIN
                if transport.get_write_buffer_size():
                    self._loop.call_later(ABORT_AFTER_SECONDS, transport.abort)
