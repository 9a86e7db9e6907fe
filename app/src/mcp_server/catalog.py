"""What the server offers: tools, resources, resource templates and prompts, with pagination.

The catalog knows nothing of sessions or transports; handlers receive a context
object (see session.RequestContext) for progress, logging and client requests.
"""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import fastjsonschema
import orjson

from . import jsonrpc


class ToolError(Exception):
    """A tool failed in a way the model should see: becomes an `isError` result."""


@dataclasses.dataclass
class ToolResult:
    content: list[dict[str, Any]]
    structured: dict[str, Any] | None = None
    is_error: bool = False

    def to_wire(self) -> dict[str, Any]:
        result: dict[str, Any] = {"content": self.content}
        if self.structured is not None:
            result["structuredContent"] = self.structured
        if self.is_error:
            result["isError"] = True
        return result


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def error_result(message: str) -> dict[str, Any]:
    return {"content": [text(message)], "isError": True}


# A tool handler returns its result, or an awaitable of it: a coroutine function for tools that
# wait, a plain function for those that never do (their calls are answered without a task).
ToolHandler = Callable[[dict[str, Any], Any], Any]


@dataclasses.dataclass
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    handler: ToolHandler
    title: str | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None
    validator: Callable[[Any], Any] | None = dataclasses.field(default=None, repr=False)
    # (argument, header name) of each argument that travels as an Mcp-Param-{Name} header too.
    header_params: tuple[tuple[str, str], ...] = dataclasses.field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        if self.validator is None:
            self.validator = compile_schema(self.input_schema)
        properties = self.input_schema.get("properties") or {}
        self.header_params = tuple((name, spec["x-mcp-header"]) for name, spec in properties.items()
                                   if isinstance(spec, dict) and isinstance(spec.get("x-mcp-header"), str))

    def describe(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "description": self.description, "inputSchema": self.input_schema}
        if self.title:
            entry["title"] = self.title
        if self.output_schema is not None:
            entry["outputSchema"] = self.output_schema
        if self.annotations:
            entry["annotations"] = self.annotations
        return entry

    def validate(self, arguments: dict[str, Any]) -> str | None:
        """Return a message naming what is wrong with the arguments, or None when they fit."""
        try:
            self.validator(arguments)  # type: ignore[misc]
        except fastjsonschema.JsonSchemaValueException as exc:
            where = exc.name.replace("data", "arguments", 1) if exc.name else "arguments"
            return f"{where}: {exc.message.replace(exc.name or 'data', '').strip() or exc.message}"
        return None

    def wrap(self, value: Any) -> dict[str, Any]:
        """Turn what a handler returned into a CallToolResult."""
        if isinstance(value, ToolResult):
            return value.to_wire()
        if isinstance(value, str):
            return {"content": [text(value)]}
        if isinstance(value, dict) and self.output_schema is not None:
            return {"content": [text(orjson.dumps(value).decode())], "structuredContent": value}
        if isinstance(value, list):
            return {"content": value}
        raise TypeError(f"tool {self.name} returned {type(value).__name__}")


