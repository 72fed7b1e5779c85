"""The rows a cited figure must match: what the kit wrote in ``outputs/``, and what the estimator says.

Each :class:`Row` is one number a learner could have read: an eval table's pass
count, share and tokens/s (``outputs/evals/``), the memory check's predicted and
measured GB and its error (``memory_check.csv``), the serving benchmark's output
tokens/s, the quantization ladder's rows, and the estimator's fit table for the
runtimes in play. The profile's own memory is a row too, marked ``given``: a
fact the learner set, not evidence about a model. :func:`matches` compares a
figure with a row at the precision the figure was written to; :func:`nearest`
is the row the feedback names when none matches.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from helpers.core import names
from helpers.core.i18n import _
from helpers.core.paths import ARTEFACTS, REPO_ROOT, outputs_dir, relative
from helpers.decision import Decision
from helpers.decision.candidates import short
from helpers.decision.evidence import PRESENT, PRODUCERS, Evidence
from helpers.decision.exercise.figures import Figure
from helpers.decision.exercise.text import ROW
from helpers.fits import estimator
from helpers.measured.ladder_results import rows_from_csv

#: What writes the rows of each kind, as "run ... first" names it.
PRODUCER = {
    "count": PRODUCERS["evals"],
    "share": PRODUCERS["evals"],
    "gb": PRODUCERS["memory_check"],
    "tok_s": PRODUCERS["evals"],
}


@dataclass(frozen=True)
class Row:
    """One number the kit wrote or computed, with the sentence that names it and the model it is about."""

    kind: str
    value: float
    label: str
    model: str | None = None
    total: int | None = None
    given: bool = False
    case: str | None = None  # a ``case`` row: which case, on ``model``'s run; ``value`` 1 when it passed


def _estimates(decision: Decision, runtimes: Iterable[str]) -> list[Row]:
    """The estimator's fit table on each runtime in play, at the decision's memory and context length."""
    rows, seen = [], set()
    for runtime in runtimes:
        for entry in estimator.fit_table(decision.memory_gb, context_tokens=decision.context_tokens, runtime=runtime):
            key = (entry["model"], entry["dtype"], entry["runtime"])
            if key not in seen:
                seen.add(key)
                label = ROW["estimate"].format(model=short(key[0]), dtype=key[1], runtime=key[2], gb=entry["total_gb"])
                rows.append(Row("gb", entry["total_gb"], label, entry["model"]))
    return rows


def _memory(decision: Decision) -> list[Row]:
    profile = decision.profile
    mine = [(decision.memory_gb, decision.memory_kind)]
    other = [(gb, kind) for gb, kind in ((profile.ram_gb, "RAM"), (profile.available_vram_gb, "GPU memory")) if gb]
    return [
        Row("gb", gb, ROW["memory"].format(gb=gb, kind=_(kind)), given=True) for gb, kind in dict.fromkeys(mine + other) if gb
    ]


def _evals(evidence: Evidence) -> list[Row]:
    rows = []
    for run in evidence.runs:
        s = run.summary
        label = ROW["eval"].format(
            model=short(s.model), runtime=s.runtime, passed=s.passed, cases=s.cases, share=s.passed / s.cases,
            tokens=s.tokens_per_s, source=run.path,
        )  # fmt: skip
        rows += [
            Row("count", s.passed, label, s.model, s.cases),
            Row("share", s.passed / s.cases, label, s.model),
            Row("tok_s", s.tokens_per_s, label, s.model),
        ]
        for case, passed in [*((c, True) for c in s.passed_cases), *((c, False) for c in s.failed_cases)]:
            result = ROW["passed"] if passed else ROW["failed"]
            text = ROW["case"].format(model=short(s.model), runtime=s.runtime, case=case, result=result, source=run.path)
            rows.append(Row("case", float(passed), text, s.model, case=case))
    return rows


def _memory_check(evidence: Evidence) -> list[Row]:
    source = evidence.sources.get("memory_check")
    if source is None or source.status != PRESENT:
        return []
    rows = []
    with (REPO_ROOT / source.path).open(encoding="utf-8", newline="") as handle:
        for line in csv.DictReader(handle):
            try:
                predicted, measured = int(line["predicted_bytes"]) / estimator.GB, int(line["measured_bytes"]) / estimator.GB
                error = float(line["error_pct"])
            except (KeyError, TypeError, ValueError):  # a row an older kit wrote: it offers no figure to cite
                continue
            label = ROW["memory_check"].format(
                model=short(line["model"]), dtype=line["dtype"], runtime=line["runtime"], predicted=predicted,
                measured=measured, error=error, source=source.path,
            )  # fmt: skip
            rows += [Row("gb", gb, label, line["model"]) for gb in (predicted, measured)]
            rows.append(Row("share", abs(error) / 100, label, line["model"]))
    return rows


def _serving(evidence: Evidence) -> list[Row]:
    bench = evidence.benchmark
    if bench is None:
        return []
    source = evidence.sources["benchmark"].path
    return [
        Row("tok_s", level.output_throughput, ROW["serving"].format(
            model=short(bench.model), load=level.load, tokens=level.output_throughput, source=source), bench.model)
        for level in [*bench.levels, *bench.rate_levels]
        if level.completed
    ]  # fmt: skip


def _ladder(outputs: Path) -> list[Row]:
    path = outputs / ARTEFACTS["ladder"]
    if not path.is_file():
        return []
    rows = []
    for level in rows_from_csv(path.read_text(encoding="utf-8")):
        label = ROW["ladder"].format(
            model=short(names.SMOLLM2), quant=level.quant, tokens=level.tokens_per_s, passed=level.cases_passed,
            cases=level.cases, source=relative(path),
        )  # fmt: skip
        rows += [
            Row("tok_s", level.tokens_per_s, label, names.SMOLLM2),
            Row("count", level.cases_passed, label, names.SMOLLM2, level.cases),
        ]
    return rows


def evidence_rows(
    decision: Decision, evidence: Evidence | None, runtimes: Iterable[str], outputs: Path | None = None
) -> tuple[Row, ...]:
    """Every row a figure may match: the estimator's and the profile's always; what ``outputs/`` holds with evidence."""
    rows = _estimates(decision, runtimes) + _memory(decision)
    if evidence is not None:
        rows += _evals(evidence) + _memory_check(evidence) + _serving(evidence) + _ladder(outputs or outputs_dir())
    return tuple(rows)


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def matches(figure: Figure, row: Row) -> bool:
    """Whether ``figure`` states ``row``'s value in one of its usual forms, at the precision the figure was written to."""
    if row.kind != figure.kind:
        return False
    if figure.kind == "count":
        return _close(row.value, figure.value) and row.total == figure.total
    value = row.value * 100 if figure.kind == "share" else row.value
    return figure.value > 0 and _close(round(value, figure.decimals), figure.value)


def nearest(figure: Figure, rows: Iterable[Row], model: str | None = None) -> Row | None:
    """The row of the figure's kind closest to it: ``model``'s rows first, then the same total, then the nearest value."""
    same = [row for row in rows if row.kind == figure.kind and not row.given]
    mine = [row for row in same if row.model == model]
    candidates = mine or same
    if not candidates:
        return None
    scale = 100 if figure.kind == "share" else 1
    return min(candidates, key=lambda row: (row.total != figure.total, abs(row.value * scale - figure.value)))
