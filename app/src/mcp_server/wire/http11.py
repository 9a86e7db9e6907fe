"""HTTP/1.1 for a server, without I/O: bytes in, requests out; an answer's framing, bytes out.

`RequestReader` is fed what a connection reads (`receive_data`) and gives one whole request at a
time (`next_request`), as h11's `receive_data`/`next_event` do. The parsing is llhttp's (through
httptools: the parser of Node.js and uvicorn), in its strict mode: lines end in CRLF (a bare LF is
refused), no obs-fold, chunk size lines are hex digits with well-formed extensions, chunk sizes and
Content-Length are bounded integers, and Content-Length beside Transfer-Encoding, duplicate
Content-Lengths and a Transfer-Encoding that does not end in `chunked` are refused: the forms that
let a front end and this server disagree about where a request ends.

What llhttp leaves to its user is here, each in one place:
- limits that hold while bytes arrive: a head over `max_head` bytes is refused (431) before it is
  whole, a body over `max_body` as soon as a Content-Length announces it or a chunked body's bytes
  pass it (413), so what one connection can make the server hold is bounded whatever it sends;
- one request at a time: bytes are handed to llhttp in slices and no more are parsed once a
  request is whole, so a pipelined burst waits in the buffer (which the shell bounds by pausing the
  transport) instead of becoming thousands of parsed requests;
- only HTTP/1.0 and HTTP/1.1 (505 otherwise); trailer fields are read and dropped.

A head is measured in the slices it arrives in (llhttp does not say where in a slice a request
began), so one whose first bytes come late in a slice can be refused up to `HEAD_SLICE` bytes
before `max_head`.

`ResponseFraming` turns an answer's status, headers and body pieces into bytes by the rules
Tornado's HTTP1Connection applies (chunked when the length is unknown on HTTP/1.1, `Connection:
close` or `Keep-Alive` as the request allows, no body for HEAD/204/304, exactly Content-Length).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import httptools

HEAD_SLICE = 4096  # bytes handed to the parser at a time while no body is being read
BODY_SLICE = 65536  # ... and while one is
CRLF = b"\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"
_VERSIONS = ("1.1", "1.0")


class Refusal(Exception):
    """A request that cannot be read: the status to answer with and what is wrong. The connection
    ends after the answer."""

    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message

    def answer(self) -> bytes:
        body = self.message.encode("utf-8", "replace") + b"\n"
        return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s" % (self.status, self.reason.encode(), len(body), body))


class Headers(Mapping[str, str]):
    """A request's header fields, looked up whatever the case of the name, a repeated field's values
    joined with a comma (as Tornado's HTTPHeaders); `fields` keeps them as received. Building one
    costs a third of an HTTPHeaders (whose every assignment normalizes the name), and the fast path
    only looks fields up."""

    __slots__ = ("fields", "_values")

    def __init__(self, fields: list[tuple[str, str]]):
        self.fields = fields
        values: dict[str, str] = {}
        for name, value in fields:
            key = name.lower()
            values[key] = value if key not in values else values[key] + "," + value
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._values.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Request:
    """A whole request: start line, header fields (names as sent, values without surrounding
    whitespace), the body, and what the connection does after it."""

    __slots__ = ("method", "target", "version", "headers", "body", "keep_alive", "upgrade")

    def __init__(self, method: str, target: str, version: str, headers: Headers, body: bytes,
                 keep_alive: bool, upgrade: bool):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive
        self.upgrade = upgrade


class RequestReader:
    """Requests cut from a connection's bytes, one at a time (see the module's docstring)."""

    def __init__(self, max_head: int, max_body: int):
        self.max_head = max_head
        self.max_body = max_body
        self._parser = httptools.HttpRequestParser(self)
        self._unparsed: deque[bytes] = deque()
        self._unparsed_size = 0
        self._whole: deque[Request | Refusal] = deque()  # read but not yet taken, in order
        self._stopped = False  # after an upgrade request or a refusal nothing more is parsed
        self._refused = False
        self._after_upgrade = bytearray()  # what followed an upgrade request: not HTTP
        self._refusal: Refusal | None = None  # set by a callback, raised once the slice is parsed
        # the request being read
        self._in_head = False
        self._in_body = False
        self._head_size = 0
        self._target: list[bytes] = []
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._body_size = 0
        self._continue = False  # Expect: 100-continue, not answered yet

    # --- what the shell calls ---------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes the connection read, in order."""
        if not self._stopped:
            self._unparsed.append(data)
            self._unparsed_size += len(data)
        elif not self._refused:
            self._after_upgrade += data

    @property
    def buffered(self) -> int:
        """Bytes received and not parsed yet, or held after an upgrade request (the shell stops
        reading when they pile up)."""
        return self._unparsed_size + len(self._after_upgrade)

    @property
    def pending(self) -> bool:
        """Bytes or whole requests wait to be taken."""
        return bool(self._whole) or self._unparsed_size > 0

    @property
    def reading_head(self) -> bool:
        """Part of a head has arrived, not all of it."""
        return self._in_head

    @property
    def reading_body(self) -> bool:
        """A head has arrived and its body has not all arrived."""
        return self._in_body

    def next_request(self) -> Request | None:
        """The next whole request, or None until more bytes arrive. Raises Refusal for a request
        that cannot be read; nothing is read after it (or after an upgrade request)."""
        while not self._whole and self._unparsed and not self._stopped:
            self._parse_slice()
        if not self._whole:
            return None
        taken = self._whole.popleft()
        if isinstance(taken, Refusal):
            self._unparsed.clear()
            self._unparsed_size = 0
            raise taken
        return taken

    def take_continue(self) -> bool:
        """True once when the request being read asked for `100 Continue` and nothing read before
        it is still waiting: the shell sends CONTINUE then."""
        if self._continue and self._in_body and not self._whole:
            self._continue = False
            return True
        return False

    def after_upgrade(self) -> bytes:
        """The bytes that followed an upgrade request (the new protocol's), once it is taken."""
        rest = bytes(self._after_upgrade)
        self._after_upgrade = bytearray()
        return rest

    # --- parsing ----------------------------------------------------------------------------

    def _parse_slice(self) -> None:
        data = self._unparsed.popleft()
        limit = BODY_SLICE if self._in_body else HEAD_SLICE
        if len(data) > limit:
            self._unparsed.appendleft(data[limit:])
            data = data[:limit]
        self._unparsed_size -= len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._stopped = True
            self._after_upgrade += data[upgrade.args[0]:]
            for rest in self._unparsed:
                self._after_upgrade += rest
            self._unparsed.clear()
            self._unparsed_size = 0
        except httptools.HttpParserCallbackError:
            self._refuse_with(self._refusal or Refusal(400, "Bad Request", "the request could not be read"))
            return
        except httptools.HttpParserError as exc:
            self._refuse_with(self._refusal or Refusal(400, "Bad Request", _parser_message(exc)))
            return
        if self._refusal is not None:
            self._refuse_with(self._refusal)
            return
        if self._in_head:
            self._head_size += len(data)
            if self._head_size > self.max_head:
                self._refuse_with(Refusal(431, "Request Header Fields Too Large",
                                          f"the request head is over {self.max_head} bytes"))

    def _refuse_with(self, refusal: Refusal) -> None:
        self._whole.append(refusal)
        self._unparsed.clear()
        self._unparsed_size = 0
        self._stopped = self._refused = True
        self._in_head = self._in_body = False

    # --- httptools' callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_size = 0
        self._target = []
        self._headers = []
        self._body = []
        self._body_size = 0

    def on_url(self, url: bytes) -> None:
        self._target.append(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_body:
            return  # a trailer field: read and dropped
        self._headers.append((name.decode("latin-1"), value.decode("latin-1").strip(" \t")))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._in_body = True
        parser = self._parser
        if parser.get_http_version() not in _VERSIONS:
            self._refusal = Refusal(505, "HTTP Version Not Supported",
                                    f"HTTP/{parser.get_http_version()} is not served here: use HTTP/1.1")
            raise self._refusal
        length = None
        expect = None
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == "content-length":
                length = int(value)  # llhttp has checked it is one integer
            elif lowered == "expect":
                expect = value.lower()
        if length is not None and length > self.max_body:
            self._refusal = Refusal(413, "Content Too Large",
                                    f"Content-Length too long: {length} bytes, at most {self.max_body}")
            raise self._refusal
        self._continue = expect == "100-continue"

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self.max_body:
            self._refusal = Refusal(413, "Content Too Large", f"the body is over {self.max_body} bytes")
            raise self._refusal
        self._body.append(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        body = self._body
        self._whole.append(Request(
            parser.get_method().decode("ascii"), b"".join(self._target).decode("latin-1"),
            "HTTP/" + parser.get_http_version(), Headers(self._headers),
            body[0] if len(body) == 1 else b"".join(body), parser.should_keep_alive(), parser.should_upgrade()))
        self._in_head = self._in_body = False
        self._continue = False
        self._body = []


def _parser_message(exc: Exception) -> str:
    return f"malformed HTTP request: {exc}"


class ResponseFraming:
    """The bytes of one answer to `request` (see the module's docstring). `keep_alive` False, or an
    answer with `Connection: close`: the connection ends after it (the answer says so)."""

    __slots__ = ("version", "method", "keep_alive", "chunked", "remaining")

    def __init__(self, request: Request, keep_alive: bool):
        self.version = request.version
        self.method = request.method
        self.keep_alive = keep_alive
        self.chunked = False
        self.remaining: int | None = None  # bytes of the body still owed by Content-Length

    def head(self, status: int, reason: str, headers: Any, body: bytes = b"") -> bytes:
        """The status line and `headers` (Tornado's HTTPHeaders, or a mapping with `get_all()` whose
        names are in canonical case), and the first piece of the body. Raises ValueError for a header
        that would split the answer."""
        length = headers.get("Content-Length")
        connection = headers.get("Connection")
        fields = headers.get_all()
        if connection is not None and connection.lower() == "close":  # the answer itself ends the connection
            self.keep_alive = False
            fields = [(name, value) for name, value in fields if name != "Connection"]
        http11 = self.version == "HTTP/1.1"
        self.chunked = (http11 and self.method != "HEAD" and status not in (204, 304) and status >= 200
                        and length is None)
        extra = []
        if http11 and not self.keep_alive:
            extra.append("Connection: close")
        elif not http11 and self.keep_alive:
            extra.append("Connection: Keep-Alive")
        if self.chunked:
            extra.append("Transfer-Encoding: chunked")
        if self.method == "HEAD" or status == 304:
            self.remaining = 0
        elif length is not None:
            self.remaining = int(length)
        lines = [f"HTTP/1.1 {status} {reason}"]
        for name, value in fields:
            line = f"{name}: {value}"
            if "\r" in line or "\n" in line:
                raise ValueError(f"Illegal characters (CR or LF) in header: {line!r}")
            lines.append(line)
        out = "\r\n".join(lines + extra).encode("latin-1") + CRLF + CRLF
        return out + self.body(body) if body else out

    def body(self, piece: bytes) -> bytes:
        """A piece of the body, framed. Raises ValueError past the Content-Length."""
        if self.remaining is not None:
            self.remaining -= len(piece)
            if self.remaining < 0:
                raise ValueError("Tried to write more data than Content-Length")
        if self.chunked and piece:
            return b"%x\r\n%s\r\n" % (len(piece), piece)
        return piece

    def end(self) -> bytes:
        """The end of the answer. Raises ValueError if the body is short of its Content-Length."""
        if self.remaining:
            raise ValueError(f"Tried to write {self.remaining} bytes less than Content-Length")
        return LAST_CHUNK if self.chunked else b""