def compile_schema(schema: dict[str, Any]) -> Callable[[Any], Any]:
    # fastjsonschema implements drafts 4-7; 2020-12 keywords it does not know are ignored,
    # so compile against draft-07 whatever "$schema" says.
    plain = {k: v for k, v in schema.items() if k != "$schema"}
    try:
        return fastjsonschema.compile(plain, use_default=False, use_formats=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return lambda _value: None


@dataclasses.dataclass
class Prompt:
    name: str
    description: str
    render: Callable[[dict[str, str], Any], Awaitable[dict[str, Any]]]
    arguments: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    title: str | None = None
    complete: Callable[[str, str, dict[str, str]], Awaitable[list[str]]] | None = None

    def describe(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.title:
            entry["title"] = self.title
        if self.arguments:
            entry["arguments"] = self.arguments
        return entry

    def check_arguments(self, arguments: dict[str, Any]) -> None:
        missing = [a["name"] for a in self.arguments if a.get("required") and a["name"] not in arguments]
        if missing:
            raise jsonrpc.JsonRpcError(jsonrpc.INVALID_PARAMS,
                                       f"Invalid params: prompt {self.name!r} needs argument(s) {', '.join(missing)}")
        bad = [k for k, v in arguments.items() if not isinstance(v, str)]
        if bad:
            raise jsonrpc.JsonRpcError(jsonrpc.INVALID_PARAMS,
                                       f"Invalid params: prompt arguments must be strings: {', '.join(bad)}")


class ResourceProvider(Protocol):
    """A source of resources (a fixed set, or documents in a database)."""

    def templates(self) -> Sequence[dict[str, Any]]: ...

    async def list(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]: ...

    async def read(self, uri: str) -> list[dict[str, Any]] | None: ...

    async def complete(self, uri_template: str, argument: str, value: str) -> list[str] | None: ...


@dataclasses.dataclass
class StaticResource:
    uri: str
    name: str
    mime_type: str
    read: Callable[[], list[dict[str, Any]]]
    description: str | None = None
    title: str | None = None

    def describe(self) -> dict[str, Any]:
        entry = {"uri": self.uri, "name": self.name, "mimeType": self.mime_type}
        if self.description:
            entry["description"] = self.description
        if self.title:
            entry["title"] = self.title
        return entry


class StaticResources:
    """A fixed list of resources and templates whose contents come from functions."""

    def __init__(self, resources: Sequence[StaticResource] = (),
                 templates: Sequence[tuple[dict[str, Any], Callable[[str], list[dict[str, Any]] | None]]] = ()):
        self._resources = {r.uri: r for r in resources}
        self._templates = list(templates)

    def templates(self) -> Sequence[dict[str, Any]]:
        return [t for t, _ in self._templates]

    async def list(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        items = [r.describe() for r in self._resources.values()]
        return page(items, cursor, limit)

    async def read(self, uri: str) -> list[dict[str, Any]] | None:
        resource = self._resources.get(uri)
        if resource is not None:
            return resource.read()
        for _template, reader in self._templates:
            contents = reader(uri)
            if contents is not None:
                return contents
        return None

    async def complete(self, uri_template: str, argument: str, value: str) -> list[str] | None:
        return None


# --- pagination -------------------------------------------------------------

def encode_cursor(state: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise jsonrpc.JsonRpcError(jsonrpc.INVALID_PARAMS, "Invalid params: unknown or malformed cursor") from None


def page(items: Sequence[Any], cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    offset = 0
    if cursor is not None:
        state = decode_cursor(cursor)
        if not isinstance(state, dict) or not isinstance(state.get("o"), int) or state["o"] < 0:
            raise jsonrpc.JsonRpcError(jsonrpc.INVALID_PARAMS, "Invalid params: unknown or malformed cursor")
        offset = state["o"]
    chunk = list(items[offset:offset + limit])
    next_cursor = encode_cursor({"o": offset + limit}) if offset + limit < len(items) else None
    return chunk, next_cursor


class Catalog:
    """Everything the server offers, looked up by name or URI."""

    def __init__(self, page_size: int = 50):
        self.page_size = page_size
        self.tools: dict[str, Tool] = {}
        self.prompts: dict[str, Prompt] = {}
        self.providers: list[ResourceProvider] = []
        # The lists that can change while the server runs (subscriptions/listen filter keys).
        self.changing_lists: frozenset[str] = frozenset()
        self._tool_list: list[dict[str, Any]] | None = None

    def add_tool(self, tool: Tool) -> None:
        if tool.name in self.tools:
            raise ValueError(f"duplicate tool {tool.name}")
        self.tools[tool.name] = tool
        self._tool_list = None

    def tool_read_only(self, name: str) -> bool | None:
        """Whether a tool only reads (its readOnlyHint annotation); None for an unknown tool."""
        tool = self.tools.get(name)
        if tool is None:
            return None
        return bool((tool.annotations or {}).get("readOnlyHint"))

    def add_prompt(self, prompt: Prompt) -> None:
        if prompt.name in self.prompts:
            raise ValueError(f"duplicate prompt {prompt.name}")
        self.prompts[prompt.name] = prompt

    def add_resources(self, provider: ResourceProvider) -> None:
        self.providers.append(provider)

    def list_tools(self, cursor: str | None) -> dict[str, Any]:
        if self._tool_list is None:
            self._tool_list = [t.describe() for t in self.tools.values()]
        tools, next_cursor = page(self._tool_list, cursor, self.page_size)
        return _listing("tools", tools, next_cursor)

    def list_prompts(self, cursor: str | None) -> dict[str, Any]:
        prompts, next_cursor = page([p.describe() for p in self.prompts.values()], cursor, self.page_size)
        return _listing("prompts", prompts, next_cursor)

    def list_templates(self, cursor: str | None) -> dict[str, Any]:
        templates = [t for p in self.providers for t in p.templates()]
        chunk, next_cursor = page(templates, cursor, self.page_size)
        return _listing("resourceTemplates", chunk, next_cursor)

    async def list_resources(self, cursor: str | None) -> dict[str, Any]:
        index, inner = 0, None
        if cursor is not None:
            state = decode_cursor(cursor)
            if not isinstance(state, dict) or not isinstance(state.get("p"), int) \
                    or not 0 <= state["p"] < len(self.providers) or not isinstance(state.get("c"), (str, type(None))):
                raise jsonrpc.JsonRpcError(jsonrpc.INVALID_PARAMS, "Invalid params: unknown or malformed cursor")
            index, inner = state["p"], state.get("c")
        resources: list[dict[str, Any]] = []
        while index < len(self.providers) and len(resources) < self.page_size:
            chunk, inner = await self.providers[index].list(inner, self.page_size - len(resources))
            resources.extend(chunk)
            if inner is None:
                index += 1
        next_cursor = None
        if index < len(self.providers):
            next_cursor = encode_cursor({"p": index, "c": inner})
        return _listing("resources", resources, next_cursor)

    async def read_resource(self, uri: str) -> dict[str, Any]:
        for provider in self.providers:
            contents = await provider.read(uri)
            if contents is not None:
                return {"contents": contents}
        raise jsonrpc.JsonRpcError(jsonrpc.RESOURCE_NOT_FOUND, f"Resource not found: {uri}", data={"uri": uri})

    async def complete_resource(self, uri_template: str, argument: str, value: str) -> list[str]:
        for provider in self.providers:
            values = await provider.complete(uri_template, argument, value)
            if values is not None:
                return values
        raise jsonrpc.JsonRpcError(jsonrpc.INVALID_PARAMS, f"Invalid params: no resource template {uri_template!r}")


def _listing(key: str, items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {key: items}
    if next_cursor is not None:
        result["nextCursor"] = next_cursor
    return result


def now() -> float:
    return time.time()
