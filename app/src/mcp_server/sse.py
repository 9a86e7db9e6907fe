"""Server-sent event streams: the messages of one stream, kept so that a client that lost the
stream can resume it (2025 sessions, Last-Event-ID), and how they are written on the wire."""

from __future__ import annotations

import asyncio
from typing import Any

from . import jsonrpc

MAX_STORED_EVENTS = 1000
RETRY_MS = 1000
KEEPALIVE = b": keep-alive\n\n"


class SseChannel:
    """A Channel whose messages are numbered events; writers follow it with a cursor."""

    __slots__ = ("stream_id", "events", "sequence", "finished", "detached", "_waiters")

    def __init__(self, stream_id: str):
        self.stream_id = stream_id
        self.events: list[tuple[int, Any]] = []
        self.sequence = 0
        self.finished = False  # no more messages will come
        self.detached = False  # the server asked to end the live HTTP stream (client resumes later)
        self._waiters: list[asyncio.Future[None]] = []

    def send(self, message: Any) -> None:
        if self.finished:
            return
        self.sequence += 1
        self.events.append((self.sequence, message))
        if len(self.events) > MAX_STORED_EVENTS:
            del self.events[: len(self.events) - MAX_STORED_EVENTS]
        self._wake()

    def finish(self, last: Any = None) -> None:
        if last is not None:
            self.send(last)
        self.finished = True
        self._wake()

    def end_stream(self) -> None:
        self.detached = True
        self._wake()

    def reattach(self) -> None:
        self.detached = False

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def after(self, sequence: int) -> list[tuple[int, Any]]:
        return [event for event in self.events if event[0] > sequence]

    def only_answer(self) -> tuple[bool, Any]:
        """(True, answer) when the stream finished carrying nothing but its answer (or nothing)."""
        if self.finished and self.sequence <= 1:
            return True, self.events[0][1] if self.events else None
        return False, None

    def done(self) -> bool:
        return self.finished or self.detached

    async def changed(self, timeout: float | None = None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            pass


def event(message: Any, event_id: str | None = None) -> bytes:
    """One SSE event carrying a JSON-RPC message (or, with message None, only an id)."""
    data = b"" if message is None else jsonrpc.encode(message)
    head = b"" if event_id is None else b"id: " + event_id.encode() + b"\n"
    return head + b"data: " + data + b"\n\n"


def retry_field() -> bytes:
    return f"retry: {RETRY_MS}\n".encode()
