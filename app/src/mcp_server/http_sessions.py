"""Streamable HTTP sessions of the 2025 era: the MCP session behind an `Mcp-Session-Id`, its rate
limiter, its GET stream and the streams it can resume. Kept in this process's memory; the
store's methods are all a transport uses, so tests drive it without a server."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict

from .core import Core
from .mcp2025 import Session
from .security import RateLimiter
from .sse import SseChannel

MAX_STORED_STREAMS = 32


class HttpSession:
    """A Streamable HTTP session: the MCP session plus its transport state."""

    __slots__ = ("session_id", "session", "limiter", "get_stream", "_streams")

    def __init__(self, session_id: str, session: Session, limiter: RateLimiter):
        self.session_id = session_id
        self.session = session
        self.limiter = limiter
        self.get_stream: SseChannel | None = None
        self._streams: OrderedDict[str, SseChannel] = OrderedDict()

    def keep(self, channel: SseChannel) -> None:
        """Remember a stream so that it can be resumed; the oldest are forgotten."""
        self._streams[channel.stream_id] = channel
        while len(self._streams) > MAX_STORED_STREAMS:
            self._streams.popitem(last=False)

    def stream(self, stream_id: str) -> SseChannel | None:
        return self._streams.get(stream_id)

    def open_get_stream(self, channel: SseChannel) -> bool:
        """Make `channel` the session's GET stream; False when one is open already."""
        if self.get_stream is not None and not self.get_stream.finished:
            return False
        self.get_stream = channel
        self.keep(channel)
        self.session.set_outbox(channel)
        return True

    def close_get_stream(self, channel: SseChannel) -> None:
        if self.get_stream is channel:
            channel.finish()
            self.get_stream = None
            self.session.set_outbox(None)

    def idle_since(self, cutoff: float) -> bool:
        return self.session.last_seen < cutoff and not self.session.busy() and self.get_stream is None

    def end(self) -> None:
        self.session.close()
        if self.get_stream is not None:
            self.get_stream.finish()


class HttpSessions:
    """Live Streamable HTTP sessions by id; ends idle ones."""

    def __init__(self, core: Core, transport: str, rate_limit: float, rate_burst: int, idle_seconds: float):
        self.core = core
        self.transport = transport
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, HttpSession] = {}

    def create(self) -> HttpSession:
        session_id = secrets.token_urlsafe(32)
        http_session = HttpSession(session_id, self.core.open_session(self.transport),
                                   RateLimiter(self.rate_limit, self.rate_burst))
        self._sessions[session_id] = http_session
        self.core.metrics.connections.labels(self.transport).inc()
        self.core.metrics.sessions.labels(self.transport).inc()
        return http_session

    def get(self, session_id: str) -> HttpSession | None:
        return self._sessions.get(session_id)

    def end(self, session_id: str) -> bool:
        http_session = self._sessions.pop(session_id, None)
        if http_session is None:
            return False
        http_session.end()
        self.core.metrics.connections.labels(self.transport).dec()
        return True

    def end_idle(self) -> int:
        cutoff = time.monotonic() - self.idle_seconds
        idle = [sid for sid, s in self._sessions.items() if s.idle_since(cutoff)]
        for session_id in idle:
            self.end(session_id)
        return len(idle)

    def end_all(self) -> None:
        for session_id in list(self._sessions):
            self.end(session_id)

    def __len__(self) -> int:
        return len(self._sessions)
