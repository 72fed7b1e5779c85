"""What the route notebooks left in ``outputs/``, read back as typed results.

Each source has one producer. A missing file is named with the notebook or
command that writes it, rather than a number being invented. A file that is
empty, cut off or corrupt is reported the same way, with what to rerun, and is
never touched: :func:`gather` only reads. The verdict (``helpers.decision.verdict``) and
the record (``helpers.decision.record``) read :class:`Evidence` by attribute.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from helpers.catalogue.runtimes import runtime_for_label
from helpers.core.i18n import sentences
from helpers.core.paths import ARTEFACTS, outputs_dir, relative
from helpers.decision.candidates import sibling_name
from helpers.evals import EvalRow, EvalSummary, EvalTableError, load_cases, read_table, summarize
from helpers.evals.results import table_files
from helpers.machine.environment import ReportFormatError
from helpers.machine.speed import SpeedError
from helpers.routes.free_colab import ColabRun, read_colab_run
from helpers.runtimes.client import ServingError
from helpers.serving.benchmark import Benchmark, read_benchmark
from helpers.serving.checklist import MAX_ERROR_RATE_PCT
from helpers.serving.shutdown import ShutdownProof, read_shutdown_proof
from helpers.shelf.models import stand_in

PRESENT, MISSING, UNREADABLE = "present", "missing", "unreadable"

#: Which notebook or command writes each source: what a learner runs when it is missing or broken.
PRODUCERS = {
    "memory_check": "make run (benchmarks/memory_check.py)",
    "evals": "notebooks 02, 03 and 04 (or python -m helpers.evals run data/eval_cases/ ...)",
    "colab_run": "notebook 03_colab_gpu_route",
    "benchmark": "notebook 04_rented_gpu_route",
    "shutdown_proof": "notebook 04_rented_gpu_route",
}


#: What a learner reads about each source, by status.
SAYS = {
    MISSING: "{path} is missing: run {producer} to produce it.",
    UNREADABLE: "{path} cannot be used: {problem} Rerun {producer} to rewrite it; nothing was changed.",
    PRESENT: "{path} is present.",
    "empty": "it holds no rows.",
    "no_error_pct": "a row has no readable error_pct; the file looks cut off or comes from an older kit.",
    "bad_json": "it is empty or not valid JSON (cut off while being written?).",
}


#: Why a run scored on another case set than the current one is not counted.
CASE_SET = sentences(
    {
        "stale": "{runs} ({path}) was scored on {cases} cases, but the case files now hold {now}: it is cut off or comes "
        "from an older case set; rerun it on the current cases.",
        "other": "{runs} ({path}) was scored on cases the case files no longer hold ({cases}): it comes from another case "
        "set; rerun it on the current cases.",
    }
)


class EvidenceError(ValueError):
    """Evidence files that cannot be read; the message names each file and what rewrites it."""


@dataclass(frozen=True)
class Source:
    """One evidence source: present, missing (with its producer) or unreadable (with what is wrong and what to rerun)."""

    name: str
    path: str
    status: str
    producer: str
    problem: str = ""

    @property
    def message(self) -> str:
        return SAYS[self.status].format(path=self.path, producer=self.producer, problem=self.problem)


@dataclass(frozen=True)
class EvalRun:
    """One eval table: its summary, the file it came from, and its first answer (the lesson's "first output")."""

    summary: EvalSummary
    path: str
    first_case: str
    first_output: str

    @property
    def label(self) -> str:
        s = self.summary
        mode = ", constrained" if s.constrained else ""
        return f"{s.model.split('/')[-1]} on {s.runtime} {s.passed}/{s.cases}{mode}"


def other_case_set(run: EvalRun, case_ids: tuple[str, ...]) -> str | None:
    """Why ``run`` cannot count against the current cases (``case_ids``); ``None`` when it was scored on exactly them."""
    s = run.summary
    scored = set(s.passed_cases) | set(s.failed_cases)
    if not case_ids or scored == set(case_ids):
        return None
    if s.cases != len(case_ids):
        return CASE_SET["stale"].format(runs=run.label, path=run.path, cases=s.cases, now=len(case_ids))
    return CASE_SET["other"].format(runs=run.label, path=run.path, cases=", ".join(sorted(scored - set(case_ids))))


@dataclass(frozen=True)
class Completion:
    """How a benchmark's requests ended, over every level it reports: completed, failed and why."""

    model: str
    requests: int
    completed: int
    loads: tuple[str, ...]
    reasons: dict[str, int]
    every_level: bool

    @property
    def share(self) -> float:
        return self.completed / self.requests if self.requests else 0.0

    @property
    def holds(self) -> bool:
        """Every level completed requests, and failures stay under the production checklist's error-rate limit."""
        return self.every_level and self.requests > 0 and 100 * (1 - self.share) < MAX_ERROR_RATE_PCT

    @classmethod
    def of(cls, bench: Benchmark) -> Completion:
        levels = bench.levels + bench.rate_levels
        reasons: Counter[str] = Counter()
        for level in levels:
            reasons.update(level.failure_reasons)
        return cls(bench.model, sum(v.requests for v in levels), sum(v.completed for v in levels),
                   tuple(v.load for v in levels), dict(reasons), all(v.completed for v in levels))  # fmt: skip


@dataclass(frozen=True)
class MemoryCheck:
    """The worst gap between the estimator and measured peak memory, over the rows of ``memory_check.csv``."""

    rows: int
    worst_error_pct: float


@dataclass(frozen=True)
class Evidence:
    """Everything :func:`gather` found. ``sources`` has one entry per source, whatever its state."""

    sources: dict[str, Source]
    runs: tuple[EvalRun, ...] = ()
    case_ids: tuple[str, ...] = ()
    memory: MemoryCheck | None = None
    colab: ColabRun | None = None
    benchmark: Benchmark | None = None
    shutdown: ShutdownProof | None = None
    eval_problems: tuple[str, ...] = field(default_factory=tuple)

    def problems(self) -> list[str]:
        """A sentence for every file that is there but cannot be used."""
        return [s.message for s in self.sources.values() if s.status == UNREADABLE] + list(self.eval_problems)

    def raise_for_problems(self) -> None:
        if self.problems():
            raise EvidenceError(" ".join(self.problems()))


def _memory_check(path: Path) -> MemoryCheck:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(SAYS["empty"])
    try:
        errors = [abs(float(row["error_pct"])) for row in rows]
    except (KeyError, TypeError, ValueError):
        raise ValueError(SAYS["no_error_pct"]) from None
    return MemoryCheck(len(rows), max(errors))


def _read(name: str, path: Path, reader):
    """Read one source; any way the file can be broken becomes a :class:`Source` that says so."""
    shown = relative(path)
    if not path.exists():
        return Source(name, shown, MISSING, PRODUCERS[name]), None
    try:
        return Source(name, shown, PRESENT, PRODUCERS[name]), reader(path)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, ReportFormatError, ServingError) as error:
        text = str(error) or type(error).__name__
        if isinstance(error, json.JSONDecodeError):
            text = SAYS["bad_json"]
        return Source(name, shown, UNREADABLE, PRODUCERS[name], text), None


