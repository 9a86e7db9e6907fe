"""Runs under the official MCP Python SDK 2.x: many tool calls from one client, for the cluster
tests of interchangeable replicas, the gateway and faults. In legacy mode they all go over one
2025-11-25 session; in auto mode the client negotiates 2026-07-28 and every call stands alone.

usage: python calls.py URL TOKEN MODE CALLS [--pause] [--fresh-connections] [--until-stdin-closes]
                      [--resolve HOST:ADDRESS] [--write RUN]
--pause: after half the calls, print {"event": "half", ...} and wait for a line on stdin (the test
  deletes a pod meanwhile), then make the rest.
--fresh-connections: a new TCP connection per request, as behind a gateway that spreads requests
  over the pods (a Service balances connections, not requests).
--until-stdin-closes: go on (at least CALLS calls, 20 ms apart) until stdin closes, so a test stops
  the client when what it waits for (a rollout, a fault's recovery) is over.
--resolve: reach HOST (the URL's host name, sent as the Host header) at ADDRESS, as curl's
  --resolve does, so a gateway's host-based route is tested without a DNS name.
--write: every call saves a note of its own (RUN-0, RUN-1, ...) instead of listing notes; at the
  end each note whose save was acknowledged is read back, and the summary counts the missing ones
  ("lost"), which is what the fault tests assert on.
A transport failure can end the SDK client itself, not only the call: that counts as a failure too,
and a new client carries on. Prints one JSON summary line at the end.
"""

import argparse
import json
import socket
import sys
import time

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT

READ_BACK_SECONDS = 60  # how long a read-back retries a note that errs (not one that is missing)


class Calls:
    """The calls made so far, and what became of them."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.made = 0
        self.failures: list[str] = []
        self.acknowledged: list[str] = []
        self.first_answer_at: float | None = None  # wall-clock times, which the test compares with its own
        self.last_answer_at: float | None = None
        self.stdin_closed = anyio.Event()

    def going_on(self) -> bool:
        return self.made < self.args.calls or (self.args.until_stdin_closes and not self.stdin_closed.is_set())

    async def one(self, client: Client) -> None:
        i, note = self.made, f"{self.args.write}-{self.made}"
        self.made += 1
        try:
            if self.args.write:
                result = await client.call_tool("save_note", {"id": note, "title": note, "content": note})
            else:
                result = await client.call_tool("list_notes", {"limit": 1})
        except Exception as exc:  # noqa: BLE001 - every failed call is counted and quoted
            self.failures.append(f"call {i}: {type(exc).__name__}: {exc}")
            return
        if result.is_error:
            self.failures.append(f"call {i}: {result.content[0].text}")
            return
        self.last_answer_at = time.time()
        self.first_answer_at = self.first_answer_at or self.last_answer_at
        if self.args.write:
            self.acknowledged.append(note)


async def main(args: argparse.Namespace) -> None:
    calls = Calls(args)
    protocol_version = None
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {args.token}"},
                              timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
                              limits=httpx2.Limits(max_keepalive_connections=0 if args.fresh_connections else 20))

    def connect() -> Client:
        return Client(streamable_http_client(args.url, http_client=http), mode=args.mode)

    async with http, anyio.create_task_group() as background:
        if args.until_stdin_closes:
            background.start_soon(wait_for_eof, calls.stdin_closed)
        while calls.going_on():
            try:
                async with connect() as client:
                    protocol_version = client.protocol_version
                    while calls.going_on():
                        if args.pause and calls.made == args.calls // 2:
                            print(json.dumps({"event": "half", "protocol_version": protocol_version}), flush=True)
                            await anyio.to_thread.run_sync(sys.stdin.readline)
                        await calls.one(client)
                        if args.until_stdin_closes:
                            await anyio.sleep(0.02)
            except Exception as exc:  # noqa: BLE001 - the client as a whole ended: count it, connect again
                calls.failures.append(f"client ended at call {calls.made}: {type(exc).__name__}: {exc}")
                calls.made += 1
                await anyio.sleep(0.2)
        summary = {"event": "done", "protocol_version": protocol_version, "calls": calls.made,
                   "failures": len(calls.failures), "samples": calls.failures[:5],
                   "first_answer_at": calls.first_answer_at, "last_answer_at": calls.last_answer_at}
        if args.write:
            async with connect() as client:
                lost = [note for note in calls.acknowledged if not await read_back(client, note)]
            summary.update(acknowledged=len(calls.acknowledged), lost=len(lost), lost_samples=lost[:5])
        print(json.dumps(summary), flush=True)
        background.cancel_scope.cancel()


async def wait_for_eof(closed: anyio.Event) -> None:
    while await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True):
        pass
    closed.set()


async def read_back(client: Client, note: str) -> bool:
    """Is the note there with its content? Retries while the server errs for another reason."""
    deadline = time.monotonic() + READ_BACK_SECONDS
    while True:
        try:
            result = await client.call_tool("get_note", {"id": note})
            if not result.is_error:
                return (result.structured_content or {}).get("content") == note
            if result.content[0].text.startswith("No note with id") or time.monotonic() > deadline:
                return False
        except Exception:  # noqa: BLE001 - a transport error is retried until the deadline
            if time.monotonic() > deadline:
                return False
        await anyio.sleep(1)


def resolve(host: str, address: str) -> None:
    lookup = socket.getaddrinfo

    def pinned(name, *args, **kwargs):
        # anyio passes the name IDNA-encoded, as bytes
        return lookup(address if name in (host, host.encode()) else name, *args, **kwargs)
    socket.getaddrinfo = pinned


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Many tool calls from one official SDK 2.x client.")
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("mode", choices=["auto", "legacy"])
    parser.add_argument("calls", type=int)
    parser.add_argument("--pause", action="store_true")
    parser.add_argument("--fresh-connections", action="store_true")
    parser.add_argument("--resolve", metavar="HOST:ADDRESS")
    parser.add_argument("--write", metavar="RUN", default="")
    parser.add_argument("--until-stdin-closes", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    if arguments.resolve:
        resolve(*arguments.resolve.rsplit(":", 1))
    anyio.run(main, arguments)
