"""HTTP/1.1 fuzzer against a running server: random pipelines of requests on raw connections.

Each connection sends one to six requests in one or many writes, then half-closes. A request is
well formed (GET /health, an unauthenticated POST /mcp with a Content-Length or a chunked body, a
GET to a path that is not there), or one of them with a known flaw (each of the forms that let a
front end and a server disagree about where a request ends: a bare LF, obs-fold, Content-Length
beside Transfer-Encoding, two Content-Lengths, lenient chunk size lines, a head or body over the
limits, an HTTP version not served), or one with random bytes changed (what the server makes of it
is not predicted). An input is one request; each connection is reproducible from (seed, index).

What must hold, whatever was sent (the oracle):
- every answer is a well-formed HTTP/1.1 response, and there are never more answers than requests
  (one more would be a request the server cut out of another: a desync);
- the well-formed requests before the first flawed one get their answers, in order, with the status
  each must have;
- a request with a known flaw is answered with a refusal (400, 413, 431 or 505) and nothing after it
  is answered; one with random changes is answered or refused;
- the server ends the connection within CONNECTION_SECONDS of the half-close (else a hang).
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass, field

CONNECTION_SECONDS = 10.0
REFUSALS = (400, 413, 431, 505)
MAX_BODY = 65536 + 65536  # the server's MCP_MAX_MESSAGE_BYTES for a run, plus the 64 KiB it allows beside it


@dataclass
class Request:
    data: bytes
    status: int | None  # the answer due; None: a refusal is due (a known flaw)
    mutated: bool = False  # random bytes changed: any answer or a refusal


def _host(port: int) -> bytes:
    return b"Host: 127.0.0.1:%d\r\n" % port


def _chunked(rng: random.Random, body: bytes) -> bytes:
    out, at = b"", 0
    while at < len(body):
        size = rng.randrange(1, 40)
        piece = body[at:at + size]
        extension = rng.choice([b"", b";a=b", b';name="quoted"'])
        out += b"%x%s\r\n%s\r\n" % (len(piece), extension, piece)
        at += size
    return out + b"0\r\n\r\n"


def well_formed(rng: random.Random, port: int) -> Request:
    kind = rng.randrange(4)
    if kind == 0:
        return Request(b"GET /health HTTP/1.1\r\n" + _host(port) + b"\r\n", 200)
    if kind == 1:
        return Request(b"GET /nowhere-%d HTTP/1.1\r\n" % rng.randrange(1000) + _host(port) + b"\r\n", 404)
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    head = b"POST /mcp HTTP/1.1\r\n" + _host(port) + b"Content-Type: application/json\r\n"
    if kind == 2:
        return Request(head + b"Content-Length: %d\r\n\r\n" % len(body) + body, 401)
    return Request(head + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(rng, body), 401)


def _flawed(rng: random.Random, port: int) -> bytes:
    """A request with one of the known flaws."""
    host = _host(port)
    post = b"POST /mcp HTTP/1.1\r\n" + host
    flaws = [
        lambda: b"GET /health HTTP/1.1\n" + host.replace(b"\r\n", b"\n") + b"\n",
        lambda: b"GET /health HTTP/1.1\r\n" + host + b"X-Folded: a\r\n b\r\n\r\n",
        lambda: post + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        lambda: post + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        lambda: post + b"Content-Length: 2, 2\r\n\r\n{}",
        lambda: post + b"Transfer-Encoding: chunked\r\n\r\n" + rng.choice(
            [b"0x2", b"+2", b" 2", b"2 ", b"0_2", b"-2", b"2;a\rb", b"2;\x01", b"1" * 17, b"g"]) + b"\r\n{}\r\n0\r\n\r\n",
        lambda: post + b"Transfer-Encoding: gzip, chunked, identity\r\n\r\n0\r\n\r\n",
        lambda: post + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1 + rng.randrange(10**9)),
        lambda: post + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (MAX_BODY + 1) + b"x" * (MAX_BODY + 1),
        lambda: b"GET /health HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n",
        lambda: b"GET /health HTTP/" + rng.choice([b"2.0", b"0.9", b"1.2", b"3.0"]) + b"\r\n" + host + b"\r\n",
        lambda: b"GET /health HTTP/1.1\r\n" + host + b"Bad Name: x\r\n\r\n",
        lambda: b"GET /health HTTP/1.1\r\n" + host + b"X: a\x00b\r\n\r\n",
    ]
    return rng.choice(flaws)()


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(data))
        choice = rng.randrange(4)
        if choice == 0:
            data[at] = rng.randrange(256)
        elif choice == 1:
            data[at:at] = rng.choice([b"\r", b"\n", b"\r\n", b" ", b":", b"\x00", b";", b"0"])
        elif choice == 2:
            del data[at:at + rng.randrange(1, 8)]
        else:
            data[at:at] = data[rng.randrange(len(data)):][:rng.randrange(1, 30)]
    return bytes(data)


def pipeline(rng: random.Random, port: int) -> list[Request]:
    requests = []
    for _ in range(rng.randrange(1, 7)):
        roll = rng.random()
        if roll < 0.6:
            requests.append(well_formed(rng, port))
        elif roll < 0.8:
            requests.append(Request(_flawed(rng, port), None))
        else:
            base = well_formed(rng, port)
            requests.append(Request(_mutate(rng, base.data), base.status, mutated=True))
    return requests


class Malformed(Exception):
    """The server sent something that is not an HTTP/1.1 response."""


def _responses(data: bytes) -> list[int]:
    """The statuses of the whole responses in `data` (bodies by Content-Length or chunked)."""
    statuses, at = [], 0
    while at < len(data):
        end = data.find(b"\r\n\r\n", at)
        if end < 0:
            raise Malformed(f"an answer's head does not end: {data[at:at + 80]!r}")
        lines = data[at:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] != "HTTP/1.1" or not parts[1].isdigit():
            raise Malformed(f"not a status line: {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise Malformed(f"not a header line: {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        at = end + 4
        status = int(parts[1])
        if 100 <= status < 200:
            continue
        if "content-length" in headers:
            at += int(headers["content-length"])
        elif headers.get("transfer-encoding") == "chunked":
            while True:
                line_end = data.find(b"\r\n", at)
                size = int(data[at:line_end], 16)
                at = line_end + 2 + size + 2
                if size == 0:
                    break
        if at > len(data):
            raise Malformed("an answer's body is cut short")
        statuses.append(status)
    return statuses


def check(requests: list[Request], statuses: list[int]) -> str | None:
    """What is wrong with `statuses` as the answers to `requests`, or None. Up to the first request
    that is not well formed each answer is predicted; after a randomly changed one (whose framing may
    have moved, swallowing what follows or leaving a remnant to refuse) only a bound holds."""
    for index, request in enumerate(requests):
        if request.mutated:
            after = statuses[index:]
            if len(statuses) > len(requests) + 1 or (len(statuses) == len(requests) + 1 and after[-1] not in REFUSALS):
                return f"{len(statuses)} answers to {len(requests)} requests: the server read a request that was not sent"
            refused = [at for at, status in enumerate(after) if status in REFUSALS]
            if refused and refused[0] != len(after) - 1:
                return f"answers after a refusal: {statuses}"
            return None
        if index >= len(statuses):
            return f"request {index} (due {request.status or 'a refusal'}) not answered: got {statuses}"
        status = statuses[index]
        if request.status is None:
            if status not in REFUSALS:
                return f"request {index} has a known flaw and was answered {status}, not refused"
            if len(statuses) > index + 1:
                return f"answers after the refused request {index}: {statuses}"
            return None
        if status != request.status:
            return f"request {index} answered {status}, not {request.status}: {statuses}"
    if len(statuses) > len(requests):
        return f"{len(statuses)} answers to {len(requests)} requests: the server read a request that was not sent"
    return None


@dataclass
class Report:
    inputs: int = 0
    connections: int = 0
    crashes: list[str] = field(default_factory=list)  # violations of the oracle
    hangs: list[str] = field(default_factory=list)


def one_connection(port: int, seed: int, index: int, report: Report) -> None:
    rng = random.Random(f"{seed}:{index}")
    requests = pipeline(rng, port)
    report.inputs += len(requests)
    report.connections += 1
    raw = b"".join(request.data for request in requests)
    tag = f"connection {index} (seed {seed})"
    received = b""
    deadline = time.monotonic() + CONNECTION_SECONDS
    with socket.create_connection(("127.0.0.1", port), timeout=CONNECTION_SECONDS) as sock:
        try:
            if rng.random() < 0.3:
                at = 0
                while at < len(raw):
                    step = rng.randrange(1, 200)
                    sock.sendall(raw[at:at + step])
                    at += step
            else:
                sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # refused and closed while the rest was still going out
        try:
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            report.hangs.append(f"{tag}: not ended {CONNECTION_SECONDS:g} s after the half-close; got {received[:200]!r}")
            return
        except ConnectionResetError:
            pass
    try:
        statuses = _responses(received)
    except (Malformed, ValueError) as exc:
        report.crashes.append(f"{tag}: {exc}")
        return
    problem = check(requests, statuses)
    if problem is not None:
        report.crashes.append(f"{tag}: {problem}")


def fuzz_connections(port: int, seed: int, inputs: int) -> Report:
    report = Report()
    index = 0
    while report.inputs < inputs:
        one_connection(port, seed, index, report)
        index += 1
    return report
