"""OAuth 2.1 resource server: JWT access tokens checked against the issuer's keys (JWKS).

`IssuerKeys` finds the issuer's JWKS through its metadata (RFC 8414, then OpenID discovery),
fetches it, keeps it, fetches it again every refresh interval and whenever a token names a key
it does not have (not more often than the minimum interval), so a key rotated at the issuer is
picked up without a restart. `JwtVerifier` turns a token into its claims or says why not.
Only asymmetric algorithms are accepted, and a key only with the algorithm its JWK names (or
its key type allows): `alg: none` and HMAC signed with a public key are refused before any
signature is looked at.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jwt
import orjson
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

log = logging.getLogger("mcp_server.oauth")

# Algorithms by the JWK key type that may use them.
ALGORITHMS_BY_KTY = {
    "RSA": ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    "EC": ("ES256", "ES384", "ES512"),
    "OKP": ("EdDSA",),
}
ALGORITHMS = frozenset(alg for algs in ALGORITHMS_BY_KTY.values() for alg in algs)
FETCH_TIMEOUT_SECONDS = 5.0


class InvalidToken(Exception):
    """The token is not acceptable; the message says why (it names no part of the token)."""


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched, so no token can be checked."""


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata may be: RFC 8414 (path after the well-known part), then OpenID's."""
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    return [f"{origin}/.well-known/oauth-authorization-server{path}",
            f"{issuer.rstrip('/')}/.well-known/openid-configuration"]


class IssuerKeys:
    """The issuer's signing keys by key id, kept fresh."""

    def __init__(self, issuer: str, jwks_url: str, refresh_seconds: float, min_interval_seconds: float):
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.refresh_seconds = refresh_seconds
        self.min_interval_seconds = min_interval_seconds
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at = float("-inf")  # last attempt, monotonic
        self._fetching: asyncio.Future[None] | None = None
        self.problem: str | None = "keys not fetched yet"

    @property
    def healthy(self) -> bool:
        """The last fetch worked (readiness)."""
        return self.problem is None

    def key(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def has_keys(self) -> bool:
        return bool(self._keys)

    def may_fetch(self) -> bool:
        """A fetch is under way (worth waiting for), or the last began long enough ago."""
        return self._fetching is not None or time.monotonic() - self._fetched_at >= self.min_interval_seconds

    async def refresh(self) -> None:
        """Fetch the keys now (callers arriving meanwhile share the same fetch)."""
        if self._fetching is None:
            self._fetching = asyncio.ensure_future(self._fetch())
        fetching = self._fetching
        try:
            await asyncio.shield(fetching)
        finally:
            if fetching.done() and self._fetching is fetching:
                self._fetching = None

    async def run(self) -> None:
        """Fetch at start, then every refresh interval (sooner, every few seconds, while failing)."""
        while True:
            await self.refresh()
            await asyncio.sleep(self.refresh_seconds if self.healthy else min(5.0, self.refresh_seconds))

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            url = self.jwks_url or await self._discover()
            document = await _get_json(url)
            keys = parse_jwks(document)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, no key is trusted from it
            self.problem = f"cannot fetch the signing keys of {self.issuer}: {_describe(exc)}"
            log.error("%s; tokens are refused until it works", self.problem)
            return
        self.load(keys)

    def load(self, keys: dict[str, SigningKey]) -> None:
        """Takes `keys` (a JWKS parsed by parse_jwks) as the issuer's keys, unless there is none."""
        if not keys:
            self.problem = f"the JWKS of {self.issuer} has no usable signing key"
            log.error("%s", self.problem)
            return
        if set(keys) != set(self._keys):
            log.info("issuer keys", extra={"issuer": self.issuer, "kids": sorted(keys)})
        self._keys = keys
        self.problem = None

    async def _discover(self) -> str:
        last: Exception | None = None
        for url in metadata_urls(self.issuer):
            try:
                metadata = await _get_json(url)
            except (HTTPClientError, ValueError) as exc:
                last = exc
                continue
            if metadata.get("issuer") != self.issuer:
                raise ValueError(f"metadata at {url} names issuer {metadata.get('issuer')!r}")
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise ValueError(f"metadata at {url} has no jwks_uri")
            self.jwks_url = jwks_uri
            return jwks_uri
        raise ValueError(f"no authorization server metadata found ({_describe(last) if last else 'none'})")


async def _get_json(url: str) -> dict[str, Any]:
    response = await AsyncHTTPClient().fetch(url, request_timeout=FETCH_TIMEOUT_SECONDS,
                                             connect_timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False,
                                             headers={"Accept": "application/json"})
    value = orjson.loads(response.body)
    if not isinstance(value, dict):
        raise ValueError(f"{url} did not answer with a JSON object")
    return value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HTTPClientError):
        return f"HTTP {exc.code}" if exc.code != 599 else f"unreachable ({exc.message})"
    return str(exc) or type(exc).__name__


class SigningKey:
    """A public key and the algorithms it may verify: the one its JWK names, or its type's."""

    __slots__ = ("key", "algorithms")

    def __init__(self, key: Any, algorithms: tuple[str, ...]):
        self.key = key
        self.algorithms = algorithms


def parse_jwks(document: Mapping[str, Any]) -> dict[str, SigningKey]:
    """The signing keys of a JWKS by kid; keys for encryption or of unknown types are left out."""
    keys: dict[str, SigningKey] = {}
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("the JWKS has no 'keys' list")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or entry.get("kty") not in ALGORITHMS_BY_KTY:
            continue
        alg = entry.get("alg")
        if alg is not None and alg not in ALGORITHMS:
            continue
        try:
            key = jwt.PyJWK(entry, algorithm=alg or ALGORITHMS_BY_KTY[entry["kty"]][0])
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        keys[str(entry.get("kid", ""))] = SigningKey(key.key, (alg,) if alg else ALGORITHMS_BY_KTY[entry["kty"]])
    return keys


class NeedKeys(Exception):
    """The token names a key not in hand: fetch the keys, then verify again."""


class JwtVerifier:
    def __init__(self, keys: IssuerKeys, audience: str, leeway: int):
        self.keys = keys
        self.audience = audience
        self.leeway = leeway

    def verify(self, token: str, fetch_allowed: bool = True) -> dict[str, Any]:
        """The token's claims, or InvalidToken; NeedKeys when fetching the keys may help, and
        KeysUnavailable when there are none to check against."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:  # not a JWT, or a header of the wrong shape (a kid that is not a string)
            raise InvalidToken("malformed token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise InvalidToken("the token's algorithm is not accepted")
        kid = header.get("kid")
        key = self.keys.key(kid if isinstance(kid, str) else None)
        if key is None:
            if fetch_allowed and self.keys.may_fetch():
                raise NeedKeys()
            if not self.keys.has_keys():
                raise KeysUnavailable(self.keys.problem or "no keys")
            raise InvalidToken("signed by an unknown key")
        if alg not in key.algorithms:
            raise InvalidToken(f"algorithm {alg} does not fit the key")
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg], audience=self.audience, issuer=self.keys.issuer,
                              leeway=self.leeway, options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("token is not meant for this resource (aud)") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("token is from another issuer (iss)") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("token not valid yet (nbf/iat)") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("bad signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError:
            raise InvalidToken("invalid token") from None
        for claim in ("exp", "nbf", "iat"):  # PyJWT takes numeric strings too: a string exp would never expire
            value = claims.get(claim)
            if claim in claims and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                raise InvalidToken(f"the {claim!r} claim is not a number")
        return claims
