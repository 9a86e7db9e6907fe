# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small MCP client on the standard library only (modules run wherever Ansible runs them):
Streamable HTTP over urllib and WebSocket (RFC 6455) over a plain socket."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import struct
import urllib.error
import urllib.parse

from ansible.module_utils.urls import open_url

PROTOCOL_VERSION = "2025-11-25"  # the session era: initialize first
MODERN_PROTOCOL_VERSION = "2026-07-28"  # stateless: every request carries its _meta envelope
PROTOCOL_VERSIONS = (MODERN_PROTOCOL_VERSION, PROTOCOL_VERSION)
CLIENT_INFO = {"name": "kringen.mcp_server.mcp_probe", "version": "1.0.0"}
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
NAME_FIELD = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


def _message(request_id, method, params, modern):
    """A JSON-RPC message; in the stateless era with the _meta envelope (and no capabilities asked for)."""
    message = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        message["id"] = request_id
    if modern:
        params = dict(params or {})
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
                           "io.modelcontextprotocol/clientCapabilities": {},
                           "io.modelcontextprotocol/clientInfo": CLIENT_INFO}
    if params is not None:
        message["params"] = params
    return message


class McpProbeError(Exception):
    """A step of the probe failed; the message says which and why."""


def _auth_headers(token):
    return {"Authorization": "Bearer " + token} if token else {}


def http_get(url, timeout, validate_certs=True):
    try:
        with open_url(url, method="GET", timeout=timeout, validate_certs=validate_certs) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise McpProbeError("GET %s failed: %s" % (url, getattr(exc, "reason", exc))) from None


class StreamableHttpClient:
    def __init__(self, url, token=None, timeout=10.0, validate_certs=True, modern=False):
        self.url = url
        self.token = token
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.modern = modern
        self.session_id = None
        self.protocol_version = MODERN_PROTOCOL_VERSION if modern else None
        self._next_id = 0

    def _post(self, message):
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        headers.update(_auth_headers(self.token))
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        if self.modern:  # SEP-2243: the routing headers repeat the body's method and target
            headers["Mcp-Method"] = message["method"]
            name = (message.get("params") or {}).get(NAME_FIELD.get(message["method"], ""))
            if isinstance(name, str):
                headers["Mcp-Name"] = name
        try:
            with open_url(self.url, data=json.dumps(message).encode(), headers=headers, method="POST",
                          timeout=self.timeout, validate_certs=self.validate_certs) as response:
                body = response.read().decode("utf-8", "replace")
                return response.status, response.headers, body
        except urllib.error.HTTPError as exc:
            raise McpProbeError("POST %s answered HTTP %s: %s" % (
                self.url, exc.code, exc.read().decode("utf-8", "replace")[:300])) from None
        except (urllib.error.URLError, OSError) as exc:
            raise McpProbeError("POST %s failed: %s" % (self.url, getattr(exc, "reason", exc))) from None

    def request(self, method, params=None):
        self._next_id += 1
        _status, headers, body = self._post(_message(self._next_id, method, params, self.modern))
        if method == "initialize":
            self.session_id = headers.get("Mcp-Session-Id")
        content_type = headers.get("Content-Type", "")
        if content_type.startswith("text/event-stream"):
            for line in body.splitlines():
                if line.startswith("data:") and line[5:].strip():
                    reply = json.loads(line[5:])
                    if reply.get("id") == self._next_id:
                        return _result(method, reply)
            raise McpProbeError("%s: the SSE answer carried no response" % method)
        return _result(method, json.loads(body))

    def notify(self, method, params=None):
        status, _headers, _body = self._post(_message(None, method, params, False))
        if status != 202:
            raise McpProbeError("%s: expected HTTP 202, got %s" % (method, status))

    def close(self):
        if not self.session_id:
            return
        headers = {"Mcp-Session-Id": self.session_id}
        headers.update(_auth_headers(self.token))
        try:
            open_url(self.url, headers=headers, method="DELETE", timeout=self.timeout,
                     validate_certs=self.validate_certs).close()
        except (urllib.error.URLError, OSError):
            pass


