"""web_search against a real HTTP provider on loopback, with the cache in FerretDB."""

from __future__ import annotations

import asyncio

import pytest

from support.clients import RawWebSocket
from support.search_provider import SearchProvider

pytestmark = pytest.mark.anyio


async def test_not_configured_says_so(make_server):
    server = make_server()
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        result = await client.call("web_search", {"query": "mcp"})
    assert result["isError"] is True
    assert "MCP_WEB_SEARCH_URL" in result["content"][0]["text"]


async def test_results_are_cached_then_expire(make_server):
    with SearchProvider() as provider:
        server = make_server(MCP_WEB_SEARCH_URL=provider.url, MCP_WEB_SEARCH_CACHE_SECONDS="1", MCP_RATE_LIMIT="0")
        async with RawWebSocket(server.ws_url) as client:
            await client.initialize()
            first = (await client.call("web_search", {"query": "model context protocol", "max_results": 3}))
            assert first.get("isError") is not True, first
            data = first["structuredContent"]
            assert data["cached"] is False and len(data["results"]) == 3
            assert data["results"][0] == {"title": "Result 0 for model context protocol",
                                          "url": "http://127.0.0.1/r/0", "snippet": "snippet 0"}
            second = (await client.call("web_search", {"query": "model context protocol", "max_results": 3}))
            assert second["structuredContent"]["cached"] is True
            assert second["structuredContent"]["results"] == data["results"]
            assert provider.queries == ["model context protocol"]
            fresh = await client.call("web_search", {"query": "model context protocol", "max_results": 3, "fresh": True})
            assert fresh["structuredContent"]["cached"] is False and len(provider.queries) == 2
            await asyncio.sleep(1.2)
            expired = await client.call("web_search", {"query": "model context protocol", "max_results": 3})
            assert expired["structuredContent"]["cached"] is False and len(provider.queries) == 3


@pytest.mark.parametrize("mode,fragment", [("error", "HTTP 502"), ("garbage", "not SearxNG-style JSON")])
async def test_provider_failures_are_tool_errors(make_server, mode, fragment):
    with SearchProvider(mode) as provider:
        server = make_server(MCP_WEB_SEARCH_URL=provider.url)
        async with RawWebSocket(server.ws_url) as client:
            await client.initialize()
            result = await client.call("web_search", {"query": "q"})
    assert result["isError"] is True and fragment in result["content"][0]["text"]


async def test_unreachable_provider(make_server):
    from support.processes import free_port
    server = make_server(MCP_WEB_SEARCH_URL=f"http://127.0.0.1:{free_port()}/search",
                         MCP_WEB_SEARCH_TIMEOUT_SECONDS="2")
    async with RawWebSocket(server.ws_url) as client:
        await client.initialize()
        result = await client.call("web_search", {"query": "q"})
    assert result["isError"] is True and "could not be reached" in result["content"][0]["text"]


def test_bad_setting_fails_at_start(mongodb_uri):
    from support.processes import McpServerProcess
    server = McpServerProcess(mongodb_uri, "unused", MCP_WEB_SEARCH_URL="ftp://nope")
    with pytest.raises(RuntimeError, match="exited with 2"):
        server.start()
    assert "MCP_WEB_SEARCH_URL: expected an http:// or https:// URL" in server.log()
