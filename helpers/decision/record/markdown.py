"""The record as the page a reviewer reads: the lesson's block first, then the verdict and the five deliverables."""

from __future__ import annotations

from typing import Any

from helpers.core.i18n import _, sentences

#: Markdown's hard line break. Without it, JupyterLab, Colab and GitHub join the lesson's ``key: value`` lines into one
#: paragraph; two trailing spaces break the line in every renderer and stay invisible in the file itself.
LINE_BREAK = "  "


def translated(part: dict[str, Any], key: str) -> str:
    """A value the record keeps in English because it comes from a catalogue (the catalogue's licence note, which
    ``babel.cfg`` extracts from ``data/model_catalogue.json``), in the current language. A function, because Babel would
    read ``_(part["license_note"])`` as the message ``license_note``."""
    english = part[key]
    return _(english)


def _lesson_block(record: dict[str, Any]) -> list[str]:
    """The lesson's ``model_runtime_decision.md``, field for field, one line each however the page is rendered."""
    lines = _lesson_lines(record)
    return [line + LINE_BREAK for line in lines[:-1]] + lines[-1:]


def _lesson_lines(record: dict[str, Any]) -> list[str]:
    none_given = _("none given")
    lines = [
        f"project_goal: {record['project_goal']}",
        f"must_have: {', '.join(record['must_have']) or none_given}",
        f"nice_to_have: {', '.join(record['nice_to_have']) or none_given}",
    ]
    for key in ("candidate_1", "candidate_2"):
        c = record[key]
        if c is None:
            lines.append(f"{key}: " + _("none that fits this profile (the Decision section says why)"))
            continue
        lines += [
            f"{key}: {c['model']} ({c['dtype']})",
            f"license_note: {translated(c, 'license_note')}",
            f"runtime: {_(c['runtime'])}",
            f"hardware_note: {c['hardware_note']}",
            f"risk: {c['risk']}",
        ]
    return lines + [
        f"fallback: {record['fallback']}",
        f"why_now: {record['why_now']}",
        f"rejected_for_now: {_(record['rejected_for_now'])}",
    ]


#: The page's own words (headings and labels), translated when read; record field names stay as the lesson spells them.
LABELS = sentences(
    {
        "title": "# Model Runtime Decision",
        "profile": (
            "*{created}* · route `{route}` · privacy `{privacy}` · GPU memory {vram:g} GB · RAM {ram:g} GB · service: {service}"
        ),
        "yes": "yes",
        "no": "no",
        "claim": "**Claim:** {claim}",
        "verdict": "## Verdict",
        "card": "- **{route}** ({signal}) **{headline}.** {says} Rows: {rows}.",
        "no_rows": "no rows",
        "decision": "## Decision",
        "model_decision": "## Model Decision",
        "model": "- **{model}**, {parameters:,} parameters, {weight_gb:.3g} GB of weights, context {context:,} tokens",
        "licence": "- Licence: {note}",
        "rejected": "- Rejected alternatives:",
        "runtime_decision": "## Runtime Decision",
        "runtime": "- **{runtime}**; fallback runtime: {fallback}",
        "hardware_reason": "- Hardware reason: {reason}",
        "hardware_note": "## Hardware Note",
        "memory": "- Memory compared: {kind}, {available:g} GB available; predicted peak {estimate} GB; disk {disk} GB",
        "memory_none": "- Memory compared: {kind}, {available:g} GB available; no candidate, so no peak or disk is predicted",
        "serving_now": "- GPU serving now: {answer}",
        "stop": "- Expected stop: {stop}",
        "eval_gate": "## Eval Gate",
        "thresholds": "- Thresholds (`{file}`): pass at least {share:.0%} of the cases and every required case: {cases}",
        "switch": "- Switch if: {switch}",
        "expected_output": "## Expected Output",
        "files": "Files: {files}",
        "fit_complete": "## Evidence fit: complete",
        "fit_incomplete": "## Evidence fit: not complete yet",
        "fit_header": "| item | status | value | source |",
    }
)


def _yes_no(value: Any) -> str:
    return LABELS["yes"] if bool(value) else LABELS["no"]


def _profile_line(record: dict[str, Any]) -> str:
    p = record["profile"]
    return LABELS["profile"].format(
        created=record["created_at"],
        route=p["route"],
        privacy=p["privacy"],
        vram=p["available_vram_gb"],
        ram=p["ram_gb"],
        service=_yes_no(p["needs_service"]),
    )


