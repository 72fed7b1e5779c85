"""The record built from a decision, the evidence fit and the verdict; the paragraph written from the verdict."""

from __future__ import annotations

from typing import Any

from helpers.catalogue.models import candidate, candidate_shape
from helpers.catalogue.runtimes import GPU_MEMORY
from helpers.core import clock, names
from helpers.core.paths import EVAL_CASES, output, relative
from helpers.decision import REJECTED_FOR_NOW, Candidate, Decision, fallback_runtime, instruct_models, lacks
from helpers.decision.evidence import Evidence, model_version, runs_of
from helpers.decision.record.text import EVIDENCE_FIT, PAID_HOURS_BUDGET, SCHEMA_VERSION, TEXT, WHY_NOW
from helpers.decision.verdict import CANNOT_TELL, MET, Verdict, judge
from helpers.fits import estimator
from helpers.serving.launch import vllm_serve_command


def _gb(value: int) -> float:
    return round(value / estimator.GB, 4)


def candidate_json(c: Candidate | None) -> dict[str, Any] | None:
    if c is None:
        return None
    entry, e = candidate(c.model), c.estimate
    if c.workflow_only:
        risk = TEXT["risk_workflow"]
    elif not c.fits:
        risk = TEXT["risk_no_fit"].format(need=c.need_gb, kind=c.memory_kind, avail=c.memory_available_gb)
    else:
        risk = TEXT["risk_small"] if e.parameters < 1e9 else TEXT["risk_large"]
    if entry.get("commercial_use") == "conditional":
        risk += "; " + TEXT["risk_licence"].format(note=entry["license_note"])
    hardware_note = TEXT["hardware"].format(
        need=c.need_gb,
        kind=c.memory_kind,
        weights=e.weight_bytes / estimator.GB,
        kv=e.kv_cache_bytes / estimator.GB,
        tokens=c.context_tokens,
        runtime=(e.runtime_overhead_bytes + e.load_transient_bytes) / estimator.GB,
        avail=c.memory_available_gb,
        fits="fits" if c.fits else "does not fit",
        disk=e.disk_bytes / estimator.GB,
    )
    return {
        "model": c.model,
        "dtype": c.dtype,
        "license_note": entry["license_note"],
        "runtime": c.runtime,
        "hardware_note": hardware_note,
        "risk": risk,
        "estimate": {
            "parameters": e.parameters,
            "weight_gb": _gb(e.weight_bytes),
            "kv_cache_gb": _gb(e.kv_cache_bytes),
            "runtime_gb": _gb(e.runtime_overhead_bytes + e.load_transient_bytes),
            "total_gb": _gb(e.total_bytes),
            "disk_gb": _gb(e.disk_bytes),
            "context_tokens": c.context_tokens,
            "estimator_runtime": c.estimator_runtime,
        },
        "memory": {"kind": c.memory_kind, "available_gb": c.memory_available_gb, "fits": c.fits},
        "lacks": [{"need": need, "reason": why} for need, why in c.lacks],
    }


def selected(decision: Decision, verdict: Verdict | None) -> Candidate | None:
    """The model the record stands behind: candidate_2 once its route card's upgrade signal is met, else candidate_1."""
    met = verdict is not None and verdict.mine.status == MET and decision.candidate_2 is not None
    return decision.candidate_2 if met else decision.candidate_1


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
        return "make run   # or: python -m helpers.tooling.notebook_runner regenerate --only 02"
    command = f"python -m helpers.evals run data/eval_cases/ --model {first.model}"
    if first.estimator_runtime == "vllm":
        return command + " --runtime openai --base-url http://127.0.0.1:8000/v1 --label vllm"
    if first.estimator_runtime == "llama.cpp":
        shelf = first.model == names.SMOLLM2 and first.dtype == "q4_1"
        return command + " --runtime llama.cpp" + ("" if shelf else f" --gguf <its {first.dtype.upper()} .gguf file>")
    return command + " --runtime transformers"


