"""The record as the page a reviewer reads: the lesson's block first, then the verdict and the five deliverables."""

from __future__ import annotations

from typing import Any


def _lesson_block(record: dict[str, Any]) -> list[str]:
    """The lesson's ``model_runtime_decision.md``, field for field."""
    lines = [
        f"project_goal: {record['project_goal']}",
        f"must_have: {', '.join(record['must_have']) or 'none given'}",
        f"nice_to_have: {', '.join(record['nice_to_have']) or 'none given'}",
    ]
    for key in ("candidate_1", "candidate_2"):
        c = record[key]
        if c is None:
            lines.append(f"{key}: none in the catalogue covers the must-haves")
            continue
        lines += [
            f"{key}: {c['model']} ({c['dtype']})",
            f"license_note: {c['license_note']}",
            f"runtime: {c['runtime']}",
            f"hardware_note: {c['hardware_note']}",
            f"risk: {c['risk']}",
        ]
    return lines + [
        f"fallback: {record['fallback']}",
        f"why_now: {record['why_now']}",
        f"rejected_for_now: {record['rejected_for_now']}",
    ]


def render_markdown(record: dict[str, Any]) -> str:
    """The record as the page a reviewer reads: the lesson's fields, the verdict, then the five deliverables."""
    m, r, h, g, o, fit = (
        record[k] for k in ("model_decision", "runtime_decision", "hardware_note", "eval_gate", "expected_output", "evidence_fit")
    )
    p = record["profile"]
    lines = [
        "# Model Runtime Decision",
        "",
        *_lesson_block(record),
        "",
        f"*{record['created_at']}* · route `{p['route']}` · privacy `{p['privacy']}` · "
        f"GPU memory {p['available_vram_gb']:g} GB · RAM {p['ram_gb']:g} GB · service: {'yes' if p['needs_service'] else 'no'}",
        "",
        f"**Claim:** {record['decision']['claim']}",
        "",
        "## Verdict",
        "",
    ]
    for card in record["verdict"]:
        cited = "; ".join(card["rows"]) or "no rows"
        lines.append(f"- **{card['route']}** ({card['signal']}) **{card['headline']}.** {card['says']} Rows: {cited}.")
    lines += ["", "## Decision", "", record["decision_paragraph"], "", "## Model Decision", ""]
    if m["model"]:
        lines.append(
            f"- **{m['model']}**, {m['size']['parameters']:,} parameters, {m['size']['weight_gb']:.3g} GB of weights, "
            f"context {m['context_length']:,} tokens"
        )
        lines.append(f"- Licence: {m['license_note']}")
    lines += [
        "- Rejected alternatives:",
        *[f"  - {a['model']}: {a['reason']}" for a in m["rejected_alternatives"]],
        "",
        "## Runtime Decision",
        "",
        f"- **{r['runtime']}**; fallback runtime: {r['fallback_runtime']}",
        f"- Hardware reason: {r['hardware_reason']}",
        "",
        "## Hardware Note",
        "",
        f"- Memory compared: {h['memory_kind']}, {h['memory_available_gb']:g} GB available; predicted peak "
        f"{h['memory_estimate_gb']} GB; disk {h['disk_estimate_gb']} GB",
        f"- GPU serving now: {'yes' if h['start_gpu_serving'] else 'no'}",
        f"- Expected stop: {h['expected_stop_time']}",
        "",
        "## Eval Gate",
        "",
        *[f"- `{f}`" for f in g["case_files"]],
        f"- Thresholds (`{g['thresholds_file']}`): pass at least {g['pass_share']:.0%} of the cases and every required case: "
        + ", ".join(f"`{c}`" for c in g["required_cases"]),
        f"- Switch if: {g['switch_if']}",
        "",
        "## Expected Output",
        "",
        "```bash",
        o["first_run_command"],
        "```",
        "",
        "Files: " + ", ".join(f"`{f}`" for f in o["files"]),
        "",
        f"## Evidence fit: {'complete' if fit['complete'] else 'not complete yet'}",
        "",
        "| item | status | value | source |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {i['name']} | {i['status']} | {i['value'].replace('|', '/')} | {i['source']} |" for i in fit["items"]]
    return "\n".join(lines) + "\n"
