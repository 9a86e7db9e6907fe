"""The auth decision for /mcp, for both transports: credentials -> a Principal, or a Challenge.

Modes (MCP_AUTH_MODE): `tokens` (static bearer tokens, every scope), `oauth` (JWT access tokens of
MCP_OAUTH_ISSUER for MCP_OAUTH_RESOURCE, with their scopes), `both`. `authenticate` answers at once
when it can (the usual case) and with an awaitable when it must wait first (fetching the issuer's
keys for a key it has not seen, redeeming a WebSocket ticket). `scope_challenge` says whether a
principal may send a message: read-only tools, resources, prompts and completion need the read
scope; other tools the write scope. A transport renders a Challenge its own way (HTTP status and
`WWW-Authenticate`; a JSON-RPC error on an open WebSocket).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from . import tickets
from .oauth import InvalidToken, IssuerKeys, JwtVerifier, KeysUnavailable, NeedKeys
from .security import TokenAuth

# A tools/call of a tool that is not read-only, and the methods that read notes.
READ_METHODS = frozenset({"resources/list", "resources/read", "resources/subscribe", "prompts/get",
                          "completion/complete", "subscriptions/listen"})
METADATA_PATH = "/.well-known/oauth-protected-resource"


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    scopes: frozenset[str] | None  # None: every scope (static tokens, auth disabled)
    expires_at: float | None = None  # seconds since the epoch
    limit_key: str | None = None  # what rate limits count by; None: the client's address (auth disabled)

    def has(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= time.time()

    def to_record(self) -> dict[str, Any]:
        return {"sub": self.subject, "scopes": None if self.scopes is None else sorted(self.scopes),
                "exp": self.expires_at, "limit_key": self.limit_key}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Principal:
        scopes = record.get("scopes")
        return cls(str(record.get("sub")), None if scopes is None else frozenset(scopes), record.get("exp"),
                   record.get("limit_key"))


EVERYTHING = Principal("static-token", None)  # auth disabled


@dataclasses.dataclass(frozen=True, slots=True)
class Challenge:
    status: int  # 401, 403, 503
    reason: str  # metric label
    message: str
    error: str | None = None  # RFC 6750: invalid_token, insufficient_scope
    scope: str | None = None  # scopes that would do


Outcome = Principal | Challenge


class Authenticator:
    def __init__(self, mode: str, static: TokenAuth | None, verifier: JwtVerifier | None, store: tickets.TicketStore,
                 read_scope: str, write_scope: str, resource: str, ticket_seconds: int,
                 tool_read_only: Callable[[str], bool | None]):
        self.mode = mode
        self.static = static
        self.verifier = verifier
        self.store = store
        self.read_scope = read_scope
        self.write_scope = write_scope
        self.resource = resource
        self.ticket_seconds = ticket_seconds
        self._tool_read_only = tool_read_only
        self.metadata_url = metadata_url(resource) if verifier is not None else None
        # A static token's principal: one subject for all of them (sessions recorded under it stay
        # valid across releases), a rate-limit key of its own.
        self._static_principals = tuple(Principal(EVERYTHING.subject, None, limit_key=f"token:{index}")
                                        for index in range(static.count if static is not None else 0))

    @property
    def oauth(self) -> bool:
        return self.verifier is not None

    # --- who is asking ------------------------------------------------------------------

    def authenticate(self, authorization: str | None, subprotocols: str | None = None) -> Outcome | Awaitable[Outcome]:
        """The principal the request's credentials name, or the challenge to answer with.
        `subprotocols`: a WebSocket upgrade's offer, which may carry a ticket."""
        if self.static is not None and self.static.disabled:
            return EVERYTHING
        if subprotocols is not None and authorization is None:
            ticket = tickets.offered_ticket(subprotocols)
            if ticket is not None:
                return self._redeem(ticket)
        if self.static is not None:
            index = self.static.match(authorization)
            if index is not None:
                return self._static_principals[index]
        if self.verifier is None:
            return Challenge(401, "unauthorized", "Unauthorized: send Authorization: Bearer <token>")
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Challenge(401, "unauthorized", "Unauthorized: send Authorization: Bearer <access token>",
                             scope=self.all_scopes)
        return self._verify(token.strip(), fetch_allowed=True)

    def _verify(self, token: str, fetch_allowed: bool) -> Outcome | Awaitable[Outcome]:
        assert self.verifier is not None
        try:
            claims = self.verifier.verify(token, fetch_allowed)
        except NeedKeys:
            return self._verify_after_fetch(token)
        except KeysUnavailable as exc:
            return Challenge(503, "auth_unavailable",
                             f"Service Unavailable: access tokens cannot be checked now ({exc})")
        except InvalidToken as exc:
            return Challenge(401, "invalid_token", f"Unauthorized: {exc}", error="invalid_token")
        scope = claims.get("scope")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        exp = claims.get("exp")
        subject = str(claims.get("sub") or claims.get("azp") or "unknown")
        return Principal(subject, scopes, float(exp), f"sub:{subject}")

    async def _verify_after_fetch(self, token: str) -> Outcome:
        assert self.verifier is not None
        await self.verifier.keys.refresh()
        return self._verify(token, fetch_allowed=False)  # type: ignore[return-value]

    async def _redeem(self, ticket: str) -> Outcome:
        try:
            record = await self.store.take(tickets.ticket_hash(ticket))
        except tickets.TicketsUnavailable:
            return Challenge(503, "auth_unavailable", "Service Unavailable: tickets cannot be checked now")
        if record is None:
            return Challenge(401, "invalid_token", "Unauthorized: unknown, used or expired ticket",
                             error="invalid_token")
        principal = Principal.from_record(record)
        if principal.expired():
            return Challenge(401, "invalid_token", "Unauthorized: token expired", error="invalid_token")
        return principal

    async def issue_ticket(self, principal: Principal) -> dict[str, Any]:
        """A single-use ticket for a WebSocket upgrade on behalf of `principal`."""
        ticket, key = tickets.new_ticket()
        expires_at = time.time() + self.ticket_seconds
        if principal.expires_at is not None:
            expires_at = min(expires_at, principal.expires_at)
        await self.store.put(key, principal.to_record(), expires_at)
        return {"ticket": ticket, "expires_in": max(0, int(expires_at - time.time())),
                "subprotocol": tickets.SUBPROTOCOL_PREFIX + ticket}

    # --- what it may do -----------------------------------------------------------------

    def needed_scope(self, message: Any) -> str | None:
        """The scope one JSON-RPC message needs (None: any authenticated caller may send it)."""
        if not isinstance(message, dict):
            return None
        method = message.get("method")
        if method == "tools/call":
            params = message.get("params")
            name = params.get("name") if isinstance(params, dict) else None
            read_only = self._tool_read_only(name) if isinstance(name, str) else None
            if read_only is None:
                return None  # an unknown tool: the method answers that
            return self.read_scope if read_only else self.write_scope
        return self.read_scope if isinstance(method, str) and method in READ_METHODS else None

    def scope_challenge(self, principal: Principal, message: Any) -> Challenge | None:
        """Why `principal` may not send `message` (one message or a batch), or None if it may."""
        if principal.scopes is None and principal.expires_at is None:
            return None  # a static token: every scope, no expiry
        if principal.expired():
            return Challenge(401, "invalid_token", "Unauthorized: token expired", error="invalid_token")
        for one in message if isinstance(message, list) else (message,):
            scope = self.needed_scope(one)
            if scope is not None and not principal.has(scope):
                return Challenge(403, "insufficient_scope", f"Forbidden: this request needs the scope {scope!r}",
                                 error="insufficient_scope", scope=scope)
        return None

    # --- how to say no ------------------------------------------------------------------

    @property
    def all_scopes(self) -> str:
        return f"{self.read_scope} {self.write_scope}"

    def www_authenticate(self, challenge: Challenge) -> str:
        if self.metadata_url is None:
            return 'Bearer realm="mcp"'
        params = [f'resource_metadata="{self.metadata_url}"']
        if challenge.error:
            params.append(f'error="{challenge.error}"')
            params.append(f'error_description="{_quoted(challenge.message)}"')
        if challenge.scope:
            params.append(f'scope="{challenge.scope}"')
        return "Bearer " + ", ".join(params)

    def protected_resource_metadata(self) -> dict[str, Any]:
        """RFC 9728 metadata for MCP_OAUTH_RESOURCE."""
        assert self.verifier is not None
        return {"resource": self.resource, "authorization_servers": [self.verifier.keys.issuer],
                "scopes_supported": [self.read_scope, self.write_scope], "bearer_methods_supported": ["header"],
                "resource_name": "kringen MCP server"}

    def keys_problem(self) -> str | None:
        """Why access tokens cannot be checked now (the issuer's keys), or None."""
        return None if self.verifier is None else self.verifier.keys.problem

    def ready(self) -> str | None:
        """What stops the server authenticating its clients (readiness), or None: the issuer's keys
        when access tokens are the only way in; in `both` mode the static tokens still are."""
        return None if self.mode == "both" else self.keys_problem()


