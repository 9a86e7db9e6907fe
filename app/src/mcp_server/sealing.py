"""Sealed request state: what a 2026-07-28 input-required result hands the client to send back.

The state travels through the client, so it is signed (HMAC-SHA256) with a key every replica
shares, and carries its own expiry: any replica can open what another sealed, and a state that
was altered, sealed with an unknown key, or is past its expiry is refused. It is signed, not
encrypted: it holds only what the client itself sent (the answers it gave so far) and which
request it belongs to.

Keys come from MCP_STATE_KEYS / MCP_STATE_KEYS_FILE (one per line; the first seals, every one
opens, so a key can be rotated without refusing states in flight).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any

import orjson

log = logging.getLogger("mcp_server.sealing")

PREFIX = b"s1."
MIN_KEY_BYTES = 32


class StateError(ValueError):
    """The state cannot be opened; the message says why (malformed, altered, expired)."""


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


class Sealer:
    def __init__(self, keys: Sequence[bytes], ttl_seconds: float = 600.0):
        if not keys:
            raise ValueError("at least one key is needed")
        short = [k for k in keys if len(k) < MIN_KEY_BYTES]
        if short:
            raise ValueError(f"state keys must be at least {MIN_KEY_BYTES} bytes")
        self._keys = [hmac.new(k, b"mcp-request-state", hashlib.sha256).digest() for k in keys]
        self.ttl_seconds = ttl_seconds

    @classmethod
    def ephemeral(cls, ttl_seconds: float = 600.0) -> Sealer:
        """A random key for this process alone: states cannot move to another replica."""
        return cls([secrets.token_bytes(32)], ttl_seconds)

    def seal(self, state: dict[str, Any]) -> str:
        body = _b64(orjson.dumps({"x": int(time.time() + self.ttl_seconds), "s": state}))
        mac = hmac.new(self._keys[0], body, hashlib.sha256).digest()
        return (PREFIX + body + b"." + _b64(mac)).decode()

    def open(self, sealed: Any) -> dict[str, Any]:
        if not isinstance(sealed, str) or not sealed.startswith(PREFIX.decode()):
            raise StateError("requestState is not a state this server issued")
        body, _sep, mac = sealed.encode()[len(PREFIX):].partition(b".")
        try:
            given = _unb64(mac)
        except ValueError:
            raise StateError("requestState is malformed") from None
        if not any(hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), given) for key in self._keys):
            raise StateError("requestState was altered or sealed with a key this server does not hold")
        try:
            payload = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            raise StateError("requestState is malformed") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("x"), int) \
                or not isinstance(payload.get("s"), dict):
            raise StateError("requestState is malformed")
        if payload["x"] < time.time():
            raise StateError("requestState has expired; send the request again without it")
        return payload["s"]
