"""Frame-level WebSocket fuzzer against a running server.

Each connection sends a random sequence of frames (text messages whole or fragmented with
control frames between the fragments, pings, pongs, binary, close frames valid and not, reserved
opcodes, RSV bits, unmasked frames, lying and huge lengths, invalid UTF-8, oversized messages);
ws_oracle says what the server must answer and how the connection must end, and the connection is
checked against it: every server frame well formed, the pongs and answers due, the close code due,
and the end within a time limit (else a hang). Meanwhile a well-behaved MCP session calls a tool
in a loop and must see no error. An input is one frame; each connection is reproducible from
(seed, connection index)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from support.clients import RawWebSocket

from fuzz import ws_oracle
from fuzz.ws_frames import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, Closed, Frame, Reader, encode, handshake
from fuzz.ws_oracle import NO_REPLY, UNKNOWN, Outcome

MAX_FRAMES = 12
CONNECTION_SECONDS = 10.0  # a connection not over by then is a hang
UNICODE = "aé€😀\u2028\u0000\"\\{}[]"


def _random_text(rng: random.Random, size: int) -> str:
    return "#" + "".join(rng.choice(UNICODE) for _ in range(size))


def _text(rng: random.Random, ids: itertools.count) -> str:
    """A text message whose answer ws_oracle.expected_reply knows (the `_fuzz` marker)."""
    kind = rng.randrange(6)
    if kind == 0:
        return _random_text(rng, rng.randrange(40))
    if kind == 1:
        return json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized", "_fuzz": True})
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": next(ids) if rng.random() < 0.5 else f"r{next(ids)}",
                               "method": rng.choice(["ping", "tools/list", "initialize", "no/such"]), "_fuzz": True}
    if request["method"] == "initialize":
        request["params"] = {"protocolVersion": "2025-11-25", "capabilities": {}}
    elif kind == 2:
        request["params"] = {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                       "io.modelcontextprotocol/clientCapabilities": {}}}
    return json.dumps(request, ensure_ascii=rng.random() < 0.5)


def _mask(rng: random.Random) -> bytes:
    return rng.choice([b"\0\0\0\0", rng.randbytes(4)])


def _split(rng: random.Random, data: bytes) -> list[bytes]:
    cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randrange(1, 4)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]


def _control(rng: random.Random) -> bytes:
    return encode(rng.choice([PING, PING, PONG]), rng.randbytes(rng.randrange(126)), mask=_mask(rng))


def _close_payload(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return b""
    if kind == 1:
        return rng.randbytes(1)
    code = rng.choice([1000, 1001, 1003, 1008, 1011, 3000, 4999] if kind < 4 else [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535])
    reason = rng.choice([b"", "bye €".encode(), b"\xff\xfe", b"\xc3"])
    return struct.pack("!H", code) + reason


def _frame(rng: random.Random, ids: itertools.count, max_size: int) -> bytes:
    """One step of a connection: usually one frame, a fragmented message counts as one."""
    roll = rng.random()
    text = _text(rng, ids).encode()
    if roll < 0.30:
        return encode(TEXT, text, mask=_mask(rng), form=rng.choice([None, None, None, 126, 127]))
    if roll < 0.45:
        parts, out = _split(rng, text), b""
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            out += encode(TEXT if index == 0 else CONTINUATION, part, fin=last, mask=_mask(rng))
            if not last and rng.random() < 0.5:
                out += _control(rng)
        return out
    if roll < 0.58:
        return _control(rng)
    if roll < 0.62:
        bad = bytearray(text)
        bad.insert(rng.randrange(len(bad) + 1), rng.choice([0xFF, 0xC0, 0xED, 0xF8, 0x80]))
        return encode(TEXT, bytes(bad), mask=_mask(rng))
    if roll < 0.65:
        return encode(TEXT, text, mask=None)
    if roll < 0.68:
        return encode(rng.choice([TEXT, PING]), text[:100], rsv=rng.randrange(1, 8), mask=_mask(rng))
    if roll < 0.71:
        return encode(rng.choice([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]), text[:100], fin=rng.random() < 0.7,
                      mask=_mask(rng))
    if roll < 0.74:
        opcode = rng.choice([PING, PONG, CLOSE])
        return encode(opcode, rng.randbytes(rng.randrange(126, 300)) if rng.random() < 0.5 else b"", mask=_mask(rng),
                      fin=rng.random() < 0.5)
    if roll < 0.76:
        return encode(CONTINUATION, text, fin=rng.random() < 0.5, mask=_mask(rng))
    if roll < 0.78:
        return encode(BINARY, text, mask=_mask(rng))
    if roll < 0.83:
        return encode(CLOSE, _close_payload(rng), mask=_mask(rng))
    if roll < 0.86:
        return encode(TEXT, b"", mask=_mask(rng), length=rng.choice([max_size + 1, 1 << 32, (1 << 63) + 1, (1 << 64) - 1]),
                      form=127)
    if roll < 0.89:
        big = _random_text(rng, 0).encode() + b"x" * rng.randrange(max_size - 200, max_size + 200)
        return encode(TEXT, big, mask=_mask(rng))
    if roll < 0.95:
        return encode(TEXT, text, mask=_mask(rng), length=max(0, len(text) + rng.choice([-5, -1, 1, 3, 200])))
    return rng.randbytes(rng.randrange(1, 20))


def generate(rng: random.Random, max_size: int) -> tuple[list[bytes], Outcome]:
    """The frames of one connection, up to the one that ends it (the oracle's verdict on them)."""
    ids = itertools.count(1)
    frames: list[bytes] = []
    outcome = ws_oracle.simulate(b"", max_size)
    for _ in range(rng.randint(1, MAX_FRAMES)):
        frames.append(_frame(rng, ids, max_size))
        outcome = ws_oracle.simulate(b"".join(frames), max_size)
        if outcome.end != "open":
            break
    return frames, outcome


class Violation(AssertionError):
    """The server did not do what RFC 6455 and its policy say."""


@dataclass
class Seen:
    pongs: list[bytes] = field(default_factory=list)
    replies: list[Any] = field(default_factory=list)
    close: Frame | None = None


def _read_until(reader: Reader, seen: Seen, done: Any) -> None:
    while not done(seen):
        frame = reader.frame()
        if frame.opcode == PONG:
            seen.pongs.append(frame.payload)
        elif frame.opcode == TEXT:
            reply = json.loads(frame.payload)
            if not isinstance(reply, dict) or "id" not in reply or ("result" in reply) == ("error" in reply):
                raise Violation(f"not a JSON-RPC response: {frame.payload[:200]!r}")
            seen.replies.append(reply["id"])
        elif frame.opcode == CLOSE:
            seen.close = frame
        elif frame.opcode == BINARY:
            raise Violation("the server sent a binary frame")


def _is_subsequence(part: list[Any], whole: list[Any]) -> bool:
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)


