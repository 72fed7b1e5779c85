"""The drift report: after an instructor regenerates, did any figure that matters move beyond its usual noise?

The figures come from the typed results the notebooks write into ``outputs/``
(read through :func:`helpers.decision.evidence.gather`, the decision record and the
verdict), never from notebook text:

==========================  ===========================  ===================================
figure                      read from                    flagged when
==========================  ===========================  ===================================
eval pass count             each eval table's summary    it changes at all
end-to-end tokens/s         each eval table's summary    it moves more than 25%
median TTFT and TPOT        the serving benchmark        it moves more than 25%
estimator's worst error     ``memory_check.csv``         it is past ±10%, its target
decision model and runtime  the decision record          it changes at all
verdict                     the record's route card      it changes at all
==========================  ===========================  ===================================

The "old" side is a baseline snapshot taken before the first notebook reruns and
kept in ``outputs/regeneration_baseline.json`` until a regeneration is accepted,
so rerunning after a flag still compares against the figures the committed
notebooks were made with.

The noise check (:func:`untagged_changes`, ``make regenerate CHECK=1``) makes
"only measurement cells differ on an unchanged tree" a test: it names every cell
whose output changed between two executions and is not tagged ``measurement``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from helpers.core.paths import atomic_write_json, atomic_write_text, output, relative
from helpers.decision import choose
from helpers.decision.evidence import Evidence, gather
from helpers.decision.record import RecordError, load_record, profile_of, selected
from helpers.decision.verdict import judge
from helpers.fits.estimator import TARGET_ERROR_PCT
from helpers.machine.environment import ReportFormatError
from helpers.machine.speed import END_TO_END_LABEL

Kind = Literal["count", "speed", "error", "label"]
SPEED_TOLERANCE_PCT = 25.0
BASELINE_FORMAT = 1


class DriftInputError(ValueError):
    """A results file the drift report cannot read (an older format, say); the message says what to do."""


@dataclass(frozen=True)
class Figure:
    """One figure that matters: a pass count ("3/14"), a speed, an error in %, or a label."""

    label: str
    kind: Kind
    value: str | float


@dataclass(frozen=True)
class Drift:
    """One row of the report: old against new, the change, and why it is flagged (empty when it is not)."""

    label: str
    old: str
    new: str
    change: str
    flag: str


def _eval_figures(evidence: Evidence) -> dict[str, Figure]:
    figures = {}
    for run in evidence.runs:
        s = run.summary
        figures[f"pass:{s.label}"] = Figure(f"eval passed · {s.label}", "count", f"{s.passed}/{s.cases}")
        figures[f"tok/s:{s.label}"] = Figure(f"{END_TO_END_LABEL} · {s.label}", "speed", s.tokens_per_s)
    return figures


def _serving_figures(evidence: Evidence) -> dict[str, Figure]:
    figures = {}
    bench = evidence.benchmark
    for level in bench.levels if bench else []:
        for name, stat in (("TTFT", level.ttft_ms), ("TPOT", level.tpot_ms)):
            if stat.median is not None:
                key = f"{name}:c{level.concurrency}"
                figures[key] = Figure(f"median {name} ms · concurrency {level.concurrency}", "speed", stat.median)
    return figures


def _decision_figures(evidence: Evidence, outputs: Path) -> dict[str, Figure]:
    path = outputs / Path(output("decision_json")).name
    if not path.is_file():
        return {}
    try:
        decision = choose(profile_of(load_record(path)))
    except RecordError as error:
        raise DriftInputError(str(error)) from None
    figures = {}
    verdict = judge(decision, evidence)
    first = selected(decision, verdict)  # the model the record stands behind: candidate_2 once its signal is met
    if first is not None:
        figures["decision"] = Figure("decision · model and runtime", "label", f"{first.model} on {first.runtime}")
    card = verdict.mine
    figures["verdict"] = Figure(f"verdict · {card.route}", "label", card.status)
    return figures


def collect(outputs: Path) -> dict[str, Figure]:
    """Every figure that matters, read from the typed results under ``outputs``; unreadable files raise."""
    try:
        evidence = gather(outputs)
    except (ReportFormatError, ValueError) as error:
        raise DriftInputError(str(error)) from None
    if evidence.problems():
        raise DriftInputError(" ".join(evidence.problems()))
    figures = _eval_figures(evidence) | _serving_figures(evidence) | _decision_figures(evidence, outputs)
    if evidence.memory is not None:
        figures["estimator"] = Figure("estimator worst error %", "error", evidence.memory.worst_error_pct)
    return figures


def _shown(figure: Figure | None) -> str:
    if figure is None:
        return "—"
    return f"{figure.value:g}" if isinstance(figure.value, float) else str(figure.value)


def compare(old: dict[str, Figure], new: dict[str, Figure]) -> list[Drift]:
    """Old against new, one row per figure on either side, flagged by the tolerances in the module docstring."""
    rows = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        figure = after or before
        change, flag = "", ""
        if before is not None and after is not None:
            if figure.kind == "speed" and before.value:
                pct = 100.0 * (float(after.value) - float(before.value)) / float(before.value)
                change = f"{pct:+.1f}%"
                if abs(pct) > SPEED_TOLERANCE_PCT:
                    flag = f"moved more than {SPEED_TOLERANCE_PCT:g}%"
            elif figure.kind == "error":
                change = f"{float(after.value) - float(before.value):+.1f} points"
            elif before.value != after.value:
                change, flag = "changed", "any change is flagged"
        if figure.kind == "error" and after is not None and abs(float(after.value)) > TARGET_ERROR_PCT:
            flag = f"past ±{TARGET_ERROR_PCT:g}%"
        rows.append(Drift(figure.label, _shown(before), _shown(after), change or ("new" if before is None else ""), flag))
    return rows


def render(rows: list[Drift]) -> str:
    """The report as Markdown: one table (old, new, change, flag), then one line saying what to do."""
    lines = ["# Regeneration drift report", "", "| figure | old | new | change | flag |", "| --- | ---: | ---: | --- | --- |"]
    lines += [f"| {r.label} | {r.old} | {r.new} | {r.change} | {r.flag} |" for r in rows]
    flagged = [r for r in rows if r.flag]
    lines.append("")
    if not rows:
        lines.append("No figures found in outputs/: nothing to compare yet.")
    elif flagged:
        lines.append(
            f"{len(flagged)} figure(s) moved beyond tolerance. Read the table; if the change is real, accept it with "
            "`make regenerate ACCEPT=1` (add the same NB=)."
        )
    else:
        lines.append("Nothing moved beyond tolerance.")
    return "\n".join(lines) + "\n"


def write_report(rows: list[Drift]) -> str:
    return relative(atomic_write_text(output("regeneration_report"), render(rows)))


def load_or_take_baseline(outputs: Path) -> dict[str, Figure]:
    """The figures before this regeneration: a baseline kept from a flagged run, or a fresh snapshot saved as one."""
    path = output("regeneration_baseline")
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != BASELINE_FORMAT:
            raise DriftInputError(f"{relative(path)} comes from another kit version: delete it, then regenerate again.")
        return {key: Figure(**figure) for key, figure in data["figures"].items()}
    figures = collect(outputs)
    atomic_write_json(path, {"format": BASELINE_FORMAT, "figures": {k: asdict(f) for k, f in figures.items()}})
    return figures


def drop_baseline() -> None:
    output("regeneration_baseline").unlink(missing_ok=True)


def table(rows: list[Drift]) -> str:
    """The same table for a terminal."""
    width = max([len(r.label) for r in rows] + [6])
    lines = [f"{'figure':<{width}}  {'old':>22}  {'new':>22}  {'change':>9}  flag"]
    lines += [f"{r.label:<{width}}  {r.old:>22}  {r.new:>22}  {r.change:>9}  {r.flag}" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- the noise check: only measurement cells may differ

#: Tag for a cell whose output is a measurement (timings, free memory): the one place regenerated diffs may appear.
MEASUREMENT_TAG = "measurement"


@dataclass(frozen=True)
class CellChange:
    """A cell whose output differs between two executions of one notebook although it is not tagged as a measurement."""

    index: int
    source: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"cell {self.index} ({self.source!r}): {self.old!r} -> {self.new!r}"


def _merged_streams(outputs: list) -> list[dict]:
    """Consecutive stdout (or stderr) chunks as one: where the kernel cut a printed text depends on timing, not on the code."""
    merged: list[dict] = []
    for out in outputs:
        if out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream":
            if merged[-1].get("name") == out.get("name"):
                merged[-1] = {**merged[-1], "text": "".join(merged[-1]["text"]) + "".join(out.get("text", ""))}
                continue
        merged.append(out)
    return merged


def _output_text(cell) -> list[str]:
    """What a cell shows, line by line, with each output's type, so an image or an error counts as much as printed text."""
    lines, outputs = [], _merged_streams(cell.get("outputs", []))
    for out in outputs:
        kind = out.get("output_type", "")
        if kind == "stream":
            lines += [f"{out.get('name')}: {line}" for line in "".join(out.get("text", "")).splitlines()]
        elif kind == "error":
            lines.append(f"error: {out.get('ename')}: {out.get('evalue')}")
        else:
            for mime, data in sorted(out.get("data", {}).items()):
                text = data if isinstance(data, str) else "".join(data) if isinstance(data, list) else json.dumps(data)
                lines += [f"{mime}: {line}" for line in text.splitlines()]
    return lines


