"""header_block.parse_header_block reads every header block as Tornado's HTTPHeaders.parse does:
the same headers, or the same error."""

from __future__ import annotations

import random

import pytest
from tornado.httputil import HTTPHeaders, HTTPInputError

from mcp_server.header_block import parse_header_block

ORDINARY = (
    "Host: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 297\r\n"
    "Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
    "Mcp-Method: tools/call\r\nMcp-Name: test_simple_text\r\nMcp-Protocol-Version: 2026-07-28\r\n"
)

CASES = [
    ORDINARY,
    ORDINARY.replace("\r\n", "\n"),  # lines ended by LF alone
    "",
    "\r\n",
    "content-TYPE: a\r\nCONTENT-type: b\r\n",  # one name, two spellings, two values
    "X-A: 1\r\nX-A: 2\r\nX-A: 3\r\n",
    "X-Empty:\r\nX-Spaces:   \t \r\n",
    "X-Inner:  a \t b  \r\n",
    "X-Obs: caf\xe9\r\n",  # obs-text, as latin-1 decodes it
    "Host: a\r\n\r\nX: b\r\n",  # an empty line in between
    "Host: a",  # no line end at all
    # refused, each with Tornado's message
    " X: folded\r\n",
    "\tX: folded\r\n",
    "X-A: 1\r\n continued\r\n",
    "no colon here\r\n",
    "Bad Name: x\r\n",
    "Host : x\r\n",
    ": no name\r\n",
    "X: a\rb\r\n",  # CR inside a value
    "X: a\r\r\n",
    "X: a\x00b\r\n",
    "X: a\x7fb\r\n",
    "X: a\x01\r\n",
    "X: a\r",
    "X\x80: a\r\n",
    "X: a\u0100\r\n",
]


def outcome(parse, block):
    try:
        headers = parse(block)
    except HTTPInputError as exc:
        return "refused", str(exc)
    return "headers", list(headers.get_all()), dict(headers)


@pytest.mark.parametrize("block", CASES)
def test_a_block_reads_as_tornado_reads_it(block):
    assert outcome(parse_header_block, block) == outcome(HTTPHeaders.parse, block)


@pytest.mark.parametrize("block", CASES[:11])
def test_a_well_formed_block_is_read_without_tornados_parser(block, monkeypatch):
    def not_this_way(*args, **kwargs):
        raise AssertionError("handed to HTTPHeaders.parse")

    monkeypatch.setattr(HTTPHeaders, "parse", not_this_way)
    parse_header_block(block)


def test_refused_blocks_name_the_problem():
    assert outcome(parse_header_block, "X: a\x00b\r\n") == ("refused", "Invalid header value 'a\\x00b'")
    assert outcome(parse_header_block, " X: folded\r\n")[1].startswith("header line cannot start with whitespace")


def test_random_blocks_read_as_tornado_reads_them():
    """Blocks cut from header-like pieces and stray characters, 20,000 of them, fixed seed."""
    pieces = ["Host", "X-A", "x-a", "Content-Length", ":", ": ", " ", "\t", "\r\n", "\n", "\r", "a", "1",
              "\x00", "\x7f", "\xe9", "\u0101", ",", "é", "(", "\x0b"]
    rng = random.Random(20261204)
    refused = 0
    for _ in range(20_000):
        block = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        expected = outcome(HTTPHeaders.parse, block)
        assert outcome(parse_header_block, block) == expected, repr(block)
        refused += expected[0] == "refused"
    assert 1_000 < refused < 19_000  # both kinds were tried
