"""wire/http11.py without a socket: bytes in, requests (or a refusal) out; an answer's framing out.

Each refusal class here is one the server's earlier hand-written reader let through (chunk lines
read by `int(x, 16)`, a head that ended at a later CRLF CRLF, a chunked body bounded only once a
whole chunk had arrived)."""

from __future__ import annotations

import pytest

from tornado.httputil import HTTPHeaders

from mcp_server.wire.http11 import HEAD_SLICE, Headers, Refusal, Request, RequestReader, ResponseFraming
from support.sans_io import fed

CHUNKED_HEAD = b"POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def reader(max_head: int = 65536, max_body: int = 1 << 20) -> RequestReader:
    return RequestReader(max_head, max_body)


def requests_from(data: bytes, pieces: int = 0, **limits: int) -> list[Request]:
    r = reader(**limits)
    return fed(r.receive_data, r.next_request, data, pieces)


def refusal_of(data: bytes, **limits: int) -> Refusal:
    r = reader(**limits)
    r.receive_data(data)
    with pytest.raises(Refusal) as caught:
        while r.next_request() is not None:
            pass
    return caught.value


def test_a_request_is_read_whole_with_its_headers_in_order():
    [request] = requests_from(b"POST /mcp?x=1 HTTP/1.1\r\nHost: a\r\nX-Two: 1 \r\nx-two: 2\r\nContent-Length: 2\r\n\r\n{}")
    assert (request.method, request.target, request.version, request.body) == ("POST", "/mcp?x=1", "HTTP/1.1", b"{}")
    assert request.headers.fields == [("Host", "a"), ("X-Two", "1"), ("x-two", "2"), ("Content-Length", "2")]
    assert request.headers["x-TWO"] == "1,2" and request.headers.get("content-length") == "2" and "HOST" in request.headers
    assert request.keep_alive and not request.upgrade


@pytest.mark.parametrize("pieces", [1, 3, 7, 1000])
def test_pipelined_requests_in_any_pieces_come_out_one_by_one(pieces):
    one = b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
    chunked = CHUNKED_HEAD + b"3\r\nabc\r\n2;ext=\"v\"\r\nde\r\n0\r\n\r\n"
    got = requests_from(one + chunked + one, pieces=pieces)
    assert [(r.method, r.body) for r in got] == [("GET", b""), ("POST", b"abcde"), ("GET", b"")]


def test_no_request_is_parsed_past_the_one_taken():
    # a pipelined burst stays bytes until the request before it is taken (and answered)
    r = reader()
    r.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * 1000)
    assert r.next_request() is not None
    assert r.buffered > 1000 * 30 - 2 * HEAD_SLICE


@pytest.mark.parametrize("size_line", [b"0x5", b"+5", b" 5", b"5 ", b"0_5", b"-5", b"5;a\rb", b"5;a\x01", b"5;\x7f",
                                       b"10000000000000000", b"5\n", b"g"])
def test_a_lenient_chunk_size_line_is_refused(size_line):
    refusal = refusal_of(CHUNKED_HEAD + size_line + b"\r\nhello\r\n0\r\n\r\n")
    assert refusal.status == 400 and refusal.message.startswith("malformed HTTP request: ")


def test_an_endless_chunk_is_refused_once_its_bytes_pass_the_limit():
    r = reader(max_body=10_000)
    r.receive_data(CHUNKED_HEAD + b"ffffffffffff\r\n")
    assert r.next_request() is None and r.reading_body
    r.receive_data(b"x" * 9_000)
    assert r.next_request() is None
    r.receive_data(b"x" * 2_000)
    with pytest.raises(Refusal) as caught:
        r.next_request()
    assert (caught.value.status, caught.value.message) == (413, "the body is over 10000 bytes")
    r.receive_data(b"x" * 100_000)  # nothing more is kept after a refusal
    assert r.buffered == 0


def test_a_content_length_over_the_limit_is_refused_at_the_head():
    refusal = refusal_of(b"POST / HTTP/1.1\r\nContent-Length: 10001\r\n\r\n", max_body=10_000)
    assert (refusal.status, refusal.reason) == (413, "Content Too Large")


