"""Prometheus metrics, with the label children bound once so the hot path does no lookups."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .jsonrpc import ERROR_NAMES

TRANSPORTS = ("websocket", "streamable_http")


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.connections = Gauge("mcp_open_connections", "Open MCP connections (WebSockets, HTTP sessions)",
                                 ["transport"], registry=r)
        self.sessions = Counter("mcp_sessions", "MCP sessions opened", ["transport"], registry=r)
        self.messages = Counter("mcp_messages", "JSON-RPC messages", ["transport", "direction"], registry=r)
        self.tool_calls = Counter("mcp_tool_calls", "Tool calls by outcome", ["tool", "outcome"], registry=r)
        self.tool_latency = Histogram("mcp_tool_call_duration_seconds", "Tool call latency", ["tool"], registry=r,
                                      buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                               1, 2.5, 5, 10, 30))
        self.errors = Counter("mcp_errors", "JSON-RPC error responses by code", ["code"], registry=r)
        self.rejected = Counter("mcp_rejected_requests", "HTTP requests or upgrades refused before MCP handling",
                                ["reason"], registry=r)
        self._in = {t: self.messages.labels(t, "in") for t in TRANSPORTS}
        self._out = {t: self.messages.labels(t, "out") for t in TRANSPORTS}
        self._errors = {code: self.errors.labels(name) for code, name in ERROR_NAMES.items()}
        self._tools: dict[tuple[str, str], Counter] = {}
        self._latency: dict[str, Histogram] = {}

    def message_in(self, transport: str) -> None:
        self._in[transport].inc()

    def message_out(self, transport: str) -> None:
        self._out[transport].inc()

    def error(self, code: int) -> None:
        child = self._errors.get(code)
        if child is None:
            child = self._errors[code] = self.errors.labels(str(code))
        child.inc()

    def tool_done(self, tool: str, outcome: str, seconds: float) -> None:
        key = (tool, outcome)
        counter = self._tools.get(key)
        if counter is None:
            counter = self._tools[key] = self.tool_calls.labels(tool, outcome)
        counter.inc()
        histogram = self._latency.get(tool)
        if histogram is None:
            histogram = self._latency[tool] = self.tool_latency.labels(tool)
        histogram.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
