"""Eval results: typed rows and summaries, one CSV table per run, and the readers other modules use.

A run writes ``outputs/evals/<model>__<runtime>[__constrained].csv``, one row per
case. :func:`read_summaries` and :func:`read_rows` read them back as
:class:`EvalSummary` and :class:`EvalRow`, so the decision record and the
notebooks use attributes, never column names. A table that is empty, cut off
or written by an older version of the kit is an :class:`EvalTableError` that
names the file and the command that rewrites it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from helpers.core.i18n import N_, _
from helpers.core.paths import atomic_write_text, csv_text, output, relative
from helpers.evals.cases import Case
from helpers.evals.graders import grade
from helpers.evals.runners import OpenAIRunner, Runner
from helpers.machine.speed import end_to_end_tokens_per_s

REWRITE = N_("Rewrite it with `python -m helpers.evals run ...` or by re-running the notebook that made it (02, 03 or 04).")


class EvalTableError(ValueError):
    """An eval table that cannot be read; the message names the file and how to rewrite it."""


@dataclass(frozen=True)
class EvalRow:
    """One case on one model and runtime: the answer, whether it passed, and which graders failed."""

    case_id: str
    model: str
    runtime: str
    constrained: bool
    passed: bool
    latency_s: float
    output_tokens: int
    category: str
    language: str
    failed_graders: tuple[str, ...]
    output: str

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "failed_graders": list(self.failed_graders)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalRow:
        return cls(**{**data, "failed_graders": tuple(data["failed_graders"])})

    def to_csv(self) -> dict[str, str]:
        return {**{k: str(v) for k, v in asdict(self).items()}, "failed_graders": " ".join(self.failed_graders)}

    @classmethod
    def from_csv(cls, row: dict[str, str]) -> EvalRow:
        return cls(
            row["case_id"],
            row["model"],
            row["runtime"],
            row["constrained"] == "True",
            row["passed"] == "True",
            float(row["latency_s"]),
            int(row["output_tokens"]),
            row["category"],
            row["language"],
            tuple(row["failed_graders"].split()),
            row["output"],
        )


CSV_COLUMNS = [f.name for f in fields(EvalRow)]


@dataclass(frozen=True)
class EvalSummary:
    """One run (a model on a runtime, constrained or not) in numbers: what passed, and how fast.

    ``constrained`` is true when the runtime enforced the JSON schema of at least
    one case (``constrained_cases`` says how many); a constrained run's JSON
    passes show the runtime's discipline, not the model's.
    """

    model: str
    runtime: str
    constrained: bool
    constrained_cases: int
    cases: int
    passed: int
    pass_rate: float
    tokens_per_s: float
    passed_cases: tuple[str, ...]
    failed_cases: tuple[str, ...]

    @property
    def output_mode(self) -> str:
        """Whether output was constrained, in words a table can show."""
        if self.constrained:
            return _("constrained (response_format on {count} JSON cases)").format(count=self.constrained_cases)
        return _("unconstrained")

    @property
    def label(self) -> str:
        """``SmolLM2-135M-Instruct · llama.cpp`` (plus `` · constrained`` when it was): a short name for plots."""
        return f"{self.model.split('/')[-1]} · {self.runtime}" + (" · constrained" if self.constrained else "")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed_cases": list(self.passed_cases), "failed_cases": list(self.failed_cases)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalSummary:
        return cls(**{**data, "passed_cases": tuple(data["passed_cases"]), "failed_cases": tuple(data["failed_cases"])})


def run_cases(runner: Runner, cases: Iterable[Case]) -> list[EvalRow]:
    """One row per case: passed, latency, output tokens, whether output was constrained, and which graders failed."""
    rows = []
    for case in cases:
        generation = runner.generate(case)
        failed = grade(generation.text, case.graders)
        rows.append(
            EvalRow(
                case.case_id,
                runner.model,
                runner.runtime,
                generation.constrained,
                not failed,
                round(generation.seconds, 3),
                generation.output_tokens,
                case.category,
                case.language,
                tuple(failed),
                generation.text.strip(),
            )
        )
    return rows


def summarize(rows: list[EvalRow]) -> EvalSummary:
    """Pass count and end-to-end speed (:func:`~helpers.machine.speed.end_to_end_tokens_per_s` over all cases) for one run."""
    if not rows:
        raise ValueError("No eval rows to summarize: a run with zero cases proves nothing. Load the cases with load_cases().")
    runs = {(r.model, r.runtime) for r in rows}
    if len(runs) > 1:
        raise ValueError(f"These rows mix {len(runs)} runs ({sorted(runs)}); summarize one model and runtime at a time.")
    passed = [r.case_id for r in rows if r.passed]
    constrained = sum(r.constrained for r in rows)
    return EvalSummary(
        rows[0].model,
        rows[0].runtime,
        constrained > 0,
        constrained,
        len(rows),
        len(passed),
        round(len(passed) / len(rows), 3),
        round(end_to_end_tokens_per_s(sum(r.output_tokens for r in rows), sum(r.latency_s for r in rows)), 1),
        tuple(passed),
        tuple(r.case_id for r in rows if not r.passed),
    )


def table_path(model: str, runtime: str, constrained: bool = False, outputs: Path | None = None) -> Path:
    """``outputs/evals/<model>__<runtime>[__constrained].csv``: constrained and free runs never overwrite each other."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", f"{model}__{runtime}").strip("-") + ("__constrained" if constrained else "")
    return (outputs / "evals" if outputs else output("evals")) / f"{slug}.csv"


