"""Real processes for the tests: FerretDB (a MongoDB-wire server) and the MCP server itself."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TEST_TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float = 20, what: str = "condition") -> None:
    """Returns once `condition()` holds; fails the test when it has not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not met within {timeout} s"
        time.sleep(0.02)


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "process") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def end_process(proc: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds; waits for the end either way."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ferretdb_binary() -> str:
    explicit = os.environ.get("FERRETDB_BIN")
    if explicit:
        return explicit
    out = subprocess.run(["bash", str(REPO / "hack/build/ferretdb.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


class FerretDB:
    """A FerretDB v1 (SQLite backend) on a free loopback port, in a temporary directory."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="ferretdb-")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> FerretDB:
        os.makedirs(f"{self.dir}/data", exist_ok=True)
        self.proc = subprocess.Popen(
            [ferretdb_binary(), "--handler=sqlite", f"--sqlite-url=file:{self.dir}/data/",
             f"--listen-addr=127.0.0.1:{self.port}", f"--state-dir={self.dir}", "--debug-addr=-",
             "--telemetry=disable", "--log-level=warn"],
            stdout=open(f"{self.dir}/ferretdb.log", "wb"), stderr=subprocess.STDOUT)
        wait_for_port(self.port, 30, self.proc, "FerretDB")
        return self

    def stop(self) -> None:
        end_process(self.proc, 10)
        shutil.rmtree(self.dir, ignore_errors=True)


class McpServerProcess:
    """`python -m mcp_server` on a free port, configured by environment variables."""

    def __init__(self, mongodb_uri: str, database: str, python: str = sys.executable, **env: str):
        self.python = python
        self.port = free_port()
        self.metrics_port = free_port()
        self.env = {
            **os.environ,
            "MCP_HOST": "127.0.0.1",
            "MCP_PORT": str(self.port),
            "MCP_METRICS_PORT": str(self.metrics_port),
            "MONGODB_URI": mongodb_uri,
            "MONGODB_DATABASE": database,
            "MCP_AUTH_TOKENS": TEST_TOKEN,
            "MCP_LOG_FORMAT": "json",
            "MCP_DRAIN_SECONDS": "0.2",
            **env,
        }
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="mcp-server-", suffix=".log")[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_base(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def rss_kib(self) -> int:
        """The server process's resident memory, in KiB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS line")

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/mcp"

    @property
    def http_url(self) -> str:
        return f"{self.base}/mcp"

    def start(self) -> McpServerProcess:
        self.proc = subprocess.Popen([self.python, "-m", "mcp_server"], env=self.env,
                                     stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)
        wait_for_port(self.port, 30, self.proc, "mcp_server")
        return self

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready; log:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
