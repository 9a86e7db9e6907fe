"""The fast path (fast_http.py): which requests it takes, and that what it answers is framed as the
RequestHandler path frames it (the MCP rules themselves are the same code: the other HTTP tests
and the conformance suite run through it)."""

from __future__ import annotations

import json

from tornado.httputil import HTTPHeaders, RequestStartLine

from mcp_server.fast_http import FastHttp
from support.clients import MODERN
from support.processes import TEST_TOKEN
from support.raw_http import exchange

CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "test_simple_text", "arguments": {},
                   "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                             "io.modelcontextprotocol/clientCapabilities": {}}}}
HEADERS = (f"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
           f"MCP-Protocol-Version: {MODERN}\r\nMcp-Method: tools/call\r\nMcp-Name: test_simple_text\r\n"
           f"Authorization: Bearer {TEST_TOKEN}\r\n")


def _takes(method: str, path: str, **headers: str) -> bool:
    fast = FastHttp.__new__(FastHttp)
    fast.path = "/mcp"
    return fast.takes(RequestStartLine(method, path, "HTTP/1.1"), HTTPHeaders(headers))


def test_only_plain_posts_to_mcp_take_the_fast_path():
    assert _takes("POST", "/mcp") and _takes("POST", "/mcp?x=1")
    assert not _takes("GET", "/mcp") and not _takes("DELETE", "/mcp") and not _takes("OPTIONS", "/mcp")
    assert not _takes("POST", "/mcp/ticket") and not _takes("POST", "/mcp/") and not _takes("POST", "/health")
    assert not _takes("POST", "/mcp", Upgrade="websocket")


def test_keep_alive_answers_in_order_with_the_framing_of_every_answer(server):
    body = json.dumps(CALL).encode()
    request = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{HEADERS}"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    answers = exchange(server.port, request * 3, answers=3)
    for status, headers, payload in answers:
        assert status == "HTTP/1.1 200 OK"
        assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
        assert headers["content-length"] == str(len(payload)) and "date" in headers and "server" in headers
        message = json.loads(payload)
        assert message["id"] == 7 and message["result"]["resultType"] == "complete"


def test_a_chunked_body_is_read_whole(server):
    body = json.dumps(CALL).encode()
    half = len(body) // 2
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:])) + b"0\r\n\r\n"
    request = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{HEADERS}"
               "Transfer-Encoding: chunked\r\n\r\n").encode() + chunked
    [(status, _headers, payload)] = exchange(server.port, request)
    assert status == "HTTP/1.1 200 OK" and json.loads(payload)["id"] == 7


def test_a_notification_is_202_without_a_body_and_http10_closes(server):
    body = json.dumps({"jsonrpc": "2.0", "method": "notifications/progress", "params": CALL["params"]}).encode()
    request = (f"POST /mcp HTTP/1.0\r\nHost: 127.0.0.1:{server.port}\r\n{HEADERS.replace('tools/call', 'notifications/progress')}"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    [(status, headers, payload)] = exchange(server.port, request)
    assert status.endswith("202 Accepted") and payload == b"" and "content-type" not in headers
