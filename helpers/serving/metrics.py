"""Benchmark arithmetic: every metric the kit reports, defined once, beside the code that computes it.

The definitions are vLLM's (``vllm bench serve``), so the two can be compared
number for number. Per request, from :class:`~helpers.serving.stream.StreamResult`:

=============  ======================================================================
metric         definition
=============  ======================================================================
TTFT           first chunk with content − request sent
E2EL           last chunk with a choice − request sent (vLLM's "latency")
ITL            each gap between consecutive chunks with a choice, from the first
               with content on
TPOT           (E2EL − TTFT) / (output tokens − 1); none for fewer than 2 tokens
output tokens  ``usage.completion_tokens`` of the last chunk; the chunk count only
               when the server sends no usage (said in ``tokens_from``)
=============  ======================================================================

Per level (a set of requests run together, lasting ``duration``):

==================  =================================================================
request throughput  completed requests / duration
output throughput   output tokens of completed requests / duration
goodput             requests meeting every SLO limit / duration
SLO attainment      % of all requests (failures count as misses) meeting every limit
percentiles         mean, median, P90, P99 in ms, linear interpolation (as numpy)
==================  =================================================================
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass

from helpers.core.i18n import _
from helpers.runtimes.client import ServingError
from helpers.serving.stream import StreamResult

#: The SLO metrics a limit may name, and the lesson's default limits (ms).
SLO_METRICS = ("ttft", "tpot", "e2el")
DEFAULT_SLO_MS = {"ttft": 500.0, "tpot": 50.0}

NO_USAGE = "chunk count (the server sent no usage)"


def ttft(r: StreamResult) -> float | None:
    return r.content_times[0] - r.start if r.content_times else None


def token_times(r: StreamResult) -> list[float]:
    """Every chunk with a choice from the first with content on: a token whose text is empty is still a token.

    Ending E2EL at the last chunk *with text* instead made TPOT's numerator span fewer tokens than ``usage`` counts
    in its denominator: with ``ignore_eos`` SmolLM2's answers end in ``<|im_end|>``-like tokens with no text, and the
    kit's TPOT read up to 17% below ``vllm bench serve``'s (``benchmarks/peer_vllm_bench.py``).
    """
    if not r.content_times:
        return []
    first = r.content_times[0]
    return [t for t in r.choice_times if t >= first]


def e2el(r: StreamResult) -> float | None:
    return token_times(r)[-1] - r.start if r.content_times else None


def itl(r: StreamResult) -> list[float]:
    times = token_times(r)
    return [later - earlier for earlier, later in zip(times[:-1], times[1:], strict=True)]


def output_tokens(r: StreamResult) -> int:
    return r.usage_tokens if r.usage_tokens is not None else len(r.content_times)


def tokens_from(r: StreamResult) -> str:
    return "usage" if r.usage_tokens is not None else NO_USAGE


def tpot(r: StreamResult) -> float | None:
    tokens = output_tokens(r)
    if not r.content_times or tokens < 2:
        return None
    return (e2el(r) - ttft(r)) / (tokens - 1)


PER_REQUEST = {"ttft": ttft, "tpot": tpot, "e2el": e2el}


def check_slo(slo_ms: dict[str, float] | None) -> dict[str, float]:
    """The lesson's limits updated by ``slo_ms``; an unknown metric name or a limit ≤ 0 is an error."""
    slo = {**DEFAULT_SLO_MS, **(slo_ms or {})}
    unknown = sorted(set(slo) - set(SLO_METRICS))
    if unknown:
        raise ServingError(
            _("Unknown SLO metric(s) {unknown}: use {known} (limits in ms).").format(
                unknown=", ".join(unknown), known=", ".join(SLO_METRICS)
            )
        )
    bad = {name: limit for name, limit in slo.items() if not isinstance(limit, (int, float)) or limit <= 0}
    if bad:
        raise ServingError(_("SLO limits must be positive numbers of ms; got {bad}.").format(bad=bad))
    return {name: float(limit) for name, limit in slo.items()}


def meets_slo(r: StreamResult, slo_ms: dict[str, float]) -> bool:
    """A completed request whose every limited metric is within its limit (a missing TPOT is not a miss)."""
    if not r.ok:
        return False
    for name, limit in slo_ms.items():
        value = PER_REQUEST[name](r)
        if value is not None and value * 1000 > limit:
            return False
    return True


