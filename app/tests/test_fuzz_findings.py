"""What the fuzzers found (tests/fuzz), one test each: the protocol core on its own, fed the
message that made it fail, now answers with an error naming the problem (or ignores what names
nothing), and the conversation goes on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcp_server import jsonrpc
from mcp_server.engine import Engine, settled

from fuzz.core_driver import fixture_core, messages_of
from fuzz.seeds import ENVELOPE, SESSION_MESSAGES

pytestmark = pytest.mark.anyio


class Outbox:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def end_stream(self) -> None:
        return None


def _session() -> tuple[Engine, Outbox]:
    outbox = Outbox()
    session = fixture_core().open_session(outbox)
    assert "result" in session.receive(SESSION_MESSAGES[0], outbox)
    return session, outbox


def _request(method: str, params: dict[str, Any], request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


async def _asked(outbox: Outbox) -> dict[str, Any]:
    """The request the server sends the client (a few loop passes after the call)."""
    for _ in range(10):
        if outbox.sent and "id" in outbox.sent[-1]:
            return outbox.sent[-1]
        await asyncio.sleep(0)
    raise AssertionError(f"the server asked the client nothing: {outbox.sent}")


async def _error_of(conversation: Engine, outbox: Outbox, message: dict[str, Any]) -> dict[str, Any]:
    answer = await settled(conversation.receive(message, outbox))
    assert isinstance(answer, dict) and "error" in answer, answer
    assert answer["error"]["code"] != jsonrpc.INTERNAL_ERROR, answer
    return answer["error"]


async def _still_serves(conversation: Engine, outbox: Outbox, **params: Any) -> None:
    answer = await settled(conversation.receive(_request("tools/list", params, "after"), outbox))
    assert answer["id"] == "after" and answer["result"]["tools"], answer


async def test_a_log_level_that_is_not_a_string_is_invalid_params():
    session, outbox = _session()
    error = await _error_of(session, outbox, _request("logging/setLevel", {"level": [1]}))
    assert error["code"] == jsonrpc.INVALID_PARAMS and "level must be one of" in error["message"]
    modern = fixture_core().open_stateless()
    meta = {**ENVELOPE, "io.modelcontextprotocol/logLevel": {"a": 1}}
    error = await _error_of(modern, outbox, _request("tools/list", {"_meta": meta}))
    assert error["code"] == jsonrpc.INVALID_PARAMS and "logLevel must be one of" in error["message"]
    await _still_serves(modern, outbox, _meta=ENVELOPE)


@pytest.mark.parametrize("request_id", [[1], {"a": 1}, None, 1.5, True])
async def test_a_cancellation_or_response_naming_no_valid_id_is_ignored(request_id):
    session, outbox = _session()
    assert session.receive({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": request_id}}, outbox) is None
    asking = session.receive(_request("tools/call", {"name": "test_sampling", "arguments": {"prompt": "p"}}), outbox)
    asked = await _asked(outbox)
    assert asked["method"] == "sampling/createMessage"
    assert session.receive({"jsonrpc": "2.0", "id": request_id, "result": {}}, outbox) is None
    session.receive({"jsonrpc": "2.0", "id": asked["id"],
                     "result": {"role": "assistant", "content": {"type": "text", "text": "ok"}}}, outbox)
    assert (await settled(asking))["result"]["content"][0]["text"] == "LLM response: ok"


async def test_a_completion_ref_name_that_is_not_a_string_is_invalid_params():
    session, outbox = _session()
    error = await _error_of(session, outbox, _request("completion/complete", {
        "ref": {"type": "ref/prompt", "name": [1]}, "argument": {"name": "arg1", "value": ""}}))
    assert error["code"] == jsonrpc.INVALID_PARAMS and "unknown prompt" in error["message"]


async def test_a_resources_cursor_with_a_foreign_inner_cursor_is_invalid_params():
    session, outbox = _session()
    cursor = "eyJwIjowLCJjIjoxfQ"  # {"p":0,"c":1}: the provider's cursor must be a string
    error = await _error_of(session, outbox, _request("resources/list", {"cursor": cursor}))
    assert error["code"] == jsonrpc.INVALID_PARAMS and "malformed cursor" in error["message"]
    await _still_serves(session, outbox)


async def _sampling_answered_with(answer: dict[str, Any]) -> dict[str, Any]:
    session, outbox = _session()
    asking = session.receive(_request("tools/call", {"name": "test_sampling", "arguments": {"prompt": "p"}}), outbox)
    session.receive({"jsonrpc": "2.0", "id": (await _asked(outbox))["id"], **answer}, outbox)
    return await settled(asking)


async def test_a_client_result_that_is_not_an_object_fails_the_request_that_asked():
    reply = await _sampling_answered_with({"result": [1]})
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert "with a list result; a result must be an object" in reply["error"]["message"]


async def test_a_client_error_whose_code_is_not_an_integer_becomes_an_internal_error_with_its_message():
    reply = await _sampling_answered_with({"error": {"code": "x", "message": "declined"}})
    assert reply["error"] == {"code": jsonrpc.INTERNAL_ERROR, "message": "declined"}


async def test_sampling_content_may_be_a_list_of_blocks():
    reply = await _sampling_answered_with({"result": {"role": "assistant", "content": [
        {"type": "text", "text": "a"}, {"type": "image", "data": "", "mimeType": "image/png"}, {"type": "text", "text": "b"}]}})
    assert reply["result"]["content"][0]["text"] == "LLM response: ab"


def test_the_messages_of_a_fuzz_input_are_its_json_lines():
    assert messages_of(b'{"a":1}\n{\n[2]') == [{"a": 1}, [2]]
