"""The portable llama.cpp build's greedy tokens, recorded once on the course machine, so the guard needs no second compile.

:mod:`helpers.runtimes.llama_cpp.build` compiles only the best build for a CPU and guards it against the tokens the
portable AVX2 build decodes from the shelf's SmolLM2 GGUF. Where the portable wheel is not built, those tokens come
from ``data/llama_cpp_reference.json``, which names the llama.cpp version and the GGUF's SHA-256 it was recorded
with; a record of another version or another file is not used, and the guard compiles the portable build instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core.paths import REPO_ROOT, atomic_write_json
from helpers.core.pins import LLAMA_CPP, pinned
from helpers.shelf.manifest import sha256

REFERENCE = REPO_ROOT / "data" / "llama_cpp_reference.json"
#: Greedy tokens decoded in the guard: enough for a wrong kernel to show, few enough to take a second.
GUARD_TOKENS = 24


def reference_tokens(model: Path) -> list[int] | None:
    """The recorded portable tokens for ``model``, or ``None`` when the record is of another llama.cpp or another file."""
    try:
        recorded = json.loads(REFERENCE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = recorded.get("llama_cpp_python") == pinned(LLAMA_CPP) and recorded.get("model_sha256") == sha256(model)
    return list(recorded["tokens"]) if same and len(recorded.get("tokens", ())) == GUARD_TOKENS else None


def write_reference(model: Path, tokens: list[int]) -> Path:
    """Keep ``tokens`` as the portable build's decode of ``model`` under the pinned llama.cpp (atomically)."""
    record = {"llama_cpp_python": pinned(LLAMA_CPP), "model": model.name, "model_sha256": sha256(model), "tokens": tokens}
    return atomic_write_json(REFERENCE, record)
