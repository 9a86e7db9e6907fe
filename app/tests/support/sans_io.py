"""Feeding a sans-I/O core (wire/) the bytes a connection would read, whole or in pieces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def fed(receive: Callable[[bytes], None], take: Callable[[], Any], data: bytes, pieces: int = 0) -> list[Any]:
    """Everything `take()` gives (until None) while `data` is given to `receive`, `pieces` bytes at a time."""
    out = []
    step = pieces or len(data) or 1
    for at in range(0, len(data), step):
        receive(data[at:at + step])
        while (item := take()) is not None:
            out.append(item)
    return out