def _verdict(cards: list[dict[str, Any]]) -> list[str]:
    return [
        LABELS["card"].format(
            route=c["route"],
            signal=c["signal"],
            headline=c["headline"],
            says=c["says"],
            rows="; ".join(c["rows"]) or LABELS["no_rows"],
        )
        for c in cards
    ]


def _model_decision(m: dict[str, Any]) -> list[str]:
    lines = []
    if m["model"]:
        size = m["size"]
        lines.append(
            LABELS["model"].format(
                model=m["model"], parameters=size["parameters"], weight_gb=size["weight_gb"], context=m["context_length"]
            )
        )
        lines.append(LABELS["licence"].format(note=translated(m, "license_note")))
    return lines + [LABELS["rejected"], *[f"  - {a['model']}: {a['reason']}" for a in m["rejected_alternatives"]]]


def _runtime_decision(r: dict[str, Any]) -> list[str]:
    runtime, fallback = r["runtime"], r["fallback_runtime"]  # English in the record, catalogue entries (N_)
    return [
        LABELS["runtime"].format(runtime=_(runtime), fallback=_(fallback)),
        LABELS["hardware_reason"].format(reason=r["hardware_reason"]),
    ]


def _hardware_note(h: dict[str, Any]) -> list[str]:
    memory = LABELS["memory" if h["memory_estimate_gb"] is not None else "memory_none"]
    return [
        memory.format(
            kind=h["memory_kind"],
            available=h["memory_available_gb"],
            estimate=h["memory_estimate_gb"],
            disk=h["disk_estimate_gb"],
        ),
        LABELS["serving_now"].format(answer=_yes_no(h["start_gpu_serving"])),
        LABELS["stop"].format(stop=h["expected_stop_time"]),
    ]


def _eval_gate(g: dict[str, Any]) -> list[str]:
    return [
        *[f"- `{f}`" for f in g["case_files"]],
        LABELS["thresholds"].format(
            file=g["thresholds_file"], share=g["pass_share"], cases=", ".join(f"`{c}`" for c in g["required_cases"])
        ),
        LABELS["switch"].format(switch=g["switch_if"]),
    ]


def _expected_output(o: dict[str, Any]) -> list[str]:
    return ["```bash", o["first_run_command"], "```", "", LABELS["files"].format(files=", ".join(f"`{f}`" for f in o["files"]))]


def _evidence_fit(fit: dict[str, Any]) -> list[str]:
    rows = [f"| {i['name']} | {i['status']} | {i['value'].replace('|', '/')} | {i['source']} |" for i in fit["items"]]
    return [LABELS["fit_header"], "| --- | --- | --- | --- |", *rows]


def render_markdown(record: dict[str, Any]) -> str:
    """The record as the page a reviewer reads: the lesson's fields, the verdict, then the five deliverables.

    Headings, labels and the claim are in the current language (:func:`helpers.core.i18n.use`); the record's
    sentences were written in it when the record was built; field names and values from data stay as they are, except
    the catalogue's licence notes, which ``babel.cfg`` extracts from ``data/model_catalogue.json`` and ``_()`` translates.
    Every block and section is separated from the next by one blank line; a section's heading by one more.
    """
    claim = record["decision"]["claim"]  # the rule's claims are catalogue entries (N_)
    fit_heading = LABELS["fit_complete"] if record["evidence_fit"]["complete"] else LABELS["fit_incomplete"]
    sections = [
        (LABELS["verdict"], _verdict(record["verdict"])),
        (LABELS["decision"], [record["decision_paragraph"]]),
        (LABELS["model_decision"], _model_decision(record["model_decision"])),
        (LABELS["runtime_decision"], _runtime_decision(record["runtime_decision"])),
        (LABELS["hardware_note"], _hardware_note(record["hardware_note"])),
        (LABELS["eval_gate"], _eval_gate(record["eval_gate"])),
        (LABELS["expected_output"], _expected_output(record["expected_output"])),
        (fit_heading, _evidence_fit(record["evidence_fit"])),
    ]
    blocks = [[LABELS["title"]], _lesson_block(record), [_profile_line(record)], [LABELS["claim"].format(claim=_(claim))]]
    blocks += [[heading, "", *body] for heading, body in sections]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