def expected_stop_time(decision: Decision, chosen: Candidate | None = None) -> str:
    first = chosen or decision.candidate_1
    paid = decision.profile.route == "rented_gpu" and first is not None and first.memory_kind == GPU_MEMORY
    return TEXT["stop_paid"].format(hours=PAID_HOURS_BUDGET) if paid else TEXT["stop_free"]


def _because(c: Candidate, must_have: tuple[str, ...]) -> str:
    needs = ", ".join(n for n in must_have) or "the task"
    key = "because_workflow" if c.workflow_only else "because_task"
    return TEXT[key].format(need=c.need_gb, kind=c.memory_kind, avail=c.memory_available_gb, needs=needs)


def _switch(c: Candidate, other: Candidate | None, verdict: Verdict) -> str:
    required = ", ".join(verdict.required_cases)
    return TEXT["switch"].format(
        model=c.model, required=required, share=verdict.pass_share, other=other.model if other else "a larger catalogue model"
    )


def _clause(sentence: str) -> str:
    """A sentence used inside another: lower-case first letter, no final full stop."""
    return sentence[:1].lower() + sentence[1:].rstrip(".")


def paragraph(decision: Decision, verdict: Verdict) -> str:
    """The lesson's three sentences, written from the verdict of the profile's route card."""
    first, second, card = decision.candidate_1, decision.candidate_2, verdict.mine
    if first is None:
        avail, kind = decision.memory_gb, decision.memory_kind
        covered = any(not lacks(model, decision.profile.must_have) for model in instruct_models())
        why = (
            TEXT["nothing_fits"].format(avail=avail, kind=kind)
            if covered
            else TEXT["nothing_covers"].format(needs=", ".join(decision.profile.must_have))
        )
        return TEXT["nothing"].format(fallback=decision.fallback, why=why, required=", ".join(verdict.required_cases))
    rows = card.brief or "; ".join(card.rows) or "no rows"
    if card.status == MET and second is not None:
        because = TEXT["because_met"].format(route=card.route, rows=rows)
        if not second.fits:
            because += TEXT["later_fit"].format(need=second.need_gb, kind=second.memory_kind)
        return TEXT["paragraph"].format(
            model=second.model,
            runtime=second.runtime,
            because=because,
            not_larger=TEXT["not_larger_met"].format(model=second.model),
            switch=_switch(second, None, verdict),
        )
    if card.status == CANNOT_TELL:
        not_larger = TEXT["not_larger_unknown"].format(says=_clause(card.says), run=card.run)
    else:
        not_larger = TEXT["not_larger_not_met"].format(route=card.route, says=_clause(card.says), rows=rows)
    return TEXT["paragraph"].format(
        model=first.model,
        runtime=first.runtime,
        because=_because(first, decision.profile.must_have),
        not_larger=not_larger,
        switch=_switch(first, second, verdict),
    )


def _item(name: str, value: str, source: str) -> dict[str, str]:
    return {"name": name, "status": "present", "value": value, "source": source}


def _missing(name: str, run: str) -> dict[str, str]:
    return {"name": name, "status": "missing", "value": "", "source": f"run {run}"}


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
        return {"complete": False, "items": [_missing(name, why) for name in EVIDENCE_FIT]}
    runs = runs_of(evidence, first.model, first.estimator_runtime)
    version = model_version(first.model, first.estimator_runtime)
    produce = f"`{command}`"
    items = [
        _item("model_version", f"sha256:{version[0]}", version[1])
        if version
        else _missing("model_version", "make run (builds the shelf) or record the hub revision of " + first.model),
        _item("command", command, runs[0].path) if runs else _missing("command", produce),
        _item("first_output", f"{runs[0].first_case}: {runs[0].first_output[:160]!r}", runs[0].path)
        if runs
        else _missing("first_output", produce),
        _item("eval_table", runs[0].label + f" ({runs[0].summary.output_mode})", runs[0].path)
        if runs
        else _missing("eval_table", produce),
    ]
    stop = evidence.shutdown
    if expected_stop_time(decision, first) == TEXT["stop_free"]:
        items.append(_item("stop_procedure", TEXT["stop_free"], "the kernel (nothing paid runs)"))
    elif stop is not None and stop.stopped:
        items.append(_item("stop_procedure", f"{stop.kind}: {stop.statement}", evidence.sources["shutdown_proof"].path))
    else:
        items.append(_missing("stop_procedure", "notebook 04_rented_gpu_route to its shutdown proof"))
    return {"complete": all(i["status"] == "present" for i in items), "items": items}