@dataclass
class Percentiles:
    """Mean, median, P90 and P99 of one metric over a level, in ms; all ``None`` with no samples."""

    mean: float | None = None
    median: float | None = None
    p90: float | None = None
    p99: float | None = None

    @classmethod
    def of(cls, seconds: list[float]) -> Percentiles:
        if not seconds:
            return cls()
        ordered = sorted(seconds)

        def pick(q: float) -> float:
            position = q * (len(ordered) - 1)
            low = int(position)
            high = min(low + 1, len(ordered) - 1)
            return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

        return cls(
            round(statistics.fmean(ordered) * 1000, 2),
            round(pick(0.5) * 1000, 2),
            round(pick(0.9) * 1000, 2),
            round(pick(0.99) * 1000, 2),
        )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Percentiles:
        return cls(**data)


@dataclass
class Level:
    """One level of load and what its requests add up to.

    The load is either closed-loop (``concurrency`` requests in flight) or
    open-loop (``request_rate`` arrivals per second, Poisson when
    ``burstiness`` is 1). ``valid`` is False when the client, not the server,
    could not keep the load (``invalid_reason`` says why).
    """

    requests: int
    completed: int
    failures: int
    failure_reasons: dict[str, int]
    duration_s: float
    request_throughput: float
    output_throughput: float
    goodput: float
    slo_attainment_pct: float
    ttft_ms: Percentiles
    tpot_ms: Percentiles
    itl_ms: Percentiles
    e2el_ms: Percentiles
    tokens_from: list[str]
    concurrency: int | None = None
    request_rate: float | None = None
    burstiness: float | None = None
    client_lag_p90_ms: float | None = None
    valid: bool = True
    invalid_reason: str | None = None

    @property
    def load(self) -> str:
        if self.request_rate is not None:
            shape = "Poisson" if self.burstiness in (None, 1.0) else f"gamma, burstiness {self.burstiness:g}"
            return f"{self.request_rate:g} req/s ({shape})"
        return f"concurrency {self.concurrency}"

    def meets(self, slo_ms: dict[str, float], statistic: str = "p90") -> bool:
        """Whether this level's ``statistic`` (P90 by default) of every limited metric is within its limit."""
        if not self.valid or self.completed == 0:
            return False
        for name, limit in slo_ms.items():
            value = getattr(getattr(self, f"{name}_ms"), statistic)
            if value is not None and value > limit:
                return False
        return True

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Level:
        data = dict(data)
        for name in ("ttft_ms", "tpot_ms", "itl_ms", "e2el_ms"):
            data[name] = Percentiles.from_json(data[name])
        return cls(**data)


def summarize(results: list[StreamResult], duration_s: float, slo_ms: dict[str, float], **load) -> Level:
    """Apply the per-level definitions in the module docstring to one level's requests."""
    done = [r for r in results if r.ok]
    good = [r for r in results if meets_slo(r, slo_ms)]
    duration = max(duration_s, 1e-9)
    return Level(
        requests=len(results),
        completed=len(done),
        failures=len(results) - len(done),
        failure_reasons=dict(Counter(r.failure for r in results if r.failure).most_common()),
        duration_s=round(duration_s, 3),
        request_throughput=round(len(done) / duration, 3),
        output_throughput=round(sum(output_tokens(r) for r in done) / duration, 2),
        goodput=round(len(good) / duration, 3),
        slo_attainment_pct=round(100 * len(good) / len(results), 1) if results else 0.0,
        ttft_ms=Percentiles.of([ttft(r) for r in done]),
        tpot_ms=Percentiles.of([t for r in done if (t := tpot(r)) is not None]),
        itl_ms=Percentiles.of([gap for r in done for gap in itl(r)]),
        e2el_ms=Percentiles.of([e2el(r) for r in done]),
        tokens_from=sorted({tokens_from(r) for r in done}),
        **load,
    )


def slo_text(slo_ms: dict[str, float]) -> str:
    """``TTFT <= 500 ms and TPOT <= 50 ms``."""
    return " and ".join(f"{name.upper()} <= {limit:g} ms" for name, limit in slo_ms.items())
