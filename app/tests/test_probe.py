"""The in-pod probe (`python -m mcp_server.probe`) against a running server, both transports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support.processes import TEST_TOKEN


def run_probe(*args: str, token: str | None = TEST_TOKEN) -> tuple[int, dict]:
    env = {**os.environ, "MCP_PROBE_TOKEN": token or ""}
    out = subprocess.run([sys.executable, "-m", "mcp_server.probe", *args], capture_output=True, text=True,
                         env=env, timeout=60)
    return out.returncode, json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("transport", ["ws", "http"])
def test_probe_calls_a_tool(server, transport):
    url = server.ws_url if transport == "ws" else server.http_url
    code, seen = run_probe(url, "save_note", json.dumps({"id": f"probe-{transport}", "title": "t", "content": "c"}))
    assert code == 0, seen
    assert seen["protocol_version"] == "2025-11-25" and "search_notes" in seen["tools"]
    assert seen["result"]["structuredContent"]["id"] == f"probe-{transport}"


def test_probe_fails_clearly(server):
    code, seen = run_probe(server.ws_url, token="wrong-token-wrong-token")
    assert code == 1 and "401" in seen["error"]
    code, seen = run_probe(server.http_url, "get_note", json.dumps({"id": "missing"}))
    assert code == 1 and "No note" in seen["error"]
