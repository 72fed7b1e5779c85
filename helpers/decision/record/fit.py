"""The record's expected output and evidence fit: the first command, the stop time, and the lesson's five items.

Each item is present (its value and the file the kit wrote it to) or missing (with the command that produces it).
Evidence counts for the model that ran: offline, the lesson's Qwen2.5-0.5B-Instruct runs as its shelf sibling, so
its items name the sibling and cite the sibling's own tables and shelf digest (:func:`helpers.decision.evidence.speaks_for`).
"""

from __future__ import annotations

from typing import Any

from helpers.catalogue.runtimes import GPU_MEMORY
from helpers.core.paths import relative
from helpers.decision import Candidate, Decision
from helpers.decision.candidates import model_version, pinned, shelf_file, shelf_quant
from helpers.decision.evidence import Evidence, SpeaksFor, speaks_for
from helpers.decision.record.text import EVIDENCE_FIT, PAID_HOURS_BUDGET, TEXT
from helpers.serving.launch import vllm_serve_command


def first_run_command(decision: Decision, chosen: Candidate | None = None) -> str:
    """The one command that starts the first run of this decision (of ``chosen``, candidate_1 by default)."""
    first, route = chosen or decision.candidate_1, decision.profile.route
    if first is None:
        return "python choose_openllm_runtime.py   # change the profile (more memory, fewer must-haves) until a candidate fits"
    if decision.start_gpu_serving and first.estimator_runtime == "vllm":
        return vllm_serve_command(
            first.model, max_model_len=first.context_tokens, gpu_memory_gb=decision.profile.available_vram_gb, dtype=first.dtype
        )
    if route == "free_colab":
        return "Open notebooks/03_colab_gpu_route.ipynb with its Colab badge, then Runtime → Run all"
    if first.workflow_only:
        return "make run NB=02   # sets up, then runs notebook 02, whose first eval table is this model's"
    command = f"python -m helpers.evals run data/eval_cases/ --model {first.model}"
    if first.estimator_runtime == "vllm":
        return command + " --runtime openai --base-url http://127.0.0.1:8000/v1 --label vllm"
    if first.estimator_runtime == "llama.cpp":  # the shelf's GGUF when it is the candidate's quantization, else its own
        on_shelf = shelf_quant(first.model) == first.dtype
        return command + " --runtime llama.cpp" + ("" if on_shelf else f" --gguf <its {first.dtype.upper()} .gguf file>")
    return command + " --runtime transformers"


def expected_stop_time(decision: Decision, chosen: Candidate | None = None) -> str:
    first = chosen or decision.candidate_1
    paid = decision.profile.route == "rented_gpu" and first is not None and first.memory_kind == GPU_MEMORY
    return TEXT["stop_paid"].format(hours=PAID_HOURS_BUDGET) if paid else TEXT["stop_free"]


def _item(name: str, value: str, source: str) -> dict[str, str]:
    return {"name": name, "status": "present", "value": value, "source": source}


def _missing(name: str, source: str) -> dict[str, str]:
    return {"name": name, "status": "missing", "value": "", "source": source}


def _version(ran: SpeaksFor) -> dict[str, str]:
    """The digest of the file that ran, from its shelf manifest; missing: the shelf entry to build, or the hub revision."""
    version = model_version(ran.model, ran.runtime)
    if version:
        value = TEXT["version_pinned" if pinned(version) else "version"].format(digest=version[0], model=ran.name)
        return _item("model_version", value, version[1])
    entry = shelf_file(ran.model, ran.runtime)
    if entry is not None:
        return _missing("model_version", TEXT["version_shelf"].format(folder=relative(entry.path)))
    return _missing("model_version", TEXT["version_hub"].format(model=ran.model))


def evidence_fit(decision: Decision, evidence: Evidence | None, chosen: Candidate | None = None) -> dict[str, Any]:
    """The lesson's five items for the selected model: each present (value and file) or missing (what produces it)."""
    first = chosen or decision.candidate_1
    command = first_run_command(decision, first)
    if first is None or evidence is None:
        why = (
            "choose_openllm_runtime.py with a profile that fits"
            if first is None
            else "notebook 06_decision_record to read the evidence"
        )
        return {"complete": False, "items": [_missing(name, f"run {why}") for name in EVIDENCE_FIT]}
    ran = speaks_for(evidence, first.model, first.estimator_runtime)
    runs, produce = ran.runs, f"run `{command}`"
    items = [_version(ran)]
    if runs:
        tables = "; ".join(f"{r.label} ({r.summary.output_mode})" for r in runs)
        items += [
            _item("command", command, runs[0].path),
            _item("first_output", f"{runs[0].first_case}: {runs[0].first_output[:160]!r}", runs[0].path),
            _item("eval_table", TEXT["tables_of"].format(model=ran.name, tables=tables) if ran.sibling else tables,
                  ", ".join(r.path for r in runs)),
        ]  # fmt: skip
    else:
        items += [_missing(name, produce) for name in ("command", "first_output", "eval_table")]
    stop = evidence.shutdown
    if expected_stop_time(decision, first) == TEXT["stop_free"]:
        items.append(_item("stop_procedure", TEXT["stop_free"], "the kernel (nothing paid runs)"))
    elif stop is not None and stop.stopped:
        items.append(_item("stop_procedure", f"{stop.kind}: {stop.statement}", evidence.sources["shutdown_proof"].path))
    else:
        items.append(_missing("stop_procedure", "run notebook 04_rented_gpu_route to its shutdown proof"))
    return {"complete": all(i["status"] == "present" for i in items), "items": items}
