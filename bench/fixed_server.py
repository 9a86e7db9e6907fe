"""The ceiling of our HTTP stack: a bare Tornado handler answering one fixed JSON-RPC result.

Same runtime as the MCP server (Tornado on uvloop when importable, one process). Every POST to
/mcp is answered with one fixed result, the request's id spliced in; a message without an id
gets 202. No JSON parsing, no MCP, no session, no metrics. The result holds what every answer
the load generator checks needs (protocolVersion for initialize, the tool's text, resultType
"complete" for 2026-07-28), like bench/peers/go/bare. Served like bench/echo_server.py (its run()).

    python bench/fixed_server.py PORT
"""

from __future__ import annotations

import sys

from echo_server import run
from tornado.web import Application, RequestHandler

HEAD = b'{"jsonrpc":"2.0","id":'
TAIL = (b',"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},'
        b'"serverInfo":{"name":"kringen-bench-tornado","version":"1.0.0"},'
        b'"content":[{"type":"text","text":"This is a simple text response for testing."}],'
        b'"isError":false,"resultType":"complete"}}')


def request_id(body: bytes) -> bytes | None:
    """The bytes of the first "id" value in body, or None."""
    i = body.find(b'"id":')
    if i < 0:
        return None
    rest = body[i + 5:]
    ends = [e for e in (rest.find(b","), rest.find(b"}")) if e > 0]
    return rest[:min(ends)].strip() if ends else None


class Fixed(RequestHandler):
    def post(self) -> None:
        rid = request_id(self.request.body)
        if rid is None:
            self.set_status(202)
            return
        self.set_header("Content-Type", "application/json")
        self.write(HEAD + rid + TAIL)


def main() -> None:
    run(Application([(r"/mcp", Fixed)]), int(sys.argv[1]))


if __name__ == "__main__":
    main()
