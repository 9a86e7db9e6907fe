"""Settings from environment variables, validated once at start.

Every setting has a name, a parser and a default; `Settings.from_env` reads them
all and reports every bad value at once, naming the variable and what it wants.
The table in app/README.md is generated from `SETTINGS` (see `settings_table`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any


class ConfigError(ValueError):
    """One or more settings are invalid; the message names each of them."""


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected an integer from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high}")
        return value

    return parse


def _float(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"expected a number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}")
        return value

    return parse


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected true or false")


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse


def _processes(raw: str) -> int:
    value = raw.strip().lower()
    if value == "auto":
        return 0
    if not value.isdigit() or int(value) > 64:
        raise ValueError("expected auto or an integer from 0 to 64")
    return int(value)


def _url(raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return value


def _mongodb_uri(raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("mongodb://", "mongodb+srv://")):
        raise ValueError("expected a mongodb:// or mongodb+srv:// URI")
    return value


def _text(raw: str) -> str:
    return raw.strip()


@dataclasses.dataclass(frozen=True)
class Setting:
    env: str
    field: str
    parse: Callable[[str], Any]
    default: str
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("MCP_HOST", "host", _text, "0.0.0.0", "Address to listen on."),
    Setting("MCP_PORT", "port", _int(1, 65535), "8080", "Port for /mcp, /health and /ready."),
    Setting("MCP_METRICS_PORT", "metrics_port", _int(0, 65535), "9090",
            "Port for /metrics (and /health, /ready): for scrapers in the cluster, never published by a Service, "
            "Ingress or route; 0 serves no metrics."),
    Setting("MCP_PROCESSES", "processes", _processes, "1",
            "Server processes sharing the port (SO_REUSEPORT); 0 or auto: one per CPU the container may use."),
    Setting("MONGODB_URI", "mongodb_uri", _mongodb_uri, "mongodb://127.0.0.1:27017",
            "MongoDB connection URI (may carry credentials; never logged).", secret=True),
    Setting("MONGODB_DATABASE", "mongodb_database", _text, "mcp", "Database that holds the notes and the search cache."),
    Setting("MONGODB_TIMEOUT_MS", "mongodb_timeout_ms", _int(100, 120000), "3000",
            "Server selection and operation timeout, in milliseconds."),
    Setting("MCP_AUTH_TOKENS", "auth_tokens", _list, "",
            "Comma-separated bearer tokens accepted on /mcp.", secret=True),
    Setting("MCP_AUTH_TOKENS_FILE", "auth_tokens_file", _text, "",
            "File with one bearer token per line (e.g. a mounted Kubernetes Secret)."),
    Setting("MCP_AUTH_DISABLED", "auth_disabled", _bool, "false",
            "Set to true to serve /mcp without authentication. Only this explicit setting turns auth off."),
    Setting("MCP_AUTH_MODE", "auth_mode", _choice("tokens", "oauth", "both"), "tokens",
            "How /mcp authenticates: `tokens` (the static bearer tokens above), `oauth` (JWT access tokens from "
            "MCP_OAUTH_ISSUER, checked against its JWKS), or `both`."),
    Setting("MCP_OAUTH_ISSUER", "oauth_issuer", _url, "",
            "The authorization server's issuer URL (tokens' `iss`); its keys are found through its metadata."),
    Setting("MCP_OAUTH_RESOURCE", "oauth_resource", _url, "",
            "This server's canonical resource URL (e.g. https://mcp.example.com/mcp): tokens' `aud` must name it "
            "(RFC 8707), and its protected-resource metadata (RFC 9728) is served beside it."),
    Setting("MCP_OAUTH_JWKS_URL", "oauth_jwks_url", _url, "",
            "The issuer's JWKS URL; empty: the `jwks_uri` of the issuer's metadata."),
    Setting("MCP_OAUTH_READ_SCOPE", "oauth_read_scope", _text, "mcp:read",
            "Scope a token needs for read-only tools (get/list/search), resources and prompts."),
    Setting("MCP_OAUTH_WRITE_SCOPE", "oauth_write_scope", _text, "mcp:write",
            "Scope a token needs for the other tools (save/delete)."),
    Setting("MCP_OAUTH_CLOCK_SKEW_SECONDS", "oauth_clock_skew_seconds", _int(0, 300), "30",
            "Leeway for tokens' `exp`, `nbf` and `iat`."),
    Setting("MCP_OAUTH_JWKS_REFRESH_SECONDS", "oauth_jwks_refresh_seconds", _float(1, 86400), "300",
            "How often the issuer's keys are fetched again (a token naming an unknown key fetches them sooner)."),
    Setting("MCP_OAUTH_JWKS_MIN_INTERVAL_SECONDS", "oauth_jwks_min_interval_seconds", _float(0, 3600), "10",
            "Shortest time between two fetches of the keys (tokens naming unknown keys cannot flood the issuer)."),
    Setting("MCP_WS_TICKET_SECONDS", "ws_ticket_seconds", _int(5, 600), "30",
            "Lifetime of a single-use WebSocket ticket (POST /mcp/ticket) for clients that cannot send headers."),
    Setting("MCP_ALLOWED_HOSTS", "allowed_hosts", _list, "localhost,127.0.0.1,[::1]",
            "Host header values accepted (DNS-rebinding protection); `*.suffix` wildcards and `*` allowed; ports ignored."),
    Setting("MCP_ALLOWED_ORIGINS", "allowed_origins", _list, "",
            "Origin header values accepted; requests without Origin are always accepted; `*` accepts any."),
    Setting("MCP_MAX_MESSAGE_BYTES", "max_message_bytes", _int(1024, 64 * 1024 * 1024), "1048576",
            "Largest JSON-RPC message accepted (WebSocket frame or HTTP body)."),
    Setting("MCP_HEAD_TIMEOUT_SECONDS", "head_timeout_seconds", _float(0.5, 300), "10",
            "Time a client has to send a request's head (from the connection or its first byte): slow heads are "
            "answered 408 and closed."),
    Setting("MCP_BODY_TIMEOUT_SECONDS", "body_timeout_seconds", _float(0.5, 3600), "60",
            "Time a client has to send a request's body once its head has arrived (408 after it)."),
    Setting("MCP_IDLE_TIMEOUT_SECONDS", "idle_timeout_seconds", _float(1, 86400), "620",
            "How long a keep-alive HTTP connection may wait between requests before it is closed. Keep it above the "
            "idle timeout of every proxy in front (Google Cloud load balancers keep backend connections 600 s, "
            "Traefik 90 s, nginx 60 s), or a proxy may send a request on a connection as it closes."),
    Setting("MCP_MAX_CONNECTIONS", "max_connections", _int(1, 1_000_000), "16384",
            "Most open connections (WebSockets included) per server process; a new one beyond it is answered 503 "
            "and closed."),
    Setting("MCP_MAX_JSON_DEPTH", "max_json_depth", _int(4, 512), "64", "Deepest JSON nesting accepted."),
    Setting("MCP_RATE_LIMIT", "rate_limit", _float(0, 1e9), "100",
            "Messages per second allowed per connection or session (token bucket); 0 turns the limit off."),
    Setting("MCP_RATE_BURST", "rate_burst", _int(1, 10**9), "200", "Burst size of the per-connection rate limit."),
    Setting("MCP_PRINCIPAL_RATE_LIMIT", "principal_rate_limit", _float(0, 1e9), "1000",
            "Requests and WebSocket messages per second per principal (a static token, an OAuth subject; the client "
            "address when auth is off), over all its connections, per server process; 0 turns the limit off."),
    Setting("MCP_PRINCIPAL_RATE_BURST", "principal_rate_burst", _int(1, 10**9), "2000",
            "Burst size of the per-principal rate limit."),
    Setting("MCP_REFUSED_RATE_LIMIT", "refused_rate_limit", _float(0, 1e9), "10",
            "Refused requests (bad or missing credentials, Host or Origin not allowed) per second per client address, "
            "per server process; past it they are answered 429 and the connection closed; 0 turns the limit off."),
    Setting("MCP_REFUSED_RATE_BURST", "refused_rate_burst", _int(1, 10**9), "100",
            "Burst size of the refused-request rate limit."),
    Setting("MCP_PAGE_SIZE", "page_size", _int(1, 1000), "50", "Items per page in tools/list, resources/list and prompts/list."),
    Setting("MCP_SESSION_IDLE_SECONDS", "session_idle_seconds", _int(2, 7 * 86400), "3600",
            "Streamable HTTP sessions (2025 era) idle longer than this are ended, on every replica."),
    Setting("MCP_SESSION_STORE", "session_store", _choice("mongodb", "memory"), "mongodb",
            "Where 2025 HTTP sessions are recorded: `mongodb` (every replica serves every session) or `memory` "
            "(this process only: a single replica, or affinity in front)."),
    Setting("MCP_CHANGE_POLL_SECONDS", "change_poll_seconds", _float(0.1, 60), "1",
            "How often a replica with subscribers reads the changes other replicas made (resource updates, "
            "list changes), with MCP_SESSION_STORE=mongodb."),
    Setting("MCP_SESSION_CACHE_SECONDS", "session_cache_seconds", _float(0, 60), "2",
            "How long a replica trusts its copy of a 2025 HTTP session before reading the shared record again "
            "(a DELETE on another replica takes effect here within this time)."),
    Setting("MCP_WS_PING_SECONDS", "ws_ping_seconds", _int(0, 3600), "30",
            "WebSocket ping interval (keeps idle sessions alive through proxies); 0 disables."),
    Setting("MCP_DRAIN_SECONDS", "drain_seconds", _float(0, 300), "5",
            "After SIGTERM: how long sessions keep being served before WebSockets are closed with 1001."),
    Setting("MCP_SHUTDOWN_TIMEOUT_SECONDS", "shutdown_timeout_seconds", _float(0, 300), "8",
            "After the drain window: the longest wait for in-flight calls before exit."),
    Setting("MCP_WEB_SEARCH_URL", "web_search_url", _url, "",
            "SearxNG-compatible JSON search endpoint (e.g. http://searxng:8080/search); empty disables web search."),
    Setting("MCP_WEB_SEARCH_TIMEOUT_SECONDS", "web_search_timeout_seconds", _float(0.1, 120), "10",
            "Timeout of one web search request."),
    Setting("MCP_WEB_SEARCH_CACHE_SECONDS", "web_search_cache_seconds", _int(0, 30 * 86400), "3600",
            "How long a web search result is served from the MongoDB cache; 0 disables the cache."),
    Setting("MCP_LOG_LEVEL", "log_level", _choice("debug", "info", "warning", "error"), "info", "Server log level."),
    Setting("MCP_LOG_FORMAT", "log_format", _choice("json", "text"), "json", "Log line format."),
    Setting("MCP_STATE_KEYS", "state_keys", _list, "",
            "Comma-separated keys (32+ characters each) that seal the requestState of 2026-07-28 input-required "
            "results; the first seals, all open (rotation). Every replica needs the same keys. Empty: a random key "
            "per process (a retry that reaches another replica is refused).", secret=True),
    Setting("MCP_STATE_KEYS_FILE", "state_keys_file", _text, "",
            "File with one state key per line (e.g. a mounted Kubernetes Secret); added after MCP_STATE_KEYS."),
    Setting("MCP_STATE_TTL_SECONDS", "state_ttl_seconds", _int(10, 86400), "600",
            "How long a sealed requestState stays valid."),
    Setting("MCP_CONFORMANCE_FIXTURES", "conformance_fixtures", _bool, "false",
            "Test setting: serve the MCP conformance suite's fixture tools, resources and prompts. Never on in deployments."),
)


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str
    port: int
    metrics_port: int
    processes: int
    mongodb_uri: str
    mongodb_database: str
    mongodb_timeout_ms: int
    auth_tokens: tuple[str, ...]
    auth_tokens_file: str
    auth_disabled: bool
    auth_mode: str
    oauth_issuer: str
    oauth_resource: str
    oauth_jwks_url: str
    oauth_read_scope: str
    oauth_write_scope: str
    oauth_clock_skew_seconds: int
    oauth_jwks_refresh_seconds: float
    oauth_jwks_min_interval_seconds: float
    ws_ticket_seconds: int
    allowed_hosts: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    max_message_bytes: int
    head_timeout_seconds: float
    body_timeout_seconds: float
    idle_timeout_seconds: float
    max_connections: int
    max_json_depth: int
    rate_limit: float
    rate_burst: int
    principal_rate_limit: float
    principal_rate_burst: int
    refused_rate_limit: float
    refused_rate_burst: int
    page_size: int
    session_idle_seconds: int
    session_store: str
    session_cache_seconds: float
    change_poll_seconds: float
    ws_ping_seconds: int
    drain_seconds: float
    shutdown_timeout_seconds: float
    web_search_url: str
    web_search_timeout_seconds: float
    web_search_cache_seconds: int
    log_level: str
    log_format: str
    state_keys: tuple[str, ...]
    state_keys_file: str
    state_ttl_seconds: int
    conformance_fixtures: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for setting in SETTINGS:
            raw = environ.get(setting.env, setting.default)
            try:
                values[setting.field] = setting.parse(raw)
            except ValueError as exc:
                shown = "(hidden)" if setting.secret else repr(raw)
                problems.append(f"{setting.env}: {exc}, got {shown}")
        values.update(overrides)
        if not problems:
            problems.extend(_cross_checks(values))
        if problems:
            raise ConfigError("invalid settings:\n  " + "\n  ".join(problems))
        return cls(**values)

    def load_tokens(self) -> tuple[str, ...]:
        """All accepted bearer tokens: the variable's and the file's."""
        return (*self.auth_tokens, *_secret_lines("MCP_AUTH_TOKENS_FILE", self.auth_tokens_file))

    def load_state_keys(self) -> tuple[bytes, ...]:
        """The request-state keys: the variable's, then the file's (the first one seals)."""
        keys = (*self.state_keys, *_secret_lines("MCP_STATE_KEYS_FILE", self.state_keys_file))
        short = [k for k in keys if len(k.encode()) < 32]
        if short:
            raise ConfigError(f"MCP_STATE_KEYS / MCP_STATE_KEYS_FILE: {len(short)} key(s) shorter than 32 characters")
        return tuple(k.encode() for k in keys)


def _secret_lines(variable: str, path: str) -> list[str]:
    """The non-empty, non-comment lines of a secrets file (none when no file is set)."""
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from None


def _cross_checks(values: Mapping[str, Any]) -> list[str]:
    problems = []
    uses_tokens = values["auth_mode"] in ("tokens", "both")
    if not values["auth_disabled"] and values["auth_mode"] != "tokens":
        for env, field in (("MCP_OAUTH_ISSUER", "oauth_issuer"), ("MCP_OAUTH_RESOURCE", "oauth_resource")):
            if not values[field]:
                problems.append(f"{env}: required with MCP_AUTH_MODE={values['auth_mode']}")
        if not values["oauth_read_scope"] or not values["oauth_write_scope"]:
            problems.append("MCP_OAUTH_READ_SCOPE / MCP_OAUTH_WRITE_SCOPE: must not be empty")
    if (not values["auth_disabled"] and uses_tokens and not values["auth_tokens"]
            and not values["auth_tokens_file"]):
        problems.append(
            "MCP_AUTH_TOKENS / MCP_AUTH_TOKENS_FILE: no bearer token configured; "
            "set one, or set MCP_AUTH_DISABLED=true to serve without authentication"
        )
    if values["metrics_port"] == values["port"]:
        problems.append(f"MCP_METRICS_PORT: must differ from MCP_PORT ({values['port']}), or be 0 for no metrics")
    if values["processes"] != 1 and values["session_store"] == "memory":
        problems.append("MCP_PROCESSES: more than one process needs MCP_SESSION_STORE=mongodb "
                        "(memory sessions and tickets live in one process)")
    short = [t for t in values["auth_tokens"] if len(t) < 16]
    if short:
        problems.append(f"MCP_AUTH_TOKENS: {len(short)} token(s) shorter than 16 characters")
    return problems


def settings_table() -> str:
    """The Markdown table of settings for the README."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "(empty)"
        rows.append(f"| `{s.env}` | {default} | {s.help} |")
    return "\n".join(rows)
