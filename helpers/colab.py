"""Route 2, free Colab: the route card's two steps, chosen from the memory that is really free, and outputs that travel.

The route card says: *tiny model first, then a small instruct model only if a GPU
is visible*. :func:`plan_route` turns the GPU report into exactly that:

1. the tiny model, always, on whatever device was chosen: it proves the notebook
   reruns and saves its files (its weights are random, so its text is noise);
2. with a GPU, the largest small instruct model whose weights, KV cache and
   overhead fit the free memory. It is capped at the decision rule's size for a
   first Colab candidate, and never a gated model without a hub token. With no
   GPU, step 2 is skipped and the plan says why.

Colab VMs vanish, so :func:`save_outputs` packs ``outputs/`` into one zip and, in
Colab, copies it to Google Drive or downloads it. Locally the same function runs
and stops at the zip. :class:`ColabRun` is the typed record notebook 03 writes to
``outputs/colab_run.json``, which the decision record reads back.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from helpers import hardware, names
from helpers.decision import SMALL_INSTRUCT_MAX_PARAMS
from helpers.environment import require_format
from helpers.evals import EvalRow, EvalSummary, TransformersRunner, load_cases, run_cases, summarize, write_table
from helpers.gpu import GpuReport
from helpers.i18n import _
from helpers.models import SHELF_ENTRIES, in_hub_cache
from helpers.net import hub_reachable
from helpers.paths import atomic_write_json, output, outputs_dir, relative

DRIVE_ROOT = "/content/drive"
DRIVE_FOLDER = f"{DRIVE_ROOT}/MyDrive/openllm-routes"
#: Models whose hub page asks the learner to accept a licence before a token can download them.
GATED = ("meta-llama/",)
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
class RoutePlan:
    """Both steps; ``second`` is None when step 2 does not run, and ``skipped`` says why."""

    first: RunPlan
    second: RunPlan | None
    skipped: str = ""


def needs_token(model: str) -> bool:
    return model.startswith(GATED)


def has_hub_token(environ: dict[str, str] | None = None) -> bool:
    """A hub token: ``HF_TOKEN``, a ``huggingface-cli login`` file, or (through ``huggingface_hub``) Colab Secrets.

    With ``environ`` given, only that mapping and its ``HF_HOME`` are consulted (the tests use it).
    """
    env = os.environ if environ is None else environ
    token_file = Path(env.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "token"
    if env.get("HF_TOKEN") or token_file.exists():
        return True
    if environ is not None:
        return False
    try:
        from huggingface_hub import get_token
    except ImportError:
        return False
    return get_token() is not None


def loadable(model: str) -> bool:
    """Whether this session can load ``model``: on the shelf, in the hub cache, or with the hub reachable."""
    return model in SHELF_ENTRIES or in_hub_cache(model) or hub_reachable()


def _tiny(device: str, reason: str) -> RunPlan:
    return RunPlan(
        "tiny",
        names.TINY_GPT2,
        device,
        "float32",
        reason,
        proves=_("the notebook reruns end to end and saves its outputs, the same files a GPU run writes"),
        does_not_prove=_(
            "model quality: tiny-gpt2 has random weights, so its text is noise and its eval score is zero by design"
        ),
    )


def _small_instruct(report: GpuReport, context_tokens: int) -> tuple[RunPlan | None, str]:
    """Step 2 on the first GPU, or None and the one sentence that says why not."""
    gpu = report.first_gpu
    cap_b = SMALL_INSTRUCT_MAX_PARAMS / 1e9
    token = has_hub_token()
    estimates = list(hardware.instruct_estimates(context_tokens=context_tokens, runtime="transformers-cuda", dtype="bf16"))
    fitting = [
        (est.parameters, model)
        for model, est in estimates
        if est.parameters <= SMALL_INSTRUCT_MAX_PARAMS and est.total_bytes <= gpu.free_gb * hardware.GB
    ]
    allowed = [(params, model) for params, model in fitting if token or not needs_token(model)]
    if not allowed:
        if fitting:
            return None, _(
                "every small instruct model that fits is gated on the hub: accept its licence on its model page, "
                "then add an HF_TOKEN in Colab Secrets and run again ({models})"
            ).format(models=", ".join(m for __, m in fitting))
        need = min(est.total_bytes for _, est in estimates)
        return None, _(
            "{gpu} has {free:g} GB free, but the smallest instruct candidate needs about "
            "{need:.1f} GB with a {tokens}-token KV cache; "
            "free GPU memory (restart the runtime) or use a larger GPU"
        ).format(gpu=gpu.name, free=gpu.free_gb, need=need / hardware.GB, tokens=context_tokens)
    pick = max(allowed)[1]
    torch_dtype = "bfloat16" if gpu.bf16 else "float16"
    reason = _(
        "{model} is the largest small instruct model (at most {cap:g}B parameters, the decision rule's first Colab candidate) "
        "whose weights, KV cache at {tokens} tokens and overhead fit {free:g} GB free on {gpu}"
    ).format(model=pick, cap=cap_b, tokens=context_tokens, free=gpu.free_gb, gpu=gpu.name)
    if not loadable(pick):
        reason += _("; the hub is unreachable and it is not cached, so the shelf's {model} runs instead").format(
            model=names.SMOLLM2
        )
        pick = names.SMOLLM2
    plan = RunPlan(
        "small_instruct",
        pick,
        "cuda",
        torch_dtype,
        reason,
        proves=_("a real instruct model runs on {gpu} in {dtype} and scores on the same fixed eval cases").format(
            gpu=gpu.name, dtype=torch_dtype
        ),
        does_not_prove=_("serving under load, latency percentiles or cost per token: that is route 3"),
    )
    return plan, ""


def plan_route(report: GpuReport, device: str, *, context_tokens: int = 2048) -> RoutePlan:
    """The route card's two steps for this session, from the GPU report and the chosen device."""
    if device == "cpu":
        why = _("device='cpu' was requested") if report.first_gpu else _("no GPU is visible to torch")
        first = _tiny("cpu", _("{why}, so the tiny model runs on the CPU").format(why=why))
        skipped = _("{why}: the route card runs the small instruct model only when a GPU is visible").format(why=why)
        return RoutePlan(first, None, skipped)
    first = _tiny("cuda", _("the tiny model runs first, on the GPU, to prove the notebook path before any download of size"))
    second, skipped = _small_instruct(report, context_tokens)
    return RoutePlan(first, second, skipped)


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
