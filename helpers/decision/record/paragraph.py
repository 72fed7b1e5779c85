"""The decision paragraph: the lesson's three sentences, written from the verdict of the profile's route card.

Written from the verdict, it cannot contradict it. Once the card's upgrade signal is met it names the model that ran
for candidate_2 (offline, the shelf sibling of the lesson's model, and what runs online instead) and cites that model's
own eval rows; the rows the upgrade rests on compare like with like (each runtime and output mode on its own).
"""

from __future__ import annotations

from helpers.catalogue.models import ModelError, candidate_shape
from helpers.core.i18n import _
from helpers.decision import Candidate, Decision
from helpers.decision.candidates import absent, online_note, short
from helpers.decision.evidence import Evidence, SpeaksFor, speaks_for
from helpers.decision.record.text import TEXT
from helpers.decision.verdict import CANNOT_TELL, MET, Verdict
from helpers.fits import estimator


def _because(c: Candidate, must_have: tuple[str, ...]) -> str:
    needs = ", ".join(n for n in must_have) or "the task"
    key = "because_workflow" if c.workflow_only else "because_task"
    return TEXT[key].format(need=c.need_gb, kind=c.memory_kind, avail=c.memory_available_gb, needs=needs)


def switch(c: Candidate, other: Candidate | None, verdict: Verdict, model: str = "") -> str:
    """When to switch away from ``c`` (named ``model`` when another model runs in its place)."""
    required = ", ".join(verdict.required_cases)
    return TEXT["switch"].format(
        model=model or c.model, required=required, share=verdict.pass_share,
        other=other.model if other else "a larger catalogue model",
    )  # fmt: skip


def _clause(sentence: str) -> str:
    """A sentence used inside another: lower-case first letter, no final full stop."""
    return sentence[:1].lower() + sentence[1:].rstrip(".")


def _parameters(model: str) -> int:
    """A catalogue model's parameter count; 0 for a model the catalogue does not list (a shelf sibling)."""
    try:
        return estimator.parameter_count(candidate_shape(model))
    except ModelError:
        return 0


def _not_larger(second: Candidate, ran: SpeaksFor | None, verdict: Verdict, evidence: Evidence | None) -> str:
    """Why not a larger model yet: the chosen model's own rows, and whether a larger model's table passes the gate."""
    if ran is None or not ran.runs:
        return TEXT["not_larger_met"].format(model=second.model)
    rows = "; ".join(verdict.row(r) for r in ran.runs)
    if any(verdict.passes(r) for r in ran.runs):
        return TEXT["not_larger_passes"].format(rows=rows)
    larger = [r for r in evidence.runs if _parameters(r.summary.model) > second.estimate.parameters and verdict.passes(r)]
    if larger:
        return TEXT["not_larger_larger"].format(rows=rows, larger=larger[0].label)
    return TEXT["not_larger_scored"].format(rows=rows)


def _upgraded(decision: Decision, verdict: Verdict, evidence: Evidence | None, rows: str) -> str:
    """The paragraph once the card's signal is met: candidate_2, named as the model that ran for it."""
    second, card = decision.candidate_2, verdict.mine
    ran = speaks_for(evidence, second.model, second.estimator_runtime) if evidence is not None else None
    named = ran.name if ran and ran.runs else second.model
    because = TEXT["because_met"].format(route=card.route, rows=rows)
    if ran and ran.runs and ran.sibling:
        because += "; " + online_note(ran.model, second.estimator_runtime)
    if not second.fits:
        because += TEXT["later_fit"].format(need=second.need_gb, kind=second.memory_kind)
    return TEXT["paragraph"].format(
        model=named,
        runtime=_(second.runtime),
        because=because,
        not_larger=_not_larger(second, ran, verdict, evidence),
        switch=switch(second, None, verdict, short(ran.model) if ran and ran.runs and ran.sibling else ""),
    )


def paragraph(decision: Decision, verdict: Verdict, evidence: Evidence | None = None) -> str:
    """The lesson's three sentences, written from the verdict of the profile's route card (and its evidence)."""
    first, second, card = decision.candidate_1, decision.candidate_2, verdict.mine
    if first is None:
        p = decision.profile
        why = absent("candidate_1", p.must_have, decision.memory_gb, decision.memory_kind, False)
        return TEXT["nothing"].format(fallback=decision.fallback, why=why, required=", ".join(verdict.required_cases))
    rows = card.brief or "; ".join(card.rows) or "no rows"
    if card.status == MET and second is not None:
        return _upgraded(decision, verdict, evidence, rows)
    if card.status == CANNOT_TELL:
        not_larger = TEXT["not_larger_unknown"].format(says=_clause(card.says), run=card.run)
    else:
        not_larger = TEXT["not_larger_not_met"].format(route=card.route, says=_clause(card.says), rows=rows)
    return TEXT["paragraph"].format(
        model=first.model,
        runtime=_(first.runtime),
        because=_because(first, decision.profile.must_have),
        not_larger=not_larger,
        switch=switch(first, second, verdict),
    )
