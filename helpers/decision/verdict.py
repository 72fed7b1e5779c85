"""The upgrade verdict: each route card's upgrade signal, judged from the evidence alone.

:func:`judge` reads a decision and the evidence in ``outputs/`` and says, per card, *upgrade signal met*, *not met* or
*cannot tell yet* (with what to run), citing the eval rows it used against the gate (``data/eval_cases/gate.json``).
Evidence of another model or another case set is named and not counted: route 3 is met only when its benchmark
measured the model whose eval passed, with its requests completing. The paragraph (``helpers.decision.record``) is
written from the verdict, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from helpers.core.i18n import _, sentences
from helpers.decision import Decision
from helpers.decision.candidates import absent, counts_for, short, sibling_name
from helpers.decision.evidence import UNREADABLE, Completion, EvalRun, Evidence, other_case_set, runtime_key
from helpers.decision.rule import Gate, load_gate
from helpers.routes.cards import ROUTE_CARDS
from helpers.shelf.models import stand_in

MET, NOT_MET, CANNOT_TELL = "met", "not_met", "cannot_tell"

#: Every sentence the verdict says, in one place.
SAYS = {
    "unreadable": "An evidence file cannot be used: {problem}",
    "no_runs": "No eval table speaks for this route yet.",
    "disagree": "Runs of the same model and runtime disagree: {runs}. Rerun so each has one current table.",
    "not_counted": "not counted: {why}",
    "local_met": "The loop ran end to end, and quality is too weak for the target task: no local run passes the gate.",
    "local_not_met": "{run} passes the gate, so quality is not too weak on this route yet.",
    "colab_missing": "No Colab run has been recorded.",
    "colab_no_gpu": "No GPU was visible in the recorded Colab run ({device}), so the signal cannot be met there.",
    "colab_met": "A GPU was visible and the fixed eval cases show the small model failing the gate: a larger model is justified.",
    "colab_not_met": "A GPU was visible, and {run} already passes the gate: a larger model is not justified.",
    "rented_fail": "The fixed eval cases do not pass on the served model yet.",
    "rented_no_service": "The served model passes the gate, but this profile needs no service, so one-off generation is enough.",
    "rented_no_bench": "The served model passes the gate, but no benchmark shows how the service behaves under load.",
    "bench_other_model": "The served model passes the gate ({run}), but {path} measured {measured}, another model, so it is "
    "not counted.",
    "bench_no_levels": "The served model passes the gate ({run}), but {path} reports no load levels, so nothing was measured "
    "under load.",
    "bench_failed": "The served model passes the gate ({run}), but at the levels {path} reports ({levels}) only {completed} of "
    "{requests} requests completed ({share:.0%}; {reasons}), so it does not show the service holding under load and is not "
    "counted.",
    "rented_met": "The fixed eval cases pass on {run}, and {path} measured the same model under load: {completed} of "
    "{requests} requests completed ({share:.0%}) at {levels}; the profile needs a service measured under load.",
    "rerun_model": "notebook 04_rented_gpu_route with model = {model}, so its benchmark measures the model whose eval passed",
    "rerun_failed": "notebook 04_rented_gpu_route once its server completes its requests (read the failure reasons in its "
    "benchmark table)",
    "rehearsal": "These rows are the CPU rehearsal: {model} on {runtime}, served by this machine's CPU ({hardware}) according "
    "to {path}, not by a rented GPU.",
    "no_reason": "no reason recorded",
    "brief": "{runtime}, {mode}: {scores}",
    "free": "unconstrained",
    "constrained": "constrained",
    "memory": "memory check: the estimator within {error:.1f}% of measured peak memory on {rows} model/runtime/dtype rows",
    "not_gathered": "No evidence has been read for this record yet.",
    "move": "move to candidate_2 ({model} on {runtime})",
    "move_sibling": "move to candidate_2 ({model} on {runtime}; offline, {sibling} runs in its place)",
    "move_none": "{why}: use the fallback",
}
SAYS = sentences(SAYS)  # read in the current language (helpers.core.i18n)
HEADLINES = {MET: "upgrade signal met", NOT_MET: "not met", CANNOT_TELL: "cannot tell yet"}
HEADLINES = sentences(HEADLINES)  # read in the current language (helpers.core.i18n)


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

    def passes(self, run: EvalRun) -> bool:
        """Whether ``run`` passes the gate this verdict was judged against."""
        return Gate(self.pass_share, {}).passes(run.summary, self.required_cases)

    def row(self, run: EvalRun) -> str:
        """``run`` as the verdict cites it: its label and the required cases it fails."""
        return _row(run, self.required_cases)


def _card(route: str, status: str, says: str, rows: tuple[str, ...], next_step: str = "", **extra: str) -> CardVerdict:
    """A verdict on ``route``'s card, its upgrade signal read from the route table."""
    return CardVerdict(route, str(ROUTE_CARDS[route].upgrade_signal), status, says, rows, next_step, **extra)


