"""The record built from a decision, the evidence fit and the verdict; the paragraph written from the verdict."""

from __future__ import annotations

from typing import Any

from helpers.catalogue.models import candidate, candidate_shape
from helpers.core import clock
from helpers.core.i18n import N_, _
from helpers.core.paths import EVAL_CASES, output, relative
from helpers.decision import REJECTED_FOR_NOW, Candidate, Decision, fallback_runtime
from helpers.decision.evidence import Evidence
from helpers.decision.record.fit import evidence_fit, expected_stop_time, first_run_command
from helpers.decision.record.paragraph import paragraph, switch
from helpers.decision.record.text import SCHEMA_VERSION, TEXT, WHY_NOW
from helpers.decision.rule import GATE_FILE
from helpers.decision.verdict import MET, Verdict, judge
from helpers.fits import estimator


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
        note = entry["license_note"]  # English in the catalogue; babel.cfg extracts it
        risk += "; " + TEXT["risk_licence"].format(note=_(note))
    hardware_note = TEXT["hardware"].format(
        need=c.need_gb,
        kind=c.memory_kind,
        weights=e.weight_bytes / estimator.GB,
        kv=e.kv_cache_bytes / estimator.GB,
        tokens=c.context_tokens,
        runtime=(e.runtime_overhead_bytes + e.load_transient_bytes) / estimator.GB,
        avail=c.memory_available_gb,
        fits=_("fits") if c.fits else _("does not fit"),
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
        "thresholds_file": relative(GATE_FILE),
        "pass_share": verdict.pass_share,
        "required_cases": list(verdict.required_cases),
        "switch_if": switch(first, None if moved else second, verdict)
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
            "runtime": first.runtime if first else N_("do not start GPU serving yet"),  # English; shown through _()
            "claim": decision.claim,
        },
        "model_decision": _model_decision(decision, first),
        "runtime_decision": {
            "runtime": first.runtime if first else N_("none yet"),
            "hardware_reason": first and candidate_json(first)["hardware_note"] or "no candidate fits this profile",
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
        "decision_paragraph": paragraph(decision, verdict, evidence),
    }
