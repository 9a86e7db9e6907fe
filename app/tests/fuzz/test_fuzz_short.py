"""`make test`'s share of the fuzzing: a short fixed-seed run of each fuzzer (`make fuzz` runs
100,000 inputs each); each must run its inputs with no crash and no hang."""

from __future__ import annotations

import pytest

from fuzz.run import run_atheris, run_http, run_websocket
from fuzz.ws_run import SERVER_SETTINGS

SEED = 20260728


@pytest.mark.parametrize("harness, runs", [("jsonrpc", 4000), ("core", 6000)])
def test_atheris_harness_fixed_seed(harness, runs, tmp_path):
    result = run_atheris(harness, runs, SEED, tmp_path)
    assert result.ok, "\n".join(result.details)
    assert result.inputs >= runs


def test_websocket_frames_fixed_seed(make_server):
    server = make_server(**SERVER_SETTINGS)
    result = run_websocket(4000, SEED, server)
    assert result.ok, "\n".join([result.summary, *result.details])
    assert result.inputs >= 4000 and "0 errors" in result.summary


def test_http_fixed_seed(make_server):
    server = make_server(**SERVER_SETTINGS)
    result = run_http(4000, SEED, server)
    assert result.ok, "\n".join([result.summary, *result.details])
    assert result.inputs >= 4000
