"""Capacity at an SLO: the highest request rate whose P90 latencies stay within the limits.

The search follows ``vllm bench serve``'s SLA sweep and GuideLLM's goodput
search: open-loop arrivals at a rate, doubling until a rate misses the SLO,
then bisection between the last rate that met it and the first that did not,
until the two are within ``tolerance`` of each other. The best rate is then
measured once more; if the repeat disagrees, or a higher rate met the SLO
while a lower one missed, the answer is "indeterminate", not a number.

A probe that fails outright (the server died, the tunnel closed) stops the
search with what was measured so far. A probe the client could not keep up
with is invalid: the search stops there and says the client was the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV
from helpers.runtimes.client import ServingError
from helpers.serving.load import run_rate
from helpers.serving.metrics import Level, check_slo, slo_text

STATUSES = {
    "found": "the highest rate that met the SLO, within the tolerance",
    "indeterminate": "repeated or neighbouring runs disagreed",
    "none_meets": "even the lowest rate tried missed the SLO",
    "above_search_limit": "every rate up to the search limit met the SLO",
    "client_limited": "the client fell behind before the server missed the SLO",
    "aborted": "the server stopped answering during the search",
}


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


@dataclass
class Capacity:
    """The result of a capacity search, with every point it measured."""

    slo: dict[str, float]
    max_request_rate: float | None
    output_tokens_per_s_at_capacity: float | None
    method: str
    status: str
    tolerance: float
    points: list[CapacityPoint] = field(default_factory=list)
    note: str = ""

    @property
    def found(self) -> bool:
        return self.status == "found" and self.max_request_rate is not None

    @property
    def lower_bound(self) -> bool:
        """The search stopped early (the client fell behind, the search limit, the server went away) after a rate met
        the SLO: ``max_request_rate`` then met it, and the real capacity is at least that."""
        return self.status in ("client_limited", "above_search_limit", "aborted") and self.max_request_rate is not None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Capacity:
        data = dict(data)
        data["points"] = [CapacityPoint(**p) for p in data.get("points", [])]
        return cls(**data)


def level_meets(level: Level, slo_ms: dict[str, float]) -> bool:
    """P90 of every limited metric within its limit, and no failed request."""
    return level.meets(slo_ms, "p90") and level.failures == 0


def _server_gone(level: Level) -> bool:
    return level.completed == 0 and all(reason.startswith("connection error") for reason in level.failure_reasons)


def _check_search(start_rate: float, max_rate: float, tolerance: float) -> None:
    if start_rate <= 0 or max_rate < start_rate:
        raise ServingError(
            _("The search needs 0 < start_rate <= max_rate; got start_rate={start}, max_rate={max}.").format(
                start=repr(start_rate), max=repr(max_rate)
            )
        )
    if not 0 < tolerance < 1:
        raise ServingError(
            _("tolerance is a fraction between 0 and 1 (0.1 = within 10%); got {value}.").format(value=repr(tolerance))
        )


@dataclass
class _Search:
    """One search in progress: what it probes with and against, and every point measured so far."""

    probe: Callable[[float], Level]
    slo: dict[str, float]
    method: str
    tolerance: float
    points: list[CapacityPoint] = field(default_factory=list)
    levels: dict[float, Level] = field(default_factory=dict)

    def measure(self, rate: float) -> CapacityPoint:
        try:
            level = self.probe(rate)
        except Exception as error:  # a probe that cannot run is recorded, and the search stops
            point = CapacityPoint(rate, False, False, None, None, None, 0.0, 0, f"probe failed: {type(error).__name__}: {error}")
        else:
            self.levels[rate] = level
            note = level.invalid_reason or (_("the server stopped answering") if _server_gone(level) else None)
            point = CapacityPoint(
                rate,
                level_meets(level, self.slo),
                level.valid and not _server_gone(level),
                level.ttft_ms.p90,
                level.tpot_ms.p90,
                level.e2el_ms.p90,
                level.output_throughput,
                level.failures,
                note,
            )
        self.points.append(point)
        return point

    def result(self, status: str, best: float | None, note: str) -> Capacity:
        throughput = self.levels[best].output_throughput if best in self.levels else None
        return Capacity(self.slo, best, throughput, self.method, status, self.tolerance, self.points, note)

    def stopped(self, point: CapacityPoint, low: float | None) -> Capacity:
        """An invalid point ends the search: the client was the limit, or the server went away."""
        status = "client_limited" if point.note and "client" in point.note else "aborted"
        stopped = _("stopped at {rate:g} req/s: {note}.").format(rate=point.request_rate, note=point.note)
        after = _("Capacity is at least {low:g} req/s.").format(low=low) if low else _("No rate was measured validly.")
        return self.result(status, low, f"{stopped} {after}")


def _double(search: _Search, start_rate: float, max_rate: float) -> Capacity | tuple[float, float]:
    """Double the rate until one misses the SLO: the last rate that met it and the first that did not, or the answer."""
    low, high, rate = None, None, start_rate
    while rate <= max_rate:
        point = search.measure(rate)
        if not point.valid:
            return search.stopped(point, low)
        if not point.meets:
            high = rate
            break
        low, rate = rate, rate * 2
    if low is None:
        return search.result(
            "none_meets",
            None,
            _("{rate:g} req/s already misses the SLO ({slo}).").format(rate=start_rate, slo=slo_text(search.slo)),
        )
    if high is None:
        note = _("every rate up to {low:g} req/s met the SLO; raise max_rate to look further.").format(low=low)
        return search.result("above_search_limit", low, note)
    return low, high


def _bisect(search: _Search, low: float, high: float) -> Capacity | tuple[float, float]:
    """Halve the bracket until its bounds are within the tolerance; an invalid point stops there."""
    while (high - low) / high > search.tolerance:
        middle = round((low + high) / 2, 4)
        point = search.measure(middle)
        if not point.valid:
            return search.stopped(point, low)
        low, high = (middle, high) if point.meets else (low, middle)
    return low, high


def _confirm(search: _Search, low: float, high: float) -> Capacity:
    """Measure the best rate again: found only if it meets the SLO twice and no lower rate missed it."""
    repeat = search.measure(low)
    disagree = [p.request_rate for p in search.points if p.valid and not p.meets and p.request_rate <= low]
    if not repeat.meets or disagree:
        return search.result(
            "indeterminate",
            None,
            (
                _(
                    "runs disagree: {low:g} req/s met the SLO once, but missed it on the repeat; "
                    "measure with more requests per point, or on a quieter machine."
                )
                if not repeat.meets
                else _(
                    "runs disagree: {low:g} req/s met the SLO once, but {other:g} req/s missed it; "
                    "measure with more requests per point, or on a quieter machine."
                )
            ).format(low=low, other=disagree[0] if disagree else 0),
        )
    return search.result("found", low, _("{low:g} req/s met the SLO twice; {high:g} req/s did not.").format(low=low, high=high))


def search_capacity(
    probe: Callable[[float], Level],
    slo_ms: dict[str, float] | None = None,
    *,
    start_rate: float = 0.5,
    max_rate: float = 64.0,
    tolerance: float = 0.1,
    probe_description: str = "",
) -> Capacity:
    """Doubling from ``start_rate`` then bisection to ``tolerance`` (relative), with a confirming repeat.

    ``probe(rate)`` runs one open-loop level at ``rate`` req/s (see :func:`helpers.serving.load.run_rate`).
    """
    slo = check_slo(slo_ms)
    _check_search(start_rate, max_rate, tolerance)
    method = _(
        "open-loop arrivals ({arrivals}); doubling from {start:g} req/s up to {max:g}, "
        "then bisection until the bounds are within {tolerance:.0%}; a rate meets the SLO when the P90 of "
        "{slo} holds with no failed request; the best rate is measured again to confirm"
    ).format(arrivals=probe_description or "Poisson", start=start_rate, max=max_rate, tolerance=tolerance, slo=slo_text(slo))
    search = _Search(probe, slo, method, tolerance)
    bracket = _double(search, start_rate, max_rate)
    if isinstance(bracket, Capacity):
        return bracket
    bracket = _bisect(search, *bracket)
    if isinstance(bracket, Capacity):
        return bracket
    return _confirm(search, *bracket)


def measure_capacity(
    base_urls: str | list[str],
    model: str,
    prompts: list[list[dict]],
    *,
    slo_ms: dict[str, float] | None = None,
    max_rate: float = 16.0,
    tolerance: float = 0.25,
    seconds_per_point: float = 6.0,
    min_requests: int = 8,
    max_tokens: int = 32,
    api_key_env: str = API_KEY_ENV,
    extra_body: dict | None = None,
) -> Capacity:
    """:func:`search_capacity` with open-loop Poisson probes against real endpoints."""

    def probe(rate: float) -> Level:
        return run_rate(
            base_urls,
            model,
            prompts,
            rate,
            slo_ms=check_slo(slo_ms),
            requests=min_requests,
            duration_s=seconds_per_point,
            max_tokens=max_tokens,
            api_key_env=api_key_env,
            extra_body=extra_body,
        )

    description = _("Poisson, at least {requests} requests and {seconds:g} s of arrivals per point").format(
        requests=min_requests, seconds=seconds_per_point
    )
    return search_capacity(probe, slo_ms, max_rate=max_rate, tolerance=tolerance, probe_description=description)
