"""Instructor regeneration: the drift report from typed results, its flags, bad inputs, and noise-free reruns."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import net, notebook_runner, regeneration
from helpers.evals import EvalRow, write_table
from helpers.paths import NOTEBOOKS
from helpers.regeneration import Figure, compare


def rows(passed: int, total: int = 4, seconds: float = 1.0) -> list[EvalRow]:
    return [
        EvalRow(
            f"case-{i}", "HuggingFaceTB/SmolLM2-135M-Instruct", "llama.cpp", False, i < passed, seconds, 10, "fact", "en", (), "x"
        )
        for i in range(total)
    ]


def write_notebook(path: Path, *sources: str, executed: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    if executed:
        for count, cell in enumerate(nb.cells, start=1):
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="before\n")]
    nbformat.write(nb, path)
    return path


# ---------------------------------------------------------------- the tolerances


def test_a_changed_pass_count_is_flagged_from_the_typed_results(isolated_outputs):
    write_table(rows(passed=3))
    old = regeneration.collect(isolated_outputs)
    write_table(rows(passed=2))
    new = regeneration.collect(isolated_outputs)
    (drift,) = [r for r in compare(old, new) if r.label.startswith("eval passed")]
    assert (drift.old, drift.new, drift.flag) == ("3/4", "2/4", "any change is flagged")


def test_speed_is_flagged_only_beyond_25_percent():
    old = {"tok/s": Figure("decode tok/s", "speed", 40.0)}
    (within,) = compare(old, {"tok/s": Figure("decode tok/s", "speed", 32.0)})
    (beyond,) = compare(old, {"tok/s": Figure("decode tok/s", "speed", 29.0)})
    assert (within.change, within.flag) == ("-20.0%", "")
    assert beyond.flag == "moved more than 25%"


def test_the_estimator_is_flagged_past_15_percent_and_a_verdict_on_any_change():
    est = compare({"e": Figure("estimator", "error", 8.2)}, {"e": Figure("estimator", "error", 15.5)})
    verdict = compare({"v": Figure("verdict", "label", "not_met")}, {"v": Figure("verdict", "label", "met")})
    assert est[0].flag == "past ±15%" and verdict[0].flag == "any change is flagged"


def test_report_is_one_table_with_what_to_do(isolated_outputs):
    drift = compare({"p": Figure("eval passed · x", "count", "3/14")}, {"p": Figure("eval passed · x", "count", "4/14")})
    regeneration.write_report(drift)
    text = (isolated_outputs / "regeneration_report.md").read_text()
    assert "| eval passed · x | 3/14 | 4/14 | changed | any change is flagged |" in text
    assert "ACCEPT=1" in text


# ---------------------------------------------------------------- bad input leaves the committed notebooks alone


def test_a_results_file_of_an_older_format_is_named_and_nothing_runs(course, isolated_outputs, capsys):
    notebook = write_notebook(course / "03_colab.ipynb", "print(1)")
    before = notebook.read_text()
    (isolated_outputs / "colab_run.json").write_text(json.dumps({"platform": "local", "plan": {}, "eval": {}}))
    assert notebook_runner.main(["regenerate", "--only", "03"]) == 2
    error = capsys.readouterr().err
    assert "colab_run.json" in error and "rerun notebook 03_colab_gpu_route" in error and "ACCEPT=1" in error
    assert notebook.read_text() == before


def test_a_committed_notebook_without_outputs_is_refused(course, capsys):
    notebook = write_notebook(course / "00_setup.ipynb", "print(1)", executed=False)
    before = notebook.read_text()
    assert notebook_runner.main(["regenerate"]) == 2
    assert "no stored outputs to compare against" in capsys.readouterr().err
    assert notebook.read_text() == before


@pytest.mark.slow
def test_a_flagged_drift_keeps_the_committed_notebook_and_accept_takes_it(course, isolated_outputs, capsys):
    write_table(rows(passed=3))
    code = (
        "from helpers.evals import EvalRow, write_table\n"
        "write_table([EvalRow(f'case-{i}', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'llama.cpp', False, True, 1.0, 10,"
        " 'fact', 'en', (), 'x') for i in range(4)])\n"
        "print('after')"
    )
    notebook = write_notebook(course / "02_local.ipynb", code)
    before = notebook.read_text()
    assert notebook_runner.main(["regenerate"]) == 1
    assert notebook.read_text() == before
    assert "| 3/4 | 4/4 | changed |" in (isolated_outputs / "regeneration_report.md").read_text()
    assert (isolated_outputs / "regeneration_baseline.json").exists()  # a rerun still compares against 3/4
    assert notebook_runner.main(["regenerate"]) == 1
    assert notebook_runner.main(["regenerate", "--accept"]) == 0
    assert "after" in notebook.read_text() and not (isolated_outputs / "regeneration_baseline.json").exists()


# ---------------------------------------------------------------- noise-free reruns


def without_measurements(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if notebook_runner.MEASUREMENT_TAG in cell.metadata.get("tags", []):
            cell.outputs = []
    return nbformat.writes(nb)


@pytest.mark.slow
def test_regenerating_notebook_00_twice_differs_only_in_measurement_cells(course, isolated_outputs, tmp_path):
    notebook = course / "00_setup_check.ipynb"
    shutil.copy(NOTEBOOKS / notebook.name, notebook)
    tags = [c.metadata.get("tags", []) for c in nbformat.read(notebook, as_version=4).cells]
    assert [notebook_runner.MEASUREMENT_TAG] in tags, "notebook 00 keeps RAM and disk in a cell tagged as a measurement"
    assert notebook_runner.main(["regenerate", "--only", "00", "--accept"]) == 0
    first = tmp_path / "first.ipynb"
    shutil.copy(notebook, first)
    assert notebook_runner.main(["regenerate", "--only", "00"]) == 0
    assert without_measurements(notebook) == without_measurements(first)


def test_ports_are_handed_out_in_order_under_regeneration_so_printed_ports_do_not_churn(tmp_path):
    code = "from helpers.net import free_port; print(free_port(), free_port())"
    env = {**os.environ, notebook_runner.STABLE_PORTS_ENV: str(notebook_runner.REGENERATION_FIRST_PORT)}
    first, second = (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout for _ in "ab"
    )
    assert first == second
    one, two = map(int, first.split())
    assert notebook_runner.REGENERATION_FIRST_PORT <= one < two


def test_a_taken_port_is_skipped_in_stable_mode(monkeypatch):
    monkeypatch.setenv(notebook_runner.STABLE_PORTS_ENV, "18500")
    monkeypatch.setattr(net, "_last_stable_port", 0)
    with socket.socket() as busy:
        busy.bind((net.LOCALHOST, net.free_port()))
        busy.listen()
        taken = busy.getsockname()[1]
        monkeypatch.setattr(net, "_last_stable_port", 0)
        assert net.free_port() > taken


def test_the_fixed_clock_and_ordered_ports_do_not_outlive_a_regeneration(course, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv(notebook_runner.STABLE_PORTS_ENV, raising=False)
    with notebook_runner._regeneration_environment():
        assert os.environ["SOURCE_DATE_EPOCH"] == str(notebook_runner.REGENERATION_EPOCH)
    assert "SOURCE_DATE_EPOCH" not in os.environ and notebook_runner.STABLE_PORTS_ENV not in os.environ
