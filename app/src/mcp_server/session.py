"""The MCP protocol core, shared by both transports.

A `Session` is one MCP conversation: a WebSocket connection, or a Streamable HTTP
session id. Transports hand it decoded JSON values; it answers requests, routes
responses to the server's own outgoing requests, and handles notifications.

Messages the server emits while answering a request (progress, log messages,
sampling or elicitation requests) go to that request's `Channel`; messages not
tied to a request go to the session's `outbox` (the WebSocket, or the HTTP GET
stream when one is open).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from . import jsonrpc
from .catalog import Catalog, Tool, ToolError, error_result
from .jsonrpc import INVALID_PARAMS, INVALID_REQUEST, JsonRpcError
from .metrics import Metrics

log = logging.getLogger("mcp_server.session")

LATEST_PROTOCOL_VERSION = "2025-11-25"
SUPPORTED_PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
_LOG_RANK = {name: rank for rank, name in enumerate(LOG_LEVELS)}


class Channel(Protocol):
    """Where messages go: a WebSocket, an SSE response stream."""

    def send(self, message: dict[str, Any]) -> None: ...


class NullChannel:
    """Drops messages (a Streamable HTTP session with no GET stream open)."""

    def send(self, message: dict[str, Any]) -> None:
        return None


_NULL_CHANNEL = NullChannel()
_EMPTY: dict[str, Any] = {}  # shared default for client info and capabilities: replaced, never mutated


def _close_unstarted(awaitable: Any) -> None:
    """Close a coroutine that will never run (its request was cancelled before its task started),
    and the coroutines it was handed, so that none of them warns that it was never awaited."""
    if not inspect.iscoroutine(awaitable) or inspect.getcoroutinestate(awaitable) != inspect.CORO_CREATED:
        return
    for value in awaitable.cr_frame.f_locals.values():
        _close_unstarted(value)
    awaitable.close()


class ServerInfo:
    def __init__(self, name: str, version: str, title: str | None = None, instructions: str | None = None):
        self.name, self.version, self.title, self.instructions = name, version, title, instructions


class RequestContext:
    """Given to tool, prompt and resource handlers for one request."""

    __slots__ = ("session", "request_id", "channel", "progress_token")

    def __init__(self, session: Session, request_id: Any, channel: Channel, progress_token: Any):
        self.session = session
        self.request_id = request_id
        self.channel = channel
        self.progress_token = progress_token

    def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Send notifications/progress if the client asked for progress on this request."""
        if self.progress_token is None:
            return
        params: dict[str, Any] = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        self.channel.send(jsonrpc.notification("notifications/progress", params))

    def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send notifications/message if the client's log level lets it through."""
        self.session.send_log(level, data, logger, self.channel)

    def close_stream(self) -> None:
        """End the live Streamable HTTP stream of this request now (SEP-1699 polling); the client
        resumes it with Last-Event-ID and gets the rest. Nothing to do on a WebSocket."""
        detach = getattr(self.channel, "detach", None)
        if detach is not None:
            detach()

    async def request(self, method: str, params: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """Ask the client something (sampling, elicitation, roots) and wait for the answer."""
        return await self.session.request_client(method, params, self.channel, timeout)


# A handler returns the result at once, or an awaitable of it when it has to wait (for the
# database, the client, a timer). Answers computed at once need no task: see Session.receive.
Handler = Callable[["Session", dict[str, Any], RequestContext], Any]
Response = dict[str, Any]


class Session:
    """One MCP session; transport-agnostic."""

    __slots__ = ("core", "transport", "outbox", "protocol_version", "client_info", "client_capabilities",
                 "initialized", "log_level", "subscriptions", "inflight", "_client_requests", "_next_request",
                 "closed", "last_seen")

    def __init__(self, core: Core, transport: str, outbox: Channel | None = None):
        self.core = core
        self.transport = transport
        self.outbox: Channel = outbox or _NULL_CHANNEL
        self.protocol_version: str | None = None
        self.client_info: dict[str, Any] = _EMPTY
        self.client_capabilities: dict[str, Any] = _EMPTY
        self.initialized = False
        # No log notifications until the client opts in with logging/setLevel.
        self.log_level: str | None = None
        # Created on first use: most sessions never subscribe or get asked anything.
        self.subscriptions: set[str] | None = None
        self.inflight: dict[Any, asyncio.Task[Any]] = {}
        self._client_requests: dict[Any, asyncio.Future[dict[str, Any]]] | None = None
        self._next_request = 0
        self.closed = False
        self.last_seen = time.monotonic()

    # --- incoming ------------------------------------------------------------

    def receive(self, message: Any, channel: Channel) -> Response | asyncio.Task[Response | None] | None:
        """Take one decoded message.

        For a request, returns its response (a dict) when the handler answered at once (no task is
        created: most requests never wait), else the task that will produce it (its result is None
        when the client cancelled the request). Returns None for notifications and responses.
        Raises JsonRpcError for a malformed message.
        """
        self.last_seen = time.monotonic()
        kind = jsonrpc.classify(message)
        if kind == "request":
            return self._answer(message, channel)
        if kind == "notification":
            self._on_notification(message)
        else:
            self._on_response(message)
        return None

    def _answer(self, message: dict[str, Any], channel: Channel) -> Response | asyncio.Task[Response | None]:
        request_id = message["id"]
        method = message["method"]
        params = message.get("params") or {}
        handler = METHODS.get(method)
        metrics = self.core.metrics
        if handler is None:
            metrics.error(jsonrpc.METHOD_NOT_FOUND)
            return jsonrpc.error_response(request_id, jsonrpc.METHOD_NOT_FOUND, f"Method not found: {method}")
        if not self.initialized and method not in ("initialize", "ping"):
            metrics.error(INVALID_REQUEST)
            return jsonrpc.error_response(
                request_id, INVALID_REQUEST, f"Invalid Request: {method} before initialize; send initialize first")
        if self.core.shutting_down and method != "ping":
            metrics.error(jsonrpc.SHUTTING_DOWN)
            return jsonrpc.error_response(request_id, jsonrpc.SHUTTING_DOWN, "Server is shutting down; reconnect")
        if request_id in self.inflight:
            return self._id_in_use(request_id)
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        ctx = RequestContext(self, request_id, channel, token)
        try:
            outcome = handler(self, params, ctx)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON-RPC error response
            return self._failure(request_id, method, exc)
        if inspect.isawaitable(outcome):
            return self._answer_later(request_id, method, outcome)
        return jsonrpc.result_response(request_id, outcome)

    def _answer_later(self, request_id: Any, method: str, outcome: Awaitable[Any]) -> asyncio.Task[Response | None]:
        # The task is registered before it runs, so that a second request with this id (in the
        # same batch, or the same read from the socket) is refused and a cancellation finds it.
        task = asyncio.ensure_future(self._await_answer(request_id, method, outcome))
        self.inflight[request_id] = task
        task.add_done_callback(lambda done: self._answered(request_id, outcome, done))
        return task

    def _answered(self, request_id: Any, outcome: Awaitable[Any], task: asyncio.Task[Any]) -> None:
        # Runs before the transport's own done callback sends the answer, so the id is free by then.
        if self.inflight.get(request_id) is task:
            del self.inflight[request_id]
        if task.cancelled():
            _close_unstarted(outcome)

    async def _await_answer(self, request_id: Any, method: str, outcome: Awaitable[Any]) -> Response | None:
        try:
            return jsonrpc.result_response(request_id, await outcome)
        except asyncio.CancelledError:
            if self.closed:
                raise
            # Cancelled by notifications/cancelled: the spec says send no response.
            return None
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON-RPC error response
            return self._failure(request_id, method, exc)

    def _id_in_use(self, request_id: Any) -> Response:
        self.core.metrics.error(INVALID_REQUEST)
        return jsonrpc.error_response(request_id, INVALID_REQUEST, f"Invalid Request: id {request_id!r} is in use")

    def _failure(self, request_id: Any, method: str, exc: Exception) -> Response:
        metrics = self.core.metrics
        if isinstance(exc, JsonRpcError):
            metrics.error(exc.code)
            return exc.to_response(request_id)
        log.error("internal error in %s", method, exc_info=exc)
        metrics.error(jsonrpc.INTERNAL_ERROR)
        return jsonrpc.error_response(request_id, jsonrpc.INTERNAL_ERROR, f"Internal error while handling {method}")

    def _on_notification(self, message: dict[str, Any]) -> None:
        method = message["method"]
        params = message.get("params") or {}
        if method == "notifications/initialized":
            return
        if method == "notifications/cancelled":
            task = self.inflight.get(params.get("requestId"))
            if task is not None:
                task.cancel()
            return
        # Other notifications (roots/list_changed, progress of client work) need no action.

    def _on_response(self, message: dict[str, Any]) -> None:
        future = self._client_requests.pop(message.get("id"), None) if self._client_requests else None
        if future is None or future.done():
            log.debug("response to an unknown request id %r ignored", message.get("id"))
            return
        if "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            future.set_exception(JsonRpcError(error.get("code", jsonrpc.INTERNAL_ERROR),
                                              str(error.get("message", "client error")), error.get("data")))
        else:
            future.set_result(message.get("result") or {})

    # --- outgoing ------------------------------------------------------------

    def send_log(self, level: str, data: Any, logger: str | None, channel: Channel | None = None) -> None:
        if self.log_level is None or _LOG_RANK.get(level, 0) < _LOG_RANK[self.log_level]:
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger:
            params["logger"] = logger
        (channel or self.outbox).send(jsonrpc.notification("notifications/message", params))

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.outbox.send(jsonrpc.notification(method, params))

    async def request_client(self, method: str, params: dict[str, Any], channel: Channel,
                             timeout: float) -> dict[str, Any]:
        self._next_request += 1
        request_id = f"s{self._next_request}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if self._client_requests is None:
            self._client_requests = {}
        self._client_requests[request_id] = future
        channel.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if self._client_requests:
                self._client_requests.pop(request_id, None)

    def close(self) -> None:
        """End the session: cancel in-flight calls and pending client requests."""
        if self.closed:
            return
        self.closed = True
        for task in list(self.inflight.values()):
            task.cancel()
        for future in (self._client_requests or {}).values():
            if not future.done():
                future.cancel()
        self._client_requests = None
        self.core.forget(self)


