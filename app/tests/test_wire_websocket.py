"""wire/websocket.py without a socket: a client's bytes in, whole messages and control frames (or the
failure with its close code) out; the handshake's rules; a server's frames out. The frame fuzzer
(tests/fuzz/ws_fuzz.py) drives the same core through a live server against its oracle."""

from __future__ import annotations

import struct

import pytest

from mcp_server.wire.websocket import (BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, Failure, FrameReader,
                                       accept_value, close_code_and_reason, close_frame, frame, handshake_problem)
from support.sans_io import fed

MASK = b"\x01\x02\x03\x04"


def client_frame(opcode: int, payload: bytes, final: bool = True, mask: bytes | None = MASK, rsv: int = 0) -> bytes:
    first = (0x80 if final else 0) | rsv | opcode
    size = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if size < 126:
        head = bytes((first, mask_bit | size))
    elif size < 65536:
        head = bytes((first, mask_bit | 126)) + struct.pack("!H", size)
    else:
        head = bytes((first, mask_bit | 127)) + struct.pack("!Q", size)
    if mask is None:
        return head + payload
    return head + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def events(data: bytes, pieces: int = 0, max_size: int = 1 << 20) -> list[tuple[int, bytes]]:
    reader = FrameReader(max_size)
    return fed(reader.receive_data, reader.next_event, data, pieces)


def failure(data: bytes, max_size: int = 1 << 20) -> tuple[int, str]:
    with pytest.raises(Failure) as caught:
        events(data, max_size=max_size)
    return caught.value.code, caught.value.reason


@pytest.mark.parametrize("pieces", [0, 1, 5, 4096])
def test_messages_and_control_frames_come_out_whole_in_order(pieces):
    big = b"x" * 70_000  # a 64-bit length
    stream = (client_frame(TEXT, b'{"a":1}') + client_frame(PING, b"p") + client_frame(TEXT, big)
              + client_frame(TEXT, b"frag", final=False) + client_frame(PONG, b"") + client_frame(CONTINUATION, b"ment")
              + client_frame(BINARY, b"\x00\xff") + client_frame(CLOSE, struct.pack("!H", 1000) + b"bye"))
    assert events(stream, pieces) == [(TEXT, b'{"a":1}'), (PING, b"p"), (TEXT, big), (PONG, b""),
                                      (TEXT, b"fragment"), (BINARY, b"\x00\xff"), (CLOSE, b"\x03\xe8bye")]


def test_many_frames_in_one_read_are_read_without_copying_the_rest_each_time():
    reader = FrameReader(1 << 20)
    reader.receive_data(client_frame(TEXT, b"{}") * 5000)
    assert sum(1 for _ in iter(reader.next_event, None)) == 5000 and reader.buffered == 0


@pytest.mark.parametrize("data, code, reason", [
    (client_frame(TEXT, b"{}", mask=None), 1002, "client frames must be masked"),
    (client_frame(TEXT, b"{}", rsv=0x40), 1002, "RSV bits set: no extension was negotiated"),
    (client_frame(PING, b"x" * 126), 1002, "a control frame over 125 bytes"),
    (client_frame(PING, b"x", final=False), 1002, "a fragmented control frame"),
    (client_frame(0xB, b""), 1002, "reserved opcode 0xb"),
    (client_frame(0x3, b"x"), 1002, "reserved opcode 0x3"),
    (client_frame(CONTINUATION, b"x"), 1002, "a continuation frame with nothing to continue"),
    (client_frame(TEXT, b"a", final=False) + client_frame(TEXT, b"b"), 1002, "a new message inside a fragmented one"),
    (client_frame(TEXT, b"\xff\xfe"), 1007, "a text message that is not UTF-8"),
    (client_frame(CLOSE, b"\x03"), 1002, "a close frame's payload is a 2-byte code and a reason, not 1 byte"),
    (client_frame(CLOSE, struct.pack("!H", 1005)), 1002, "close code 1005 may not be sent"),
    (client_frame(CLOSE, struct.pack("!H", 1000) + b"\xff"), 1007, "the close reason is not UTF-8"),
])
def test_what_breaks_rfc_6455_fails_with_the_code_to_close_with(data, code, reason):
    assert failure(data) == (code, reason)


def test_a_message_over_the_limit_fails_at_its_length_before_the_payload_comes():
    head = bytes((0x81, 0x80 | 127)) + struct.pack("!Q", 1 << 40)  # no mask key, no payload
    assert failure(head, max_size=1000) == (1009, "message too big")
    fragments = client_frame(TEXT, b"x" * 600, final=False) + client_frame(CONTINUATION, b"x" * 500)
    assert failure(fragments, max_size=1000) == (1009, "message too big")


def test_a_fragmented_message_with_a_reserved_opcode_fails_when_it_is_whole():
    # Tornado's order, which the fuzzer's oracle follows: the size rule first, the opcode at the end
    started = client_frame(0x4, b"x" * 10, final=False)
    assert events(started) == []
    assert failure(started + client_frame(CONTINUATION, b"y")) == (1002, "reserved opcode 0x4")


def test_the_handshake_rules():
    good = {"Upgrade": "websocket", "Connection": "keep-alive, Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    assert handshake_problem(good) is None
    assert accept_value(good["Sec-WebSocket-Key"]) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3
    assert handshake_problem({**good, "Connection": "keep-alive"})[0] == 400
    assert handshake_problem({**good, "Sec-WebSocket-Version": "8"}) == (426, "Upgrade Required: Sec-WebSocket-Version must be 13")
    assert handshake_problem({**good, "Sec-WebSocket-Key": "c2hvcnQ="})[0] == 400


def test_server_frames_are_unmasked_with_the_shortest_length():
    assert frame(TEXT, b"hi") == b"\x81\x02hi"
    assert frame(TEXT, b"x" * 300)[:4] == b"\x81\x7e\x01\x2c"
    assert frame(BINARY, b"x" * 70_000)[:10] == b"\x82\x7f" + struct.pack("!Q", 70_000)
    assert close_frame(1009, "message too big") == b"\x88\x11\x03\xf1message too big"
    assert close_code_and_reason(b"\x03\xe8bye") == (1000, "bye") and close_code_and_reason(b"") == (None, "")
