"""Database initialisation, run once per deploy as a Kubernetes Job (`python -m mcp_server.dbinit`).

Idempotent and independent of the MongoDB image: waits for the server, creates or updates the
application user (when auth is on), and creates the indexes the tools use.

Environment: MONGODB_ADMIN_URI (an admin or root connection), MONGODB_DATABASE,
MONGODB_AUTH_ENABLED, MONGODB_APP_USERNAME, MONGODB_APP_PASSWORD, MONGODB_INIT_TIMEOUT_SECONDS;
for a replica set also MONGODB_REPLICA_SET (its name), whose members are the hosts of the admin URI.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

from pymongo import AsyncMongoClient, uri_parser
from pymongo.errors import OperationFailure, PyMongoError

from . import logs
from .config import _bool
from .database import Database

log = logging.getLogger("mcp_server.dbinit")


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise SystemExit(f"dbinit: {name} is required")
    return value


async def wait_for_server(db: Database, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if await db.ping(cache_seconds=0):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"dbinit: MongoDB did not answer within {timeout:.0f}s")
        await asyncio.sleep(2)


async def ensure_user(db: Database, database: str, username: str, password: str) -> str:
    target = db.client[database]
    roles = [{"role": "readWrite", "db": database}]
    info = await target.command("usersInfo", username)
    if info.get("users"):
        await target.command("updateUser", username, pwd=password, roles=roles)
        return "updated"
    await target.command("createUser", username, pwd=password, roles=roles)
    return "created"


async def initiate_replica_set(uri: str, name: str, timeout: float) -> str:
    """replSetInitiate on the first member, connected directly (the set has no primary yet)."""
    parsed = uri_parser.parse_uri(uri)
    hosts = [f"{host}:{port}" for host, port in parsed["nodelist"]]
    options = {"directConnection": True, "serverSelectionTimeoutMS": 10000}
    if parsed.get("username"):
        options.update(username=parsed["username"], password=parsed["password"], authSource="admin")
    client: AsyncMongoClient = AsyncMongoClient(hosts[0], **options)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                await client.admin.command("replSetInitiate", {
                    "_id": name, "members": [{"_id": i, "host": h} for i, h in enumerate(hosts)]})
                return "initiated"
            except PyMongoError as exc:
                if isinstance(exc, OperationFailure) and exc.code == 23:  # AlreadyInitialized
                    return "already initiated"
                if time.monotonic() > deadline:  # e.g. members still starting: no quorum yet
                    raise
                await asyncio.sleep(2)
    finally:
        await client.close()


async def run() -> int:
    uri = _env("MONGODB_ADMIN_URI")
    database = _env("MONGODB_DATABASE", "mcp")
    timeout = float(os.environ.get("MONGODB_INIT_TIMEOUT_SECONDS", "300"))
    replica_set = os.environ.get("MONGODB_REPLICA_SET", "")
    if replica_set:
        log.info("replica set %s", await initiate_replica_set(uri, replica_set, timeout))
    db = Database(uri, database, timeout_ms=10000)
    try:
        await wait_for_server(db, timeout)
        if _bool(os.environ.get("MONGODB_AUTH_ENABLED", "false")):
            outcome = await ensure_user(db, database, _env("MONGODB_APP_USERNAME"), _env("MONGODB_APP_PASSWORD"))
            log.info("application user %s", outcome, extra={"database": database})
        if not await db.ensure_indexes():
            log.warning("indexes not created; the tools still work without them")
        log.info("database initialised", extra={"database": database})
        return 0
    except (OperationFailure, PyMongoError) as exc:
        log.error("initialisation failed: %s", type(exc).__name__, extra={"detail": str(exc)[:300]})
        return 1
    finally:
        await db.close()


def main() -> int:
    logs.setup(os.environ.get("MCP_LOG_LEVEL", "info"), os.environ.get("MCP_LOG_FORMAT", "json"))
    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
