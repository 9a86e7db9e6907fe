"""The MCP methods both eras share: tools, resources, prompts, completion.

Each handler takes the request's params and its ToolContext and returns the result, or an
awaitable of it when it has to wait. Era-specific methods (initialize, server/discover, ...)
live in mcp2025.py and mcp2026.py, which also add what their era puts on every result.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .catalog import Catalog, Tool, ToolError, ToolResult, error_result
from .context import ToolContext
from .jsonrpc import INVALID_PARAMS, JsonRpcError
from .metrics import Metrics

log = logging.getLogger("mcp_server.methods")

Handler = Callable[[dict[str, Any], ToolContext], Any]
# What a tool that answered at once returns (checked first: inspect.isawaitable is slower).
_ANSWERED = (list, str, dict, ToolResult)


class AskClient(BaseException):
    """Raised through a handler when a 2026-07-28 request needs answers from the client first.

    A BaseException, like asyncio.CancelledError, so that a tool's own `except Exception` does not
    swallow it; the era that raised it turns it into an input-required result."""

    def __init__(self, requests: dict[str, dict[str, Any]], answered: dict[str, Any]):
        super().__init__("input required")
        self.requests = requests
        self.answered = answered


def require(params: dict[str, Any], name: str, kind: type | tuple[type, ...], method: str) -> Any:
    value = params.get(name)
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise JsonRpcError(INVALID_PARAMS, f"Invalid params: {method} needs {name!r} ({expected})")
    return value


def cursor_of(params: dict[str, Any]) -> str | None:
    cursor = params.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: cursor must be a string")
    return cursor


class SharedMethods:
    """tools/*, resources/list|templates/list|read, prompts/*, completion/complete."""

    def __init__(self, catalog: Catalog, metrics: Metrics):
        self.catalog = catalog
        self.metrics = metrics

    def table(self) -> dict[str, Handler]:
        return {
            "tools/list": self.tools_list,
            "tools/call": self.tools_call,
            "resources/list": self.resources_list,
            "resources/templates/list": self.resources_templates_list,
            "resources/read": self.resources_read,
            "prompts/list": self.prompts_list,
            "prompts/get": self.prompts_get,
            "completion/complete": self.completion_complete,
        }

    # --- tools -----------------------------------------------------------------

    def tools_list(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        return self.catalog.list_tools(cursor_of(params))

    def tools_call(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        name = require(params, "name", str, "tools/call")
        arguments = params.get("arguments")
        if arguments is None:
            arguments = {}
        elif not isinstance(arguments, dict):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: tools/call arguments must be an object")
        tool = self.catalog.tools.get(name)
        if tool is None:
            raise JsonRpcError(INVALID_PARAMS, f"Unknown tool: {name}", data={"tool": name})
        problem = tool.validate(arguments)
        if problem is not None:
            self.metrics.tool_done(name, "invalid_arguments", 0.0)
            return error_result(f"Invalid arguments for tool {name}: {problem}")
        started = time.perf_counter()
        try:
            value = tool.handler(arguments, ctx)
        except AskClient:
            self.metrics.tool_done(name, "input_required", time.perf_counter() - started)
            raise
        except Exception as exc:  # noqa: BLE001 - a failing tool is an isError result
            return self._tool_failed(tool, exc, started)
        if not isinstance(value, _ANSWERED) and inspect.isawaitable(value):
            return self._tool_awaited(tool, value, started)
        return self._tool_answered(tool, value, started)

    async def _tool_awaited(self, tool: Tool, pending: Awaitable[Any], started: float) -> dict[str, Any]:
        try:
            value = await pending
        except asyncio.CancelledError:
            self.metrics.tool_done(tool.name, "cancelled", time.perf_counter() - started)
            raise
        except AskClient:
            self.metrics.tool_done(tool.name, "input_required", time.perf_counter() - started)
            raise
        except Exception as exc:  # noqa: BLE001 - a failing tool is an isError result
            return self._tool_failed(tool, exc, started)
        return self._tool_answered(tool, value, started)

    def _tool_answered(self, tool: Tool, value: Any, started: float) -> dict[str, Any]:
        try:
            result = tool.wrap(value)
        except Exception as exc:  # noqa: BLE001 - a tool returning the wrong type is a failing tool
            return self._tool_failed(tool, exc, started)
        self.metrics.tool_done(tool.name, "error" if result.get("isError") else "ok", time.perf_counter() - started)
        return result

    def _tool_failed(self, tool: Tool, exc: Exception, started: float) -> dict[str, Any]:
        self.metrics.tool_done(tool.name, "error", time.perf_counter() - started)
        if isinstance(exc, ToolError):
            return error_result(str(exc))
        if isinstance(exc, JsonRpcError):
            raise exc
        log.error("tool %s failed", tool.name, exc_info=exc)
        return error_result(f"Tool {tool.name} failed: {type(exc).__name__}")

    # --- resources -------------------------------------------------------------

    async def resources_list(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        return await self.catalog.list_resources(cursor_of(params))

    def resources_templates_list(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        return self.catalog.list_templates(cursor_of(params))

    async def resources_read(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        uri = require(params, "uri", str, "resources/read")
        return await self.catalog.read_resource(uri)

    # --- prompts ---------------------------------------------------------------

    def prompts_list(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        return self.catalog.list_prompts(cursor_of(params))

    async def prompts_get(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        name = require(params, "name", str, "prompts/get")
        prompt = self.catalog.prompts.get(name)
        if prompt is None:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: unknown prompt {name!r}", data={"prompt": name})
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: prompt arguments must be an object")
        prompt.check_arguments(arguments)
        return await prompt.render(arguments, ctx)

    # --- completion ------------------------------------------------------------

    async def completion_complete(self, params: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        ref = require(params, "ref", dict, "completion/complete")
        argument = require(params, "argument", dict, "completion/complete")
        arg_name, value = argument.get("name"), argument.get("value", "")
        if not isinstance(arg_name, str) or not isinstance(value, str):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: argument needs a string name and value")
        context = params.get("context") or {}
        known = context.get("arguments") if isinstance(context, dict) else None
        known = known if isinstance(known, dict) else {}
        catalog = self.catalog
        if ref.get("type") == "ref/prompt":
            name = ref.get("name")
            prompt = catalog.prompts.get(name) if isinstance(name, str) else None
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
