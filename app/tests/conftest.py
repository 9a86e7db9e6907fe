from __future__ import annotations

import os
import uuid

import pytest

from support.processes import TEST_TOKEN, FerretDB, McpServerProcess


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def mongodb_uri():
    """A real MongoDB-wire server: MONGODB_URI when given, else a FerretDB started for the run."""
    given = os.environ.get("TEST_MONGODB_URI")
    if given:
        yield given
        return
    ferret = FerretDB().start()
    try:
        yield ferret.uri
    finally:
        ferret.stop()


@pytest.fixture(scope="session")
def server(mongodb_uri):
    """One MCP server for the read-mostly tests (fixtures on, generous rate limit)."""
    proc = McpServerProcess(mongodb_uri, f"t_{uuid.uuid4().hex[:8]}", MCP_CONFORMANCE_FIXTURES="true",
                            MCP_RATE_LIMIT="0", MCP_REFUSED_RATE_LIMIT="0").start()
    proc.wait_ready()
    yield proc
    proc.stop()


@pytest.fixture
def make_server(mongodb_uri):
    """Start a server with extra settings for one test."""
    started: list[McpServerProcess] = []

    def start(**env: str) -> McpServerProcess:
        proc = McpServerProcess(mongodb_uri, f"t_{uuid.uuid4().hex[:8]}", **env).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def auth_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TEST_TOKEN}"}
