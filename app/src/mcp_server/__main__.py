"""Entry point: `python -m mcp_server` or `mcp-server`. Runs until SIGTERM/SIGINT, then drains."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from tornado.httpserver import HTTPServer
from tornado.ioloop import PeriodicCallback

from . import logs
from .app import Server, build
from .config import ConfigError, Settings

log = logging.getLogger("mcp_server")


async def serve(server: Server, stop: asyncio.Event) -> None:
    settings = server.settings
    http = HTTPServer(server.app, max_body_size=settings.max_message_bytes + 65536, idle_connection_timeout=3600,
                      xheaders=False)
    http.listen(settings.port, settings.host, reuse_port=False)
    sweeper = PeriodicCallback(server.sessions.end_idle, 60_000)
    sweeper.start()
    await server.db.ensure_indexes()
    log.info("listening", extra={"address": f"{settings.host}:{settings.port}", "auth": not settings.auth_disabled,
                                 "web_search": bool(settings.web_search_url)})
    await stop.wait()
    await shutdown(server, http)
    sweeper.stop()


async def shutdown(server: Server, http: HTTPServer) -> None:
    """Readiness goes false at once; sessions are served through the drain window; then
    WebSockets are closed with 1001 once their in-flight calls finish."""
    settings = server.settings
    core = server.core
    core.shutting_down = True
    log.info("draining", extra={"drain_seconds": settings.drain_seconds,
                                "websockets": len(server.guards.websockets), "http_sessions": len(server.sessions)})
    http.stop()
    await asyncio.sleep(settings.drain_seconds)
    await asyncio.gather(*(ws.drain(settings.shutdown_timeout_seconds) for ws in list(server.guards.websockets)))
    deadline = asyncio.get_running_loop().time() + settings.shutdown_timeout_seconds
    while core.inflight_count() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    server.sessions.end_all()
    await http.close_all_connections()
    await server.db.close()
    log.info("stopped")


def main() -> int:
    try:
        settings = Settings.from_env()
        server_settings_ok = settings.load_tokens()
    except ConfigError as exc:
        print(f"mcp-server: {exc}", file=sys.stderr)
        return 2
    del server_settings_ok
    logs.setup(settings.log_level, settings.log_format)
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        uvloop = None

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(build(settings), stop)

    if uvloop is not None:
        uvloop.run(run())
    else:
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
