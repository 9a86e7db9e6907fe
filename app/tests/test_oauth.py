"""The server as an OAuth 2.1 resource server, against a real identity provider: Keycloak on loopback
(support/keycloak.py), started once for the session. Tokens come from Keycloak's token endpoint;
only the attacks (alg none, HMAC with the public key, another key, a tampered payload) are forged."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mcp_server.auth import Authenticator, Principal
from mcp_server.config import ConfigError, Settings
from mcp_server.tickets import MemoryTickets
from support.clients import INIT_PARAMS, ModernHttp, RawHttp, RawWebSocket
from support.keycloak import READ_SCOPE, WRITE_SCOPE, Keycloak
from support.processes import REPO, TEST_TOKEN, McpServerProcess, free_port

HERE = Path(__file__).parent
FORBIDDEN = -32004


@dataclasses.dataclass
class Idp:
    keycloak: Keycloak
    server: McpServerProcess

    @property
    def metadata_url(self) -> str:
        return f"{self.server.base}/.well-known/oauth-protected-resource/mcp"


def oauth_env(keycloak: Keycloak, resource: str, mode: str = "oauth") -> dict[str, str]:
    return {"MCP_AUTH_MODE": mode, "MCP_OAUTH_ISSUER": keycloak.issuer, "MCP_OAUTH_RESOURCE": resource,
            "MCP_OAUTH_CLOCK_SKEW_SECONDS": "1", "MCP_OAUTH_JWKS_MIN_INTERVAL_SECONDS": "0.2",
            "MCP_CONFORMANCE_FIXTURES": "true", "MCP_RATE_LIMIT": "0", "MCP_REFUSED_RATE_LIMIT": "0"}


@pytest.fixture(scope="session")
def idp(mongodb_uri):
    """Keycloak with the realm for one MCP server in MCP_AUTH_MODE=oauth, and that server."""
    server = McpServerProcess(mongodb_uri, f"t_{uuid.uuid4().hex[:8]}")
    keycloak = Keycloak(server.http_url)
    server.env.update(oauth_env(keycloak, server.http_url))
    try:
        keycloak.start()
        print(f"\nKeycloak up with its realm in {keycloak.startup_seconds:.1f}s")
        server.start()
        server.wait_ready(60)
        yield Idp(keycloak, server)
    finally:
        server.stop()
        keycloak.stop()


def challenge(response_headers) -> dict[str, str]:
    value = response_headers["WWW-Authenticate"]
    assert value.startswith("Bearer "), value
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(header + "==")), json.loads(base64.urlsafe_b64decode(payload + "==")))


def unsigned(token: str) -> str:
    _, payload = parts(token)
    return f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64(json.dumps(payload).encode())}."


def hmac_with_public_key(token: str, jwks: dict) -> str:
    """HS256 keyed with the issuer's public key (PEM), the classic algorithm-confusion attack."""
    header, payload = parts(token)
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"])).key
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': header['kid']}).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"


def other_key(token: str) -> str:
    header, payload = parts(token)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload, private, algorithm="RS256", headers={"kid": header["kid"]})


