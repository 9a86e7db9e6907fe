"""MCP 2024-11-05 .. 2025-11-25: the stateful era.

A `Session` is one conversation that begins with `initialize`: a WebSocket connection, or a
Streamable HTTP session id. It remembers the negotiated version, the client's capabilities, its
log level and its subscriptions. Messages not tied to a request (resource updates) go to its
outbox: the WebSocket, or the HTTP GET stream while one is open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import jsonrpc
from .context import LOG_LEVELS, ToolContext, is_log_level
from .engine import EMPTY, NULL_CHANNEL, Channel, Engine, settle_with_response
from .jsonrpc import INVALID_PARAMS, INVALID_REQUEST, JsonRpcError
from .methods import require
from .session_records import RecordsError, RecordsUnavailable

if TYPE_CHECKING:
    from .answer_relay import AnswerRelay
    from .core import Core

LATEST_PROTOCOL_VERSION = "2025-11-25"
SUPPORTED_PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
BATCH_PROTOCOL_VERSION = "2025-03-26"  # the one revision that has JSON-RPC batches


class SessionContext(ToolContext):
    """Asking the client means sending it a request on this request's channel and waiting."""

    __slots__ = ("_session",)

    def __init__(self, session: Session, request_id: Any, progress_token: Any, channel: Channel):
        super().__init__(request_id, progress_token, channel, session.log_level, session.core.changes,
                         session.client_capabilities)
        self._session = session

    async def ask(self, requests: Mapping[str, tuple[str, dict[str, Any]]],
                  timeout: float = 60.0) -> dict[str, dict[str, Any]]:
        self.require_client_support(method for method, _ in requests.values())
        session = self._session
        answers = await asyncio.gather(*(session.request_client(method, params, self.channel, timeout)
                                         for method, params in requests.values()))
        return dict(zip(requests, answers))


