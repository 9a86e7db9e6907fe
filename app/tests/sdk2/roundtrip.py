"""Runs under the official MCP Python SDK 2.x (its own virtualenv): a Streamable HTTP
round trip against our server (auto mode negotiates 2026-07-28; legacy mode 2025-11-25). Prints one JSON object of what it saw; test_sdk_clients.py asserts on it.

usage: python roundtrip.py URL TOKEN MODE   (MODE: legacy or auto)
"""

import json
import sys

import anyio
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def on_elicit(context, params):
    return types.ElicitResult(action="accept", content={"name": "SDK Two"})


async def main(url: str, token: str, mode: str) -> None:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode,
                          elicitation_callback=on_elicit) as client:
            seen: dict = {"protocol_version": client.protocol_version,
                          "server": client.server_info.name if client.server_info else None}
            tools = await client.list_tools()
            seen["tools"] = [t.name for t in tools.tools]
            saved = await client.call_tool("save_note", {"id": "sdk2-note", "title": "From SDK 2",
                                                         "content": "streamable http"})
            seen["saved"] = saved.structured_content
            got = await client.call_tool("get_note", {"id": "sdk2-note"})
            seen["got"] = got.structured_content
            resource = await client.read_resource("notes://sdk2-note")
            seen["resource_text"] = resource.contents[0].text
            prompt = await client.get_prompt("summarize_note", {"id": "sdk2-note"})
            seen["prompt_roles"] = [m.role for m in prompt.messages]
            progress: list = []

            async def on_progress(p, total, message):
                progress.append(p)

            if "test_tool_with_progress" in seen["tools"]:
                await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
            seen["progress"] = progress
            if "test_input_required_result_elicitation" in seen["tools"]:
                # 2026-07-28: an input-required result the client answers through its callback and retries;
                # 2025-11-25: an elicitation request the server sends it. The same callback either way.
                asked = await client.call_tool("test_input_required_result_elicitation", {})
                seen["elicited"] = asked.content[0].text
    print(json.dumps(seen))


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:4])
