"""Route 2, free Colab: what a step runs, what it scored, and outputs that travel past the VM.

:func:`run_step` scores one step of the route's plan (``helpers.decision.colab_plan``
makes the plan from the decision rule) on the fixed eval cases. Colab VMs vanish,
so :func:`save_outputs` packs ``outputs/`` into one zip and, in Colab, copies it to
Google Drive or downloads it; locally the same function runs and stops at the zip.
:class:`ColabRun` is the typed record notebook 03 writes to
``outputs/colab_run.json``, which the decision record reads back.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from helpers.core import names
from helpers.core.i18n import _
from helpers.core.paths import atomic_write_json, output, outputs_dir, relative
from helpers.evals import EvalRow, EvalSummary, TransformersRunner, load_cases, run_cases, summarize, write_table
from helpers.machine.environment import require_format

DRIVE_ROOT = "/content/drive"
DRIVE_FOLDER = f"{DRIVE_ROOT}/MyDrive/openllm-routes"
COLAB_RUN_FORMAT = 2
Step = Literal["tiny", "small_instruct"]


class DriveError(RuntimeError):
    """Google Drive could not be used; the zip is still on the VM's disk."""


@dataclass(frozen=True)
class RunPlan:
    """One step of the route: what runs, where, and what it can and cannot prove."""

    step: Step
    model: str
    device: str
    torch_dtype: str
    reason: str
    proves: str
    does_not_prove: str

    @property
    def random_weights(self) -> bool:
        """Whether this model's text is noise by construction (tiny-gpt2 was never trained)."""
        return self.model == names.TINY_GPT2


@dataclass(frozen=True)
class StepResult:
    """One step as it ran: its plan and the eval summary it scored."""

    plan: RunPlan
    eval: EvalSummary


def run_step(plan: RunPlan) -> tuple[StepResult, list[EvalRow]]:
    """Score one step on the fixed eval cases with Transformers; the table goes to ``outputs/evals/`` like route 1's."""
    runner = TransformersRunner(plan.model, device=plan.device, dtype=plan.torch_dtype, runtime=f"transformers-{plan.device}")
    rows = run_cases(runner, load_cases())
    write_table(rows)
    return StepResult(plan, summarize(rows)), rows


@dataclass(frozen=True)
class ColabRun:
    """What notebook 03 ran, in ``outputs/colab_run.json``: the same shape with or without a GPU."""

    platform: str
    steps: tuple[StepResult, ...]
    skipped: str
    format: int = COLAB_RUN_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColabRun:
        require_format(data, COLAB_RUN_FORMAT, "colab_run.json", "notebook 03_colab_gpu_route")
        steps = tuple(StepResult(RunPlan(**s["plan"]), EvalSummary.from_json(s["eval"])) for s in data["steps"])
        return cls(data["platform"], steps, data["skipped"])


def write_colab_run(run: ColabRun) -> str:
    return relative(atomic_write_json(output("colab_run"), run.to_json()))


def read_colab_run(path: Path | None = None) -> ColabRun:
    return ColabRun.from_json(json.loads(Path(path or output("colab_run")).read_text(encoding="utf-8")))


def package_outputs(outputs: Path | None = None) -> Path:
    """Zip everything under ``outputs/`` (but the archive itself) into one file, atomically."""
    outputs = outputs or outputs_dir()
    name = Path(output("outputs_zip")).name
    archive = outputs / name
    partial = archive.with_name(f".{name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(outputs.rglob("*")):
            if path.is_file() and path.name not in (name, partial.name):
                bundle.write(path, path.relative_to(outputs).as_posix())
    partial.replace(archive)
    return archive


def save_outputs(platform: str, *, to_drive: bool = False, outputs: Path | None = None) -> str:
    """Pack the outputs, then keep them past the VM: Drive or a download in Colab, the zip itself locally."""
    archive = package_outputs(outputs)
    if platform != "colab":
        return _(
            "Packed outputs into {path}. This is a local run, so the files stay on this disk; "
            "in Colab this step copies the zip to Google Drive or downloads it."
        ).format(path=relative(archive))
    if to_drive:
        from google.colab import drive  # type: ignore[import-not-found]

        try:
            drive.mount(DRIVE_ROOT)
        except Exception as error:  # the learner closed the consent window, or Drive is unavailable
            raise DriveError(
                _(
                    "Google Drive did not mount ({error}); {path} is still on this VM: "
                    "run this cell again with save_to_drive=False to download it."
                ).format(error=error, path=relative(archive))
            ) from error
        Path(DRIVE_FOLDER).mkdir(parents=True, exist_ok=True)
        shutil.copy2(archive, DRIVE_FOLDER)
        return _("Copied {name} to Google Drive: {folder}/{name}").format(name=archive.name, folder=DRIVE_FOLDER)
    try:
        from google.colab import files  # type: ignore[import-not-found]
    except ImportError:  # a runtime that looks like Colab but has no browser behind it (the simulated-Colab run)
        return _("Packed outputs into {path}; this runtime cannot start a browser download, so it stays on its disk.").format(
            path=relative(archive)
        )
    files.download(str(archive))
    return _("Downloading {name}: the Colab VM and its disk go away when the session ends.").format(name=archive.name)
