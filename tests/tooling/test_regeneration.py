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

from helpers.core import net
from helpers.core.paths import NOTEBOOKS
from helpers.evals import EvalRow, write_table
from helpers.machine.speed import END_TO_END_LABEL
from helpers.tooling import notebook_regeneration, notebook_runner, regeneration, translate_notebooks
from helpers.tooling.regeneration import Figure, compare


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


def test_the_eval_speed_is_named_end_to_end_because_its_time_includes_the_prompt(isolated_outputs):
    write_table(rows(passed=3, seconds=0.5))  # 4 cases of 10 tokens in 0.5 s each
    (figure,) = [f for key, f in regeneration.collect(isolated_outputs).items() if key.startswith("tok/s:")]
    assert figure.label.startswith(END_TO_END_LABEL) and "decode" not in figure.label
    assert figure.value == 20.0  # 40 tokens / 2 s, prefill included: not (n - 1) / (time after the first token)


def test_speed_is_flagged_only_beyond_25_percent():
    old = {"tok/s": Figure(END_TO_END_LABEL, "speed", 40.0)}
    (within,) = compare(old, {"tok/s": Figure(END_TO_END_LABEL, "speed", 32.0)})
    (beyond,) = compare(old, {"tok/s": Figure(END_TO_END_LABEL, "speed", 29.0)})
    assert (within.change, within.flag) == ("-20.0%", "")
    assert beyond.flag == "moved more than 25%"


def test_the_estimator_is_flagged_past_its_10_percent_target_and_a_verdict_on_any_change():
    (within,) = compare({"e": Figure("estimator", "error", 8.2)}, {"e": Figure("estimator", "error", -9.5)})
    assert within.flag == ""
    est = compare({"e": Figure("estimator", "error", 8.2)}, {"e": Figure("estimator", "error", 10.5)})
    verdict = compare({"v": Figure("verdict", "label", "not_met")}, {"v": Figure("verdict", "label", "met")})
    assert est[0].flag == "past ±10%" and verdict[0].flag == "any change is flagged"


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


