"""The JSON-RPC engine of one conversation (a WebSocket, an HTTP session, one stateless request).

It classifies messages, keeps the ids in flight, answers a request inline when its handler
answers at once and in a task when it has to wait, routes responses to the server's own
requests, cancels on `notifications/cancelled`, and applies the batch rule. It knows no MCP
method: each MCP era subclasses it and implements `dispatch` (and `accepts_batches`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable
from typing import Any, Protocol

from . import jsonrpc
from .jsonrpc import INVALID_REQUEST, JsonRpcError
from .metrics import Metrics

log = logging.getLogger("mcp_server.engine")

Response = dict[str, Any]
# What receive() gives back: nothing to answer (notifications, responses), a response (or a
# batch's list of them) ready now, or a task that produces one (None when the client cancelled).
Answer = Response | list[Response] | None
Reply = Answer | asyncio.Future[Answer]

EMPTY: dict[str, Any] = {}  # shared default params: read, never mutated


class Channel(Protocol):
    """Where the messages a request produces go: a WebSocket, an SSE response stream."""

    def send(self, message: dict[str, Any]) -> None: ...

    def end_stream(self) -> None:
        """End the live stream now (SEP-1699 polling: the client resumes it); nothing on a WebSocket."""


class NullChannel:
    """Drops messages (a Streamable HTTP session with no GET stream open)."""

    def send(self, message: dict[str, Any]) -> None:
        return None

    def end_stream(self) -> None:
        return None


NULL_CHANNEL = NullChannel()


def is_pending(reply: Reply) -> bool:
    """True when receive() gave an awaitable rather than an answer that is ready."""
    return reply is not None and not isinstance(reply, (dict, list))


async def settled(reply: Reply) -> Answer:
    """The answer of receive(), given at once or awaited."""
    if is_pending(reply):
        return await reply  # type: ignore[misc]
    return reply  # type: ignore[return-value]


def settle_with_response(future: asyncio.Future[dict[str, Any]], message: dict[str, Any]) -> None:
    """Resolve the future of a request the server sent with the client's response to it."""
    if future.done():
        return
    if "error" in message:
        error = message["error"] if isinstance(message["error"], dict) else {}
        code = error.get("code")
        future.set_exception(JsonRpcError(code if jsonrpc.is_valid_code(code) else jsonrpc.INTERNAL_ERROR,
                                          str(error.get("message", "client error")), error.get("data")))
        return
    result = message.get("result")
    if result is None:
        result = {}
    if not isinstance(result, dict):
        future.set_exception(JsonRpcError(
            INVALID_REQUEST, f"Invalid Request: the client answered request {message.get('id')!r} with a "
                             f"{type(result).__name__} result; a result must be an object"))
        return
    future.set_result(result)


def close_unstarted(awaitable: Any) -> None:
    """Close a coroutine that will never run (its request was cancelled before its task started),
    and the coroutines it was handed, so that none of them warns that it was never awaited."""
    if not inspect.iscoroutine(awaitable) or inspect.getcoroutinestate(awaitable) != inspect.CORO_CREATED:
        return
    for value in awaitable.cr_frame.f_locals.values():
        close_unstarted(value)
    awaitable.close()