def _first_difference(old: list[str], new: list[str]) -> tuple[str, str]:
    for before, after in zip(old, new, strict=False):
        if before != after:
            return before, after
    n = min(len(old), len(new))
    return ("\n".join(old[n : n + 1]) or "(nothing)", "\n".join(new[n : n + 1]) or "(nothing)")


def untagged_changes(old: Path, new: Path) -> list[CellChange]:
    """Every code cell whose output differs between two executed copies of one notebook and is not tagged ``measurement``.

    On an unchanged tree this list is empty: anything else is noise (a clock, a
    port, a PID, free memory) to mask at its source, or a measurement to tag.
    A cell whose source differs is listed too: the copies are not of one tree.
    """
    import nbformat

    before, after = (nbformat.read(path, as_version=4).cells for path in (old, new))
    changes = []
    for index in range(max(len(before), len(after))):
        a = before[index] if index < len(before) else None
        b = after[index] if index < len(after) else None
        if a is None or b is None or a.source != b.source:
            shown = (a or b).source.splitlines()[0][:60] if (a or b).source else ""
            changes.append(CellChange(index, shown, "source differs", "source differs"))
            continue
        if b.cell_type != "code" or MEASUREMENT_TAG in b.metadata.get("tags", []):
            continue
        old_lines, new_lines = _output_text(a), _output_text(b)
        if old_lines != new_lines:
            changes.append(
                CellChange(index, b.source.splitlines()[0][:60] if b.source else "", *_first_difference(old_lines, new_lines))
            )
    return changes
