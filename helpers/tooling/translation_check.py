"""Prove no translated notebook has fallen behind its English source (``translate_notebooks check``).

A language fails when its notebook list differs from the English one, a
translation was built from an older English notebook (its hash differs), a code
cell differs from English, the markdown is not what the catalogue renders today,
or a translated notebook is not executed (or was executed in another language).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.core.i18n import LANGUAGES, CatalogueError, translator
from helpers.core.i18n import markdown as md
from helpers.core.paths import NOTEBOOKS, relative
from helpers.tooling.notebook_selection import notebooks
from helpers.tooling.translation_build import (
    INJECTED_TAG,
    LANG_LINE,
    LANGUAGE_TAG,
    METADATA_KEY,
    TRANSLATED,
    code_cells,
    folder,
    is_parameters,
    source_hash,
    tags,
    unexecuted,
)


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def normalized_code(notebook, lang: str) -> list[tuple[str, list[str]]]:
    """A translated notebook's code cells with what the build added taken away: comparable with :func:`english_code`."""
    cells, suffix = [], "\n" + LANG_LINE.format(lang=lang)
    for cell in code_cells(notebook):
        cell_tags, source = tags(cell), cell.source
        if LANGUAGE_TAG in cell_tags:
            continue
        if "parameters" in cell_tags:
            if cell.get("id") == "i18n-parameters" and source == suffix[1:]:
                continue
            source = source[: -len(suffix)] if source.endswith(suffix) else source
        cells.append((source, cell_tags))
    return cells


def english_code(notebook) -> list[tuple[str, list[str]]]:
    """The English code cells as the build copies them (a parameters cell loses its trailing newlines)."""
    return [(c.source.rstrip("\n") if is_parameters(c) else c.source, tags(c)) for c in notebook.cells if c.cell_type == "code"]


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
        if unexecuted(target):
            problems.append(f"{shown} is not executed. Run `make translations-run NB={name.split('_')[0]}`.")
        injected = [c.source for c in target.cells if INJECTED_TAG in tags(c)]
        if injected and f'lang = "{lang}"' not in injected[0]:
            problems.append(f"{shown} was executed in another language. Run `make translations-run NB={name.split('_')[0]}`.")
    return problems


def check(languages: tuple[str, ...] = TRANSLATED, root: Path = NOTEBOOKS) -> CheckReport:
    return CheckReport([problem for lang in languages for problem in check_language(lang, root)])
