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
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.core.i18n import LANGUAGES, SOURCE_LANGUAGE, CatalogueError, normalize, translator
from helpers.core.i18n import markdown as md
from helpers.core.paths import NOTEBOOKS, atomic_write_text, output, relative
from helpers.tooling.notebook_runner import (
    NotebookResult,
    SelectionError,
    execute,
    notebooks,
    select,
    strip_volatile_metadata,
    summary,
)

#: The languages that get a folder of notebooks.
TRANSLATED = tuple(code for code in LANGUAGES if code != SOURCE_LANGUAGE)
#: Where a translated notebook records what it was built from.
METADATA_KEY = "openllm_routes_translation"
#: The tag of the cell that switches the helpers' language.
LANGUAGE_TAG = "i18n-language"
INJECTED_TAG = "injected-parameters"
LANG_LINE = 'lang = "{lang}"  # the language of the helpers\' messages: "en", "zh" or "ja"'
USE_SOURCE = "from helpers.core.i18n import use\n\nuse(lang)"


@dataclass
class Built:
    """One translated notebook as built: where, and whether it still needs executing."""

    path: Path
    needs_execution: bool
    changed: bool


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def folder(lang: str, root: Path = NOTEBOOKS) -> Path:
    """``notebooks/zh`` or ``notebooks/ja``: each language's notebooks sit beside the English ones."""
    return root / normalize(lang)


def translated_path(source: Path, lang: str) -> Path:
    return folder(lang, source.parent) / source.name


def _tags(cell) -> list[str]:
    return sorted(cell.get("metadata", {}).get("tags", []))


def source_hash(notebook) -> str:
    """SHA-256 of what a translation depends on: every cell's type, source and tags (never outputs)."""
    cells = [{"type": c.cell_type, "source": c.source, "tags": _tags(c)} for c in notebook.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def _is_parameters(cell) -> bool:
    return cell.cell_type == "code" and "parameters" in _tags(cell)


def render(source: Path, lang: str, gettext: Callable[[str], str] | None = None):
    """The translated notebook for ``source`` in ``lang``, unexecuted."""
    english = nbformat.read(source, as_version=4)
    gettext = gettext or translator(lang)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = copy.deepcopy(english.metadata)
    for volatile in ("widgets", "papermill"):
        notebook.metadata.pop(volatile, None)
    notebook.metadata[METADATA_KEY] = {
        "language": lang,
        "source": relative(source),
        "source_sha256": source_hash(english),
    }
    for cell in english.cells:
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            cell.source = md.translate(cell.source, gettext, lang)
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        notebook.cells.append(cell)
    lang_line = LANG_LINE.format(lang=lang)
    position = next((i for i, c in enumerate(notebook.cells) if _is_parameters(c)), None)
    if position is None:
        first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), -1)
        position = first_code + 1
        cell = nbformat.v4.new_code_cell(lang_line, metadata={"tags": ["parameters"]})
        cell.id = "i18n-parameters"
        notebook.cells.insert(position, cell)
    else:
        notebook.cells[position].source = notebook.cells[position].source.rstrip("\n") + "\n" + lang_line
    use = nbformat.v4.new_code_cell(USE_SOURCE, metadata={"tags": [LANGUAGE_TAG]})
    use.id = "i18n-language"
    notebook.cells.insert(position + 1, use)
    return notebook


def _code(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and INJECTED_TAG not in _tags(c)]


def _carry_outputs(previous, notebook) -> bool:
    """Keep the previous build's outputs when its code is the same; False when it must be executed again."""
    old, new = _code(previous), _code(notebook)
    if [c.source for c in old] != [c.source for c in new] or any(c.execution_count is None for c in old):
        return False
    for before, after in zip(old, new, strict=True):
        after.outputs, after.execution_count = before.outputs, before.execution_count
    injected = [c for c in previous.cells if INJECTED_TAG in _tags(c)]
    if injected:
        position = next(i for i, c in enumerate(notebook.cells) if _is_parameters(c))
        notebook.cells.insert(position + 1, injected[0])
    for key in ("language_info",):
        if key in previous.metadata:
            notebook.metadata[key] = previous.metadata[key]
    return True


def build(source: Path, lang: str) -> Built:
    """Write ``notebooks/<lang>/<name>`` from ``source``; unchanged files are not rewritten."""
    target = translated_path(source, lang)
    notebook = render(source, lang)
    needs_execution = True
    if target.exists():
        previous = nbformat.read(target, as_version=4)
        needs_execution = not _carry_outputs(previous, notebook)
    text = nbformat.writes(notebook) + "\n"
    changed = not target.exists() or target.read_text(encoding="utf-8") != text
    if changed:
        atomic_write_text(target, text)
    return Built(target, needs_execution, changed)