class Core:
    """State shared by every session: the catalog, server identity, metrics, lifecycle."""

    def __init__(self, catalog: Catalog, info: ServerInfo, metrics: Metrics):
        self.catalog = catalog
        self.info = info
        self.metrics = metrics
        self.shutting_down = False
        self.sessions: set[Session] = set()

    def open_session(self, transport: str, outbox: Channel | None = None) -> Session:
        session = Session(self, transport, outbox)
        self.sessions.add(session)
        return session

    def forget(self, session: Session) -> None:
        self.sessions.discard(session)

    def notify_resource_updated(self, uri: str) -> None:
        for session in list(self.sessions):
            if session.subscriptions and uri in session.subscriptions:
                session.notify("notifications/resources/updated", {"uri": uri})

    def inflight_count(self) -> int:
        return sum(len(s.inflight) for s in self.sessions)

    def capabilities(self) -> dict[str, Any]:
        return {
            "tools": {"listChanged": False},
            "resources": {"subscribe": True, "listChanged": False},
            "prompts": {"listChanged": False},
            "logging": {},
            "completions": {},
        }


# --- method handlers ----------------------------------------------------------

def _require(params: dict[str, Any], name: str, kind: type | tuple[type, ...], method: str) -> Any:
    value = params.get(name)
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise JsonRpcError(INVALID_PARAMS, f"Invalid params: {method} needs {name!r} ({expected})")
    return value


