"""Runs under the official MCP Python SDK 2.x: many tool calls from one client, for the cluster
tests of interchangeable replicas. In legacy mode they all go over one 2025-11-25 session; in auto
mode the client negotiates 2026-07-28 and every call stands alone.

usage: python calls.py URL TOKEN MODE CALLS [--pause] [--fresh-connections] [--for-seconds S]
With --pause, after half the calls it prints {"event": "half", ...} and waits for a line on stdin
(the test deletes a pod meanwhile), then makes the rest. With --fresh-connections every request
opens a new TCP connection, as behind a gateway that spreads requests over the pods (a Service
balances connections, not requests). With --for-seconds it goes on calling until S seconds have
passed (at least CALLS calls), 20 ms apart, so that a long run does not starve the cluster it
tests. Prints one JSON summary line at the end.
"""

import json
import sys
import time

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT


async def main(url: str, token: str, mode: str, calls: int, pause: bool, fresh: bool, seconds: float) -> None:
    failures: list[str] = []
    deadline = time.monotonic() + seconds
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                              timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
                              limits=httpx2.Limits(max_keepalive_connections=0 if fresh else 20))
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        i = 0
        while i < calls or time.monotonic() < deadline:
            if pause and i == calls // 2:
                print(json.dumps({"event": "half", "protocol_version": client.protocol_version}), flush=True)
                await anyio.to_thread.run_sync(sys.stdin.readline)
            try:
                result = await client.call_tool("list_notes", {"limit": 1})
                if result.is_error:
                    failures.append(f"call {i}: {result.content[0].text}")
            except Exception as exc:  # noqa: BLE001 - every failed call is counted and quoted
                failures.append(f"call {i}: {type(exc).__name__}: {exc}")
            i += 1
            if seconds:
                await anyio.sleep(0.02)
        print(json.dumps({"event": "done", "protocol_version": client.protocol_version, "calls": i,
                          "failures": len(failures), "samples": failures[:5]}), flush=True)


if __name__ == "__main__":
    options = sys.argv[5:]
    seconds = float(options[options.index("--for-seconds") + 1]) if "--for-seconds" in options else 0.0
    anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), "--pause" in options,
              "--fresh-connections" in options, seconds)