def remove_orphans(lang: str, root: Path = NOTEBOOKS) -> list[Path]:
    """Translated notebooks whose English source is gone (renamed or deleted) are deleted too."""
    names = {p.name for p in notebooks(root)}
    orphans = [p for p in notebooks(folder(lang, root)) if p.name not in names] if folder(lang, root).exists() else []
    for path in orphans:
        path.unlink()
    return orphans


def normalized_code(notebook, lang: str) -> list[tuple[str, list[str]]]:
    """A translated notebook's code cells with what the build added taken away: comparable with :func:`english_code`."""
    cells, suffix = [], "\n" + LANG_LINE.format(lang=lang)
    for cell in _code(notebook):
        tags, source = _tags(cell), cell.source
        if LANGUAGE_TAG in tags:
            continue
        if "parameters" in tags:
            if cell.get("id") == "i18n-parameters" and source == suffix[1:]:
                continue
            source = source[: -len(suffix)] if source.endswith(suffix) else source
        cells.append((source, tags))
    return cells


def english_code(notebook) -> list[tuple[str, list[str]]]:
    """The English code cells as the build copies them (a parameters cell loses its trailing newlines)."""
    return [(c.source.rstrip("\n") if _is_parameters(c) else c.source, _tags(c)) for c in notebook.cells if c.cell_type == "code"]


def check_language(lang: str, root: Path = NOTEBOOKS) -> list[str]:
    """Every way the ``lang`` notebooks in ``root/<lang>`` can have fallen behind the English ones in ``root``."""
    problems = []
    english = {p.name: p for p in notebooks(root)}
    translated = {p.name: p for p in notebooks(folder(lang, root))} if folder(lang, root).exists() else {}
    where = relative(folder(lang, root))
    for name in sorted(english.keys() - translated.keys()):
        problems.append(
            f"{where}/{name} is missing: {relative(english[name])} has no {LANGUAGES[lang]} edition. Run `make translations`."
        )
    for name in sorted(translated.keys() - english.keys()):
        problems.append(f"{where}/{name} has no English source {relative(root)}/{name}. Run `make translations` to remove it.")
    try:
        gettext = translator(lang)
    except CatalogueError as error:
        return problems + [str(error)]
    for name in sorted(english.keys() & translated.keys()):
        source = nbformat.read(english[name], as_version=4)
        target_path = translated[name]
        try:
            target = nbformat.read(target_path, as_version=4)
        except Exception as error:  # nbformat raises several types for a damaged file
            problems.append(f"{relative(target_path)} cannot be read ({error}). Run `make translations`.")
            continue
        shown = relative(target_path)
        stored = target.metadata.get(METADATA_KEY, {})
        if stored.get("source_sha256") != source_hash(source):
            problems.append(
                f"{shown} is older than {relative(english[name])} (source hash differs). "
                f"Run `make translations`, then `make translations-run NB={name.split('_')[0]}`."
            )
            continue
        if normalized_code(target, lang) != english_code(source):
            problems.append(
                f"{shown}: a code cell differs from {relative(english[name])}. Code is written once; run `make translations`."
            )
        english_md = [md.translate(c.source, gettext, lang) for c in source.cells if c.cell_type == "markdown"]
        if english_md != [c.source for c in target.cells if c.cell_type == "markdown"]:
            problems.append(f"{shown}: the markdown is not what the {lang} catalogue renders now. Run `make translations`.")
        if any(c.execution_count is None for c in _code(target)):
            problems.append(f"{shown} is not executed. Run `make translations-run NB={name.split('_')[0]}`.")
        injected = [c.source for c in target.cells if INJECTED_TAG in _tags(c)]
        if injected and f'lang = "{lang}"' not in injected[0]:
            problems.append(f"{shown} was executed in another language. Run `make translations-run NB={name.split('_')[0]}`.")
    return problems


def check(languages: tuple[str, ...] = TRANSLATED, root: Path = NOTEBOOKS) -> CheckReport:
    return CheckReport([problem for lang in languages for problem in check_language(lang, root)])


def run(paths: list[Path], lang: str) -> list[NotebookResult]:
    """Execute translated notebooks in ``lang`` (papermill ``-p lang``); each is replaced only if every cell ran."""
    results = []
    runs = output("notebook_runs") / lang
    runs.mkdir(parents=True, exist_ok=True)
    for notebook in paths:
        print(f"running {relative(notebook)} in {LANGUAGES[lang]} ...", flush=True)
        fd, scratch = tempfile.mkstemp(prefix=".translated-", suffix=".ipynb", dir=runs)
        os.close(fd)
        result = execute(notebook, Path(scratch), parameters={"lang": lang})
        if result.passed:
            strip_volatile_metadata(Path(scratch))
            os.replace(scratch, notebook)
        else:
            os.replace(scratch, runs / notebook.name)
            result.executed = runs / notebook.name
        results.append(result)
    return results


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
            targets = [t for t in targets if t.exists() and any(c.execution_count is None for c in _code(nbformat.read(t, 4)))]
        results += run(targets, lang)
    print(summary(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
