"""Single-use WebSocket tickets, for clients that cannot send an Authorization header.

A client that holds an access token asks `POST /mcp/ticket` (with the token in the header) for a
ticket: 32 random bytes, base64url, valid for MCP_WS_TICKET_SECONDS. It offers the ticket as the
WebSocket subprotocol `mcp-ticket.<ticket>` beside `mcp`; the upgrade redeems it once and the
connection gets the token's principal. Only a hash of the ticket is stored: in MongoDB
(`mcp_tickets`, so a ticket minted on one replica is redeemed on any) or in the process.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

SUBPROTOCOL_PREFIX = "mcp-ticket."


def new_ticket() -> tuple[str, str]:
    """A ticket and the hash it is stored under."""
    ticket = secrets.token_urlsafe(32)
    return ticket, ticket_hash(ticket)


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def offered_ticket(subprotocols: str | None) -> str | None:
    """The ticket among the offered subprotocols (a Sec-WebSocket-Protocol header value), if any."""
    for offered in (subprotocols or "").split(","):
        offered = offered.strip()
        if offered.startswith(SUBPROTOCOL_PREFIX) and len(offered) > len(SUBPROTOCOL_PREFIX):
            return offered[len(SUBPROTOCOL_PREFIX):]
    return None


class TicketStore(Protocol):
    async def put(self, key: str, principal: dict[str, Any], expires_at: float) -> None: ...

    async def take(self, key: str) -> dict[str, Any] | None:
        """The principal a live ticket was minted for, removing it; None when unknown, used or expired."""


class MemoryTickets:
    def __init__(self) -> None:
        self._tickets: dict[str, tuple[dict[str, Any], float]] = {}

    async def put(self, key: str, principal: dict[str, Any], expires_at: float) -> None:
        now = time.time()
        self._tickets = {k: v for k, v in self._tickets.items() if v[1] > now}
        self._tickets[key] = (principal, expires_at)

    async def take(self, key: str) -> dict[str, Any] | None:
        entry = self._tickets.pop(key, None)
        return entry[0] if entry is not None and entry[1] > time.time() else None


class MongoTickets:
    """Redeeming is one find-and-delete, so a ticket is used once across every replica."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._collection = collection

    async def put(self, key: str, principal: dict[str, Any], expires_at: float) -> None:
        try:
            await self._collection.delete_many({"exp": {"$lte": time.time()}})
            await self._collection.insert_one({"_id": key, "principal": principal, "exp": expires_at})
        except PyMongoError as exc:
            raise TicketsUnavailable(type(exc).__name__) from None

    async def take(self, key: str) -> dict[str, Any] | None:
        try:
            found = await self._collection.find_one_and_delete({"_id": key})
        except PyMongoError as exc:
            raise TicketsUnavailable(type(exc).__name__) from None
        if found is None or found.get("exp", 0) <= time.time():
            return None
        return found.get("principal")


class TicketsUnavailable(Exception):
    """The ticket store cannot be reached."""
