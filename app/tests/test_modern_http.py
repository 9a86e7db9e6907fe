"""MCP 2026-07-28 over Streamable HTTP: stateless requests, SEP-2243 headers, input-required
results across replicas, request-scoped logging and progress, listen streams, named errors."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from support.clients import MODERN, ModernHttp, RawHttp, SseReader, messages_of

pytestmark = pytest.mark.anyio

SERVER_INFO = "io.modelcontextprotocol/serverInfo"
LOG_LEVEL = "io.modelcontextprotocol/logLevel"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
ALICE = {"action": "accept", "content": {"name": "Alice"}}


def _error(response: httpx.Response, messages: list[dict], status: int, code: int) -> dict:
    assert response.status_code == status, (response.status_code, messages)
    assert len(messages) == 1 and messages[0]["error"]["code"] == code, messages
    return messages[0]


async def test_discover_names_both_eras_and_caching_and_no_session(server):
    async with ModernHttp(server.http_url) as client:
        response, messages = await client.post("server/discover")
        assert response.status_code == 200 and "Mcp-Session-Id" not in response.headers
        result = messages[0]["result"]
        assert result["resultType"] == "complete"
        assert result["supportedVersions"][0] == MODERN and "2025-11-25" in result["supportedVersions"]
        assert result["_meta"][SERVER_INFO]["name"] == "kringen-mcp-server"
        assert isinstance(result["ttlMs"], int) and result["cacheScope"] in ("public", "private")
        assert result["capabilities"]["tools"] and result["capabilities"]["resources"]["subscribe"] is True


async def test_every_result_has_a_result_type_and_lists_carry_cache_hints(server):
    async with ModernHttp(server.http_url) as client:
        for method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list"):
            result = await client.result(method)
            assert result["resultType"] == "complete" and result["ttlMs"] >= 0, (method, result)
            assert result["cacheScope"] in ("public", "private")
        read = await client.result("resources/read", {"uri": "test://static-text"})
        assert read["cacheScope"] == "private" and read["contents"][0]["text"]
        call = await client.result("tools/call", {"name": "test_simple_text", "arguments": {}})
        assert call["resultType"] == "complete" and "ttlMs" not in call and call["_meta"][SERVER_INFO]


async def test_header_rules_of_sep_2243(server):
    call = {"name": "test_simple_text", "arguments": {}}
    async with ModernHttp(server.http_url) as client:
        missing_version = await client.post("tools/list", headers={"MCP-Protocol-Version": None}, request_id=7)
        assert _error(*missing_version, 400, -32020)["id"] == 7
        _error(*await client.post("tools/list", headers={"Mcp-Method": None}), 400, -32020)
        _error(*await client.post("tools/list", headers={"Mcp-Method": "TOOLS/LIST"}), 400, -32020)
        _error(*await client.post("tools/call", call, headers={"Mcp-Name": None}), 400, -32020)
        wrong = await client.post("tools/call", call, headers={"Mcp-Name": "test_error_handling"})
        assert "Mcp-Name" in _error(*wrong, 400, -32020)["error"]["message"]
        # A 2025 version header on a body that names 2026-07-28 contradicts itself.
        _error(*await client.post("tools/list", headers={"MCP-Protocol-Version": "2025-11-25"}), 400, -32020)
        # Mcp-Param-{Name} for arguments declared with x-mcp-header: literal or =?base64?...?=
        tool = "test_mcp_param_header"
        for header in ("eu-north", "=?base64?ZXUtbm9ydGg=?="):
            ok, messages = await client.post("tools/call", {"name": tool, "arguments": {"region": "eu-north"}},
                                             headers={"Mcp-Param-Region": header})
            assert ok.status_code == 200 and messages[0]["result"]["content"][0]["text"] == "Region: eu-north"
        for header in (None, "us-east", "=?base64?ZXUtbm9ydGg?="):
            _error(*await client.post("tools/call", {"name": tool, "arguments": {"region": "eu-north"}},
                                      headers={"Mcp-Param-Region": header}), 400, -32020)


async def test_meta_and_version_errors(server):
    async with ModernHttp(server.http_url) as client:
        no_meta = await client.post("server/discover", envelope=False)
        assert "_meta" in _error(*no_meta, 400, -32602)["error"]["message"]
        no_caps = await client.post("server/discover", {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}},
                                    envelope=False)
        assert "clientCapabilities" in _error(*no_caps, 400, -32602)["error"]["message"]
        bad_level = await client.post("tools/list", **{LOG_LEVEL: "loud"})
        assert "logLevel" in _error(*bad_level, 400, -32602)["error"]["message"]
        unsupported = await client.post("server/discover", headers={"MCP-Protocol-Version": "2099-01-01"},
                                        **{"io.modelcontextprotocol/protocolVersion": "2099-01-01"})
        data = _error(*unsupported, 400, -32022)["error"]["data"]
        assert data["requested"] == "2099-01-01" and MODERN in data["supported"]


async def test_methods_of_the_2025_era_are_not_found_and_get_delete_are_not_allowed(server):
    async with ModernHttp(server.http_url) as client:
        for method in ("initialize", "ping", "logging/setLevel", "resources/subscribe", "no/such/method"):
            _error(*await client.post(method), 404, -32601)
        for verb in ("GET", "DELETE"):
            response = await client.client.request(verb, server.http_url, headers={
                "Authorization": f"Bearer {client.token}", "Accept": "text/event-stream"})
            assert response.status_code == 405 and response.headers["Allow"] == "POST"


async def test_input_required_round_trip_and_its_refusals(server):
    tool = {"name": "test_input_required_result_elicitation", "arguments": {}}
    async with ModernHttp(server.http_url) as client:
        first = await client.result("tools/call", tool)
        assert first["resultType"] == "input_required" and "ttlMs" not in first
        assert first["inputRequests"]["user_name"]["method"] == "elicitation/create"
        state = first["requestState"]
        done = await client.result("tools/call", {**tool, "inputResponses": {"user_name": ALICE},
                                                  "requestState": state})
        assert done["resultType"] == "complete" and done["content"][0]["text"] == "Hello, Alice!"
        # Altered state, state of another request, a malformed answer, answers to a method that never asks:
        tampered = await client.post("tools/call", {**tool, "inputResponses": {"user_name": ALICE},
                                                    "requestState": state[:-2] + ("AA" if state[-2:] != "AA" else "BB")})
        assert "altered" in _error(*tampered, 400, -32602)["error"]["message"]
        other = await client.post("tools/call", {"name": "test_input_required_result_request_state", "arguments": {},
                                                 "requestState": state})
        assert "another request" in _error(*other, 400, -32602)["error"]["message"]
        # ... and a state issued for other arguments (answers are not replayed into another call).
        asked = await client.result("tools/call", {"name": "test_elicitation", "arguments": {"message": "delete a?"}})
        replayed = await client.post("tools/call", {"name": "test_elicitation", "arguments": {"message": "delete b?"},
                                                    "requestState": asked["requestState"],
                                                    "inputResponses": {"q1": {"action": "accept", "content": {}}}})
        assert "arguments" in _error(*replayed, 400, -32602)["error"]["message"]
        bad_answer = await client.post("tools/call", {**tool, "inputResponses": {"user_name": {"action": 1}}})
        assert "user_name" in _error(*bad_answer, 400, -32602)["error"]["message"]
        not_object = await client.post("tools/call", {**tool, "inputResponses": [ALICE]})
        _error(*not_object, 400, -32602)
        stray = await client.post("tools/list", {"inputResponses": {"user_name": ALICE}})
        assert "never asks" in _error(*stray, 400, -32602)["error"]["message"]
        # A client without the capability is told which one the request needs.
        missing = await client.post("tools/call", {"name": "test_missing_capability", "arguments": {}},
                                    capabilities={})
        error = _error(*missing, 400, -32021)["error"]
        assert error["data"]["requiredCapabilities"] == {"sampling": {}}


async def test_multi_round_state_carries_earlier_answers(server):
    tool = {"name": "test_input_required_result_multi_round", "arguments": {}}
    async with ModernHttp(server.http_url) as client:
        one = await client.result("tools/call", tool)
        two = await client.result("tools/call", {**tool, "inputResponses": {"step1": ALICE},
                                                 "requestState": one["requestState"]})
        assert list(two["inputRequests"]) == ["step2"] and two["requestState"] != one["requestState"]
        done = await client.result("tools/call", {**tool, "requestState": two["requestState"], "inputResponses": {
            "step2": {"action": "accept", "content": {"color": "blue"}}}})
        assert done["content"][0]["text"] == "Alice likes blue"


async def test_a_retry_may_land_on_another_replica_that_shares_the_key(make_server):
    key = "k" * 40
    first, second, stranger = (make_server(MCP_CONFORMANCE_FIXTURES="true", MCP_STATE_KEYS=k)
                               for k in (key, f"{'z' * 40},{key}", "x" * 40))
    tool = {"name": "test_input_required_result_elicitation", "arguments": {}}
    for proc in (first, second, stranger):
        proc.wait_ready()
    async with ModernHttp(first.http_url) as a, ModernHttp(second.http_url) as b, ModernHttp(stranger.http_url) as c:
        state = (await a.result("tools/call", tool))["requestState"]
        retry = {**tool, "inputResponses": {"user_name": ALICE}, "requestState": state}
        # The second replica seals with another key but still opens states of the shared one (rotation).
        assert (await b.result("tools/call", retry))["content"][0]["text"] == "Hello, Alice!"
        _error(*await c.post("tools/call", retry), 400, -32602)


async def test_logs_only_at_the_request_level_and_progress_stream_over_sse(server):
    async with ModernHttp(server.http_url) as client:
        quiet, messages = await client.post("tools/call", {"name": "test_tool_with_logging", "arguments": {}})
        assert quiet.headers["Content-Type"].startswith("application/json") and len(messages) == 1
        loud, messages = await client.post("tools/call", {"name": "test_tool_with_logging", "arguments": {}},
                                           **{LOG_LEVEL: "info"})
        assert loud.headers["Content-Type"].startswith("text/event-stream")
        assert [m["method"] for m in messages[:-1]] == ["notifications/message"] * 3 and "result" in messages[-1]
        above, messages = await client.post("tools/call", {"name": "test_tool_with_logging", "arguments": {}},
                                            **{LOG_LEVEL: "error"})
        assert len(messages) == 1
        progress, messages = await client.post("tools/call", {"name": "test_tool_with_progress", "arguments": {}},
                                               progressToken="p1")
        assert progress.headers["X-Accel-Buffering"] == "no"
        assert [m["params"]["progress"] for m in messages[:-1]] == [0, 50, 100]
        assert not any(line.startswith("id:") for line in progress.text.splitlines())  # not resumable in 2026


async def _tool_calls(server, tool: str, outcome: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{server.metrics_base}/metrics")).text
    for line in text.splitlines():
        if line.startswith("mcp_tool_calls_total{") and f'tool="{tool}"' in line and f'outcome="{outcome}"' in line:
            return float(line.split()[-1])
    return 0.0


async def test_closing_the_response_stream_cancels_the_request(server):
    before = await _tool_calls(server, "test_wait", "cancelled")
    async with ModernHttp(server.http_url) as client:
        params = {"name": "test_wait", "arguments": {"seconds": 20}}
        request = client.client.build_request("POST", server.http_url, headers=client.headers_for("tools/call", params),
                                              content=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                                                  "params": {**params, "_meta": {
                                                                      "io.modelcontextprotocol/protocolVersion": MODERN,
                                                                      "io.modelcontextprotocol/clientCapabilities": {},
                                                                      "progressToken": 1}}}))
        response = await client.client.send(request, stream=True)
        lines = response.aiter_lines()
        assert (await lines.__anext__()).startswith("data:")  # the progress notification: the call runs
        await response.aclose()
    for _ in range(50):
        if await _tool_calls(server, "test_wait", "cancelled") == before + 1:
            return
        await asyncio.sleep(0.1)
    pytest.fail("the call was not cancelled when its response stream closed")


async def test_listen_stream_carries_tagged_resource_updates_and_list_changes(server):
    async with ModernHttp(server.http_url) as client:
        params = {"notifications": {"toolsListChanged": True, "resourcesListChanged": True,
                                    "resourceSubscriptions": ["notes://listened"]}}
        body = {"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen",
                "params": {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                                               "io.modelcontextprotocol/clientCapabilities": {}}}}
        async with client.client.stream("POST", server.http_url, content=json.dumps(body),
                                        headers=client.headers_for("subscriptions/listen", params)) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            events = SseReader(stream)
            ack = await events.next(5)
            assert ack["method"] == "notifications/subscriptions/acknowledged"
            assert ack["params"]["_meta"][SUBSCRIPTION_ID] == "listen-1"
            # resourcesListChanged is refused (notes change one by one, the list is not announced).
            assert ack["params"]["notifications"] == {"toolsListChanged": True,
                                                      "resourceSubscriptions": ["notes://listened"]}
            await client.result("tools/call", {"name": "save_note", "arguments": {
                "id": "listened", "title": "t", "content": "c"}})
            await client.result("tools/call", {"name": "test_trigger_prompt_change", "arguments": {}})  # not asked for
            await client.result("tools/call", {"name": "test_trigger_tool_change", "arguments": {}})
            updated = await events.next(5)
            assert updated["method"] == "notifications/resources/updated"
            assert updated["params"] == {"uri": "notes://listened", "_meta": {SUBSCRIPTION_ID: "listen-1"}}
            changed = await events.next(5)
            assert changed["method"] == "notifications/tools/list_changed"


async def test_a_2025_session_and_2026_requests_share_the_endpoint(server):
    async with RawHttp(server.http_url) as legacy, ModernHttp(server.http_url) as modern:
        init = await legacy.initialize()
        assert init.json()["result"]["protocolVersion"] == "2025-11-25" and legacy.session_id
        response, messages = await legacy.request("tools/list")
        assert "resultType" not in messages[0]["result"] and "ttlMs" not in messages[0]["result"]
        # A 2026 request that also carries a session id is stateless all the same (the id is ignored).
        stray = await modern.post("tools/list", headers={"Mcp-Session-Id": legacy.session_id})
        assert stray[0].status_code == 200 and "Mcp-Session-Id" not in stray[0].headers
        # Resource not found: -32002 in the 2025 era, -32602 with data.uri in 2026 (SEP-2164).
        _, old = await legacy.request("resources/read", {"uri": "test://missing"})
        assert old[0]["error"]["code"] == -32002
        new = await modern.post("resources/read", {"uri": "test://missing"})
        assert _error(*new, 400, -32602)["error"]["data"] == {"uri": "test://missing"}
        notification = await modern.client.post(server.http_url, content=json.dumps(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}),
            headers=modern.headers_for("notifications/cancelled", {}))
        assert notification.status_code == 202 and messages_of(notification) == []
        assert notification.content == b"" and "Content-Type" not in notification.headers
