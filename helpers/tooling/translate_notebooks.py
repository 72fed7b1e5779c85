"""Build ``notebooks/zh/`` and ``notebooks/ja/`` from the English notebooks, and prove none has fallen behind.

The English notebook is the one source. ``build`` (``make translations``) writes
each ``notebooks/<lang>/NN_*.ipynb`` from it:

- markdown cells through the language's catalogue, block by block; the Colab
  badge opens the translated notebook itself;
- code cells exactly as in English, plus a ``lang`` papermill parameter (added to
  the ``parameters`` cell, or a new one) and one cell tagged ``i18n-language`` that
  calls :func:`helpers.core.i18n.use`, so the helpers print in that language;
- the SHA-256 of the English cells in the notebook's metadata, as GuideLLM's docs
  record the page a translation was made from.

When only markdown changed, the executed outputs of the previous build are kept;
when code changed, the notebook is left unexecuted until ``execute``
(``make translations-run``) runs it with papermill, ``-p lang <lang>``.

``check`` fails when a language's notebook list differs from the English one,
a translation was built from an older English notebook (its hash differs), a
code cell differs from English, the markdown is not what the catalogue renders
today, or a translated notebook is not executed.

This module is the command line and the ``execute`` step; the build is
:mod:`helpers.tooling.translation_build` and the check :mod:`helpers.tooling.translation_check`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

from helpers.core.i18n import SOURCE_LANGUAGE, CatalogueError, normalize
from helpers.core.paths import relative
from helpers.tooling.notebook_execution import NotebookResult, summary
from helpers.tooling.notebook_regeneration import execute_to_scratch, regeneration_environment
from helpers.tooling.notebook_selection import SelectionError, select
from helpers.tooling.translation_build import TRANSLATED, build, remove_orphans, translated_path, unexecuted
from helpers.tooling.translation_check import check


def run(paths: list[Path], lang: str) -> list[NotebookResult]:
    """Execute translated notebooks in ``lang`` (papermill ``-p lang``); each is replaced only if every cell ran."""
    with regeneration_environment():  # the clock and ports `make regenerate` uses, so a rerun is not noise
        done = execute_to_scratch(paths, lang)
    for result, scratch in done:
        if result.passed:
            os.replace(scratch, result.notebook)
    return [result for result, _ in done]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.tooling.translate_notebooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "execute", "check"))
    parser.add_argument("--lang", action="append", help="zh or ja (repeatable); both when left out")
    parser.add_argument("--only", action="append", metavar="PATTERN", help="a number prefix (04), a name or a glob")
    parser.add_argument("--stale", action="store_true", help="execute: only notebooks whose code cells have no outputs")
    args = parser.parse_args(argv)
    try:
        languages = tuple(normalize(code) for code in args.lang) if args.lang else TRANSLATED
        if SOURCE_LANGUAGE in languages:
            raise SelectionError("English is the source (notebooks/); choose zh or ja.")
        sources = select(args.only)
    except (ValueError, SelectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "check":
        report = check(languages)
        for problem in report.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("translated notebooks are current" if report.ok else f"{len(report.problems)} problems")
        return 0 if report.ok else 1
    if args.command == "build":
        try:
            for lang in languages:
                for orphan in remove_orphans(lang):
                    print(f"removed {relative(orphan)}: its English source is gone")
                for source in sources:
                    built = build(source, lang)
                    state = "needs `make translations-run`" if built.needs_execution else "outputs kept"
                    print(f"{'wrote' if built.changed else 'unchanged'} {relative(built.path)} ({state})")
        except CatalogueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    results = []
    for lang in languages:
        targets = [translated_path(source, lang) for source in sources]
        if args.stale:
            targets = [t for t in targets if t.exists() and unexecuted(nbformat.read(t, 4))]
        results += run(targets, lang)
    print(summary(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
