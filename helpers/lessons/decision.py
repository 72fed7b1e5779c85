"""Views for notebooks 01, 06 and 07: tables, the fit plot, the profile form, the verdict and the record on screen.

The logic is in ``helpers.decision`` (the rule), ``helpers.decision.record``,
``helpers.decision.evidence``, ``helpers.decision.verdict`` and ``helpers.decision.exercise``; these
functions only show what those return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

import pandas as pd
from IPython.display import Markdown, display

from helpers.catalogue.models import catalogue
from helpers.catalogue.runtimes import RUNTIMES, plain_transformers
from helpers.core.i18n import _
from helpers.core.paths import output
from helpers.decision import LESSON_EXAMPLE, NEEDS, PRIVACY_LEVELS, ROUTES, Decision, DecisionError, Profile, choose, lacks
from helpers.decision.evidence import Evidence, gather
from helpers.decision.exercise import ExerciseError, Feedback, check
from helpers.decision.record import DecisionRecord, RecordError, build_record, read_record, render_markdown
from helpers.decision.verdict import CardVerdict, Verdict, judge, load_gate
from helpers.evals import load_cases
from helpers.fits import estimator
from helpers.routes.cards import ROUTE_CARDS


def summary(decision: Decision) -> None:
    """Three lines: the profile, the first candidate and the claim."""
    p, first = decision.profile, decision.candidate_1
    print(
        _(
            "Profile: route={route}, privacy={privacy}, GPU memory {vram:g} GB, RAM {ram:g} GB, "
            "service={service}, must-have: {needs}"
        ).format(
            route=p.route,
            privacy=p.privacy,
            vram=p.available_vram_gb,
            ram=p.ram_gb,
            service=_("yes") if p.needs_service else _("no"),
            needs=", ".join(p.must_have) or _("none"),
        )
    )
    if first:
        print(
            _("Decision: {model} with {runtime} ({need:.2f} GB of {kind} against {avail:g} GB)").format(
                model=first.model,
                runtime=_(first.runtime),
                need=first.need_gb,
                kind=_(first.memory_kind),
                avail=first.memory_available_gb,
            )
        )
    else:
        print(_("Decision: no model fits yet; fallback: {fallback}").format(fallback=decision.fallback))
    print(_("Claim: {claim}").format(claim=_(decision.claim)))


def compare_routes(profile: Profile) -> pd.DataFrame:
    """The same project on each route: where it starts, against which memory, and what it may claim.

    With no GPU memory in the profile, each GPU route is shown with its card's typical GPU, said in a column.
    """
    rows = []
    for route in ROUTES:
        vram = profile.available_vram_gb or ROUTE_CARDS[route].typical_vram_gb
        d = choose(Profile.from_json({**profile.to_json(), "route": route, "available_vram_gb": vram}))
        first = d.candidate_1
        rows.append(
            {
                "route": route,
                "GPU memory": f"{vram:g} GB" + (" " + _("(typical)") if vram != profile.available_vram_gb else ""),
                "candidate_1": first.model if first else _("none fits"),
                "runtime": _(first.runtime) if first else "-",
                "memory": _("{need:.2f} of {avail:g} GB {kind}").format(
                    need=first.need_gb, avail=first.memory_available_gb, kind=_(first.memory_kind)
                )
                if first
                else "-",
                "candidate_2": d.candidate_2.model if d.candidate_2 else _("none"),
                "claim": _(d.claim),
            }
        )
    return pd.DataFrame(rows)


def task_fit(profile: Profile) -> pd.DataFrame:
    """Every catalogue model against the must-haves: what it lacks, in the catalogue's words (translated, see ``lacks``)."""
    rows = []
    for entry in catalogue()["models"]:
        missing = lacks(entry["id"], profile.must_have)
        rows.append(
            {
                "model": entry["id"],
                "licence": entry["license"],
                "lacks": "; ".join(f"{need}: {why}" for need, why in missing) or _("nothing"),
            }
        )
    return pd.DataFrame(rows)


