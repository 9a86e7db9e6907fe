"""Probes and metrics: /health (liveness), /ready (readiness), /metrics (Prometheus)."""

from __future__ import annotations

import socket
from typing import Any

from tornado.web import RequestHandler

from .database import Database
from .core import Core


INSTANCE = socket.gethostname()


class Health(RequestHandler):
    """Liveness: the process is up and its event loop answers. Names the instance (the pod),
    which shows which replica a client's session-affinity lands on."""

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish({"status": "ok", "instance": INSTANCE})


class Ready(RequestHandler):
    """Readiness: not draining, and MongoDB answers a ping."""

    def initialize(self, core: Core, db: Database) -> None:
        self.core = core
        self.db = db

    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        checks: dict[str, Any] = {"draining": self.core.draining}
        checks["database"] = "ok" if await self.db.ping() else "unreachable"
        ready = not checks["draining"] and checks["database"] == "ok"
        self.set_status(200 if ready else 503)
        self.finish({"status": "ready" if ready else "not ready", **checks})


class Metrics(RequestHandler):
    def initialize(self, core: Core) -> None:
        self.core = core

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.finish(self.core.metrics.render())