class Engine:
    """JSON-RPC for one conversation; subclasses answer the requests (see `dispatch`)."""

    __slots__ = ("metrics", "inflight", "closed", "last_seen", "_client_requests", "_next_request")

    def __init__(self, metrics: Metrics):
        self.metrics = metrics
        self.inflight: dict[Any, asyncio.Task[Any]] = {}
        self.closed = False
        self.last_seen = time.monotonic()
        self._client_requests: dict[Any, asyncio.Future[dict[str, Any]]] | None = None
        self._next_request = 0

    # --- what an era implements -------------------------------------------------

    def dispatch(self, request_id: Any, method: str, params: dict[str, Any], channel: Channel) -> Any:
        """Answer one request: its result, or an awaitable of it when it has to wait.
        Raise JsonRpcError to answer with an error."""
        raise NotImplementedError

    def notified(self, method: str, params: dict[str, Any]) -> None:
        """A notification other than notifications/cancelled."""

    def accepts_batches(self) -> bool:
        return False

    # --- incoming ------------------------------------------------------------

    def receive(self, value: Any, channel: Channel) -> Reply:
        """Take one decoded JSON value: a message, or a batch of them.

        A request whose handler answered at once is answered at once, with no task (most
        requests never wait); otherwise the awaitable is a task registered under the request id
        before it runs. Raises JsonRpcError for a malformed message or a batch not accepted.
        """
        self.last_seen = time.monotonic()
        if isinstance(value, list):
            return self._batch(value, channel)
        return self._one(value, channel)

    def _one(self, value: Any, channel: Channel) -> Reply:
        kind = jsonrpc.classify(value)
        if kind == "request":
            return self._answer(value, channel)
        if kind == "notification":
            self._notification(value)
        else:
            self._response(value)
        return None

    def _batch(self, values: list[Any], channel: Channel) -> Reply:
        if not self.accepts_batches():
            raise JsonRpcError(INVALID_REQUEST,
                               "Invalid Request: JSON-RPC batches are only accepted in protocol version 2025-03-26")
        if not values:
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: an empty batch")
        ready: list[Response] = []
        waiting: list[Awaitable[Answer]] = []
        for value in values:
            try:
                reply = self._one(value, channel)
            except JsonRpcError as exc:
                self.metrics.error(exc.code)
                ready.append(exc.to_response())
                continue
            if is_pending(reply):
                waiting.append(reply)  # type: ignore[arg-type]
            elif reply is not None:
                ready.append(reply)  # type: ignore[arg-type]
        if waiting:
            return asyncio.ensure_future(self._gather(ready, waiting))  # a task, as for one request
        return ready or None

    @staticmethod
    async def _gather(ready: list[Response], waiting: list[Awaitable[Answer]]) -> Answer:
        answers = ready + [a for a in await asyncio.gather(*waiting) if a is not None]  # type: ignore[misc]
        return answers or None

    def _answer(self, message: dict[str, Any], channel: Channel) -> Reply:
        request_id = message["id"]
        method = message["method"]
        if request_id in self.inflight:
            return self.failure(request_id, method, JsonRpcError(
                INVALID_REQUEST, f"Invalid Request: id {request_id!r} is in use"))
        try:
            outcome = self.dispatch(request_id, method, message.get("params") or EMPTY, channel)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON-RPC error response
            return self.failure(request_id, method, exc)
        if type(outcome) is not dict and inspect.isawaitable(outcome):  # results are dicts: skip the slow check
            return self._answer_later(request_id, method, outcome)
        return jsonrpc.result_response(request_id, outcome)

    def _answer_later(self, request_id: Any, method: str, outcome: Awaitable[Any]) -> asyncio.Task[Response | None]:
        # Registered before it runs, so that a second request with this id (in the same batch or
        # the same read from the socket) is refused and a cancellation finds it.
        task = asyncio.ensure_future(self._await_answer(request_id, method, outcome))
        self.inflight[request_id] = task
        task.add_done_callback(lambda done: self._answered(request_id, outcome, done))
        return task

    def _answered(self, request_id: Any, outcome: Awaitable[Any], task: asyncio.Task[Any]) -> None:
        # Runs before the transport's own done callback sends the answer, so the id is free by then.
        if self.inflight.get(request_id) is task:
            del self.inflight[request_id]
        if task.cancelled():
            close_unstarted(outcome)

    async def _await_answer(self, request_id: Any, method: str, outcome: Awaitable[Any]) -> Response | None:
        try:
            return jsonrpc.result_response(request_id, await outcome)
        except asyncio.CancelledError:
            if self.closed:
                raise
            # Cancelled by the client: the spec says send no response.
            return None
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON-RPC error response
            return self.failure(request_id, method, exc)

    def failure(self, request_id: Any, method: str, exc: Exception) -> Response:
        if isinstance(exc, JsonRpcError):
            self.metrics.error(exc.code)
            return exc.to_response(request_id)
        log.error("internal error in %s", method, exc_info=exc)
        self.metrics.error(jsonrpc.INTERNAL_ERROR)
        return jsonrpc.error_response(request_id, jsonrpc.INTERNAL_ERROR, f"Internal error while handling {method}")

    def _notification(self, message: dict[str, Any]) -> None:
        method = message["method"]
        params = message.get("params") or EMPTY
        if method == "notifications/cancelled":
            self.cancel(params.get("requestId"))
            return
        self.notified(method, params)

    def _response(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        future = self._client_requests.pop(request_id, None) \
            if self._client_requests and jsonrpc.is_valid_id(request_id) else None
        if future is None or future.done():
            self.unclaimed(message)
            return
        settle_with_response(future, message)

    def unclaimed(self, message: dict[str, Any]) -> None:
        """A response to no request of this conversation (another replica may have sent it)."""
        log.debug("response to an unknown request id %r ignored", message.get("id"))

    def cancel(self, request_id: Any) -> None:
        if not jsonrpc.is_valid_id(request_id):
            return  # names no request (a list or an object would not even be a key)
        task = self.inflight.get(request_id)
        if task is not None:
            task.cancel()

    # --- outgoing ------------------------------------------------------------

    def send_request(self, method: str, params: dict[str, Any],
                     channel: Channel) -> tuple[str, asyncio.Future[dict[str, Any]]]:
        """Send a request to the client on `channel`: its id, and the future its response settles."""
        self._next_request += 1
        request_id = f"{self.request_id_prefix()}{self._next_request}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if self._client_requests is None:
            self._client_requests = {}
        self._client_requests[request_id] = future
        channel.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return request_id, future

    def request_id_prefix(self) -> str:
        return "s"

    def forget_request(self, request_id: str) -> None:
        if self._client_requests:
            self._client_requests.pop(request_id, None)

    async def request_client(self, method: str, params: dict[str, Any], channel: Channel,
                             timeout: float) -> dict[str, Any]:
        """Send a request to the client on `channel` and wait for its result."""
        request_id, future = self.send_request(method, params, channel)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.forget_request(request_id)

    # --- lifetime ------------------------------------------------------------

    def busy(self) -> bool:
        return bool(self.inflight)

    async def settle(self, timeout: float) -> None:
        """Wait (up to timeout) for the requests in flight to finish."""
        if self.inflight:
            await asyncio.wait(list(self.inflight.values()), timeout=timeout)

    def close(self) -> None:
        """End the conversation: cancel in-flight calls and pending client requests."""
        if self.closed:
            return
        self.closed = True
        for task in list(self.inflight.values()):
            task.cancel()
        for future in (self._client_requests or {}).values():
            if not future.done():
                future.cancel()
        self._client_requests = None