def tampered(token: str) -> str:
    """The real signature over a changed payload (one more scope)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = f"{claims.get('scope', '')} admin".strip()
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


async def http_call(url: str, token: str, tool: str, arguments: dict, era: str) -> tuple[httpx.Response, dict | None]:
    """One tools/call over Streamable HTTP in `era` (2025: initialize first); the response and its message."""
    if era == "2026":
        async with ModernHttp(url, token) as client:
            response, messages = await client.post("tools/call", {"name": tool, "arguments": arguments})
    else:
        async with RawHttp(url, token) as client:
            init = await client.initialize()
            if init.status_code != 200:
                return init, None
            response, messages = await client.request("tools/call", {"name": tool, "arguments": arguments})
    return response, (messages[-1] if messages else None)


async def ws_call(url: str, token: str | None, tool: str, arguments: dict, era: str, **connect) -> dict:
    async with RawWebSocket(url, token, **connect) as client:
        if era == "2026":
            return await client.modern("tools/call", {"name": tool, "arguments": arguments})
        await client.initialize()
        return await client.request("tools/call", {"name": tool, "arguments": arguments})


# --- metadata and challenges ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"])
def test_protected_resource_metadata(idp, path):
    response = httpx.get(idp.server.base + path)
    assert response.status_code == 200
    assert response.json() == {
        "resource": idp.server.http_url, "authorization_servers": [idp.keycloak.issuer],
        "scopes_supported": [READ_SCOPE, WRITE_SCOPE], "bearer_methods_supported": ["header"],
        "resource_name": "kringen MCP server"}


def test_metadata_is_not_served_with_static_tokens(server):
    assert httpx.get(f"{server.base}/.well-known/oauth-protected-resource/mcp").status_code == 404


@pytest.mark.anyio
async def test_no_token_is_challenged_with_the_metadata_on_http_and_websocket(idp):
    response, _ = await http_call(idp.server.http_url, "", "get_note", {"id": "x"}, "2026")
    assert response.status_code == 401
    assert challenge(response.headers) == {"resource_metadata": idp.metadata_url, "scope": f"{READ_SCOPE} {WRITE_SCOPE}"}
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ws_call(idp.server.ws_url, None, "get_note", {"id": "x"}, "2026")
    assert refused.value.response.status_code == 401
    assert challenge(refused.value.response.headers)["resource_metadata"] == idp.metadata_url


# --- valid tokens: both grants, both transports, both eras ----------------------------------------

@pytest.mark.anyio
@pytest.mark.parametrize("era", ["2025", "2026"])
@pytest.mark.parametrize("grant", ["client_credentials", "password"])
async def test_a_valid_token_works_on_both_transports(idp, era, grant):
    token = idp.keycloak.token() if grant == "client_credentials" else idp.keycloak.user_token()
    note = f"oauth-{era}-{grant}"
    response, message = await http_call(idp.server.http_url, token, "save_note",
                                        {"id": note, "title": "OAuth", "content": f"{era} {grant}"}, era)
    assert response.status_code == 200 and not message["result"].get("isError"), message
    reply = await ws_call(idp.server.ws_url, token, "get_note", {"id": note}, era)
    assert reply["result"]["structuredContent"]["content"] == f"{era} {grant}"
    assert token not in idp.server.log()


@pytest.mark.anyio
async def test_a_2025_session_belongs_to_the_principal_that_opened_it(idp):
    async with RawHttp(idp.server.http_url, idp.keycloak.user_token()) as alice:
        assert (await alice.initialize()).status_code == 200
        response, _ = await alice.request("tools/list")
        assert response.status_code == 200
        async with RawHttp(idp.server.http_url, idp.keycloak.token()) as agent:
            agent.session_id = alice.session_id  # a valid token of another principal, her session's id
            response, _ = await agent.request("tools/list")
            assert response.status_code == 404
        response, _ = await alice.request("tools/list")
        assert response.status_code == 200


@pytest.mark.anyio
async def test_a_websocket_whose_token_expires_is_closed_at_its_next_message(idp):
    token = idp.keycloak.token("mcp-short")  # lives 4 s (room for a busy machine to open the session); 1 s of skew
    async with RawWebSocket(idp.server.ws_url, token) as client:
        await client.initialize()
        await asyncio.sleep(max(0.0, parts(token)[1]["exp"] + 1.5 - time.time()))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.request("tools/list")
    assert closed.value.rcvd.code == 1008 and "expired" in closed.value.rcvd.reason


# --- tokens that must be refused ------------------------------------------------------------------

def bad_token(kind: str, keycloak: Keycloak) -> str:
    if kind == "expired":
        token = keycloak.token("mcp-short")  # lives 4 s; the server allows 1 s of skew
        time.sleep(max(0.0, parts(token)[1]["exp"] + 2.5 - time.time()))
        return token
    if kind == "wrong_audience":
        return keycloak.token("other-service", scope=None)
    if kind == "wrong_issuer":  # Keycloak names the issuer after the host it is reached by
        return keycloak.token(base=f"http://localhost:{keycloak.port}")
    real = keycloak.token()
    return {"tampered": tampered, "unsigned": unsigned, "other_key": other_key,
            "hmac_with_public_key": lambda t: hmac_with_public_key(t, keycloak.jwks())}[kind](real)


REFUSED = {"expired": "token expired", "wrong_audience": "not meant for this resource",
           "wrong_issuer": "another issuer", "tampered": "bad signature", "other_key": "bad signature",
           "unsigned": "algorithm is not accepted", "hmac_with_public_key": "algorithm is not accepted"}


@pytest.mark.anyio
@pytest.mark.parametrize("kind", sorted(REFUSED))
async def test_bad_tokens_are_refused_on_both_transports(idp, kind):
    token = bad_token(kind, idp.keycloak)
    for era in ("2025", "2026"):
        response, _ = await http_call(idp.server.http_url, token, "get_note", {"id": "x"}, era)
        assert response.status_code == 401, (era, response.text)
        said = challenge(response.headers)
        assert said["error"] == "invalid_token" and said["resource_metadata"] == idp.metadata_url
        assert REFUSED[kind] in said["error_description"], said
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ws_call(idp.server.ws_url, token, "get_note", {"id": "x"}, "2026")
    assert refused.value.response.status_code == 401
    assert challenge(refused.value.response.headers)["error"] == "invalid_token"
    assert token not in idp.server.log()


def forged(header: dict, claims: dict, key=None) -> str:
    """A token with any header and claims, signed with `key` (RS256) or not at all."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if key is None:
        return signing_input + "." + b64(b"x" * 256)
    return jwt.encode(claims, key, algorithm="RS256", headers={k: v for k, v in header.items() if k != "alg"})


