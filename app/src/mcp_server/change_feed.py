"""Changes made on one replica, heard on every other: the subscription hub's link between pods.

With no affinity, a client's write and its subscription (a 2025 GET stream, a 2026 listen stream)
can land on different replicas. Each change a tool reports is told to this replica's subscribers
at once and written to the `mcp_changes` collection; every replica that has subscribers reads the
collection about once a second and tells its own subscribers what the others wrote. FerretDB has
no change streams, so this polls; documents older than a few minutes are pruned.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from .subscriptions import Subscriptions

log = logging.getLogger("mcp_server.changes")

KEEP_SECONDS = 300
OVERLAP_SECONDS = 5.0  # re-read this much of the past: writes of other replicas may arrive late


class ChangeFeed:
    """Wraps the hub: local changes go to local subscribers and to the shared collection."""

    def __init__(self, hub: Subscriptions, collection: AsyncCollection, poll_seconds: float = 1.0):
        self.hub = hub
        self.collection = collection
        self.poll_seconds = poll_seconds
        self.origin = secrets.token_hex(8)
        self._since = dt.datetime.now(dt.timezone.utc)
        self._seen: dict[Any, dt.datetime] = {}
        self._pending: set[asyncio.Task[Any]] = set()

    # --- what tools call (context.Changes) -------------------------------------

    def resource_updated(self, uri: str) -> None:
        self.hub.resource_updated(uri)
        self._publish({"kind": "resource", "key": uri})

    def list_changed(self, kind: str) -> None:
        self.hub.list_changed(kind)
        self._publish({"kind": "list", "key": kind})

    def _publish(self, change: dict[str, Any]) -> None:
        document = {**change, "origin": self.origin, "at": dt.datetime.now(dt.timezone.utc)}
        task = asyncio.ensure_future(self._insert(document))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _insert(self, document: dict[str, Any]) -> None:
        try:
            await self.collection.insert_one(document)
        except PyMongoError as exc:
            log.warning("change not shared with other replicas: %s", type(exc).__name__)

    # --- reading what the other replicas wrote -----------------------------------

    async def poll_once(self) -> int:
        """Tell this replica's subscribers the other replicas' changes since the last poll."""
        now = dt.datetime.now(dt.timezone.utc)
        since = self._since - dt.timedelta(seconds=OVERLAP_SECONDS)
        documents = await self.collection.find(
            {"at": {"$gte": since}, "origin": {"$ne": self.origin}}).sort("at", 1).to_list()
        told = 0
        for document in documents:
            if document["_id"] in self._seen:
                continue
            self._seen[document["_id"]] = document["at"]
            if document.get("kind") == "resource":
                self.hub.resource_updated(document["key"])
            elif document.get("kind") == "list":
                self.hub.list_changed(document["key"])
            told += 1
        self._since = now
        cutoff = now - dt.timedelta(seconds=OVERLAP_SECONDS * 2)
        self._seen = {key: at for key, at in self._seen.items() if at >= cutoff}
        return told

    async def run(self) -> None:
        """Poll while anyone here listens; prune old changes now and then. Runs until cancelled."""
        rounds = 0
        while True:
            await asyncio.sleep(self.poll_seconds)
            rounds += 1
            try:
                if self.hub.count():
                    await self.poll_once()
                else:
                    self._since = dt.datetime.now(dt.timezone.utc)
                if rounds % 60 == 0:
                    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=KEEP_SECONDS)
                    await self.collection.delete_many({"at": {"$lt": old}})
            except PyMongoError as exc:
                log.warning("changes of other replicas not read: %s", type(exc).__name__)
