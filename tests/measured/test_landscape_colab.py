"""Notebook 05 where `make` set nothing up (Colab): what runs is measured there, what cannot is named with the reason."""

from __future__ import annotations

import importlib.util

import pytest

from helpers.core.names import SMOLLM2
from helpers.lessons import landscape as views
from helpers.machine.environment import machine_description
from helpers.measured import ladder, landscape
from helpers.measured.handoff_rehearsal import rehearse_handoff
from helpers.measured.runtime_results import LABELS, RuntimeResult
from helpers.shelf.models import ShelfEntry

NOT_ON_THE_SHELF = ShelfEntry("nothing measured yet", "never-built-by-this-test", "test", lambda staging: None)


def _result(runtime: str) -> RuntimeResult:
    return RuntimeResult(runtime, SMOLLM2, "q4_1", 4, 16, False, 80.0, 100.0, None, None, 300.0, 0.5, None)


@pytest.fixture
def colab_like(monkeypatch, tmp_path):
    """No `.venv-vllm`, no measured landscape on the shelf, and a measuring child that records what it was asked."""
    measured: list[str] = []

    def child(runtime: str) -> RuntimeResult:
        measured.append(runtime)
        return _result(runtime)

    monkeypatch.setattr(landscape, "VLLM_PYTHON", tmp_path / "no-venv-vllm" / "bin" / "python")
    monkeypatch.setattr(landscape, "MEASURED", NOT_ON_THE_SHELF)
    monkeypatch.setattr(landscape, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(landscape, "_measure_in_child", child)
    return measured


def test_without_vllms_environment_the_others_are_measured_here_and_vllm_is_named(colab_like):
    land = landscape.landscape()
    assert [r.runtime for r in land.results] == ["transformers", "llama.cpp", "llama.cpp-server"]
    assert land.not_run == {"vllm": landscape.NO_VLLM} and "only `make setup` builds" in landscape.NO_VLLM
    assert land.hardware == machine_description() and land.measured_at
    assert sorted(colab_like) == ["llama.cpp", "llama.cpp-server", "transformers"]


def test_a_rerun_in_the_same_runtime_reads_what_was_measured_instead_of_measuring_again(colab_like):
    first = landscape.landscape()
    again = landscape.landscape()
    assert again == first and len(colab_like) == 3


def test_the_framework_table_says_vllm_was_not_run_here_and_why(colab_like):
    rows = {row["runtime"]: row for row in views.framework_rows(landscape.landscape())}
    assert rows[LABELS["vllm"]]["measured here"] == f"not run here: {landscape.NO_VLLM}"
    assert rows[LABELS["llama.cpp"]]["source"].startswith(f"measured on {machine_description()}")


def test_the_runtime_cell_prints_where_it_measured_and_what_it_skipped(colab_like, capsys):
    views.landscape_note(landscape.landscape())
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith(f"on {machine_description()} (this machine)")
    assert printed[1] == f"{LABELS['vllm']}: {landscape.NO_VLLM}"


def test_without_llama_cpp_its_runtimes_the_ladder_and_the_hand_off_are_skipped_in_one_sentence(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    monkeypatch.setattr(ladder, "MEASURED", NOT_ON_THE_SHELF)
    assert landscape.unavailable("llama.cpp") == landscape.unavailable("llama.cpp-server") == landscape.NO_LLAMA_CPP
    assert ladder.ladder_here() is None and views.ladder_table(None) is None and views.plot_ladder(None) is None
    views.ladder_note(None)
    assert rehearse_handoff() is None
    views.show_rehearsal(None)
    views.cold_start_line(None)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [ladder.unavailable(), landscape.NO_LLAMA_CPP]
    assert views.llama_build_line() == landscape.NO_LLAMA_CPP


def test_a_figure_from_another_machine_is_labelled_with_it():
    assert views.where(machine_description()).endswith("(this machine)")
    assert views.where("Apple M3, 8 cores") == f"Apple M3, 8 cores, not this runtime ({machine_description()})"
