"""Streamable HTTP sessions of the 2025 era, served by every replica.

The session itself (version, capabilities, log level, subscriptions, expiry) is a record in a
store all replicas share (session_records.py). Each replica keeps a live copy of the sessions it
serves: the MCP session object, its rate limiter, its GET stream and the streams it can resume.
A copy is trusted for `cache_seconds` before the record is read again, so the hot path pays no
database round trip, and a DELETE on one replica ends the session on every other one within that
time. Streams stay on the replica that holds them.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict

from .answer_relay import AnswerRelay
from .core import Core
from .mcp2025 import Session
from .security import RateLimiter
from .session_records import RecordsError, SessionRecord, SessionRecords
from .sse import SseChannel

log = logging.getLogger("mcp_server.http")

MAX_STORED_STREAMS = 32
GET_STREAM_PREFIX = "g"  # stream ids say which kind they are: a GET stream may be opened anew elsewhere
POST_STREAM_PREFIX = "p"


def new_stream_id(get_stream: bool) -> str:
    return (GET_STREAM_PREFIX if get_stream else POST_STREAM_PREFIX) + secrets.token_hex(6)


class HttpSession:
    """This replica's live copy of a Streamable HTTP session."""

    __slots__ = ("session_id", "session", "limiter", "get_stream", "expires_at", "checked_at", "owner", "_streams")

    def __init__(self, session_id: str, session: Session, limiter: RateLimiter):
        self.session_id = session_id
        self.session = session
        self.limiter = limiter
        self.get_stream: SseChannel | None = None
        self.expires_at = 0.0  # epoch seconds, as recorded
        self.checked_at = 0.0  # monotonic time the record was last read or written
        self.owner = ""  # who opened it (the principal's subject)
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
    """The sessions this replica serves, backed by the shared records."""

    def __init__(self, core: Core, transport: str, records: SessionRecords, rate_limit: float, rate_burst: int,
                 idle_seconds: float, cache_seconds: float, relay: AnswerRelay | None = None):
        self.core = core
        self.relay = relay
        self.transport = transport
        self.records = records
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst
        self.idle_seconds = idle_seconds
        self.cache_seconds = cache_seconds
        self._sessions: dict[str, HttpSession] = {}

    def _live_copy(self, session_id: str) -> HttpSession:
        http_session = HttpSession(session_id, self.core.open_session(),
                                   RateLimiter(self.rate_limit, self.rate_burst))
        http_session.session.set_persistence(lambda **fields: self.records.update(session_id, **fields))
        if self.relay is not None:
            http_session.session.set_relay(self.relay, session_id)
        self._sessions[session_id] = http_session
        self.core.metrics.connections.labels(self.transport).inc()
        return http_session

    def open(self) -> HttpSession:
        """A new session for an initialize request; recorded by `record` once initialize succeeded."""
        return self._live_copy(secrets.token_urlsafe(32))

    async def record(self, http_session: HttpSession, owner: str) -> None:
        http_session.expires_at = time.time() + self.idle_seconds
        http_session.owner = owner
        await self.records.create(SessionRecord(session_id=http_session.session_id, expires_at=http_session.expires_at,
                                                owner=owner, **http_session.session.recorded_state()))
        http_session.checked_at = time.monotonic()
        self.core.metrics.sessions.labels(self.transport).inc()

    async def get(self, session_id: str) -> HttpSession | None:
        """The session, or None when it ended or never was. Raises RecordsUnavailable when the
        store cannot tell."""
        local = self._sessions.get(session_id)
        if local is None or time.monotonic() - local.checked_at >= self.cache_seconds:
            record = await self.records.load(session_id)
            if record is None:
                self.forget(session_id)
                return None
            if local is None:
                local = self._live_copy(session_id)
            local.session.restore(record.protocol_version, record.client_capabilities, record.client_info,
                                  record.log_level, record.subscriptions)
            local.expires_at = record.expires_at
            local.owner = record.owner
            local.checked_at = time.monotonic()
        if local.expires_at - time.time() < self.idle_seconds / 2:
            # Push the expiry forward at most once per half idle window, not on every request.
            local.expires_at = time.time() + self.idle_seconds
            await self.records.update(session_id, expires_at=local.expires_at)
        return local

    def forget(self, session_id: str) -> None:
        """Drop this replica's copy (the record stays)."""
        http_session = self._sessions.pop(session_id, None)
        if http_session is not None:
            http_session.end()
            self.core.metrics.connections.labels(self.transport).dec()

    async def end(self, session_id: str) -> bool:
        """End the session everywhere: its record goes, and with it every replica's copy."""
        self.forget(session_id)
        return await self.records.end(session_id)

    async def end_idle(self) -> int:
        """Drop copies idle for the idle window, and the records whose expiry passed."""
        cutoff = time.monotonic() - self.idle_seconds
        idle = [sid for sid, s in self._sessions.items() if s.idle_since(cutoff)]
        for session_id in idle:
            self.forget(session_id)
        try:
            await self.records.end_expired()
        except RecordsError as exc:
            log.warning("expired sessions not swept: %s", exc)  # the next sweep tries again
        if self.relay is not None:
            await self.relay.prune()
        return len(idle)

    def end_all(self) -> None:
        """This replica stops (the records stay: other replicas go on serving the sessions)."""
        for session_id in list(self._sessions):
            self.forget(session_id)

    def __len__(self) -> int:
        return len(self._sessions)