def _cursor(params: dict[str, Any]) -> str | None:
    cursor = params.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: cursor must be a string")
    return cursor


def _initialize(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    if session.initialized:
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: the session is already initialized")
    requested = _require(params, "protocolVersion", str, "initialize")
    if not isinstance(params.get("capabilities", {}), dict):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: capabilities must be an object")
    version = requested if requested in SUPPORTED_PROTOCOL_VERSIONS else LATEST_PROTOCOL_VERSION
    session.protocol_version = version
    session.client_capabilities = params.get("capabilities") or {}
    info = params.get("clientInfo")
    session.client_info = info if isinstance(info, dict) else {}
    session.initialized = True
    core = session.core
    server_info: dict[str, Any] = {"name": core.info.name, "version": core.info.version}
    if core.info.title:
        server_info["title"] = core.info.title
    result: dict[str, Any] = {"protocolVersion": version, "capabilities": core.capabilities(), "serverInfo": server_info}
    if core.info.instructions:
        result["instructions"] = core.info.instructions
    return result


def _ping(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return {}


def _tools_list(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return session.core.catalog.list_tools(_cursor(params))


def _tools_call(session: Session, params: dict[str, Any], ctx: RequestContext) -> Any:
    name = _require(params, "name", str, "tools/call")
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    elif not isinstance(arguments, dict):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: tools/call arguments must be an object")
    core = session.core
    tool = core.catalog.tools.get(name)
    if tool is None:
        raise JsonRpcError(INVALID_PARAMS, f"Unknown tool: {name}", data={"tool": name})
    problem = tool.validate(arguments)
    if problem is not None:
        core.metrics.tool_done(name, "invalid_arguments", 0.0)
        return error_result(f"Invalid arguments for tool {name}: {problem}")
    started = time.perf_counter()
    try:
        value = tool.handler(arguments, ctx)
    except Exception as exc:  # noqa: BLE001 - a failing tool is an isError result
        return _tool_failed(tool, exc, core.metrics, started)
    if inspect.isawaitable(value):
        return _tool_awaited(tool, value, core.metrics, started)
    return _tool_answered(tool, value, core.metrics, started)


async def _tool_awaited(tool: Tool, pending: Awaitable[Any], metrics: Metrics, started: float) -> dict[str, Any]:
    try:
        value = await pending
    except asyncio.CancelledError:
        metrics.tool_done(tool.name, "cancelled", time.perf_counter() - started)
        raise
    except Exception as exc:  # noqa: BLE001 - a failing tool is an isError result
        return _tool_failed(tool, exc, metrics, started)
    return _tool_answered(tool, value, metrics, started)


def _tool_answered(tool: Tool, value: Any, metrics: Metrics, started: float) -> dict[str, Any]:
    try:
        result = tool.wrap(value)
    except Exception as exc:  # noqa: BLE001 - a tool returning the wrong type is a failing tool
        return _tool_failed(tool, exc, metrics, started)
    metrics.tool_done(tool.name, "error" if result.get("isError") else "ok", time.perf_counter() - started)
    return result


def _tool_failed(tool: Tool, exc: Exception, metrics: Metrics, started: float) -> dict[str, Any]:
    metrics.tool_done(tool.name, "error", time.perf_counter() - started)
    if isinstance(exc, ToolError):
        return error_result(str(exc))
    if isinstance(exc, JsonRpcError):
        raise exc
    log.error("tool %s failed", tool.name, exc_info=exc)
    return error_result(f"Tool {tool.name} failed: {type(exc).__name__}")


async def _resources_list(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return await session.core.catalog.list_resources(_cursor(params))


def _resources_templates_list(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return session.core.catalog.list_templates(_cursor(params))


async def _resources_read(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    uri = _require(params, "uri", str, "resources/read")
    return await session.core.catalog.read_resource(uri)


def _resources_subscribe(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    uri = _require(params, "uri", str, "resources/subscribe")
    if session.subscriptions is None:
        session.subscriptions = set()
    session.subscriptions.add(uri)
    return {}


def _resources_unsubscribe(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    uri = _require(params, "uri", str, "resources/unsubscribe")
    if session.subscriptions:
        session.subscriptions.discard(uri)
    return {}


def _prompts_list(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return session.core.catalog.list_prompts(_cursor(params))


async def _prompts_get(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    name = _require(params, "name", str, "prompts/get")
    prompt = session.core.catalog.prompts.get(name)
    if prompt is None:
        raise JsonRpcError(INVALID_PARAMS, f"Invalid params: unknown prompt {name!r}", data={"prompt": name})
    arguments = params.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: prompt arguments must be an object")
    prompt.check_arguments(arguments)
    return await prompt.render(arguments, ctx)


def _logging_set_level(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    level = params.get("level")
    if level not in _LOG_RANK:
        raise JsonRpcError(INVALID_PARAMS, f"Invalid params: level must be one of {', '.join(LOG_LEVELS)}")
    session.log_level = level
    return {}


async def _completion_complete(session: Session, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    ref = _require(params, "ref", dict, "completion/complete")
    argument = _require(params, "argument", dict, "completion/complete")
    arg_name, value = argument.get("name"), argument.get("value", "")
    if not isinstance(arg_name, str) or not isinstance(value, str):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: argument needs a string name and value")
    context = params.get("context") or {}
    known = context.get("arguments") if isinstance(context, dict) else None
    known = known if isinstance(known, dict) else {}
    catalog = session.core.catalog
    if ref.get("type") == "ref/prompt":
        prompt = catalog.prompts.get(ref.get("name"))
        if prompt is None:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: unknown prompt {ref.get('name')!r}")
        values = await prompt.complete(arg_name, value, known) if prompt.complete else []
    elif ref.get("type") == "ref/resource":
        uri = ref.get("uri")
        if not isinstance(uri, str):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: ref/resource needs a uri")
        values = await catalog.complete_resource(uri, arg_name, value)
    else:
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: ref.type must be ref/prompt or ref/resource")
    return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}


METHODS: dict[str, Handler] = {
    "initialize": _initialize,
    "ping": _ping,
    "tools/list": _tools_list,
    "tools/call": _tools_call,
    "resources/list": _resources_list,
    "resources/templates/list": _resources_templates_list,
    "resources/read": _resources_read,
    "resources/subscribe": _resources_subscribe,
    "resources/unsubscribe": _resources_unsubscribe,
    "prompts/list": _prompts_list,
    "prompts/get": _prompts_get,
    "logging/setLevel": _logging_set_level,
    "completion/complete": _completion_complete,
}
