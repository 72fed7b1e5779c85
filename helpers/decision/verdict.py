"""The upgrade verdict: each route card's upgrade signal, judged from the evidence alone.

The lesson's three route cards each end in an upgrade signal. :func:`judge`
reads a decision and the evidence in ``outputs/`` and says, per card, one of
*upgrade signal met*, *not met* or *cannot tell yet* (with what to run), citing
the eval rows it used. The thresholds (what counts as "quality too weak", which
cases must pass) live in ``data/eval_cases/gate.json``, beside the cases.

The decision paragraph is written from the verdict (``helpers.decision.record``), so it
cannot say one thing while the evidence beside it says another.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.core.i18n import _, sentences
from helpers.core.paths import EVAL_CASES, relative
from helpers.decision import Decision
from helpers.decision.evidence import UNREADABLE, EvalRun, Evidence, runtime_key
from helpers.routes.cards import ROUTE_CARDS

GATE_FILE = EVAL_CASES / "gate.json"
MET, NOT_MET, CANNOT_TELL = "met", "not_met", "cannot_tell"

#: Every sentence the verdict says, in one place.
SAYS = {
    "unreadable": "An evidence file cannot be used: {problem}",
    "no_runs": "No eval table speaks for this route yet.",
    "disagree": "Runs of the same model and runtime disagree: {runs}. Rerun so each has one current table.",
    "stale": "{runs} ({path}) was scored on {cases} cases, but the case files now hold {now}: it is cut off or comes from "
    "an older case set; rerun it on the current cases.",
    "local_met": "The loop ran end to end, and quality is too weak for the target task: no local run passes the gate.",
    "local_not_met": "{run} passes the gate, so quality is not too weak on this route yet.",
    "colab_missing": "No Colab run has been recorded.",
    "colab_no_gpu": "No GPU was visible in the recorded Colab run ({device}), so the signal cannot be met there.",
    "colab_met": "A GPU was visible and the fixed eval cases show the small model failing the gate: a larger model is justified.",
    "colab_not_met": "A GPU was visible, and {run} already passes the gate: a larger model is not justified.",
    "rented_fail": "The fixed eval cases do not pass on the served model yet.",
    "rented_no_service": "The served model passes the gate, but this profile needs no service, so one-off generation is enough.",
    "rented_no_bench": "The served model passes the gate, but no benchmark shows how the service behaves under load.",
    "rented_met": "The fixed eval cases pass on the served model, and the profile needs a service measured under load.",
    "memory": "memory check: the estimator within {error:.1f}% of measured peak memory on {rows} model/runtime/dtype rows",
    "not_gathered": "No evidence has been read for this record yet.",
    "move": "move to candidate_2 ({model} on {runtime})",
    "move_none": "no catalogue model covers the must-haves beyond the first candidate: use the fallback",
}
SAYS = sentences(SAYS)  # read in the current language (helpers.core.i18n)
HEADLINES = {MET: "upgrade signal met", NOT_MET: "not met", CANNOT_TELL: "cannot tell yet"}
HEADLINES = sentences(HEADLINES)  # read in the current language (helpers.core.i18n)


class GateError(ValueError):
    """A gate file that cannot be used; names the file and the problem."""


@dataclass(frozen=True)
class Gate:
    """The thresholds of ``gate.json``: the pass share and the cases each must-have requires."""

    pass_share: float
    required_cases: dict[str, tuple[str, ...]]

    def required_for(self, must_have: tuple[str, ...]) -> tuple[str, ...]:
        """The cases a run must pass for these must-haves, language and JSON cases first."""
        listed = [
            need for need in ("zh_en_answers", "stable_json", *must_have) if need in must_have and need in self.required_cases
        ]
        groups = listed or ["default"]
        return tuple(dict.fromkeys(case for need in groups for case in self.required_cases[need]))

    def passes(self, run: EvalRun, required: tuple[str, ...]) -> bool:
        s = run.summary
        return s.cases > 0 and s.passed / s.cases >= self.pass_share and all(case in s.passed_cases for case in required)


def load_gate(path: Path | None = None, case_ids: tuple[str, ...] = ()) -> Gate:
    """Read the gate; a missing file, bad JSON or a case id no case file holds is a :class:`GateError`."""
    path = path or GATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        gate = Gate(float(data["pass_share"]), {k: tuple(v) for k, v in data["required_cases"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise GateError(
            f"{relative(path)} cannot be used ({error}); restore it from git (git checkout -- {relative(path)})."
        ) from None
    if not 0 < gate.pass_share <= 1 or "default" not in gate.required_cases:
        raise GateError(f"{relative(path)}: pass_share must be in (0, 1] and required_cases must have a 'default' list.")
    unknown = sorted({c for cases in gate.required_cases.values() for c in cases} - set(case_ids)) if case_ids else []
    if unknown:
        raise GateError(
            f"{relative(path)} requires cases no case file holds: {', '.join(unknown)}. Fix the ids or add the cases."
        )
    return gate


@dataclass(frozen=True)
class CardVerdict:
    """One route card's upgrade signal, judged: the status, one sentence, the rows cited, and what to run."""

    route: str
    signal: str
    status: str
    says: str
    rows: tuple[str, ...]
    next_step: str = ""
    run: str = ""
    brief: str = ""

    @property
    def headline(self) -> str:
        if self.status == MET:
            return f"{HEADLINES[MET]}: {self.next_step}"
        if self.status == CANNOT_TELL:
            return _("{headline} (run {run})").format(headline=HEADLINES[CANNOT_TELL], run=self.run)
        return HEADLINES[NOT_MET]

    def to_json(self) -> dict:
        return {**asdict(self), "rows": list(self.rows), "headline": self.headline}

    @classmethod
    def from_json(cls, data: dict) -> CardVerdict:
        return cls(**{k: v for k, v in data.items() if k != "headline"} | {"rows": tuple(data["rows"])})


