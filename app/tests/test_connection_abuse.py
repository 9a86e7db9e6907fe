"""What one client, without a credential, must not be able to do to the server or its other clients:
each finding of the connection layer's security review and its class, on raw sockets against a real
server. Memory is the server process's RSS, read from /proc; every wait is for a condition."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.request

import pytest

from support.processes import TEST_TOKEN, wait_for

from fuzz.ws_frames import TEXT, encode, handshake

MIB = 1024
RSS_GROWTH_LIMIT_KIB = 10 * MIB
UNAUTHENTICATED_POST = (b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 2\r\n\r\n{}")


def health(port: int) -> bytes:
    return f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def first_line_then_end(sock: socket.socket) -> tuple[bytes, bytes]:
    """The status line of what the server sends and the rest, until it closes the connection."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    line, _sep, rest = received.partition(b"\r\n")
    return line, rest


def rss_growth_until_steady(proc, baseline: int) -> int:
    """The most the server's RSS grew over `baseline` (KiB), read until it has not changed for a
    second (the server has stopped taking what the client sends)."""
    peak = last = proc.rss_kib()
    last_change = time.monotonic()
    while time.monotonic() - last_change < 1.0:
        time.sleep(0.05)
        now = proc.rss_kib()
        if now != last:
            last, last_change = now, time.monotonic()
        peak = max(peak, now)
    return peak - baseline


