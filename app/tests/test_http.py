"""MCP Streamable HTTP (2025-11-25) against a running server."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from support.clients import INIT_PARAMS, ModernHttp, RawHttp, SseReader

pytestmark = pytest.mark.anyio


async def test_initialize_issues_a_random_session_id(server):
    ids = set()
    for _ in range(3):
        async with RawHttp(server.http_url) as client:
            response = await client.initialize()
            assert response.status_code == 200
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.json()["result"]["protocolVersion"] == "2025-11-25"
            sid = client.session_id
            assert sid and len(sid) >= 32 and all(0x21 <= ord(c) <= 0x7E for c in sid)
            ids.add(sid)
    assert len(ids) == 3


async def test_notifications_and_responses_get_202(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        note = await client.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert note.status_code == 202 and note.content == b""
        stray = await client.post({"jsonrpc": "2.0", "id": "s999", "result": {}})
        assert stray.status_code == 202


async def test_session_header_required_and_unknown_is_404(server):
    async with RawHttp(server.http_url) as client:
        missing = await client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert missing.status_code == 400 and "Mcp-Session-Id" in missing.json()["error"]["message"]
        client.session_id = "not-a-session"
        unknown = await client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert unknown.status_code == 404


async def test_delete_ends_the_session(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        response, messages = await client.request("ping")
        assert messages[0]["result"] == {}
        deleted = await client.client.delete(server.http_url, headers=client.headers())
        assert deleted.status_code == 204
        after = await client.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert after.status_code == 404


async def test_protocol_version_header_checked(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        bad = await client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, **{"MCP-Protocol-Version": "2030-01-01"})
        assert bad.status_code == 400 and "2030-01-01" in bad.json()["error"]["message"]
        older = await client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, **{"MCP-Protocol-Version": "2025-03-26"})
        assert older.status_code == 200


async def test_content_negotiation_errors(server):
    async with RawHttp(server.http_url) as client:
        wrong_type = await client.post("{}", **{"Content-Type": "text/plain"})
        assert wrong_type.status_code == 415
        wrong_accept = await client.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT_PARAMS},
                                         Accept="text/html")
        assert wrong_accept.status_code == 406
        bad_json = await client.post("{oops")
        assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == -32700


async def test_tool_call_that_reports_progress_streams_sse(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        response, messages = await client.request(
            "tools/call", {"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": 77}})
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert [m["method"] for m in messages[:-1]] == ["notifications/progress"] * 3
        assert all(m["params"]["progressToken"] == 77 for m in messages[:-1])
        assert "result" in messages[-1]
        lines = response.text.splitlines()
        assert lines[0] == "retry: 1000" and lines[1].startswith("id: ")
        assert all(line == "" or line.startswith(("id: ", "data: ", "retry: ")) for line in lines), lines


async def test_plain_call_answers_json(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        response, messages = await client.request("tools/call", {"name": "test_simple_text"})
        assert response.headers["Content-Type"].startswith("application/json")
        assert messages[0]["result"]["content"][0]["text"].startswith("This is a simple text")


async def test_elicitation_round_trip_over_http(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        body = {"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                "params": {"name": "test_elicitation", "arguments": {"message": "who are you?"}}}
        async with client.client.stream("POST", server.http_url, content=json.dumps(body),
                                        headers=client.headers()) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            events = SseReader(stream)
            request = await events.next()
            assert request["method"] == "elicitation/create"
            answer = await client.post({"jsonrpc": "2.0", "id": request["id"], "result": {
                "action": "accept", "content": {"username": "ada", "email": "ada@example.org"}}})
            assert answer.status_code == 202
            final = await events.next()
        assert final["id"] == 5
        assert "ada@example.org" in final["result"]["content"][0]["text"]


async def test_get_stream_carries_resource_updates(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        await client.request("resources/subscribe", {"uri": "notes://watched-note"})
        headers = client.headers(Accept="text/event-stream")
        async with client.client.stream("GET", server.http_url, headers=headers) as stream:
            assert stream.status_code == 200
            events = SseReader(stream)
            conflict = await client.client.get(server.http_url, headers=headers)
            assert conflict.status_code == 409
            await client.request("tools/call", {"name": "save_note", "arguments": {
                "id": "watched-note", "title": "w", "content": "c"}})
            update = await events.next()
        assert update == {"jsonrpc": "2.0", "method": "notifications/resources/updated",
                          "params": {"uri": "notes://watched-note"}}


async def test_body_over_the_limit_is_413(make_server):
    small = make_server(MCP_MAX_MESSAGE_BYTES="2048")
    small.wait_ready()
    async with RawHttp(small.http_url) as client:
        await client.initialize()
        big = await client.post({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "a" * 4096}})
        assert big.status_code == 413 and "2048" in big.json()["error"]["message"]
        ok = await client.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert ok.status_code == 200


async def test_auth_host_origin(server):
    async with RawHttp(server.http_url, token=None) as client:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT_PARAMS}
        unauthorized = await client.post(init)
        assert unauthorized.status_code == 401
        assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer")
    async with RawHttp(server.http_url) as client:
        assert (await client.post(init, Host="evil.example.com")).status_code == 421
        assert (await client.post(init, Origin="http://evil.example.com")).status_code == 403
        assert (await client.post(init, Origin=f"http://localhost:{server.port}")).status_code == 200


async def test_rate_limit_answers_429(make_server):
    limited = make_server(MCP_RATE_LIMIT="1", MCP_RATE_BURST="3")
    limited.wait_ready()
    async with RawHttp(limited.http_url) as client:
        await client.initialize()
        statuses = [(await client.post({"jsonrpc": "2.0", "id": i, "method": "ping"})).status_code for i in range(6)]
        assert 429 in statuses and statuses[0] == 200
    # Stateless 2026-07-28 requests have no session: their bucket is the connection's.
    async with ModernHttp(limited.http_url) as client:
        answers = [await client.post("tools/list", request_id=i) for i in range(6)]
        assert answers[0][0].status_code == 200
        limited_answer = next(messages for response, messages in answers if response.status_code == 429)
        assert limited_answer[0]["error"]["code"] == -32000 and limited_answer[0]["id"] is not None


async def test_concurrent_posts_on_one_session(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        results = await asyncio.gather(*(client.request("tools/list") for _ in range(5)))
        assert all(r.status_code == 200 and "tools" in m[0]["result"] for r, m in results)


async def test_health_ready_metrics(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        await client.request("tools/call", {"name": "test_simple_text"})
        await client.request("no/such/method")
    async with httpx.AsyncClient() as http:
        health = (await http.get(f"{server.base}/health")).json()
        assert health["status"] == "ok" and health["instance"]
        ready = (await http.get(f"{server.base}/ready")).json()
        assert ready["status"] == "ready" and ready["database"] == "ok"
        text = (await http.get(f"{server.metrics_base}/metrics")).text
    for name in ("mcp_open_connections", "mcp_messages_total", "mcp_tool_calls_total",
                 "mcp_tool_call_duration_seconds_bucket", "mcp_errors_total"):
        assert name in text
    assert 'mcp_tool_calls_total{outcome="ok",tool="test_simple_text"}' in text
    assert 'mcp_errors_total{code="method_not_found"}' in text


async def test_a_lost_stream_resumes_with_last_event_id(server):
    async with RawHttp(server.http_url) as client:
        await client.initialize()
        await client.request("logging/setLevel", {"level": "info"})
        body = {"jsonrpc": "2.0", "id": 31, "method": "tools/call",
                "params": {"name": "test_tool_with_logging", "arguments": {}}}
        last_id = None
        async with client.client.stream("POST", server.http_url, content=json.dumps(body),
                                        headers=client.headers()) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("id: "):
                    last_id = line[4:]
                if line.startswith("data: ") and line[6:].strip():
                    break  # the first log message: now drop the connection
        assert last_id and not last_id.endswith(".0")
        resumed = await client.client.get(server.http_url, headers=client.headers(**{
            "Accept": "text/event-stream", "Last-Event-ID": last_id}))
        assert resumed.status_code == 200
        messages = [json.loads(line[6:]) for line in resumed.text.splitlines()
                    if line.startswith("data: ") and line[6:].strip()]
        assert [m.get("method") for m in messages[:-1]] == ["notifications/message"] * 2
        assert messages[-1]["id"] == 31 and "result" in messages[-1]
        # A stream this replica does not hold: the session lives on (404 is only for an ended session).
        unknown = await client.client.get(server.http_url, headers=client.headers(**{
            "Accept": "text/event-stream", "Last-Event-ID": "pnope.3"}))
        assert unknown.status_code == 409 and "send the request again" in unknown.json()["error"]["message"]


async def test_a_2025_03_26_batch_delivers_its_sampling_request_and_counts_its_answers(server):
    async with RawHttp(server.http_url) as client:
        response = await client.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                      "params": {**INIT_PARAMS, "protocolVersion": "2025-03-26"}})
        client.session_id = response.headers["Mcp-Session-Id"]
        before = await _messages_out(server)
        batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                 {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                  "params": {"name": "test_sampling", "arguments": {"prompt": "in a batch"}}}]
        async with client.client.stream("POST", client.url, content=json.dumps(batch),
                                        headers=client.headers(**{"MCP-Protocol-Version": "2025-03-26"})) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            events = SseReader(stream)
            request = await events.next()
            assert request["method"] == "sampling/createMessage"
            answer = await client.post({"jsonrpc": "2.0", "id": request["id"], "result": {
                "role": "assistant", "content": {"type": "text", "text": "batched"}, "model": "m"}},
                **{"MCP-Protocol-Version": "2025-03-26"})
            assert answer.status_code == 202
            answers = await events.next()
        assert sorted(a["id"] for a in answers) == [1, 2]
        assert answers[[a["id"] for a in answers].index(2)]["result"]["content"][0]["text"] == "LLM response: batched"
        # The two answers and the request to the client went out as three messages.
        assert await _messages_out(server) - before == 3


async def _messages_out(server) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{server.metrics_base}/metrics")).text
    line = next(l for l in text.splitlines()
                if l.startswith('mcp_messages_total{direction="out",transport="streamable_http"}'))
    return float(line.split()[-1])
