"""Every committed notebook: executed, clean of papermill metadata, with its own Colab badge and the generated first cell."""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers.core.paths import NOTEBOOKS, relative
from helpers.tooling import colab_links
from helpers.tooling.notebook_selection import notebooks

ALL = notebooks()
EVERY = colab_links.all_notebooks()  # translations included
URL = colab_links.repo_url()


def test_the_course_has_notebooks():
    assert ALL and ALL[0].name == "00_setup_check.ipynb"


@pytest.mark.parametrize("path", EVERY, ids=relative)
def test_badge_points_at_this_notebook_under_the_one_url(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    assert colab_links.BADGE.findall(first.source) == [colab_links.badge(URL, path)]
    assert f"blob/main/notebooks/{path.relative_to(NOTEBOOKS).as_posix()}" in first.source


@pytest.mark.parametrize("path", EVERY, ids=relative)
def test_first_code_cell_is_the_generated_one(path):
    assert nbformat.read(path, as_version=4).cells[1].source == colab_links.install_cell(URL)


def test_nothing_is_out_of_date():
    assert colab_links.out_of_date() == [], "run `make colab-links`"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_committed_with_outputs_and_without_papermill_metadata(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(c.outputs for c in code), "nbval passes trivially on a notebook with no outputs: run `make regenerate`"
    assert all(c.execution_count for c in code[1:]), "every cell after the install cell was executed"
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in nb.cells)
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", EVERY, ids=relative)
def test_every_measurement_cell_is_left_out_of_nbval_comparison(path):
    """A measurement may change on every run, so nbval must not compare it: the sanitizer's patterns are English
    (``21 s``), and the same figure reads ``21 秒`` in a translation."""
    tagged = [c for c in nbformat.read(path, as_version=4).cells if "measurement" in c.metadata.get("tags", [])]
    assert all("nbval-ignore-output" in c.metadata["tags"] for c in tagged), "tag it nbval-ignore-output too"


def test_each_formula_cell_is_checked_against_the_kits_helper_in_the_next_code_cell():
    """A formula computed by hand in a cell (tag ``formula``) is held against the helper the kit uses, right after it."""
    found = 0
    for path in ALL:
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            if "formula" not in cell.metadata.get("tags", []):
                continue
            found += 1
            after = next((c for c in cells[index + 1 :] if c.cell_type == "code"), None)
            assert after is not None and "assert" in after.source, f"{path.name} cell {index}: no check cell follows it"
            assert cell.outputs, f"{path.name} cell {index}: a formula cell is committed with its output"
    assert found >= 12, f"only {found} formula cells in the English notebooks"


#: Each formula the lesson and the guides teach, by a line of its computing cell (issue 24's list).
FORMULAS = {
    "01_decision_profile.ipynb": ["config[", "bytes_per_param", "* 1.2", "def lesson_choose", "choose_openllm_runtime.py"],
    "02_local_cpu_route.ipynb": ["gate", "bytes_per_token"],
    "04_rented_gpu_route.ipynb": [
        "tpot_s = (e2el_s - ttft_s) / (tokens - 1)",
        "attainment_pct",
        "rate * 2",
        "(low + high) / 2",
        "price / (tok_s * 3600) * 1e6",
        "* 3.6",
    ],  # fmt: skip
    "05_runtime_landscape.ipynb": ["np.exp(log_p) * (log_p - log_q)", "argmax", "bw.gb_s * 1e9 / bytes_per_token"],
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_none_of_the_lessons_formulas_is_missing(name):
    cells = nbformat.read(NOTEBOOKS / name, as_version=4).cells
    computed = "\n".join(c.source for c in cells if "formula" in c.metadata.get("tags", []))
    assert [line for line in FORMULAS[name] if line not in computed] == []


#: A table cell pandas cut short ends in "..." (its own) or "…".
CUT = re.compile(r"(\.\.\.|…)\s*$")


def _table_cells(output: dict) -> list[str]:
    """The text of every table cell an output shows: HTML cells, and the plain-text rendering of the same tables."""
    data = output.get("data", {})
    html = "".join(data.get("text/html", ""))
    if not html:
        return []
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, flags=re.S)
    plain = "".join(data.get("text/plain", "")).splitlines()
    return cells + [piece for line in plain for piece in re.split(r"\s{2,}", line)]


def test_the_table_cut_check_catches_a_cut():
    cut = {"data": {"text/html": "<table><tr><td>Apache-2.0: commercial use allowed, keep the l...</td></tr></table>"}}
    assert any(CUT.search(text) for text in _table_cells(cut))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_table_cell_a_learner_reads_is_cut_short(path):
    cut = [
        (index, text)
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
        for output in cell.get("outputs", [])
        for text in _table_cells(output)
        if CUT.search(text)
    ]
    assert cut == [], "show the whole text: helpers.lessons sets pandas' max_colwidth to None"
