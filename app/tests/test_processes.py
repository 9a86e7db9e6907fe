"""Several server processes on one port (MCP_PROCESSES, SO_REUSEPORT): both serve, a 2025 session
and a 2026 request are answered whichever process takes them, SIGTERM stops them all cleanly, and
a process that dies on its own takes the others down (so that the pod restarts whole)."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import httpx
import pytest

from mcp_server import workers
from mcp_server.config import ConfigError, Settings
from support.clients import MODERN, modern_params
from support.processes import TEST_TOKEN

HEADERS = {"Authorization": f"Bearer {TEST_TOKEN}", "Content-Type": "application/json",
           "Accept": "application/json, text/event-stream"}
HTTP_IN = re.compile(r'^mcp_messages_total\{direction="in",transport="streamable_http"\} (\S+)$', re.M)


def log_lines(proc) -> list[dict]:
    return [json.loads(line) for line in proc.log().splitlines() if line.startswith("{")]


def children(proc, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = [line for line in log_lines(proc) if line["message"] == "processes started"]
        listening = {line.get("process_index") for line in log_lines(proc) if line["message"] == "listening"}
        if started and listening == {0, 1}:
            return started[0]["pids"]
        time.sleep(0.1)
    raise AssertionError(f"two processes did not start; log:\n{proc.log()}")


def fresh(method: str, url: str, **kwargs) -> httpx.Response:
    """One request on a new connection (SO_REUSEPORT picks a process per connection)."""
    with httpx.Client(timeout=10) as client:
        return client.request(method, url, **kwargs)


def modern_call(proc, note: str = "", tool: str = "get_note", **params) -> httpx.Response:
    arguments = {"id": note} if tool == "get_note" else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": modern_params({"name": tool, "arguments": arguments, **params})}
    return fresh("POST", proc.http_url, content=json.dumps(body), headers={
        **HEADERS, "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": tool})


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def two(make_server):
    proc = make_server(MCP_PROCESSES="2", MCP_CONFORMANCE_FIXTURES="true")
    proc.wait_ready()
    return proc, children(proc)


def test_both_processes_take_connections_on_the_one_port(two):
    proc, pids = two
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    calls = 41  # odd: the two counts differ, so both show in the set below
    for _ in range(calls):
        assert modern_call(proc, "nothing-here").status_code == 200
    # Each process counts its own messages: scraped over fresh connections, two counts appear,
    # which add up to the calls made.
    seen = {float(HTTP_IN.search(fresh("GET", f"{proc.metrics_base}/metrics").text).group(1)) for _ in range(40)}
    assert len(seen) == 2 and sum(seen) == calls and min(seen) > 0, seen


def test_a_2025_session_is_served_by_whichever_process_takes_the_request(two):
    proc, _pids = two
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "processes-test", "version": "1"}}}
    opened = fresh("POST", proc.http_url, content=json.dumps(init), headers=HEADERS)
    assert opened.status_code == 200, opened.text
    session = {**HEADERS, "Mcp-Session-Id": opened.headers["Mcp-Session-Id"], "MCP-Protocol-Version": "2025-11-25"}
    assert fresh("POST", proc.http_url, json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                 headers=session).status_code == 202
    for index in range(12):
        saved = fresh("POST", proc.http_url, headers=session, json={
            "jsonrpc": "2.0", "id": index + 2, "method": "tools/call",
            "params": {"name": "save_note", "arguments": {"id": f"proc-{index}", "title": "t", "content": "c"}}})
        assert saved.status_code == 200 and '"isError":true' not in saved.text.replace(" ", ""), saved.text


def test_a_request_state_sealed_by_one_process_is_opened_by_the_other(two):
    """No MCP_STATE_KEYS is set: the parent gives every process one key, so a 2026 input-required
    retry is answered whichever process takes it (ten retries, each on a new connection)."""
    proc, _pids = two
    tool = "test_input_required_result_elicitation"
    asked = modern_call(proc, tool=tool).json()["result"]
    assert asked["resultType"] == "input_required", asked
    answer = {"user_name": {"action": "accept", "content": {"name": "Alice"}}}
    for _ in range(10):
        done = modern_call(proc, tool=tool, inputResponses=answer, requestState=asked["requestState"]).json()
        assert done["result"]["resultType"] == "complete", done
        assert done["result"]["content"][0]["text"] == "Hello, Alice!"


def test_sigterm_stops_every_process_and_the_parent_exits_0(two):
    proc, pids = two
    proc.terminate()
    assert proc.proc.wait(30) == 0, proc.log()
    assert not any(alive(pid) for pid in pids)
    assert sum(line["message"] == "stopped" for line in log_lines(proc)) == 2


def test_a_process_that_dies_stops_the_other_and_the_parent_exits_1(two):
    proc, pids = two
    os.kill(pids[0], signal.SIGKILL)
    assert proc.proc.wait(30) == 1, proc.log()
    assert not alive(pids[1])
    ended = [line for line in log_lines(proc) if line["message"].startswith("a server process ended")]
    assert ended and ended[0]["pid"] == pids[0] and ended[0]["exit_code"] == -signal.SIGKILL


def test_usable_cpus_follow_the_cgroup_quota_v2_and_v1(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    v2, v1 = tmp_path / "v2", tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    v2.mkdir()
    for text, expected in (("max 100000\n", affinity), ("50000 100000\n", 1), ("150000 100000\n", min(affinity, 2))):
        (v2 / "cpu.max").write_text(text)
        assert workers.usable_cpus(str(v2), own_group="") == expected, text
    # Without a cgroup namespace: the process's own group, not the root's.
    (v2 / "kubepods" / "pod1").mkdir(parents=True)
    (v2 / "kubepods" / "pod1" / "cpu.max").write_text("100000 100000\n")
    assert workers.usable_cpus(str(v2), own_group="/kubepods/pod1") == 1
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    for quota, expected in (("-1", affinity), ("50000", 1), ("150000", min(affinity, 2))):
        (v1 / "cpu" / "cpu.cfs_quota_us").write_text(quota + "\n")
        assert workers.usable_cpus(str(v1), own_group="") == expected, quota
    assert workers.usable_cpus(str(tmp_path / "absent"), own_group="") == affinity


def test_the_processes_setting_is_checked():
    environ = {"MCP_AUTH_TOKENS": TEST_TOKEN}
    assert Settings.from_env({**environ, "MCP_PROCESSES": "auto"}).processes == 0
    assert Settings.from_env({**environ, "MCP_PROCESSES": "3"}).processes == 3
    with pytest.raises(ConfigError, match=r"MCP_PROCESSES: expected auto or an integer from 0 to 64, got 'two'"):
        Settings.from_env({**environ, "MCP_PROCESSES": "two"})
    with pytest.raises(ConfigError, match=r"MCP_PROCESSES: more than one process needs MCP_SESSION_STORE=mongodb"):
        Settings.from_env({**environ, "MCP_PROCESSES": "2", "MCP_SESSION_STORE": "memory"})
