"""Starts an atheris harness: the seed corpus and dictionary in a temporary directory, libFuzzer's
flags from the command line (-runs=, -seed=, -timeout=, ...), crash files under -artifact_prefix."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

from fuzz import json_mutator, seeds


def launch(test_one_input: Callable[[bytes], None], corpus: dict[bytes, list[Any]]) -> None:
    """Fuzz `test_one_input` from `corpus` (mode byte -> the seed messages written after it)."""
    work = Path(tempfile.mkdtemp(prefix="mcp-fuzz-"))
    for index, (prefix, messages) in enumerate(corpus.items()):
        seeds.write_corpus(work / "corpus", messages, prefix) if index == 0 else \
            seeds.write_corpus(work / f"corpus-{index}", messages, prefix)
    seeds.write_dictionary(work / "tokens.dict")
    corpora = sorted(str(p) for p in work.iterdir() if p.is_dir())
    flags = [a for a in sys.argv[1:] if a.startswith("-")]
    if not any(a.startswith("-artifact_prefix=") for a in flags):
        flags.append(f"-artifact_prefix={work}/")
    atheris.Setup([sys.argv[0], *flags, f"-dict={work}/tokens.dict", *corpora], test_one_input,
                  custom_mutator=json_mutator.mutate)
    atheris.Fuzz()