@dataclass(frozen=True)
class Verdict:
    """The three route cards judged; ``mine`` is the card of the profile's route."""

    route: str
    cards: tuple[CardVerdict, ...]
    required_cases: tuple[str, ...]
    pass_share: float

    @property
    def mine(self) -> CardVerdict:
        return self.card(self.route)

    def card(self, route: str) -> CardVerdict:
        """The verdict on ``route``'s card (every route's card is judged, whatever the profile's route)."""
        return next(card for card in self.cards if card.route == route)


def _card(route: str, status: str, says: str, rows: tuple[str, ...], next_step: str = "", **extra: str) -> CardVerdict:
    """A verdict on ``route``'s card, its upgrade signal read from the route table."""
    return CardVerdict(route, str(ROUTE_CARDS[route].upgrade_signal), status, says, rows, next_step, **extra)


def _cannot(route: str, says: str, rows: tuple[str, ...] = ()) -> CardVerdict:
    return _card(route, CANNOT_TELL, says, rows, run=str(ROUTE_CARDS[route].run_to_fix))


def _row(run: EvalRun, required: tuple[str, ...]) -> str:
    failing = [case for case in required if case not in run.summary.passed_cases]
    if failing:
        return _("{run} (required cases failing: {cases})").format(run=run.label, cases=", ".join(failing))
    return _("{run} (required cases pass)").format(run=run.label)


def _brief(runs: list[EvalRun]) -> str:
    """The rows a paragraph cites: each model's best run, weakest model first."""
    best: dict[str, EvalRun] = {}
    for run in runs:
        if run.summary.model not in best or run.summary.passed > best[run.summary.model].summary.passed:
            best[run.summary.model] = run
    return "; ".join(r.label for r in sorted(best.values(), key=lambda r: r.summary.passed))


def _doubts(route: str, runs: list[EvalRun], case_count: int) -> CardVerdict | None:
    """Runs that cannot be compared: the same model and runtime disagreeing, or scored on another case set."""
    seen: dict[tuple, EvalRun] = {}
    for run in runs:
        s = run.summary
        key = (s.model, s.runtime, s.constrained)
        if key in seen and set(seen[key].summary.passed_cases) != set(s.passed_cases):
            pair = f"{seen[key].label} ({seen[key].path}) against {run.label} ({run.path})"
            return _cannot(route, SAYS["disagree"].format(runs=pair), (seen[key].label, run.label))
        seen[key] = run
    stale = next((r for r in runs if case_count and r.summary.cases != case_count), None)
    if stale:
        return _cannot(
            route,
            SAYS["stale"].format(runs=stale.label, path=stale.path, cases=stale.summary.cases, now=case_count),
            (stale.label,),
        )
    return None


def _move(decision: Decision) -> str:
    second = decision.candidate_2
    return SAYS["move"].format(model=second.model, runtime=second.runtime) if second else SAYS["move_none"]


