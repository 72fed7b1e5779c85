"""The runtime landscape, measured: every runtime that runs here, driven by the same eval cases and the same client.

The lesson names five runtime rules and the deployment guide compares five
frameworks from hearsay. Here the four that run on this machine are measured
the same way, each in a fresh process so that its peak memory is its own:

* **Transformers** behind the kit's local OpenAI-compatible API skeleton;
* **llama.cpp in process** (no endpoint: the eval gate's own runner);
* **llama.cpp's OpenAI-compatible server**, the laptop hand-off endpoint;
* **vLLM**, the rehearsal server (its CPU build).

For each: eval passes on the fixed cases, single-stream TTFT and decode tok/s
(vLLM's TPOT inverted, ``helpers.machine.speed``), output throughput at
concurrency 1 and 4, peak resident memory (the whole server process tree,
``helpers.machine.rss``), cold start (process start to first answer), and what the endpoint
offers: ``/health``, ``/metrics``, usage in streams, ``json_schema``.

Measuring takes about three minutes, so it runs at setup (``make landscape``)
and is cached on the shelf with the hardware it ran on. vLLM's row is measured
on the dtype check's own boot (``helpers.measured.rehearsal_boots``);
the notebook reads the cache and says when it was measured. A runtime that
``make`` did not set up (Colab: no ``.venv-vllm``, maybe no llama.cpp wheel)
measures what runs there, in that runtime, and names what it skipped and why.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.catalogue.models import shape_from_gguf
from helpers.core.clock import timestamp
from helpers.core.i18n import N_
from helpers.core.names import QWEN_LESSON, SMOLLM2
from helpers.core.paths import CACHE, atomic_write_json, atomic_write_text, relative
from helpers.evals import EvalRow, LlamaCppRunner, OpenAIRunner, load_cases, run_cases, summarize
from helpers.fits import roofline
from helpers.fits.estimator import BYTES_PER_PARAM, kv_bytes_per_token, kv_dtype_for, normalize_dtype, parameter_count
from helpers.machine import rss, speed
from helpers.machine.environment import machine_description
from helpers.measured import ladder
from helpers.measured.endpoint_probe import probe
from helpers.measured.rehearsal_boots import measure_vllm
from helpers.measured.runtime_results import CANDIDATE, LABELS, RUNTIMES, Landscape, RuntimeResult
from helpers.routes.cards import ROUTE_CARDS
from helpers.routes.handoff import LlamaCppServer
from helpers.runtimes.client import ServingError, make_client
from helpers.runtimes.llama_cpp.timing import time_greedy_decode
from helpers.serving import RehearsalServer, run_benchmark, sglang_command, vllm_serve_command
from helpers.serving.launch import tensor_parallel_size
from helpers.serving.rehearsal import VLLM_PYTHON
from helpers.shelf import models
from helpers.shelf.models import ShelfEntry, gguf_for
from helpers.shelf.status import missing_for

LEVELS = (1, 4)
REQUESTS_PER_LEVEL = 4
#: The quick runtimes first, so a failure in a slow one costs least (each result is kept until the set is complete).
MEASURE_FIRST = ("llama.cpp", "llama.cpp-server", "vllm", "transformers")
#: An eval case on a busy 2-core machine can take over a minute through Transformers; the client's default is 60 s.
LONG_TIMEOUT_S = 600.0
MAX_TOKENS = 32
#: Tokens in context while a fixed case decodes (its prompt plus half its answer), for the KV part of bytes per token.
CONTEXT_TOKENS = 64
#: Why a runtime cannot be measured where its parts are missing: one sentence each, with how to get it
#: (English here and in results files; translated where shown).
NO_VLLM = N_(
    "vLLM was not run in this runtime: its CPU build lives in `.venv-vllm`, a 2.5 GB environment that only `make setup` "
    "builds on a local machine; on a GPU runtime, `pip install vllm` gives its GPU build, which this kit has not run."
)
NO_LLAMA_CPP = N_(
    "llama.cpp was not run in this runtime: llama-cpp-python is not installed, and the first cell installs it only "
    "from a prebuilt wheel, never by compiling (`make setup` builds it on a local machine)."
)


def _endpoint_result(runtime: str, base_url: str, dtype: str, cold_start_s: float, rss_of) -> tuple[RuntimeResult, list[EvalRow]]:
    """Evals, then concurrency 1 and 4, then the capability probe, all through the same OpenAI client; the row, and the
    fixed cases' rows it ran."""
    cases = load_cases()
    client = make_client(base_url, timeout_s=LONG_TIMEOUT_S)
    runner = OpenAIRunner(client, SMOLLM2, runtime=runtime, structured_output=True)
    rows = run_cases(runner, cases)
    summary = summarize(rows)
    prompts = [case.messages for case in cases[:REQUESTS_PER_LEVEL]]
    bench = run_benchmark(base_url, SMOLLM2, prompts, levels=LEVELS, requests_per_level=REQUESTS_PER_LEVEL,
                          max_tokens=MAX_TOKENS, warmup=1)  # fmt: skip
    single, four = bench.levels
    caps = probe(base_url, SMOLLM2)
    if single.tpot_ms.median is None:
        raise ServingError(f"{LABELS[runtime]} gave no request of 2 or more tokens, so it has no decode speed to report.")
    decode = speed.decode_tokens_per_s_from_tpot(single.tpot_ms.median / 1000)
    return RuntimeResult(
        runtime, SMOLLM2, dtype, summary.passed, summary.cases, summary.constrained, single.ttft_ms.median,
        round(decode, 1), single.output_throughput, four.output_throughput,
        round(rss_of() / 1e6, 1), round(cold_start_s, 1), caps,
        tuple(runner.notes) + tuple(f"concurrency 4: {n} x {why}" for why, n in four.failure_reasons.items()), four.failures,
    ), rows  # fmt: skip


