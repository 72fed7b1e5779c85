"""End-to-end speed and pass count of every local model and runtime, on the fixed eval cases, with the hardware named.

The speed is :func:`helpers.machine.speed.end_to_end_tokens_per_s` over all the
cases: output tokens over wall time, prompt processing included, one request at
a time (not decode tokens/s, which leaves the prompt out). Each row says whether its output was constrained (llama.cpp can enforce
the JSON cases' schema with a grammar; Transformers cannot). Route 3's vLLM
figures come from notebook 04 and benchmarks/peer_vllm_bench.py.

    .venv/bin/python benchmarks/tokens_per_second.py
"""

from __future__ import annotations

from helpers.core.names import SMOLLM2, TINY_GPT2
from helpers.evals import LlamaCppRunner, TransformersRunner, load_cases, run_cases, summarize
from helpers.machine.environment import machine_description
from helpers.machine.speed import END_TO_END_LABEL


def main() -> int:
    cases = load_cases()
    runners = [
        lambda: TransformersRunner(TINY_GPT2),
        lambda: TransformersRunner(SMOLLM2),
        lambda: TransformersRunner(SMOLLM2, dtype="bfloat16", runtime="transformers-bf16"),
        lambda: LlamaCppRunner(SMOLLM2),
        lambda: LlamaCppRunner(SMOLLM2, structured_output=True),
    ]
    summaries = [summarize(run_cases(make(), cases)) for make in runners]
    width = len(END_TO_END_LABEL)
    print(f"End-to-end speed on {machine_description()}, {len(cases)} fixed cases, greedy, one request at a time")
    print(f"{'model':<38} {'runtime':<18} {'output':<13} {END_TO_END_LABEL} {'passed':>7}")
    for s in summaries:
        mode = "constrained" if s.constrained else "free"
        print(f"{s.model:<38} {s.runtime:<18} {mode:<13} {s.tokens_per_s:>{width}.1f} {s.passed:>4}/{s.cases}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
