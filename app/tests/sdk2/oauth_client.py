"""Runs under the official MCP Python SDK 2.x (its own virtualenv): its OAuth client-credentials
provider starts with no token, follows our 401 challenge to the protected-resource metadata, from
there to the authorization server (Keycloak), gets a token and calls tools. Prints one JSON object
of what it saw; test_oauth.py asserts on it.

usage: MCP_CLIENT_SECRET=... python oauth_client.py URL CLIENT_ID ISSUER
"""

import json
import os
import sys

import anyio
import httpx2
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def main(url: str, client_id: str, issuer: str) -> None:
    storage = MemoryStorage()
    provider = ClientCredentialsOAuthProvider(server_url=url, storage=storage, client_id=client_id,
                                              client_secret=os.environ["MCP_CLIENT_SECRET"], issuer=issuer)
    requests: list[str] = []

    async def record(request: httpx2.Request) -> None:
        requests.append(f"{request.method} {request.url.copy_with(query=None)}")

    http = create_mcp_http_client(auth=provider)
    http.event_hooks["request"].append(record)
    async with http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            seen: dict = {"protocol_version": client.protocol_version}
            saved = await client.call_tool("save_note", {"id": "sdk2-oauth", "title": "Via OAuth",
                                                         "content": "client credentials"})
            seen["saved"] = saved.structured_content
            got = await client.call_tool("get_note", {"id": "sdk2-oauth"})
            seen["got"] = got.structured_content
    seen["granted_scope"] = storage.tokens.scope if storage.tokens else None
    seen["requests"] = requests
    print(json.dumps(seen))


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:4])
