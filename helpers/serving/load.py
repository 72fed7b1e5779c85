"""Load generation: closed-loop concurrency levels and open-loop request rates, as ``vllm bench serve`` makes them.

* **Concurrency** (closed loop): ``AsyncOpenAI`` with a semaphore; a new request
  starts when one finishes. It answers "how fast with N users typing".
* **Request rate** (open loop): arrivals on a schedule drawn from a gamma
  distribution, whatever the server does (Poisson when ``burstiness`` is 1, burstier
  below 1, steadier above). It answers "what a service sees", and it is what capacity is
  measured in. If the client itself falls behind the schedule (on 2 cores it
  shares with the server it can), the point is marked invalid rather than
  blaming the server.

Requests go round-robin over one or several ``base_url``\\s (replicas behind one
client). Warm-up requests are excluded from every figure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import random
import time
from collections.abc import Iterable
from typing import Any

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV
from helpers.runtimes.client import ServingError, host_port, make_client
from helpers.serving.metrics import Level, summarize
from helpers.serving.stream import StreamResult, time_stream_async

#: The client is behind schedule when its P90 send delay exceeds this share of the mean gap between arrivals (and 25 ms).
LAG_SHARE, LAG_FLOOR_S = 0.2, 0.025


def run_coroutine(coroutine: Any) -> Any:
    """Run a coroutine to completion, also from Jupyter, whose own event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def check_rate(rate: float) -> float:
    if not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise ServingError(
            _("A request rate must be a positive number of requests per second; got {value}.").format(value=repr(rate))
        )
    return float(rate)


def arrival_times(rate: float, count: int, *, burstiness: float = 1.0, seed: int = 0) -> list[float]:
    """Seconds after the start at which each request is sent, as ``vllm bench serve`` draws them.

    Each request waits a gamma-distributed gap with mean 1/rate (exponential, so Poisson arrivals, at burstiness 1)
    after the one before it, the first included; the times are then scaled so the last request goes out at exactly
    ``count / rate``, which keeps a short level's rate from drifting a few percent with the seed.
    """
    rate = check_rate(rate)
    if burstiness <= 0:
        raise ServingError(_("burstiness must be positive (1 = Poisson); got {value}.").format(value=repr(burstiness)))
    rng, at, times = random.Random(seed), 0.0, []
    for __ in range(count):
        at += rng.gammavariate(burstiness, 1.0 / (rate * burstiness))
        times.append(at)
    scale = count / rate / times[-1] if times else 1.0
    return [t * scale for t in times]


def lag_verdict(lags: list[float], rate: float) -> tuple[bool, str | None, float | None]:
    """Whether the client kept its schedule: (valid, reason when not, P90 delay in ms)."""
    if not lags:
        return True, None, None
    ordered = sorted(lags)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * (len(ordered) - 1) + 0.5))]
    limit = max(LAG_FLOOR_S, LAG_SHARE / rate)
    if p90 > limit:
        return (
            False,
            (
                f"the client fell behind its schedule (P90 send delay {1000 * p90:.0f} ms > {1000 * limit:.0f} ms): "
                "this point measures the client machine, not the server"
            ),
            round(1000 * p90, 2),
        )
    return True, None, round(1000 * p90, 2)


class Load:
    """Clients for the endpoints, the prompts, and a count of requests per endpoint."""

    def __init__(
        self,
        base_urls: list[str],
        model: str,
        prompts: list[list[dict]],
        max_tokens: int,
        extra_body: dict | None,
        api_key_env: str,
    ):
        if not prompts:
            raise ServingError("A benchmark needs at least one prompt.")
        self.urls, self.model, self.prompts, self.max_tokens, self.extra_body = base_urls, model, prompts, max_tokens, extra_body
        self.clients = [make_client(url, api_key_env=api_key_env, asynchronous=True) for url in base_urls]
        self.per_endpoint = {host_port(url): 0 for url in base_urls}
        self.sent = 0

    async def one(self) -> StreamResult:
        index, self.sent = self.sent, self.sent + 1
        slot = index % len(self.clients)
        self.per_endpoint[host_port(self.urls[slot])] += 1
        return await time_stream_async(
            self.clients[slot], self.model, self.prompts[index % len(self.prompts)], self.max_tokens, self.extra_body
        )

    async def warm_up(self, count: int) -> None:
        for __ in range(count):
            await self.one()
        self.per_endpoint = dict.fromkeys(self.per_endpoint, 0)

    async def closed_loop(self, concurrency: int, requests: int, slo_ms: dict[str, float]) -> Level:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ServingError(
                _("A concurrency level must be a whole number of at least 1; got {value}.").format(value=repr(concurrency))
            )
        semaphore = asyncio.Semaphore(concurrency)

        async def bounded() -> StreamResult:
            async with semaphore:
                return await self.one()

        start = time.perf_counter()
        results = await asyncio.gather(*(bounded() for _ in range(requests)))
        return summarize(list(results), time.perf_counter() - start, slo_ms, concurrency=concurrency)

    async def open_loop(
        self,
        rate: float,
        requests: int,
        slo_ms: dict[str, float],
        *,
        burstiness: float = 1.0,
        seed: int = 0,
        max_concurrency: int | None = None,
        schedule: list[float] | None = None,
    ) -> Level:
        """Arrivals at ``rate`` drawn by :func:`arrival_times`, or at the given ``schedule`` (another tool's, replayed)."""
        schedule = schedule if schedule is not None else arrival_times(rate, requests, burstiness=burstiness, seed=seed)
        semaphore = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        lags: list[float] = []

        async def limited() -> StreamResult:
            if semaphore is None:
                return await self.one()
            async with semaphore:
                return await self.one()

        start, tasks = time.perf_counter(), []
        for at in schedule:
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            lags.append(max(0.0, time.perf_counter() - start - at))
            tasks.append(asyncio.create_task(limited()))
        results = await asyncio.gather(*tasks)
        valid, reason, lag_p90 = lag_verdict(lags, rate)
        return summarize(
            list(results),
            time.perf_counter() - start,
            slo_ms,
            request_rate=rate,
            burstiness=burstiness,
            client_lag_p90_ms=lag_p90,
            valid=valid,
            invalid_reason=reason,
        )

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


