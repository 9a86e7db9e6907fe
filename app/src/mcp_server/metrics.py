"""Prometheus metrics.

The per-message and per-call series are plain integers bumped by the event loop (their only
writer) and exported by a collector when /metrics is scraped: prometheus_client's own types
take a lock on every increment, which the hot path does not need. The rest are ordinary
prometheus_client objects.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from .jsonrpc import ERROR_NAMES

TRANSPORTS = ("websocket", "streamable_http")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _ToolLatency:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.connections = Gauge("mcp_open_connections", "Open MCP connections (WebSockets, HTTP sessions)",
                                 ["transport"], registry=r)
        self.sessions = Counter("mcp_sessions", "MCP sessions opened", ["transport"], registry=r)
        self.errors = Counter("mcp_errors", "JSON-RPC error responses by code", ["code"], registry=r)
        self.rejected = Counter("mcp_rejected_requests", "HTTP requests or upgrades refused before MCP handling",
                                ["reason"], registry=r)
        self.open_sockets = Gauge("mcp_open_tcp_connections", "Open TCP connections by listener (WebSockets included)",
                                  ["listener"], registry=r)
        self._errors = {code: self.errors.labels(name) for code, name in ERROR_NAMES.items()}
        self.messages_in = dict.fromkeys(TRANSPORTS, 0)
        self.messages_out = dict.fromkeys(TRANSPORTS, 0)
        self.tool_calls: dict[tuple[str, str], int] = {}
        self.tool_latency: dict[str, _ToolLatency] = {}
        r.register(_HotSeries(self))

    def count_open(self, listener: str, count: Callable[[], float]) -> None:
        """`count()` is read for mcp_open_tcp_connections{listener} at each scrape."""
        self.open_sockets.labels(listener).set_function(count)

    def refused(self, reason: str) -> None:
        """A connection or request refused by the connection layer (limits, timeouts, malformed)."""
        self.rejected.labels(reason).inc()

    def message_in(self, transport: str) -> None:
        self.messages_in[transport] += 1

    def message_out(self, transport: str, count: int = 1) -> None:
        self.messages_out[transport] += count

    def error(self, code: int) -> None:
        child = self._errors.get(code)
        if child is None:
            child = self._errors[code] = self.errors.labels(str(code))
        child.inc()

    def tool_done(self, tool: str, outcome: str, seconds: float) -> None:
        key = (tool, outcome)
        self.tool_calls[key] = self.tool_calls.get(key, 0) + 1
        latency = self.tool_latency.get(tool)
        if latency is None:
            latency = self.tool_latency[tool] = _ToolLatency()
        latency.counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency.total += seconds

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _HotSeries(Collector):
    """Exports Metrics' plain counters as mcp_messages_total, mcp_tool_calls_total and the
    mcp_tool_call_duration_seconds histogram."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        messages = CounterMetricFamily("mcp_messages", "JSON-RPC messages", labels=["transport", "direction"])
        for transport in TRANSPORTS:
            messages.add_metric([transport, "in"], m.messages_in[transport])
            messages.add_metric([transport, "out"], m.messages_out[transport])
        yield messages
        calls = CounterMetricFamily("mcp_tool_calls", "Tool calls by outcome", labels=["tool", "outcome"])
        for (tool, outcome), count in sorted(m.tool_calls.items()):
            calls.add_metric([tool, outcome], count)
        yield calls
        latency = HistogramMetricFamily("mcp_tool_call_duration_seconds", "Tool call latency", labels=["tool"])
        for tool, series in sorted(m.tool_latency.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*map(floatToGoString, LATENCY_BUCKETS), "+Inf"), series.counts):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric([tool], buckets, series.total)
        yield latency
