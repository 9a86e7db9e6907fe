"""Checks every /mcp request passes before MCP handling: Host, Origin, bearer token."""

from __future__ import annotations

from tornado.web import RequestHandler

from .config import Settings
from .metrics import Metrics
from .security import HostPolicy, TokenAuth


class RequestGuards:
    """Shared by both transports."""

    def __init__(self, settings: Settings, auth: TokenAuth, metrics: Metrics):
        self.settings = settings
        self.auth = auth
        self.hosts = HostPolicy(settings.allowed_hosts, settings.allowed_origins)
        self.metrics = metrics

    def refuse(self, handler: RequestHandler, websocket: bool = False) -> bool:
        """Write an error response and return True if the request may not proceed."""
        request = handler.request
        if not self.hosts.host_allowed(request.headers.get("Host")):
            return self._deny(handler, 421, "host_not_allowed",
                              "Misdirected Request: Host header is not in MCP_ALLOWED_HOSTS")
        if not self.hosts.origin_allowed(request.headers.get("Origin")):
            return self._deny(handler, 403, "origin_not_allowed",
                              "Forbidden: Origin is not in MCP_ALLOWED_ORIGINS")
        if not self.auth.check(request.headers.get("Authorization")):
            handler.set_header("WWW-Authenticate", 'Bearer realm="mcp"')
            return self._deny(handler, 401, "unauthorized",
                              "Unauthorized: send Authorization: Bearer <token>")
        return False

    def _deny(self, handler: RequestHandler, status: int, reason: str, message: str) -> bool:
        self.metrics.rejected.labels(reason).inc()
        handler.set_status(status)
        handler.set_header("Content-Type", "application/json")
        handler.finish({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}})
        return True
