"""Request guards: bearer-token auth, Host and Origin allow-lists, rate limits (per connection or
session, and per principal or client address across connections)."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections import OrderedDict
from collections.abc import Iterable


class TokenAuth:
    """Checks `Authorization: Bearer <token>` (or Basic with the token as password,
    which is how WebSocket clients that only take a URL can send credentials).

    Every configured token is compared in constant time, and all of them are
    always compared, so timing says nothing about which one nearly matched.
    """

    def __init__(self, tokens: Iterable[str], disabled: bool = False):
        self._tokens = tuple(t.encode() for t in tokens)
        self.disabled = disabled
        if not disabled and not self._tokens:
            raise ValueError("auth is on but no token is configured")

    @property
    def count(self) -> int:
        return len(self._tokens)

    def check(self, authorization: str | None) -> bool:
        return self.disabled or self.match(authorization) is not None

    def match(self, authorization: str | None) -> int | None:
        """Which configured token the header presents (its position), or None."""
        presented = _credential(authorization)
        if presented is None:
            return None
        matched = None
        for index, token in enumerate(self._tokens):
            if hmac.compare_digest(presented, token):
                matched = index
        return matched


def _credential(header: str | None) -> bytes | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return value.encode()
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        _user, sep, password = decoded.partition(b":")
        return password if sep and password else None
    return None


class HostPolicy:
    """Host and Origin allow-lists against DNS rebinding."""

    def __init__(self, hosts: Iterable[str], origins: Iterable[str]):
        self._hosts = {h.lower() for h in hosts}
        self._any_host = "*" in self._hosts
        self._host_suffixes = tuple(h[1:] for h in self._hosts if h.startswith("*."))
        self._origins = {o.lower().rstrip("/") for o in origins}
        self._any_origin = "*" in self._origins

    @property
    def any_origin(self) -> bool:
        return self._any_origin

    def host_allowed(self, host_header: str | None) -> bool:
        if self._any_host:
            return True
        if not host_header:
            return False
        host = strip_port(host_header.strip().lower())
        return host in self._hosts or (bool(self._host_suffixes) and host.endswith(self._host_suffixes))

    def origin_allowed(self, origin: str | None) -> bool:
        """An Origin passes if it is listed, or if its host is an allowed Host.

        Non-browser clients send no Origin; browsers always do, and those are what rebinding abuses.
        """
        if origin is None:
            return True
        value = origin.strip().lower().rstrip("/")
        if self._any_origin or value in self._origins:
            return True
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in ("http", "https") or not rest or "/" in rest:
            return False
        return not self._any_host and self.host_allowed(rest)


def strip_port(host: str) -> str:
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name
    return host


class RateLimiter:
    """A token bucket: `rate` messages per second, bursts of up to `burst`."""

    __slots__ = ("rate", "burst", "_tokens", "_stamp")

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def allow(self) -> bool:
        if self.rate <= 0:
            return True
        tokens = self._tokens
        if tokens < self.burst:
            now = time.monotonic()
            tokens = min(self.burst, tokens + (now - self._stamp) * self.rate)
            self._stamp = now
        else:
            self._stamp = time.monotonic()
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return True
        self._tokens = tokens
        return False


class KeyedRateLimits:
    """A token bucket per key (a principal, a client address), so that a client does not start afresh
    with each new connection. At most `capacity` buckets are kept, the least recently used going
    first: keys a client can invent do not grow memory (a bucket dropped is full when it returns)."""

    def __init__(self, rate: float, burst: int, capacity: int = 10_000):
        self.rate = rate
        self.burst = burst
        self.capacity = capacity
        self._buckets: OrderedDict[str, RateLimiter] = OrderedDict()

    def allow(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = RateLimiter(self.rate, self.burst)
            if len(buckets) > self.capacity:
                buckets.popitem(last=False)
        else:
            buckets.move_to_end(key)
        return bucket.allow()