async def _run_levels(
    load: Load,
    concurrency_levels: Iterable[int],
    rates: Iterable[float],
    requests: int,
    warmup: int,
    slo_ms: dict[str, float],
    burstiness: float,
    seed: int,
) -> tuple[list[Level], list[Level]]:
    try:
        await load.warm_up(warmup)
        closed = [await load.closed_loop(level, requests, slo_ms) for level in concurrency_levels]
        opened = [await load.open_loop(rate, requests, slo_ms, burstiness=burstiness, seed=seed) for rate in rates]
        return closed, opened
    finally:
        await load.close()


def run_levels(
    load: Load,
    *,
    concurrency_levels: Iterable[int] = (),
    rates: Iterable[float] = (),
    requests: int,
    warmup: int,
    slo_ms: dict[str, float],
    burstiness: float = 1.0,
    seed: int = 0,
) -> tuple[list[Level], list[Level]]:
    """Warm up, then every concurrency level and every request rate, one after the other."""
    rates = [check_rate(rate) for rate in rates]
    return run_coroutine(_run_levels(load, list(concurrency_levels), rates, requests, warmup, slo_ms, burstiness, seed))


def run_rate(
    base_urls: str | list[str],
    model: str,
    prompts: list[list[dict]],
    rate: float,
    *,
    slo_ms: dict[str, float],
    requests: int = 8,
    duration_s: float = 0.0,
    max_tokens: int = 32,
    burstiness: float = 1.0,
    seed: int = 0,
    api_key_env: str = API_KEY_ENV,
    extra_body: dict | None = None,
) -> Level:
    """One open-loop level at ``rate`` req/s, no warm-up: the capacity search's probe.

    It sends at least ``requests`` requests and at least ``duration_s`` seconds of
    arrivals: a handful of requests at a high rate is only a burst, and a burst the
    server absorbs says nothing about the rate it can sustain.
    """
    urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
    count = max(requests, math.ceil(check_rate(rate) * duration_s))
    load = Load(urls, model, prompts, max_tokens, extra_body, api_key_env)
    return run_levels(load, rates=[rate], requests=count, warmup=0, slo_ms=slo_ms, burstiness=burstiness, seed=seed)[1][0]


def replay_schedule(
    base_url: str, model: str, prompts: list[list[dict]], schedule: list[float], *, rate: float, slo_ms: dict[str, float],
    warmup: int = 0, max_tokens: int = 32, api_key_env: str = API_KEY_ENV, extra_body: dict | None = None,
) -> Level:  # fmt: skip
    """One open-loop level that sends at ``schedule`` (seconds after its start), reported at ``rate``: another tool's
    arrivals, replayed.

    Two benchmarks that each draw their own Poisson arrivals measure two different loads, and with a few dozen
    requests their latencies differ by more than their definitions do. ``benchmarks/peer_vllm_bench.py`` replays the
    send times ``vllm bench serve`` recorded, so the two tools face the same arrivals.
    """
    if not schedule or schedule[0] < 0 or schedule != sorted(schedule):
        raise ServingError(_("A schedule is a non-empty list of send times in seconds, from 0 and never decreasing."))
    load = Load([base_url], model, prompts, max_tokens, extra_body, api_key_env)

    async def replay() -> Level:
        try:
            await load.warm_up(warmup)
            return await load.open_loop(check_rate(rate), len(schedule), slo_ms, schedule=schedule)
        finally:
            await load.close()

    return run_coroutine(replay())