ODD_HEADERS = {"non_ascii_alg": {"alg": "\u20ac", "typ": "JWT"}, "list_alg": {"alg": ["RS256"], "typ": "JWT"},
               "object_alg": {"alg": {"RS256": 1}}, "number_kid": {"alg": "RS256", "kid": 7}}


@pytest.mark.anyio
@pytest.mark.parametrize("kind", sorted(ODD_HEADERS))
async def test_a_token_with_an_odd_header_is_answered_401_at_once(idp, kind):
    """Review findings: `{"alg":"\u20ac"}` was copied into WWW-Authenticate, whose encoding failed and left
    the request unanswered with its socket open for good; a list-valued alg gave a 500 and a traceback."""
    token = forged(ODD_HEADERS[kind], {"sub": "x", "exp": int(time.time()) + 60})
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(idp.server.http_url, headers={"Authorization": f"Bearer {token}",
                                     "Accept": "application/json, text/event-stream", "Content-Type": "application/json"},
                                     content=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                                         "params": INIT_PARAMS}))
    assert response.status_code == 401
    value = response.headers["WWW-Authenticate"]
    assert all(" " <= c <= "~" for c in value) and "\u20ac" not in value
    assert challenge(response.headers)["error"] == "invalid_token"
    log = idp.server.log()
    assert "Traceback" not in log and token not in log