@pytest.mark.parametrize("head", [
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
    b"GET /a b HTTP/1.1\r\n\r\n",
])
def test_heads_that_desynchronise_front_ends_are_refused(head):
    assert refusal_of(head + b"hello").status == 400


def test_a_head_ended_by_a_bare_lf_does_not_end_at_a_later_crlf_crlf():
    # the next request's Content-Length must not become this one's, swallowing the request after it
    smuggled = (b"GET /a HTTP/1.1\nHost: x\n\nPOST /b HTTP/1.1\r\nContent-Length: 30\r\n\r\n"
                b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
    refusal = refusal_of(smuggled)
    assert refusal.status == 400


def test_http_versions_other_than_1_0_and_1_1_are_505():
    refusal = refusal_of(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n")
    assert (refusal.status, refusal.message) == (505, "HTTP/2.0 is not served here: use HTTP/1.1")


def test_a_head_over_the_limit_is_refused_before_it_ends():
    r = reader(max_head=8192)
    r.receive_data(b"GET / HTTP/1.1\r\nX: ")
    for _ in range(3):
        r.receive_data(b"a" * 4096)
        try:
            assert r.next_request() is None
        except Refusal as refusal:
            assert refusal.status == 431
            return
    pytest.fail("a 12 KiB head with no end was not refused at an 8 KiB limit")


def test_a_head_just_under_the_limit_is_read():
    head = b"GET / HTTP/1.1\r\nX: " + b"a" * (65536 - HEAD_SLICE - 40) + b"\r\n\r\n"
    [request] = requests_from(head, pieces=1000)
    assert len(request.headers["x"]) == 65536 - HEAD_SLICE - 40


def test_expect_100_continue_is_wanted_once_when_the_body_has_not_come():
    r = reader()
    r.receive_data(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert r.next_request() is None and r.take_continue() and not r.take_continue()
    r.receive_data(b"{}")
    assert r.next_request().body == b"{}"


def test_an_upgrade_request_ends_http_and_keeps_what_follows():
    r = reader()
    r.receive_data(b"GET /mcp HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85")
    request = r.next_request()
    assert request.upgrade
    r.receive_data(b"more")
    assert r.next_request() is None and r.after_upgrade() == b"\x81\x85more"


def test_trailer_fields_are_read_and_dropped():
    [request] = requests_from(CHUNKED_HEAD + b"2\r\nhi\r\n0\r\nX-Trailer: t\r\n\r\n")
    assert request.body == b"hi" and "x-trailer" not in request.headers


def test_http10_keeps_alive_only_when_asked():
    [plain] = requests_from(b"GET / HTTP/1.0\r\n\r\n")
    [asked] = requests_from(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert not plain.keep_alive and asked.keep_alive


def framing(method: str = "POST", version: str = "HTTP/1.1", keep_alive: bool = True) -> ResponseFraming:
    return ResponseFraming(Request(method, "/", version, Headers([]), b"", keep_alive, False), keep_alive)


def test_an_answer_of_unknown_length_is_chunked_on_http11():
    f = framing()
    out = f.head(200, "OK", HTTPHeaders({"Content-Type": "text/event-stream"})) + f.body(b"abc") + f.end()
    assert out == (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n0\r\n\r\n")


def test_an_answer_says_how_the_connection_goes_on():
    assert b"\r\nConnection: close\r\n" in framing(keep_alive=False).head(200, "OK", HTTPHeaders({"Content-Length": "0"}))
    assert b"\r\nConnection: Keep-Alive\r\n" in framing(version="HTTP/1.0").head(200, "OK", HTTPHeaders({"Content-Length": "0"}))


def test_content_length_is_held_to_exactly():
    f = framing()
    f.head(200, "OK", HTTPHeaders({"Content-Length": "3"}))
    with pytest.raises(ValueError, match="more data than Content-Length"):
        f.body(b"abcd")
    short = framing()
    short.head(200, "OK", HTTPHeaders({"Content-Length": "3"}), b"ab")
    with pytest.raises(ValueError, match="1 bytes less"):
        short.end()


def test_a_header_that_would_split_the_answer_is_refused():
    with pytest.raises(ValueError, match="CR or LF"):
        framing().head(200, "OK", HTTPHeaders({"X": "a\r\nSet-Cookie: b"}))
