"""atheris harness: the JSON-RPC decoder (bytes in: a JSON value or a parse error) and the message
classifier (a value in: request, notification, response, or an invalid-request/params error).

A crash is any other exception, a decoded value nested deeper than the limit, a value that does
not encode again to itself, text and bytes of the same message decoding differently, or an error
that is not a well-formed JSON-RPC error response."""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["mcp_server"]):
    from mcp_server import jsonrpc

import orjson

from fuzz import seeds

DEPTHS = (1, 2, 3, 8, 64, 64, 64, 200)
KINDS = {"request", "notification", "response"}
CLASSIFY_CODES = {jsonrpc.INVALID_REQUEST, jsonrpc.INVALID_PARAMS}


def depth_of(value: object) -> int:
    """Nesting depth, without recursion (a scalar is 0, [] and {} are 1)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_error(exc: jsonrpc.JsonRpcError, codes: set[int]) -> None:
    assert exc.code in codes, f"unexpected error code {exc.code}: {exc.message}"
    response = orjson.loads(orjson.dumps(exc.to_response()))
    assert isinstance(response["error"]["message"], str) and response["error"]["message"]
    assert response["id"] is None or jsonrpc.is_valid_id(response["id"]), response


def decoded(data: bytes | str, max_depth: int) -> tuple[bool, object]:
    try:
        return True, jsonrpc.decode(data, max_depth)
    except jsonrpc.JsonRpcError as exc:
        check_error(exc, {jsonrpc.PARSE_ERROR})
        return False, exc.code


def classify(value: object) -> None:
    for message in value if isinstance(value, list) else [value]:
        try:
            kind = jsonrpc.classify(message)
        except jsonrpc.JsonRpcError as exc:
            check_error(exc, CLASSIFY_CODES)
            continue
        assert kind in KINDS, kind


def test_one_input(data: bytes) -> None:
    if not data:
        return
    max_depth, body = DEPTHS[data[0] % len(DEPTHS)], data[1:]
    ok, value = decoded(body, max_depth)
    try:
        text = body.decode("utf-8")  # what a WebSocket text frame hands over
    except UnicodeDecodeError:
        text = None
    if text is not None:
        assert decoded(text, max_depth) == (ok, value), "text and bytes decode differently"
    if not ok:
        return
    assert depth_of(value) <= max_depth, f"nesting {depth_of(value)} passed the limit {max_depth}"
    assert orjson.loads(orjson.dumps(value)) == value, "the decoded value does not encode to itself"
    classify(value)


if __name__ == "__main__":
    from fuzz import launch

    launch.launch(test_one_input, {b"\x04": seeds.SESSION_MESSAGES + seeds.MODERN_MESSAGES})