def measure_runtime(runtime: str) -> RuntimeResult:
    """Measure one runtime; call it in a fresh process (``python -m helpers.measured.landscape measure-one``)."""
    began = time.perf_counter()
    if runtime == "transformers":
        from helpers.runtimes.local_api import LocalAPIServer, load_served_model

        with LocalAPIServer(load_served_model(SMOLLM2, name=SMOLLM2)) as server:  # in this process, with its client
            return _endpoint_result(runtime, server.base_url, "fp32", time.perf_counter() - began, rss.peak_rss_bytes)[0]
    if runtime in ("llama.cpp", CANDIDATE):
        # constrained, like every endpoint here: like with like
        runner = LlamaCppRunner(SMOLLM2 if runtime == "llama.cpp" else QWEN_LESSON, structured_output=True)
        cold = time.perf_counter() - began
        summary = summarize(run_cases(runner, load_cases()))
        timing = time_greedy_decode(runner.llm, load_cases()[0].messages, MAX_TOKENS)
        return RuntimeResult(
            runtime, runner.model, shape_from_gguf(runner.gguf_path)[0].file_dtype, summary.passed, summary.cases,
            summary.constrained, round(timing.ttft_ms, 1),
            round(timing.decode_tokens_per_s, 1), None, None, round(rss.peak_rss_bytes() / 1e6, 1),
            round(cold, 1), None, ("no endpoint: one call at a time in this process",),
        )  # fmt: skip
    if runtime == "llama.cpp-server":
        with LlamaCppServer() as server:
            return _endpoint_result(runtime, server.base_url, "q4_1", server.cold_start_s or 0.0,
                                    lambda: rss.peak_rss_bytes(server.pid, with_children=True))[0]  # fmt: skip
    if runtime == "vllm":  # on the dtype check's own boots where it runs now

        def on_server(server: RehearsalServer, cold_start_s: float) -> tuple[RuntimeResult, list[EvalRow]]:
            tree_peak = lambda: rss.peak_rss_bytes(server.pid, with_children=True)  # noqa: E731
            return _endpoint_result(runtime, server.base_url, server.dtype, cold_start_s, tree_peak)

        return measure_vllm(on_server)
    raise ServingError(f"Unknown runtime {runtime!r}; the landscape measures {', '.join(RUNTIMES)}.")


