"""One frame-fuzzing run against a running server: the fuzzer's connections and the well-behaved
session side by side, then the server must be alive, answer /health, and have logged no error."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass, field

from support.processes import TEST_TOKEN, McpServerProcess

from fuzz.ws_fuzz import Report, SessionLog, WellBehavedSession, fuzz_connections

MAX_MESSAGE_BYTES = 65536  # the server's MCP_MAX_MESSAGE_BYTES for a run: oversized frames stay cheap
# thousands of connections of one principal, and refusals, from one address: the limits across
# connections would answer them 429
SERVER_SETTINGS = {"MCP_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES), "MCP_PRINCIPAL_RATE_LIMIT": "0",
                   "MCP_REFUSED_RATE_LIMIT": "0"}
P99_LIMIT_SECONDS = 1.0  # the well-behaved session's bound


@dataclass
class WsRun:
    report: Report
    session: SessionLog
    seconds: float
    problems: list[str] = field(default_factory=list)  # the server's state after the run

    @property
    def failures(self) -> list[str]:
        return self.report.crashes + self.report.hangs + self.session.errors + self.problems


def server_errors(server: McpServerProcess) -> list[str]:
    """Lines the server logged at error level (an exception in a callback among them)."""
    found = []
    for line in server.log().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                found.append(line)
            continue
        if isinstance(record, dict) and record.get("level") in ("error", "critical"):
            found.append(line[:500])
    return found


def fuzz_server(server: McpServerProcess, seed: int, inputs: int) -> WsRun:
    started = time.monotonic()
    with WellBehavedSession(server.ws_url) as session:
        report = fuzz_connections(server.port, TEST_TOKEN, seed, inputs, MAX_MESSAGE_BYTES)
    run = WsRun(report, session.log, time.monotonic() - started)
    if server.proc is None or server.proc.poll() is not None:
        run.problems.append("the server process is gone")
    else:
        with urllib.request.urlopen(f"{server.base}/health", timeout=5) as response:
            if response.status != 200:
                run.problems.append(f"/health answered {response.status}")
    run.problems += [f"server logged: {line}" for line in server_errors(server)]
    if session.log.percentile(0.99) > P99_LIMIT_SECONDS:
        run.problems.append(f"the session's p99 latency {session.log.percentile(0.99):.3f} s is over "
                            f"{P99_LIMIT_SECONDS:g} s")
    if session.log.calls == 0:
        run.problems.append("the well-behaved session made no call")
    return run
