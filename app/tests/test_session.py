"""The protocol core on its own (no transport, no database): which requests are answered at once,
which need a task, and that both paths fail, cancel and count the same way."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import pytest

from mcp_server import jsonrpc
from mcp_server.catalog import Catalog, Tool, ToolError
from mcp_server.metrics import Metrics
from mcp_server.core import Core, ServerInfo
from mcp_server.mcp2025 import Session

pytestmark = pytest.mark.anyio

NO_ARGS = {"type": "object", "properties": {}}


class Outbox:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def _plain(args: dict[str, Any], ctx: Any) -> str:
    ctx.progress(1, 1)
    return "plain"


async def _waits(args: dict[str, Any], ctx: Any) -> str:
    await asyncio.sleep(args.get("seconds", 0))
    return "waited"


def _raises_tool_error(args: dict[str, Any], ctx: Any) -> str:
    raise ToolError("the note is locked")


def _crashes(args: dict[str, Any], ctx: Any) -> str:
    raise ValueError("secret detail")


def _wrong_type(args: dict[str, Any], ctx: Any) -> int:
    return 42


def _rejects_params(args: dict[str, Any], ctx: Any) -> str:
    raise jsonrpc.JsonRpcError(jsonrpc.INVALID_PARAMS, "Invalid params: no such page")


class AsyncCallable:
    """A handler object whose __call__ is a coroutine function (web search is one)."""

    async def __call__(self, args: dict[str, Any], ctx: Any) -> str:
        await asyncio.sleep(0)
        return "callable"


def _session() -> tuple[Session, Metrics, Outbox]:
    catalog = Catalog(page_size=50)
    waits_schema = {"type": "object", "properties": {"seconds": {"type": "number"}}}
    for name, handler, schema in (("plain", _plain, NO_ARGS), ("waits", _waits, waits_schema),
                                  ("tool_error", _raises_tool_error, NO_ARGS), ("crashes", _crashes, NO_ARGS),
                                  ("wrong_type", _wrong_type, NO_ARGS), ("rejects", _rejects_params, NO_ARGS),
                                  ("callable", AsyncCallable(), NO_ARGS)):
        catalog.add_tool(Tool(name, f"{name} tool", schema, handler))
    metrics = Metrics()
    core = Core(catalog, ServerInfo("test", "0"), metrics)
    outbox = Outbox()
    session = core.open_session(outbox)
    answer = session.receive({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                              "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}, outbox)
    assert isinstance(answer, dict) and answer["result"]["protocolVersion"] == "2025-11-25"
    return session, metrics, outbox


def _call(request_id: Any, tool: str, arguments: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments or {}, **params}}


async def test_requests_that_never_wait_are_answered_at_once():
    session, _, outbox = _session()
    for method in ("ping", "tools/list", "prompts/list", "resources/templates/list"):
        answer = session.receive({"jsonrpc": "2.0", "id": method, "method": method}, outbox)
        assert isinstance(answer, dict) and answer["id"] == method and "result" in answer, answer
    answer = session.receive(_call(7, "plain", _meta={"progressToken": "p"}), outbox)
    assert answer == {"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": "plain"}]}}
    assert outbox.sent == [{"jsonrpc": "2.0", "method": "notifications/progress",
                            "params": {"progressToken": "p", "progress": 1, "total": 1}}]
    assert session.inflight == {}


async def test_requests_that_wait_are_answered_through_an_awaitable():
    session, _, outbox = _session()
    for request_id, tool, text in ((1, "waits", "waited"), (2, "callable", "callable")):
        pending = session.receive(_call(request_id, tool), outbox)
        assert not isinstance(pending, dict)
        answer = await asyncio.ensure_future(pending)
        assert answer["id"] == request_id and answer["result"]["content"][0]["text"] == text


async def test_tool_failures_are_error_results_on_both_paths():
    session, metrics, outbox = _session()
    locked = session.receive(_call(1, "tool_error"), outbox)
    assert locked["result"] == {"content": [{"type": "text", "text": "the note is locked"}], "isError": True}
    crashed = session.receive(_call(2, "crashes"), outbox)
    assert crashed["result"]["isError"] is True
    assert crashed["result"]["content"][0]["text"] == "Tool crashes failed: ValueError"
    assert "secret detail" not in str(crashed)
    wrong = session.receive(_call(3, "wrong_type"), outbox)
    assert wrong["result"]["content"][0]["text"] == "Tool wrong_type failed: TypeError"
    rejected = session.receive(_call(4, "rejects"), outbox)
    assert rejected["error"]["code"] == jsonrpc.INVALID_PARAMS and "no such page" in rejected["error"]["message"]
    assert metrics.tool_calls[("crashes", "error")] == 1 and metrics.tool_calls[("tool_error", "error")] == 1


async def test_an_id_in_use_is_refused_even_before_its_task_ran():
    session, _, outbox = _session()
    first = session.receive(_call(5, "waits", {"seconds": 0.05}), outbox)
    await asyncio.sleep(0)
    assert session.receive(_call(5, "plain"), outbox)["error"]["code"] == jsonrpc.INVALID_REQUEST
    # Two requests with one id received together (one batch, one read), before the first one's task ran:
    second = session.receive(_call(6, "waits", {"seconds": 0.05}), outbox)
    twin = session.receive(_call(6, "waits", {"seconds": 0.05}), outbox)
    assert twin["error"]["code"] == jsonrpc.INVALID_REQUEST and "in use" in twin["error"]["message"]
    answers = await asyncio.gather(first, second)
    assert [a["result"]["content"][0]["text"] for a in answers] == ["waited", "waited"]
    assert session.inflight == {}


async def test_cancelled_call_gets_no_answer_and_is_counted():
    session, metrics, outbox = _session()
    task = asyncio.ensure_future(session.receive(_call(9, "waits", {"seconds": 5}), outbox))
    await asyncio.sleep(0.01)
    assert session.receive({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": 9}}, outbox) is None
    assert await asyncio.wait_for(task, 1) is None
    assert metrics.tool_calls[("waits", "cancelled")] == 1


async def test_closing_the_session_cancels_waiting_calls():
    session, _, outbox = _session()
    task = asyncio.ensure_future(session.receive(_call(1, "waits", {"seconds": 5}), outbox))
    await asyncio.sleep(0.01)
    session.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)


async def test_metrics_export_counts_and_a_cumulative_histogram():
    session, metrics, outbox = _session()
    for request_id in range(3):
        session.receive(_call(request_id + 1, "plain"), outbox)
    await asyncio.ensure_future(session.receive(_call(10, "waits", {"seconds": 0.03}), outbox))
    metrics.message_in("websocket")
    metrics.message_out("streamable_http")
    text = metrics.render().decode()
    assert 'mcp_tool_calls_total{outcome="ok",tool="plain"} 3.0' in text
    assert 'mcp_messages_total{direction="in",transport="websocket"} 1.0' in text
    assert 'mcp_messages_total{direction="out",transport="streamable_http"} 1.0' in text
    assert 'mcp_tool_call_duration_seconds_count{tool="plain"} 3.0' in text
    assert 'mcp_tool_call_duration_seconds_bucket{le="+Inf",tool="plain"} 3.0' in text
    # The call that slept 30 ms is above the 25 ms bound and within the 30 s one.
    assert 'mcp_tool_call_duration_seconds_bucket{le="0.025",tool="waits"} 0.0' in text
    assert 'mcp_tool_call_duration_seconds_bucket{le="30.0",tool="waits"} 1.0' in text
    total = float(text.split('mcp_tool_call_duration_seconds_sum{tool="waits"} ')[1].split()[0])
    assert 0.03 <= total < 30


async def test_a_call_cancelled_before_its_task_ran_leaves_nothing_behind():
    session, metrics, outbox = _session()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = session.receive(_call(3, "waits", {"seconds": 5}), outbox)
        session.receive({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}}, outbox)
        with pytest.raises(asyncio.CancelledError):
            await task
        del task
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert session.inflight == {}
    # The id is free again.
    again = session.receive(_call(3, "waits"), outbox)
    assert (await again)["result"]["content"][0]["text"] == "waited"
