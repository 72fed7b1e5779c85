"""From a project profile to a written model/runtime decision.

A :class:`Profile` (task, route, privacy, memory, whether a service is needed)
goes through :func:`choose`, which applies the course's rule: *start with the
smallest model and simplest runtime that proves the behaviour, upgrade only on
evidence*. :func:`build_record` adds the estimator's numbers, the eval gate and
a filled-in decision paragraph. :func:`write_record` validates the record
against ``data/schemas/model_runtime_decision.schema.json`` and writes
``outputs/model_runtime_decision.json`` and ``.md`` atomically, keeping every
earlier decision under ``outputs/decisions/``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from helpers import hardware
from helpers.paths import EVAL_CASES, OUTPUTS, REPO_ROOT, atomic_write_json, atomic_write_text, relative

ROUTES = ("local_cpu", "free_colab", "rented_gpu")
PRIVACY_LEVELS = ("public", "internal", "restricted")
SCHEMA_FILE = REPO_ROOT / "data" / "schemas" / "model_runtime_decision.schema.json"
DEFAULT_TASK = "support-operations SOP assistant: answers in Chinese and English, returns stable JSON"
MIN_SERVING_VRAM_GB = 16
PAID_HOURS_BUDGET = 2
TINY, SMOL, QWEN_SMALL, QWEN_7B = (
    "sshleifer/tiny-gpt2", "HuggingFaceTB/SmolLM2-135M-Instruct", "Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
)
CLAIMS = {
    "workflow": "proves the workflow, not model quality",
    "portable": "proves a portable notebook run",
    "serving": "proves controlled serving, eval, latency and shutdown",
    "gpu_first": "proves the model answers on a GPU before paying for a service",
    "hold": "do not start GPU serving yet",
}


class DecisionError(ValueError):
    """A profile or record that cannot be used, naming the field and what is allowed."""


@dataclass(frozen=True)
class Profile:
    """What the project needs and has. ``vram_gb`` is GPU memory, or RAM on the local CPU route."""

    task: str = DEFAULT_TASK
    route: str = "local_cpu"
    privacy: str = "internal"
    vram_gb: float = 8.0
    needs_service: bool = False

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise DecisionError(f"route (ROUTE) must be one of {', '.join(ROUTES)}; got {self.route!r}.")
        if self.privacy not in PRIVACY_LEVELS:
            raise DecisionError(f"privacy (PRIVACY) must be one of {', '.join(PRIVACY_LEVELS)}; got {self.privacy!r}.")
        number = isinstance(self.vram_gb, (int, float)) and not isinstance(self.vram_gb, bool)
        if not number or not math.isfinite(self.vram_gb) or self.vram_gb < 0:
            raise DecisionError(f"vram_gb (VRAM_GB) must be a number of gigabytes, 0 or more; got {self.vram_gb!r}.")
        if not isinstance(self.needs_service, bool):
            raise DecisionError(f"needs_service (NEEDS_SERVICE) must be yes or no; got {self.needs_service!r}.")
        if not self.task.strip():
            raise DecisionError("task (TASK) must describe the project in a few words; got an empty string.")


def parse_profile(values: Mapping[str, str | None]) -> Profile:
    """Build a profile from text (environment variables or flags), keyed TASK, ROUTE, PRIVACY, VRAM_GB, NEEDS_SERVICE."""
    defaults = Profile()
    raw_vram = values.get("VRAM_GB")
    try:
        vram = float(raw_vram) if raw_vram not in (None, "") else defaults.vram_gb
    except ValueError:
        raise DecisionError(f"vram_gb (VRAM_GB) must be a number of gigabytes, 0 or more; got {raw_vram!r}.") from None
    raw_service = (values.get("NEEDS_SERVICE") or "no").strip().lower()
    yes, no = {"yes", "y", "true", "1", "on"}, {"no", "n", "false", "0", "off"}
    if raw_service not in yes | no:
        raise DecisionError(f"needs_service (NEEDS_SERVICE) must be yes or no; got {values.get('NEEDS_SERVICE')!r}.")
    return Profile(
        task=values.get("TASK") or defaults.task,
        route=values.get("ROUTE") or defaults.route,
        privacy=values.get("PRIVACY") or defaults.privacy,
        vram_gb=vram,
        needs_service=raw_service in yes,
    )


@dataclass(frozen=True)
class Choice:
    """The model and runtime for a profile, and the reasons, before numbers are attached."""

    model: str
    dtype: str
    runtime: str
    estimate_runtime: str
    fallback_runtime: str
    claim: str
    because: str
    not_larger: str
    switch_if: str
    start_gpu_serving: bool
    context_tokens: int
    rejected: list[dict[str, str]] = field(default_factory=list)


def _fits(model: str, dtype: str, memory_gb: float, runtime: str, context_tokens: int) -> tuple[bool, float]:
    shape = hardware.candidate_shape(model)
    est = hardware.estimate(shape, dtype, runtime=runtime, context_tokens=min(context_tokens, shape.context_length))
    return est.total_bytes <= memory_gb * hardware.GB, est.total_bytes / hardware.GB


def _rejections(chosen: str, dtype: str, memory_gb: float, runtime: str, context_tokens: int) -> list[dict[str, str]]:
    """Why every other catalogue model is not the starting point, from the estimator and the licence."""
    reasons = []
    chosen_params = hardware.parameter_count(hardware.candidate_shape(chosen))
    for entry in hardware.catalogue()["models"]:
        if entry["id"] == chosen:
            continue
        fits, need_gb = _fits(entry["id"], dtype if dtype in entry["dtypes"] else entry["dtypes"][0], memory_gb, runtime, context_tokens)
        params = hardware.parameter_count(hardware.candidate_shape(entry["id"]))
        if not fits:
            reason = f"does not fit: needs about {need_gb:.1f} GB against {memory_gb:g} GB available"
        elif params < chosen_params:
            reason = "smaller, but weaker than needed for the target task"
        elif "Community License" in entry["license"] or "Qwen License" in entry["license"]:
            reason = f"fits, but its licence ({entry['license']}) adds conditions; start with an Apache-2.0 model"
        else:
            reason = "fits, but larger than needed until the fixed eval set asks for it"
        reasons.append({"model": entry["id"], "reason": reason})
    return reasons


def choose(profile: Profile) -> Choice:
    """Apply the course's rule to a profile; every route of the lesson is covered."""
    ctx = 4096
    memory = profile.vram_gb
    if profile.route == "local_cpu" and _fits(TINY, "fp32", memory, "transformers-cpu", 1024)[0]:
        return Choice(
            TINY, "fp32", "Transformers (CPU)" + (" behind the local API skeleton" if profile.needs_service else ""),
            "transformers-cpu", "llama.cpp with SmolLM2-135M-Instruct Q4_1 (quantized local tests)",
            CLAIMS["workflow"],
            "it loads in a second on any laptop and shows every step of the loop: load, tokens, one prompt, eval, API",
            "a random-weight model is enough to prove the workflow, and the eval set has not yet shown what a larger one must fix",
            "tiny-gpt2 failing cases that SmolLM2-135M-Instruct on llama.cpp passes (language and JSON cases first)",
            False, 1024, _rejections(TINY, "fp32", memory, "transformers-cpu", 1024),
        )
    if profile.route == "free_colab":
        small = hardware.largest_fitting(memory, context_tokens=ctx, runtime="transformers-cuda", dtype="bf16", max_params_b=1.0)
        if memory > 0 and small:
            return Choice(
                small, "bf16", "Transformers notebook on the Colab GPU", "transformers-cuda",
                "Transformers on CPU with tiny-gpt2 (no GPU attached)", CLAIMS["portable"],
                f"it is the largest small instruct model whose weights, KV cache at {ctx} tokens and overhead fit {memory:g} GB",
                "a free GPU session can vanish at any time, and the eval set has not yet shown a gap a 7B model must close",
                f"{small} failing the JSON or bilingual cases that a 7B-class model passes on a rented GPU",
                False, ctx, _rejections(small, "bf16", memory, "transformers-cuda", ctx),
            )
        return Choice(
            TINY, "fp32", "Transformers on CPU (no GPU visible)", "transformers-cpu",
            "Transformers on a Colab GPU once one is attached (Runtime → Change runtime type → GPU)",
            CLAIMS["portable"] + " (on CPU: not GPU speed, not model quality)",
            "no GPU is visible, so the run proves only that the notebook reruns and saves its outputs",
            "without a GPU a larger model would only be slow, and it would prove nothing new",
            "the notebook rerunning cleanly with a GPU attached, and the small instruct model passing the cases tiny-gpt2 fails",
            False, 1024, _rejections(TINY, "fp32", memory, "transformers-cpu", 1024),
        )
    if profile.route == "rented_gpu" and memory >= MIN_SERVING_VRAM_GB:
        service = profile.needs_service
        return Choice(
            QWEN_SMALL, "bf16", "vLLM (OpenAI-compatible server)" if service else "Transformers first, then vLLM",
            "vllm" if service else "transformers-cuda",
            "SGLang (also OpenAI-compatible)" if service else "vLLM once the model answers correctly",
            CLAIMS["serving"] if service else CLAIMS["gpu_first"],
            f"a small instruct model proves {'the endpoint, latency and shutdown' if service else 'the GPU path'} for cents before a 7B model costs dollars",
            f"{QWEN_7B} fits in {memory:g} GB but the fixed eval set has not yet shown a failure it would fix",
            f"{QWEN_SMALL} failing the JSON schema or Chinese-language cases that {QWEN_7B} passes",
            service, 8192, _rejections(QWEN_SMALL, "bf16", memory, "vllm" if service else "transformers-cuda", 8192),
        )
    fallback = "a hosted API with a data-processing agreement" if profile.privacy == "public" else "no hosted API: the data must stay on your machines"
    because = (
        f"{memory:g} GB of RAM is too little for Transformers even with tiny-gpt2, and a quantized 135M model needs less"
        if profile.route == "local_cpu"
        else f"{memory:g} GB is below the {MIN_SERVING_VRAM_GB} GB this course asks for GPU serving, and a quantized 135M model still answers"
    )
    return Choice(
        SMOL, "q4_1", "llama.cpp on the CPU you have", "llama.cpp", fallback, CLAIMS["hold"], because,
        "below that, a larger model means a slower quantized compromise, so the task is proven on the small one first",
        "the quantized model failing cases that matter, which is the moment to rent a GPU of 16 GB or more",
        False, 2048, _rejections(SMOL, "q4_1", max(memory, 0.0), "llama.cpp", 2048),
    )


