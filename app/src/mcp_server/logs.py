"""Logging: one JSON object (or one plain line) per record; access lines carry no query string."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson
from tornado.web import RequestHandler

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def setup(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Successful requests are logged at debug: probes would otherwise flood the log.
    logging.getLogger("tornado.access").setLevel(max(root.level, logging.INFO))


class _ProcessIndex(logging.Filter):
    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def filter(self, record: logging.LogRecord) -> bool:
        record.process_index = self.index
        return True


def name_process(index: int) -> None:
    """Every record of this process carries `process_index` (one of several server processes)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_ProcessIndex(index))


def log_request(handler: RequestHandler) -> None:
    """Tornado access log without the query string (it may carry secrets) or any header."""
    status = handler.get_status()
    request = handler.request
    level = logging.DEBUG if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    logging.getLogger("tornado.access").log(
        level, "%s %s %d %.1fms", request.method, request.path, status, 1000.0 * request.request_time(),
        extra={"status": status, "method": request.method, "path": request.path})
