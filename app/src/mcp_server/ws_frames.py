"""WebSocket frames on the connection's asyncio transport, after Tornado's handshake.

Tornado reads a frame with three to five `IOStream.read_bytes` calls, each a future, and toggles the
socket's interest in the event loop around every read (an `epoll_ctl` each time); with many small
frames that was most of a call's CPU. Here the HTTP connection (http1.py) is already on an asyncio
transport (uvloop's, in C: it reads whenever data is there and keeps its interest registered); once
Tornado's WebSocketHandler has written the 101 and detached the connection, frames are cut from what
`data_received` gets, several per read when the client sends them together. Everything above the
frame (what an opcode means, the close handshake and its codes, pings and pongs, the size limit, the
strict checks of `ws_protocol`) is Tornado's and ws_protocol's code, unchanged: the transport stands
in for the IOStream through the few methods that code calls (`TransportStream`).

A connection that Tornado served itself (TLS), or one with a compression extension, stays on
Tornado's own frame loop.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.ioloop import IOLoop
from tornado.util import _websocket_mask

from .transport_end import TransportEnd
from .ws_protocol import LINGER_SECONDS, MASK_BIT, PROTOCOL_ERROR, TOO_BIG, LingeringProtocol

FIN = 0x80
RESERVED_BITS = 0x70
OPCODE_BITS = 0x0F
CONTROL_BIT = 0x08
CONTINUATION = 0x0
EXTENDED_LENGTH_BYTES = {126: 2, 127: 8}


class TransportStream(TransportEnd):
    """What WebSocketProtocol13 uses of an IOStream (write, close, closed, set_nodelay, io_loop), on the
    transport an HTTP connection (http1.Http1Connection) detached after the 101; what arrives goes
    to the frame layer once it is attached."""

    def __init__(self, transport: asyncio.Transport, early: bytes, on_lost: Callable[[], None] | None = None):
        super().__init__(on_lost)
        self.transport = transport
        self.frames: OwnFramesProtocol | None = None
        self._early = early  # what arrived after the upgrade request, before the frame layer
        self.io_loop = IOLoop.current()
        self._discarding = False

    def attach(self, frames: OwnFramesProtocol) -> None:
        self.frames = frames
        early, self._early = self._early, b""
        if early:
            self.data_received(early)
        if self._closed:
            frames.stream_lost()

    # --- asyncio.Protocol -------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.frames is None:
            self._early += data
        elif not self._discarding:
            self.frames.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.frames is not None:
            self.frames.stream_lost()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.frames is not None:
            self.frames.writable_again()

    # --- the IOStream methods the WebSocket protocol calls -------------------------------

    write = TransportEnd.write_out
    close = TransportEnd.close_transport

    def set_nodelay(self, value: bool) -> None:
        assert self.transport is not None
        sock = self.transport.get_extra_info("socket")
        if sock is not None and not self._closed:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if value else 0)

    # --- for the frame layer -------------------------------------------------------------

    def pause_reading(self) -> None:
        if not self._closed and self.transport is not None:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if not self._closed and self.transport is not None:
            self.transport.resume_reading()

    async def discard_until_closed(self, seconds: float) -> None:
        """Reads and drops whatever arrives until the client closes or `seconds` pass, then closes."""
        self._discarding = True
        self.resume_reading()
        try:
            await asyncio.wait_for(asyncio.shield(self._lost), seconds)
        except asyncio.TimeoutError:
            pass
        finally:
            self.close()


class OwnFramesProtocol(LingeringProtocol):
    """The lingering, strict RFC 6455 protocol whose frames are read by `data_received`."""

    _own: TransportStream | None = None
    _buffer: bytearray | None = None  # the start of a frame that is not all there yet
    _needed = 0  # how many bytes the buffer needs before the frame can be looked at again
    _reading: asyncio.Future[None] | None = None  # done when no more frames are to be read
    _held: Awaitable[Any] | None = None  # a message handler still running: reading waits for it

    async def _receive_frame_loop(self) -> None:
        stream = self.stream
        if not isinstance(stream, TransportStream) or self._compressor is not None or self._decompressor is not None:
            await super()._receive_frame_loop()  # a connection Tornado served (TLS), or compression
            return
        try:
            self._reading = asyncio.get_running_loop().create_future()
            self._own = stream
            stream.attach(self)
            await self._reading
        finally:
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)

    def _end_reading(self) -> None:
        if self._reading is not None and not self._reading.done():
            self._reading.set_result(None)

    def stream_lost(self) -> None:
        if not self.client_terminated:
            self._abort()
        self._end_reading()

    def _abort(self) -> None:
        super()._abort()
        self._end_reading()

    async def _drain_then_close(self) -> None:
        own = self._own
        if own is None:
            await super()._drain_then_close()
            return
        self._end_reading()
        await own.discard_until_closed(LINGER_SECONDS)

    # --- reading --------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        buffer: bytes = data
        if self._buffer is not None:
            self._buffer += data
            if len(self._buffer) < self._needed:
                return  # a large frame comes in many reads: joined once, when it is whole
            buffer, self._buffer = bytes(self._buffer), None
        at, size = 0, len(buffer)
        own = self._own
        while not self.client_terminated and self._held is None:
            if own is not None and not own.writable():
                # the client is not reading its answers: no more frames until it does
                self._needed = 0
                own.pause_reading()
                break
            after = self._frame_at(buffer, at, size)
            if after is None:
                break
            at = after
        if self.client_terminated:
            self._end_reading()
        elif at < size:
            self._buffer = bytearray(memoryview(buffer)[at:])
            self._needed -= at

    def writable_again(self) -> None:
        """The transport takes answers again: the frames held meanwhile are read."""
        own = self._own
        if own is None or self._held is not None or self.client_terminated:
            return
        own.resume_reading()
        if self._buffer is not None:
            buffered, self._buffer = bytes(self._buffer), None
            self.data_received(buffered)

    def _frame_at(self, buffer: bytes, at: int, size: int) -> int | None:
        """Handles the frame that starts at `at` if it is all there and returns where the next one
        begins; otherwise sets how many bytes it needs and returns None."""
        self._needed = at + 2
        if size < self._needed:
            return None
        first, second = buffer[at], buffer[at + 1]
        length = second & 0x7F
        if not self._header_allowed(first, second, length):
            return None
        extended = EXTENDED_LENGTH_BYTES.get(length, 0)  # 126: a 16-bit length follows, 127: 64-bit
        if extended:
            if size < at + 2 + extended:
                self._needed = at + 2 + extended
                return None
            length = int.from_bytes(buffer[at + 2:at + 2 + extended], "big")
        start = at + 6 + extended  # after the mask key
        if not self._length_allowed(length):
            return None
        end = start + length
        if size < end:
            self._needed = end
            return None
        self._frame(first, _websocket_mask(buffer[start - 4:start], buffer[start:end]))
        return end

    # Tornado's checks of a frame header, in its order, and ws_protocol's mask rule before them; a
    # frame that fails one ends the connection as soon as its first bytes are there.

    def _header_allowed(self, first: int, second: int, length: int) -> bool:
        if not second & MASK_BIT:
            self.close(PROTOCOL_ERROR, "client frames must be masked")
            self._abort()
            return False
        if first & RESERVED_BITS or (first & CONTROL_BIT and length >= 126):
            self._abort()  # an extension that was not negotiated, or a control frame over 125 bytes
            return False
        return True

    def _length_allowed(self, length: int) -> bool:
        fragments = self._fragmented_message_buffer
        if length + (len(fragments) if fragments is not None else 0) > self.params.max_message_size:
            self.close(TOO_BIG, "message too big")
            self._abort()
            return False
        return True

    def _frame(self, first: int, data: bytes) -> None:
        """One whole frame: control frames at once, data frames joined until the final one."""
        is_final = first & FIN
        opcode = first & OPCODE_BITS
        if opcode & CONTROL_BIT:
            if not is_final:
                self._abort()
                return
        elif opcode == CONTINUATION:
            fragments = self._fragmented_message_buffer
            if fragments is None:
                self._abort()
                return
            fragments.extend(data)
            if is_final:
                opcode = self._fragmented_message_opcode
                data = bytes(fragments)
                self._fragmented_message_buffer = None
        elif self._fragmented_message_buffer is not None:
            self._abort()  # a new message before the fragmented one ended
            return
        elif not is_final:
            self._fragmented_message_opcode = opcode
            self._fragmented_message_buffer = bytearray(data)
        if is_final:
            handled = self._handle_message(opcode, data)
            if handled is not None:
                self._hold_reading(handled)

    def _hold_reading(self, handled: Awaitable[Any]) -> None:
        """A handler that returned an awaitable is finished before the next frame is read."""
        own = self._own
        assert own is not None
        self._held = handled
        own.pause_reading()

        def go_on(_: object) -> None:
            self._held = None
            own.resume_reading()
            if self._buffer is not None:
                buffered, self._buffer = bytes(self._buffer), None
                self.data_received(buffered)

        asyncio.ensure_future(handled).add_done_callback(go_on)