def measured(path: Path, *, tags: tuple[str, ...], second: str) -> Path:
    """A two-cell executed notebook: the first cell prints "fixed", the second ``second``; ``tags`` go on the second."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('fixed')"), nbformat.v4.new_code_cell("print(speed)")]
    nb.cells[1].metadata["tags"] = list(tags)
    for cell, text in zip(nb.cells, ("fixed\n", second), strict=True):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, path)
    return path


def test_the_noise_check_names_an_untagged_cell_that_differs(tmp_path):
    old = measured(tmp_path / "old.ipynb", tags=(), second="41.2 tok/s\n")
    new = measured(tmp_path / "new.ipynb", tags=(), second="39.8 tok/s\n")
    (change,) = regeneration.untagged_changes(old, new)
    assert (change.index, change.old, change.new) == (1, "stdout: 41.2 tok/s", "stdout: 39.8 tok/s")
    assert "cell 1 ('print(speed)')" in str(change)


def test_the_noise_check_lets_a_measurement_cell_differ_and_names_a_changed_source(tmp_path):
    old = measured(tmp_path / "old.ipynb", tags=(regeneration.MEASUREMENT_TAG,), second="41.2 tok/s\n")
    new = measured(tmp_path / "new.ipynb", tags=(regeneration.MEASUREMENT_TAG,), second="39.8 tok/s\n")
    assert regeneration.untagged_changes(old, new) == []
    nb = nbformat.read(new, as_version=4)
    nb.cells[0].source = "print('edited')"
    nbformat.write(nb, new)
    assert [c.index for c in regeneration.untagged_changes(old, new)] == [0]


def test_check_refuses_a_notebook_without_outputs_and_replaces_nothing(course, capsys):
    notebook = write_notebook(course / "00_setup.ipynb", "print(1)", executed=False)
    before = notebook.read_text()
    assert notebook_runner.main(["regenerate", "--check", "--lang", "en"]) == 2
    assert "no stored outputs to check against" in capsys.readouterr().err
    assert notebook.read_text() == before


def test_check_covers_the_translations_and_refuses_a_missing_or_unexecuted_one(course, capsys):
    write_notebook(course / "00_setup.ipynb", "print(1)")
    assert notebook_runner.main(["regenerate", "--check"]) == 2  # zh and ja are checked unless LANGS narrows it
    said = capsys.readouterr().err
    assert "no such translation" in said and "zh/00_setup.ipynb" in said and "ja/00_setup.ipynb" in said
    (course / "zh").mkdir()
    write_notebook(course / "zh" / "00_setup.ipynb", "print(1)", executed=False)
    assert notebook_runner.main(["regenerate", "--check", "--lang", "zh"]) == 2
    assert "zh/00_setup.ipynb: no stored outputs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [(["--check", "--lang", "cn"], "Unknown language 'cn'"), (["--lang", "zh"], "--lang goes with --check")],
)
def test_check_refuses_a_language_it_cannot_check(course, capsys, argv, says):
    assert notebook_runner.main(["regenerate", *argv]) == 2
    assert says in capsys.readouterr().err


@pytest.mark.slow
def test_check_runs_a_translation_in_its_language(course, isolated_outputs, capsys):
    write_notebook(course / "00_setup.ipynb", "lang = 'en'", "print(lang)")
    (course / "ja").mkdir()
    translation = write_notebook(course / "ja" / "00_setup.ipynb", "lang = 'en'", "print(lang)", executed=False)
    nb = nbformat.read(translation, as_version=4)
    nb.metadata["language_info"] = {"name": "python"}  # papermill writes the parameters cell in the notebook's language
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, translation)
    assert [r.passed for r in translate_notebooks.run([translation], "ja")] == [True]  # committed as translations-run does
    assert notebook_runner.main(["regenerate", "--check", "--lang", "ja"]) == 0  # rerun with -p lang ja: the same
    nb = nbformat.read(translation, as_version=4)
    assert nb.cells[-1].outputs[0].text == "ja\n"
    nb.cells[-1].outputs[0].text = "en\n"  # what it would print if the check ran it in English
    nbformat.write(nb, translation)
    before = translation.read_text()
    assert notebook_runner.main(["regenerate", "--check", "--lang", "ja"]) == 1
    assert "1 cell(s) not tagged 'measurement' changed" in capsys.readouterr().out
    assert translation.read_text() == before and (isolated_outputs / "notebooks" / "ja" / "00_setup.ipynb").exists()


@pytest.mark.slow
def test_check_fails_on_noise_and_leaves_the_committed_notebook(course, isolated_outputs, capsys):
    notebook = write_notebook(course / "01_noise.ipynb", "import os; print(os.getpid())")
    assert notebook_runner.main(["regenerate", "--accept"]) == 0
    before = notebook.read_text()
    assert notebook_runner.main(["regenerate", "--check", "--lang", "en"]) == 1
    assert "1 cell(s) not tagged 'measurement' changed" in capsys.readouterr().out
    assert notebook.read_text() == before and (isolated_outputs / "notebooks" / notebook.name).exists()


@pytest.mark.slow
def test_regenerating_notebook_00_twice_differs_only_in_measurement_cells(course, isolated_outputs):
    notebook = course / "00_setup_check.ipynb"
    shutil.copy(NOTEBOOKS / notebook.name, notebook)
    tags = [c.metadata.get("tags", []) for c in nbformat.read(notebook, as_version=4).cells]
    assert any(regeneration.MEASUREMENT_TAG in cell for cell in tags), "notebook 00 keeps RAM and disk in a measurement cell"
    assert notebook_runner.main(["regenerate", "--only", "00", "--accept"]) == 0
    assert notebook_runner.main(["regenerate", "--only", "00", "--check", "--lang", "en"]) == 0


def test_ports_are_handed_out_in_order_under_regeneration_so_printed_ports_do_not_churn(tmp_path):
    code = "from helpers.core.net import free_port; print(free_port(), free_port())"
    env = {**os.environ, net.STABLE_PORTS_ENV: str(notebook_regeneration.REGENERATION_FIRST_PORT)}
    first, second = (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout for _ in "ab"
    )
    assert first == second
    one, two = map(int, first.split())
    assert notebook_regeneration.REGENERATION_FIRST_PORT <= one < two


def test_a_taken_port_is_skipped_in_stable_mode(monkeypatch):
    monkeypatch.setenv(net.STABLE_PORTS_ENV, "18500")
    monkeypatch.setattr(net, "_last_stable_port", 0)
    with socket.socket() as busy:
        busy.bind((net.LOCALHOST, net.free_port()))
        busy.listen()
        taken = busy.getsockname()[1]
        monkeypatch.setattr(net, "_last_stable_port", 0)
        assert net.free_port() > taken


def test_a_port_whose_server_just_stopped_is_handed_out_again_in_stable_mode(monkeypatch):
    """The server side closes first, so its port sits in TIME_WAIT for a minute: a regeneration right after
    another must still get the same first port, as the servers themselves (SO_REUSEADDR) would."""
    monkeypatch.setenv(net.STABLE_PORTS_ENV, "18600")
    monkeypatch.setattr(net, "_last_stable_port", 0)
    port = net.free_port()
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((net.LOCALHOST, port))
        server.listen()
        client = socket.create_connection((net.LOCALHOST, port))
        accepted, _ = server.accept()
        accepted.close()  # the server's side closes first and enters TIME_WAIT
        client.close()
    monkeypatch.setattr(net, "_last_stable_port", 0)
    assert net.free_port() == port


def test_the_fixed_clock_and_ordered_ports_do_not_outlive_a_regeneration(course, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv(net.STABLE_PORTS_ENV, raising=False)
    with notebook_regeneration.regeneration_environment():
        assert os.environ["SOURCE_DATE_EPOCH"] == str(notebook_regeneration.REGENERATION_EPOCH)
    assert "SOURCE_DATE_EPOCH" not in os.environ and net.STABLE_PORTS_ENV not in os.environ


def test_the_noise_check_reads_a_printed_text_cut_into_chunks_as_one(tmp_path):
    old = measured(tmp_path / "old.ipynb", tags=(), second="'Paris.'\nusage: 8 tokens\n")
    new = measured(tmp_path / "new.ipynb", tags=(), second="'Paris.'")
    nb = nbformat.read(new, as_version=4)
    nb.cells[1].outputs.append(nbformat.v4.new_output("stream", name="stdout", text="\nusage: 8 tokens\n"))
    nbformat.write(nb, new)
    assert regeneration.untagged_changes(old, new) == []
    nb.cells[1].outputs[-1] = nbformat.v4.new_output("stream", name="stdout", text="\nusage: 9 tokens\n")
    nbformat.write(nb, new)
    assert [c.new for c in regeneration.untagged_changes(old, new)] == ["stdout: usage: 9 tokens"]
