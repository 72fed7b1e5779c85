"""Is there a GPU, can torch use it, and what should the learner do about it?

Three sources are read, because each fails in its own way:

* **torch** says whether *this* torch can use CUDA, and on which device;
* **NVML** (``nvidia-ml-py``) says what the driver sees, even when torch cannot;
* **nvidia-smi** CSV is the fallback when NVML's library cannot be loaded.

When the driver sees a GPU that torch cannot use, the usual cause in Colab is a
``pip install torch`` that replaced the build matching the driver; that is
named as a driver mismatch. Each missing piece becomes a one-line instruction.

Everything is returned as a :class:`GpuReport`, which notebook 03 reads by
attribute and ``outputs/gpu_report.json`` stores for the learner. The parsing
and advice functions take plain values, so tests feed them recorded NVML and
``nvidia-smi`` output; the readers return ``None`` on real absence. Every import
of torch or NVML is guarded: the setup check calls this module in environments
that lack them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any, Literal

from helpers.core.i18n import N_, _
from helpers.core.paths import atomic_write_json, output, relative
from helpers.machine.environment import GpuSummary, Platform, detect_platform

DEVICE_CHOICES = ("auto", "cpu", "cuda")
NVIDIA_SMI_QUERY = "name,memory.total,memory.free,driver_version,compute_cap"
COLAB_GPU_HINT = "Runtime → Change runtime type → GPU"
#: Written into ``gpu_report.json``, so whoever reads the file later can tell which shape it has.
GPU_REPORT_FORMAT = 2


class DeviceError(ValueError):
    """A device request that cannot be met, with what was found and what to do."""


@dataclass(frozen=True)
class GpuDevice:
    """One GPU as one source sees it. ``bf16`` comes from torch, ``processes`` from NVML; others leave them None."""

    index: int
    name: str
    total_gb: float
    free_gb: float
    compute_capability: str
    bf16: bool | None = None
    processes: int | None = None


@dataclass(frozen=True)
class TorchFacts:
    """What this torch build can do. ``version`` is None when torch is not installed at all."""

    version: str | None
    cuda_build: str | None
    cuda_available: bool
    devices: tuple[GpuDevice, ...] = ()
    bf16_supported: bool | None = None

    @property
    def described(self) -> str:
        if self.version is None:
            return "torch (not installed)"
        return f"torch {self.version} (CUDA build: {self.cuda_build or 'CPU only'})"


@dataclass(frozen=True)
class DriverFacts:
    """What the NVIDIA driver sees; ``source`` is ``"none"`` when neither NVML nor nvidia-smi answered."""

    source: Literal["nvml", "nvidia-smi", "none"]
    driver_version: str | None = None
    cuda_driver_version: int | None = None
    devices: tuple[GpuDevice, ...] = ()


NO_DRIVER = DriverFacts("none")


@dataclass(frozen=True)
class GpuReport:
    """Everything the three sources say, plus the advice."""

    platform: Platform
    torch: TorchFacts
    driver: DriverFacts
    advice: tuple[str, ...] = ()
    colab_gpu_runtime: bool | None = None
    format: int = GPU_REPORT_FORMAT

    @property
    def first_gpu(self) -> GpuDevice | None:
        """The first device torch can use, or None."""
        return self.torch.devices[0] if self.torch.devices else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def torch_facts() -> TorchFacts:
    """What this torch build can do: CUDA availability, devices, bf16, versions."""
    try:
        import torch
    except ImportError:
        return TorchFacts(version=None, cuda_build=None, cuda_available=False)
    if not torch.cuda.is_available():
        return TorchFacts(torch.__version__, torch.version.cuda, False)
    devices = []
    for index in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(index)
        major, minor = torch.cuda.get_device_capability(index)
        devices.append(
            GpuDevice(
                index=index,
                name=torch.cuda.get_device_name(index),
                total_gb=round(total / 2**30, 1),
                free_gb=round(free / 2**30, 1),
                compute_capability=f"{major}.{minor}",
                bf16=major >= 8,
            )
        )
    return TorchFacts(torch.__version__, torch.version.cuda, True, tuple(devices), bool(torch.cuda.is_bf16_supported()))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def nvml_facts() -> DriverFacts | None:
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
            devices.append(
                GpuDevice(
                    index=index,
                    name=_text(pynvml.nvmlDeviceGetName(handle)),
                    total_gb=round(memory.total / 2**30, 1),
                    free_gb=round(memory.free / 2**30, 1),
                    compute_capability=f"{major}.{minor}",
                    processes=len(pynvml.nvmlDeviceGetComputeRunningProcesses(handle)),
                )
            )
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        return DriverFacts("nvml", driver, pynvml.nvmlSystemGetCudaDriverVersion(), tuple(devices))
    finally:
        pynvml.nvmlShutdown()


def parse_nvidia_smi_csv(text: str) -> DriverFacts:
    """Parse ``nvidia-smi --query-gpu=NVIDIA_SMI_QUERY --format=csv,noheader,nounits``."""
    devices = []
    driver = None
    for index, line in enumerate(row for row in text.splitlines() if row.strip()):
        name, total_mib, free_mib, driver, capability = (part.strip() for part in line.split(","))
        devices.append(GpuDevice(index, name, round(float(total_mib) / 1024, 1), round(float(free_mib) / 1024, 1), capability))
    return DriverFacts("nvidia-smi", driver, None, tuple(devices))


def nvidia_smi_facts() -> DriverFacts | None:
    """The driver's view through ``nvidia-smi``; ``None`` when the tool is absent or fails."""
    if shutil.which("nvidia-smi") is None:
        return None
    result = subprocess.run(
        ["nvidia-smi", f"--query-gpu={NVIDIA_SMI_QUERY}", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return parse_nvidia_smi_csv(result.stdout) if result.returncode == 0 else None


def gpu_processes() -> int | None:
    """How many processes hold GPU memory, per NVML; ``None`` when NVML cannot be loaded (no NVIDIA driver)."""
    nvml = nvml_facts()
    return None if nvml is None else sum(d.processes or 0 for d in nvml.devices)


def advise(platform: Platform, torch_info: TorchFacts, driver: DriverFacts) -> list[str]:
    """One line per missing piece, each saying what to do."""
    advice = []
    if torch_info.version is None:
        advice.append(_("torch is not installed: run `python -m helpers.tooling.setup_check` for the command that installs it."))
    elif not torch_info.cuda_available:
        if driver.devices:
            advice.append(
                _(
                    "Driver mismatch: the driver ({driver}) sees {gpu}, but {torch} cannot use it. "
                    "Restart the runtime with the torch it came with: do not pip install torch over Colab's."
                ).format(driver=driver.driver_version, gpu=driver.devices[0].name, torch=torch_info.described)
            )
        elif platform == "colab":
            advice.append(_("No GPU in this Colab runtime: {hint}, then run all cells again.").format(hint=COLAB_GPU_HINT))
        elif platform == "kaggle":
            advice.append(_("No GPU in this Kaggle session: Settings → Accelerator → GPU, then run all cells again."))
        else:
            advice.append(_("No GPU on this machine: this run uses the CPU, which proves the notebook runs, not GPU speed."))
    for device in torch_info.devices:
        if device.bf16 is False:
            advice.append(
                _(
                    "{gpu} (compute capability {capability}) has no bf16: "
                    "load models with torch_dtype=torch.float16, not bfloat16."
                ).format(gpu=device.name, capability=device.compute_capability)
            )
    return advice


def gpu_report() -> GpuReport:
    """Ask the three sources and advise."""
    platform = detect_platform()
    info = torch_facts()
    driver = nvml_facts() or nvidia_smi_facts() or NO_DRIVER
    return GpuReport(
        platform=platform,
        torch=info,
        driver=driver,
        advice=tuple(advise(platform, info, driver)),
        colab_gpu_runtime=bool(driver.devices) if platform == "colab" else None,
    )


def write_gpu_report(report: GpuReport) -> str:
    """Save the report as ``outputs/gpu_report.json``; return its repo-relative path."""
    return relative(atomic_write_json(output("gpu_report"), report.to_json()))


def gpu_summary(info: TorchFacts | None = None) -> GpuSummary:
    """A short view for the setup check: the first usable GPU, or why there is none (in English, as
    ``environment.json`` keeps it; the setup check shows it translated)."""
    info = info or torch_facts()
    if info.devices:
        first = info.devices[0]
        return GpuSummary(True, first.name, first.total_gb, "")
    if info.version is None:
        reason = N_("torch is not installed")
    elif info.cuda_build:
        reason = N_("torch reports no CUDA device")
    else:
        reason = N_("this torch is a CPU-only build")
    return GpuSummary(False, None, 0.0, reason)


def choose_device(requested: str, torch_info: TorchFacts) -> Literal["cpu", "cuda"]:
    """Turn the notebook's ``device`` parameter into a real device.

    ``"cuda"`` with no usable GPU is an error, not a silent fallback: a run that
    asked for a GPU and quietly used the CPU would prove the wrong thing. Use
    ``"auto"`` for the fallback.
    """
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"device={requested!r} is not one of {', '.join(map(repr, DEVICE_CHOICES))}.")
    if requested == "cpu":
        return "cpu"
    if torch_info.cuda_available:
        return "cuda"
    if requested == "auto":
        return "cpu"
    raise DeviceError(
        _(
            "device='cuda' was requested, but {torch} finds no usable GPU. "
            "Use device='auto' to run on the CPU, or in Colab: {hint}."
        ).format(torch=torch_info.described, hint=COLAB_GPU_HINT)
    )
