"""Drives the protocol core with one fuzz input, as a transport would, without a transport.

The input's first byte picks the mode (era, whether the harness opens the conversation the
way its first message asks, whether it initializes or wraps requests in the 2026-07-28 `_meta`
envelope first, whether it answers the server's own requests); the rest is JSON-RPC messages,
one a line. Every answer must be a well-formed JSON-RPC response; nothing but JsonRpcError may
leave `receive`; no handler may fail with an internal error or log an error; and after the
conversation closes every request in flight must be settled within a few loop passes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import orjson

from mcp_server import jsonrpc
from mcp_server.catalog import Catalog
from mcp_server.core import Core, ServerInfo
from mcp_server.engine import Engine, is_pending
from mcp_server.metrics import Metrics
from mcp_server.sealing import Sealer
from mcp_server.tools import fixtures

from fuzz import seeds

MAX_DEPTH = 64
SETTLE_PASSES = 4  # loop passes given to requests in flight before the conversation closes
CLOSE_PASSES = 20  # loop passes within which closing must settle every request
ERA_MODERN, OPEN_FOR, PREPARE, ANSWER, BATCH_VERSION = 1, 2, 4, 8, 16


class Crash(AssertionError):
    """What the fuzzer reports: a behaviour no input may cause."""


class ErrorLogs(logging.Handler):
    """Collects what the server logs at ERROR: a handler failing on input is a crash."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def error_logs() -> Iterator[list[logging.LogRecord]]:
    """What the server logs at ERROR while the block runs."""
    handler, logger = ErrorLogs(), logging.getLogger("mcp_server")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def fixture_catalog(page_size: int = 3) -> Catalog:
    """The conformance fixtures' tools, resources and prompts: in-process, none needs a database
    (small pages by default, so that cursors get used)."""
    catalog = Catalog(page_size)
    fixtures.register(catalog)
    return catalog


def fixture_core(catalog: Catalog | None = None) -> Core:
    return Core(catalog or fixture_catalog(), INFO, METRICS, SEALER)


INFO = ServerInfo("fuzz", "0")
METRICS = Metrics()
SEALER = Sealer.ephemeral(600)
CATALOG = fixture_catalog()
LOOP = asyncio.new_event_loop()


class Outbox:
    """The conversation's channel: checks what it is sent encodes, and keeps the server's requests."""

    def __init__(self) -> None:
        self.server_requests: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        checked(message, "sent")
        if "method" in message and "id" in message:
            self.server_requests.append(message)

    def end_stream(self) -> None:
        return None


def checked(message: Any, what: str) -> Any:
    try:
        return orjson.loads(orjson.dumps(message))
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise Crash(f"{what} message does not encode: {exc}: {message!r:.300}") from None


def check_answer(answer: Any, modern: bool) -> None:
    """A response, or a batch's list of them, as a client would receive it."""
    for response in answer if isinstance(answer, list) else [answer]:
        response = checked(response, "answer")
        if not isinstance(response, dict) or response.get("jsonrpc") != "2.0" or "id" not in response:
            raise Crash(f"not a JSON-RPC response: {response!r:.300}")
        if ("result" in response) == ("error" in response):
            raise Crash(f"a response needs exactly one of result and error: {response!r:.300}")
        error = response.get("error")
        if error is not None:
            if not isinstance(error.get("code"), int) or not isinstance(error.get("message"), str):
                raise Crash(f"malformed error: {error!r:.300}")
            if error["code"] == jsonrpc.INTERNAL_ERROR and error["message"].startswith("Internal error while"):
                raise Crash(f"internal error: {error['message']}")
        elif modern and response["result"].get("resultType") not in ("complete", "input_required"):
            raise Crash(f"2026-07-28 result without resultType: {response!r:.300}")


def messages_of(body: bytes) -> list[Any]:
    values = []
    for line in body.split(b"\n"):
        try:
            values.append(jsonrpc.decode(line, MAX_DEPTH))
        except jsonrpc.JsonRpcError:
            continue  # a transport answers it with -32700 before the core sees it
    return values