def write_table(rows: list[EvalRow], outputs: Path | None = None) -> Path:
    """Write one run's rows as CSV, atomically, so a reader never sees half a table."""
    summary = summarize(rows)
    text = csv_text((r.to_csv() for r in rows), CSV_COLUMNS)
    return atomic_write_text(table_path(summary.model, summary.runtime, summary.constrained, outputs), text)


def read_table(path: Path) -> list[EvalRow]:
    """One table's rows; an empty, cut-off or older-format table is an :class:`EvalTableError`."""
    name = relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EvalTableError(_("{name} cannot be read ({error}).").format(name=name, error=error) + " " + _(REWRITE)) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise EvalTableError(_("{name} is empty (a run that stopped before writing?).").format(name=name) + " " + _(REWRITE))
    missing = [c for c in CSV_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise EvalTableError(
            _("{name} was written by an older version of the kit (no column {columns}).").format(
                name=name, columns=", ".join(missing)
            )
            + " "
            + _(REWRITE)
        )
    rows = []
    for number, row in enumerate(reader, start=2):
        try:
            if None in row or None in row.values():
                raise ValueError("wrong number of fields")
            rows.append(EvalRow.from_csv(row))
        except ValueError as error:
            raise EvalTableError(
                _("{name}, line {line}: not a complete eval row ({error}); the file looks cut off.").format(
                    name=name, line=number, error=error
                )
                + " "
                + _(REWRITE)
            ) from None
    if not rows:
        raise EvalTableError(_("{name} has a header but no rows.").format(name=name) + " " + _(REWRITE))
    return rows


def table_files(outputs: Path | None = None) -> list[Path]:
    return sorted((outputs / "evals" if outputs else output("evals")).glob("*.csv"))


def read_rows(outputs: Path | None = None) -> list[EvalRow]:
    """Every eval row any route has written, table after table."""
    return [row for path in table_files(outputs) for row in read_table(path)]


def read_summaries(outputs: Path | None = None) -> list[EvalSummary]:
    """One :class:`EvalSummary` per table in ``outputs/evals/`` (empty when no run has been made yet)."""
    return [summarize(read_table(path)) for path in table_files(outputs)]


@dataclass(frozen=True)
class SideBySide:
    """The same cases on the same endpoint, with the JSON schema enforced and without.

    Only the JSON cases can differ in how they were asked; the difference in
    their pass counts is what ``response_format`` buys, which the model alone
    would not deliver.
    """

    constrained: EvalSummary
    unconstrained: EvalSummary
    constrained_rows: tuple[EvalRow, ...]
    unconstrained_rows: tuple[EvalRow, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "constrained": self.constrained.to_json(),
            "unconstrained": self.unconstrained.to_json(),
            "constrained_rows": [r.to_json() for r in self.constrained_rows],
            "unconstrained_rows": [r.to_json() for r in self.unconstrained_rows],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SideBySide:
        return cls(
            EvalSummary.from_json(data["constrained"]),
            EvalSummary.from_json(data["unconstrained"]),
            tuple(EvalRow.from_json(r) for r in data["constrained_rows"]),
            tuple(EvalRow.from_json(r) for r in data["unconstrained_rows"]),
            tuple(data["notes"]),
        )


def run_side_by_side(
    client: Any, model: str, cases: list[Case], *, runtime: str = "openai-compatible", outputs: Path | None = None
) -> SideBySide:
    """Run the cases twice on one endpoint, constrained then unconstrained, and write both tables.

    A server that rejects ``json_schema`` gives a "constrained" run with
    ``constrained=False`` and a note: the comparison then says plainly that
    nothing was enforced.
    """
    enforced = OpenAIRunner(client, model, runtime=runtime, structured_output=True)
    free = OpenAIRunner(client, model, runtime=runtime, structured_output=False)
    with_schema, without = run_cases(enforced, cases), run_cases(free, cases)
    for rows in (with_schema, without):
        write_table(rows, outputs)
    return SideBySide(summarize(with_schema), summarize(without), tuple(with_schema), tuple(without), tuple(enforced.notes))
