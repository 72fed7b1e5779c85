"""GPU detection: real absence on this machine; presence from recorded nvidia-smi and NVML output; route 2's plan."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from helpers.core import names
from helpers.decision import colab_plan
from helpers.decision.profile import LESSON_EXAMPLE
from helpers.decision.rule import choose
from helpers.evals import EvalSummary
from helpers.machine import gpu
from helpers.machine.environment import detect_platform
from helpers.machine.gpu import DeviceError, GpuDevice, GpuReport, TorchFacts, advise, choose_device, parse_nvidia_smi_csv
from helpers.routes import free_colab as colab

DATA = Path(__file__).parents[1] / "data"


def recorded_nvml(path: Path) -> gpu.DriverFacts:
    """A recorded NVML answer, in the shape :func:`helpers.machine.gpu.nvml_facts` returns, read from JSON."""
    data = json.loads(path.read_text())
    return gpu.DriverFacts(**{**data, "devices": tuple(GpuDevice(**d) for d in data["devices"])})


NO_CUDA = TorchFacts("2.13.0+cpu", None, False)
CUDA_WHEEL_NO_DEVICE = TorchFacts("2.5.1+cu121", "12.1", False)
T4_DEVICE = GpuDevice(0, "Tesla T4", 14.7, 14.6, "7.5", bf16=False)
T4 = TorchFacts("2.5.1+cu121", "12.1", True, (T4_DEVICE,), bf16_supported=False)
H100 = TorchFacts("2.5.1+cu124", "12.4", True, (GpuDevice(0, "NVIDIA H100 80GB HBM3", 79.6, 79.1, "9.0", bf16=True),), True)
NVML_H100 = recorded_nvml(DATA / "nvml_h100.json")
SMI_T4 = parse_nvidia_smi_csv((DATA / "nvidia_smi_t4.csv").read_text())


def report(info: TorchFacts, platform: str = "colab") -> GpuReport:
    return GpuReport(platform, info, gpu.NO_DRIVER)


def with_free(info: TorchFacts, free_gb: float) -> TorchFacts:
    return replace(info, devices=(replace(info.devices[0], free_gb=free_gb),))


# ---------------------------------------------------------------- real absence here


def test_real_absence_on_this_machine():
    assert gpu.nvml_facts() is None and gpu.gpu_processes() is None
    assert gpu.nvidia_smi_facts() is None
    facts = gpu.torch_facts()
    assert facts.cuda_available is False and facts.devices == ()
    found = gpu.gpu_report()
    assert found.driver.source == "none" and found.colab_gpu_runtime is None and found.first_gpu is None
    assert gpu.gpu_summary().reason == "this torch is a CPU-only build"


def test_report_is_written_with_its_format(isolated_outputs):
    found = GpuReport("colab", T4, SMI_T4)
    assert gpu.write_gpu_report(found).endswith("gpu_report.json")
    written = json.loads((isolated_outputs / "gpu_report.json").read_text())
    assert written == json.loads(json.dumps(found.to_json())) and written["format"] == gpu.GPU_REPORT_FORMAT
    assert written["driver"]["devices"][0]["name"] == "Tesla T4"


@pytest.mark.parametrize(
    ("environ", "modules", "expected"),
    [
        ({}, {}, "local"),
        ({"COLAB_RELEASE_TAG": "release-colab"}, {}, "colab"),
        ({}, {"google.colab": object()}, "colab"),
        ({"KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, {}, "kaggle"),
    ],
)
def test_platform_detection(environ, modules, expected):
    assert detect_platform(environ, modules) == expected


# ---------------------------------------------------------------- recorded presence


def test_parse_recorded_nvidia_smi_t4():
    assert SMI_T4.driver_version == "535.104.05"
    assert SMI_T4.devices == (GpuDevice(0, "Tesla T4", 15.0, 14.7, "7.5"),)


def test_parse_recorded_nvidia_smi_two_gpus():
    parsed = parse_nvidia_smi_csv((DATA / "nvidia_smi_2x_h100.csv").read_text())
    assert [d.free_gb for d in parsed.devices] == [79.1, 1.2]


@pytest.mark.parametrize(
    ("platform", "torch_info", "driver", "expected"),
    [
        ("colab", NO_CUDA, gpu.NO_DRIVER, "Runtime → Change runtime type → GPU"),
        ("kaggle", NO_CUDA, gpu.NO_DRIVER, "Settings → Accelerator → GPU"),
        ("local", NO_CUDA, gpu.NO_DRIVER, "No GPU on this machine"),
        ("local", TorchFacts(None, None, False), gpu.NO_DRIVER, "torch is not installed"),
        ("colab", CUDA_WHEEL_NO_DEVICE, NVML_H100, "Driver mismatch: the driver (550.54.15) sees NVIDIA H100"),
        ("colab", NO_CUDA, SMI_T4, "CUDA build: CPU only"),
        ("colab", T4, SMI_T4, "Tesla T4 (compute capability 7.5) has no bf16: load models with torch_dtype=torch.float16"),
    ],
)
def test_advice_for_each_missing_piece(platform, torch_info, driver, expected):
    assert any(expected in line for line in advise(platform, torch_info, driver))


def test_h100_needs_no_advice():
    assert advise("local", H100, NVML_H100) == []


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


# ---------------------------------------------------------------- the route card's two steps


def test_no_gpu_runs_the_tiny_model_only_and_says_why_step_two_is_skipped():
    plan = colab_plan.plan_route(report(NO_CUDA), "cpu")
    assert (plan.first.model, plan.first.device, plan.first.step) == (names.TINY_GPT2, "cpu", "tiny")
    assert plan.first.random_weights and "random weights" in plan.first.does_not_prove
    assert plan.second is None and "only when a GPU is visible" in plan.skipped


def test_t4_runs_tiny_first_then_the_rules_small_instruct_model_in_fp16(monkeypatch):
    monkeypatch.setattr(colab_plan, "loadable", lambda model: True)
    plan = colab_plan.plan_route(report(T4), "cuda")
    assert plan.first.model == names.TINY_GPT2 and plan.first.device == "cuda"
    assert plan.second.model == "Qwen/Qwen2.5-0.5B-Instruct" and plan.second.torch_dtype == "float16"
    assert not plan.second.random_weights


@pytest.mark.parametrize("info", [T4, H100], ids=["T4", "H100"])
@pytest.mark.parametrize("must_have", [(), LESSON_EXAMPLE.must_have, ("code",)], ids=["none", "lesson", "code"])
def test_step_two_is_the_decision_rules_candidate_for_the_free_gpu_memory(monkeypatch, info, must_have):
    """One Colab rule: the plan names the model notebook 01's rule gives a free_colab profile with this GPU's free memory."""
    monkeypatch.setattr(colab_plan, "loadable", lambda model: True)
    profile = replace(LESSON_EXAMPLE, must_have=must_have)
    plan = colab_plan.plan_route(report(info), "cuda", profile)
    decision = choose(replace(profile, route="free_colab", available_vram_gb=info.devices[0].free_gb))
    expected = decision.candidate_1.model if decision.candidate_1 else None
    assert (plan.second.model if plan.second else None) == expected


def test_a_big_gpu_is_still_capped_at_the_decision_rules_size(monkeypatch):
    """An H100 fits a 7B model, but the route card's step 2 is a small instruct model (the rule's cap)."""
    monkeypatch.setattr(colab_plan, "loadable", lambda model: True)
    plan = colab_plan.plan_route(report(H100), "cuda")
    assert plan.second.model == "Qwen/Qwen2.5-0.5B-Instruct" and plan.second.torch_dtype == "bfloat16"
    assert "at most 1B parameters" in plan.second.reason


def test_a_gated_model_is_never_picked_without_a_token(monkeypatch):
    monkeypatch.setattr(colab_plan, "GATED", ("Qwen/", "HuggingFaceTB/"))  # pretend every small model is gated
    monkeypatch.setattr(colab_plan, "has_hub_token", lambda: False)
    plan = colab_plan.plan_route(report(H100), "cuda")
    assert plan.second is None and "add an HF_TOKEN in Colab Secrets" in plan.skipped


def test_offline_falls_back_to_the_shelf_smollm2(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    plan = colab_plan.plan_route(report(H100), "cuda")
    assert plan.second.model == names.SMOLLM2 and "unreachable" in plan.second.reason


def test_gpu_too_small_for_any_candidate_is_a_statement_not_a_crash():
    plan = colab_plan.plan_route(report(with_free(T4, 0.3)), "cuda")
    assert plan.first.model == names.TINY_GPT2 and plan.second is None
    assert plan.skipped.startswith("Tesla T4 has 0.3 GB free, but the smallest instruct candidate needs about")


def test_hub_token_from_colab_secrets_or_a_login(tmp_path):
    assert colab_plan.has_hub_token({"HF_TOKEN": "x", "HF_HOME": str(tmp_path)})
    assert not colab_plan.has_hub_token({"HF_HOME": str(tmp_path)})
    (tmp_path / "token").write_text("x")
    assert colab_plan.has_hub_token({"HF_HOME": str(tmp_path)})


def test_the_colab_run_record_reads_back(isolated_outputs):
    summary = EvalSummary(names.TINY_GPT2, "transformers-cpu", False, 0, 14, 0, 0.0, 900.0, (), ("a",))
    plan = colab_plan.plan_route(report(NO_CUDA), "cpu")
    run = colab.ColabRun("local", (colab.StepResult(plan.first, summary),), plan.skipped)
    colab.write_colab_run(run)
    assert colab.read_colab_run() == run


# ---------------------------------------------------------------- outputs that travel


def test_outputs_are_packed_into_one_zip_locally(tmp_path):
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "run.csv").write_text("case_id\n")
    (tmp_path / "environment.json").write_text("{}")
    message = colab.save_outputs("local", outputs=tmp_path)
    assert "local run" in message
    archive = tmp_path / "openllm_routes_outputs.zip"
    with zipfile.ZipFile(archive) as bundle:
        assert sorted(bundle.namelist()) == ["environment.json", "evals/run.csv"]
    colab.save_outputs("local", outputs=tmp_path)  # a second pack does not swallow the first archive
    with zipfile.ZipFile(archive) as bundle:
        assert archive.name not in bundle.namelist()
