"""Notebook 04's views: tables, plots and printed notes for route 3.

Nothing here starts, measures or decides; it shows what :mod:`helpers.serving` and
:mod:`helpers.routes.rented_gpu` (the rehearsal server, the busy/idle stopwatch) returned.
"""

from __future__ import annotations

from typing import Any

from helpers.core.i18n import _
from helpers.decision.record import RecordError, read_record
from helpers.routes.rented_gpu import VLLM_CPU
from helpers.serving import (
    Benchmark,
    Capacity,
    Checklist,
    CostNote,
    DtypeChoice,
    Level,
    Readiness,
    ShutdownProof,
)
from helpers.serving.dtype import CHECK_CONCURRENCY, CHECK_STREAMS
from helpers.serving.metrics import slo_text


def show_rehearsal_start(server: str) -> None:
    """Which stand-in :func:`helpers.routes.rented_gpu.start_rehearsal_server` started (its ``announce``)."""
    if server == VLLM_CPU:
        print(_("Started the rehearsal server: vLLM (CPU build) on 127.0.0.1, serving the shelf's SmolLM2-135M-Instruct"))
    else:
        print(_("vLLM's rehearsal environment is not on this runtime (make sets it up, Colab does not), so the rehearsal "
                "server is llama.cpp's OpenAI-compatible server on SmolLM2's Q4_1 GGUF, on 127.0.0.1."))  # fmt: skip


def show_dtype_choice(choice: DtypeChoice) -> None:
    """The rehearsal dtype, why, and when and how that was measured: a cached figure is dated, and not the live TPOT."""
    print(_("rehearsal dtype: {dtype}").format(dtype=choice.short))
    print(_("why:"), choice.why())
    if choice.checks:
        print(
            _(
                "measured {date} on {cpu} and cached in .vllm-cache/ (later runs reuse it): a short greedy decode of "
                "{streams} streams, {concurrency} at a time, on a freshly booted server, so its ms per token are not "
                "the single stream's TPOT timed below"
            ).format(date=choice.measured_at[:10], cpu=choice.cpu, streams=CHECK_STREAMS, concurrency=CHECK_CONCURRENCY)
        )


def show_readiness(ready: Readiness) -> None:
    """What the server says it serves; the boot time is :func:`show_boot`'s, a measurement kept in a cell of its own."""
    print("served models:", ready.served_models)
    print("max_model_len:", ready.max_model_len)
    print("server version:", ready.version)
    for note in ready.notes:
        print(_("note:"), note)


def show_boot(ready: Readiness, base_url: str) -> None:
    print(_("ready after {seconds:.0f} s at {base_url}").format(seconds=ready.ready_after_s, base_url=base_url))