def fit_runtime(decision: Decision) -> str:
    """The runtime the fit table sizes rows for: the decision's own, with Transformers standing for a CPU or GPU runtime
    that loads unquantized files (the estimator puts GGUF rows on llama.cpp)."""
    return decision.runtime if RUNTIMES[decision.runtime].serves else plain_transformers(decision.runtime)


def fit_table(decision: Decision) -> pd.DataFrame:
    """Every catalogue model and dtype against the memory the decision compared, at the decision's context length."""
    runtime, memory, kind, tokens = fit_runtime(decision), decision.memory_gb, _(decision.memory_kind), decision.context_tokens
    print(
        _("Memory compared: {memory:g} GB of {kind}; runtime {runtime} (GGUF rows on llama.cpp); context {tokens} tokens").format(
            memory=memory, kind=kind, runtime=runtime, tokens=tokens
        )
    )
    columns = ["model", "dtype", "runtime", "params_b", "weights_gb", "kv_gb", "total_gb", "rule_of_thumb_gb", "fits"]
    return pd.DataFrame(estimator.fit_table(memory, context_tokens=tokens, runtime=runtime))[columns]


def plot_fit(table: pd.DataFrame, decision: Decision) -> Any:
    """Predicted memory per model and dtype (log scale) against the memory the decision compared."""
    import matplotlib.pyplot as plt

    memory, kind = decision.memory_gb, decision.memory_kind
    labels = [f"{m.split('/')[-1]} {d}" for m, d in zip(table["model"], table["dtype"], strict=True)]
    figure, axis = plt.subplots(figsize=(10, 4))
    axis.barh(labels, table["total_gb"], color=["#4c72b0" if fits else "#c44e52" for fits in table["fits"]])
    axis.axvline(max(memory, 0.01), color="black", linestyle="--", label=f"available: {memory:g} GB of {kind}")
    axis.set_xscale("log")
    axis.set_xlabel("predicted peak memory (GB, log scale): weights + KV cache + runtime")
    axis.invert_yaxis()
    axis.tick_params(axis="y", labelsize=8)
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure


def licences() -> pd.DataFrame:
    """Each catalogue model's licence and its note; the note (English in the catalogue, extracted by ``babel.cfg``) is
    shown in the notebook's language. Licence names and the commercial-use flag are the catalogue's values."""
    rows = []
    for m in catalogue()["models"]:
        note = m["license_note"]
        rows.append({"model": m["id"], "license": m["license"], "commercial use": m.get("commercial_use", "?"), "note": _(note)})
    return pd.DataFrame(rows)


def show_record(record: DecisionRecord | dict[str, Any]) -> None:
    """The record's Markdown page, from a typed record or a freshly built document, sized for one screen.

    The lesson's lines (``project_goal`` … ``rejected_for_now``) and the claim are shown; everything after them (the
    verdict, the evidence and its tables, some 60 lines) is folded into a section one click opens.
    """
    page = render_markdown(record.to_json() if isinstance(record, DecisionRecord) else record)
    lesson, heading, rest = page.partition("\n## ")
    if heading:
        summary = _("The rest of the record: the verdict and the evidence behind it")
        page = f"{lesson}\n\n<details><summary>{summary}</summary>\n\n## {rest}\n\n</details>\n"
    display(Markdown(page))


def show_verdict(verdict: Verdict) -> None:
    """The verdict first: the profile's own card in bold, then the other two, each with the rows it cites."""
    lines = []
    for card in sorted(verdict.cards, key=lambda c: c.route != verdict.route):
        mine = " (this profile's route)" if card.route == verdict.route else ""
        lines.append(f"- **{card.route}{mine}: {card.headline}.** {card.says}")
        lines += [f"  - {row}" for row in card.rows]
    display(Markdown("\n".join(lines)))


def show_card(card: CardVerdict) -> None:
    """One route card's verdict as :func:`helpers.decision.verdict.judge` gave it (notebooks 03 and 04 print it so)."""
    print(_("upgrade signal:  {signal}").format(signal=card.signal))
    print(_("verdict:         {headline}").format(headline=card.headline))
    print(_("because:         {says}").format(says=card.says))
    for row in card.rows:
        print(_("  evidence:      {row}").format(row=row))


