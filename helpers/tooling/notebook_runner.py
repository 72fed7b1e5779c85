"""Execute the course notebooks headlessly with papermill, in order, and say how it went.

``python -m helpers.tooling.notebook_runner run`` (what ``make run`` calls) executes each
``notebooks/NN_*.ipynb`` into ``outputs/notebooks/``, with the kernel named
explicitly and the working directory fixed to ``notebooks/``. It ends with one
line per notebook: passed or failed, seconds taken, and the artefacts it wrote.
A failure names the notebook and cell, keeps the failed executed copy, and makes
the exit status non-zero.

``python -m helpers.tooling.notebook_runner regenerate`` (``make regenerate``, for
instructors) re-executes the committed notebooks in place and strips what changes
on every run without meaning anything (papermill's per-cell metadata, widget
state), so a diff shows only real changes in outputs.

``--check`` (``make regenerate CHECK=1``) replaces nothing: it re-executes and
fails if any cell not tagged ``measurement`` differs from the committed copy,
the proof that regenerating an unchanged tree is noise-free.

``--only 04`` (``make regenerate NB=04``) picks notebooks by their number prefix,
their name, or a glob such as ``"0[45]*"``; repeat it for several. New notebooks
are picked up by their file name: nothing to register.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from helpers.core.names import KERNEL_NAME
from helpers.core.net import STABLE_PORTS_ENV
from helpers.core.paths import NOTEBOOKS, atomic_write_text, output, outputs_dir, relative
from helpers.tooling import regeneration

#: What committed notebooks declare, so Colab and plain Jupyter open them with their own Python.
PORTABLE_KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
VOLATILE_CELL_METADATA = ("papermill", "execution")
#: Output mime type of a live widget: it carries a random model id, and means nothing without the kernel.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The clock regeneration runs under (``SOURCE_DATE_EPOCH``, 2026-01-01 UTC), so record timestamps do not churn.
REGENERATION_EPOCH = 1767225600
#: Where regenerated notebooks' servers take their ports from (in order), so printed ports do not churn.
REGENERATION_FIRST_PORT = 18000


class SelectionError(ValueError):
    """A ``--only`` pattern that names no notebook."""


@dataclass
class NotebookResult:
    notebook: Path
    executed: Path
    seconds: float
    error: str | None = None
    artefacts: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None


def notebooks(folder: Path | None = None) -> list[Path]:
    """Every notebook in the course, in lesson order (by file name)."""
    return sorted(p for p in (folder or NOTEBOOKS).glob("*.ipynb") if not p.name.startswith("."))


def matches(path: Path, pattern: str) -> bool:
    """Whether ``pattern`` names this notebook: its number prefix (``04``), its name, or a glob."""
    name = path.name
    return (
        name.split("_", 1)[0] == pattern
        or name in (pattern, f"{pattern}.ipynb")
        or fnmatch.fnmatch(name, pattern)
        or fnmatch.fnmatch(name, f"{pattern}.ipynb")
    )


def select(patterns: list[str] | None, folder: Path | None = None) -> list[Path]:
    """The notebooks the patterns name, in lesson order; every notebook when there are none.

    A pattern that names nothing is an error rather than an empty run: a typo
    would otherwise look like a regeneration that changed nothing.
    """
    every = notebooks(folder)
    if not patterns:
        return every
    for pattern in patterns:
        if not any(matches(p, pattern) for p in every):
            known = ", ".join(p.name for p in every) or "none"
            raise SelectionError(
                f"No notebook matches {pattern!r}. Use a number prefix such as 04, a name or a glob; the notebooks are: {known}."
            )
    return [p for p in every if any(matches(p, pattern) for pattern in patterns)]


def _snapshot(folder: Path, skip: Path) -> dict[Path, int]:
    if not folder.exists():
        return {}
    return {
        p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and skip not in p.parents and not p.name.startswith(".")
    }


def describe_failure(error: BaseException) -> str:
    """Name the failing cell the way a learner finds it: its position and execution count."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        return f"cell {error.cell_index} (execution count [{error.exec_count}]): {error.ename}: {error.evalue}"
    return f"{type(error).__name__}: {error}"


def execute(notebook: Path, executed: Path, parameters: dict | None = None) -> NotebookResult:
    """Run one notebook with papermill; the executed copy is written even when a cell fails."""
    import papermill

    executed.parent.mkdir(parents=True, exist_ok=True)
    outputs, runs = outputs_dir(), output("notebook_runs")
    before = _snapshot(outputs, skip=runs)
    start = time.perf_counter()
    error = None
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters or {},
            kernel_name=KERNEL_NAME,
            cwd=str(notebook.parent),
            progress_bar=False,
            log_output=False,
        )
    except Exception as exc:  # papermill raises after saving the failed copy
        error = describe_failure(exc)
    seconds = time.perf_counter() - start
    after = _snapshot(outputs, skip=runs)
    artefacts = sorted(relative(p) for p, mtime in after.items() if before.get(p) != mtime)
    return NotebookResult(notebook, executed, seconds, error, artefacts)


def strip_volatile_metadata(path: Path) -> None:
    """Drop papermill's per-cell timing and status and all widget state, and declare the portable kernel.

    Widget state (``metadata.widgets`` and each widget view's model id) is random
    on every run; a learner's live kernel renders the form again without it.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(PORTABLE_KERNELSPEC)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                del out["data"][WIDGET_VIEW]
    atomic_write_text(path, nbformat.writes(nb) + "\n")


def summary(results: list[NotebookResult]) -> str:
    lines = ["", f"{'notebook':<34} {'result':<7} {'seconds':>8}  artefacts"]
    for r in results:
        shown = ", ".join(r.artefacts[:4]) + (f" (+{len(r.artefacts) - 4} more)" if len(r.artefacts) > 4 else "")
        lines.append(f"{r.notebook.name:<34} {'passed' if r.passed else 'FAILED':<7} {r.seconds:>8.1f}  {shown or '-'}")
    for r in results:
        if not r.passed:
            lines.append(f"FAILED {relative(r.notebook)}: {r.error}")
            lines.append(f"       the failed executed copy is {relative(r.executed)}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} notebooks passed; executed copies are in {relative(output('notebook_runs'))}/")
    return "\n".join(lines)


def run_all(selected: list[Path]) -> list[NotebookResult]:
    """Execute each notebook into ``outputs/notebooks/``, carrying on past failures."""
    results = []
    for notebook in selected:
        print(f"running {relative(notebook)} ...", flush=True)
        results.append(execute(notebook, output("notebook_runs") / notebook.name))
    return results


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
def _regeneration_environment():
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
    with _regeneration_environment():
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
    with _regeneration_environment():
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.tooling.notebook_runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run", "regenerate"])
    parser.add_argument("--only", action="append", metavar="PATTERN", help="a number prefix (04), a name or a glob; repeatable")
    parser.add_argument(
        "--accept", action="store_true", help="regenerate: take the new figures even when the drift report flags them"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate: replace nothing; fail if a cell not tagged 'measurement' differs from the committed copy",
    )
    args = parser.parse_args(argv)
    try:
        selected = select(args.only)
    except SelectionError as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "regenerate" and args.check:
        return check(selected)
    if args.command == "regenerate":
        return regenerate(selected, accept=args.accept)
    results = run_all(selected)
    print(summary(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