def level_table(levels: list[Level]) -> Any:
    """One row per level: load, failures with their reasons, latency percentiles, throughput, goodput, SLO attainment."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "load": level.load,
                "completed": level.completed,
                "failures": level.failures,
                "failure reasons": "; ".join(f"{n}× {reason}" for reason, n in level.failure_reasons.items()) or "-",
                "TTFT median ms": level.ttft_ms.median,
                "TTFT p90 ms": level.ttft_ms.p90,
                "TPOT median ms": level.tpot_ms.median,
                "TPOT p90 ms": level.tpot_ms.p90,
                "ITL p90 ms": level.itl_ms.p90,
                "E2EL median ms": level.e2el_ms.median,
                "req/s": level.request_throughput,
                "output tok/s": level.output_throughput,
                "goodput req/s": level.goodput,
                "SLO met %": level.slo_attainment_pct,
                "valid": "yes" if level.valid else f"no: {level.invalid_reason}",
            }
            for level in levels
        ]
    )


def plot_benchmark(benchmark: Benchmark) -> Any:
    """Latency (median TTFT and TPOT) and throughput against concurrency."""
    import matplotlib.pyplot as plt

    levels = [level.concurrency for level in benchmark.levels]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    left.plot(levels, [lv.ttft_ms.median for lv in benchmark.levels], marker="o", label="median TTFT")
    left.plot(levels, [lv.tpot_ms.median for lv in benchmark.levels], marker="o", label="median TPOT")
    left.set_xlabel("concurrent requests")
    left.set_ylabel("ms")
    left.legend()
    right.plot(levels, [lv.output_throughput for lv in benchmark.levels], marker="o", color="#dd8452")
    right.set_xlabel("concurrent requests")
    right.set_ylabel("output tokens/s")
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xticks(levels, [str(level) for level in levels])
    figure.tight_layout()
    return figure


def plot_capacity(capacity: Capacity) -> Any:
    """The knee: P90 TTFT and TPOT against request rate (search points joined, trials as crosses), the SLO and the capacity."""
    import matplotlib.pyplot as plt

    points = sorted((p for p in capacity.points if p.valid), key=lambda p: p.request_rate)
    rates = [p.request_rate for p in points]
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for axis, metric in zip(axes, ("ttft", "tpot"), strict=True):
        axis.plot(rates, [getattr(p, f"{metric}_p90_ms") for p in points], marker="o", label=f"P90 {metric.upper()}")
        trials = [t for t in capacity.trials if t.valid]
        axis.scatter([t.request_rate for t in trials], [getattr(t, f"{metric}_p90_ms") for t in trials], marker="x",
                     color="#4c72b0", label="trials")  # fmt: skip
        if metric in capacity.slo:
            axis.axhline(capacity.slo[metric], color="#c44e52", linestyle="--", label=f"SLO {capacity.slo[metric]:g} ms")
        if capacity.found:
            axis.axvline(capacity.max_request_rate, color="#55a868", linestyle=":", label="capacity")
        axis.set_xlabel("request rate (req/s)")
        axis.set_ylabel("ms")
        axis.legend()
    figure.tight_layout()
    return figure


def show_capacity(capacity: Capacity) -> None:
    """The rate that held on every trial (or why none did), the spread of the trials at each rate tried, and the method."""
    print(f"SLO: P90 {slo_text(capacity.slo)}")
    tokens = capacity.output_tokens_per_s_at_capacity
    if capacity.found:
        print(_("capacity: {rate:g} req/s, confirmed on all {trials} trials; {tokens} output tok/s").format(
            rate=capacity.max_request_rate, trials=capacity.required_trials, tokens=tokens))  # fmt: skip
    elif capacity.lower_bound:
        print(_("capacity: at least {rate:g} req/s, confirmed on all {trials} trials; {tokens} output tok/s ({status})").format(
            rate=capacity.max_request_rate, trials=capacity.required_trials, tokens=tokens, status=capacity.status))  # fmt: skip
    else:
        print(_("capacity: not confirmed ({status})").format(status=capacity.status))
    print(_("why:"), capacity.note)
    for rate in dict.fromkeys(t.request_rate for t in capacity.trials):
        row = [t for t in capacity.trials if t.request_rate == rate]
        ttft, tpot, tokens = (
            _span([getattr(t, name) for t in row]) for name in ("ttft_p90_ms", "tpot_p90_ms", "output_throughput")
        )
        line = _(
            "trials at {rate:g} req/s: {met} of {trials} met the SLO; P90 TTFT {ttft} ms, P90 TPOT {tpot} ms, "
            "output tok/s over the point, drain included, {tokens}"
        )
        print("  " + line.format(rate=rate, met=sum(t.meets for t in row), trials=len(row), ttft=ttft, tpot=tpot, tokens=tokens))
    if capacity.elapsed_s is not None:
        print(_("the search took {seconds:.0f} s").format(seconds=capacity.elapsed_s))
    print(_("method:"), capacity.method)


def _span(values: list[float | None]) -> str:
    """One figure over the trials at a rate: ``12.3-15.1``, ``12.3`` when all agree, ``-`` when none was measured."""
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    return f"{min(known):g}" if min(known) == max(known) else f"{min(known):g}-{max(known):g}"


def show_cost(cost: CostNote) -> None:
    """What served the requests, the price of that machine (or why none), and the figures derived from it."""
    if cost.origin is not None:
        print(_("served by:"), cost.origin.reason)
    if cost.hourly_usd is None:
        print(_("measured on {machine}: not priced").format(machine=cost.measured_on))
    else:
        print(_("measured on {machine} ({device}), priced at ${hourly:g}/h: {source}").format(
            machine=cost.measured_on, device=cost.device, hourly=cost.hourly_usd, source=cost.price_source))  # fmt: skip
    print(_("basis: {basis}").format(basis=cost.basis))
    if cost.usd_per_million_output_tokens is not None:
        print(_("-> {tokens} output tok/s, ${usd} per 1M output tokens").format(
            tokens=cost.output_tokens_per_s, usd=cost.usd_per_million_output_tokens))  # fmt: skip
    if cost.deployment:
        plan = cost.deployment
        sentence = (
            _(
                "for {qps:g} req/s: {replicas} replica(s) of {units} GPU(s), each serving {rps:g} req/s at the SLO "
                "-> ${monthly} per month"
            )
            if cost.device == "gpu"
            else _(
                "for {qps:g} req/s: {replicas} replica(s) of {units} machine(s) like this one, each serving {rps:g} req/s "
                "at the SLO -> ${monthly} per month"
            )
        )
        print(
            sentence.format(
                qps=plan.target_qps,
                replicas=plan.replicas,
                units=plan.gpus_per_replica,
                rps=plan.capacity_rps_per_replica,
                monthly=f"{plan.monthly_usd:,.0f}",
            )
        )
    for row in cost.estimates:
        print(f"  {row.gpu}: ~{row.output_tokens_per_s} tok/s, ~${row.usd_per_million_output_tokens} per 1M ({row.label})")
    if cost.boot_usd is not None:
        print(_("boot {boot_s} s = ${boot_usd}; idle {idle_s} s = ${idle_usd}").format(
            boot_s=cost.boot_s, boot_usd=cost.boot_usd, idle_s=cost.idle_s, idle_usd=cost.idle_usd))  # fmt: skip
    else:
        print(_("boot {boot_s} s; idle {idle_s} s (not priced)").format(boot_s=cost.boot_s, idle_s=cost.idle_s))
    for note in cost.notes:
        print(_("note:"), note)


def checklist_table(checklist: Checklist) -> Any:
    import pandas as pd

    return pd.DataFrame([{"item": i.name, "status": i.status, "detail": i.detail, "fix": i.fix} for i in checklist.items])


def show_proof(proof: ShutdownProof) -> None:
    print(f"kind: {proof.kind}")
    print(f"stopped: {proof.stopped}")
    print(proof.statement)
    if proof.gpu_check:
        print(f"gpu check: {proof.gpu_check}")
    if proof.written_to:
        print(_("proof in {path}").format(path=proof.written_to))


def explain_goodput(benchmark: Benchmark) -> None:
    """Say, level by level, why goodput is what it is: which SLO limit the median missed."""
    levels = benchmark.levels + benchmark.rate_levels
    good = [level for level in levels if level.goodput > 0]
    print(
        _("goodput ({definition}) is above 0 at {good} of {total} levels").format(
            definition=benchmark.goodput_definition, good=len(good), total=len(levels)
        )
    )
    for level in levels:
        if level.goodput > 0 or not level.completed:
            continue
        misses = [
            _("median {metric} {value} ms > {limit:g} ms").format(metric=name.upper(), value=value, limit=limit)
            for name, limit in benchmark.slo_ms.items()
            if (value := getattr(level, f"{name}_ms").median) is not None and value > limit
        ]
        why = _(" and ").join(misses) or _("no request met every limit")
        print("  " + _("{load}: 0, because {why}").format(load=level.load, why=why))


def compare_with_record(served: str) -> None:
    """Say whether the model this server serves is the one the decision record names (notebook 01 writes the record)."""
    try:
        record = read_record()
    except RecordError as error:
        print(_("no decision record to compare with: {error}").format(error=error))
        return
    if record.model == served:
        print(_("the decision record names {served}, the model this server serves").format(served=served))
    else:
        print(
            _(
                "note: the decision record names {model}, but this server serves {served}, so requests use {served}. "
                "On the rented GPU, launch the record's model (set `model` to it) or update the record, so the two agree."
            ).format(model=record.model, served=served)
        )