def vllm_serve_command(model: str, *, max_model_len: int, gpu_memory_gb: float, dtype: str = "bf16", port: int = 8000) -> str:
    """The ``vllm serve`` line for a rented GPU: localhost only, key from the environment, sized by the estimator."""
    budget = hardware.vllm_budget(hardware.candidate_shape(model), dtype, gpu_memory_gb, max_model_len=max_model_len)
    parts = [
        f"vllm serve {model}", "--host 127.0.0.1", f"--port {port}", f"--max-model-len {max_model_len}",
        f"--gpu-memory-utilization {budget.gpu_memory_utilization:.2f}", '--api-key "$VLLM_API_KEY"',
    ]
    if budget.tensor_parallel_size > 1:
        parts.insert(4, f"--tensor-parallel-size {budget.tensor_parallel_size}")
    return " ".join(parts)


def first_run_command(profile: Profile, choice: Choice) -> str:
    if profile.route == "local_cpu" and choice.model == TINY:
        return "make run   # or: papermill notebooks/02_local_cpu_route.ipynb outputs/notebooks/02_local_cpu_route.ipynb"
    if profile.route == "free_colab":
        return "Open notebooks/03_colab_gpu_route.ipynb with its Colab badge, then Runtime → Run all"
    if choice.start_gpu_serving:
        return vllm_serve_command(choice.model, max_model_len=choice.context_tokens, gpu_memory_gb=profile.vram_gb)
    if profile.route == "rented_gpu" and choice.model == QWEN_SMALL:
        return "papermill notebooks/03_colab_gpu_route.ipynb outputs/notebooks/03_colab_gpu_route.ipynb -p device cuda"
    return "python -m helpers.evals run data/eval_cases/ --runtime llama.cpp"


