"""What a tool, prompt or resource handler sees of the request it serves.

A handler never sees a transport or the protocol core: it reports progress, logs, says a
resource changed, and asks the client things (elicitation, sampling, roots) through this
context. How asking works depends on the MCP era: in a 2025 session the server sends a
request to the client and waits; in 2026-07-28 the request ends with an input-required result
and the client retries it with the answers (see mcp2026.InputRequired).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from . import jsonrpc
from .engine import Channel

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
LOG_RANK = {name: rank for rank, name in enumerate(LOG_LEVELS)}

# What the client must have declared to be asked each method (its capability key).
CLIENT_METHOD_CAPABILITY = {
    "elicitation/create": "elicitation",
    "sampling/createMessage": "sampling",
    "roots/list": "roots",
}


class Changes(Protocol):
    """Where a handler reports changes: the server's subscription hub."""

    def resource_updated(self, uri: str) -> None: ...

    def list_changed(self, kind: str) -> None: ...


def is_log_level(value: Any) -> bool:
    """One of LOG_LEVELS (a list or an object is not even a key of LOG_RANK)."""
    return isinstance(value, str) and value in LOG_RANK


def log_passes(level: str, threshold: str | None) -> bool:
    """Whether a log message of `level` reaches a client whose level is `threshold` (None: off)."""
    return threshold is not None and LOG_RANK.get(level, 0) >= LOG_RANK[threshold]


class ToolContext:
    """Given to tool, prompt and resource handlers for one request."""

    __slots__ = ("request_id", "progress_token", "channel", "log_level", "client_capabilities", "_changes", "_asked")

    def __init__(self, request_id: Any, progress_token: Any, channel: Channel, log_level: str | None,
                 changes: Changes, client_capabilities: dict[str, Any]):
        self.request_id = request_id
        self.progress_token = progress_token
        self.channel = channel
        self.log_level = log_level
        self.client_capabilities = client_capabilities
        self._changes = changes
        self._asked = 0

    def client_supports(self, method: str) -> bool:
        """Whether the client declared the capability that asking it `method` needs."""
        capability = CLIENT_METHOD_CAPABILITY.get(method)
        return capability is None or isinstance(self.client_capabilities.get(capability), dict)

    def require_client_support(self, methods: Iterable[str]) -> None:
        """Refuse (-32021, naming the capability) to ask a client what it did not declare it can answer."""
        for method in methods:
            if not self.client_supports(method):
                capability = CLIENT_METHOD_CAPABILITY[method]
                raise jsonrpc.JsonRpcError(
                    jsonrpc.MISSING_CLIENT_CAPABILITY,
                    f"Missing required client capability: {capability} (the server needs to send {method})",
                    data={"requiredCapabilities": {capability: {}}})

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
        if not log_passes(level, self.log_level):
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger:
            params["logger"] = logger
        self.channel.send(jsonrpc.notification("notifications/message", params))

    def resource_updated(self, uri: str) -> None:
        """Tell every client subscribed to `uri` (any era, any connection) that it changed."""
        self._changes.resource_updated(uri)

    def list_changed(self, kind: str) -> None:
        """Tell the clients listening for it that a list changed (kind: toolsListChanged,
        promptsListChanged or resourcesListChanged)."""
        self._changes.list_changed(kind)

    def end_stream(self) -> None:
        """End the live Streamable HTTP stream of this request now (SEP-1699 polling); the client
        resumes it with Last-Event-ID and gets the rest. Nothing to do elsewhere."""
        self.channel.end_stream()

    async def request(self, method: str, params: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """Ask the client one thing (elicitation/create, sampling/createMessage, roots/list)."""
        # Keyed by its place among this handler's questions: a retried request asks them again in order.
        self._asked += 1
        key = f"q{self._asked}"
        answers = await self.ask({key: (method, params)}, timeout)
        return answers[key]

    async def ask(self, requests: Mapping[str, tuple[str, dict[str, Any]]],
                  timeout: float = 60.0) -> dict[str, dict[str, Any]]:
        """Ask the client several things at once; the answers by the same keys. A key names what is
        asked within this handler: the same question keeps its key when the request is retried."""
        raise NotImplementedError
