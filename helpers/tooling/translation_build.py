"""Build one translated notebook (``notebooks/<lang>/NN_*.ipynb``) from its English source.

The English notebook is the one source. :func:`render` makes the translation:
markdown through the language's catalogue, block by block; code exactly as in
English, plus a ``lang`` papermill parameter and one cell tagged ``i18n-language``
that switches the helpers' language; and the SHA-256 of the English cells in the
metadata. :func:`build` writes it, keeping the previous build's executed outputs
when its code is unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.core.i18n import LANGUAGES, SOURCE_LANGUAGE, normalize, translator
from helpers.core.i18n import markdown as md
from helpers.core.paths import NOTEBOOKS, atomic_write_text, relative
from helpers.tooling.notebook_selection import notebooks

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


def folder(lang: str, root: Path = NOTEBOOKS) -> Path:
    """``notebooks/zh`` or ``notebooks/ja``: each language's notebooks sit beside the English ones."""
    return root / normalize(lang)


def translated_path(source: Path, lang: str) -> Path:
    return folder(lang, source.parent) / source.name


def tags(cell) -> list[str]:
    """A cell's tags, sorted, so two cells compare equal whatever order they were tagged in."""
    return sorted(cell.get("metadata", {}).get("tags", []))


def source_hash(notebook) -> str:
    """SHA-256 of what a translation depends on: every cell's type, source and tags (never outputs)."""
    cells = [{"type": c.cell_type, "source": c.source, "tags": tags(c)} for c in notebook.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def is_parameters(cell) -> bool:
    return cell.cell_type == "code" and "parameters" in tags(cell)


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
    position = next((i for i, c in enumerate(notebook.cells) if is_parameters(c)), None)
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


def code_cells(notebook) -> list:
    """The code cells a build and a check compare: every one but papermill's injected parameters."""
    return [c for c in notebook.cells if c.cell_type == "code" and INJECTED_TAG not in tags(c)]


def unexecuted(notebook) -> bool:
    """Whether a code cell has not run: papermill numbers every cell it executes."""
    return any(c.execution_count is None for c in code_cells(notebook))


def _carry_outputs(previous, notebook) -> bool:
    """Keep the previous build's outputs when its code is the same; False when it must be executed again."""
    old, new = code_cells(previous), code_cells(notebook)
    if [c.source for c in old] != [c.source for c in new] or unexecuted(previous):
        return False
    for before, after in zip(old, new, strict=True):
        after.outputs, after.execution_count = before.outputs, before.execution_count
    injected = [c for c in previous.cells if INJECTED_TAG in tags(c)]
    if injected:
        position = next(i for i, c in enumerate(notebook.cells) if is_parameters(c))
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
