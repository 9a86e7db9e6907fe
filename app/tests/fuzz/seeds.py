"""What the atheris harnesses start from: well-formed messages of both eras (the seed corpus) and
the tokens the mutator splices in (a libFuzzer dictionary), so that mutations reach past the parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SESSION_VERSION = "2025-11-25"
BATCH_VERSION = "2025-03-26"
MODERN_VERSION = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
CAPABILITIES = {"sampling": {}, "elicitation": {}, "roots": {"listChanged": True}}
ENVELOPE = {META_VERSION: MODERN_VERSION, META_CAPABILITIES: CAPABILITIES}


def _request(rid: Any, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        message["params"] = params
    return message


def _modern(rid: Any, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return _request(rid, method, {**(params or {}), "_meta": dict(ENVELOPE)})


CALLS = [
    ("tools/list", {}), ("tools/list", {"cursor": "eyJvIjoxfQ"}), ("prompts/list", {}), ("resources/list", {}),
    ("resources/templates/list", {}), ("resources/read", {"uri": "test://static-text"}),
    ("tools/call", {"name": "test_simple_text", "arguments": {}}),
    ("tools/call", {"name": "test_sampling", "arguments": {"prompt": "hi"}}),
    ("tools/call", {"name": "test_elicitation", "arguments": {"message": "who?"}}),
    ("tools/call", {"name": "test_input_required_result_multi_round", "arguments": {}}),
    ("tools/call", {"name": "test_wait", "arguments": {"seconds": 0}}),
    ("prompts/get", {"name": "test_prompt_with_arguments", "arguments": {"arg1": "a", "arg2": "b"}}),
    ("completion/complete", {"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
                             "argument": {"name": "arg1", "value": "pa"}}),
    ("completion/complete", {"ref": {"type": "ref/resource", "uri": "test://template/{id}/data"},
                             "argument": {"name": "id", "value": "1"}}),
]

SESSION_MESSAGES: list[Any] = [
    _request(0, "initialize", {"protocolVersion": SESSION_VERSION, "capabilities": CAPABILITIES,
                               "clientInfo": {"name": "fuzz", "version": "1"}}),
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    _request(1, "ping"),
    _request(2, "logging/setLevel", {"level": "debug"}),
    _request(3, "resources/subscribe", {"uri": "test://static-text"}),
    _request(4, "resources/unsubscribe", {"uri": "test://static-text"}),
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}},
    {"jsonrpc": "2.0", "id": "s1", "result": {"action": "accept", "content": {"username": "u"}}},
    {"jsonrpc": "2.0", "id": "s1", "error": {"code": -1, "message": "no"}},
    *(_request(10 + i, method, params) for i, (method, params) in enumerate(CALLS)),
]

MODERN_MESSAGES: list[Any] = [
    _modern(1, "server/discover"),
    _modern(2, "subscriptions/listen", {"notifications": {"toolsListChanged": True,
                                                          "resourceSubscriptions": ["test://static-text"]}}),
    _modern(3, "tools/call", {"name": "test_input_required_result_elicitation", "arguments": {},
                              "inputResponses": {"name": {"action": "accept", "content": {"name": "x"}}},
                              "requestState": "x.y"}),
    *(_modern(10 + i, method, params) for i, (method, params) in enumerate(CALLS)),
]

TOKENS = sorted({
    "jsonrpc", "2.0", "id", "method", "params", "result", "error", "code", "message", "data", "_meta",
    "progressToken", "requestId", "cursor", "name", "arguments", "uri", "ref", "argument", "value", "context",
    "level", "protocolVersion", "capabilities", "clientInfo", "notifications", "inputResponses", "requestState",
    "resultType", "action", "content", "roots", "s1", "s2", "ref/prompt", "ref/resource", "accept", "decline",
    META_VERSION, META_CAPABILITIES, "io.modelcontextprotocol/logLevel", SESSION_VERSION, BATCH_VERSION,
    MODERN_VERSION, "notifications/cancelled", "notifications/initialized", "debug", "emergency",
    *(m["method"] for m in SESSION_MESSAGES + MODERN_MESSAGES if "method" in m),
    *(p["name"] for _, p in CALLS if "name" in p),
    "true", "false", "null", "{}", "[]", "-1", "1e400", "18446744073709551616", "\\u0000", "\\ud800",
})


def write_corpus(directory: Path, messages: list[Any], prefix: bytes = b"") -> None:
    """One file per seed: `prefix` (the harness's mode byte), then JSON lines."""
    directory.mkdir(parents=True, exist_ok=True)
    for index, message in enumerate(messages):
        (directory / f"seed-{index}").write_bytes(prefix + json.dumps(message).encode())
    (directory / "seed-all").write_bytes(prefix + b"\n".join(json.dumps(m).encode() for m in messages))


def write_dictionary(path: Path) -> None:
    """A libFuzzer dictionary: each token as a JSON string, and bare where it is JSON syntax."""
    lines = [f"{json.dumps(json.dumps(token))}" for token in TOKENS]
    lines += [json.dumps(token) for token in ("{", "}", "[", "]", ":", ",", '"', "\\")]
    path.write_text("\n".join(lines) + "\n")
