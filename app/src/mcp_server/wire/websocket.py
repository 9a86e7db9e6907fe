"""WebSocket (RFC 6455) for a server, without I/O: the handshake's rules, bytes in and whole messages
and control frames out, frames out as bytes.

`FrameReader` is fed what the connection reads (`receive_data`) and gives one event at a time
(`next_event`: a whole text or binary message, a ping, a pong, a close frame's payload), as the
`websockets` library's protocol does. What a server must refuse it refuses, raising `Failure` with
the close code to send: as soon as a frame's first bytes are there, a frame that is not masked, RSV
bits (no extension is ever negotiated) or a control frame over 125 bytes (1002), and, at its length,
a message over `max_size`, before its payload arrives (1009); once the frame is whole (in Tornado's
order, which the frame fuzzer's oracle follows), a fragmented control frame, a continuation with
nothing to continue or a new message inside a fragmented one (1002), a malformed close frame
(1002/1007); once the message is whole, a reserved opcode (1002) and text that is not UTF-8 (1007). A large frame arriving in
many reads is kept in the pieces it came in and joined once. Masking and the accept key are the
`websockets` library's (its C masking: 0.19 µs for a 100-byte frame, against 0.74 µs for a
big-integer XOR in Python).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping

from websockets.utils import accept_key

try:  # the websockets library's C masking, as the library itself imports it
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - a platform without its wheel
    from websockets.utils import apply_mask

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
FIN, RSV_BITS, OPCODE_BITS, CONTROL_BIT, MASK_BIT = 0x80, 0x70, 0x0F, 0x08, 0x80
PROTOCOL_ERROR, UNSUPPORTED_DATA, INVALID_DATA, TOO_BIG = 1002, 1003, 1007, 1009
# The codes a close frame may carry (RFC 6455 7.4.1 and IANA's registry; 3000-4999 for libraries and
# applications); 1004-1006 and 1015 may never be sent.
SENDABLE_CLOSE_CODES = frozenset((*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)))
VERSION = "13"


class Failure(Exception):
    """The client broke the protocol: the connection fails with this close code and reason."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --- the handshake --------------------------------------------------------------------------------

