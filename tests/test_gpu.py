"""GPU detection: real absence on this machine; presence from recorded nvidia-smi and NVML output."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from helpers import colab, gpu
from helpers.environment import detect_platform
from helpers.gpu import DeviceError, advise, choose_device, parse_nvidia_smi_csv

DATA = Path(__file__).parent / "data"
NO_CUDA = {"torch_version": "2.13.0+cpu", "torch_cuda_build": None, "cuda_available": False, "devices": []}
CUDA_WHEEL_NO_DEVICE = {"torch_version": "2.5.1+cu121", "torch_cuda_build": "12.1", "cuda_available": False, "devices": []}
T4 = {"torch_version": "2.5.1+cu121", "torch_cuda_build": "12.1", "cuda_available": True, "bf16_supported": False,
      "devices": [{"index": 0, "name": "Tesla T4", "compute_capability": "7.5", "total_gb": 14.7, "free_gb": 14.6, "bf16": False}]}
H100 = {"torch_version": "2.5.1+cu124", "torch_cuda_build": "12.4", "cuda_available": True, "bf16_supported": True,
        "devices": [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "total_gb": 79.6, "free_gb": 79.1, "bf16": True}]}


def with_free(info: dict, free_gb: float) -> dict:
    return {**info, "devices": [{**info["devices"][0], "free_gb": free_gb}]}


# ---------------------------------------------------------------- real absence here

def test_real_absence_on_this_machine():
    assert gpu.nvml_facts() is None
    assert gpu.nvidia_smi_facts() is None
    facts = gpu.torch_facts()
    assert facts["cuda_available"] is False and facts["devices"] == []
    report = gpu.gpu_report()
    assert report["driver"]["source"] == "none" and report["colab_gpu_runtime"] is None
    assert gpu.gpu_summary() == {"available": False, "name": None, "memory_gb": 0.0, "reason": "this torch is a CPU-only build"}


def test_report_is_written(isolated_outputs):
    assert gpu.write_gpu_report(gpu.gpu_report()).endswith("gpu_report.json")
    assert json.loads((isolated_outputs / "gpu_report.json").read_text())["platform"] == "local"


@pytest.mark.parametrize(
    ("environ", "modules", "expected"),
    [({}, {}, "local"), ({"COLAB_RELEASE_TAG": "release-colab"}, {}, "colab"), ({}, {"google.colab": object()}, "colab"),
     ({"KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, {}, "kaggle")],
)
def test_platform_detection(environ, modules, expected):
    assert detect_platform(environ, modules) == expected


# ---------------------------------------------------------------- recorded presence

def test_parse_recorded_nvidia_smi_t4():
    parsed = parse_nvidia_smi_csv((DATA / "nvidia_smi_t4.csv").read_text())
    assert parsed["driver_version"] == "535.104.05"
    assert parsed["devices"] == [{"index": 0, "name": "Tesla T4", "total_gb": 15.0, "free_gb": 14.7, "compute_capability": "7.5"}]


def test_parse_recorded_nvidia_smi_two_gpus():
    parsed = parse_nvidia_smi_csv((DATA / "nvidia_smi_2x_h100.csv").read_text())
    assert [d["free_gb"] for d in parsed["devices"]] == [79.1, 1.2]


@pytest.mark.parametrize(
    ("platform", "torch_info", "driver", "expected"),
    [
        ("colab", NO_CUDA, None, "Runtime → Change runtime type → GPU"),
        ("kaggle", NO_CUDA, None, "Settings → Accelerator → GPU"),
        ("local", NO_CUDA, None, "No GPU on this machine"),
        ("colab", CUDA_WHEEL_NO_DEVICE, json.loads((DATA / "nvml_h100.json").read_text()), "Driver mismatch: the driver (550.54.15) sees NVIDIA H100"),
        ("colab", NO_CUDA, parse_nvidia_smi_csv((DATA / "nvidia_smi_t4.csv").read_text()), "CUDA build: CPU only"),
        ("colab", T4, parse_nvidia_smi_csv((DATA / "nvidia_smi_t4.csv").read_text()), "Tesla T4 (compute capability 7.5) has no bf16: load models with torch_dtype=torch.float16"),
    ],
)
def test_advice_for_each_missing_piece(platform, torch_info, driver, expected):
    assert any(expected in line for line in advise(platform, torch_info, driver))


def test_h100_needs_no_advice():
    assert advise("local", H100, json.loads((DATA / "nvml_h100.json").read_text())) == []


# ---------------------------------------------------------------- device choice

def test_device_choices():
    assert choose_device("auto", NO_CUDA) == "cpu"
    assert choose_device("auto", T4) == "cuda"
    assert choose_device("cpu", T4) == "cpu"
    assert choose_device("cuda", T4) == "cuda"


def test_cuda_without_a_gpu_names_what_was_found():
    with pytest.raises(DeviceError) as error:
        choose_device("cuda", NO_CUDA)
    assert "torch 2.13.0+cpu (CUDA build: CPU only) finds no usable GPU" in str(error.value)
    assert "device='auto'" in str(error.value)


def test_unknown_device_lists_the_allowed_values():
    with pytest.raises(DeviceError, match="device='tpu' is not one of 'auto', 'cpu', 'cuda'"):
        choose_device("tpu", NO_CUDA)


# ---------------------------------------------------------------- choosing by budget

def report(info: dict) -> dict:
    return {"platform": "colab", "torch": info, "driver": {}, "advice": []}


def test_no_gpu_runs_the_tiny_model_and_says_what_it_proves():
    plan = colab.plan_run(report(NO_CUDA), "cpu")
    assert (plan.model, plan.device) == ("sshleifer/tiny-gpt2", "cpu")
    assert "not" in plan.does_not_prove or "GPU speed" in plan.does_not_prove


def test_t4_uses_fp16_and_the_largest_model_that_fits(monkeypatch):
    monkeypatch.setattr(colab, "loadable", lambda model: True)
    plan = colab.plan_run(report(T4), "cuda")
    assert plan.torch_dtype == "float16"
    assert plan.model == "Qwen/Qwen2.5-0.5B-Instruct"  # a 7B model's bf16 weights alone exceed 14.6 GB


def test_offline_falls_back_to_the_shelf_smollm2(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    plan = colab.plan_run(report(H100), "cuda")
    assert plan.model == "HuggingFaceTB/SmolLM2-135M-Instruct" and plan.torch_dtype == "bfloat16"
    assert "unreachable" in plan.reason


def test_gpu_too_small_for_any_candidate_is_a_statement_not_a_crash():
    plan = colab.plan_run(report(with_free(T4, 0.3)), "cuda")
    assert plan.device == "cpu"
    assert "Tesla T4 has 0.3 GB free, but the smallest instruct candidate (HuggingFaceTB/SmolLM2-135M-Instruct) needs about" in plan.reason


# ---------------------------------------------------------------- outputs that travel

def test_outputs_are_packed_into_one_zip_locally(tmp_path):
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "run.csv").write_text("case_id\n")
    (tmp_path / "environment.json").write_text("{}")
    message = colab.save_outputs("local", outputs=tmp_path)
    assert "local run" in message
    with zipfile.ZipFile(tmp_path / colab.ARCHIVE_NAME) as bundle:
        assert sorted(bundle.namelist()) == ["environment.json", "evals/run.csv"]
    colab.save_outputs("local", outputs=tmp_path)  # a second pack does not swallow the first archive
    with zipfile.ZipFile(tmp_path / colab.ARCHIVE_NAME) as bundle:
        assert colab.ARCHIVE_NAME not in bundle.namelist()