class Session(Engine):
    """One 2025-era MCP session; transport-agnostic."""

    __slots__ = ("core", "outbox", "protocol_version", "client_info", "client_capabilities",
                 "initialized", "log_level", "subscriptions", "_persist", "_relay", "_relay_session")

    def __init__(self, core: Core, outbox: Channel | None = None):
        super().__init__(core.metrics)
        self.core = core
        self.outbox: Channel = outbox or NULL_CHANNEL
        self.protocol_version: str | None = None
        self.client_info: dict[str, Any] = EMPTY
        self.client_capabilities: dict[str, Any] = EMPTY
        self.initialized = False
        # No log notifications until the client opts in with logging/setLevel.
        self.log_level: str | None = None
        # Created on first use: most sessions never subscribe.
        self.subscriptions: set[str] | None = None
        # Where changes of log level and subscriptions are recorded (HTTP sessions shared by replicas).
        self._persist: Callable[..., Awaitable[None]] | None = None
        # Where answers to our requests that reached another replica come from (HTTP sessions).
        self._relay: AnswerRelay | None = None
        self._relay_session = ""

    # --- Engine ----------------------------------------------------------------

    def dispatch(self, request_id: Any, method: str, params: dict[str, Any], channel: Channel) -> Any:
        own = _SESSION_METHODS.get(method)
        shared = None if own is not None else self.core.shared_methods.get(method)
        if own is None and shared is None:
            raise JsonRpcError(jsonrpc.METHOD_NOT_FOUND, f"Method not found: {method}")
        if not self.initialized and method not in ("initialize", "ping"):
            raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: {method} before initialize; send initialize first")
        if self.core.lifecycle.draining and method != "ping":
            raise JsonRpcError(jsonrpc.SHUTTING_DOWN, "Server is shutting down; reconnect")
        if own is not None:
            return own(self, params)
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        return shared(params, SessionContext(self, request_id, token, channel))  # type: ignore[misc]

    def notified(self, method: str, params: dict[str, Any]) -> None:
        # notifications/initialized, roots/list_changed and progress of client work need no action.
        return None

    def accepts_batches(self) -> bool:
        return self.protocol_version == BATCH_PROTOCOL_VERSION

    # --- what the transport tells it ---------------------------------------------

    def set_persistence(self, persist: Callable[..., Awaitable[None]]) -> None:
        """Record changes of log level and subscriptions with `persist(**fields)` before answering."""
        self._persist = persist

    def set_relay(self, relay: AnswerRelay, session_id: str) -> None:
        """Answers to this session's requests may reach any replica: hand over and collect them via `relay`."""
        self._relay, self._relay_session = relay, session_id

    def request_id_prefix(self) -> str:
        return f"s{self._relay.origin}-" if self._relay is not None else "s"

    def unclaimed(self, message: dict[str, Any]) -> None:
        if self._relay is None:
            super().unclaimed(message)
            return
        self._relay.deliver(self._relay_session, message)  # another replica asked: hand it over

    async def request_client(self, method: str, params: dict[str, Any], channel: Channel,
                             timeout: float) -> dict[str, Any]:
        if self._relay is None:
            return await super().request_client(method, params, channel, timeout)
        request_id, future = self.send_request(method, params, channel)
        relayed = asyncio.ensure_future(self._relay.wait(self._relay_session, request_id))
        try:
            done, _ = await asyncio.wait({future, relayed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if future not in done and relayed in done:
                settle_with_response(future, relayed.result())
            if not future.done():
                raise asyncio.TimeoutError
            return future.result()
        finally:
            relayed.cancel()
            self.forget_request(request_id)

    def restore(self, protocol_version: str, capabilities: dict[str, Any], client_info: dict[str, Any],
                log_level: str | None, subscriptions: tuple[str, ...]) -> None:
        """Take up a session another replica initialized (or refresh this copy from its record)."""
        self.protocol_version = protocol_version
        self.client_capabilities = capabilities or EMPTY
        self.client_info = client_info or EMPTY
        self.initialized = True
        self.log_level = log_level
        wanted = set(subscriptions)
        for uri in (self.subscriptions or set()) - wanted:
            self.core.subscriptions.unsubscribe(uri, self)
        for uri in wanted - (self.subscriptions or set()):
            self.core.subscriptions.subscribe(uri, self)
        self.subscriptions = wanted or None

    def recorded_state(self) -> dict[str, Any]:
        """What a session record holds of this session (the fields `restore` takes back)."""
        return {"protocol_version": self.protocol_version or "", "client_capabilities": dict(self.client_capabilities),
                "client_info": dict(self.client_info), "log_level": self.log_level,
                "subscriptions": tuple(sorted(self.subscriptions or ()))}

    def _recorded(self, result: dict[str, Any], **fields: Any) -> Any:
        """`result` once the change is recorded (at once when nothing records it)."""
        if self._persist is None:
            return result
        return _after(self._persist(**fields), result)

    def set_outbox(self, channel: Channel | None) -> None:
        """Where messages not tied to a request go (the HTTP GET stream while it is open)."""
        self.outbox = channel or NULL_CHANNEL

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        if self.subscriptions:
            self.core.subscriptions.drop(self, self.subscriptions)
        self.core.lifecycle.closed(self)

    # --- Subscriber ------------------------------------------------------------

    def resource_updated(self, uri: str) -> None:
        self.outbox.send(jsonrpc.notification("notifications/resources/updated", {"uri": uri}))

    # --- the methods of this era alone ---------------------------------------------

    def _initialize(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.initialized:
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: the session is already initialized")
        requested = require(params, "protocolVersion", str, "initialize")
        capabilities = params.get("capabilities", {})
        if not isinstance(capabilities, dict):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: capabilities must be an object")
        version = requested if requested in SUPPORTED_PROTOCOL_VERSIONS else LATEST_PROTOCOL_VERSION
        self.protocol_version = version
        self.client_capabilities = capabilities or EMPTY
        info = params.get("clientInfo")
        self.client_info = info if isinstance(info, dict) else EMPTY
        self.initialized = True
        core = self.core
        result: dict[str, Any] = {"protocolVersion": version, "capabilities": core.capabilities(list_changes=False),
                                  "serverInfo": core.info.describe()}
        if core.info.instructions:
            result["instructions"] = core.info.instructions
        return result

    def _ping(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _set_level(self, params: dict[str, Any]) -> dict[str, Any]:
        level = params.get("level")
        if not is_log_level(level):
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: level must be one of {', '.join(LOG_LEVELS)}")
        self.log_level = level
        return self._recorded({}, log_level=level)

    def _subscribe(self, params: dict[str, Any]) -> dict[str, Any]:
        uri = require(params, "uri", str, "resources/subscribe")
        if self.subscriptions is None:
            self.subscriptions = set()
        self.subscriptions.add(uri)
        self.core.subscriptions.subscribe(uri, self)
        return self._recorded({}, subscriptions=tuple(sorted(self.subscriptions)))

    def _unsubscribe(self, params: dict[str, Any]) -> dict[str, Any]:
        uri = require(params, "uri", str, "resources/unsubscribe")
        if self.subscriptions:
            self.subscriptions.discard(uri)
            self.core.subscriptions.unsubscribe(uri, self)
        return self._recorded({}, subscriptions=tuple(sorted(self.subscriptions or ())))


async def _after(pending: Awaitable[None], result: dict[str, Any]) -> dict[str, Any]:
    try:
        await pending
    except RecordsError as exc:
        again = "; send it again" if isinstance(exc, RecordsUnavailable) else ""
        raise JsonRpcError(jsonrpc.INTERNAL_ERROR, f"Internal error: the change was not recorded ({exc}){again}") from None
    return result


_SESSION_METHODS: dict[str, Callable[[Session, dict[str, Any]], Any]] = {
    "initialize": Session._initialize,
    "ping": Session._ping,
    "logging/setLevel": Session._set_level,
    "resources/subscribe": Session._subscribe,
    "resources/unsubscribe": Session._unsubscribe,
}
