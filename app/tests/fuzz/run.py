"""The seedable fuzz runner: `make fuzz` (python -m fuzz.run) runs each fuzzer for --inputs inputs
and prints, per fuzzer, the inputs run, crashes, hangs and seconds; the short fixed-seed runs of
`make test` (test_fuzz_short.py) call the same functions.

The atheris harnesses run as subprocesses (libFuzzer ends its process): atheris comes from the
virtualenv named by MCP_FUZZ_VENV (.venv-fuzz, app/tests/fuzz/requirements.txt), the app and
its dependencies from this interpreter's. A crash or hang leaves its input under the artifact
directory, replayable with `python -m fuzz.fuzz_core FILE`."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from support.processes import FerretDB, McpServerProcess

from fuzz import http_fuzz
from fuzz.ws_run import SERVER_SETTINGS, fuzz_server, server_errors

TESTS = Path(__file__).resolve().parents[1]
SOURCES = TESTS.parent / "src"
HARNESSES = {"jsonrpc": "fuzz.fuzz_jsonrpc", "core": "fuzz.fuzz_core"}
TIMEOUT_SECONDS = 5  # per input: longer is a hang
MAX_LEN = 2048


@dataclass
class Result:
    name: str
    inputs: int = 0
    crashes: int = 0
    hangs: int = 0
    seconds: float = 0.0
    summary: str = ""
    details: list[str] = field(default_factory=list)  # what failed

    @property
    def ok(self) -> bool:
        return not (self.crashes or self.hangs or self.details)

    def line(self) -> str:
        return f"{self.name:<10} {self.inputs:>9} {self.crashes:>7} {self.hangs:>5} {self.seconds:>8.1f}"


def atheris_path() -> str:
    venv = os.environ.get("MCP_FUZZ_VENV")
    if not venv:
        raise RuntimeError("MCP_FUZZ_VENV is not set: `make fuzz` and `make test` create .venv-fuzz with atheris")
    found = sorted(Path(venv).glob("lib/python*/site-packages"))
    if not found:
        raise RuntimeError(f"no site-packages in MCP_FUZZ_VENV={venv}")
    return str(found[0])


def run_atheris(name: str, runs: int, seed: int, artifacts: Path) -> Result:
    artifacts.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SOURCES), str(TESTS), atheris_path()])}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", HARNESSES[name], f"-runs={runs}", f"-seed={seed}",
                           f"-timeout={TIMEOUT_SECONDS}", f"-max_len={MAX_LEN}", f"-artifact_prefix={artifacts}/",
                           "-print_final_stats=1"], env=env, capture_output=True, text=True, errors="replace")
    result = Result(name, seconds=time.monotonic() - started)
    done = re.search(r"^Done (\d+) runs", proc.stderr, re.M)
    executed = re.search(r"^stat::number_of_executed_units:\s*(\d+)", proc.stderr, re.M)
    result.inputs = int(done.group(1)) if done else int(executed.group(1)) if executed else 0
    if proc.returncode != 0:
        hang = "ALARM" in proc.stderr or "timeout" in proc.stderr
        result.hangs, result.crashes = (1, 0) if hang else (0, 1)
        tail = proc.stderr[proc.stderr.find("=== Uncaught") if "=== Uncaught" in proc.stderr else -3000:]
        result.details.append(tail[:3000])
    return result


@contextlib.contextmanager
def fuzzed_server(server: McpServerProcess | None) -> Iterator[McpServerProcess]:
    """`server`, or a server and FerretDB started for the run (and stopped after it), once ready."""
    ferret = None
    if server is None:
        ferret = FerretDB().start()
        server = McpServerProcess(ferret.uri, f"fuzz_{uuid.uuid4().hex[:8]}", **SERVER_SETTINGS).start()
    try:
        server.wait_ready()
        yield server
    finally:
        if ferret is not None:
            server.stop()
            ferret.stop()


def run_websocket(inputs: int, seed: int, server: McpServerProcess | None = None) -> Result:
    with fuzzed_server(server) as running:
        run = fuzz_server(running, seed, inputs)
    report, session = run.report, run.session
    result = Result("websocket", report.inputs, len(report.crashes), len(report.hangs), run.seconds,
                    details=report.crashes + report.hangs + session.errors + run.problems)
    result.summary = (f"{report.connections} connections, ends {report.ends}; well-behaved session: "
                             f"{session.calls} calls, {len(session.errors)} errors, p50 {session.percentile(0.5) * 1000:.1f} ms, "
                             f"p99 {session.percentile(0.99) * 1000:.1f} ms, max {max(session.latencies, default=0) * 1000:.1f} ms")
    return result


def run_http(inputs: int, seed: int, server: McpServerProcess | None = None) -> Result:
    """The HTTP/1.1 fuzzer (http_fuzz.py); then the server must be alive and ready and have logged no error."""
    with fuzzed_server(server) as running:
        started = time.monotonic()
        report = http_fuzz.fuzz_connections(running.port, seed, inputs)
        seconds = time.monotonic() - started
        problems = [] if running.proc is not None and running.proc.poll() is None else ["the server process is gone"]
        if not problems:
            running.wait_ready(5)
        problems += [f"server logged: {line}" for line in server_errors(running)]
    result = Result("http", report.inputs, len(report.crashes), len(report.hangs), seconds,
                    details=report.crashes[:20] + report.hangs[:20] + problems)
    result.summary = f"{report.connections} connections"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per fuzzer (default 100000)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000, help="seed (default: from the clock)")
    parser.add_argument("--only", default="jsonrpc,core,websocket,http", help="fuzzers to run, comma-separated")
    parser.add_argument("--artifacts", type=Path, default=Path(tempfile.gettempdir()) / "mcp-fuzz-artifacts")
    args = parser.parse_args()
    print(f"seed {args.seed}; {args.inputs} inputs per fuzzer; artifacts in {args.artifacts}", flush=True)
    results = []
    for name in args.only.split(","):
        if name == "websocket":
            result = run_websocket(args.inputs, args.seed)
        elif name == "http":
            result = run_http(args.inputs, args.seed)
        else:
            result = run_atheris(name, args.inputs, args.seed, args.artifacts / name)
        results.append(result)
        print(result.line(), *filter(None, [result.summary, *result.details]), sep="\n  ", flush=True)
    print(f"\n{'fuzzer':<10} {'inputs':>9} {'crashes':>7} {'hangs':>5} {'seconds':>8}")
    for result in results:
        print(result.line())
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