def evidence_table(evidence: Evidence) -> pd.DataFrame:
    return pd.DataFrame([{"source": s.name, "status": s.status, "says": s.message} for s in evidence.sources.values()])


def eval_runs(evidence: Evidence) -> pd.DataFrame:
    return pd.DataFrame([{"run": r.label, "output": r.summary.output_mode, "table": r.path} for r in evidence.runs])


def evidence_fit(record: DecisionRecord) -> pd.DataFrame:
    """The lesson's five evidence items: present (value and file) or missing (what produces it)."""
    print(_("complete") if record.evidence_complete else _("not complete yet: the missing items say what produces them"))
    return pd.DataFrame([asdict(item) for item in record.evidence])


def draft_profile() -> Profile:
    """Notebook 01's profile from the current record, or the lesson's example when there is none yet."""
    if not output("decision_json").exists():
        print(
            _("No draft yet (run notebook 01 for your own profile); using the lesson's example project on the local CPU route.")
        )
        return LESSON_EXAMPLE
    profile = read_record().profile
    print(_("Draft from notebook 01: {task} on route {route}").format(task=profile.task, route=profile.route))
    return profile


def check_paragraph(paragraph: str, decision: Decision, *, with_evidence: bool = True) -> Feedback | None:
    """Check a paragraph against the decision, the gate and (optionally) the evidence; print the feedback.

    A paragraph that is empty, still the template or not the lesson's three
    sentences prints one message saying what to do, and nothing else happens.
    """
    case_ids = tuple(case.case_id for case in load_cases())
    verdict = judge(decision, gather()) if with_evidence else None
    try:
        feedback = check(paragraph, decision, load_gate(case_ids=case_ids), case_ids, verdict)
    except ExerciseError as error:
        print(error)
        return None
    print(feedback.text())
    return feedback


def profile_form(profile: Profile, *, write: Callable[[dict[str, Any]], Any]) -> Any:
    """An ipywidgets form for the profile, one field per :class:`Profile` field; "Decide" writes a record and shows it.

    ``write`` is the notebook's writer (``helpers.decision.record.write_record``): this view writes nothing itself.
    """
    import ipywidgets as widgets

    form = {
        "task": widgets.Text(value=profile.task, description="task", layout=widgets.Layout(width="90%")),
        "route": widgets.Dropdown(options=ROUTES, value=profile.route, description="route"),
        "privacy": widgets.Dropdown(options=PRIVACY_LEVELS, value=profile.privacy, description="privacy"),
        "available_vram_gb": widgets.BoundedFloatText(
            value=profile.available_vram_gb, min=0, max=2048, step=1, description="GPU GB"
        ),
        "needs_service": widgets.Checkbox(value=profile.needs_service, description="needs a service"),
        "ram_gb": widgets.BoundedFloatText(value=profile.ram_gb, min=0, max=4096, step=1, description="RAM GB"),
        "must_have": widgets.SelectMultiple(options=list(NEEDS), value=profile.must_have, description="must have", rows=6),
        "nice_to_have": widgets.SelectMultiple(
            options=list(NEEDS), value=profile.nice_to_have, description="nice to have", rows=6
        ),
    }
    button = widgets.Button(description="Decide", button_style="primary")
    output = widgets.Output()

    def decide(_: Any) -> None:
        output.clear_output()
        with output:
            try:
                chosen = Profile(**{field.name: form[field.name].value for field in fields(Profile)})
                record = build_record(choose(chosen))
                written = write(record)
                show_record(record)
                print(written)
            except (DecisionError, RecordError) as error:
                print(f"error: {error}")

    button.on_click(decide)
    rows = [("route", "privacy"), ("available_vram_gb", "ram_gb", "needs_service"), ("must_have", "nice_to_have")]
    return widgets.VBox([form["task"], *(widgets.HBox([form[name] for name in row]) for row in rows), button, output])
