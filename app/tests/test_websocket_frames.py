"""What the frame fuzzer (tests/fuzz/ws_fuzz.py) found, one test each against a real server: a
client frame that is not masked, and close frames that are malformed, fail the connection with a
close frame naming the problem, instead of a hang or an echo of what may not be sent."""

from __future__ import annotations

import socket
import struct

import pytest

from support.processes import TEST_TOKEN

from fuzz.ws_frames import CLOSE, PING, PONG, TEXT, Closed, Reader, encode, handshake

PING_REQUEST = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'


def _close_code_after(server, *frames: bytes) -> tuple[int | None, bytes]:
    """Send the frames; the server's close code and reason, then its end of the connection."""
    sock, reader = handshake(server.port, TEST_TOKEN, 5)
    try:
        sock.sendall(b"".join(frames))
        frame = reader.frame()
        while frame.opcode != CLOSE:
            frame = reader.frame()
        sock.shutdown(socket.SHUT_WR)
        with pytest.raises(Closed):
            reader.frame()
        return frame.close_code, frame.payload[2:]
    finally:
        sock.close()


def test_an_unmasked_frame_fails_the_connection_with_1002(server):
    code, reason = _close_code_after(server, encode(TEXT, PING_REQUEST, mask=None))
    assert code == 1002 and b"masked" in reason


@pytest.mark.parametrize("payload, code, reason", [
    (b"\x03", 1002, b"a close frame's payload is a 2-byte code and a reason, not 1 byte"),
    (struct.pack("!H", 1005), 1002, b"close code 1005 may not be sent"),
    (struct.pack("!H", 1004), 1002, b"close code 1004 may not be sent"),
    (struct.pack("!H", 999), 1002, b"close code 999 may not be sent"),
    (struct.pack("!H", 5000), 1002, b"close code 5000 may not be sent"),
    (struct.pack("!H", 1000) + b"\xff", 1007, b"the close reason is not UTF-8"),
])
def test_a_malformed_close_frame_fails_the_connection(server, payload, code, reason):
    assert _close_code_after(server, encode(CLOSE, payload, mask=b"abcd")) == (code, reason)


@pytest.mark.parametrize("payload, echoed", [(b"", None), (struct.pack("!H", 1000) + "bye €".encode(), 1000),
                                             (struct.pack("!H", 4000), 4000)])
def test_a_valid_close_frame_is_echoed(server, payload, echoed):
    assert _close_code_after(server, encode(CLOSE, payload, mask=b"abcd"))[0] == echoed


def test_masked_frames_are_still_served(server):
    sock, reader = handshake(server.port, TEST_TOKEN, 5)
    try:
        sock.sendall(encode(TEXT, PING_REQUEST, mask=b"\x01\x02\x03\x04") + encode(PING, b"p", mask=b"abcd"))
        frames = [reader.frame(), reader.frame()]
        assert sorted(f.opcode for f in frames) == [TEXT, PONG]
        assert b'"result":{}' in next(f.payload for f in frames if f.opcode == TEXT)
    finally:
        sock.close()
