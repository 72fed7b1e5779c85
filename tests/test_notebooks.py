"""Every committed notebook: executed, clean of papermill metadata, with its own Colab badge and the shared install cell."""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers.notebook_runner import notebooks

BADGE = re.compile(r"\(https://colab\.research\.google\.com/github/[^/]+/[^/]+/blob/main/(notebooks/[^)]+\.ipynb)\)")
ALL = notebooks()


def test_the_course_has_notebooks():
    assert ALL and ALL[0].name == "00_setup_check.ipynb"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_badge_points_at_this_notebook(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    assert BADGE.findall(first.source) == [f"notebooks/{path.name}"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_install_cell_is_the_shared_one(path):
    reference = nbformat.read(ALL[0], as_version=4).cells[1].source
    assert "google.colab" in reference and "pip install" in reference
    assert nbformat.read(path, as_version=4).cells[1].source == reference


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_committed_with_outputs_and_without_papermill_metadata(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(c.outputs for c in code), "nbval passes trivially on a notebook with no outputs: run `make regenerate`"
    assert all(c.execution_count for c in code[1:]), "every cell after the install cell was executed"
    assert "papermill" not in nb.metadata
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in nb.cells)
    assert nb.metadata.kernelspec.name == "python3"
