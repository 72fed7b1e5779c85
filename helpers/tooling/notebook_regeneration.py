"""Regenerate the committed notebooks in place (``make regenerate``), or prove that doing so is noise-free (``CHECK=1``).

:func:`regenerate` re-executes the committed notebooks under a fixed clock and
ordered ports, strips what changes on every run without meaning anything, reports
drift in the figures (:mod:`helpers.tooling.regeneration`, the drift report), and
replaces the committed copies only when that is safe. :func:`check` replaces
nothing: it fails if any cell not tagged ``measurement`` differs from the
committed copy.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from helpers.core.net import STABLE_PORTS_ENV
from helpers.core.paths import output, outputs_dir, relative
from helpers.tooling import regeneration
from helpers.tooling.notebook_execution import NotebookResult, execute, strip_volatile_metadata, summary

#: The clock regeneration runs under (``SOURCE_DATE_EPOCH``, 2026-01-01 UTC), so record timestamps do not churn.
REGENERATION_EPOCH = 1767225600
#: Where regenerated notebooks' servers take their ports from (in order), so printed ports do not churn.
REGENERATION_FIRST_PORT = 18000


def without_outputs(selected: list[Path]) -> list[Path]:
    """Committed notebooks with no stored outputs: nbval passes them trivially, and drift has nothing to compare."""
    import nbformat

    empty = []
    for path in selected:
        cells = nbformat.read(path, as_version=4).cells
        if not any(c.get("outputs") for c in cells if c.cell_type == "code"):
            empty.append(path)
    return empty


def _execute_to_scratch(selected: list[Path]) -> list[tuple[NotebookResult, Path]]:
    runs = output("notebook_runs")
    runs.mkdir(parents=True, exist_ok=True)
    done = []
    for notebook in selected:
        print(f"regenerating {relative(notebook)} ...", flush=True)
        fd, scratch = tempfile.mkstemp(prefix=".regenerating-", suffix=".ipynb", dir=runs)
        os.close(fd)
        result = execute(notebook, Path(scratch))
        if result.passed:
            strip_volatile_metadata(Path(scratch))
        else:  # the failed copy goes where the summary says it is
            result.executed = runs / notebook.name
            os.replace(scratch, result.executed)
            scratch = str(result.executed)
        done.append((result, Path(scratch)))
    return done


@contextmanager
def regeneration_environment():
    """A fixed clock and ordered ports for the kernels started inside, unless the caller chose its own; restored after."""
    fixed = {"SOURCE_DATE_EPOCH": str(REGENERATION_EPOCH), STABLE_PORTS_ENV: str(REGENERATION_FIRST_PORT)}
    added = [name for name in fixed if name not in os.environ]
    os.environ.update({name: fixed[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def regenerate(selected: list[Path], *, accept: bool = False) -> int:
    """Re-execute the notebooks under a fixed clock, report drift, and replace the committed copies only when it is safe.

    Nothing committed changes when a notebook fails, when an input cannot be
    compared (a notebook without outputs, a results file of an older format), or
    when a figure moves beyond tolerance, unless ``accept`` says the instructor
    has read the report and takes the new figures.
    """
    empty = without_outputs(selected)
    if empty and not accept:
        names = ", ".join(relative(p) for p in empty)
        print(
            f"{names}: no stored outputs to compare against. Regenerate with ACCEPT=1 to make them the baseline.", file=sys.stderr
        )
        return 2
    try:
        old = regeneration.load_or_take_baseline(outputs_dir())
    except regeneration.DriftInputError as error:
        if not accept:
            print(
                f"Cannot compare with the figures in outputs/: {error} Or regenerate with ACCEPT=1 to take the new ones.",
                file=sys.stderr,
            )
            return 2
        old = {}  # accepted: the report shows only the new figures
    with regeneration_environment():
        done = _execute_to_scratch(selected)
    results = [result for result, _ in done]
    print(summary(results))
    for result, scratch in done:
        if result.passed:
            _print_changes(result.notebook, regeneration.untagged_changes(result.notebook, scratch), noise=False)
    try:
        rows = regeneration.compare(old, regeneration.collect(outputs_dir()))
    except regeneration.DriftInputError as error:
        print(f"The new results cannot be read: {error}", file=sys.stderr)
        rows = []
    print(regeneration.table(rows))
    print(f"wrote {regeneration.write_report(rows)}")
    flagged = any(r.flag for r in rows) and not accept
    for result, scratch in done:
        if result.passed and not flagged:
            os.replace(scratch, result.notebook)
        else:
            kept = output("notebook_runs") / result.notebook.name
            os.replace(scratch, kept)
            result.executed = kept
    if flagged:
        print(
            "Flagged figures: the committed notebooks are unchanged; the new copies are in outputs/notebooks/.", file=sys.stderr
        )
        return 1
    if all(r.passed for r in results):
        regeneration.drop_baseline()
        return 0
    return 1


def _print_changes(notebook: Path, changes: list[regeneration.CellChange], *, noise: bool) -> None:
    if not changes:
        print(f"{relative(notebook)}: only cells tagged {regeneration.MEASUREMENT_TAG!r} changed")
        return
    why = "noise to mask at its source, or a measurement to tag" if noise else "real changes, or noise if the tree is unchanged"
    print(f"{relative(notebook)}: {len(changes)} cell(s) not tagged {regeneration.MEASUREMENT_TAG!r} changed ({why}):")
    for change in changes:
        print(f"  {change}")


def check(selected: list[Path]) -> int:
    """Re-execute under the regeneration clock and ports, and fail if any cell not tagged ``measurement`` differs.

    Run on an unchanged tree, this is the proof that regeneration is noise-free.
    The committed notebooks are never replaced; the new copies go to
    ``outputs/notebooks/`` and no drift report or baseline is written.
    """
    empty = without_outputs(selected)
    if empty:
        names = ", ".join(relative(p) for p in empty)
        print(
            f"{names}: no stored outputs to check against. Regenerate them first (make regenerate NB=… ACCEPT=1).",
            file=sys.stderr,
        )
        return 2
    with regeneration_environment():
        done = _execute_to_scratch(selected)
    print(summary([result for result, _ in done]))
    clean = True
    for result, scratch in done:
        kept = output("notebook_runs") / result.notebook.name
        if result.passed:
            changes = regeneration.untagged_changes(result.notebook, scratch)
            _print_changes(result.notebook, changes, noise=True)
            clean = clean and not changes
        os.replace(scratch, kept)
        result.executed = kept
    return 0 if clean and all(result.passed for result, _ in done) else 1
