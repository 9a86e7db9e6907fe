"""Tornado's RFC 6455 protocol with the checks it leaves out for a server (found by the frame
fuzzer, tests/fuzz): a client frame that is not masked fails the connection (RFC 6455 5.1), and
so does a close frame whose payload is one byte, whose code may not be sent (7.4), or whose
reason is not UTF-8 (5.5.1), each with a close frame naming the problem (1002, 1007) instead of
an echo of what the client sent, or no answer at all."""

from __future__ import annotations

import struct

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketProtocol13

PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
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