def _cannot(route: str, says: str, rows: tuple[str, ...] = (), run: str = "") -> CardVerdict:
    return _card(route, CANNOT_TELL, says, rows, run=run or str(ROUTE_CARDS[route].run_to_fix))


def _row(run: EvalRun, required: tuple[str, ...]) -> str:
    failing = [case for case in required if case not in run.summary.passed_cases]
    if failing:
        return _("{run} (required cases failing: {cases})").format(run=run.label, cases=", ".join(failing))
    return _("{run} (required cases pass)").format(run=run.label)


def _brief(runs: list[EvalRun]) -> str:
    """The rows a paragraph cites, like with like: per runtime and output mode, each model's best run, weakest first."""
    groups: dict[tuple[str, bool], dict[str, EvalRun]] = {}
    for run in runs:
        s = run.summary
        best = groups.setdefault((runtime_key(s.runtime) or s.runtime, s.constrained), {})
        if s.model not in best or s.passed > best[s.model].summary.passed:
            best[s.model] = run
    parts = []
    for (runtime, constrained), best in sorted(groups.items()):
        ordered = sorted(best.values(), key=lambda r: r.summary.passed)
        scores = ", ".join(f"{short(r.summary.model)} {r.summary.passed}/{r.summary.cases}" for r in ordered)
        parts.append(SAYS["brief"].format(runtime=runtime, mode=SAYS["constrained" if constrained else "free"], scores=scores))
    return "; ".join(parts)


def _disagree(route: str, runs: list[EvalRun]) -> CardVerdict | None:
    """Runs that cannot be compared: the same model, runtime and output mode with different cases passing."""
    seen: dict[tuple, EvalRun] = {}
    for run in runs:
        s = run.summary
        key = (s.model, s.runtime, s.constrained)
        if key in seen and set(seen[key].summary.passed_cases) != set(s.passed_cases):
            pair = f"{seen[key].label} ({seen[key].path}) against {run.label} ({run.path})"
            return _cannot(route, SAYS["disagree"].format(runs=pair), (seen[key].label, run.label))
        seen[key] = run
    return None


def _stand_ins(runs: list[EvalRun]) -> str:
    """A sentence per shelf sibling among the runs: its evidence counts for it, not for the lesson's model it stands in for."""
    return "".join(f" {note}" for note in dict.fromkeys(counts_for(r.summary.model) for r in runs) if note)


def _move(decision: Decision) -> str:
    second = decision.candidate_2
    if second is None:
        p = decision.profile
        why = absent("candidate_2", p.must_have, decision.memory_gb, decision.memory_kind, decision.candidate_1 is not None)
        return SAYS["move_none"].format(why=why[:1].upper() + why[1:])
    if (sibling := stand_in(second.model)) is None:
        return SAYS["move"].format(model=second.model, runtime=_(second.runtime))
    named = sibling_name(sibling.name, second.estimator_runtime)
    return SAYS["move_sibling"].format(model=second.model, runtime=_(second.runtime), sibling=named)


def _upgrade_signal(
    route: str, says: str, decision: Decision, gate: Gate, required: tuple[str, ...], runs: list[EvalRun], rows: tuple[str, ...]
) -> CardVerdict:
    """A route that is enough keeps its place: the upgrade signal is met only when no run passes the gate."""
    passing = [r for r in runs if gate.passes(r.summary, required)]
    if passing:
        not_met = SAYS[f"{says}_not_met"].format(run=passing[0].label) + _stand_ins(runs)
        return _card(route, NOT_MET, not_met, rows, brief=_brief(runs))
    return _card(route, MET, SAYS[f"{says}_met"] + _stand_ins(runs), rows, _move(decision), brief=_brief(runs))


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
        devices = ", ".join(f"{short(step.plan.model)} on {step.plan.device}" for step in evidence.colab.steps) or "no steps"
        return _card(route, NOT_MET, SAYS["colab_no_gpu"].format(device=devices), (devices,), brief=devices)
    steps = [EvalRun(step.eval, "outputs/colab_run.json", "", "") for step in on_gpu]
    judged = [(r, other_case_set(r, evidence.case_ids)) for r in steps]
    aside = tuple(SAYS["not_counted"].format(why=why) for _, why in judged if why)
    scored = [r for r, why in judged if not why] + runs
    if not scored:
        return _cannot(route, " ".join(aside), aside)
    card = _upgrade_signal(route, "colab", decision, gate, required, scored, tuple(_row(r, required) for r in scored))
    return replace(card, rows=card.rows + aside)