def _runs(outputs: Path) -> tuple[tuple[EvalRun, ...], tuple[str, ...]]:
    runs, problems = [], []
    for path in table_files(outputs):
        try:
            rows: list[EvalRow] = read_table(path)
            summary = summarize(rows)
        except EvalTableError as error:
            problems.append(str(error))
            continue
        except SpeedError as error:  # every latency 0: a table cut off or written by hand, not a run
            problems.append(f"{relative(path)} has no usable latencies ({error}); rerun the eval that writes it.")
            continue
        runs.append(EvalRun(summary, relative(path), rows[0].case_id, rows[0].output))
    return tuple(runs), tuple(problems)


def gather(outputs: Path | None = None) -> Evidence:
    """Read every evidence source under ``outputs`` (default: the kit's ``outputs/``). Never writes."""
    outputs = outputs or outputs_dir()
    sources, found = {}, {}
    for name, reader in (
        ("memory_check", _memory_check),
        ("colab_run", read_colab_run),
        ("benchmark", read_benchmark),
        ("shutdown_proof", read_shutdown_proof),
    ):
        sources[name], found[name] = _read(name, outputs / ARTEFACTS[name], reader)
    runs, problems = _runs(outputs)
    evals_dir = outputs / ARTEFACTS["evals"]
    status = PRESENT if runs else (UNREADABLE if problems else MISSING)
    sources["evals"] = Source("evals", relative(evals_dir) + "/", status, PRODUCERS["evals"], " ".join(problems))
    return Evidence(
        sources,
        runs,
        tuple(c.case_id for c in load_cases()),
        found["memory_check"],
        found["colab_run"],
        found["benchmark"],
        found["shutdown_proof"],
        problems if runs else (),
    )


@dataclass(frozen=True)
class SpeaksFor:
    """Whose evidence speaks for a candidate on one runtime: the candidate itself, or the shelf sibling run in its place.

    Evidence counts for the model that ran: a sibling's eval tables are its own, named as its own, never the candidate's.
    """

    candidate: str
    model: str
    runtime: str
    runs: tuple[EvalRun, ...]

    @property
    def sibling(self) -> bool:
        return self.model != self.candidate

    @property
    def name(self) -> str:
        return sibling_name(self.model, self.runtime) or self.model


def speaks_for(evidence: Evidence, candidate: str, runtime: str) -> SpeaksFor:
    """The candidate's own runs on ``runtime``; with none, those of the shelf sibling that runs in its place offline."""
    own = runs_of(evidence, candidate, runtime)
    sibling = stand_in(candidate)
    if own or sibling is None:
        return SpeaksFor(candidate, candidate, runtime, tuple(own))
    return SpeaksFor(candidate, sibling.name, runtime, tuple(runs_of(evidence, sibling.name, runtime)))


def runtime_key(label: str) -> str | None:
    """The runtime table's key for an eval table's ``runtime`` label; None when no runtime claims the label."""
    runtime = runtime_for_label(label)
    return runtime.key if runtime else None


def runs_of(evidence: Evidence, model: str, runtime: str) -> list[EvalRun]:
    """The eval runs of one model on one estimator runtime."""
    return [r for r in evidence.runs if r.summary.model == model and runtime_key(r.summary.runtime) == runtime]
