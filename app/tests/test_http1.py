"""The server's HTTP/1.1 connections (http1.py over wire/http11.py), on raw sockets: how a request is
read (in pieces, several in one write, Expect: 100-continue, Connection: close) and how a request
that cannot be read is refused (a status that names the problem, then the end of the connection).
What the requests mean is tested through them everywhere else: every HTTP and WebSocket test, the
SDK clients and the conformance suite run on these connections. What one client must not be able to
do to the others is in test_connection_abuse.py."""

from __future__ import annotations

import json
import socket

from support.processes import TEST_TOKEN, wait_for
from support.raw_http import answer_then_end, exchange

LIST = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()


def post(port: int, body: bytes = LIST, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    return (f"POST /mcp {version}\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/list\r\n"
            f"Authorization: Bearer {TEST_TOKEN}\r\n{extra}Content-Length: {len(body)}\r\n\r\n").encode() + body


def get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def test_requests_of_both_kinds_on_one_connection_are_answered_in_order(server):
    port = server.port
    answers = exchange(port, get(port, "/health") + post(port) + get(port, "/nowhere") + post(port), answers=4)
    assert [status for status, _h, _b in answers] == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK",
                                                       "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"]
    assert json.loads(answers[1][2])["id"] == 3 and json.loads(answers[3][2])["id"] == 3


def test_a_request_sent_a_byte_at_a_time_is_answered(server):
    [(status, _headers, _body)] = exchange(server.port, post(server.port), pieces=1)
    assert status == "HTTP/1.1 200 OK"


def test_lines_ended_by_lf_alone_are_refused(server):
    # RFC 9112 2.2 allows a recipient to accept them; a front end that does not would disagree
    # with this server about where the head ends
    status, body = refusal(server.port, post(server.port).replace(b"\r\n", b"\n"))
    assert status == "HTTP/1.1 400 Bad Request" and body == "malformed HTTP request: Expected CRLF after version\n"


def test_expect_100_continue_is_answered_before_the_body_is_sent(server):
    head, _sep, body = post(server.port, extra="Expect: 100-continue\r\n").partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n\r\n")
        reader = sock.makefile("rb")
        assert reader.readline() == b"HTTP/1.1 100 Continue\r\n" and reader.readline() == b"\r\n"
        sock.sendall(body)
        assert reader.readline() == b"HTTP/1.1 200 OK\r\n"


def test_expect_100_continue_with_the_body_already_sent_is_answered_at_once(server):
    # RFC 9110 10.1.1: the interim answer may be left out once the body has arrived
    [(status, _headers, body)] = exchange(server.port, post(server.port, extra="Expect: 100-continue\r\n"))
    assert status == "HTTP/1.1 200 OK" and json.loads(body)["id"] == 3


def test_connection_close_is_honoured(server):
    received = answer_then_end(server.port, post(server.port, extra="Connection: close\r\n"))
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close\r\n" in received


def test_an_http10_request_without_keep_alive_ends_the_connection(server):
    received = answer_then_end(server.port, post(server.port, version="HTTP/1.0"))
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and b"Keep-Alive" not in received


def refusal(port: int, raw: bytes) -> tuple[str, str]:
    received = answer_then_end(port, raw)  # the server ends the connection after it
    head, _sep, body = received.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), body.decode()


def test_a_malformed_request_line_is_400_naming_it(server):
    status, body = refusal(server.port, b"HELLO\r\nHost: x\r\n\r\n")
    assert status == "HTTP/1.1 400 Bad Request" and body.startswith("malformed HTTP request: ")


def test_a_head_over_the_limit_is_431(server):
    raw = get(server.port, "/health").replace(b"\r\n\r\n", b"\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert refusal(server.port, raw) == ("HTTP/1.1 431 Request Header Fields Too Large",
                                         "the request head is over 65536 bytes\n")


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    raw = post(server.port).split(b"Content-Length")[0] + b"Content-Length: 99999999\r\n\r\n"  # no body follows
    status, body = refusal(server.port, raw)
    assert status == "HTTP/1.1 413 Content Too Large" and body.startswith("Content-Length too long: 99999999 bytes")


def test_a_bad_chunk_size_is_400(server):
    raw = post(server.port).split(b"Content-Length")[0] + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    assert refusal(server.port, raw) == ("HTTP/1.1 400 Bad Request",
                                         "malformed HTTP request: Invalid character in chunk size\n")


def test_a_refused_header_value_is_named_and_neither_echoed_nor_logged(server):
    raw = get(server.port, "/health").replace(b"\r\n\r\n", b"\r\nAuthorization: Bearer refused-secret-7f3a\x01\r\n\r\n")
    status, body = refusal(server.port, raw)
    assert (status, body) == ("HTTP/1.1 400 Bad Request", "malformed HTTP request: Invalid header value char\n")
    wait_for(lambda: "answered 400 Bad Request" in server.log())
    assert "refused-secret-7f3a" not in server.log()


def test_a_chunked_body_in_pieces_then_another_request_are_answered(server):
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(LIST[i:i + 40]), LIST[i:i + 40]) for i in range(0, len(LIST), 40)) + b"0\r\n\r\n"
    raw = post(server.port).split(b"Content-Length")[0] + b"Transfer-Encoding: chunked\r\n\r\n" + chunked + post(server.port)
    answers = exchange(server.port, raw, answers=2, pieces=7)
    assert [json.loads(body)["id"] for _status, _headers, body in answers] == [3, 3]
    assert [status for status, _headers, _body in answers] == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]


def test_pipelined_requests_sent_before_a_half_close_are_all_answered(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(get(server.port, "/health") * 3 + post(server.port))
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):  # the server ends the connection once all are answered
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 4


def test_a_request_without_a_usable_host_is_400_and_nothing_is_logged_as_an_error(server):
    """Found by the HTTP fuzzer in the llhttp shell before it landed: Tornado's request raises for
    these, which ended the connection with an error logged and no answer."""
    for raw, message in ((b"GET /health HTTP/1.1\r\n\r\n", "Missing Host header\n"),
                         (b"GET /health HTTP/1.1\r\nHost: 127 .0.0.1\r\n\r\n", "Invalid Host header: '127 .0.0.1'\n")):
        assert refusal(server.port, raw) == ("HTTP/1.1 400 Bad Request", message)
    assert "Uncaught exception" not in server.log()


def test_a_port_that_is_taken_fails_the_start_naming_the_setting(mongodb_uri):
    from support.processes import McpServerProcess
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = McpServerProcess(mongodb_uri, "unused", MCP_METRICS_PORT=str(port))
        try:
            server.start()  # the MCP port may open first
        except RuntimeError:
            pass
        assert server.proc is not None and server.proc.wait(20) == 2
    assert f"MCP_METRICS_PORT: cannot listen on 127.0.0.1:{port}: Address already in use" in server.log()
