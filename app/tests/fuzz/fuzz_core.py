"""atheris harness: the protocol core of both eras (2025-11-25 sessions, 2026-07-28 stateless
requests) fed decoded messages; core_driver says what counts as a crash."""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["mcp_server"]):
    from fuzz import core_driver

from fuzz import seeds

CORPUS = {
    bytes([core_driver.PREPARE | core_driver.ANSWER]): seeds.SESSION_MESSAGES,
    bytes([core_driver.ERA_MODERN | core_driver.PREPARE]): seeds.MODERN_MESSAGES,
    bytes([core_driver.OPEN_FOR]): seeds.SESSION_MESSAGES[:3] + seeds.MODERN_MESSAGES[:3],
}

if __name__ == "__main__":
    from fuzz import launch

    launch.launch(core_driver.drive, CORPUS)
