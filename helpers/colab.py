"""Route 2, free Colab: choose what to run from the memory that is really free, and keep the outputs.

A GPU is an opportunity, not a precondition. :func:`plan_run` turns the GPU
report into a plan: with a GPU, the largest catalogue model whose weights, KV
cache and overhead fit the free memory; with none, the tiny model on the CPU,
saying plainly what that proves. Either way the run writes the same files, so
notebook 05 reads them without caring which path ran.

Colab VMs vanish, so :func:`save_outputs` packs ``outputs/`` into one zip and, in
Colab, copies it to Google Drive or downloads it. Locally the same function runs
and stops at the zip.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpers import hardware
from helpers.models import SHELF_ENTRIES, hub_reachable, in_hub_cache
from helpers.paths import OUTPUTS, relative

TINY = "sshleifer/tiny-gpt2"
SHELF_DEFAULT = "HuggingFaceTB/SmolLM2-135M-Instruct"
ARCHIVE_NAME = "openllm_routes_outputs.zip"
DRIVE_FOLDER = "/content/drive/MyDrive/openllm-routes"


@dataclass(frozen=True)
class RunPlan:
    """What this session will run, where, and what the run can and cannot prove."""

    model: str
    device: str
    torch_dtype: str
    reason: str
    proves: str
    does_not_prove: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cpu_plan(reason: str) -> RunPlan:
    return RunPlan(
        TINY, "cpu", "float32", reason,
        proves="the notebook reruns end to end and saves its outputs, the same files a GPU run writes",
        does_not_prove="GPU speed, GPU memory fit, or model quality (tiny-gpt2 has random weights)",
    )


def smallest_need_gb(context_tokens: int) -> tuple[str, float]:
    """The cheapest instruct candidate on a GPU, and the memory it needs."""
    estimates = hardware.instruct_estimates(context_tokens=context_tokens, runtime="transformers-cuda", dtype="bf16")
    gb, model = min((est.total_bytes / hardware.GB, model) for model, est in estimates)
    return model, gb


def loadable(model: str) -> bool:
    """Whether this session can load ``model``: on the shelf, in the hub cache, or with the hub reachable."""
    return model in SHELF_ENTRIES or in_hub_cache(model) or hub_reachable()


def plan_run(report: dict[str, Any], device: str, *, context_tokens: int = 2048) -> RunPlan:
    """Choose the model for this session from the GPU report and the chosen device."""
    if device == "cpu":
        found = report["torch"]["devices"]
        why = "device='cpu' was requested" if found else "no GPU is visible to torch"
        return _cpu_plan(f"{why}, so the tiny model runs on the CPU")
    gpu = report["torch"]["devices"][0]
    torch_dtype = "bfloat16" if gpu["bf16"] else "float16"
    pick = hardware.largest_fitting(gpu["free_gb"], context_tokens=context_tokens, runtime="transformers-cuda", dtype="bf16")
    if pick is None:
        model, need = smallest_need_gb(context_tokens)
        return _cpu_plan(
            f"{gpu['name']} has {gpu['free_gb']:g} GB free, but the smallest instruct candidate ({model}) needs about "
            f"{need:.1f} GB with a {context_tokens}-token KV cache; the tiny model runs on the CPU instead"
        )
    reason = f"{pick} is the largest catalogue model whose weights, KV cache at {context_tokens} tokens and overhead fit {gpu['free_gb']:g} GB free on {gpu['name']}"
    if not loadable(pick):
        reason += f"; the hub is unreachable and it is not cached, so the shelf's {SHELF_DEFAULT} runs instead"
        pick = SHELF_DEFAULT
    return RunPlan(
        pick, "cuda", torch_dtype, reason,
        proves=f"the notebook runs on {gpu['name']} in {torch_dtype} and the fixed eval cases score a real instruct model",
        does_not_prove="serving under load, latency percentiles or cost per token: that is route 3",
    )


def package_outputs(outputs: Path | None = None) -> Path:
    """Zip everything under ``outputs/`` (but the archive itself) into one file, atomically."""
    outputs = outputs or OUTPUTS
    archive = outputs / ARCHIVE_NAME
    partial = archive.with_name(f".{ARCHIVE_NAME}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(outputs.rglob("*")):
            if path.is_file() and path.name not in (ARCHIVE_NAME, partial.name):
                bundle.write(path, path.relative_to(outputs).as_posix())
    partial.replace(archive)
    return archive


def save_outputs(platform: str, *, to_drive: bool = False, outputs: Path | None = None) -> str:
    """Pack the outputs, then keep them past the VM: Drive or a download in Colab, the zip itself locally."""
    archive = package_outputs(outputs)
    if platform != "colab":
        return f"Packed outputs into {relative(archive)}. This is a local run, so the files stay on this disk; in Colab this step copies the zip to Google Drive or downloads it."
    if to_drive:
        from google.colab import drive  # type: ignore[import-not-found]

        drive.mount("/content/drive")
        Path(DRIVE_FOLDER).mkdir(parents=True, exist_ok=True)
        shutil.copy2(archive, DRIVE_FOLDER)
        return f"Copied {archive.name} to Google Drive: {DRIVE_FOLDER}/{archive.name}"
    from google.colab import files  # type: ignore[import-not-found]

    files.download(str(archive))
    return f"Downloading {archive.name}: the Colab VM and its disk go away when the session ends."
