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
from dataclasses import dataclass, field
from pathlib import Path

from helpers.catalogue.runtimes import runtime_for_label
from helpers.core import names
from helpers.core.paths import ARTEFACTS, outputs_dir, relative
from helpers.evals import EvalRow, EvalSummary, EvalTableError, load_cases, read_table, summarize
from helpers.evals.results import table_files
from helpers.machine.environment import ReportFormatError
from helpers.machine.speed import SpeedError
from helpers.routes.free_colab import ColabRun, read_colab_run
from helpers.runtimes.client import ServingError
from helpers.serving.benchmark import Benchmark, read_benchmark
from helpers.serving.shutdown import ShutdownProof, read_shutdown_proof
from helpers.shelf.manifest import MANIFEST
from helpers.shelf.models import SHELF_ENTRIES

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


def model_version(model: str, runtime: str) -> tuple[str, str] | None:
    """The SHA-256 of the weights file this machine ran for ``model`` (from the shelf manifest), and that file.

    llama.cpp runs the GGUF; the other runtimes the converted folder. ``None``
    when the model is not on the shelf: online, record the hub revision instead.
    """
    quantized = {names.SMOLLM2: names.SMOLLM2_GGUF}
    entry = SHELF_ENTRIES.get(quantized.get(model, "") if runtime == "llama.cpp" else model)
    manifest = entry.path / MANIFEST if entry else None
    if manifest is None or not manifest.is_file():
        return None
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    weights = next((n for n in files if n.endswith((".safetensors", ".gguf")) and "vocab" not in n), None)
    return (files[weights]["sha256"], relative(entry.path / weights)) if weights else None


def runtime_key(label: str) -> str | None:
    """The runtime table's key for an eval table's ``runtime`` label; None when no runtime claims the label."""
    runtime = runtime_for_label(label)
    return runtime.key if runtime else None


def runs_of(evidence: Evidence, model: str, runtime: str) -> list[EvalRun]:
    """The eval runs of one model on one estimator runtime."""
    return [r for r in evidence.runs if r.summary.model == model and runtime_key(r.summary.runtime) == runtime]
