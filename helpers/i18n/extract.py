"""Babel extractor for the markdown cells of a Jupyter notebook.

Registered in ``pyproject.toml`` as the ``notebook_markdown`` method of the
``babel.extractors`` entry point, and mapped to ``notebooks/*.ipynb`` in
``babel.cfg``. Code cells are not extracted: they are written once and run the
same in every language. Each prose block of a markdown cell is one message (see
:mod:`helpers.i18n.markdown`); its "line number" is the cell's position, counted
from 1, so a translator can find it in the notebook.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from helpers.i18n.markdown import messages


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
