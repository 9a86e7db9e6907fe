"""RFC 6455 frames on a raw socket: the fuzzer's own encoder (any opcode, RSV bits, mask or none,
a declared length that lies), a strict reader of the server's frames, and the opening handshake."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
from dataclasses import dataclass

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Closed(Exception):
    """The server closed the connection (EOF or reset)."""


class BadServerFrame(AssertionError):
    """The server sent something RFC 6455 forbids a server to send."""


def mask_bytes(mask: bytes, payload: bytes) -> bytes:
    if not payload:
        return payload
    key = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(len(payload), "big")


def encode(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, mask: bytes | None = b"\0\0\0\0",
           length: int | None = None, form: int | None = None) -> bytes:
    """One frame as a client sends it. `length`: the length declared (default: the payload's);
    `form`: force the 7-bit (0), 16-bit (126) or 64-bit (127) length encoding."""
    declared = len(payload) if length is None else length
    if form is None:
        form = 0 if declared < 126 else 126 if declared < 1 << 16 else 127
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0xF])
    masked = 0x80 if mask is not None else 0
    if form == 0:
        head += bytes([masked | declared & 0x7F])
    elif form == 126:
        head += bytes([masked | 126]) + struct.pack("!H", declared & 0xFFFF)
    else:
        head += bytes([masked | 127]) + struct.pack("!Q", declared & (1 << 64) - 1)
    if mask is None:
        return head + payload
    return head + mask + mask_bytes(mask, payload)


@dataclass
class Frame:
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None


class Reader:
    """Reads the server's frames from a socket: each must be final, unmasked, without RSV bits,
    of a defined opcode, a control frame short, a text frame valid UTF-8."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def _fill(self, count: int) -> bytes:
        while len(self.buffer) < count:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                raise Closed("reset") from None
            if not chunk:
                raise Closed("eof")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frame(self) -> Frame:
        first, second = self._fill(2)
        opcode, length = first & 0xF, second & 0x7F
        if not first & 0x80 or first & 0x70 or second & 0x80:
            raise BadServerFrame(f"server frame header {first:#04x} {second:#04x}: not final, RSV set or masked")
        if opcode not in (TEXT, BINARY, CLOSE, PING, PONG):
            raise BadServerFrame(f"server frame with opcode {opcode:#x}")
        if length == 126:
            length = struct.unpack("!H", self._fill(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._fill(8))[0]
        if opcode >= CLOSE and length > 125:
            raise BadServerFrame(f"server control frame of {length} bytes")
        payload = self._fill(length)
        if opcode == TEXT:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                raise BadServerFrame("server text frame is not UTF-8") from None
        return Frame(opcode, payload)


def handshake(port: int, token: str, timeout: float, early: bytes = b"") -> tuple[socket.socket, Reader]:
    """Open a WebSocket to /mcp (subprotocol mcp) and check the server's 101 answer; `early`: frames
    sent in the same write as the upgrade request, before the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n"
                 b"Authorization: Bearer " + token.encode() + b"\r\n\r\n" + early)
    reader, data = Reader(sock), b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise Closed("eof during the handshake")
        data += chunk
    head, reader.buffer = data.split(b"\r\n\r\n", 1)
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    if not head.startswith(b"HTTP/1.1 101") or b"sec-websocket-accept: " + accept.lower() not in head.lower():
        raise AssertionError(f"handshake refused: {head[:200]!r}")
    return sock, reader
