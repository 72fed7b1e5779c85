"""Is there a GPU, can torch use it, and what should the learner do about it?

Three sources are read, because each fails in its own way:

* **torch** says whether *this* torch can use CUDA, and on which device;
* **NVML** (``nvidia-ml-py``) says what the driver sees, even when torch cannot;
* **nvidia-smi** CSV is the fallback when NVML's library cannot be loaded.

When the driver sees a GPU that torch cannot use, the usual cause in Colab is a
``pip install torch`` that replaced the build matching the driver; that is
named as a driver mismatch. Each missing piece becomes a one-line instruction.

The parsing and advice functions take plain dicts, so tests feed them recorded
NVML and ``nvidia-smi`` output; the readers return ``None`` on real absence.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any, Literal

from helpers.environment import Platform, detect_platform
from helpers.paths import OUTPUTS, atomic_write_json, relative

DEVICE_CHOICES = ("auto", "cpu", "cuda")
NVIDIA_SMI_QUERY = "name,memory.total,memory.free,driver_version,compute_cap"
COLAB_GPU_HINT = "Runtime → Change runtime type → GPU"


class DeviceError(ValueError):
    """A device request that cannot be met, with what was found and what to do."""


def torch_facts() -> dict[str, Any]:
    """What this torch build can do: CUDA availability, devices, bf16, versions."""
    import torch

    facts: dict[str, Any] = {
        "torch_version": torch.__version__,
        "torch_cuda_build": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "devices": [],
    }
    if facts["cuda_available"]:
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            major, minor = torch.cuda.get_device_capability(index)
            facts["devices"].append({
                "index": index,
                "name": torch.cuda.get_device_name(index),
                "compute_capability": f"{major}.{minor}",
                "total_gb": round(total / 2**30, 1),
                "free_gb": round(free / 2**30, 1),
                "bf16": major >= 8,
            })
        facts["bf16_supported"] = bool(torch.cuda.is_bf16_supported())
    return facts


def nvml_facts() -> dict[str, Any] | None:
    """What the NVIDIA driver sees, through NVML; ``None`` when NVML cannot be loaded."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # ImportError, or NVMLError when libnvidia-ml is absent
        return None
    try:
        devices = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            devices.append({
                "index": index,
                "name": name.decode() if isinstance(name, bytes) else name,
                "total_gb": round(memory.total / 2**30, 1),
                "free_gb": round(memory.free / 2**30, 1),
                "compute_capability": f"{major}.{minor}",
                "processes": len(pynvml.nvmlDeviceGetComputeRunningProcesses(handle)),
            })
        driver = pynvml.nvmlSystemGetDriverVersion()
        return {
            "source": "nvml",
            "driver_version": driver.decode() if isinstance(driver, bytes) else driver,
            "cuda_driver_version": pynvml.nvmlSystemGetCudaDriverVersion(),
            "devices": devices,
        }
    finally:
        pynvml.nvmlShutdown()


def parse_nvidia_smi_csv(text: str) -> dict[str, Any]:
    """Parse ``nvidia-smi --query-gpu=NVIDIA_SMI_QUERY --format=csv,noheader,nounits``."""
    devices = []
    driver = None
    for index, line in enumerate(row for row in text.splitlines() if row.strip()):
        name, total_mib, free_mib, driver, capability = (part.strip() for part in line.split(","))
        devices.append({
            "index": index,
            "name": name,
            "total_gb": round(float(total_mib) / 1024, 1),
            "free_gb": round(float(free_mib) / 1024, 1),
            "compute_capability": capability,
        })
    return {"source": "nvidia-smi", "driver_version": driver, "devices": devices}


def nvidia_smi_facts() -> dict[str, Any] | None:
    """The driver's view through ``nvidia-smi``; ``None`` when the tool is absent or fails."""
    if shutil.which("nvidia-smi") is None:
        return None
    result = subprocess.run(
        ["nvidia-smi", f"--query-gpu={NVIDIA_SMI_QUERY}", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, timeout=30,
    )
    return parse_nvidia_smi_csv(result.stdout) if result.returncode == 0 else None


def advise(platform: Platform, torch_info: dict[str, Any], driver: dict[str, Any] | None) -> list[str]:
    """One line per missing piece, each saying what to do."""
    advice = []
    driver_devices = driver["devices"] if driver else []
    if not torch_info["cuda_available"]:
        if driver_devices:
            built = torch_info["torch_cuda_build"] or "CPU only"
            advice.append(
                f"Driver mismatch: the driver ({driver['driver_version']}) sees {driver_devices[0]['name']}, "
                f"but torch {torch_info['torch_version']} (CUDA build: {built}) cannot use it. "
                "Restart the runtime with the torch it came with: do not pip install torch over Colab's."
            )
        elif platform == "colab":
            advice.append(f"No GPU in this Colab runtime: {COLAB_GPU_HINT}, then run all cells again.")
        elif platform == "kaggle":
            advice.append("No GPU in this Kaggle session: Settings → Accelerator → GPU, then run all cells again.")
        else:
            advice.append("No GPU on this machine: this run uses the CPU, which proves the notebook runs, not GPU speed.")
    for device in torch_info["devices"]:
        if not device["bf16"]:
            advice.append(
                f"{device['name']} (compute capability {device['compute_capability']}) has no bf16: "
                "load models with torch_dtype=torch.float16, not bfloat16."
            )
    return advice


def gpu_report() -> dict[str, Any]:
    """Everything the three sources say, plus the advice, as one JSON-ready dict."""
    platform = detect_platform()
    info = torch_facts()
    driver = nvml_facts() or nvidia_smi_facts()
    return {
        "platform": platform,
        "colab_gpu_runtime": bool(driver and driver["devices"]) if platform == "colab" else None,
        "torch": info,
        "driver": driver or {"source": "none", "driver_version": None, "devices": []},
        "advice": advise(platform, info, driver),
    }


def write_gpu_report(report: dict[str, Any]) -> str:
    """Save the report as ``outputs/gpu_report.json``; return its repo-relative path."""
    return relative(atomic_write_json(OUTPUTS / "gpu_report.json", report))


def gpu_summary() -> dict[str, Any]:
    """A short view for the setup check: the first usable GPU, or why there is none."""
    info = torch_facts()
    if info["devices"]:
        first = info["devices"][0]
        return {"available": True, "name": first["name"], "memory_gb": first["total_gb"], "reason": ""}
    reason = "torch reports no CUDA device" if info["torch_cuda_build"] else "this torch is a CPU-only build"
    return {"available": False, "name": None, "memory_gb": 0.0, "reason": reason}


def choose_device(requested: str, torch_info: dict[str, Any]) -> Literal["cpu", "cuda"]:
    """Turn the notebook's ``device`` parameter into a real device.

    ``"cuda"`` with no usable GPU is an error, not a silent fallback: a run that
    asked for a GPU and quietly used the CPU would prove the wrong thing. Use
    ``"auto"`` for the fallback.
    """
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"device={requested!r} is not one of {', '.join(map(repr, DEVICE_CHOICES))}.")
    if requested == "cpu":
        return "cpu"
    if torch_info["cuda_available"]:
        return "cuda"
    if requested == "auto":
        return "cpu"
    raise DeviceError(
        f"device='cuda' was requested, but torch {torch_info['torch_version']} "
        f"(CUDA build: {torch_info['torch_cuda_build'] or 'CPU only'}) finds no usable GPU. "
        f"Use device='auto' to run on the CPU, or in Colab: {COLAB_GPU_HINT}."
    )
