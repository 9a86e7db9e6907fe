"""Unit tests of the pure parts: JSON-RPC framing, settings, guards, pagination."""

from __future__ import annotations

import base64
import time

import pytest

from mcp_server import jsonrpc
from mcp_server.catalog import decode_cursor, page
from mcp_server.config import ConfigError, Settings, settings_table
from mcp_server.security import HostPolicy, RateLimiter, TokenAuth, strip_port

OK_ENV = {"MCP_AUTH_TOKENS": "a-long-enough-token-123"}


class TestDecode:
    def test_parses_object(self):
        assert jsonrpc.decode(b'{"a": [1, {"b": 2}]}', 8) == {"a": [1, {"b": 2}]}

    def test_parse_error_names_the_problem(self):
        with pytest.raises(jsonrpc.JsonRpcError) as err:
            jsonrpc.decode(b'{"a": ', 8)
        assert err.value.code == jsonrpc.PARSE_ERROR

    def test_depth_limit(self):
        deep = b"[" * 65 + b"]" * 65
        with pytest.raises(jsonrpc.JsonRpcError) as err:
            jsonrpc.decode(deep, 64)
        assert "nesting deeper than 64" in err.value.message
        assert jsonrpc.decode(b"[" * 64 + b"]" * 64, 64) is not None

    def test_brackets_inside_strings_do_not_count(self):
        text = b'{"s": "' + b"[" * 200 + b'\\" {"}'
        assert jsonrpc.decode(text, 4) == {"s": "[" * 200 + '" {'}

    def test_many_shallow_containers_pass(self):
        wide = b"[" + b",".join([b"{}"] * 500) + b"]"
        assert len(jsonrpc.decode(wide, 4)) == 500


class TestClassify:
    @pytest.mark.parametrize("message,kind", [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, "request"),
        ({"jsonrpc": "2.0", "id": "x", "method": "ping", "params": {}}, "request"),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, "notification"),
        ({"jsonrpc": "2.0", "id": 3, "result": {}}, "response"),
        ({"jsonrpc": "2.0", "id": 3, "error": {"code": 1, "message": "m"}}, "response"),
    ])
    def test_kinds(self, message, kind):
        assert jsonrpc.classify(message) == kind

    @pytest.mark.parametrize("message,code,fragment", [
        ([], jsonrpc.INVALID_REQUEST, "must be an object"),
        ({"id": 1, "method": "ping"}, jsonrpc.INVALID_REQUEST, '"jsonrpc" must be "2.0"'),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, jsonrpc.INVALID_REQUEST, '"id" must be'),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, jsonrpc.INVALID_REQUEST, '"id" must be'),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, jsonrpc.INVALID_REQUEST, '"id" must be'),
        ({"jsonrpc": "2.0", "id": 1, "method": 7}, jsonrpc.INVALID_REQUEST, '"method" must be'),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]}, jsonrpc.INVALID_PARAMS, '"params" must be'),
        ({"jsonrpc": "2.0", "id": 1}, jsonrpc.INVALID_REQUEST, 'no "method"'),
    ])
    def test_faults_are_named(self, message, code, fragment):
        with pytest.raises(jsonrpc.JsonRpcError) as err:
            jsonrpc.classify(message)
        assert err.value.code == code
        assert fragment in err.value.message

    def test_error_keeps_a_valid_id(self):
        with pytest.raises(jsonrpc.JsonRpcError) as err:
            jsonrpc.classify({"jsonrpc": "1.0", "id": 9, "method": "ping"})
        assert err.value.to_response()["id"] == 9


