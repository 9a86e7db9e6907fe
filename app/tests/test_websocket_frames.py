"""What the frame fuzzer (tests/fuzz/ws_fuzz.py) found, one test each against a real server: a
client frame that is not masked, and close frames that are malformed, fail the connection with a
close frame naming the problem, instead of a hang or an echo of what may not be sent; a header that
breaks a rule fails it before the rest of the frame comes. And how the server's own frame layer
(ws_frames.py) cuts frames from what it reads: a frame in many reads, many frames in one read,
frames sent with the upgrade request itself."""

from __future__ import annotations

import json
import socket
import struct
import time

import pytest

from support.processes import TEST_TOKEN

from fuzz.ws_frames import CLOSE, PING, PONG, TEXT, Closed, encode, handshake

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


def test_a_header_that_breaks_a_rule_fails_the_connection_before_its_length_comes(server):
    sock, reader = handshake(server.port, TEST_TOKEN, 5)
    try:
        sock.sendall(bytes([0x80 | 0x40 | TEXT, 0x80 | 126]))  # RSV1 set; the 16-bit length never sent
        frame = reader.frame()  # at once: not a 5 s timeout
        assert frame.opcode == CLOSE and frame.close_code == 1002
        with pytest.raises(Closed):
            reader.frame()  # then the server's end of the connection
    finally:
        sock.close()


def test_a_length_over_the_limit_gets_1009_before_the_mask_key_comes(server):
    sock, reader = handshake(server.port, TEST_TOKEN, 5)
    try:
        sock.sendall(bytes([0x80 | TEXT, 0x80 | 127]) + struct.pack("!Q", 1 << 40))  # no mask key, no payload
        frame = reader.frame()
        assert frame.opcode == CLOSE and frame.close_code == 1009
    finally:
        sock.close()


def test_a_frame_sent_a_byte_at_a_time_is_answered(server):
    sock, reader = handshake(server.port, TEST_TOKEN, 5)
    try:
        for byte in encode(TEXT, PING_REQUEST, mask=b"wxyz"):
            sock.send(bytes([byte]))
            time.sleep(0.001)
        assert b'"result":{}' in reader.frame().payload
    finally:
        sock.close()


def test_a_large_message_in_many_pieces_and_frames_in_one_write_are_answered(server):
    big = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": {"_meta": {"pad": "x" * 300_000}}}).encode()
    sock, reader = handshake(server.port, TEST_TOKEN, 5)
    try:
        data = encode(TEXT, big, mask=b"1234") + encode(TEXT, PING_REQUEST, mask=b"5678") + encode(PING, b"p", mask=b"9abc")
        for at in range(0, len(data), 1000):
            sock.sendall(data[at:at + 1000])
        frames = [reader.frame() for _ in range(3)]
        assert [json.loads(f.payload)["id"] for f in frames if f.opcode == TEXT] == [7, 1]
        assert [f.payload for f in frames if f.opcode == PONG] == [b"p"]
    finally:
        sock.close()


def test_frames_sent_with_the_upgrade_request_are_answered(server):
    early = encode(TEXT, PING_REQUEST, mask=b"abcd") + encode(PING, b"early", mask=b"abcd")
    sock, reader = handshake(server.port, TEST_TOKEN, 5, early=early)
    try:
        frames = [reader.frame(), reader.frame()]
        assert sorted(f.opcode for f in frames) == [TEXT, PONG]
        assert next(f.payload for f in frames if f.opcode == PONG) == b"early"
    finally:
        sock.close()


def test_a_message_near_the_size_limit_arriving_in_pieces_is_answered(make_server):
    """A frame still arriving is never a reason to stop reading (it could then never end)."""
    server = make_server(MCP_MAX_MESSAGE_BYTES=str(2 * 1024 * 1024))
    server.wait_ready()
    padding = "x" * (2 * 1024 * 1024 - 200)
    message = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": {"_meta": {"pad": padding}}}).encode()
    sock, reader = handshake(server.port, TEST_TOKEN, 10)
    try:
        data = encode(TEXT, message, mask=b"wxyz")
        for at in range(0, len(data), 65536):
            sock.sendall(data[at:at + 65536])
        answer = reader.frame()
        assert answer.opcode == TEXT and b'"id":7' in answer.payload
    finally:
        sock.close()