def _quoted(text: str) -> str:
    """Text for a quoted-string of a header: printable ASCII only, so that nothing a client sent can
    change a header's meaning or fail its encoding."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


def metadata_url(resource: str) -> str:
    """Where RFC 9728 puts the metadata of `resource`: the well-known path, then the resource's path."""
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{METADATA_PATH}{parts.path.rstrip('/')}"


def build(settings: Any, static_tokens: tuple[str, ...], store: tickets.TicketStore,
          tool_read_only: Callable[[str], bool | None]) -> Authenticator:
    """The authenticator the settings ask for."""
    uses_tokens = settings.auth_disabled or settings.auth_mode in ("tokens", "both")
    static = TokenAuth(static_tokens, disabled=settings.auth_disabled) if uses_tokens else None
    verifier = None
    if not settings.auth_disabled and settings.auth_mode in ("oauth", "both"):
        keys = IssuerKeys(settings.oauth_issuer, settings.oauth_jwks_url, settings.oauth_jwks_refresh_seconds,
                          settings.oauth_jwks_min_interval_seconds)
        verifier = JwtVerifier(keys, settings.oauth_resource, settings.oauth_clock_skew_seconds)
    return Authenticator(settings.auth_mode, static, verifier, store, settings.oauth_read_scope,
                         settings.oauth_write_scope, settings.oauth_resource, settings.ws_ticket_seconds,
                         tool_read_only)