def enveloped(value: Any) -> Any:
    """The message with a valid 2026-07-28 `_meta` where its params have none."""
    if isinstance(value, list):
        return [enveloped(v) for v in value]
    if isinstance(value, dict) and isinstance(value.get("method"), str) and isinstance(value.get("params", {}), dict):
        params = dict(value.get("params") or {})
        meta = params.get("_meta")
        params["_meta"] = {**seeds.ENVELOPE, **meta} if isinstance(meta, dict) else dict(seeds.ENVELOPE)
        return {**value, "params": params}
    return value


def answer_to(request: dict[str, Any], value: Any) -> dict[str, Any]:
    """The client's response to a request the server sent: `value` as it came, or as its result."""
    if isinstance(value, dict) and ("result" in value or "error" in value):
        return {**value, "jsonrpc": "2.0", "id": request["id"]}
    return {"jsonrpc": "2.0", "id": request["id"], "result": value}


class Drive:
    """One input: a conversation fed its messages; what it answers is checked as it comes."""

    def __init__(self, data: bytes):
        self.mode = data[0] if data else 0
        self.messages = messages_of(data[1:])
        self.modern = bool(self.mode & ERA_MODERN)
        self.outbox = Outbox()
        self.pending: list[asyncio.Future[Any]] = []
        core = fixture_core(CATALOG)
        if self.mode & OPEN_FOR and self.messages:
            self.conversation: Engine = core.open_for(self.messages[0], self.outbox)
            self.modern = type(self.conversation).__name__ == "Stateless"
        else:
            self.conversation = core.open_stateless() if self.modern else core.open_session(self.outbox)

    def run(self) -> None:
        with error_logs() as errors:
            LOOP.run_until_complete(self._conversation())
        stuck = [f for f in self.pending if not f.done()]
        if stuck:
            raise Crash(f"{len(stuck)} request(s) still running after the conversation closed (hang)")
        for future in self.pending:
            if not future.cancelled():
                self._check_done(future)
        if errors:
            record = errors[0]
            raise Crash(f"the server logged an error: {record.getMessage()} "
                        f"{record.exc_info[1]!r}" if record.exc_info else record.getMessage())

    async def _conversation(self) -> None:
        # Inside the loop, as under a transport: tasks of requests that wait belong to it.
        try:
            await self._feed_all()
            await self._passes(SETTLE_PASSES)
        finally:
            self.conversation.close()
        await self._passes(CLOSE_PASSES)

    async def _passes(self, count: int) -> None:
        for _ in range(count):
            if all(f.done() for f in self.pending):
                return
            await asyncio.sleep(0)

    async def _feed_all(self) -> None:
        if not self.modern and self.mode & PREPARE:
            version = seeds.BATCH_VERSION if self.mode & BATCH_VERSION else seeds.SESSION_VERSION
            self._feed({**seeds.SESSION_MESSAGES[0], "params": {**seeds.SESSION_MESSAGES[0]["params"],
                                                                "protocolVersion": version}})
        answers = iter(self.messages[1:] if self.mode & ANSWER else ())
        for value in self.messages:
            self._feed(enveloped(value) if self.modern and self.mode & PREPARE else value)
            await asyncio.sleep(0)
            while self.outbox.server_requests and self.mode & ANSWER:
                request = self.outbox.server_requests.pop(0)
                self._feed(answer_to(request, next(answers, {})))

    def _feed(self, value: Any) -> None:
        try:
            reply = self.conversation.receive(value, self.outbox)
        except jsonrpc.JsonRpcError as exc:
            check_answer(exc.to_response(), False)
            return
        except Exception as exc:  # noqa: BLE001 - the very thing the fuzzer looks for
            raise Crash(f"receive raised {exc!r}") from exc
        if is_pending(reply):
            self.pending.append(reply)  # type: ignore[arg-type]
        elif reply is not None:
            check_answer(reply, self.modern)

    def _check_done(self, future: asyncio.Future[Any]) -> None:
        exc = future.exception()
        if exc is not None:
            raise Crash(f"a request's task failed: {exc!r}") from exc
        if future.result() is not None:
            check_answer(future.result(), self.modern)


def drive(data: bytes) -> None:
    Drive(data).run()
