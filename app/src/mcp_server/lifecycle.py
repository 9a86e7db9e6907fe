"""The server's lifetime in one place: whether it is draining, what is open, and the drain itself.

On SIGTERM the listener closes at once (readiness goes with it); open conversations are served
through the drain window; then every connection that needs a goodbye (a WebSocket: 1001) gets it
once its in-flight calls finish, and the process waits (bounded) for what is still in flight.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol


class Goodbye(Protocol):
    """A connection that must be closed on shutdown (a WebSocket), after its calls finish."""

    async def drain(self, timeout: float) -> None: ...


class Busy(Protocol):
    def busy(self) -> bool: ...


class Lifecycle:
    def __init__(self) -> None:
        self.draining = False
        self._draining_waiter: asyncio.Future[None] | None = None
        self._goodbyes: set[Any] = set()
        self._conversations: set[Any] = set()

    # --- what is open ----------------------------------------------------------

    def opened(self, conversation: Busy) -> None:
        self._conversations.add(conversation)

    def closed(self, conversation: Busy) -> None:
        self._conversations.discard(conversation)

    def needs_goodbye(self, connection: Goodbye) -> None:
        self._goodbyes.add(connection)

    def gone(self, connection: Goodbye) -> None:
        self._goodbyes.discard(connection)

    def open_connections(self) -> int:
        return len(self._goodbyes)

    def busy(self) -> bool:
        return any(c.busy() for c in self._conversations)

    # --- shutdown --------------------------------------------------------------

    def begin_draining(self) -> None:
        self.draining = True
        if self._draining_waiter is not None and not self._draining_waiter.done():
            self._draining_waiter.set_result(None)

    async def until_draining(self) -> None:
        """Wait until the server starts draining (long-lived requests end then)."""
        if self.draining:
            return
        if self._draining_waiter is None:
            self._draining_waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._draining_waiter)

    async def drain(self, drain_seconds: float, timeout: float) -> None:
        """After begin_draining: serve through the drain window, say goodbye to every connection once
        its calls finish, then wait (up to `timeout`) for whatever else is in flight."""
        await asyncio.sleep(drain_seconds)
        await asyncio.gather(*(c.drain(timeout) for c in list(self._goodbyes)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.busy() and loop.time() < deadline:
            await asyncio.sleep(0.05)
