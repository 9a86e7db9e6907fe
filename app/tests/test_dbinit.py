"""The init job's module against FerretDB: idempotent, creates the indexes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pymongo


def _run(uri: str, database: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MONGODB_ADMIN_URI": uri, "MONGODB_DATABASE": database, "MONGODB_AUTH_ENABLED": "false",
           "MONGODB_INIT_TIMEOUT_SECONDS": "20", "MCP_LOG_FORMAT": "text"}
    return subprocess.run([sys.executable, "-m", "mcp_server.dbinit"], env=env, capture_output=True, text=True,
                          timeout=60)


def test_dbinit_is_idempotent_and_makes_indexes(mongodb_uri):
    database = f"init_{uuid.uuid4().hex[:8]}"
    first, second = _run(mongodb_uri, database), _run(mongodb_uri, database)
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert "database initialised" in second.stdout
    with pymongo.MongoClient(mongodb_uri) as client:
        names = {index["name"] for index in client[database]["notes"].list_indexes()}
    assert {"terms", "updated_at_id"} <= names


def test_dbinit_unreachable_database_fails_clearly():
    result = subprocess.run([sys.executable, "-m", "mcp_server.dbinit"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MONGODB_ADMIN_URI": "mongodb://127.0.0.1:9/",
                                 "MONGODB_INIT_TIMEOUT_SECONDS": "1"})
    assert result.returncode != 0
    assert "did not answer within" in result.stderr
