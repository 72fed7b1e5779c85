"""Evidence sets for the verdict, record and exercise tests, written as real files the kit's own writers produce."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.evals import EvalRow, load_cases, summarize, write_table
from helpers.routes.free_colab import ColabRun, RunPlan, StepResult, write_colab_run
from helpers.serving.benchmark import Benchmark
from helpers.serving.metrics import Level, Percentiles
from helpers.serving.shutdown import ShutdownProof

CASES = load_cases()


def eval_table(
    outputs: Path, model: str, runtime: str, passing: set[str] | int, *, constrained: bool = False, cases: list | None = None
) -> Path:
    """One eval table through ``helpers.evals.write_table``; ``passing`` is a set of case ids, or how many pass (file order)."""
    cases = cases if cases is not None else CASES
    ids = {c.case_id for c in cases[:passing]} if isinstance(passing, int) else passing
    rows = [
        EvalRow(
            c.case_id,
            model,
            runtime,
            constrained,
            c.case_id in ids,
            0.5,
            8,
            c.category,
            c.language,
            () if c.case_id in ids else ("contains",),
            f"answer to {c.case_id}",
        )
        for c in cases
    ]
    return write_table(rows, outputs)


def all_but(*failing: str) -> set[str]:
    return {c.case_id for c in CASES} - set(failing)


def shutdown_proof(outputs: Path, *, stopped: bool = True) -> None:
    proof = ShutdownProof(
        "local_process",
        "http://127.0.0.1:8000/v1",
        "2026-11-23T12:00:00+00:00",
        stopped,
        "the rehearsal server's process has exited and its port is closed",
    )
    target = outputs / "serving" / "shutdown_proof.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(proof.to_json()), encoding="utf-8")


def benchmark(outputs: Path, model: str = "m", completed: int | None = None, requests: int = 8) -> None:
    """A benchmark of ``model`` with one concurrency level of ``requests`` requests, ``completed`` of them (all by default)."""
    done = requests if completed is None else completed
    failed = {"HTTP 500": requests - done} if done < requests else {}
    latency = Percentiles(10.0, 10.0, 10.0, 10.0) if done else Percentiles()
    level = Level(requests, done, requests - done, failed, 1.0, float(done), 8.0 * done, float(done), 100.0 * done / requests,
                  latency, latency, latency, latency, ["usage"] * done, concurrency=1)  # fmt: skip
    Benchmark("2026-11-23T12:00:00+00:00", model, ["http://127.0.0.1:8000/v1"], {}, "test CPU", requests, 8, 0, {}, {},
              [level]).write(outputs / "serving" / "benchmark.json")  # fmt: skip


def colab_run(outputs: Path, device: str, model: str, passing: int) -> None:
    """A Colab run record through ``helpers.routes.free_colab.write_colab_run`` (it writes under ``OPENLLM_ROUTES_OUTPUTS``)."""
    ids = {c.case_id for c in CASES[:passing]}
    rows = [
        EvalRow(c.case_id, model, f"transformers-{device}", False, c.case_id in ids, 0.5, 8, c.category, c.language, (), "x")
        for c in CASES
    ]
    plan = RunPlan(
        "tiny" if "tiny" in model else "small_instruct", model, device, "float32", "test", "the notebook reruns", "quality"
    )
    write_colab_run(ColabRun("colab", (StepResult(plan, summarize(rows)),), ""))
