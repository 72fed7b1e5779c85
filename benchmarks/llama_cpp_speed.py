"""The portable llama.cpp build against the best build this CPU allows (AMX excluded), with the hardware named.

Both wheels come from the per-user wheelhouse (``helpers.runtimes.llama_cpp.build``); ``make setup`` compiles
only the best one, so the first run here compiles the portable one (about 4 min on 2 cores, once). Each is
unpacked on its own and run in a fresh process on the shelf's SmolLM2 Q4_1
GGUF, alternating between builds so that load from other processes falls on
both alike. Each run times:

* **prefill tokens/s**: a prompt of about 230 tokens, prompt tokens over the
  time to the first generated token (arithmetic-bound, where wider vectors help);
* **decode tokens/s**: 64 greedy tokens after the first, timed from the first
  generated token to the last (memory-bound: every token rereads the weights).

Both are :mod:`helpers.machine.speed`'s definitions, timed by
:func:`helpers.runtimes.llama_cpp.timing.time_greedy_decode` in the child.

Medians of the repetitions are printed for llama-cpp-python's default thread count
(half the cores: 1 on a 2-core machine); ``--threads N`` adds another count. On a
busy 2-core VM, two threads that spin-wait on each other can be many times slower
than one, so the default is the figure to compare.

    .venv/bin/python benchmarks/llama_cpp_speed.py [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from helpers.core.paths import REPO_ROOT
from helpers.machine.environment import machine_description
from helpers.machine.speed import DECODE_LABEL, PREFILL_LABEL
from helpers.runtimes.llama_cpp.build import (
    LLAMA_VERSION,
    PORTABLE,
    best_isa,
    build_wheel,
    unpacked,
    wheel_in,
    wheel_key,
    wheelhouse,
)
from helpers.shelf.models import gguf_file

#: Tokens timed after the first one: the decode speed's numerator.
DECODE_TOKENS = 64
SPEED_CODE = """
import json, sys
from llama_cpp import Llama
from helpers.runtimes.llama_cpp.timing import time_greedy_decode
llm = Llama(model_path=sys.argv[1], n_ctx=2048, n_threads=int(sys.argv[2]), seed=0, verbose=False)
text = "Summarise the following standard operating procedure for a support engineer. " * 16
timing = time_greedy_decode(llm, "<|im_start|>user\\n" + text + "<|im_end|>\\n<|im_start|>assistant\\n", int(sys.argv[3]) + 1)
print(json.dumps({"prefill": timing.prefill_tokens_per_s, "decode": timing.decode_tokens_per_s}))
"""


def run_once(env: dict[str, str], threads: int) -> dict[str, float]:
    command = [sys.executable, "-c", SPEED_CODE, str(gguf_file()), str(threads), str(DECODE_TOKENS)]
    env = {**env, "PYTHONPATH": os.pathsep.join([env["PYTHONPATH"], str(REPO_ROOT)])}  # the build first, then the kit
    child = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    if child.returncode != 0:
        raise SystemExit(f"The build crashed (exit {child.returncode}): {child.stderr.strip()[-400:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, action="append", default=[], help="another thread count to measure")
    args = parser.parse_args()
    best = wheel_key(best_isa())
    if (best_wheel := wheel_in(wheelhouse(best))) is None:
        raise SystemExit(f"No {best} wheel: run `make setup` first, which compiles it.")
    builds = {"portable (avx2)": build_wheel(PORTABLE), f"best ({best})": best_wheel}
    thread_counts = sorted({max((os.cpu_count() or 2) // 2, 1), *args.threads})
    load_before = os.getloadavg()[0]  # other work on the cores slows both builds; say how much there was
    runs: dict[tuple[str, int], list[dict[str, float]]] = {(b, t): [] for b in builds for t in thread_counts}
    with unpacked(builds["portable (avx2)"]) as portable_env, unpacked(builds[f"best ({best})"]) as best_env:
        envs = {"portable (avx2)": portable_env, f"best ({best})": best_env}
        for _ in range(args.repeats):
            for threads in thread_counts:
                for build, env in envs.items():
                    runs[(build, threads)].append(run_once(env, threads))
    print(f"llama-cpp-python {LLAMA_VERSION} on {machine_description()}: SmolLM2-135M-Instruct Q4_1, "
          f"median of {args.repeats} fresh processes, builds alternated, "
          f"1-minute load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after")  # fmt: skip
    prefill_width, decode_width = len(PREFILL_LABEL), len(DECODE_LABEL)
    print(f"{'build':<46} {'threads':>7} {PREFILL_LABEL} {DECODE_LABEL}")
    medians = {}
    for (build, threads), found in runs.items():
        median = medians[(build, threads)] = {k: statistics.median(r[k] for r in found) for k in ("prefill", "decode")}
        print(f"{build:<46} {threads:>7} {median['prefill']:>{prefill_width}.1f} {median['decode']:>{decode_width}.1f}")
    for threads in thread_counts:
        fast, slow = medians[(f"best ({best})", threads)], medians[("portable (avx2)", threads)]
        print(f"speed-up at {threads} thread(s): prefill x{fast['prefill'] / slow['prefill']:.2f}, "
              f"decode x{fast['decode'] / slow['decode']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
