"""The official MCP conformance suite (npm @modelcontextprotocol/conformance, under Node 22)
against our Streamable HTTP endpoint with the fixture tools on: once per spec revision, each run at
that revision's wire (2025-11-25: initialize and sessions; 2026-07-28: stateless requests)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from support.processes import REPO

TASKS_PREFIX = "tasks-"  # the io.modelcontextprotocol/tasks extension: run and reported, not required here


def _suite_bin() -> Path:
    out = subprocess.run(["bash", str(REPO / "hack/build/conformance.sh")], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1]) / ".bin"


@pytest.fixture(scope="module")
def conformance_server(mongodb_uri):
    from support.processes import McpServerProcess
    # The suite's client sends no Authorization header, so this one server runs with auth off.
    server = McpServerProcess(mongodb_uri, "conformance", MCP_AUTH_DISABLED="true", MCP_AUTH_TOKENS="",
                              MCP_CONFORMANCE_FIXTURES="true", MCP_RATE_LIMIT="0").start()
    server.wait_ready()
    yield server
    server.stop()


def _run(server, revision: str, out: Path) -> tuple[str, dict[str, list[dict]]]:
    bin_dir = _suite_bin()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    url = f"http://localhost:{server.port}/mcp"  # dns-rebinding-protection needs a localhost URL
    run = subprocess.run([str(bin_dir / "conformance"), "server", "--url", url, "--requirements", revision,
                          "-o", str(out)], capture_output=True, text=True, timeout=900, env=env)
    summary = run.stdout[run.stdout.find("=== SUMMARY ==="):]
    print(summary)
    assert run.returncode == 0, summary + run.stderr[-2000:]
    checks = {}
    for path in out.glob("*/checks.json"):
        scenario = re.sub(r"^server-|-\d{4}-\d\d-\d\dT.*$", "", path.parent.name)
        checks[scenario] = json.loads(path.read_text())
    return summary, checks


def _problems(checks: dict[str, list[dict]], required: bool) -> list[tuple[str, str, str, str | None]]:
    return [(scenario, c["id"], c["status"], c.get("errorMessage"))
            for scenario, results in checks.items() if scenario.startswith(TASKS_PREFIX) != required
            for c in results if c["status"] in ("FAILURE", "WARNING")]


def test_conformance_2025_11_25(conformance_server, tmp_path):
    summary, checks = _run(conformance_server, "2025-11-25", tmp_path)
    assert len(checks) >= 30, summary
    assert not _problems(checks, required=True)
    passed = {c["id"] for results in checks.values() for c in results if c["status"] == "SUCCESS"}
    assert {"server-session-initialized-accepted", "localhost-host-rebinding-rejected"} <= passed


def test_conformance_2026_07_28(conformance_server, tmp_path):
    summary, checks = _run(conformance_server, "2026-07-28", tmp_path)
    required = [s for s in checks if not s.startswith(TASKS_PREFIX)]
    assert len(required) >= 40, summary  # the 37 required scenarios and the pending ones run beside them
    assert not _problems(checks, required=True)
    passed = {c["id"] for results in checks.values() for c in results if c["status"] == "SUCCESS"}
    # Scenarios a server passes by skipping them when it lacks the feature: ours must really pass them.
    assert {"sep-2575-server-sends-subscription-ack", "sep-2575-server-tags-subscription-id",
            "sep-2575-server-honors-notification-filter", "sep-2322-reject-tampered-state",
            "sep-2243-server-decode-base64", "sep-2575-server-rejects-undeclared-capability",
            "sep-2575-server-sends-tools-list-changed-on-subscription"} <= passed
    # The tasks extension (SEP-2663) is not built: its scenarios are reported, not required.
    tasks = {s: sum(c["status"] == "SUCCESS" for c in results) for s, results in checks.items()
             if s.startswith(TASKS_PREFIX)}
    print("tasks extension (not required):", tasks, "problems:", len(_problems(checks, required=False)))
