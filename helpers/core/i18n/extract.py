"""Babel extractors: notebook markdown cells, Python sentences kept in ``sentences({...})``, and data files' notes.

The first two are registered in ``pyproject.toml`` under the ``babel.extractors`` entry
point; ``babel.cfg`` maps all three (the third by its module path, which Babel also accepts):

- ``notebook_markdown`` (``notebooks/*.ipynb``): every prose block of every
  markdown cell (see :mod:`helpers.core.i18n.markdown`); its "line number" is the
  cell's position, counted from 1. Code cells are not extracted: they are written
  once and run the same in every language.
- ``python_messages`` (``helpers/**.py``): what Babel's own Python extractor finds
  (``_()``, ``N_()``), plus every literal sentence inside a ``sentences({...})`` call (or a
  ``sentences(NAME)`` of a dict or tuple bound to NAME at module level), so a module keeps its sentences in one dict and each
  one still reaches the catalogue.
- ``extract_data_text`` (``data/model_catalogue.json``): the value of every key listed in the
  mapping's ``keys`` option, wherever it sits in the JSON (``keys = license_note, capability_note``).
  The data file stays English, the one source; a view shows such a value through ``_()``, so a
  learner reads it in the notebook's language.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from typing import IO, Any

from helpers.core.i18n.markdown import messages


def extract_notebook_markdown(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Yield ``(cell number, None, block, [])`` for every prose block of every markdown cell."""
    try:
        notebook = json.loads(fileobj.read().decode("utf-8"))
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError) as error:
        name = getattr(fileobj, "name", "notebook")
        raise ValueError(f"{name} is not a readable notebook ({error}); open it in Jupyter and save it again.") from None
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        for block in messages(text):
            yield number, None, block, []


def _literals(container: ast.AST) -> Iterator[tuple[int, str]]:
    values = container.values if isinstance(container, ast.Dict) else getattr(container, "elts", [])
    for value in values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
            yield value.lineno, value.value


def _message_literals(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``(line, sentence)`` for each literal string given to ``sentences(...)``.

    The argument is a dict or tuple literal, or the name of one bound at module level
    (``SAY = {...}`` then ``SAY = sentences(SAY)``), so a module's dict keeps its layout.
    """
    bound = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value, (ast.Dict, ast.Tuple, ast.List))
    }
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "sentences"):
            continue
        if not node.args:
            continue
        argument = node.args[0]
        yield from _literals(bound.get(argument.id) if isinstance(argument, ast.Name) and argument.id in bound else argument)


def extract_python_messages(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str | None, str | tuple, list[str]]]:
    """Babel's Python extraction, then the sentences of every ``sentences(...)`` in the module."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        name = getattr(fileobj, "name", "module")
        raise ValueError(f"{name} does not parse ({error}); fix it before extracting messages.") from None
    for lineno, text in _message_literals(tree):
        yield lineno, None, text, []


def _data_values(value: Any, keys: frozenset[str]) -> Iterator[str]:
    """Every string under one of ``keys`` in a parsed JSON document, in document order."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys and isinstance(item, str) and item:
                yield item
            else:
                yield from _data_values(item, keys)
    elif isinstance(value, list):
        for item in value:
            yield from _data_values(item, keys)


def extract_data_text(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Yield ``(line, None, text, [])`` for the value of every key named in ``options["keys"]`` (comma-separated)."""
    name = getattr(fileobj, "name", "data file")
    keys = frozenset(key.strip() for key in str(options.get("keys", "")).split(",") if key.strip())
    if not keys:
        raise ValueError(f"babel.cfg maps {name} to extract_data_text without `keys = ...`; name the keys a learner reads.")
    text = fileobj.read().decode("utf-8")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{name} is not valid JSON ({error}); fix it before extracting messages.") from None
    lines = text.splitlines()
    for value in _data_values(document, keys):
        encoded = json.dumps(value, ensure_ascii=False)
        lineno = next((number for number, line in enumerate(lines, start=1) if encoded in line), 0)
        yield lineno, None, value, []