def _measure_in_child(runtime: str) -> RuntimeResult:
    child = subprocess.run(
        [sys.executable, "-m", "helpers.measured.landscape", "measure-one", runtime], capture_output=True, text=True
    )
    if child.returncode != 0:
        log = CACHE / "landscape" / f"{runtime}.log"
        atomic_write_text(log, child.stderr)
        raise ServingError(f"Measuring {LABELS[runtime]} failed (exit {child.returncode}); its log: {relative(log)}")
    return RuntimeResult.from_json(json.loads(child.stdout.strip().splitlines()[-1]))


def unavailable(runtime: str) -> str | None:
    """Why ``runtime`` cannot be measured in this Python environment (one sentence), or ``None`` when it can."""
    if runtime == "vllm" and not VLLM_PYTHON.exists():
        return NO_VLLM
    if runtime.startswith("llama.cpp") and importlib.util.find_spec("llama_cpp") is None:
        return NO_LLAMA_CPP
    return None


def _kept(runtime: str) -> Path:
    return CACHE / "landscape" / f"{runtime}.json"


def _measured_once(runtime: str) -> tuple[RuntimeResult, str]:
    """One runtime's result and when it was measured, kept in ``.cache/landscape/`` so a failure or a rerun costs one."""
    kept = _kept(runtime)
    if kept.is_file():
        data = json.loads(kept.read_text(encoding="utf-8"))
        if data["hardware"] == machine_description():
            return RuntimeResult.from_json(data["result"]), data.get("measured_at", "")
    result, measured_at = _measure_in_child(runtime), timestamp()
    atomic_write_json(kept, {"hardware": machine_description(), "measured_at": measured_at, "result": result.to_json()})
    return result, measured_at


def _build(staging: Path) -> None:
    found = {runtime: _measured_once(runtime)[0] for runtime in sorted(RUNTIMES, key=MEASURE_FIRST.index)}
    results = [found[runtime] for runtime in RUNTIMES]
    candidate = None if missing_for(QWEN_LESSON) else _measured_once(CANDIDATE)[0]  # the shelf may lack it (PyPI down)
    atomic_write_json(staging / "runtimes.json", {"hardware": machine_description(), "measured_at": timestamp(),
                                                  "runtimes": [r.to_json() for r in results],
                                                  "candidate": candidate and candidate.to_json()})  # fmt: skip
    for runtime in (*RUNTIMES, CANDIDATE):
        _kept(runtime).unlink(missing_ok=True)


MEASURED = ShelfEntry("runtime landscape, measured", "runtime-landscape-measured",
                      "four runtimes measured in fresh processes on this machine", _build)  # fmt: skip


def landscape() -> Landscape:
    """The measured runtimes: the shelf's full set where ``make`` measured it (or can), else what runs here, measured here.

    Locally the four are measured once (about three minutes) onto the shelf. Where a runtime's parts are missing
    (Colab), the others are measured in this runtime, one fresh process each, and the missing ones are named.
    """
    not_run = {runtime: why for runtime in RUNTIMES if (why := unavailable(runtime))}
    if not not_run or not models.problems(MEASURED):
        data = json.loads((models.ensure(MEASURED) / "runtimes.json").read_text(encoding="utf-8"))
        candidate = RuntimeResult.from_json(data["candidate"]) if data.get("candidate") else None
        results = [RuntimeResult.from_json(r) for r in data["runtimes"]]
        return Landscape(results, data["hardware"], data["measured_at"], candidate=candidate)
    found = {runtime: _measured_once(runtime) for runtime in sorted(RUNTIMES, key=MEASURE_FIRST.index) if runtime not in not_run}
    results = [found[runtime][0] for runtime in RUNTIMES if runtime in found]
    return Landscape(results, machine_description(), max((when for _, when in found.values()), default=""), not_run)


