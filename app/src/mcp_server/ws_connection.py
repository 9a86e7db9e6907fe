"""A WebSocket on the connection's asyncio transport: the shell around the sans-I/O core
`wire.websocket`, once the handler has written the 101 and the HTTP connection has handed the
transport over (http1.Http1Connection.hand_over).

It holds what the core does not: the transport, flow control (no frame is read, and reading stops,
while the client is not reading its answers; otherwise what waits is one frame still arriving,
bounded by the size limit), the close handshake (a
close frame the client sends is echoed; one the server sends waits CLOSE_WAIT_SECONDS for the
client's before the socket is dropped), pings every `ping_interval` with the connection closed when
a pong does not come within `ping_timeout`, and the linger after failing a connection (1002, 1007,
1009): what the client still sends is read and dropped for LINGER_SECONDS, because closing a socket
with unread data makes the kernel send a reset, which can destroy the close frame before the client
reads it. The endpoint (the MCP handler) sees whole text messages as bytes, binary messages, and the
end of the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from .transport_end import TransportEnd
from tornado.iostream import StreamClosedError

from .wire.websocket import (BINARY, CLOSE, PING, PONG, TEXT, Failure, FrameReader, close_code_and_reason,
                             close_frame, frame)

CLOSE_WAIT_SECONDS = 5.0  # after our close frame, how long the client has to send its own
LINGER_SECONDS = 2.0
KEEPALIVE_TIMEOUT = 1011  # as the websockets library closes when a ping goes unanswered


class Endpoint(Protocol):
    def on_text(self, message: bytes) -> None: ...

    def on_binary(self, message: bytes) -> None: ...

    def on_closed(self, code: int | None, reason: str) -> None: ...


class WebSocketConnection(TransportEnd):
    def __init__(self, endpoint: Endpoint, max_size: int, ping_interval: float | None, ping_timeout: float | None):
        super().__init__()
        self._endpoint = endpoint
        self._reader = FrameReader(max_size)
        self._ping_interval = ping_interval or 0.0
        self._ping_timeout = min(ping_timeout or self._ping_interval, self._ping_interval)
        self._closing = False  # our close frame is sent (or being sent): no more frames from us
        self._discarding = False  # lingering after a failure
        self._ping_timer: asyncio.TimerHandle | None = None
        self._pinged_at: float | None = None  # our last ping not answered yet
        self._close_timer: asyncio.TimerHandle | None = None
        self._told = False
        self.close_code: int | None = None  # the client's, when it closed
        self.close_reason = ""

    def adopt(self, transport: asyncio.Transport, early: bytes, on_lost: Callable[[], None]) -> None:
        """Takes the transport the HTTP connection handed over, with what arrived after the upgrade;
        `on_lost` is called when the socket is gone."""
        self.transport = transport
        self._on_lost = on_lost
        if self._ping_interval:
            self._ping_timer = self._loop.call_later(self._ping_interval, self._ping)
        if early:
            self.data_received(early)

    # --- what the endpoint calls ----------------------------------------------------------------------

    def send_text(self, message: bytes) -> None:
        """A text message (UTF-8 bytes); dropped once the connection is closing."""
        if not self._closing and not self._closed:
            self._write(frame(TEXT, message))

    def close(self, code: int | None = None, reason: str = "") -> None:
        """Starts the closing handshake; the socket goes when the client answers or after CLOSE_WAIT_SECONDS."""
        if self._closing or self._closed:
            return
        self._closing = True
        self._write(close_frame(code, reason))
        self._close_timer = self._loop.call_later(CLOSE_WAIT_SECONDS, self.abort_transport)

    def is_closing(self) -> bool:
        return self._closing or self._closed

    # --- asyncio.Protocol -----------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        self._reader.receive_data(data)
        self._read_frames()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._reading_paused and not self._discarding:
            self.resume_reading()
            self._read_frames()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        for timer in (self._ping_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        if not self._told:
            self._told = True
            self._endpoint.on_closed(self.close_code, self.close_reason)

    # --- reading --------------------------------------------------------------------------------------

    def _read_frames(self) -> None:
        reader, endpoint = self._reader, self._endpoint
        while not self._closed and not self._discarding:
            if not self.writable():  # the client is not reading its answers: no more frames until it does
                self.pause_reading()
                return
            try:
                event = reader.next_event()
            except Failure as failure:
                self._fail(failure.code, failure.reason)
                return
            if event is None:
                break
            opcode, payload = event
            if opcode == TEXT:
                endpoint.on_text(payload)
            elif opcode == PING:
                if not self._closing:
                    self._write(frame(PONG, payload))
            elif opcode == PONG:
                self._pinged_at = None
            elif opcode == CLOSE:
                self._client_closed(payload)
                return
            elif opcode == BINARY:
                endpoint.on_binary(payload)
        # what is left is at most one frame still arriving, which the size limit bounds

    def _client_closed(self, payload: bytes) -> None:
        self.close_code, self.close_reason = close_code_and_reason(payload)
        if not self._closing:
            self._closing = True
            self._write(close_frame(self.close_code))  # the client's code echoed
        self.close_transport()

    def _fail(self, code: int, reason: str) -> None:
        """Closes with `code` and lingers: what the client still sends is dropped, not left unread."""
        if not self._closing:
            self._closing = True
            self._write(close_frame(code, reason))
        self._discarding = True
        self.resume_reading()
        if self._close_timer is not None:
            self._close_timer.cancel()
        self._close_timer = self._loop.call_later(LINGER_SECONDS, self.close_transport)

    # --- timers ---------------------------------------------------------------------------------------

    def _ping(self) -> None:
        if self._closed or self._closing:
            return
        now = self._loop.time()
        if self._pinged_at is not None and now - self._pinged_at >= self._ping_timeout:
            self.close(KEEPALIVE_TIMEOUT, "no pong to the last ping")
            return
        if self._pinged_at is None:
            self._pinged_at = now
            self._write(frame(PING, b""))
        self._ping_timer = self._loop.call_later(self._ping_interval, self._ping)

    def _write(self, data: bytes) -> None:
        try:
            self.write_out(data)
        except StreamClosedError:
            pass  # gone (or aborted for not reading): connection_lost tells the endpoint