ROUTE_FILES = {
    "local_cpu": ["outputs/evals/", "outputs/memory_check.csv"],
    "free_colab": ["outputs/gpu_report.json", "outputs/evals/"],
    "rented_gpu": ["outputs/serving/benchmark.json", "outputs/serving/shutdown_proof.json", "outputs/evals/"],
}


def eval_case_files() -> list[str]:
    return [relative(p) for p in sorted(EVAL_CASES.glob("*.jsonl"))] or [relative(EVAL_CASES) + "/"]


def build_record(profile: Profile, evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full decision record for a profile, with the estimator's numbers attached."""
    choice = choose(profile)
    shape = hardware.candidate_shape(choice.model)
    est = hardware.estimate(shape, choice.dtype, runtime=choice.estimate_runtime,
                            context_tokens=min(choice.context_tokens, shape.context_length))
    entry = hardware.candidate(choice.model)
    paid = profile.route == "rented_gpu" and choice.start_gpu_serving
    paragraph = (
        f"For this project, I will start with {choice.model} using {choice.runtime} because {choice.because}. "
        f"I will not use a larger model yet because {choice.not_larger}. "
        f"I will switch only if the fixed eval set shows {choice.switch_if}."
    )
    return {
        "schema_version": 1,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "profile": asdict(profile),
        "claim": choice.claim,
        "model_decision": {
            "model": choice.model,
            "dtype": choice.dtype,
            "license_note": entry["license_note"],
            "size": {"parameters": est.parameters, "weight_gb": round(est.weight_bytes / hardware.GB, 6)},
            "context_length": shape.context_length,
            "rejected_alternatives": choice.rejected,
        },
        "runtime_decision": {
            "runtime": choice.runtime,
            "hardware_reason": (
                f"predicted peak {est.total_bytes / hardware.GB:.2f} GB (weights {est.weight_bytes / hardware.GB:.2f}, "
                f"KV cache at {min(choice.context_tokens, shape.context_length)} tokens {est.kv_cache_bytes / hardware.GB:.2f}, "
                f"runtime {est.runtime_overhead_bytes / hardware.GB:.2f}) against {profile.vram_gb:g} GB"
            ),
            "fallback_runtime": choice.fallback_runtime,
        },
        "hardware_note": {
            "memory_estimate_gb": round(est.total_bytes / hardware.GB, 2),
            "disk_estimate_gb": round(est.disk_bytes / hardware.GB, 2),
            "expected_stop_time": (
                f"within {PAID_HOURS_BUDGET} h of boot; notebook 04 records the real stop in outputs/serving/shutdown_proof.json"
                if paid else None
            ),
            "start_gpu_serving": choice.start_gpu_serving,
        },
        "eval_gate": {"cases": eval_case_files(), "switch_if": choice.switch_if},
        "expected_output": {
            "files": ["outputs/model_runtime_decision.json", "outputs/model_runtime_decision.md", *ROUTE_FILES[profile.route]],
            "first_run_command": first_run_command(profile, choice),
        },
        "decision_paragraph": paragraph,
        "evidence": evidence or {},
    }


def validate_record(record: dict[str, Any]) -> None:
    """Raise :class:`DecisionError` naming the field when the record breaks its schema."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(record), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(top level)"
        raise DecisionError(f"The decision record fails its schema at {where}: {first.message}. Nothing was written.")


def render_markdown(record: dict[str, Any]) -> str:
    """The record as a page a reviewer reads."""
    m, r, h, g, o = (record[k] for k in ("model_decision", "runtime_decision", "hardware_note", "eval_gate", "expected_output"))
    p = record["profile"]
    lines = [
        "# Model/runtime decision", "",
        f"*{record['created_at']}* · route `{p['route']}` · privacy `{p['privacy']}` · "
        f"{p['vram_gb']:g} GB · service: {'yes' if p['needs_service'] else 'no'}", "",
        f"**Task:** {p['task']}", "", f"**Claim:** this choice {record['claim']}.", "",
        "## Decision", "", record["decision_paragraph"], "",
        "## Model", "",
        f"- **{m['model']}** ({m.get('dtype', '')}), {m['size']['parameters']:,} parameters, "
        f"{m['size']['weight_gb']:.3g} GB of weights, context {m['context_length']:,} tokens",
        f"- Licence: {m['license_note']}", "", "Rejected alternatives:", "",
        *[f"- {alt['model']}: {alt['reason']}" for alt in m["rejected_alternatives"]], "",
        "## Runtime", "", f"- **{r['runtime']}**; fallback: {r['fallback_runtime']}", f"- Why: {r['hardware_reason']}", "",
        "## Hardware", "", f"- Memory: {h['memory_estimate_gb']} GB predicted peak; disk: {h['disk_estimate_gb']} GB",
        f"- GPU serving now: {'yes' if h['start_gpu_serving'] else 'no'}",
        f"- Expected stop: {h['expected_stop_time'] or 'not a paid GPU'}", "",
        "## Eval gate", "", *[f"- `{c}`" for c in g["cases"]], f"- Switch if: {g['switch_if']}", "",
        "## First run", "", "```bash", o["first_run_command"], "```", "",
        "Expected files: " + ", ".join(f"`{f}`" for f in o["files"]),
    ]
    if record["evidence"]:
        lines += ["", "## Evidence", ""] + [f"- **{k}**: {v}" for k, v in record["evidence"].items()]
    return "\n".join(lines) + "\n"


def _archive_path(record: dict[str, Any], outputs: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return outputs / "decisions" / f"{stamp}_{record['profile']['route']}"


def write_record(record: dict[str, Any], outputs: Path | None = None) -> dict[str, str]:
    """Validate, archive under ``outputs/decisions/``, then replace the current record atomically.

    A record that fails its schema raises before any file is touched; an archived
    decision is created exclusively and never overwritten.
    """
    validate_record(record)
    outputs = outputs or OUTPUTS
    markdown = render_markdown(record)
    base = _archive_path(record, outputs)
    base.parent.mkdir(parents=True, exist_ok=True)
    for suffix, text in ((".json", json.dumps(record, indent=2, ensure_ascii=False) + "\n"), (".md", markdown)):
        with open(base.with_suffix(suffix), "x", encoding="utf-8") as handle:
            handle.write(text)
    atomic_write_text(outputs / "model_runtime_decision.md", markdown)
    atomic_write_json(outputs / "model_runtime_decision.json", record)
    return {
        "json": relative(outputs / "model_runtime_decision.json"),
        "markdown": relative(outputs / "model_runtime_decision.md"),
        "archived": relative(base.with_suffix(".json")),
    }


def profile_from_environment(environ: Mapping[str, str] | None = None) -> Profile:
    environ = os.environ if environ is None else environ
    return parse_profile({k: environ.get(k) for k in ("TASK", "ROUTE", "PRIVACY", "VRAM_GB", "NEEDS_SERVICE")})


# --------------------------------------------------------------------------- notebook views

ESTIMATE_RUNTIME_BY_ROUTE = {"local_cpu": "transformers-cpu", "free_colab": "transformers-cuda", "rented_gpu": "vllm"}


def compare_routes(profile: Profile) -> list[dict[str, Any]]:
    """The same project on each route, one row per route, for a side-by-side view."""
    rows = []
    for route in ROUTES:
        variant = Profile(profile.task, route, profile.privacy, profile.vram_gb, profile.needs_service)
        record = build_record(variant)
        rows.append({
            "route": route,
            "model": record["model_decision"]["model"],
            "runtime": record["runtime_decision"]["runtime"],
            "claim": record["claim"],
            "memory_gb": record["hardware_note"]["memory_estimate_gb"],
            "gpu_serving_now": record["hardware_note"]["start_gpu_serving"],
        })
    return rows


def plot_fit(rows: list[dict[str, Any]], memory_gb: float) -> Any:
    """Predicted memory per model and dtype (log scale) against the memory available."""
    import matplotlib.pyplot as plt

    labels = [f"{r['model'].split('/')[-1]} {r['dtype']}" for r in rows]
    figure, axis = plt.subplots(figsize=(10, 4))
    axis.barh(labels, [r["total_gb"] for r in rows], color=["#4c72b0" if r["fits"] else "#c44e52" for r in rows])
    axis.axvline(memory_gb, color="black", linestyle="--", label=f"available: {memory_gb:g} GB")
    axis.set_xscale("log")
    axis.set_xlabel("predicted peak memory (GB, log scale): weights + KV cache + runtime")
    axis.invert_yaxis()
    axis.tick_params(axis="y", labelsize=8)
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure


def profile_form(profile: Profile) -> Any:
    """An ipywidgets form for the same five fields; "Decide" writes the record and shows it."""
    import ipywidgets as widgets
    from IPython.display import Markdown, display

    task = widgets.Text(value=profile.task, description="task", layout=widgets.Layout(width="90%"))
    route = widgets.Dropdown(options=ROUTES, value=profile.route, description="route")
    privacy = widgets.Dropdown(options=PRIVACY_LEVELS, value=profile.privacy, description="privacy")
    vram = widgets.BoundedFloatText(value=profile.vram_gb, min=0, max=2048, step=1, description="memory GB")
    service = widgets.Checkbox(value=profile.needs_service, description="needs a service")
    button = widgets.Button(description="Decide", button_style="primary")
    output = widgets.Output()

    def decide(_: Any) -> None:
        output.clear_output()
        with output:
            try:
                record = build_record(Profile(task.value, route.value, privacy.value, float(vram.value), service.value))
                written = write_record(record)
                display(Markdown(render_markdown(record)))
                print(f"Wrote {written['json']} and {written['markdown']}")
            except DecisionError as error:
                print(f"error: {error}")

    button.on_click(decide)
    return widgets.VBox([task, widgets.HBox([route, privacy]), widgets.HBox([vram, service]), button, output])


def add_evidence(key: str, value: Any, outputs: Path | None = None) -> dict[str, str] | None:
    """Attach evidence to the current record and rewrite it (the previous one is archived).

    ``serving_stop`` evidence also fills a paid route's expected stop time with
    the measured one. Returns ``None`` when there is no record yet (notebook 01 writes it).
    """
    outputs = outputs or OUTPUTS
    current = outputs / "model_runtime_decision.json"
    if not current.exists():
        return None
    record = json.loads(current.read_text(encoding="utf-8"))
    record["evidence"][key] = value
    if key == "serving_stop" and record["profile"]["route"] == "rented_gpu":
        record["hardware_note"]["expected_stop_time"] = f"stopped at {value['stop_requested_at']} ({value['health']} after stop)"
    record["created_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return write_record(record, outputs)
