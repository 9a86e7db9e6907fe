"""A structure-aware mutator for libFuzzer: inputs are a mode byte and JSON messages one a line;
most mutations change one node of one message (another type, a boundary value, a token, a key
dropped or added), the rest are libFuzzer's own byte mutations. Type confusion deep inside a
message is what byte flips rarely reach."""

from __future__ import annotations

import json
import random
from typing import Any

import atheris

from fuzz import seeds

ODD_VALUES: list[Any] = [None, True, False, 0, -1, 1.5, -0.0, 2**63 - 1, 2**64 - 1, -(2**63), 1e308, "", "x",
                         "\u0000", "\ud7ff\ue000", [], [1], [[]], {}, {"a": 1}, {"": None}]
SEED_MESSAGES = seeds.SESSION_MESSAGES + seeds.MODERN_MESSAGES


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every node under `value` (the root is the empty path)."""
    found, stack = [path], [(value, path)]
    while stack:
        item, at = stack.pop()
        children = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        for key, child in children:
            found.append(at + (key,))
            stack.append((child, at + (key,)))
    return found


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        root = root[key]
    return root


def _odd(rng: random.Random) -> Any:
    if rng.random() < 0.5:
        return rng.choice(seeds.TOKENS)
    value = rng.choice(ODD_VALUES)
    return json.loads(json.dumps(value))  # a fresh copy


def _mutate_message(message: Any, rng: random.Random) -> Any:
    path = rng.choice(_nodes(message))
    if not path:
        return _odd(rng)
    parent, key = _parent(message, path), path[-1]
    action = rng.randrange(4)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[rng.choice(seeds.TOKENS)] = _odd(rng)
    elif action == 2 and isinstance(parent[key], (dict, list)) and parent[key]:
        parent[key] = rng.choice(list(parent[key].values()) if isinstance(parent[key], dict) else parent[key])
    else:
        parent[key] = _odd(rng)
    return message


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if not data or rng.random() < 0.25:
        return atheris.Mutate(data, max_size)
    mode, lines = data[:1], data[1:].split(b"\n")
    index = rng.randrange(len(lines))
    action = rng.randrange(10)
    if action == 0:
        mode = bytes([rng.randrange(256)])
    elif action == 1:
        lines.insert(rng.randrange(len(lines) + 1), json.dumps(rng.choice(SEED_MESSAGES)).encode())
    elif action == 2 and len(lines) > 1:
        del lines[index]
    else:
        try:
            message = json.loads(lines[index])
        except ValueError:
            return atheris.Mutate(data, max_size)
        lines[index] = json.dumps(_mutate_message(message, rng), ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass")
    return (mode + b"\n".join(lines))[:max_size]