def _upgrade_signal(
    route: str, says: str, decision: Decision, gate: Gate, required: tuple[str, ...], runs: list[EvalRun], rows: tuple[str, ...]
) -> CardVerdict:
    """A route that is enough keeps its place: the upgrade signal is met only when no run passes the gate."""
    passing = [r for r in runs if gate.passes(r, required)]
    if passing:
        not_met = SAYS[f"{says}_not_met"].format(run=passing[0].label)
        return _card(route, NOT_MET, not_met, rows, brief=_brief(runs))
    return CardVerdict(
        route, str(ROUTE_CARDS[route].upgrade_signal), MET, SAYS[f"{says}_met"], rows, _move(decision), brief=_brief(runs)
    )


def _local(decision: Decision, evidence: Evidence, gate: Gate, required: tuple[str, ...], runs: list[EvalRun]) -> CardVerdict:
    route = "local_cpu"
    rows = tuple(_row(r, required) for r in runs)
    if evidence.memory is not None:
        rows += (SAYS["memory"].format(error=evidence.memory.worst_error_pct, rows=evidence.memory.rows),)
    return _upgrade_signal(route, "local", decision, gate, required, runs, rows)


def _colab(decision: Decision, evidence: Evidence, gate: Gate, required: tuple[str, ...], runs: list[EvalRun]) -> CardVerdict:
    route = "free_colab"
    if evidence.colab is None:
        return _cannot(route, SAYS["colab_missing"])
    on_gpu = [step for step in evidence.colab.steps if step.plan.device == "cuda"]
    if not on_gpu:
        devices = (
            ", ".join(f"{step.plan.model.split('/')[-1]} on {step.plan.device}" for step in evidence.colab.steps) or "no steps"
        )
        return CardVerdict(
            route,
            str(ROUTE_CARDS[route].upgrade_signal),
            NOT_MET,
            SAYS["colab_no_gpu"].format(device=devices),
            (devices,),
            brief=devices,
        )
    scored = [EvalRun(step.eval, "outputs/colab_run.json", "", "") for step in on_gpu] + runs
    rows = tuple(_row(r, required) for r in scored)
    return _upgrade_signal(route, "colab", decision, gate, required, scored, rows)


def _rented(decision: Decision, evidence: Evidence, gate: Gate, required: tuple[str, ...], runs: list[EvalRun]) -> CardVerdict:
    route = "rented_gpu"
    rows = tuple(_row(r, required) for r in runs)
    passing = [r for r in runs if gate.passes(r, required)]
    if not passing:
        return _card(route, NOT_MET, SAYS["rented_fail"], rows, brief=_brief(runs))
    if not decision.profile.service_needed:
        return CardVerdict(
            route, str(ROUTE_CARDS[route].upgrade_signal), NOT_MET, SAYS["rented_no_service"], rows, brief=_brief(runs)
        )
    if evidence.benchmark is None:
        return _cannot(route, SAYS["rented_no_bench"], rows)
    return CardVerdict(
        route, str(ROUTE_CARDS[route].upgrade_signal), MET, SAYS["rented_met"], rows, _move(decision), brief=_brief(runs)
    )


JUDGES = {"local_cpu": _local, "free_colab": _colab, "rented_gpu": _rented}


def judge(decision: Decision, evidence: Evidence | None, gate: Gate | None = None) -> Verdict:
    """Each route card's verdict from the evidence. ``evidence=None`` (a draft) cannot tell anything yet."""
    gate = gate or load_gate(case_ids=evidence.case_ids if evidence else ())
    required = gate.required_for(decision.profile.must_have)
    cards = []
    for route, judge_card in JUDGES.items():
        if evidence is None:
            cards.append(_cannot(route, SAYS["not_gathered"]))
            continue
        broken = [
            s
            for s in evidence.sources.values()
            if s.status == UNREADABLE and (s.name == "evals" or s.name in ROUTE_CARDS[route].evidence)
        ]
        if broken or (evidence.eval_problems and route != "free_colab"):
            problem = broken[0].message if broken else evidence.eval_problems[0]
            cards.append(_cannot(route, SAYS["unreadable"].format(problem=problem)))
            continue
        runs = [r for r in evidence.runs if runtime_key(r.summary.runtime) in ROUTE_CARDS[route].runtimes]
        doubt = _doubts(route, runs, len(evidence.case_ids))
        if doubt:
            cards.append(doubt)
        elif not runs and route != "free_colab":
            cards.append(_cannot(route, SAYS["no_runs"]))
        else:
            cards.append(judge_card(decision, evidence, gate, required, runs))
    return Verdict(decision.profile.route, tuple(cards), required, gate.pass_share)
