"""Rate limits that hold across connections (guards.py): a principal's requests and messages counted
over all its connections, refused requests counted per client address, each answered 429 past its
bucket. Review finding (low): the limits were per connection or session only, so a new connection
started afresh, and unauthenticated requests, `/mcp/ticket` and `initialize` were not limited."""

from __future__ import annotations

import json

import httpx
import pytest

from support.clients import INIT_PARAMS, RawWebSocket
from support.processes import TEST_TOKEN

INITIALIZE = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT_PARAMS})
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post(server, token: str | None, path: str = "/mcp") -> httpx.Response:
    """One request on a connection of its own."""
    headers = {**HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    with httpx.Client(timeout=10) as client:
        return client.post(server.base + path, headers=headers, content=INITIALIZE)


def test_a_principal_is_limited_over_all_its_connections(make_server):
    server = make_server(MCP_PRINCIPAL_RATE_LIMIT="0.01", MCP_PRINCIPAL_RATE_BURST="3", MCP_RATE_LIMIT="0")
    server.wait_ready()
    statuses = [post(server, TEST_TOKEN).status_code for _ in range(3)]
    refused = post(server, TEST_TOKEN)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "per second for these credentials" in refused.json()["error"]["message"]
    assert post(server, TEST_TOKEN, "/mcp/ticket").status_code == 429  # tickets count too


@pytest.mark.anyio
async def test_websocket_messages_count_against_the_principal_across_connections(make_server):
    server = make_server(MCP_PRINCIPAL_RATE_LIMIT="0.01", MCP_PRINCIPAL_RATE_BURST="8", MCP_RATE_LIMIT="0")
    server.wait_ready()
    answers = []
    async with RawWebSocket(server.ws_url) as ws:
        await ws.initialize()
        while len(answers) < 20 and "error" not in (answers or [{}])[-1]:
            answers.append(await ws.request("ping"))
    assert 1 <= len(answers) < 8 and "result" in answers[0]
    assert answers[-1]["error"]["code"] == -32000 and "per principal" in answers[-1]["error"]["message"]
    assert post(server, TEST_TOKEN).status_code == 429  # a new connection does not start afresh


def test_refused_requests_are_limited_per_address_and_valid_credentials_are_not(make_server):
    server = make_server(MCP_REFUSED_RATE_LIMIT="0.01", MCP_REFUSED_RATE_BURST="3")
    server.wait_ready()
    assert [post(server, "wrong-token-0123456789").status_code for _ in range(3)] == [401, 401, 401]
    over = post(server, None)
    assert over.status_code == 429 and over.headers["Retry-After"] == "5" and over.headers["Connection"] == "close"
    assert "too many refused requests" in over.json()["error"]["message"]
    assert post(server, TEST_TOKEN).status_code == 200  # another client behind the same address
