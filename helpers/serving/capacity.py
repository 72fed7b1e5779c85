"""Capacity at an SLO: the highest request rate whose P90 latencies stay within the limits on every trial.

The search follows ``vllm bench serve``'s SLA sweep and GuideLLM's goodput search: open-loop arrivals at a rate,
doubling until a rate misses the SLO, then bisection between the last rate that met it and the first that did not,
until the two are within ``tolerance`` of each other.

One point is one noisy sample, and the best point was picked *because* it met the SLO, so it proves nothing on its
own (one notebook gave 12 req/s, 10 req/s and "indeterminate" on three runs). The best rate is measured
``trials`` more times, fresh, each with its own arrival schedule, and is **confirmed** only when every trial meets the
SLO; if one misses, the next lower rate that met in the search is tried the same way. Every trial is kept
(``Capacity.trials``), and an unconfirmed rate is never reported, so nothing
downstream (cost, replicas) can price it.

A rate meets the SLO when the P90 of every limited metric is within its limit and no request failed. A probe that
fails outright (the server died, the tunnel closed) stops the search; so does one the client could not keep up with
(the client's limit). No probe starts once the time left in ``budget_s`` is shorter than the last probe took.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV
from helpers.runtimes.client import ServingError
from helpers.serving.load import run_rate
from helpers.serving.metrics import Level, check_slo, slo_text

STATUSES = {
    "found": "the highest rate that met the SLO on every trial; a rate above it missed",
    "indeterminate": "no rate met the SLO on every one of its trials",
    "none_meets": "even the lowest rate tried missed the SLO",
    "above_search_limit": "every rate up to the search limit met the SLO, the limit on every trial",
    "client_limited": "the client fell behind before the server missed the SLO",
    "aborted": "the server stopped answering during the search",
    "out_of_time": "the time budget ran out before a rate was confirmed",
}
#: Fresh trials a rate must pass, all of them, to be reported as capacity (issue 23: at least three).
TRIALS = 3


@dataclass
class CapacityPoint:
    request_rate: float
    meets: bool
    valid: bool
    ttft_p90_ms: float | None
    tpot_p90_ms: float | None
    e2el_p90_ms: float | None
    output_throughput: float
    failures: int
    note: str | None = None
    completed: int = 0
    output_tokens_per_request: float | None = None


@dataclass
class Capacity:
    """The result of a capacity search: every search point, every confirming trial, and the rate that held."""

    slo: dict[str, float]
    max_request_rate: float | None
    output_tokens_per_s_at_capacity: float | None
    method: str
    status: str
    tolerance: float
    points: list[CapacityPoint] = field(default_factory=list)
    note: str = ""
    trials: list[CapacityPoint] = field(default_factory=list)
    required_trials: int = TRIALS
    elapsed_s: float | None = None

    @property
    def confirmed(self) -> bool:
        """``max_request_rate`` met the SLO on every one of at least ``required_trials`` trials."""
        held = [t for t in self.trials if t.request_rate == self.max_request_rate]
        return self.max_request_rate is not None and len(held) >= self.required_trials and all(t.meets for t in held)

    @property
    def found(self) -> bool:
        return self.status == "found" and self.confirmed

    @property
    def lower_bound(self) -> bool:
        """The search stopped before a rate missed (the search limit, the client): the confirmed rate is a floor."""
        return self.status in ("client_limited", "above_search_limit") and self.confirmed

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Capacity:
        data = dict(data)
        for name in ("points", "trials"):
            data[name] = [CapacityPoint(**p) for p in data.get(name, [])]
        return cls(**data)


def _check_search(start_rate: float, max_rate: float, tolerance: float, trials: int) -> None:
    if start_rate <= 0 or max_rate < start_rate:
        wrong = _("The search needs 0 < start_rate <= max_rate; got start_rate={start}, max_rate={max}.")
        raise ServingError(wrong.format(start=repr(start_rate), max=repr(max_rate)))
    if not 0 < tolerance < 1:
        wrong = _("tolerance is a fraction between 0 and 1 (0.1 = within 10%); got {value}.")
        raise ServingError(wrong.format(value=repr(tolerance)))
    if not isinstance(trials, int) or trials < TRIALS:
        wrong = _("trials must be a whole number of at least {least}; got {value}.")
        raise ServingError(wrong.format(least=TRIALS, value=repr(trials)))


@dataclass
class _Search:
    """One search in progress: what it probes with and against, its clock, and every point measured so far."""

    probe: Callable[[float], Level]
    slo: dict[str, float]
    method: str
    tolerance: float
    budget_s: float | None
    clock: Callable[[], float]
    required: int
    points: list[CapacityPoint] = field(default_factory=list)
    trials: list[CapacityPoint] = field(default_factory=list)
    gone: bool = False
    last_probe_s: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def measure(self, rate: float, into: list[CapacityPoint]) -> CapacityPoint:
        began = self.clock()
        if self.budget_s is not None and began - self.started + self.last_probe_s > self.budget_s:
            raise TimeoutError  # the budget cannot fit another probe (a probe's own timeouts are caught below)
        try:
            level = self.probe(rate)
        except Exception as error:  # a probe that cannot run is recorded, and the search stops
            point = CapacityPoint(rate, False, False, None, None, None, 0.0, 0, f"probe failed: {type(error).__name__}: {error}")
            self.gone = True
        else:
            gone = level.completed == 0 and all(why.startswith("connection error") for why in level.failure_reasons)
            self.gone = self.gone or gone
            per_request = round(level.output_throughput * level.duration_s / level.completed, 2) if level.completed else None
            meets = level.meets(self.slo, "p90") and not level.failures
            point = CapacityPoint(
                rate, meets, level.valid and not gone, level.ttft_ms.p90, level.tpot_ms.p90, level.e2el_ms.p90,
                level.output_throughput, level.failures,
                level.invalid_reason or (_("the server stopped answering") if gone else None), level.completed, per_request,
            )  # fmt: skip
        self.last_probe_s = self.clock() - began
        into.append(point)
        return point

    def result(self, status: str, rate: float | None, note: str) -> Capacity:
        held = [t for t in self.trials if t.request_rate == rate and t.output_tokens_per_request is not None]
        tokens = round(rate * sum(t.output_tokens_per_request for t in held) / len(held), 2) if rate and held else None
        elapsed = round(self.clock() - self.started, 1)
        return Capacity(
            self.slo, rate, tokens, self.method, status, self.tolerance, self.points, note, self.trials, self.required, elapsed
        )


#: What the search phase ends with: its status, the best rate that met the SLO once, the first that missed, a note.
Searched = tuple[str, float | None, float | None, str]


def _stopped(search: _Search, point: CapacityPoint, low: float | None) -> Searched:
    status = "aborted" if search.gone else "client_limited"
    return status, low, None, _("stopped at {rate:g} req/s: {note}.").format(rate=point.request_rate, note=point.note)


def _search(search: _Search, start_rate: float, max_rate: float) -> Searched:
    """Doubling, then bisection, one point per rate."""
    low, high, rate = None, None, start_rate
    while rate <= max_rate:
        point = search.measure(rate, search.points)
        if not point.valid:
            return _stopped(search, point, low)
        if not point.meets:
            high = rate
            break
        low, rate = rate, rate * 2
    if low is None:
        note = _("{rate:g} req/s already misses the SLO ({slo}).").format(rate=start_rate, slo=slo_text(search.slo))
        return "none_meets", None, None, note
    if high is None:
        note = _("every rate up to {low:g} req/s met the SLO; raise max_rate to look further.").format(low=low)
        return "above_search_limit", low, None, note
    while (high - low) / high > search.tolerance:
        point = search.measure(round((low + high) / 2, 4), search.points)
        if not point.valid:
            return _stopped(search, point, low)
        low, high = (point.request_rate, high) if point.meets else (low, point.request_rate)
    return "found", low, high, ""


def _confirm(search: _Search, best: float, trials: int) -> tuple[float | None, list[str]]:
    """Fresh trials at ``best``, then at each lower rate that met in the search, until one meets on every trial."""
    candidates = sorted({p.request_rate for p in search.points if p.meets and p.request_rate <= best}, reverse=True)
    missed = []
    for rate in candidates:
        for number in range(1, trials + 1):
            point = search.measure(rate, search.trials)
            if search.gone:
                return None, missed
            if not point.meets:
                why = _("{rate:g} req/s missed it on trial {n} of {trials}") if point.valid else _(
                    "{rate:g} req/s could not be measured on trial {n} of {trials} ({note})")  # fmt: skip
                missed.append(why.format(rate=rate, n=number, trials=trials, note=point.note))
                break
        else:
            return rate, missed
    return None, missed


def _conclude(search: _Search, searched: Searched, trials: int) -> Capacity:
    status, best, high, note = searched
    if status in ("none_meets", "aborted") or best is None:
        return search.result(status, None, note or _("No rate was measured validly."))
    rate, missed = _confirm(search, best, trials)
    if search.gone:
        return search.result("aborted", None, _("the server stopped answering during the trials."))
    held = _("{rate:g} req/s met the SLO on all {trials} trials").format(rate=rate, trials=trials) if rate else ""
    story = "; ".join([*missed, held] if held else missed)
    if rate is None:
        advice = _("measure with longer points, or on a quieter machine.")
        note = _("no rate held on every trial: {story}; {advice}").format(story=story, advice=advice)
        return search.result("indeterminate", None, note)
    if rate < best or status == "found":
        above = "" if rate < best else "; " + _("{high:g} req/s missed it in the search").format(high=high)
        return search.result("found", rate, f"{story}{above}.")
    return search.result(status, rate, f"{note} {story}.")


def search_capacity(
    probe: Callable[[float], Level], slo_ms: dict[str, float] | None = None, *, start_rate: float = 0.5,
    max_rate: float = 64.0, tolerance: float = 0.1, trials: int = TRIALS, budget_s: float | None = None,
    probe_description: str = "", clock: Callable[[], float] = time.monotonic,
) -> Capacity:  # fmt: skip
    """Doubling from ``start_rate``, bisection to ``tolerance`` (relative), then ``trials`` fresh trials at the best rate.

    ``probe(rate)`` runs one open-loop level at ``rate`` req/s (see :func:`helpers.serving.load.run_rate`).
    """
    slo = check_slo(slo_ms)
    _check_search(start_rate, max_rate, tolerance, trials)
    method = _(
        "open-loop arrivals ({arrivals}); doubling from {start:g} req/s up to {max:g}, "
        "then bisection until the bounds are within {tolerance:.0%}; a rate meets the SLO when the P90 of "
        "{slo} holds with no failed request; the best rate is then measured {trials} more times, and is capacity only "
        "if all {trials} meet the SLO (else the next lower rate that met is tried); output tok/s at capacity is that "
        "rate times the output tokens per request its trials measured"
    ).format(arrivals=probe_description or "Poisson", start=start_rate, max=max_rate, tolerance=tolerance,
             slo=slo_text(slo), trials=trials)  # fmt: skip
    search = _Search(probe, slo, method, tolerance, budget_s, clock, trials)
    try:
        return _conclude(search, _search(search, start_rate, max_rate), trials)
    except TimeoutError:
        note = _("the {budget:g} s budget ran out before a rate was confirmed.").format(budget=budget_s)
        return search.result("out_of_time", None, note)


def measure_capacity(
    base_urls: str | list[str], model: str, prompts: list[list[dict]], *, slo_ms: dict[str, float] | None = None,
    start_rate: float = 1.0, max_rate: float = 16.0, tolerance: float = 0.25, seconds_per_point: float = 10.0,
    min_requests: int = 8, trials: int = TRIALS, budget_s: float | None = 240.0, max_tokens: int = 32,
    api_key_env: str = API_KEY_ENV, extra_body: dict | None = None,
) -> Capacity:  # fmt: skip
    """:func:`search_capacity` with open-loop Poisson probes against real endpoints, each with its own seed."""
    seeds = itertools.count()

    def probe(rate: float) -> Level:
        return run_rate(
            base_urls, model, prompts, rate, slo_ms=check_slo(slo_ms), requests=min_requests, duration_s=seconds_per_point,
            max_tokens=max_tokens, seed=next(seeds), api_key_env=api_key_env, extra_body=extra_body,
        )  # fmt: skip

    description = _("Poisson, at least {requests} requests and {seconds:g} s of arrivals per point").format(
        requests=min_requests, seconds=seconds_per_point
    )
    return search_capacity(
        probe, slo_ms, start_rate=start_rate, max_rate=max_rate, tolerance=tolerance, trials=trials, budget_s=budget_s,
        probe_description=description,
    )  # fmt: skip
