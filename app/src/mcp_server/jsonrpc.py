"""JSON-RPC 2.0 framing: decoding with size and depth limits, message shapes, errors."""

from __future__ import annotations

from typing import Any

import orjson

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Implementation-defined server errors (-32000 to -32099).
RATE_LIMITED = -32000
SHUTTING_DOWN = -32001
RESOURCE_NOT_FOUND = -32002  # the MCP spec's code for resources/read of an unknown URI
NOT_INITIALIZED = -32003
FORBIDDEN = -32004  # the access token lacks a scope the request needs (HTTP 403 insufficient_scope)
# MCP 2026-07-28
HEADER_MISMATCH = -32020  # HTTP headers missing or not matching the body (SEP-2243)
MISSING_CLIENT_CAPABILITY = -32021  # the request needs a capability the client did not declare
UNSUPPORTED_PROTOCOL_VERSION = -32022

ERROR_NAMES = {
    PARSE_ERROR: "parse_error",
    INVALID_REQUEST: "invalid_request",
    METHOD_NOT_FOUND: "method_not_found",
    INVALID_PARAMS: "invalid_params",
    INTERNAL_ERROR: "internal_error",
    RATE_LIMITED: "rate_limited",
    SHUTTING_DOWN: "shutting_down",
    RESOURCE_NOT_FOUND: "resource_not_found",
    NOT_INITIALIZED: "not_initialized",
    HEADER_MISMATCH: "header_mismatch",
    MISSING_CLIENT_CAPABILITY: "missing_client_capability",
    UNSUPPORTED_PROTOCOL_VERSION: "unsupported_protocol_version",
}


class JsonRpcError(Exception):
    """An error that becomes a JSON-RPC error response."""

    def __init__(self, code: int, message: str, data: Any = None, request_id: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.request_id = request_id

    def to_response(self, request_id: Any = None) -> dict[str, Any]:
        rid = self.request_id if request_id is None else request_id
        return error_response(rid, self.code, self.message, self.data)


def error_response(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def result_response(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def notification(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def message_count(payload: Any) -> int:
    """How many JSON-RPC messages a payload is (a batch is several)."""
    return len(payload) if isinstance(payload, list) else 1


def encode(message: Any) -> bytes:
    return orjson.dumps(message)


def decode(data: bytes | str, max_depth: int) -> Any:
    """Parse one JSON text; raise JsonRpcError(PARSE_ERROR) for bad JSON or too deep nesting."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    # Nesting can only exceed max_depth if there are more than max_depth openers in all:
    # bytes.count is C-fast, so the walk below runs only for messages that could be too deep.
    if data.count(b"{") + data.count(b"[") > max_depth:
        _check_depth_raw(data, max_depth)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise JsonRpcError(PARSE_ERROR, f"Parse error: {exc}") from None


def _check_depth_raw(data: bytes, max_depth: int) -> None:
    """Reject nesting deeper than max_depth before parsing (so a deep message costs no recursion)."""
    depth = 0
    in_string = False
    escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte == 0x7B or byte == 0x5B:  # { [
            depth += 1
            if depth > max_depth:
                raise JsonRpcError(PARSE_ERROR, f"Parse error: JSON nesting deeper than {max_depth} levels")
        elif byte == 0x7D or byte == 0x5D:
            depth -= 1


def is_valid_id(value: Any) -> bool:
    # MCP: ids are strings or integers, never null; bool is an int subclass in Python.
    return (isinstance(value, str) or isinstance(value, int)) and not isinstance(value, bool)


def is_valid_code(value: Any) -> bool:
    """An error code is an integer (bool is an int subclass in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def classify(message: Any) -> str:
    """Return 'request', 'notification' or 'response', or raise INVALID_REQUEST naming the fault."""
    if not isinstance(message, dict):
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: a JSON-RPC message must be an object")
    request_id = message.get("id")
    if message.get("jsonrpc") != "2.0":
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"',
                           request_id=request_id if is_valid_id(request_id) else None)
    if "method" in message:
        method = message["method"]
        if not isinstance(method, str) or not method:
            raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string',
                               request_id=request_id if is_valid_id(request_id) else None)
        params = message.get("params")
        if "id" in message and not is_valid_id(request_id):
            raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer')
        if params is not None and not isinstance(params, dict):
            raise JsonRpcError(INVALID_PARAMS, 'Invalid params: "params" must be an object',
                               request_id=request_id if "id" in message else None)
        return "request" if "id" in message else "notification"
    if "result" in message or "error" in message:
        if "result" in message and "error" in message:
            raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: a response has "result" or "error", not both')
        return "response"
    raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: no "method", "result" or "error" member',
                       request_id=request_id if is_valid_id(request_id) else None)