def _model_decision(decision: Decision, first: Candidate | None) -> dict[str, Any]:
    model = first.model if first else None
    return {
        "model": model,
        "license_note": candidate(model)["license_note"] if model else "",
        "size": {"parameters": first.estimate.parameters, "weight_gb": _gb(first.estimate.weight_bytes)} if first else None,
        "context_length": candidate_shape(model).context_length if model else None,
        "rejected_alternatives": [{"model": r.model, "reason": r.reason} for r in decision.rejected],
    }


def _hardware_note(decision: Decision, first: Candidate | None) -> dict[str, Any]:
    return {
        "memory_kind": first.memory_kind if first else decision.memory_kind,
        "memory_available_gb": first.memory_available_gb if first else decision.memory_gb,
        "memory_estimate_gb": round(first.need_gb, 2) if first else None,
        "disk_estimate_gb": round(first.estimate.disk_bytes / estimator.GB, 2) if first else None,
        "expected_stop_time": expected_stop_time(decision, first),
        "start_gpu_serving": decision.start_gpu_serving,
    }


def _eval_gate(decision: Decision, first: Candidate | None, verdict: Verdict) -> dict[str, Any]:
    """The eval gate; its switch names candidate_2 as the next model, unless the record has already moved to it."""
    second = decision.candidate_2
    moved = first is not None and first is second
    return {
        "case_files": [relative(p) for p in sorted(EVAL_CASES.glob("*.jsonl"))],
        "thresholds_file": relative(EVAL_CASES / "gate.json"),
        "pass_share": verdict.pass_share,
        "required_cases": list(verdict.required_cases),
        "switch_if": _switch(first, None if moved else second, verdict)
        if first
        else TEXT["switch_none"].format(required=", ".join(verdict.required_cases)),
    }


def build_record(decision: Decision, evidence: Evidence | None = None) -> dict[str, Any]:
    """The whole record. Without evidence it is a draft: its verdict cannot tell anything yet."""
    profile = decision.profile
    verdict = judge(decision, evidence)
    first = selected(decision, verdict)
    model = first.model if first else None
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": clock.timestamp(),
        "profile": profile.to_json(),
        "project_goal": profile.task,
        "must_have": list(profile.must_have),
        "nice_to_have": list(profile.nice_to_have),
        "candidate_1": candidate_json(decision.candidate_1),
        "candidate_2": candidate_json(decision.candidate_2),
        "fallback": decision.fallback,
        "why_now": WHY_NOW[decision.claim_key],
        "rejected_for_now": REJECTED_FOR_NOW,
        "decision": {
            "model": model or "smaller model or the fallback",
            "runtime": first.runtime if first else "do not start GPU serving yet",
            "claim": decision.claim,
        },
        "model_decision": _model_decision(decision, first),
        "runtime_decision": {
            "runtime": first.runtime if first else "none yet",
            "hardware_reason": first and candidate_json(first)["hardware_note"] or "nothing that covers the must-haves fits",
            "fallback_runtime": fallback_runtime(first),
        },
        "hardware_note": _hardware_note(decision, first),
        "eval_gate": _eval_gate(decision, first, verdict),
        "expected_output": {
            "files": [relative(output("decision_md")), relative(output("decision_json"))],
            "first_run_command": first_run_command(decision, first),
        },
        "evidence_fit": evidence_fit(decision, evidence, first),
        "verdict": [card.to_json() for card in verdict.cards],
        "decision_paragraph": paragraph(decision, verdict),
    }
