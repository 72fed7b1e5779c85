"""Notebooks run headlessly with other parameter sets, into a temporary outputs folder."""

from __future__ import annotations

import json

import pytest
from papermill.exceptions import PapermillExecutionError

from helpers.core.names import KERNEL_NAME
from helpers.core.paths import NOTEBOOKS
from helpers.core.pins import pinned
from helpers.tooling.notebook_execution import execute

#: Every test here executes a notebook. Kernels inherit the environment, so ``isolated_outputs``
#: makes the notebooks write into a temporary folder instead of outputs/.
pytestmark = pytest.mark.slow


def run(name: str, tmp_path, **parameters) -> str:
    """Execute a notebook with papermill; return what its cells printed and displayed (not their source)."""
    import nbformat
    import papermill

    executed = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(executed),
        parameters=parameters,
        kernel_name=KERNEL_NAME,
        cwd=str(NOTEBOOKS),
        progress_bar=False,
    )
    outputs = [o for cell in nbformat.read(executed, as_version=4).cells for o in cell.get("outputs", [])]
    return "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)


def test_decision_profile_for_a_rented_gpu(isolated_outputs, tmp_path):
    text = run("01_decision_profile.ipynb", tmp_path, route="rented_gpu", vram_gb=24, needs_service=True)
    assert "Decision: Qwen/Qwen2.5-0.5B-Instruct with vLLM" in text
    record = json.loads((isolated_outputs / "model_runtime_decision.json").read_text())
    assert record["profile"]["route"] == "rented_gpu" and record["hardware_note"]["start_gpu_serving"]


def test_decision_record_names_the_producer_of_missing_evidence(isolated_outputs, tmp_path):
    text = run("06_decision_record.ipynb", tmp_path)
    assert "No draft yet" in text
    record = json.loads((isolated_outputs / "model_runtime_decision.json").read_text())
    assert {card["status"] for card in record["verdict"]} == {"cannot_tell"}
    assert record["verdict"][2]["run"].startswith("notebook 04_rented_gpu_route")
    assert record["evidence_fit"]["complete"] is False


def test_the_exercise_checks_a_paragraph_given_as_a_parameter(isolated_outputs, tmp_path):
    paragraph = (
        "For this project, I will start with Qwen2.5-7B-Instruct using vLLM because it is popular. I will not use a larger "
        "model yet because 7B is enough. I will switch only if the fixed eval set shows it is bad."
    )
    text = run("07_your_decision.ipynb", tmp_path, paragraph=paragraph, route="local_cpu", ram_gb=8)
    assert "You chose vLLM, but nothing in the profile needs a service" in text
    assert "Your switch condition names no fixed eval case" in text


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", f"device='cuda' was requested, but torch {pinned('torch')}+cpu (CUDA build: CPU only) finds no usable GPU"),
        ("tpu", "device='tpu' is not one of 'auto', 'cpu', 'cuda'"),
    ],
)
def test_colab_route_refuses_a_device_it_cannot_honour(isolated_outputs, tmp_path, device, message):
    with pytest.raises(PapermillExecutionError) as error:
        run("03_colab_gpu_route.ipynb", tmp_path, device=device)
    assert error.value.ename == "DeviceError" and message in error.value.evalue


def test_rented_gpu_notebook_runs_unchanged_against_a_given_endpoint(isolated_outputs, tmp_path, llama_server):
    from helpers.serving import wait_until_ready
    from helpers.serving.benchmark import read_benchmark
    from helpers.serving.shutdown import read_shutdown_proof

    process, url = llama_server
    wait_until_ready(url, deadline_s=120, process=process)
    parameters = dict(concurrency_levels=[1, 2], request_rates=[], requests_per_level=2, max_tokens=8, capacity_search=False)
    text = run("04_rented_gpu_route.ipynb", tmp_path, base_url=url, **parameters)
    assert "Started the rehearsal server" not in text
    assert "no /health endpoint" in text and "no /metrics endpoint" in text
    proof = read_shutdown_proof()
    assert proof.health == "still answering" and proof.stopped is False  # not ours to stop: the proof says so
    assert proof.kind == "endpoint_only" and "it has no authentication" in text  # an open server is a finding
    assert read_benchmark().levels[0].tokens_from == ["chunk count (the server sent no usage)"]


def test_runner_execute_reports_artefacts(isolated_outputs, tmp_path):
    result = execute(NOTEBOOKS / "00_setup_check.ipynb", tmp_path / "00.ipynb")
    assert result.passed and any(a.endswith("environment.json") for a in result.artefacts)
