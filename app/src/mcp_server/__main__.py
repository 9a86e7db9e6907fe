"""Entry point: `python -m mcp_server` or `mcp-server`. Runs until SIGTERM/SIGINT, then drains."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import signal
import sys
from typing import Any

from tornado.ioloop import PeriodicCallback

from . import logs, workers
from .app import Server, build
from .config import ConfigError, Settings
from .http1 import ConnectionLimits, Http1Server

log = logging.getLogger("mcp_server")


async def serve(server: Server, stop: asyncio.Event, reuse_port: bool = False) -> None:
    settings = server.settings
    http = listen(server, "mcp", server.http, settings.port, reuse_port)
    scrape = (listen(server, "metrics", server.metrics_http, settings.metrics_port, reuse_port)
              if settings.metrics_port else None)
    sweeper = PeriodicCallback(server.sessions.end_idle, 60_000)
    sweeper.start()
    feed = asyncio.ensure_future(server.feed.run()) if server.feed is not None else None
    keys = server.guards.auth.verifier.keys if server.guards.auth.verifier is not None else None
    keys_refresher = asyncio.ensure_future(keys.run()) if keys is not None else None
    await server.db.ensure_indexes()
    auth = "disabled" if settings.auth_disabled else settings.auth_mode
    log.info("listening", extra={"address": f"{settings.host}:{settings.port}", "metrics_port": settings.metrics_port,
                                 "auth": auth, "web_search": bool(settings.web_search_url)})
    await stop.wait()
    await shutdown(server, http, feed)
    if scrape is not None:
        scrape.stop()
        await scrape.close_all_connections()
    if keys_refresher is not None:
        keys_refresher.cancel()
    sweeper.stop()


def listen(server: Server, name: str, delegate: Any, port: int, reuse_port: bool) -> Http1Server:
    settings, metrics = server.settings, server.core.metrics
    http = Http1Server(delegate, limits=connection_limits(settings), xheaders=False, refused=metrics.refused)
    try:
        http.listen(port, settings.host, reuse_port=reuse_port)
    except OSError as exc:
        variable = "MCP_PORT" if name == "mcp" else "MCP_METRICS_PORT"
        raise ConfigError(f"{variable}: cannot listen on {settings.host}:{port}: {exc.strerror}") from None
    metrics.count_open(name, lambda: http.open_count)
    return http


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(max_body=settings.max_message_bytes + 65536, head_timeout=settings.head_timeout_seconds,
                            body_timeout=settings.body_timeout_seconds, idle_timeout=settings.idle_timeout_seconds,
                            max_connections=settings.max_connections)


async def shutdown(server: Server, http: Http1Server, feed: asyncio.Future[None] | None = None) -> None:
    """Readiness goes false at once; sessions are served through the drain window; then
    WebSockets are closed with 1001 once their in-flight calls finish."""
    settings = server.settings
    lifecycle = server.core.lifecycle
    lifecycle.begin_draining()
    log.info("draining", extra={"drain_seconds": settings.drain_seconds,
                                "websockets": lifecycle.open_connections(), "http_sessions": len(server.sessions)})
    http.stop()
    await lifecycle.drain(settings.drain_seconds, settings.shutdown_timeout_seconds)
    server.sessions.end_all()
    await http.close_all_connections()
    if feed is not None:
        feed.cancel()
    await server.db.close()
    log.info("stopped")


def main() -> int:
    try:
        settings = Settings.from_env()
        settings.load_tokens()
        settings.load_state_keys()
    except ConfigError as exc:
        print(f"mcp-server: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level, settings.log_format)
    count = workers.process_count(settings.processes)
    if count == 1:
        return run_server(settings)
    if not settings.load_state_keys():
        # One key for every process: a requestState one of them sealed is opened by any other.
        settings = dataclasses.replace(settings, state_keys=(secrets.token_urlsafe(32),))
    return workers.run_children(count, lambda index: run_server(settings, process=index))


def run_server(settings: Settings, process: int | None = None) -> int:
    """One server process until SIGTERM/SIGINT; `process`: its index among several on one port."""
    if process is not None:
        logs.name_process(process)
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        uvloop = None

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(build(settings), stop, reuse_port=process is not None)

    try:
        if uvloop is not None:
            uvloop.run(run())
        else:
            asyncio.run(run())
    except ConfigError as exc:
        print(f"mcp-server: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