class TestSettings:
    def test_defaults(self):
        s = Settings.from_env(OK_ENV)
        assert (s.port, s.max_message_bytes, s.mongodb_database) == (8080, 1048576, "mcp")
        assert not s.auth_disabled and not s.conformance_fixtures

    def test_every_bad_value_is_named(self):
        with pytest.raises(ConfigError) as err:
            Settings.from_env({**OK_ENV, "MCP_PORT": "http", "MCP_RATE_LIMIT": "-1", "MCP_AUTH_DISABLED": "maybe",
                               "MONGODB_URI": "postgres://x"})
        text = str(err.value)
        for name in ("MCP_PORT", "MCP_RATE_LIMIT", "MCP_AUTH_DISABLED", "MONGODB_URI"):
            assert name in text
        assert "postgres://x" not in text  # the URI is secret: shown as (hidden)

    def test_auth_needs_a_token_or_explicit_off(self):
        with pytest.raises(ConfigError, match="MCP_AUTH_DISABLED=true"):
            Settings.from_env({})
        assert Settings.from_env({"MCP_AUTH_DISABLED": "true"}).auth_disabled

    def test_short_tokens_refused_without_showing_them(self):
        with pytest.raises(ConfigError) as err:
            Settings.from_env({"MCP_AUTH_TOKENS": "short"})
        assert "shorter than 16" in str(err.value) and "short," not in str(err.value)

    def test_tokens_file(self, tmp_path):
        path = tmp_path / "tokens"
        path.write_text("# comment\nfile-token-abcdefghijkl\n\n")
        s = Settings.from_env({"MCP_AUTH_TOKENS_FILE": str(path)})
        assert s.load_tokens() == ("file-token-abcdefghijkl",)
        missing = Settings.from_env({"MCP_AUTH_TOKENS_FILE": str(tmp_path / "nope")})
        with pytest.raises(ConfigError, match="MCP_AUTH_TOKENS_FILE"):
            missing.load_tokens()

    def test_table_lists_every_variable(self):
        table = settings_table()
        assert "`MCP_DRAIN_SECONDS`" in table and "`MONGODB_URI`" in table


class TestAuth:
    def test_bearer_and_basic(self):
        auth = TokenAuth(["tok-aaaaaaaaaaaaaaaa", "tok-bbbbbbbbbbbbbbbb"])
        assert auth.check("Bearer tok-bbbbbbbbbbbbbbbb")
        assert auth.check("bearer tok-aaaaaaaaaaaaaaaa")
        basic = base64.b64encode(b"mcp:tok-aaaaaaaaaaaaaaaa").decode()
        assert auth.check(f"Basic {basic}")
        assert not auth.check("Bearer tok-cccccccccccccccc")
        assert not auth.check(None) and not auth.check("") and not auth.check("Bearer")
        assert not auth.check("Basic !!notbase64")

    def test_disabled_only_explicitly(self):
        with pytest.raises(ValueError):
            TokenAuth([])
        assert TokenAuth([], disabled=True).check(None)


class TestHostPolicy:
    def test_hosts(self):
        policy = HostPolicy(["localhost", "*.svc.cluster.local", "[::1]"], [])
        assert policy.host_allowed("localhost:8080")
        assert policy.host_allowed("mcp.mcp-server.svc.cluster.local")
        assert policy.host_allowed("[::1]:80")
        assert not policy.host_allowed("evil.example")
        assert not policy.host_allowed(None)

    def test_origins(self):
        policy = HostPolicy(["*"], ["http://localhost:3000"])
        assert policy.origin_allowed(None)
        assert policy.origin_allowed("http://localhost:3000/")
        assert not policy.origin_allowed("http://evil.example")
        assert not policy.origin_allowed("http://localhost:4000")  # any Host does not mean any Origin

    def test_origin_of_an_allowed_host_passes(self):
        policy = HostPolicy(["localhost", "[::1]"], [])
        assert policy.origin_allowed("http://localhost:5173")
        assert policy.origin_allowed("https://[::1]:8443")
        assert not policy.origin_allowed("http://evil.example.com")
        assert not policy.origin_allowed("null")

    def test_strip_port(self):
        assert strip_port("a:1") == "a" and strip_port("[::1]:9") == "[::1]" and strip_port("b") == "b"


