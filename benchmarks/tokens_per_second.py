"""Greedy decode speed of every local model and runtime, on the fixed eval cases, with the hardware named.

Tokens/s here is output tokens over wall time across the 14 cases (prompt
processing included), one request at a time. Route 3's vLLM figures come from
notebook 04 and benchmarks/peer_vllm_bench.py.

    .venv/bin/python benchmarks/tokens_per_second.py
"""

from __future__ import annotations

from helpers.evals import LlamaCppRunner, TransformersRunner, load_cases, run_cases, summarize
from helpers.models import gguf_file
from helpers.serving import machine_description


def main() -> int:
    cases = load_cases()
    runners = [
        lambda: TransformersRunner("sshleifer/tiny-gpt2"),
        lambda: TransformersRunner("HuggingFaceTB/SmolLM2-135M-Instruct"),
        lambda: TransformersRunner("HuggingFaceTB/SmolLM2-135M-Instruct", dtype="bfloat16", runtime="transformers-bf16"),
        lambda: LlamaCppRunner("HuggingFaceTB/SmolLM2-135M-Instruct", gguf_file()),
    ]
    rows = [summarize(run_cases(make(), cases)) for make in runners]
    print(f"Decode speed on {machine_description()}, {len(cases)} fixed cases, greedy, one request at a time")
    print(f"{'model':<38} {'runtime':<18} {'tokens/s':>9} {'passed':>7}")
    for r in rows:
        print(f"{r['model']:<38} {r['runtime']:<18} {r['tokens_per_s']:>9.1f} {r['passed']:>4}/{r['cases']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
