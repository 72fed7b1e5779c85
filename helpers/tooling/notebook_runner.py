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
the proof that regenerating an unchanged tree is noise-free. It checks the zh
and ja editions too, each run in its language; ``--lang en`` (``LANGS=en``)
checks English alone.

``--only 04`` (``make regenerate NB=04``) picks notebooks by their number prefix,
their name, or a glob such as ``"0[45]*"``; repeat it for several. New notebooks
are picked up by their file name: nothing to register.

This module is the command line; the work is in :mod:`helpers.tooling.notebook_selection`
(which notebooks), :mod:`helpers.tooling.notebook_execution` (running one) and
:mod:`helpers.tooling.notebook_regeneration` (replacing the committed copies).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.core.i18n import LANGUAGES, normalize
from helpers.core.paths import output, relative
from helpers.tooling.notebook_execution import NotebookResult, execute, summary
from helpers.tooling.notebook_regeneration import check, regenerate
from helpers.tooling.notebook_selection import SelectionError, select


def run_all(selected: list[Path]) -> list[NotebookResult]:
    """Execute each notebook into ``outputs/notebooks/``, carrying on past failures."""
    results = []
    for notebook in selected:
        print(f"running {relative(notebook)} ...", flush=True)
        results.append(execute(notebook, output("notebook_runs") / notebook.name))
    return results


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
    parser.add_argument("--lang", action="append", help="regenerate --check: en, zh or ja (repeatable); all three when left out")
    args = parser.parse_args(argv)
    try:
        selected = select(args.only)
        if args.lang and not args.check:
            raise SelectionError("--lang goes with --check; `make translations-run` regenerates the translations.")
        languages = tuple(dict.fromkeys(normalize(code) for code in args.lang)) if args.lang else tuple(LANGUAGES)
    except (ValueError, SelectionError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "regenerate" and args.check:
        return check(selected, languages)
    if args.command == "regenerate":
        return regenerate(selected, accept=args.accept)
    results = run_all(selected)
    print(summary(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
