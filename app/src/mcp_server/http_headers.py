"""The HTTP headers a 2026-07-28 request must carry (SEP-2243), checked against its body.

`MCP-Protocol-Version` equals `_meta`'s version; `Mcp-Method` equals the method; `Mcp-Name` the
tool or prompt name or the resource URI; and each tool argument whose schema has `x-mcp-header`
travels as `Mcp-Param-{Name}` too (non-ASCII values as `=?base64?...?=`). Gateways route on these
headers without reading bodies, so a mismatch is refused: HTTP 400 with -32020.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from tornado.httputil import HTTPHeaders

from .catalog import Catalog
from .jsonrpc import HEADER_MISMATCH, JsonRpcError

VERSION_HEADER = "MCP-Protocol-Version"
METHOD_HEADER = "Mcp-Method"
NAME_HEADER = "Mcp-Name"
PARAM_HEADER_PREFIX = "Mcp-Param-"
# Which params field Mcp-Name must equal, per method.
NAME_FIELD = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_BASE64 = re.compile(r"^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$")
_OWS = " \t"


def mismatch(message: str) -> JsonRpcError:
    return JsonRpcError(HEADER_MISMATCH, f"Header mismatch: {message}")


def check_version_header(headers: HTTPHeaders, meta_version: str) -> None:
    given = headers.get(VERSION_HEADER)
    if given is None:
        raise mismatch(f"the {VERSION_HEADER} header is required")
    if given.strip(_OWS) != meta_version:
        raise mismatch(f"{VERSION_HEADER} {given.strip(_OWS)!r} differs from _meta's protocol version {meta_version!r}")


def check_routing_headers(headers: HTTPHeaders, method: str, params: dict[str, Any], catalog: Catalog) -> None:
    given = headers.get(METHOD_HEADER)
    if given is None:
        raise mismatch(f"the {METHOD_HEADER} header is required")
    if given.strip(_OWS) != method:
        raise mismatch(f"{METHOD_HEADER} {given.strip(_OWS)!r} differs from the body's method {method!r}")
    field = NAME_FIELD.get(method)
    if field is None:
        return
    name = headers.get(NAME_HEADER)
    if name is None:
        raise mismatch(f"the {NAME_HEADER} header is required for {method}")
    if name.strip(_OWS) != params.get(field):
        raise mismatch(f"{NAME_HEADER} {name.strip(_OWS)!r} differs from the body's {field} {params.get(field)!r}")
    if method == "tools/call":
        tool = catalog.tools.get(params.get("name"))  # type: ignore[arg-type]
        if tool is not None and tool.header_params:
            arguments = params.get("arguments")
            _check_param_headers(headers, tool.header_params, arguments if isinstance(arguments, dict) else {})


def _check_param_headers(headers: HTTPHeaders, header_params: tuple[tuple[str, str], ...],
                         arguments: dict[str, Any]) -> None:
    for argument, header in header_params:
        raw = headers.get(PARAM_HEADER_PREFIX + header)
        present = argument in arguments and arguments[argument] is not None
        if raw is None:
            if present:
                raise mismatch(f"argument {argument!r} must also be sent as {PARAM_HEADER_PREFIX}{header}")
            continue
        if not present:
            raise mismatch(f"{PARAM_HEADER_PREFIX}{header} was sent but argument {argument!r} was not")
        if decode_param(raw, header) != _as_header_text(arguments[argument]):
            raise mismatch(f"{PARAM_HEADER_PREFIX}{header} differs from argument {argument!r}")


def decode_param(raw: str, header: str) -> str:
    """A Mcp-Param-* value: literal, or `=?base64?...?=` (strict: standard alphabet, padded)."""
    value = raw.strip(_OWS)
    if value.startswith("=?base64?") and value.endswith("?="):
        match = _BASE64.match(value)
        if match is None or len(match.group(1)) % 4:
            raise mismatch(f"{PARAM_HEADER_PREFIX}{header} is not valid =?base64?...?= text")
        try:
            return base64.b64decode(match.group(1), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise mismatch(f"{PARAM_HEADER_PREFIX}{header} is not valid =?base64?...?= text") from None
    return value


def _as_header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
