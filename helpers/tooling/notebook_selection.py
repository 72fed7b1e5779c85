"""Which course notebooks a command runs: all of them in lesson order, or those ``--only`` names.

New notebooks are picked up by their file name (``notebooks/NN_*.ipynb``): nothing
to register. ``--only`` takes a number prefix (``04``), a name, or a glob such as
``"0[45]*"``.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from helpers.core.paths import NOTEBOOKS


class SelectionError(ValueError):
    """A ``--only`` pattern that names no notebook."""


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
