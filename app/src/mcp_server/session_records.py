"""Where 2025-era Streamable HTTP sessions are recorded, so that every replica serves them.

A record is what a session is beyond one pod: its id, negotiated version, the client's
capabilities and info, its log level, its subscriptions and its expiry. It is written when the
session is initialized, again only when the client changes its log level or subscriptions, and its
expiry is pushed forward at most once per half idle window. The app enforces the expiry itself
(FerretDB has no TTL index): an expired record is an ended session.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection

from .database import STORE_ERRORS, as_text, from_text, unreachable


class RecordsError(Exception):
    """The session store did not do what was asked."""


class RecordsUnavailable(RecordsError):
    """The store cannot be reached: the session may well be alive, so this is no 404 (a retry may work)."""


class RecordRefused(RecordsError):
    """The store refused the operation or its data: a retry would fail the same way (a bug to fix)."""


@dataclasses.dataclass(slots=True)
class SessionRecord:
    session_id: str
    protocol_version: str
    client_capabilities: dict[str, Any]
    client_info: dict[str, Any]
    log_level: str | None
    subscriptions: tuple[str, ...]
    expires_at: float  # seconds since the epoch
    owner: str = ""  # the principal that opened it (auth.Principal.subject): nobody else may use it

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at <= (time.time() if now is None else now)


class SessionRecords(Protocol):
    async def create(self, record: SessionRecord) -> None: ...

    async def load(self, session_id: str) -> SessionRecord | None:
        """The live record, or None when the session ended, expired or never was."""

    async def update(self, session_id: str, **fields: Any) -> None: ...

    async def end(self, session_id: str) -> bool: ...

    async def end_expired(self) -> int: ...


class MemorySessionRecords:
    """Records in this process only (tests, and a single replica)."""

    def __init__(self) -> None:
        self._records: dict[str, SessionRecord] = {}

    async def create(self, record: SessionRecord) -> None:
        self._records[record.session_id] = dataclasses.replace(record)

    async def load(self, session_id: str) -> SessionRecord | None:
        record = self._records.get(session_id)
        if record is None or record.expired():
            self._records.pop(session_id, None)
            return None
        return dataclasses.replace(record)

    async def update(self, session_id: str, **fields: Any) -> None:
        record = self._records.get(session_id)
        if record is not None:
            for name, value in fields.items():
                setattr(record, name, value)

    async def end(self, session_id: str) -> bool:
        return self._records.pop(session_id, None) is not None

    async def end_expired(self) -> int:
        now = time.time()
        expired = [sid for sid, record in self._records.items() if record.expired(now)]
        for sid in expired:
            del self._records[sid]
        return len(expired)


class MongoSessionRecords:
    """Records in the `mcp_sessions` collection that every replica shares. The client's capabilities
    and info are kept as JSON text (`database.as_text`): a client chooses their keys, and an extension
    such as `io.modelcontextprotocol/tasks` is a dotted one. They were documents before 1.1 (`caps`,
    `info`): such a record is still read, and a replica of that release reads a new record's as empty."""

    _FIELDS = {"protocol_version": "v", "client_capabilities": "capsj", "client_info": "infoj",
               "log_level": "level", "subscriptions": "subs", "expires_at": "exp", "owner": "own"}
    _AS_TEXT = ("client_capabilities", "client_info")

    def __init__(self, collection: AsyncCollection):
        self.collection = collection

    async def create(self, record: SessionRecord) -> None:
        document = {"_id": record.session_id, **{short: getattr(record, name) for name, short in self._FIELDS.items()}}
        for name in self._AS_TEXT:
            document[self._FIELDS[name]] = as_text(getattr(record, name))
        document["subs"] = list(record.subscriptions)
        await self._call(self.collection.insert_one(document))

    async def load(self, session_id: str) -> SessionRecord | None:
        document = await self._call(self.collection.find_one({"_id": session_id}))
        if document is None:
            return None
        caps = from_text(document.get("capsj", document.get("caps"))) or {}
        info = from_text(document.get("infoj", document.get("info"))) or {}
        record = SessionRecord(session_id, document["v"], caps, info,
                               document.get("level"), tuple(document.get("subs") or ()), float(document["exp"]),
                               str(document.get("own", "")))
        if record.expired():
            await self._call(self.collection.delete_one({"_id": session_id, "exp": document["exp"]}))
            return None
        return record

    async def update(self, session_id: str, **fields: Any) -> None:
        changes = {self._FIELDS[name]: list(value) if name == "subscriptions" else
                   as_text(value) if name in self._AS_TEXT else value for name, value in fields.items()}
        await self._call(self.collection.update_one({"_id": session_id}, {"$set": changes}))

    async def end(self, session_id: str) -> bool:
        result = await self._call(self.collection.delete_one({"_id": session_id}))
        return bool(result.deleted_count)

    async def end_expired(self) -> int:
        result = await self._call(self.collection.delete_many({"exp": {"$lte": time.time()}}))
        return result.deleted_count

    @staticmethod
    async def _call(operation: Any) -> Any:
        try:
            return await operation
        except STORE_ERRORS as exc:
            if unreachable(exc):
                raise RecordsUnavailable(f"the session store (MongoDB) is unreachable: {type(exc).__name__}") from None
            raise RecordRefused(f"the session store refused the session record: {type(exc).__name__}") from None
