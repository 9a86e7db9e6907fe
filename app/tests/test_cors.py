"""Browser clients (CORS), for the origins the Origin allow-list admits: a preflight, which carries no
credentials, is answered from the allow-list alone; answers let a page read the MCP headers; an origin
outside the list is refused, preflight or not. Issue 22: the preflight was answered 401."""

from __future__ import annotations

import httpx
import pytest

from support.processes import TEST_TOKEN

PAGE = "https://app.example.com"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, mcp-param-region, x-other"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "page", "version": "1"}}}


@pytest.fixture(scope="module")
def browser_server(mongodb_uri):
    from support.processes import McpServerProcess
    proc = McpServerProcess(mongodb_uri, "cors", MCP_ALLOWED_ORIGINS=PAGE).start()
    proc.wait_ready()
    yield proc
    proc.stop()


def test_a_preflight_from_an_allowed_origin_is_answered_without_credentials(browser_server):
    for path in ("/mcp", "/mcp/ticket"):
        answer = httpx.options(browser_server.base + path, headers={"Origin": PAGE, **PREFLIGHT})
        assert answer.status_code == 204, answer.text
        assert answer.headers["Access-Control-Allow-Origin"] == PAGE and answer.headers["Vary"] == "Origin"
        allowed = {name.strip() for name in answer.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type", "mcp-protocol-version", "mcp-param-region"} <= allowed
        assert "x-other" not in allowed  # nothing but MCP's headers is named back
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def test_an_answer_to_an_allowed_origin_exposes_the_session_and_the_challenge(browser_server):
    opened = httpx.post(browser_server.http_url, json=INITIALIZE, headers={
        "Origin": PAGE, "Authorization": f"Bearer {TEST_TOKEN}", "Accept": "application/json, text/event-stream"})
    assert opened.status_code == 200 and opened.headers["Access-Control-Allow-Origin"] == PAGE
    assert "Mcp-Session-Id" in opened.headers["Access-Control-Expose-Headers"]
    challenged = httpx.post(browser_server.http_url, json=INITIALIZE, headers={"Origin": PAGE})
    assert challenged.status_code == 401 and challenged.headers["Access-Control-Allow-Origin"] == PAGE
    assert "WWW-Authenticate" in challenged.headers["Access-Control-Expose-Headers"]


def test_an_origin_outside_the_list_is_refused_preflight_or_not(browser_server):
    other = "https://evil.example.net"
    preflight = httpx.options(browser_server.http_url, headers={"Origin": other, **PREFLIGHT})
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    posted = httpx.post(browser_server.http_url, json=INITIALIZE,
                        headers={"Origin": other, "Authorization": f"Bearer {TEST_TOKEN}"})
    assert posted.status_code == 403 and "Access-Control-Allow-Origin" not in posted.headers
