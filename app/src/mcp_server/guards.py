"""Checks every /mcp request passes before MCP handling: Host, Origin, then who is asking (auth.py),
then how often it asks. Rate limits here hold across connections: an admitted request counts against
its principal (a static token, an OAuth subject; the client's address when auth is off), a refused
one against the client's address, and either is answered 429 once its bucket is empty. That covers
every request to /mcp, /mcp/ticket and WebSocket upgrades, `initialize` included; the limits per
connection and per session (MCP_RATE_LIMIT) come on top, in the transports."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Any

from tornado.web import RequestHandler

from .auth import Authenticator, Challenge, Outcome, Principal
from . import jsonrpc
from .config import Settings
from .metrics import Metrics
from .security import HostPolicy, KeyedRateLimits

TOO_MANY_REFUSED = "Too Many Requests: too many refused requests from this address; wait before trying again"

# CORS, for the origins the Origin allow-list admits (browser clients). What a page may send beyond the
# CORS-safelisted headers, what it may read of an answer, and how long a preflight holds.
CORS_REQUEST_HEADERS = frozenset({"authorization", "content-type", "accept", "mcp-protocol-version", "mcp-session-id",
                                  "mcp-method", "mcp-name", "last-event-id"})
CORS_PARAM_HEADER = re.compile(r"mcp-param-[a-z0-9-]+")  # SEP-2243's Mcp-Param-{Name}
CORS_EXPOSED = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After"
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_MAX_AGE = "600"


class RequestGuards:
    """Shared by both transports. A request that passes gets `handler.principal`. A handler is a
    RequestHandler, or the fast path's LeanHandler (the same calls)."""

    def __init__(self, settings: Settings, auth: Authenticator, metrics: Metrics):
        self.settings = settings
        self.auth = auth
        self.hosts = HostPolicy(settings.allowed_hosts, settings.allowed_origins)
        self.metrics = metrics
        self.principal_limits = KeyedRateLimits(settings.principal_rate_limit, settings.principal_rate_burst)
        self.refused_limits = KeyedRateLimits(settings.refused_rate_limit, settings.refused_rate_burst)

    def refuse(self, handler: RequestHandler, websocket: bool = False) -> bool | Awaitable[bool]:
        """Write an error response and return True if the request may not proceed (or an
        awaitable of that, when the answer needs a wait: new issuer keys, a ticket)."""
        request = handler.request
        origin = request.headers.get("Origin")
        if origin is not None and self.hosts.origin_allowed(origin):
            # `*`, or the origin as the operator's allow-list admitted it
            handler.set_header("Access-Control-Allow-Origin", "*" if self.hosts.any_origin else origin)
            handler.set_header("Access-Control-Expose-Headers", CORS_EXPOSED)
            handler.set_header("Vary", "Origin")
        if request.method == "OPTIONS":
            return self._preflight(handler, origin)
        if not self.hosts.host_allowed(request.headers.get("Host")):
            return self._refused(handler, 421, "host_not_allowed",
                                 "Misdirected Request: Host header is not in MCP_ALLOWED_HOSTS")
        if not self.hosts.origin_allowed(origin):
            return self._refused(handler, 403, "origin_not_allowed",
                                 "Forbidden: Origin is not in MCP_ALLOWED_ORIGINS")
        outcome = self.auth.authenticate(request.headers.get("Authorization"),
                                         request.headers.get("Sec-WebSocket-Protocol", "") if websocket else None)
        if isinstance(outcome, (Principal, Challenge)):
            return self._admit(handler, outcome)
        return self._refuse_later(handler, outcome)

    def _preflight(self, handler: RequestHandler, origin: str | None) -> bool:
        """A CORS preflight carries no credentials: it is answered from the Origin allow-list alone."""
        if origin is None or not self.hosts.host_allowed(handler.request.headers.get("Host")) \
                or not self.hosts.origin_allowed(origin):
            return self._refused(handler, 403, "origin_not_allowed",
                                 "Forbidden: a preflight from an Origin outside MCP_ALLOWED_ORIGINS")
        asked = handler.request.headers.get("Access-Control-Request-Headers", "")
        # named back only as far as they are headers of MCP: nothing else a client sent goes into an answer
        names = [name for name in (part.strip().lower() for part in asked.split(","))
                 if name in CORS_REQUEST_HEADERS or CORS_PARAM_HEADER.fullmatch(name)]
        handler.set_header("Access-Control-Allow-Methods", CORS_METHODS)
        handler.set_header("Access-Control-Allow-Headers", ", ".join(sorted(set(names) | CORS_REQUEST_HEADERS)))
        handler.set_header("Access-Control-Max-Age", CORS_MAX_AGE)
        handler.set_status(204)
        handler.clear_header("Content-Type")
        handler.finish()
        return True

    async def _refuse_later(self, handler: RequestHandler, outcome: Awaitable[Outcome]) -> bool:
        return self._admit(handler, await outcome)

    def _admit(self, handler: RequestHandler, outcome: Outcome) -> bool:
        if isinstance(outcome, Principal):
            if not self.principal_allows(outcome, handler.request.remote_ip):
                handler.set_header("Retry-After", "1")
                return self._deny(handler, 429, "principal_rate_limited",
                                  f"Too Many Requests: at most {self.principal_limits.rate:g} requests per second "
                                  "for these credentials", code=jsonrpc.RATE_LIMITED)
            handler.principal = outcome  # type: ignore[attr-defined]
            return False
        if outcome.status == 503:
            return self.challenge(handler, outcome)
        if not self.refused_limits.allow(handler.request.remote_ip):
            return self._too_many_refused(handler)
        return self.challenge(handler, outcome)

    def principal_allows(self, principal: Principal, address: str) -> bool:
        """Whether `principal` (from `address`) may send one more request or message now."""
        return self.principal_limits.allow(principal.limit_key or f"address:{address}")

    def _refused(self, handler: RequestHandler, status: int, reason: str, message: str) -> bool:
        if not self.refused_limits.allow(handler.request.remote_ip):
            return self._too_many_refused(handler)
        return self._deny(handler, status, reason, message)

    def _too_many_refused(self, handler: RequestHandler) -> bool:
        handler.set_header("Retry-After", "5")
        handler.set_header("Connection", "close")
        return self._deny(handler, 429, "refused_rate_limited", TOO_MANY_REFUSED, code=jsonrpc.RATE_LIMITED)

    def challenge(self, handler: RequestHandler, challenge: Challenge, request_id: Any = None) -> bool:
        """Answer with the challenge's status and WWW-Authenticate (503: Retry-After)."""
        if challenge.status == 503:
            handler.set_header("Retry-After", "5")
        else:
            handler.set_header("WWW-Authenticate", self.auth.www_authenticate(challenge))
        return self._deny(handler, challenge.status, challenge.reason, challenge.message, request_id,
                          jsonrpc.FORBIDDEN if challenge.error == "insufficient_scope" else jsonrpc.INVALID_REQUEST)

    def _deny(self, handler: RequestHandler, status: int, reason: str, message: str, request_id: Any = None,
              code: int = jsonrpc.INVALID_REQUEST) -> bool:
        self.metrics.rejected.labels(reason).inc()
        handler.set_status(status)
        handler.set_header("Content-Type", "application/json")
        handler.finish({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})
        return True
