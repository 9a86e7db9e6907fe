"""The notes tools, resources and prompts on a real MongoDB-wire server (FerretDB)."""

from __future__ import annotations

import pytest

from support.clients import RawWebSocket

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(make_server):
    server = make_server(MCP_RATE_LIMIT="0")
    server.wait_ready()
    async with RawWebSocket(server.ws_url) as raw:
        await raw.initialize()
        yield raw


async def test_save_get_update_delete(client):
    saved = await client.call("save_note", {"title": "Kubernetes", "content": "Pods and services", "tags": ["k8s"]})
    note_id = saved["structuredContent"]["id"]
    assert saved["structuredContent"]["created"] is True
    got = (await client.call("get_note", {"id": note_id}))["structuredContent"]
    assert (got["title"], got["content"], got["tags"]) == ("Kubernetes", "Pods and services", ["k8s"])
    again = await client.call("save_note", {"id": note_id, "title": "Kubernetes", "content": "Deployments"})
    assert again["structuredContent"]["created"] is False
    updated = (await client.call("get_note", {"id": note_id}))["structuredContent"]
    assert updated["content"] == "Deployments" and updated["created_at"] == got["created_at"]
    deleted = await client.call("delete_note", {"id": note_id})
    assert deleted["structuredContent"] == {"id": note_id, "deleted": True}
    missing = await client.call("get_note", {"id": note_id})
    assert missing["isError"] is True and note_id in missing["content"][0]["text"]
    assert (await client.call("delete_note", {"id": note_id}))["structuredContent"]["deleted"] is False


async def test_structured_content_matches_text(client):
    import json
    saved = await client.call("save_note", {"title": "t", "content": "c"})
    assert json.loads(saved["content"][0]["text"]) == saved["structuredContent"]


async def test_list_pages_through_everything_newest_first(client):
    for i in range(7):
        await client.call("save_note", {"id": f"page-{i}", "title": f"Note {i}", "content": "x", "tags": ["paged"]})
    seen, cursor = [], None
    while True:
        args = {"limit": 3, "tag": "paged"}
        if cursor:
            args["cursor"] = cursor
        page = (await client.call("list_notes", args))["structuredContent"]
        seen += [n["id"] for n in page["notes"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"page-{i}" for i in reversed(range(7))]
    bad = await client.call("list_notes", {"cursor": "bm90LWEtY3Vyc29y"})
    assert bad["isError"] is True and "cursor" in bad["content"][0]["text"]


async def test_search_matches_every_word_by_prefix_and_ranks(client):
    await client.call("save_note", {"id": "s1", "title": "Rolling updates", "content": "Kubernetes rolls pods gradually"})
    await client.call("save_note", {"id": "s2", "title": "Kubernetes networking",
                                    "content": "Kubernetes services, kubernetes DNS"})
    await client.call("save_note", {"id": "s3", "title": "Cooking", "content": "Rolling pasta dough"})
    hits = (await client.call("search_notes", {"query": "kube"}))["structuredContent"]["results"]
    assert [h["id"] for h in hits] == ["s2", "s1"]
    both = (await client.call("search_notes", {"query": "rolling kubernetes"}))["structuredContent"]["results"]
    assert [h["id"] for h in both] == ["s1"]
    assert "Kubernetes" in both[0]["snippet"]
    nothing = (await client.call("search_notes", {"query": "zebra"}))["structuredContent"]["results"]
    assert nothing == []
    symbols = await client.call("search_notes", {"query": "?!"})
    assert symbols["isError"] is True


async def test_search_treats_regex_characters_literally(client):
    await client.call("save_note", {"id": "re1", "title": "a.b", "content": "plain"})
    hits = (await client.call("search_notes", {"query": ".*"}))
    assert hits["isError"] is True  # no words in ".*"; it is not a pattern that matches everything


async def test_notes_are_resources(client):
    await client.call("save_note", {"id": "res-1", "title": "Resource note", "content": "Body text"})
    listed, cursor = [], None
    while True:
        reply = await client.request("resources/list", {"cursor": cursor} if cursor else {})
        listed += [r["uri"] for r in reply["result"]["resources"]]
        cursor = reply["result"].get("nextCursor")
        if not cursor:
            break
    assert "notes://res-1" in listed
    read = (await client.request("resources/read", {"uri": "notes://res-1"}))["result"]["contents"][0]
    assert read["mimeType"] == "text/markdown" and read["text"].startswith("# Resource note")
    templates = (await client.request("resources/templates/list"))["result"]["resourceTemplates"]
    assert {"uriTemplate": "notes://{id}"}.items() <= templates[0].items()
    missing = await client.request("resources/read", {"uri": "notes://nope"})
    assert missing["error"]["code"] == -32002


async def test_prompts_and_completion(client):
    await client.call("save_note", {"id": "prompt-note", "title": "P", "content": "Summarize me"})
    prompts = {p["name"] for p in (await client.request("prompts/list"))["result"]["prompts"]}
    assert {"summarize_note", "research_topic"} <= prompts
    got = (await client.request("prompts/get", {"name": "summarize_note", "arguments": {"id": "prompt-note"}}))
    messages = got["result"]["messages"]
    assert messages[1]["content"]["type"] == "resource"
    assert "Summarize me" in messages[1]["content"]["resource"]["text"]
    missing_arg = await client.request("prompts/get", {"name": "summarize_note", "arguments": {}})
    assert missing_arg["error"]["code"] == -32602 and "id" in missing_arg["error"]["message"]
    done = await client.request("completion/complete", {
        "ref": {"type": "ref/prompt", "name": "summarize_note"}, "argument": {"name": "id", "value": "prompt-"}})
    assert done["result"]["completion"]["values"] == ["prompt-note"]
    by_template = await client.request("completion/complete", {
        "ref": {"type": "ref/resource", "uri": "notes://{id}"}, "argument": {"name": "id", "value": "prompt"}})
    assert "prompt-note" in by_template["result"]["completion"]["values"]


async def test_database_down_gives_a_clear_tool_error(make_server):
    from support.clients import RawWebSocket as Raw
    server = make_server(MONGODB_URI="mongodb://127.0.0.1:9/", MONGODB_TIMEOUT_MS="300")
    async with Raw(server.ws_url) as raw:
        await raw.initialize()
        result = await raw.call("save_note", {"title": "t", "content": "c"})
        assert result["isError"] is True
        assert "database is unavailable" in result["content"][0]["text"]
        assert (await raw.request("ping"))["result"] == {}
    import httpx
    async with httpx.AsyncClient() as http:
        ready = await http.get(f"{server.base}/ready")
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"


async def test_concurrent_saves_of_a_new_id_all_succeed(make_server):
    """Upserts of the same new id race: all but one insert fail with a duplicate key (MongoDB
    retries some of those itself, FerretDB none); save_note must retry, not report the database
    as unavailable (found by the soak, bench/README.md)."""
    import asyncio
    from contextlib import AsyncExitStack
    server = make_server(MCP_RATE_LIMIT="0")
    server.wait_ready()
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(RawWebSocket(server.ws_url)) for _ in range(8)]
        for raw in clients:
            await raw.initialize()
        for round_ in range(10):
            note_id = f"race-{round_}"
            results = await asyncio.gather(*(raw.call("save_note", {"id": note_id, "title": "t", "content": f"by {i}"})
                                             for i, raw in enumerate(clients)))
            failed = [r["content"][0]["text"] for r in results if r.get("isError")]
            assert not failed, failed
            assert {r["structuredContent"]["id"] for r in results} == {note_id}
