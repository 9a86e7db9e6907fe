"""MCP 2026-07-28: the stateless era.

There is no initialize and no session: every request carries its protocol version and the
client's capabilities in `params._meta`, so any replica answers any request. Every result says
its `resultType` and names the server in `_meta`; list results and resources/read carry caching
hints. A handler that needs the client (elicitation, sampling, roots) ends the request with an
input-required result whose sealed `requestState` lets the retry, with the client's answers,
land on any replica. `subscriptions/listen` carries the notifications not tied to a request.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from . import jsonrpc
from .context import LOG_LEVELS, ToolContext, is_log_level
from .engine import EMPTY, Channel, Engine
from .jsonrpc import INVALID_PARAMS, JsonRpcError
from .mcp2025 import SUPPORTED_PROTOCOL_VERSIONS as SESSION_PROTOCOL_VERSIONS
from .methods import AskClient
from .sealing import StateError

if TYPE_CHECKING:
    from .core import Core

PROTOCOL_VERSION = "2026-07-28"
SUPPORTED_PROTOCOL_VERSIONS = (PROTOCOL_VERSION,)  # served statelessly
# Everything this server speaks, as server/discover and -32022 list it: the 2025 era's through initialize.
ALL_PROTOCOL_VERSIONS = (*SUPPORTED_PROTOCOL_VERSIONS, *SESSION_PROTOCOL_VERSIONS)

META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"

# (ttlMs, cacheScope) per method (SEP-2549). The lists of tools, prompts and templates are the
# same for every client; resources are notes, which are the user's and change at any time.
CACHE_HINTS: dict[str, tuple[int, str]] = {
    "server/discover": (60_000, "public"),
    "tools/list": (60_000, "public"),
    "prompts/list": (60_000, "public"),
    "resources/templates/list": (60_000, "public"),
    "resources/list": (0, "private"),
    "resources/read": (0, "private"),
}
# What each method that may end with an input-required result names its target by.
INPUT_REQUIRED_TARGET = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
# What a client's answer to each kind of input request must hold.
_ANSWER_SHAPES = {
    "elicitation/create": ("action", str),
    "sampling/createMessage": ("content", (dict, list)),
    "roots/list": ("roots", list),
}
_ELICITATION_ACTIONS = ("accept", "decline", "cancel")


def names_modern_version(message: Any) -> bool:
    """Whether a message asks for the stateless era: a request (not initialize) whose `_meta`
    names a protocol version."""
    if not isinstance(message, dict) or message.get("method") == "initialize":
        return False
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and META_PROTOCOL_VERSION in meta


class RequestMeta:
    """What a 2026-07-28 request says about itself in `params._meta`."""

    __slots__ = ("version", "capabilities", "log_level", "progress_token")

    def __init__(self, params: dict[str, Any]):
        meta = params.get("_meta")
        if not isinstance(meta, dict):
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: _meta is required, with {META_PROTOCOL_VERSION} "
                                               f"and {META_CLIENT_CAPABILITIES}")
        missing = [key for key in (META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES) if key not in meta]
        if missing:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: missing _meta keys: {', '.join(missing)}")
        version = meta[META_PROTOCOL_VERSION]
        capabilities = meta[META_CLIENT_CAPABILITIES]
        if not isinstance(version, str):
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: _meta {META_PROTOCOL_VERSION} must be a string")
        if not isinstance(capabilities, dict):
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: _meta {META_CLIENT_CAPABILITIES} must be an object")
        level = meta.get(META_LOG_LEVEL)
        if level is not None and not is_log_level(level):
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: _meta {META_LOG_LEVEL} must be one of "
                                               f"{', '.join(LOG_LEVELS)}")
        self.version = version
        self.capabilities = capabilities
        self.log_level = level
        self.progress_token = meta.get("progressToken")

    def check_version(self) -> None:
        if self.version not in SUPPORTED_PROTOCOL_VERSIONS:
            raise unsupported_version(self.version)


def unsupported_version(requested: str) -> JsonRpcError:
    return JsonRpcError(jsonrpc.UNSUPPORTED_PROTOCOL_VERSION,
                        f"Unsupported protocol version {requested!r}: this server serves {PROTOCOL_VERSION} per request "
                        f"and {', '.join(SESSION_PROTOCOL_VERSIONS)} through initialize",
                        data={"supported": list(ALL_PROTOCOL_VERSIONS), "requested": requested})


class StatelessContext(ToolContext):
    """Asking the client means ending this request with an input-required result; the retry
    brings the answers, and the handler runs again from the start and finds them."""

    __slots__ = ("_answers", "_used")

    def __init__(self, conversation: Stateless, request_id: Any, meta: RequestMeta, channel: Channel,
                 answers: dict[str, Any]):
        super().__init__(request_id, meta.progress_token, channel, meta.log_level,
                         conversation.core.changes, meta.capabilities)
        self._answers = answers
        self._used: dict[str, Any] = {}

    async def ask(self, requests: Mapping[str, tuple[str, dict[str, Any]]],
                  timeout: float = 60.0) -> dict[str, dict[str, Any]]:
        self.require_client_support(method for method, _ in requests.values())
        missing: dict[str, dict[str, Any]] = {}
        for key, (method, params) in requests.items():
            answer = self._answers.get(key)
            if answer is None:
                missing[key] = {"method": method, "params": params}
            else:
                _check_answer(key, method, answer)
                self._used[key] = answer
        if missing:
            raise AskClient(missing, self._used)
        return {key: self._used[key] for key in requests}


def _arguments_digest(params: dict[str, Any]) -> str:
    """Binds a request state to the arguments it was issued for: answers given for one call are
    not replayed into a call with other arguments."""
    encoded = orjson.dumps(params.get("arguments"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(encoded).hexdigest()[:32]


def _check_answer(key: str, method: str, answer: dict[str, Any]) -> None:
    field, kind = _ANSWER_SHAPES.get(method, (None, None))
    if field is None:
        return
    value = answer.get(field)
    if not isinstance(value, kind) or (method == "elicitation/create" and value not in _ELICITATION_ACTIONS):
        raise JsonRpcError(INVALID_PARAMS, f"Invalid params: inputResponses[{key!r}] is not a {method} result "
                                           f"(it needs {field!r})", data={"inputResponse": key})


class Stateless(Engine):
    """A conversation of 2026-07-28 requests (one HTTP request, or a WebSocket of them)."""

    __slots__ = ("core",)

    def __init__(self, core: Core):
        super().__init__(core.metrics)
        self.core = core

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self.core.lifecycle.closed(self)

    def dispatch(self, request_id: Any, method: str, params: dict[str, Any], channel: Channel) -> Any:
        meta = RequestMeta(params)
        meta.check_version()
        own = _OWN_METHODS.get(method)
        shared = None if own is not None else self.core.shared_methods.get(method)
        if own is None and shared is None:
            raise JsonRpcError(jsonrpc.METHOD_NOT_FOUND, f"Method not found: {method} (in protocol {PROTOCOL_VERSION})")
        if self.core.lifecycle.draining:
            raise JsonRpcError(jsonrpc.SHUTTING_DOWN, "Server is shutting down; send the request again")
        ctx = StatelessContext(self, request_id, meta, channel, self._answers(method, params))
        try:
            outcome = own(self, params, ctx) if own is not None else shared(params, ctx)  # type: ignore[misc]
        except AskClient as ask:
            return self._input_required(method, params, ask)
        if type(outcome) is not dict and inspect.isawaitable(outcome):
            return self._finish_later(method, params, outcome)
        return self._complete(method, outcome)

    def failure(self, request_id: Any, method: str, exc: Exception) -> dict[str, Any]:
        if isinstance(exc, JsonRpcError) and exc.code == jsonrpc.RESOURCE_NOT_FOUND:
            # SEP-2164: an unknown resource is invalid params in this era (2025 used -32002).
            exc = JsonRpcError(INVALID_PARAMS, exc.message, exc.data)
        return super().failure(request_id, method, exc)

    # --- results ---------------------------------------------------------------

    def _complete(self, method: str, result: dict[str, Any]) -> dict[str, Any]:
        result["resultType"] = "complete"
        self._sign(result)
        hints = CACHE_HINTS.get(method)
        if hints is not None:
            result["ttlMs"], result["cacheScope"] = hints
        return result

    def _sign(self, result: dict[str, Any]) -> None:
        meta = result.get("_meta")
        if isinstance(meta, dict):
            meta[META_SERVER_INFO] = self.core.info.describe()
        else:
            result["_meta"] = {META_SERVER_INFO: self.core.info.describe()}

    async def _finish_later(self, method: str, params: dict[str, Any], outcome: Awaitable[Any]) -> dict[str, Any]:
        try:
            result = await outcome
        except AskClient as ask:
            return self._input_required(method, params, ask)
        return self._complete(method, result)

    def _input_required(self, method: str, params: dict[str, Any], ask: AskClient) -> dict[str, Any]:
        target = INPUT_REQUIRED_TARGET.get(method)
        if target is None:
            raise JsonRpcError(jsonrpc.INTERNAL_ERROR, f"Internal error: {method} cannot ask the client for input")
        state = {"m": method, "t": params.get(target), "d": _arguments_digest(params), "a": ask.answered}
        result = {"resultType": "input_required", "inputRequests": ask.requests,
                  "requestState": self.core.sealer.seal(state)}
        self._sign(result)
        return result

    def _answers(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The client's answers so far: those sealed in requestState and those it sends now."""
        target = INPUT_REQUIRED_TARGET.get(method)
        if target is None:
            if "inputResponses" in params or "requestState" in params:
                raise JsonRpcError(INVALID_PARAMS, f"Invalid params: {method} never asks the client for input, so it "
                                                   "takes no inputResponses or requestState")
            return EMPTY
        responses = params.get("inputResponses", EMPTY)
        if not isinstance(responses, dict):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: inputResponses must be an object")
        bad = [key for key, value in responses.items() if not isinstance(value, dict)]
        if bad:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: inputResponses[{bad[0]!r}] must be an object",
                               data={"inputResponse": bad[0]})
        sealed = params.get("requestState")
        if sealed is None:
            return responses
        try:
            state = self.core.sealer.open(sealed)
        except StateError as exc:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: {exc}") from None
        if state.get("m") != method or state.get("t") != params.get(target) \
                or state.get("d") != _arguments_digest(params):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: requestState belongs to another request "
                                               "(another method, target or arguments)")
        answered = state.get("a")
        return {**answered, **responses} if isinstance(answered, dict) and answered else responses

    # --- the methods of this era alone ---------------------------------------------

    def _discover(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        core = self.core
        result: dict[str, Any] = {"supportedVersions": list(ALL_PROTOCOL_VERSIONS),
                                  "capabilities": core.capabilities()}
        if core.info.instructions:
            result["instructions"] = core.info.instructions
        return result

    async def _listen(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        wanted = params.get("notifications")
        if not isinstance(wanted, dict):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: subscriptions/listen needs 'notifications' (object)")
        listener = Listener(ctx.request_id, ctx.channel, self.core.listen_filter(wanted))
        hub = self.core.subscriptions
        ctx.channel.send(listener.tagged("notifications/subscriptions/acknowledged",
                                         {"notifications": listener.agreed}))
        hub.listen(listener)
        try:
            await self.core.lifecycle.until_draining()
        finally:
            hub.unlisten(listener)
        return {"_meta": {META_SUBSCRIPTION_ID: ctx.request_id}}


class Listener:
    """One subscriptions/listen stream: the notifications it agreed to, sent on its channel,
    each tagged with the subscription's id (the listen request's id)."""

    __slots__ = ("subscription_id", "channel", "agreed", "uris")

    def __init__(self, subscription_id: Any, channel: Channel, agreed: dict[str, Any]):
        self.subscription_id = subscription_id
        self.channel = channel
        self.agreed = agreed
        self.uris = frozenset(agreed.get("resourceSubscriptions", ()))

    def tagged(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        params = dict(params or {})
        params["_meta"] = {META_SUBSCRIPTION_ID: self.subscription_id}
        return jsonrpc.notification(method, params)

    def list_changed(self, kind: str, method: str) -> None:
        if self.agreed.get(kind):
            self.channel.send(self.tagged(method))

    def resource_updated(self, uri: str) -> None:
        self.channel.send(self.tagged("notifications/resources/updated", {"uri": uri}))


_OWN_METHODS = {
    "server/discover": Stateless._discover,
    "subscriptions/listen": Stateless._listen,
}
