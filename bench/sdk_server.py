"""The official MCP Python SDK 2.x server for comparison (run with .venv-sdk2's python).

The high-level `MCPServer` (FastMCP's successor in mcp 2.x) with one tool,
test_simple_text, answering the same text as our server's conformance fixture, served
by `MCPServer.run("streamable-http")` with every transport option at its default:
uvicorn, stateful sessions (`Mcp-Session-Id`), `json_response=False` (each POST is
answered with an SSE stream), no event store, DNS-rebinding protection on (the SDK
turns it on for 127.0.0.1), no auth. Whether uvicorn uses uvloop/httptools depends on
what is importable (uvicorn's "auto"); bench/run.sh reports which.

    python bench/sdk_server.py PORT
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("kringen-bench-sdk", log_level="WARNING")


@mcp.tool()
async def test_simple_text() -> str:
    """Returns a simple text response"""
    return "This is a simple text response for testing."


def main() -> None:
    port = int(sys.argv[1])
    mcp.run("streamable-http", host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