class WebSocketClient:
    """Just enough RFC 6455 for a probe: client handshake, masked text frames, ping/pong, close."""

    def __init__(self, url, token=None, timeout=10.0, validate_certs=True, modern=False):
        self.modern = modern
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise McpProbeError("WebSocket URL must start with ws:// or wss://, got %s" % url)
        self.timeout = timeout
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        try:
            sock = socket.create_connection((parts.hostname, port), timeout=timeout)
        except OSError as exc:
            raise McpProbeError("cannot connect to %s:%s: %s" % (parts.hostname, port, exc)) from None
        if parts.scheme == "wss":
            context = ssl.create_default_context() if validate_certs else ssl._create_unverified_context()  # noqa: SLF001
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        self.sock = sock
        self._buffer = b""
        self._next_id = 0
        self.close_code = None
        self.notifications = []
        self._handshake(parts, token)

    def _handshake(self, parts, token):
        key = base64.b64encode(os.urandom(16)).decode()
        path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        host = parts.netloc.rsplit("@", 1)[-1]
        lines = ["GET %s HTTP/1.1" % path, "Host: %s" % host, "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: %s" % key, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: mcp"]
        lines += ["%s: %s" % item for item in _auth_headers(token).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = self._read_until(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if " 101 " not in status_line + " ":
            raise McpProbeError("WebSocket upgrade refused: %s" % status_line)
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _sep, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.subprotocol = headers.get("sec-websocket-protocol")

    def _read_until(self, marker):
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise McpProbeError("connection closed during the WebSocket handshake")
            self._buffer += chunk
        head, _sep, self._buffer = self._buffer.partition(marker)
        return head

    def _read_exact(self, count):
        while len(self._buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise McpProbeError("connection closed by the server (close code %s)" % self.close_code)
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _recv_frame(self):
        first, second = self._read_exact(2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read_exact(8))[0]
        payload = self._read_exact(length)
        return opcode, payload

    def recv_message(self):
        while True:
            opcode, payload = self._recv_frame()
            if opcode == 0x1:
                return json.loads(payload.decode("utf-8"))
            if opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise McpProbeError("server closed the WebSocket (code %s)" % self.close_code)

    def request(self, method, params=None):
        self._next_id += 1
        self._send_frame(0x1, json.dumps(_message(self._next_id, method, params, self.modern)).encode())
        while True:
            reply = self.recv_message()
            if reply.get("id") == self._next_id and ("result" in reply or "error" in reply):
                return _result(method, reply)
            self.notifications.append(reply)

    def notify(self, method, params=None):
        self._send_frame(0x1, json.dumps(_message(None, method, params, False)).encode())

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
            self.sock.close()
        except OSError:
            pass


def _result(method, reply):
    if "error" in reply:
        error = reply["error"]
        raise McpProbeError("%s answered JSON-RPC error %s: %s" % (method, error.get("code"), error.get("message")))
    return reply.get("result")


def connect(url, token=None, timeout=10.0, validate_certs=True, protocol_version=MODERN_PROTOCOL_VERSION):
    modern = protocol_version == MODERN_PROTOCOL_VERSION
    if url.startswith(("ws://", "wss://")):
        return WebSocketClient(url, token, timeout, validate_certs, modern)
    if url.startswith(("http://", "https://")):
        return StreamableHttpClient(url, token, timeout, validate_certs, modern)
    raise McpProbeError("url must start with ws://, wss://, http:// or https://, got %s" % url)


def open_conversation(client):
    """What the server says about itself: server/discover (2026-07-28) or initialize (2025-11-25).
    Returns (the protocol version in use, the server's serverInfo)."""
    if client.modern:
        result = client.request("server/discover")
        versions = result.get("supportedVersions") or []
        if MODERN_PROTOCOL_VERSION not in versions:
            raise McpProbeError("server/discover does not list %s (it lists %s)" % (
                MODERN_PROTOCOL_VERSION, ", ".join(versions) or "nothing"))
        return MODERN_PROTOCOL_VERSION, (result.get("_meta") or {}).get(SERVER_INFO_META, {})
    result = client.request("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                           "clientInfo": CLIENT_INFO})
    if isinstance(client, StreamableHttpClient):
        client.protocol_version = result.get("protocolVersion")
    client.notify("notifications/initialized")
    return result.get("protocolVersion"), result.get("serverInfo", {})