def verifier_with_own_key():
    """A JwtVerifier whose issuer's keys are one RSA key of the test's (loaded as a JWKS would be)."""
    from mcp_server.oauth import IssuerKeys, JwtVerifier, parse_jwks
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    keys = IssuerKeys("https://issuer.test", "https://issuer.test/jwks", 300, 10)
    keys.load(parse_jwks({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    return JwtVerifier(keys, "https://mcp.test/mcp", 0), private


@pytest.mark.parametrize("claim, value, refusal", [
    ("exp", "99999999999", "the 'exp' claim is not a number"), ("nbf", "0", "the 'nbf' claim is not a number"),
    ("exp", True, "token expired"), ("iat", [1], "invalid token")])
def test_a_time_claim_that_is_not_a_number_is_refused(claim, value, refusal):
    """Review finding: a string `exp` was accepted (PyJWT reads numeric strings), and a WebSocket opened
    with it never expired. PyJWT itself refuses the other shapes."""
    from mcp_server.oauth import InvalidToken
    verifier, private = verifier_with_own_key()
    claims = {"iss": "https://issuer.test", "aud": "https://mcp.test/mcp", "sub": "u", "exp": int(time.time()) + 60}
    assert verifier.verify(forged({"alg": "RS256", "kid": "k1"}, claims, private))["sub"] == "u"
    with pytest.raises(InvalidToken, match=refusal):
        verifier.verify(forged({"alg": "RS256", "kid": "k1"}, {**claims, claim: value}, private))


def test_a_challenge_header_holds_printable_ascii_only():
    auth = Authenticator("oauth", None, verifier_with_own_key()[0], MemoryTickets(), "r", "w", "https://mcp.test/mcp",
                         30, lambda name: None)
    from mcp_server.auth import Challenge
    value = auth.www_authenticate(Challenge(401, "invalid_token", 'Unauthorized: "\u20ac\r\nX: y\\', "invalid_token"))
    assert all(" " <= c <= "~" for c in value) and 'error_description="Unauthorized: ????X: y?"' in value


# --- scopes ---------------------------------------------------------------------------------------

@pytest.mark.anyio
@pytest.mark.parametrize("era", ["2025", "2026"])
async def test_a_tool_needing_a_scope_the_token_lacks_is_403_insufficient_scope(idp, era):
    reader = idp.keycloak.token(scope=None)  # the client's default scope only: mcp:read
    assert parts(reader)[1]["scope"] == READ_SCOPE
    response, message = await http_call(idp.server.http_url, reader, "save_note",
                                        {"id": "no-write", "title": "t", "content": "c"}, era)
    assert response.status_code == 403
    assert challenge(response.headers) | {"error_description": ""} == {
        "error": "insufficient_scope", "scope": WRITE_SCOPE, "resource_metadata": idp.metadata_url,
        "error_description": ""}
    assert message["error"]["code"] == FORBIDDEN
    response, message = await http_call(idp.server.http_url, reader, "list_notes", {}, era)
    assert response.status_code == 200 and "notes" in message["result"]["structuredContent"]
    refused = await ws_call(idp.server.ws_url, reader, "delete_note", {"id": "no-write"}, era)
    assert refused["error"]["code"] == FORBIDDEN
    assert refused["error"]["data"]["error"] == "insufficient_scope" and refused["error"]["data"]["scope"] == WRITE_SCOPE
    allowed = await ws_call(idp.server.ws_url, reader, "search_notes", {"query": "oauth"}, era)
    assert "result" in allowed


def test_which_scope_each_request_needs():
    read_only = {"get_note": True, "save_note": False}
    auth = Authenticator("oauth", None, None, MemoryTickets(), "r", "w", "http://127.0.0.1/mcp", 30, read_only.get)

    def call(name):
        return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}}

    assert [auth.needed_scope(call(n)) for n in ("get_note", "save_note", "no_such_tool")] == ["r", "w", None]
    assert [auth.needed_scope({"method": m}) for m in ("resources/read", "prompts/get", "tools/list", "initialize",
                                                       ["odd"])] == ["r", "r", None, None, None]
    reader = Principal("someone", frozenset({"r"}), time.time() + 60)
    assert auth.scope_challenge(reader, [call("get_note"), {"method": "tools/list"}]) is None
    refused = auth.scope_challenge(reader, [call("get_note"), call("save_note")])
    assert (refused.status, refused.error, refused.scope) == (403, "insufficient_scope", "w")
    assert auth.scope_challenge(Principal("someone", frozenset({"r", "w"}), time.time() - 1), call("get_note")).status == 401


# --- key rotation ---------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_key_rotated_at_the_idp_is_picked_up_without_a_restart(idp):
    before = idp.keycloak.token()
    old_kid = parts(before)[0]["kid"]
    response, _ = await http_call(idp.server.http_url, before, "list_notes", {}, "2026")
    assert response.status_code == 200
    pid = idp.server.proc.pid
    idp.keycloak.rotate_signing_key()
    after = idp.keycloak.token()
    assert parts(after)[0]["kid"] != old_kid
    assert old_kid not in {k["kid"] for k in idp.keycloak.jwks()["keys"]}
    time.sleep(0.3)  # past MCP_OAUTH_JWKS_MIN_INTERVAL_SECONDS
    response, message = await http_call(idp.server.http_url, after, "list_notes", {}, "2026")
    assert response.status_code == 200, response.text
    reply = await ws_call(idp.server.ws_url, after, "list_notes", {}, "2025")
    assert "result" in reply
    # The keys were fetched again: the removed key's tokens are refused now.
    response, _ = await http_call(idp.server.http_url, before, "list_notes", {}, "2026")
    assert response.status_code == 401 and "unknown key" in challenge(response.headers)["error_description"]
    assert idp.server.proc.pid == pid and idp.server.proc.poll() is None


# --- modes and readiness --------------------------------------------------------------------------

@pytest.mark.anyio
async def test_both_mode_takes_static_tokens_and_access_tokens(idp, make_server):
    server = make_server(**oauth_env(idp.keycloak, idp.server.http_url, mode="both"))
    server.wait_ready(30)
    for token in (TEST_TOKEN, idp.keycloak.token()):
        response, message = await http_call(server.http_url, token, "list_notes", {}, "2026")
        assert response.status_code == 200, response.text
    response, _ = await http_call(server.http_url, "not-a-token", "list_notes", {}, "2026")
    assert response.status_code == 401 and challenge(response.headers)["error"] == "invalid_token"


def with_dead_issuer(make_server, mode: str) -> tuple[McpServerProcess, httpx.Response, str]:
    """A server in `mode` whose issuer does not answer, once it has tried to fetch the keys: the
    server, its /ready answer, and a token signed for that issuer by a key nobody published."""
    dead = f"http://127.0.0.1:{free_port()}/realms/mcp"
    server = make_server(MCP_AUTH_MODE=mode, MCP_OAUTH_ISSUER=dead, MCP_OAUTH_RESOURCE="http://127.0.0.1/mcp")
    deadline = time.monotonic() + 10
    while (ready := httpx.get(f"{server.base}/ready")).json().get("auth") == "keys not fetched yet":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    forged = jwt.encode({"iss": dead, "aud": "http://127.0.0.1/mcp", "exp": int(time.time()) + 60},
                        rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256")
    return server, ready, forged


@pytest.mark.anyio
async def test_unreachable_keys_make_the_server_unready_and_refuse_tokens(make_server):
    server, ready, forged = with_dead_issuer(make_server, "oauth")
    dead = server.env["MCP_OAUTH_ISSUER"]
    assert ready.status_code == 503
    assert ready.json()["auth"].startswith(f"cannot fetch the signing keys of {dead}")
    response, _ = await http_call(server.http_url, forged, "list_notes", {}, "2026")
    assert response.status_code == 503 and "cannot be checked" in response.json()["error"]["message"]
    assert "cannot fetch the signing keys" in server.log()


@pytest.mark.anyio
async def test_in_both_mode_unreachable_keys_leave_the_static_tokens_working(make_server):
    """An issuer outage does not take the server out of service when static tokens are a way in too:
    /ready stays 200 (and names the problem), static tokens are served, access tokens get 503."""
    server, ready, forged = with_dead_issuer(make_server, "both")
    assert ready.status_code == 200 and ready.json()["auth"].startswith("cannot fetch the signing keys")
    response, message = await http_call(server.http_url, TEST_TOKEN, "list_notes", {}, "2026")
    assert response.status_code == 200 and "result" in message, message
    response, _ = await http_call(server.http_url, forged, "list_notes", {}, "2026")
    assert response.status_code == 503


# --- tickets for clients that can set no header ----------------------------------------------------

def buy_ticket(server: McpServerProcess, token: str) -> dict:
    response = httpx.post(f"{server.http_url}/ticket", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.anyio
async def test_a_websocket_ticket_is_single_use_and_keeps_the_tokens_scopes(idp):
    assert httpx.post(f"{idp.server.http_url}/ticket").status_code == 401
    bought = buy_ticket(idp.server, idp.keycloak.token(scope=None))  # read only
    assert 0 < bought["expires_in"] <= 30 and bought["subprotocol"] == f"mcp-ticket.{bought['ticket']}"
    offer = ("mcp", bought["subprotocol"])
    async with RawWebSocket(idp.server.ws_url, None, subprotocols=offer) as client:
        assert client.ws.subprotocol == "mcp"
        await client.initialize()
        assert "result" in await client.request("tools/call", {"name": "list_notes", "arguments": {}})
        refused = await client.request("tools/call", {"name": "save_note",
                                                      "arguments": {"id": "t", "title": "t", "content": "c"}})
        assert refused["error"]["code"] == FORBIDDEN
    with pytest.raises(websockets.InvalidStatus) as again:
        await ws_call(idp.server.ws_url, None, "list_notes", {}, "2026", subprotocols=offer)
    assert again.value.response.status_code == 401
    assert "used or expired" in challenge(again.value.response.headers)["error_description"]
    assert bought["ticket"] not in idp.server.log()


def test_typescript_sdk_1_websocket_client_connects_with_a_ticket(idp):
    modules = subprocess.run(["bash", str(REPO / "hack/build/ts1-client.sh")], check=True, capture_output=True,
                             text=True).stdout.strip().splitlines()[-1]
    out = subprocess.run([f"{modules}/.bin/node", str(HERE / "ts1" / "ticket_ws.mjs"), modules, idp.server.ws_url,
                          f"{idp.server.http_url}/ticket"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MCP_ACCESS_TOKEN": idp.keycloak.token()})
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["server"] == "kringen-mcp-server" and seen["offered_mcp"] and seen["selected"] == "mcp"
    assert seen["saved"]["id"] == "ts1-note" and seen["got"]["content"] == "over a ticket"


# --- the official Python SDK 2.x client's OAuth ---------------------------------------------------

def test_sdk2_client_credentials_follow_our_metadata_to_keycloak(idp):
    python = os.environ.get("MCP_SDK2_PYTHON")
    if not python:
        pytest.fail("MCP_SDK2_PYTHON is not set: `make test-app` creates .venv-sdk2 with the SDK 2.x client")
    out = subprocess.run([python, str(HERE / "sdk2" / "oauth_client.py"), idp.server.http_url, "mcp-agent",
                          idp.keycloak.issuer], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MCP_CLIENT_SECRET": idp.keycloak.agent_secret})
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["saved"]["id"] == "sdk2-oauth" and seen["got"]["content"] == "client credentials"
    assert set(seen["granted_scope"].split()) >= {READ_SCOPE, WRITE_SCOPE}
    # It found the way itself: our 401, our metadata, Keycloak's metadata and token endpoint.
    assert f"GET {idp.metadata_url}" in seen["requests"]
    assert f"POST {idp.keycloak.token_endpoint}" in seen["requests"]


def test_oauth_settings_are_checked_at_start():
    with pytest.raises(ConfigError) as missing:
        Settings.from_env({"MCP_AUTH_MODE": "oauth"})
    assert "MCP_OAUTH_ISSUER: required" in str(missing.value) and "MCP_OAUTH_RESOURCE: required" in str(missing.value)
    assert "MCP_AUTH_TOKENS" not in str(missing.value)  # no static token needed in this mode
    settings = Settings.from_env({"MCP_AUTH_MODE": "oauth", "MCP_OAUTH_ISSUER": "https://idp.test/realms/mcp",
                                  "MCP_OAUTH_RESOURCE": "https://mcp.test/mcp"})
    assert (settings.oauth_read_scope, settings.oauth_write_scope) == ("mcp:read", "mcp:write")
    with pytest.raises(ConfigError, match="MCP_AUTH_TOKENS"):
        Settings.from_env({"MCP_AUTH_MODE": "both", "MCP_OAUTH_ISSUER": "https://idp.test/realms/mcp",
                           "MCP_OAUTH_RESOURCE": "https://mcp.test/mcp"})