def warmed(proc) -> int:
    """The RSS (KiB) of a server that has answered every kind of request the tests send."""
    proc.wait_ready()
    for raw in (health(proc.port), UNAUTHENTICATED_POST):
        with socket.create_connection(("127.0.0.1", proc.port), timeout=5) as sock:
            sock.sendall(raw.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
            first_line_then_end(sock)
    return proc.rss_kib()


@pytest.fixture
def lone_server(make_server):
    """A server of one test's own, so that its RSS is that test's (refusals not limited: each of its
    thousands of 401s is a request to answer)."""
    return make_server(MCP_REFUSED_RATE_LIMIT="0")


# --- bodies ------------------------------------------------------------------------------------------


def test_an_endless_chunked_body_is_refused_at_the_limit_and_memory_stays_flat(lone_server):
    """Review finding (high): 171 MiB of one chunk accepted in 60 s, RSS 83 -> 265 MiB."""
    proc = lone_server
    baseline = warmed(proc)
    sent = 0
    with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as sock:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n")
        piece = b"x" * 65536
        try:
            while sent < 200 * 1024 * 1024:
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
    # the limit is MCP_MAX_MESSAGE_BYTES (1 MiB) + 64 KiB; what the kernels' buffers took is on top
    assert sent < 40 * 1024 * 1024, "the server kept reading an endless chunk"
    wait_for(lambda: "answered 413 Content Too Large" in proc.log(), what="the 413 in the log")
    assert proc.rss_kib() - baseline < RSS_GROWTH_LIMIT_KIB


@pytest.mark.parametrize("size_line", [b"0x5", b"+5", b" 5", b"0_5", b"-0", b"10000000000000000", b"5;a\rb",
                                       b"5;a\x01b"])
def test_a_lenient_chunk_line_is_refused(server, size_line):
    """Review finding (medium): `int(x.strip(), 16)` took these; a front end reading them another way
    disagrees about where the request ends."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line
                     + b"\r\nhello\r\n0\r\n\r\n" + health(server.port))
        line, rest = first_line_then_end(sock)
    assert line == b"HTTP/1.1 400 Bad Request" and b"malformed HTTP request" in rest
    assert b"HTTP/1.1 200" not in rest  # nothing after the refused request is read


def test_a_head_ended_by_a_bare_lf_cannot_smuggle_a_content_length(server):
    """Review finding (medium): after `\\n\\n`, a later CRLF CRLF ended the head, so the next
    request's Content-Length swallowed the request after it."""
    swallowed = health(server.port)
    smuggled = (b"GET /health HTTP/1.1\nHost: 127.0.0.1\n\nContent-Length: %d\r\n\r\n" % len(swallowed)
                + swallowed)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(smuggled)
        line, rest = first_line_then_end(sock)
    assert line == b"HTTP/1.1 400 Bad Request" and b"HTTP/1.1 200" not in rest


# --- clients that do not read ---------------------------------------------------------------------


def pipeline_without_reading(port: int, request: bytes, count: int) -> tuple[socket.socket, int]:
    """Sends `count` requests on one connection and reads nothing; returns the socket and how many
    requests went out before the server stopped taking them (the send blocked for 3 s)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    batch = 500
    sent = 0
    try:
        while sent < count:
            sock.sendall(request * batch)
            sent += batch
    except socket.timeout:
        pass
    return sock, sent


def test_pipelined_requests_from_a_client_that_never_reads_do_not_grow_memory(lone_server):
    """Review finding (high): 60,000 pipelined POST /mcp (401s) were all answered into memory."""
    proc = lone_server
    baseline = warmed(proc)
    sock, sent = pipeline_without_reading(proc.port, UNAUTHENTICATED_POST, 60_000)
    try:
        growth = rss_growth_until_steady(proc, baseline)
        assert growth < RSS_GROWTH_LIMIT_KIB, f"RSS grew {growth} KiB for {sent} requests sent"
        with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as other:  # others are still served
            other.sendall(health(proc.port))
            assert other.recv(65536).startswith(b"HTTP/1.1 200 OK")
    finally:
        sock.close()


def test_a_websocket_client_that_never_reads_does_not_grow_memory(lone_server):
    """The same for WebSocket: frames stop being read while the answers cannot be written."""
    proc = lone_server
    baseline = warmed(proc)
    sock, _reader = handshake(proc.port, TEST_TOKEN, 3)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    listing = encode(TEXT, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).encode(),
                     mask=b"abcd")
    sent = 0
    try:
        try:
            while sent < 200_000:
                sock.sendall(listing * 500)
                sent += 500
        except socket.timeout:
            pass
        assert sent < 200_000, "the server kept reading frames it could not answer"
        growth = rss_growth_until_steady(proc, baseline)
        assert growth < RSS_GROWTH_LIMIT_KIB, f"RSS grew {growth} KiB for {sent} requests sent"
    finally:
        sock.close()


def test_a_pipelined_burst_shares_the_event_loop_with_other_clients(server):
    """Review finding (medium): one connection's pipelined burst was served in one event-loop turn
    (all it had buffered, up to 1 MiB) while another client's /health waited 3.4-9 s. Here the other
    client is answered at once while the burst is still being answered."""
    burst = UNAUTHENTICATED_POST * 60_000  # 6.3 MB of 401s, answered without a wait (the lean handler)
    received = [0]
    done = threading.Event()

    def burst_client() -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            threading.Thread(target=sock.sendall, args=(burst,), daemon=True).start()
            tail, answers = b"", 0
            while answers < 60_000:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                received[0] += len(chunk)
                window = tail + chunk
                answers += window.count(b"HTTP/1.1 401")
                tail = window[-11:]  # too short to hold a whole status line: none is counted twice
        done.set()

    threading.Thread(target=burst_client, daemon=True).start()
    wait_for(lambda: received[0] > 1 << 20, what="the burst's first MiB of answers")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as other:
        started = time.monotonic()
        other.sendall(health(server.port))
        assert other.recv(65536).startswith(b"HTTP/1.1 200 OK")
        waited = time.monotonic() - started
    assert not done.is_set(), f"the other client was answered after the whole burst ({waited:.2f} s)"
    assert waited < 1.0, f"the other client waited {waited:.2f} s behind the burst"


# --- time and count --------------------------------------------------------------------------------


def test_slow_heads_are_answered_408_and_closed(make_server):
    """Review finding (medium): 50 of 50 half-sent heads were still open after 60 s."""
    proc = make_server(MCP_HEAD_TIMEOUT_SECONDS="1")
    proc.wait_ready()
    socks = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", proc.port), timeout=15)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(sock)
        silent = socket.create_connection(("127.0.0.1", proc.port), timeout=15)  # sends nothing at all
        socks.append(silent)
        for sock in socks:
            line, rest = first_line_then_end(sock)
            assert line == b"HTTP/1.1 408 Request Timeout" and b"did not arrive within 1 s" in rest
    finally:
        for sock in socks:
            sock.close()


def test_a_slow_body_is_answered_408(make_server):
    proc = make_server(MCP_BODY_TIMEOUT_SECONDS="1")
    proc.wait_ready()
    with socket.create_connection(("127.0.0.1", proc.port), timeout=15) as sock:
        sock.sendall(UNAUTHENTICATED_POST.replace(b"Content-Length: 2", b"Content-Length: 100")[:-2] + b"{")
        line, rest = first_line_then_end(sock)
    assert line == b"HTTP/1.1 408 Request Timeout" and b"the request body did not arrive within 1 s" in rest


def test_an_idle_keep_alive_connection_is_closed(make_server):
    proc = make_server(MCP_IDLE_TIMEOUT_SECONDS="1")
    proc.wait_ready()
    with socket.create_connection(("127.0.0.1", proc.port), timeout=15) as sock:
        sock.sendall(health(proc.port))
        line, _rest = first_line_then_end(sock)  # the answer, then the server's close
    assert line == b"HTTP/1.1 200 OK"


def scraped(proc, pattern: str) -> float:
    """One series of the server's /metrics (on its metrics port)."""
    with urllib.request.urlopen(f"{proc.metrics_base}/metrics", timeout=10) as response:
        return float(re.search(pattern, response.read().decode(), re.M).group(1))


def test_connections_beyond_the_limit_are_answered_503(make_server):
    proc = make_server(MCP_MAX_CONNECTIONS="4")
    proc.wait_ready()

    def open_now() -> float:
        return scraped(proc, r'^mcp_open_tcp_connections\{listener="mcp"\} (\S+)$')

    wait_for(lambda: open_now() == 0, what="the readiness checks' connections gone from the count")
    held = [socket.create_connection(("127.0.0.1", proc.port), timeout=10) for _ in range(4)]
    try:
        for sock in held:  # each is served, so the server has counted it
            sock.sendall(health(proc.port))
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as extra:
            line, rest = first_line_then_end(extra)
        assert line == b"HTTP/1.1 503 Service Unavailable" and b"too many open connections" in rest
        held.pop().close()
        wait_for(lambda: open_now() == 3, what="the closed connection gone from the count")
        with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as sock:
            sock.sendall(health(proc.port))
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        assert scraped(proc, r'^mcp_rejected_requests_total\{reason="connections_over_limit"\} (\S+)$') == 1
    finally:
        for sock in held:
            sock.close()
