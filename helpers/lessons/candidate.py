"""Notebook 04's views of the lesson's own candidate on the rehearsal engine: what it scored, and its speed beside
the rehearsal model's. Nothing here serves or measures; :func:`helpers.routes.rented_gpu.rehearse_candidate` did."""

from __future__ import annotations

from typing import Any

from helpers.core.i18n import N_, Sentence, _
from helpers.decision.candidates import short
from helpers.routes.rented_gpu import CandidateRehearsal
from helpers.serving import Benchmark

#: Said where the rehearsal is not vLLM's CPU build (Colab runs llama.cpp's server instead).
CANDIDATE_NOT_RUN = Sentence(
    N_("Not run here: the candidate's rehearsal needs vLLM's CPU build, which only `make setup` installs on a local machine.")
)


def candidate_beside_rehearsal(candidate: CandidateRehearsal, rehearsal: Benchmark) -> Any:
    """The lesson's candidate and the rehearsal model at the same concurrency levels, one row per model and level."""
    import pandas as pd

    rows = []
    for bench in (rehearsal, candidate.benchmark):
        for level in bench.levels:
            if level.concurrency in {v.concurrency for v in candidate.benchmark.levels}:
                rows.append({"model": short(bench.model), "dtype": bench.dtype, "load": level.load,
                             "completed": f"{level.completed}/{level.requests}", "TTFT median ms": level.ttft_ms.median,
                             "TPOT median ms": level.tpot_ms.median, "output tok/s": level.output_throughput})  # fmt: skip
    return pd.DataFrame(rows)


def show_candidate_rehearsal(candidate: CandidateRehearsal) -> None:
    """How long the candidate took to boot and to score the fixed cases, and where its eval table and benchmark went."""
    s = candidate.summary
    print(
        _(
            "{model} ({dtype}) booted in {boot:.0f} s and scored {passed} of {cases} fixed cases in {eval:.0f} s "
            "(constrained); its table: {table}; its benchmark: {bench}."
        ).format(
            model=candidate.model,
            dtype=candidate.dtype,
            boot=candidate.boot_s,
            passed=s.passed,
            cases=s.cases,
            eval=candidate.eval_s,
            table=candidate.table,
            bench=candidate.benchmark_path,
        )  # fmt: skip
    )
    if candidate.reused:
        print(
            _(
                "Measured earlier in this run on this machine and read back, not rerun: the same hardware, dtype, model "
                "and case files."
            )
        )
