"""Tornado's RFC 6455 protocol with the checks it leaves out for a server (found by the frame
fuzzer, tests/fuzz): a client frame that is not masked fails the connection (RFC 6455 5.1), and
so does a close frame whose payload is one byte, whose code may not be sent (7.4), or whose
reason is not UTF-8 (5.5.1), each with a close frame naming the problem (1002, 1007) instead of
an echo of what the client sent, or no answer at all. And after such a close, or 1009, it lingers:
what the client still sends is read and dropped for a moment, so the close frame is not destroyed by
a reset (LingeringProtocol). ws_frames.OwnFramesProtocol builds on both."""

from __future__ import annotations

import asyncio
import struct

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketProtocol13

PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
TOO_BIG = 1009
LINGER_SECONDS = 2.0
LINGER_CODES = (TOO_BIG, PROTOCOL_ERROR, INVALID_DATA)  # closes that the client's unread frames could destroy
CLOSE_OPCODE = 0x8
MASK_BIT = 0x80
# The codes a close frame may carry (RFC 6455 7.4.1 and IANA's registry; 3000-4999 for libraries and
# applications); 1004-1006 and 1015 may never be sent.
SENDABLE_CLOSE_CODES = frozenset((*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)))


def close_frame_problem(payload: bytes) -> tuple[int, str] | None:
    """The close code and reason to fail with when a client's close frame is malformed."""
    if not payload:
        return None
    if len(payload) == 1:
        return PROTOCOL_ERROR, "a close frame's payload is a 2-byte code and a reason, not 1 byte"
    code = struct.unpack("!H", payload[:2])[0]
    if code not in SENDABLE_CLOSE_CODES:
        return PROTOCOL_ERROR, f"close code {code} may not be sent"
    try:
        payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        return INVALID_DATA, "the close reason is not UTF-8"
    return None


class StrictProtocol(WebSocketProtocol13):
    _header_next = False  # the next read is a frame's first two bytes

    async def _receive_frame(self) -> None:
        self._header_next = True
        await super()._receive_frame()

    async def _read_bytes(self, n: int) -> bytes:
        data = await super()._read_bytes(n)
        if self._header_next:
            self._header_next = False
            if not data[1] & MASK_BIT:
                self.close(PROTOCOL_ERROR, "client frames must be masked")
                raise StreamClosedError()  # ends the receive loop, which aborts the connection
        return data

    def _handle_message(self, opcode: int, data: bytes):  # type: ignore[no-untyped-def]
        if opcode == CLOSE_OPCODE and not self.client_terminated:
            problem = close_frame_problem(data)
            if problem is not None:
                self.close(*problem)
                self._abort()
                return None
        return super()._handle_message(opcode, data)


class LingeringProtocol(StrictProtocol):
    """The strict protocol, except that after closing with 1009 (a frame over the size limit), 1002
    or 1007 (a malformed frame) it reads and discards what the client still sends until the client
    closes (or a short time passes) instead of closing the socket at once: closing a socket with
    unread data makes the kernel send a reset, which can destroy the close frame before the client
    reads it."""

    _linger = False  # set when closing with 1009, 1002 or 1007
    _lingering = False  # the drain is running: it closes the socket itself

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if code in LINGER_CODES and not self.server_terminated:
            self._linger = True
        super().close(code, reason)

    def _abort(self) -> None:
        if self._lingering:
            return  # the handler's own close callback aborts again; the drain ends the socket
        stream = self.stream
        if not self._linger or stream is None or stream.closed():
            super()._abort()
            return
        self._lingering = True
        self.client_terminated = True  # ends the receive loop; the socket stays open to drain
        self.server_terminated = True
        if self._waiting is not None:
            stream.io_loop.remove_timeout(self._waiting)
            self._waiting = None
        asyncio.ensure_future(self._drain_then_close())

    async def _drain_then_close(self) -> None:
        stream = self.stream
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINGER_SECONDS
        try:
            while (left := deadline - loop.time()) > 0:
                await asyncio.wait_for(stream.read_bytes(65536, partial=True), left)
        except (StreamClosedError, asyncio.TimeoutError):
            pass
        finally:
            stream.close()
