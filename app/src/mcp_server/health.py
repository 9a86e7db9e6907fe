"""Probes, metrics and metadata: /health (liveness), /ready (readiness), /metrics (Prometheus), and the
OAuth protected-resource metadata."""

from __future__ import annotations

import socket
from typing import Any

from tornado.web import RequestHandler

from .auth import Authenticator
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

    def initialize(self, core: Core, db: Database, auth: Authenticator) -> None:
        self.core = core
        self.db = db
        self.auth = auth

    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        checks: dict[str, Any] = {"draining": self.core.draining}
        checks["database"] = "ok" if await self.db.ping() else "unreachable"
        checks["auth"] = self.auth.keys_problem() or "ok"
        ready = not checks["draining"] and checks["database"] == "ok" and self.auth.ready() is None
        self.set_status(200 if ready else 503)
        self.finish({"status": "ready" if ready else "not ready", **checks})


class ProtectedResourceMetadata(RequestHandler):
    """RFC 9728 metadata of /mcp, at the well-known path and its /mcp-suffixed form (OAuth modes only)."""

    def initialize(self, auth: Authenticator) -> None:
        self.auth = auth

    def get(self, *_resource_path: str) -> None:
        if not self.auth.oauth:
            self.send_error(404)
            return
        self.set_header("Cache-Control", "max-age=300")
        self.set_header("Access-Control-Allow-Origin", "*")  # browser clients discover it too
        self.finish(self.auth.protected_resource_metadata())


class Metrics(RequestHandler):
    def initialize(self, core: Core) -> None:
        self.core = core

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.finish(self.core.metrics.render())
