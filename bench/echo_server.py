"""The ceiling for this stack: a bare Tornado WebSocket server that echoes each text frame.

Same runtime as the MCP server (Tornado on uvloop when importable, one process), same
WebSocket settings (subprotocol `mcp`, TCP_NODELAY, ping interval, message size limit),
and nothing else: no JSON parsing, no MCP, no metrics, no auth.

    python bench/echo_server.py PORT
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from tornado.httpserver import HTTPServer
from tornado.web import Application
from tornado.websocket import WebSocketHandler


class Echo(WebSocketHandler):
    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "mcp" if "mcp" in subprotocols else None

    def check_origin(self, origin: str) -> bool:
        return True

    def open(self, *args: object) -> None:
        self.set_nodelay(True)

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


async def serve(app: Application, port: int) -> None:
    """Serve app on 127.0.0.1:port until SIGTERM or SIGINT."""
    http = HTTPServer(app, idle_connection_timeout=3600, xheaders=False)
    http.listen(port, "127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    http.stop()


def run(app: Application, port: int) -> None:
    """serve() on uvloop when it is importable (as the MCP server does), else on asyncio's loop."""
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        asyncio.run(serve(app, port))
    else:
        uvloop.run(serve(app, port))


def main() -> None:
    ping = int(os.environ.get("MCP_WS_PING_SECONDS", "30"))
    run(Application([(r"/mcp", Echo)], websocket_max_message_size=1048576,
                    websocket_ping_interval=ping or None, websocket_ping_timeout=ping or None), int(sys.argv[1]))


if __name__ == "__main__":
    main()
