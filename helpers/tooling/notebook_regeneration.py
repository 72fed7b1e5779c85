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

from helpers.core.i18n import SOURCE_LANGUAGE
from helpers.core.net import STABLE_PORTS_ENV
from helpers.core.paths import output, outputs_dir, relative
from helpers.tooling import regeneration
from helpers.tooling.notebook_execution import NotebookResult, execute, strip_volatile_metadata, summary
from helpers.tooling.translation_build import translated_path

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


def runs_folder(lang: str = SOURCE_LANGUAGE) -> Path:
    """Where executed copies go: ``outputs/notebook_runs/``, and a folder per language for the translations."""
    runs = output("notebook_runs") if lang == SOURCE_LANGUAGE else output("notebook_runs") / lang
    runs.mkdir(parents=True, exist_ok=True)
    return runs


def execute_to_scratch(selected: list[Path], lang: str = SOURCE_LANGUAGE) -> list[tuple[NotebookResult, Path]]:
    """Execute each notebook (a translation with papermill ``-p lang``) into a scratch copy; a failed copy is kept by name."""
    runs = runs_folder(lang)
    parameters = {} if lang == SOURCE_LANGUAGE else {"lang": lang}
    done = []
    for notebook in selected:
        print(f"regenerating {relative(notebook)} ...", flush=True)
        fd, scratch = tempfile.mkstemp(prefix=".regenerating-", suffix=".ipynb", dir=runs)
        os.close(fd)
        result = execute(notebook, Path(scratch), parameters=parameters)
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
        done = execute_to_scratch(selected)
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


def check(selected: list[Path], languages: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> int:
    """Re-execute under the regeneration clock and ports, and fail if any cell not tagged ``measurement`` differs.

    Run on an unchanged tree, this is the proof that regeneration is noise-free.
    ``languages`` adds the zh and ja editions of the selected notebooks, each run
    in its language as ``make translations-run`` runs it. The committed notebooks
    are never replaced; the new copies go to ``outputs/notebook_runs/`` (a folder
    per translation) and no drift report or baseline is written.
    """
    editions = [(lang, [p if lang == SOURCE_LANGUAGE else translated_path(p, lang) for p in selected]) for lang in languages]
    missing = [path for _, paths in editions for path in paths if not path.exists()]
    if missing:
        names = ", ".join(relative(p) for p in missing)
        print(
            f"{names}: no such translation. Build it first (make translations), or check English alone (LANGS=en).",
            file=sys.stderr,
        )
        return 2
    empty = [path for _, paths in editions for path in without_outputs(paths)]
    if empty:
        names = ", ".join(relative(p) for p in empty)
        print(
            f"{names}: no stored outputs to check against. Regenerate them first "
            "(make regenerate NB=… ACCEPT=1, or make translations-run NB=… for a translation).",
            file=sys.stderr,
        )
        return 2
    with regeneration_environment():
        done = [(lang, pair) for lang, paths in editions for pair in execute_to_scratch(paths, lang)]
    print(summary([result for _, (result, _) in done]))
    clean = True
    for lang, (result, scratch) in done:
        kept = runs_folder(lang) / result.notebook.name
        if result.passed:
            changes = regeneration.untagged_changes(result.notebook, scratch)
            _print_changes(result.notebook, changes, noise=True)
            clean = clean and not changes
        os.replace(scratch, kept)
        result.executed = kept
    return 0 if clean and all(result.passed for _, (result, _) in done) else 1
