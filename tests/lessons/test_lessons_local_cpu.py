"""Notebook 02's sentences are written from the numbers and from what the resolver loaded."""

from __future__ import annotations

from helpers.core.names import SMOLLM2, TINY_GPT2
from helpers.evals import EvalSummary
from helpers.lessons.local_cpu import upgrade_verdict, weights_note
from helpers.shelf.models import SHELF_ENTRIES, gguf_file


def summary(model: str, runtime: str, passed: int, *, constrained: bool = False) -> EvalSummary:
    ids = tuple(f"c{i}" for i in range(16))
    return EvalSummary(model, runtime, constrained, 4 if constrained else 0, 16, passed, round(passed / 16, 3), 30.0,
                       ids[:passed], ids[passed:])  # fmt: skip


def test_constrained_passes_never_make_the_upgrade_signal():
    text = upgrade_verdict([
        summary(TINY_GPT2, "transformers", 0),
        summary(SMOLLM2, "llama.cpp", 3),
        summary(SMOLLM2, "llama.cpp", 6, constrained=True),
    ])  # fmt: skip
    assert "Upgrade signal: the same cases improve with HuggingFaceTB/SmolLM2-135M-Instruct on llama.cpp, unconstrained" in text
    assert "19% is still below the 80% bar" in text
    assert "Enforcing the JSON schema on llama.cpp changes +3 passes" in text


def test_no_signal_when_only_the_constrained_run_improves():
    text = upgrade_verdict([summary(TINY_GPT2, "transformers", 2), summary(SMOLLM2, "llama.cpp", 2),
                            summary(SMOLLM2, "llama.cpp", 5, constrained=True)])  # fmt: skip
    assert "No upgrade signal" in text


def test_weights_note_follows_what_was_loaded():
    offline = weights_note(str(SHELF_ENTRIES[SMOLLM2].path), gguf_file())
    assert offline.startswith("Both SmolLM2 runs use the same Q4_1 weights") and "cannot show quantization loss" in offline
    online = weights_note(SMOLLM2, gguf_file())  # resolve returned the hub id: the original weights
    assert "mixes the runtime and quantization" in online