def _rehearsal(evidence: Evidence, runs: list[EvalRun]) -> str:
    """The sentence that says the rows are the CPU rehearsal, when the same model's benchmark was served by this CPU."""
    bench = evidence.benchmark
    origin = bench.origin if bench else None
    served = ", ".join(dict.fromkeys(r.summary.runtime for r in runs if bench and r.summary.model == bench.model))
    if origin is None or (origin.kind, origin.device) != ("this_machine", "cpu") or not served:
        return ""
    where = evidence.sources["benchmark"].path
    return " " + SAYS["rehearsal"].format(model=short(bench.model), runtime=served, hardware=origin.hardware, path=where)


def _benchmark(evidence: Evidence, passing: list[EvalRun]) -> tuple[str, str, str]:
    """The benchmark read against the runs that pass the gate: (status, what it says, what to rerun)."""
    served, path = Completion.of(evidence.benchmark), evidence.sources["benchmark"].path
    run = next((r for r in passing if r.summary.model == served.model), None)
    if run is None:
        says = SAYS["bench_other_model"].format(run=passing[0].label, path=path, measured=served.model)
        return CANNOT_TELL, says, SAYS["rerun_model"].format(model=passing[0].summary.model)
    if not served.requests:
        return CANNOT_TELL, SAYS["bench_no_levels"].format(run=run.label, path=path), ""
    numbers = {"run": run.label, "path": path, "levels": ", ".join(served.loads), "completed": served.completed,
               "requests": served.requests, "share": served.share}  # fmt: skip
    if not served.holds:
        listed = ", ".join(f"{reason}: {count}" for reason, count in served.reasons.items()) or SAYS["no_reason"]
        return CANNOT_TELL, SAYS["bench_failed"].format(**numbers, reasons=listed), SAYS["rerun_failed"]
    return MET, SAYS["rented_met"].format(**numbers), ""


def _rented(decision: Decision, evidence: Evidence, gate: Gate, required: tuple[str, ...], runs: list[EvalRun]) -> CardVerdict:
    """Met only when a served run passes the gate and the benchmark measured that model with its requests completing."""
    route = "rented_gpu"
    rows = tuple(_row(r, required) for r in runs)
    where = _stand_ins(runs) + _rehearsal(evidence, runs)
    passing = [r for r in runs if gate.passes(r.summary, required)]
    if not passing:
        return _card(route, NOT_MET, SAYS["rented_fail"] + where, rows, brief=_brief(runs))
    if not decision.profile.service_needed:
        return _card(route, NOT_MET, SAYS["rented_no_service"] + where, rows, brief=_brief(runs))
    if evidence.benchmark is None:
        return _cannot(route, SAYS["rented_no_bench"] + where, rows)
    status, says, run = _benchmark(evidence, passing)
    if status == CANNOT_TELL:
        return _cannot(route, says + where, rows, run)
    return _card(route, MET, says + where, rows, _move(decision), brief=_brief(runs))


JUDGES = {"local_cpu": _local, "free_colab": _colab, "rented_gpu": _rented}


def judge(decision: Decision, evidence: Evidence | None, gate: Gate | None = None) -> Verdict:
    """Each route card's verdict from the evidence. ``evidence=None`` (a draft) cannot tell anything yet.

    Runs scored on another case set are named on the card ("not counted") and left out of its judgement.
    """
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
        aside = {r.path: why for r in runs if (why := other_case_set(r, evidence.case_ids))}
        runs = [r for r in runs if r.path not in aside]
        card = _disagree(route, runs)
        if card is None and not runs and route != "free_colab":
            card = _cannot(route, " ".join(aside.values()) or SAYS["no_runs"])
        card = card or judge_card(decision, evidence, gate, required, runs)
        cards.append(replace(card, rows=card.rows + tuple(SAYS["not_counted"].format(why=w) for w in aside.values())))
    return Verdict(decision.profile.route, tuple(cards), required, gate.pass_share)