def test_rate_limiter_allows_burst_then_refuses():
    limiter = RateLimiter(rate=1, burst=3)
    assert [limiter.allow() for _ in range(4)] == [True, True, True, False]
    assert RateLimiter(rate=0, burst=1).allow()


def test_pagination_round_trip():
    items = list(range(7))
    first, cursor = page(items, None, 3)
    second, cursor2 = page(items, cursor, 3)
    third, cursor3 = page(items, cursor2, 3)
    assert first + second + third == items and cursor3 is None
    with pytest.raises(jsonrpc.JsonRpcError):
        decode_cursor("%%%")


# --- request-state sealing (sealing.py) ------------------------------------------------------

def test_a_sealed_state_opens_with_the_key_and_any_rotated_one_and_not_otherwise():
    from mcp_server.sealing import Sealer, StateError
    old, new = b"o" * 32, b"n" * 32
    sealed = Sealer([old]).seal({"a": {"k": 1}})
    assert Sealer([new, old]).open(sealed) == {"a": {"k": 1}}  # rotation: the new key seals, the old still opens
    for bad in (sealed[:-3] + "xyz", sealed.replace("s1.", "s2.", 1), "", 42, "s1.only-a-body"):
        with pytest.raises(StateError):
            Sealer([new, old]).open(bad)
    with pytest.raises(StateError, match="altered or sealed with a key"):
        Sealer([new]).open(sealed)
    with pytest.raises(ValueError):
        Sealer([b"short"])


def test_a_sealed_state_expires(monkeypatch):
    from mcp_server import sealing
    sealer = sealing.Sealer([b"k" * 32], ttl_seconds=10)
    sealed = sealer.seal({"x": 1})
    now = time.time()
    monkeypatch.setattr(sealing.time, "time", lambda: now + 11)
    with pytest.raises(sealing.StateError, match="expired"):
        sealer.open(sealed)


# --- SEP-2243 header values (http_headers.py) --------------------------------------------------

def test_mcp_param_values_are_literal_or_strict_base64():
    from mcp_server.http_headers import decode_param
    from mcp_server.jsonrpc import JsonRpcError
    assert decode_param("  eu-north ", "Region") == "eu-north"
    assert decode_param("=?base64?SGVsbG8sIOS4lueVjA==?=", "Region") == "Hello, 世界"
    assert decode_param("=?base64?SGVsbG8=", "Region") == "=?base64?SGVsbG8="  # no suffix: literal
    for bad in ("=?base64?SGVsbG8?=", "=?base64?SGVs!!!bG8=?=", "=?base64?/w==?="):  # padding, alphabet, not UTF-8
        with pytest.raises(JsonRpcError) as caught:
            decode_param(bad, "Region")
        assert caught.value.code == -32020 and "Mcp-Param-Region" in caught.value.message


def test_every_served_tool_schema_is_portable():
    """The MCP Inspector's `--strict` check: a `type` that is a list (["string", "null"]) is legal JSON
    Schema that one-type dialects (Gemini's function declarations) refuse; anyOf says the same."""
    from mcp_server.catalog import Catalog
    from mcp_server.tools import notes, websearch

    catalog = Catalog(50)
    notes.register(catalog, notes.NotesStore(None, 50))  # type: ignore[arg-type]  # never called here
    websearch.register(catalog, websearch.WebSearch(None, "", 1, 0))  # type: ignore[arg-type]

    def list_types(schema, path):
        if isinstance(schema, dict):
            if isinstance(schema.get("type"), list):
                yield path
            for key, value in schema.items():
                yield from list_types(value, f"{path}.{key}")
        elif isinstance(schema, list):
            for index, value in enumerate(schema):
                yield from list_types(value, f"{path}[{index}]")

    described = catalog.list_tools(None)["tools"]
    assert len(described) == 6
    found = [p for tool in described for key in ("inputSchema", "outputSchema")
             for p in list_types(tool.get(key), f"{tool['name']}.{key}")]
    assert found == []