def handshake_problem(headers: Mapping[str, str]) -> tuple[int, str] | None:
    """Why an upgrade request cannot open a WebSocket (status, message), or None. `headers` is
    looked up by canonical name (Tornado's HTTPHeaders is case-insensitive)."""
    if headers.get("Upgrade", "").lower() != "websocket":
        return 400, 'Can "Upgrade" only to "WebSocket".'
    if "upgrade" not in (part.strip().lower() for part in headers.get("Connection", "").split(",")):
        return 400, '"Connection" must be "Upgrade".'
    if headers.get("Sec-WebSocket-Version") != VERSION:
        return 426, "Upgrade Required: Sec-WebSocket-Version must be 13"
    key = headers.get("Sec-WebSocket-Key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        return 400, "Sec-WebSocket-Key must be 16 bytes in base64"
    return None


def accept_value(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key."""
    return accept_key(key)


def offered_subprotocols(headers: Mapping[str, str]) -> list[str]:
    return [part.strip() for part in headers.get("Sec-WebSocket-Protocol", "").split(",") if part.strip()]


# --- frames out -------------------------------------------------------------------------------------

def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (a server's)."""
    length = len(payload)
    if length < 126:
        return bytes((FIN | opcode, length)) + payload
    if length < 65536:
        return struct.pack("!BBH", FIN | opcode, 126, length) + payload
    return struct.pack("!BBQ", FIN | opcode, 127, length) + payload


def close_frame(code: int | None = None, reason: str = "") -> bytes:
    return frame(CLOSE, b"" if code is None else struct.pack("!H", code) + reason.encode("utf-8")[:123])


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


def close_code_and_reason(payload: bytes) -> tuple[int | None, str]:
    """A well-formed close frame's code (None when it has none) and reason."""
    if len(payload) < 2:
        return None, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8")


# --- frames in --------------------------------------------------------------------------------------

class FrameReader:
    """Whole messages and control frames cut from a client's bytes (see the module's docstring)."""

    def __init__(self, max_size: int):
        self.max_size = max_size
        self._buffer = b""
        self._at = 0  # where the next frame starts in the buffer (frames read are not copied away one by one)
        self._pieces: list[bytes] = []  # a frame arriving in many reads, joined once it is whole
        self._pieces_size = 0
        self._needed = 0  # bytes the next frame needs (from its start) before it is looked at again
        self._fragments: bytearray | None = None  # a fragmented message so far
        self._fragment_opcode = TEXT

    def receive_data(self, data: bytes) -> None:
        if not self._pieces:
            if self._at:
                self._buffer, self._at = self._buffer[self._at:], 0
            if len(self._buffer) + len(data) >= self._needed:
                self._buffer = self._buffer + data if self._buffer else data
                return
            self._pieces, self._pieces_size = [self._buffer], len(self._buffer)
        self._pieces.append(data)
        self._pieces_size += len(data)
        if self._pieces_size >= self._needed:
            self._buffer, self._pieces, self._pieces_size = b"".join(self._pieces), [], 0

    @property
    def buffered(self) -> int:
        return len(self._buffer) - self._at + self._pieces_size

    def next_event(self) -> tuple[int, bytes] | None:
        """(TEXT or BINARY, a whole message), (PING, PONG or CLOSE, the payload), or None until more
        bytes come. Raises Failure."""
        while not self._pieces:
            buffer, at = self._buffer, self._at
            size = len(buffer) - at
            if size < 2:
                self._needed = 2
                return None
            first, second = buffer[at], buffer[at + 1]
            opcode, length = first & OPCODE_BITS, second & 0x7F
            if not second & MASK_BIT:
                raise Failure(PROTOCOL_ERROR, "client frames must be masked")
            if first & RSV_BITS:
                raise Failure(PROTOCOL_ERROR, "RSV bits set: no extension was negotiated")
            if opcode & CONTROL_BIT and length > 125:
                raise Failure(PROTOCOL_ERROR, "a control frame over 125 bytes")
            start = 6
            if length >= 126:
                extra = 2 if length == 126 else 8
                if size < 2 + extra:
                    self._needed = 2 + extra
                    return None
                length = int.from_bytes(buffer[at + 2:at + 2 + extra], "big")
                start += extra
            so_far = len(self._fragments) if self._fragments is not None and not opcode & CONTROL_BIT else 0
            if length + so_far > self.max_size:
                raise Failure(TOO_BIG, "message too big")
            end = start + length
            if size < end:
                self._needed = end
                return None
            self._needed = 0
            payload = apply_mask(buffer[at + start:at + end], buffer[at + start - 4:at + start])
            if at + end == len(buffer):
                self._buffer, self._at = b"", 0
            else:
                self._at = at + end
            event = self._frame(first & FIN, opcode, payload)
            if event is not None:
                return event
        return None

    def _frame(self, final: int, opcode: int, payload: bytes) -> tuple[int, bytes] | None:
        """A whole frame (its header's size rules were checked as it came): the rest of the rules."""
        if opcode & CONTROL_BIT:
            if not final:
                raise Failure(PROTOCOL_ERROR, "a fragmented control frame")
            if opcode not in (CLOSE, PING, PONG):
                raise Failure(PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
            if opcode == CLOSE:
                problem = close_frame_problem(payload)
                if problem is not None:
                    raise Failure(*problem)
            return opcode, payload
        if opcode == CONTINUATION:
            if self._fragments is None:
                raise Failure(PROTOCOL_ERROR, "a continuation frame with nothing to continue")
            self._fragments += payload
            if not final:
                return None
            opcode, payload, self._fragments = self._fragment_opcode, bytes(self._fragments), None
        elif self._fragments is not None:
            raise Failure(PROTOCOL_ERROR, "a new message inside a fragmented one")
        elif not final:
            self._fragments, self._fragment_opcode = bytearray(payload), opcode
            return None
        if opcode == TEXT:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                raise Failure(INVALID_DATA, "a text message that is not UTF-8") from None
        elif opcode != BINARY:
            raise Failure(PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
        return opcode, payload