def _check_replies(expected: Outcome, seen: Seen, strict: bool) -> None:
    if not _is_subsequence(seen.pongs, expected.pings):
        raise Violation(f"pongs {seen.pongs!r:.200} are not answers to the pings {expected.pings!r:.200} in order")
    due = [r for r in expected.replies if r is not UNKNOWN]
    if strict and UNKNOWN not in expected.replies and seen.replies != due:
        raise Violation(f"answers {seen.replies} where {due} were due")
    if not _is_subsequence(due, seen.replies) if strict else not _is_subsequence(seen.replies, expected.replies + [None] * 99):
        raise Violation(f"answers {seen.replies} do not match {due}")


def _finish(sock: socket.socket, reader: Reader, seen: Seen) -> None:
    """Read to the end: only EOF or a reset may come (no more frames after a close)."""
    try:
        while True:
            frame = reader.frame()
            if seen.close is not None:
                raise Violation(f"a frame (opcode {frame.opcode:#x}) after the close frame")
            if frame.opcode == CLOSE:
                seen.close = frame
    except Closed:
        return


def _end_sending(sock: socket.socket) -> None:
    """The client's end of the stream (the server may have closed already: a reset)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def check_connection(port: int, token: str, frames: list[bytes], expected: Outcome, rng: random.Random) -> None:
    sock, reader = handshake(port, token, CONNECTION_SECONDS)
    sock.settimeout(CONNECTION_SECONDS)
    seen = Seen()
    try:
        try:
            sock.sendall(b"".join(frames))
        except (BrokenPipeError, ConnectionResetError):
            if expected.end not in ("fail", "close"):
                raise Violation("the server closed while the frames were sent") from None
        if expected.end == "open":
            sync = b"sync-%d" % rng.randrange(1 << 30)
            sock.sendall(encode(PING, sync, mask=rng.randbytes(4)))
            _read_until(reader, seen, lambda s: sync in s.pongs)
            seen.pongs.remove(sync)
            _check_replies(expected, seen, strict=True)
            sock.sendall(encode(CLOSE, struct.pack("!H", 1000), mask=rng.randbytes(4)))
            _read_until(reader, seen, lambda s: s.close is not None)
            if seen.close.close_code != 1000:
                raise Violation(f"close 1000 answered with {seen.close.close_code}")
        elif expected.end == "close":
            _read_until(reader, seen, lambda s: s.close is not None)
            _check_replies(expected, seen, strict=True)
            code = seen.close.close_code
            if code != expected.close_code and not (expected.close_code is None and code == 1000):
                raise Violation(f"closed with {code} after {expected.why}; {expected.close_code} was due")
            sock.sendall(encode(CLOSE, seen.close.payload[:2], mask=rng.randbytes(4)))
            _end_sending(sock)
        elif expected.end == "fail":
            # Closed with no close frame, or with one that the client answers by closing its end.
            _read_until(reader, seen, lambda s: s.close is not None)
            _end_sending(sock)
        elif expected.end == "incomplete":
            # The server waits for the rest of the last frame: the answers due come first, then
            # the client's end of the stream must end the connection.
            due = len(expected.replies) if UNKNOWN not in expected.replies else 0
            _read_until(reader, seen, lambda s: len(s.replies) >= due)
            _end_sending(sock)
        _finish(sock, reader, seen)
    except Closed:
        if expected.end not in ("fail", "incomplete"):
            raise Violation(f"the server closed the connection where {expected.end} was due") from None
    except socket.timeout:
        raise Violation(f"hang: nothing more from the server in {CONNECTION_SECONDS:g} s "
                        f"(due: {expected.end} {expected.why})") from None
    finally:
        sock.close()
    if expected.end == "fail":
        _check_replies(expected, seen, strict=False)
        if seen.close is not None and seen.close.close_code not in ws_oracle.FAIL_CLOSE_CODES:
            raise Violation(f"failed the connection ({expected.why}) with close code {seen.close.close_code}")
    elif expected.end == "incomplete":
        _check_replies(expected, seen, strict=True)


@dataclass
class Report:
    inputs: int = 0
    connections: int = 0
    crashes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    ends: dict[str, int] = field(default_factory=dict)


def fuzz_connections(port: int, token: str, seed: int, inputs: int, max_size: int, workers: int = 3,
                     stop_after_failures: int = 10) -> Report:
    report, lock, counter = Report(), threading.Lock(), itertools.count()

    def work() -> None:
        while True:
            with lock:
                if report.inputs >= inputs or len(report.crashes) + len(report.hangs) >= stop_after_failures:
                    return
                index = next(counter)
            rng = random.Random(f"{seed}:{index}")
            frames, expected = generate(rng, max_size)
            try:
                check_connection(port, token, frames, expected, rng)
                failure = None
            except Exception as exc:  # noqa: BLE001 - whatever went wrong is reported with its connection
                failure = f"connection {index} (seed {seed}; due: {expected.end} {expected.why}): {exc!r:.400}"
            with lock:
                report.inputs += len(frames)
                report.connections += 1
                report.ends[expected.end] = report.ends.get(expected.end, 0) + 1
                if failure is not None:
                    (report.hangs if "hang" in failure else report.crashes).append(failure)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return report


@dataclass
class SessionLog:
    calls: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


class WellBehavedSession:
    """One MCP WebSocket session that saves a note, then reads it back in a loop (about 50 calls
    a second, within the server's rate limit) until stopped; every error and latency is kept."""

    def __init__(self, url: str, pause: float = 0.02):
        self.url, self.pause = url, pause
        self.log = SessionLog()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> WellBehavedSession:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(30)
        if self._thread.is_alive():
            self.log.errors.append("the session did not stop within 30 s")

    async def _run(self) -> None:
        try:
            async with RawWebSocket(self.url) as ws:
                await ws.initialize()
                saved = await ws.call("save_note", {"title": "fuzz", "content": "the session beside the fuzzer"})
                note = saved["structuredContent"]["id"]
                while not self._stop.is_set():
                    started = time.perf_counter()
                    result = await ws.call("get_note", {"id": note})
                    self.log.latencies.append(time.perf_counter() - started)
                    self.log.calls += 1
                    if result.get("isError") or result["structuredContent"]["id"] != note:
                        self.log.errors.append(f"call {self.log.calls}: {result!r:.200}")
                    await asyncio.sleep(self.pause)
        except Exception as exc:  # noqa: BLE001 - any failure of the session is what we count
            self.log.errors.append(f"after {self.log.calls} calls: {exc!r}")
