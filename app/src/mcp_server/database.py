"""MongoDB through PyMongo's native asyncio client; works on MongoDB >= 6 and FerretDB v1."""

from __future__ import annotations

import asyncio
import logging
import time

from typing import Any

import orjson
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import AutoReconnect, ConnectionFailure, OperationFailure, PyMongoError

log = logging.getLogger("mcp_server.database")

NOTES = "notes"
SEARCH_CACHE = "search_cache"
SESSIONS = "mcp_sessions"  # 2025-era HTTP session records (session_records.py)
CHANGES = "mcp_changes"  # changes shared between replicas (change_feed.py)
ANSWERS = "mcp_answers"  # 2025 clients' answers that reached another replica (answer_relay.py)
TICKETS = "mcp_tickets"  # single-use WebSocket tickets (tickets.py)


# Errors that say the store cannot be reached now (worth a retry); any other error is about the
# operation or its data, and retrying it would fail the same way.
UNREACHABLE = (ConnectionFailure, AutoReconnect)  # server selection and network timeouts are both kinds


def unreachable(exc: BaseException) -> bool:
    return isinstance(exc, UNREACHABLE)


def as_text(value: Any) -> str:
    """What a client (or another outside party) chose, stored as JSON text: its keys never become
    field names, which MongoDB and FerretDB restrict (`$`-prefixed, dotted, empty, NUL)."""
    return orjson.dumps(value).decode()


def from_text(stored: Any) -> Any:
    """The value `as_text` stored (a document an earlier release stored as it was is read as it is)."""
    return orjson.loads(stored) if isinstance(stored, str) else stored


STORE_ERRORS = (PyMongoError, BSONError)


class Database:
    def __init__(self, uri: str, name: str, timeout_ms: int):
        self.client: AsyncMongoClient = AsyncMongoClient(
            uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            timeoutMS=timeout_ms,
            appname="kringen-mcp-server",
            tz_aware=True,
        )
        self.db = self.client[name]
        self.notes = self.db[NOTES]
        self.search_cache = self.db[SEARCH_CACHE]
        self.sessions = self.db[SESSIONS]
        self.changes = self.db[CHANGES]
        self.answers = self.db[ANSWERS]
        self.tickets = self.db[TICKETS]
        self._indexes_ready = False
        self._last_ping: tuple[float, bool] = (0.0, False)

    async def ensure_indexes(self) -> bool:
        """Create the indexes the tools rely on. Idempotent; failures are logged, not fatal
        (FerretDB v1 supports plain and unique indexes, which is all these are)."""
        if self._indexes_ready:
            return True
        try:
            await self.notes.create_index([("updated_at", DESCENDING), ("_id", DESCENDING)], name="updated_at_id")
            await self.notes.create_index([("terms", ASCENDING)], name="terms")
            await self.search_cache.create_index([("expires_at", ASCENDING)], name="expires_at")
            await self.sessions.create_index([("exp", ASCENDING)], name="exp")
            await self.changes.create_index([("at", ASCENDING)], name="at")
            await self.answers.create_index([("at", ASCENDING)], name="at")
        except OperationFailure as exc:
            log.warning("index creation failed (searches still work, slower): %s", exc)
            return False
        except PyMongoError as exc:
            log.warning("database unreachable while creating indexes: %s", type(exc).__name__)
            return False
        self._indexes_ready = True
        return True

    async def ping(self, cache_seconds: float = 1.0) -> bool:
        """Is the database reachable? Cached briefly so readiness probes do not hammer it."""
        stamp, ok = self._last_ping
        now = time.monotonic()
        if now - stamp < cache_seconds:
            return ok
        try:
            await asyncio.wait_for(self.db.command("ping"), timeout=2.0)
            ok = True
        except (PyMongoError, asyncio.TimeoutError):
            ok = False
        self._last_ping = (time.monotonic(), ok)
        if ok and not self._indexes_ready:
            await self.ensure_indexes()
        return ok

    async def close(self) -> None:
        await self.client.close()
