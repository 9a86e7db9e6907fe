"""MCP authorization on the cluster: Keycloak, deployed by the keycloak role in the stack's namespace,
issues the access tokens; the server (inventories/local: server_auth_mode both) takes them beside its
static token, with the signing keys fetched from Keycloak's pods (the server's NetworkPolicy lets
it reach them, and nothing else of Keycloak's is reached from the server)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time

import httpx
import pytest
import websockets

from conftest import NODE, REPO, SDK2_PYTHON, kget, kubectl, secret, wait_ready

ISSUER = "http://10.99.0.1:30808/realms/mcp"  # inventories/local: keycloak_hostname, keycloak_node_port
RESOURCE = f"http://{NODE}/mcp"                # inventories/local: server_oauth_resource
METADATA_URL = f"http://{NODE}/.well-known/oauth-protected-resource/mcp"
CLIENT_ID = "mcp-agent"
READ, WRITE = "mcp:read", "mcp:write"
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "cluster-oauth-test", "version": "1"}}


@pytest.fixture(scope="module")
def client_secret() -> str:
    wait_ready("deployment", "keycloak")
    return secret("keycloak-clients", CLIENT_ID)


def wait_keycloak_answers(timeout: float = 240) -> None:
    """Until the realm's metadata is served through the node port (a new pod's endpoint is in place)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"Keycloak did not answer at {ISSUER} within {timeout} s"
        time.sleep(1)


def access_token(client_secret: str, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": client_secret}
    if scope:
        form["scope"] = scope
    answer = httpx.post(f"{ISSUER}/protocol/openid-connect/token", data=form, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def modern_call(token: str | None, tool: str, arguments: dict) -> httpx.Response:
    """One stateless 2026-07-28 tools/call over Streamable HTTP."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": tool}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments, "_meta": META}}
    return httpx.post(RESOURCE, json=body, headers=headers, timeout=30)


def test_keycloak_names_the_issuer_the_server_expects(client_secret):
    discovery = httpx.get(f"{ISSUER}/.well-known/openid-configuration", timeout=30).json()
    assert discovery["issuer"] == ISSUER
    metadata = httpx.get(METADATA_URL, timeout=10).json()
    assert metadata["resource"] == RESOURCE and metadata["authorization_servers"] == [ISSUER]
    assert metadata["scopes_supported"] == [READ, WRITE]


def test_a_request_without_a_token_is_challenged_with_the_metadata():
    refused = modern_call(None, "get_note", {"id": "x"})
    assert refused.status_code == 401
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and f'resource_metadata="{METADATA_URL}"' in challenge, challenge


def test_a_keycloak_token_calls_tools_over_http_and_websocket(client_secret):
    token = access_token(client_secret, f"{READ} {WRITE}")
    saved = modern_call(token, "save_note", {"id": "cluster-oauth", "title": "OAuth", "content": "from Keycloak"})
    assert saved.status_code == 200 and not saved.json()["result"].get("isError"), saved.text

    async def read_back() -> dict:
        async with websockets.connect(f"ws://{NODE}/mcp", subprotocols=["mcp"],
                                      additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
                "name": "get_note", "arguments": {"id": "cluster-oauth"}, "_meta": META}}))
            return json.loads(await ws.recv())

    reply = asyncio.run(read_back())
    assert reply["result"]["structuredContent"]["content"] == "from Keycloak", reply


def test_a_token_without_the_write_scope_is_refused_a_write(client_secret):
    token = access_token(client_secret)  # the client's default scopes: read only
    assert modern_call(token, "get_note", {"id": "cluster-oauth"}).status_code == 200
    refused = modern_call(token, "save_note", {"id": "cluster-oauth", "title": "No", "content": "no write scope"})
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"], refused.headers


def test_a_keycloak_restart_rotates_the_keys_and_the_server_follows(client_secret):
    """Keycloak keeps its realm in memory: a new pod signs with new keys, which the server fetches
    when it meets a token with a key id it does not know (no restart of the server)."""
    before = access_token(client_secret)
    pod = kget("pods", "-l", "app.kubernetes.io/name=keycloak")["items"][0]["metadata"]["name"]
    kubectl("delete", "pod", pod, "--wait=true", timeout=120)
    wait_keycloak_answers()
    after = access_token(client_secret)
    assert modern_call(after, "get_note", {"id": "cluster-oauth"}).status_code == 200, f"after {pod} was replaced"
    assert modern_call(before, "get_note", {"id": "cluster-oauth"}).status_code == 401  # its key is gone


def test_sdk2_client_credentials_find_keycloak_through_the_servers_metadata(client_secret):
    out = subprocess.run([SDK2_PYTHON, str(REPO / "app/tests/sdk2/oauth_client.py"), RESOURCE, CLIENT_ID, ISSUER],
                         capture_output=True, text=True, timeout=180,
                         env={**os.environ, "MCP_CLIENT_SECRET": client_secret})
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["saved"]["id"] == "sdk2-oauth" and seen["got"]["content"] == "client credentials"
    assert f"GET {METADATA_URL}" in seen["requests"]
    assert f"POST {ISSUER}/protocol/openid-connect/token" in seen["requests"]
