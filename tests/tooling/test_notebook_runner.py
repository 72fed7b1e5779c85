"""The runner names a failing notebook and cell, keeps its copy, and strips volatile metadata."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from helpers.tooling import notebook_execution, notebook_runner, notebook_selection


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def test_new_notebooks_are_picked_up_in_lesson_order(course):
    write_notebook(course / "10_later.ipynb", "1")
    write_notebook(course / "01_first.ipynb", "1")
    assert [p.name for p in notebook_selection.notebooks()] == ["01_first.ipynb", "10_later.ipynb"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("04", ["04_rented.ipynb"]),
        ("0[45]*", ["04_rented.ipynb", "05_landscape.ipynb"]),
        ("05_landscape", ["05_landscape.ipynb"]),
        ("*rented*", ["04_rented.ipynb"]),
        ("06_record.ipynb", ["06_record.ipynb"]),
    ],
)
def test_only_picks_by_prefix_name_or_glob(course, pattern, expected):
    for name in ("00_setup.ipynb", "04_rented.ipynb", "05_landscape.ipynb", "06_record.ipynb"):
        write_notebook(course / name, "1")
    assert [p.name for p in notebook_selection.select([pattern])] == expected


def test_a_pattern_that_matches_nothing_names_what_exists_and_runs_nothing(course, isolated_outputs, capsys):
    notebook = write_notebook(course / "00_setup.ipynb", "print(1)")
    before = notebook.read_text(encoding="utf-8")
    assert notebook_runner.main(["regenerate", "--only", "4"]) == 2
    error = capsys.readouterr().err
    assert "No notebook matches '4'" in error and "00_setup.ipynb" in error
    assert notebook.read_text(encoding="utf-8") == before
    assert not (isolated_outputs / "notebooks").exists()


@pytest.mark.slow
def test_only_regenerates_just_the_named_notebook(course, isolated_outputs):
    first = write_notebook(course / "00_setup.ipynb", "print(1)")
    second = write_notebook(course / "01_profile.ipynb", "print(2)")
    untouched = first.read_text(encoding="utf-8")
    assert notebook_runner.main(["regenerate", "--only", "01", "--accept"]) == 0
    assert first.read_text(encoding="utf-8") == untouched
    assert json.loads(second.read_text(encoding="utf-8"))["cells"][0]["outputs"][0]["text"] == ["2\n"]


@pytest.mark.slow
def test_failure_names_notebook_and_cell_and_keeps_the_copy(course, isolated_outputs, capsys):
    write_notebook(course / "01_ok.ipynb", "print('fine')")
    write_notebook(course / "02_broken.ipynb", "x = 1", "raise ValueError('the eval file is missing')")
    assert notebook_runner.main(["run"]) == 1
    printed = capsys.readouterr().out
    assert (
        "FAILED" in printed and "02_broken.ipynb: cell 1 (execution count [2]): ValueError: the eval file is missing" in printed
    )
    assert "01_ok.ipynb" in printed and "passed" in printed
    failed_copy = isolated_outputs / "notebooks" / "02_broken.ipynb"
    assert "the eval file is missing" in failed_copy.read_text(encoding="utf-8")


@pytest.mark.slow
def test_regenerate_replaces_in_place_without_papermill_metadata(course, isolated_outputs):
    notebook = write_notebook(course / "01_ok.ipynb", "print(6 * 7)")
    assert notebook_runner.main(["regenerate", "--accept"]) == 0
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert nb["cells"][0]["outputs"][0]["text"] == ["42\n"]
    assert "papermill" not in nb["metadata"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert all("papermill" not in c["metadata"] and "execution" not in c["metadata"] for c in nb["cells"])


@pytest.mark.slow
def test_regenerate_keeps_the_committed_notebook_when_a_cell_fails(course, isolated_outputs):
    notebook = write_notebook(course / "01_broken.ipynb", "1/0")
    before = notebook.read_text(encoding="utf-8")
    assert notebook_runner.main(["regenerate", "--accept"]) == 1
    assert notebook.read_text(encoding="utf-8") == before
    assert (isolated_outputs / "notebooks" / "01_broken.ipynb").exists()


def test_widget_state_and_papermill_metadata_are_stripped(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("form")
    widget = {"model_id": "3f2c9a", "version_major": 2, "version_minor": 0}
    cell.outputs = [nbformat.v4.new_output("display_data", data={notebook_execution.WIDGET_VIEW: widget, "text/plain": "VBox()"})]
    cell.metadata["papermill"] = {"duration": 0.1}
    nb.cells = [cell]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"3f2c9a": {}}}}
    path = tmp_path / "form.ipynb"
    nbformat.write(nb, path)
    notebook_execution.strip_volatile_metadata(path)
    stripped = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in stripped["metadata"] and "papermill" not in stripped["cells"][0]["metadata"]
    assert stripped["cells"][0]["outputs"][0]["data"] == {"text/plain": ["VBox()"]}