def roofline_rows(land: Landscape, bandwidth_gb_s: float) -> list[roofline.RooflineRow]:
    """Each runtime's single-stream decode speed against the ceiling for the bytes its precision reads per token."""
    rows, smollm2 = [], ladder.smollm2_shape()
    for r in land.results + ([land.candidate] if land.candidate else []):
        shape = smollm2
        if r.dtype.startswith("q"):
            path = gguf_for(r.model)[1]
            shape, weights, kv_dtype = shape_from_gguf(path)[0], roofline.gguf_weight_bytes_read(path), "fp16"
        else:
            dtype = normalize_dtype(r.dtype)
            size = BYTES_PER_PARAM[dtype]
            weights = roofline.weight_bytes_read_per_token(
                int(parameter_count(shape) * size), int(shape.vocab_size * shape.hidden_size * size), shape.vocab_size,
                tied=shape.tied_embeddings,
            )  # fmt: skip
            kv_dtype = kv_dtype_for(dtype)
        read = roofline.bytes_per_token(weights, kv_bytes_per_token(shape, kv_dtype), CONTEXT_TOKENS)
        rows.append(roofline.RooflineRow.measured(r.label, r.model, r.dtype, r.decode_tokens_per_s, read, bandwidth_gb_s))
    return rows


def measured_roofline() -> list[roofline.RooflineRow]:
    """Every runtime and ladder level measured here against this machine's ceiling, written to ``outputs/roofline.csv``.

    All three inputs are cached (bandwidth in ``outputs/``, ladder and runtimes on the shelf), so any notebook
    can show the table whatever order the notebooks ran in. Without llama.cpp (Colab with no wheel) the ladder
    has no rows.
    """
    gb_s = roofline.bandwidth().gb_s
    ladder_rows = [] if ladder.unavailable() else ladder.roofline_rows(ladder.ladder(), gb_s)
    rows = ladder_rows + roofline_rows(landscape(), gb_s)
    roofline.write_roofline(rows)
    return rows


def roofline_if_measured() -> list[roofline.RooflineRow] | None:
    """:func:`measured_roofline` where this machine's ladder and runtimes are already measured, else ``None``.

    Notebook 02 runs before notebook 05, and in Colab nothing is measured ahead, so it must not start measuring.
    """
    if models.problems(ladder.MEASURED) or models.problems(MEASURED):
        return None
    return measured_roofline()


@dataclass(frozen=True)
class LaunchCommands:
    """vLLM's and SGLang's launch lines for the record's service candidate, sized by the estimator, side by side."""

    model: str
    gpu_memory_gb: float
    gpu_from_record: bool
    vllm: str
    sglang: str


def launch_commands(model: str | None, vram_gb: float) -> LaunchCommands:
    """Route 3's service candidate (the decision's candidate_2, else candidate_1), launched both ways on the profile's GPU,
    at route 3's context length; a profile with no GPU is shown on route 3's typical card (``helpers.routes.cards``)."""
    card = ROUTE_CARDS["rented_gpu"]
    model, max_model_len = model or SMOLLM2, card.context_tokens
    gpu_gb = vram_gb or card.typical_vram_gb
    tp = tensor_parallel_size(model, gpu_memory_gb=gpu_gb, max_model_len=max_model_len)
    return LaunchCommands(
        model, gpu_gb, bool(vram_gb), vllm_serve_command(model, max_model_len=max_model_len, gpu_memory_gb=gpu_gb),
        sglang_command(model, max_model_len=max_model_len, tensor_parallel=tp),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.measured.landscape", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "measure-one"])
    parser.add_argument("runtime", nargs="?", choices=(*RUNTIMES, CANDIDATE))
    args = parser.parse_args(argv)
    if args.command == "measure-one":
        result = measure_runtime(args.runtime)
        print(json.dumps({**result.to_json(), "load_average": round(os.getloadavg()[0], 2)}), flush=True)
        # The measurement is printed: leave now. A server thread still winding down (the local API's, under load)
        # can otherwise abort the interpreter's teardown and turn a finished measurement into a failed child.
        os._exit(0)
    found = landscape()
    print(f"Runtime landscape on {found.hardware}, measured {found.measured_at}")
    print(f"{'runtime':<40} passes  {speed.DECODE_LABEL}  peak RSS")
    width = len(speed.DECODE_LABEL)
    for r in found.results:
        print(f"{r.label:<40} {r.cases_passed:>2}/{r.cases:<3}  {r.decode_tokens_per_s:>{width}.1f}  {r.peak_rss_mb:>5.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
