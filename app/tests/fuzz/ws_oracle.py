"""What an RFC 6455 server with this server's policy does with a client's byte stream: which
pings it answers, which text messages it answers, and how the stream ends.

Policy (RFC 6455 and app/README.md): a client frame that is unmasked, has RSV bits (no extension
is negotiated), a reserved opcode, a fragmented or long control frame, a continuation with nothing
to continue or a new message inside a fragmented one, text that is not UTF-8, or a malformed close
frame fails the connection (closed, with 1002/1007 or no close frame); a message over the size
limit closes with 1009; a binary message with 1003; a valid close frame is echoed."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

from mcp_server import jsonrpc

from fuzz.ws_frames import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, mask_bytes

NO_REPLY = object()  # a notification: the server answers nothing
UNKNOWN = object()  # a text the generator did not write (a lying length shifted the frames)
VALID_CLOSE_CODES = {*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)}
FAIL_CLOSE_CODES = {1002, 1007}


@dataclass
class Outcome:
    pings: list[bytes] = field(default_factory=list)  # payloads of the pings the server must answer
    replies: list[Any] = field(default_factory=list)  # ids of the answers due (None: a parse error)
    end: str = "open"  # open (at a frame boundary), incomplete, fail, close
    close_code: int | None = None  # for end == "close": the code the server's close frame carries
    why: str = ""


def expected_reply(text: str) -> Any:
    """The id the server answers a text message of the generator's with (see ws_fuzz.TEXTS)."""
    if text.startswith("#"):
        return None  # not JSON: -32700 with a null id
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict) and value.get("_fuzz") is True:
        return value["id"] if "id" in value else NO_REPLY
    try:
        jsonrpc.decode(text, 64)
    except jsonrpc.JsonRpcError:
        return None
    return UNKNOWN


def close_problem(payload: bytes) -> str:
    if len(payload) == 1:
        return "close frame with a 1-byte payload"
    if len(payload) >= 2:
        code = struct.unpack("!H", payload[:2])[0]
        if code not in VALID_CLOSE_CODES:
            return f"close frame with code {code}"
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            return "close reason not UTF-8"
    return ""


def simulate(stream: bytes, max_size: int) -> Outcome:
    out = Outcome()
    pos, fragments, fragment_opcode = 0, None, None

    def fail(why: str) -> Outcome:
        out.end, out.why = "fail", why
        return out

    while pos < len(stream):
        if len(stream) - pos < 2:
            out.end = "incomplete"
            return out
        first, second = stream[pos], stream[pos + 1]
        fin, rsv, opcode, masked, length = first & 0x80, first & 0x70, first & 0xF, second & 0x80, second & 0x7F
        pos += 2
        if rsv:
            return fail("RSV bits set")
        if not masked:
            return fail("unmasked client frame")
        control = opcode & 0x8
        if control and length >= 126:
            return fail("control frame longer than 125 bytes")
        extra = 2 if length == 126 else 8 if length == 127 else 0
        if len(stream) - pos < extra:
            out.end = "incomplete"
            return out
        if extra:
            length = struct.unpack("!H" if extra == 2 else "!Q", stream[pos:pos + extra])[0]
            pos += extra
        if length + (len(fragments) if fragments is not None else 0) > max_size:
            out.end, out.close_code, out.why = "close", 1009, "message too big"
            return out
        if len(stream) - pos < 4 + length:
            out.end = "incomplete"
            return out
        payload = mask_bytes(stream[pos:pos + 4], stream[pos + 4:pos + 4 + length])
        pos += 4 + length
        if control:
            if not fin:
                return fail("fragmented control frame")
        elif opcode == CONTINUATION:
            if fragments is None:
                return fail("continuation with nothing to continue")
            fragments += payload
            if not fin:
                continue
            opcode, payload, fragments = fragment_opcode, bytes(fragments), None
        else:
            if fragments is not None:
                return fail("new message inside a fragmented one")
            if not fin:
                fragments, fragment_opcode = bytearray(payload), opcode
                continue
        if opcode == TEXT:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                return fail("text not UTF-8")
            reply = expected_reply(text)
            if reply is not NO_REPLY:
                out.replies.append(reply)
        elif opcode == BINARY:
            out.end, out.close_code, out.why = "close", 1003, "binary message"
            return out
        elif opcode == CLOSE:
            problem = close_problem(payload)
            if problem:
                return fail(problem)
            out.end, out.why = "close", "client close"
            out.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            return out
        elif opcode == PING:
            out.pings.append(payload)
        elif opcode != PONG:
            return fail(f"reserved opcode {opcode:#x}")
    return out
