"""Answers of 2025 clients that reach another replica than the one that asked.

In a 2025 session the server asks the client things (sampling, elicitation, roots) on the stream
of a request, and the client POSTs its answer: with no affinity that POST may land on any replica.
The replica that gets an answer it did not ask for writes it to `mcp_answers`; the replica that
asked reads the collection while it waits. Request ids carry a per-process prefix, so two replicas
asking within one session never collide.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from .database import STORE_ERRORS, as_text, from_text

log = logging.getLogger("mcp_server.answers")

KEEP_SECONDS = 600


class AnswerRelay:
    def __init__(self, collection: AsyncCollection, poll_seconds: float = 0.1):
        self.collection = collection
        self.poll_seconds = poll_seconds
        self.origin = secrets.token_hex(4)  # prefixes this process's request ids
        self._pending: set[asyncio.Task[Any]] = set()

    @staticmethod
    def key(session_id: str, request_id: Any) -> str:
        return f"{session_id}:{request_id}"

    def deliver(self, session_id: str, message: dict[str, Any]) -> None:
        """Hand over an answer this replica did not ask for (in the background)."""
        task = asyncio.ensure_future(self._insert(self.key(session_id, message.get("id")), message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _insert(self, key: str, message: dict[str, Any]) -> None:
        try:
            # the client's answer as JSON text: its keys are the client's (database.as_text)
            await self.collection.insert_one({"_id": key, "m": as_text(message), "at": dt.datetime.now(dt.timezone.utc)})
        except DuplicateKeyError:
            pass  # the client sent it twice
        except STORE_ERRORS as exc:
            log.warning("an answer for another replica was not handed over: %s", type(exc).__name__)

    async def wait(self, session_id: str, request_id: Any) -> dict[str, Any]:
        """The answer another replica received for our request; waits until it comes (cancel to stop)."""
        key = self.key(session_id, request_id)
        while True:
            try:
                document = await self.collection.find_one_and_delete({"_id": key})
            except PyMongoError as exc:
                log.warning("answers of other replicas not read: %s", type(exc).__name__)
                document = None
            if document is not None:
                return from_text(document["m"])  # type: ignore[no-any-return]
            await asyncio.sleep(self.poll_seconds)

    async def prune(self) -> None:
        old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=KEEP_SECONDS)
        try:
            await self.collection.delete_many({"at": {"$lt": old}})
        except PyMongoError as exc:
            log.warning("old answers not pruned: %s", type(exc).__name__)
