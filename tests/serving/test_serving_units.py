"""Serving logic that needs no model: the arithmetic, the load schedule, the capacity search, cost, proofs, launch files.

Each test builds its input from recorded facts (timestamps, /metrics text,
/proc/cpuinfo, host command output) and calls the real code; nothing stands
in for vLLM here. What needs a server is in ``test_serving_vllm.py``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import serving
from helpers.core.net import free_port
from helpers.machine.environment import read_cpuinfo
from helpers.runtimes.client import ServingError, normalize_base_url
from helpers.serving import capacity as cap
from helpers.serving import cost, dtype, load, metrics, server_metrics, shutdown
from helpers.serving.metrics import Percentiles
from helpers.serving.stream import ChunkRecorder, StreamResult

DATA = Path(__file__).parents[1] / "data"


class DeadEngine(BaseHTTPRequestHandler):
    """What vLLM's API server answers once its engine has died: /health is 503."""

    def do_GET(self) -> None:
        self.send_response(503 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_503_on_health_means_the_engine_is_dead():
    server = ThreadingHTTPServer(("127.0.0.1", 0), DeadEngine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ServingError, match=r"127\.0\.0\.1:\d+ answers /health with 503: the engine is dead"):
            serving.wait_until_ready(f"http://127.0.0.1:{server.server_port}", deadline_s=5)
    finally:
        server.shutdown()


# ---------------------------------------------------------------- the arithmetic, on recorded chunk times


def stream(start: float, times: list[float], usage: int | None, failure: str | None = None) -> StreamResult:
    every_chunk = list(times)  # each chunk here carries text, so the chunks with a choice are the same ones
    return StreamResult(start, times, every_chunk, "x" * len(times), usage_tokens=usage, failure=failure)


def test_each_metric_follows_vllms_definition():
    r = stream(10.0, [10.2, 10.25, 10.35, 10.4], usage=5)  # 5 tokens in 4 content chunks
    assert metrics.ttft(r) == pytest.approx(0.2) and metrics.e2el(r) == pytest.approx(0.4)
    assert metrics.itl(r) == pytest.approx([0.05, 0.1, 0.05])
    assert metrics.tpot(r) == pytest.approx((0.4 - 0.2) / (5 - 1))  # tokens from usage, not chunks
    assert metrics.tokens_from(r) == "usage"
    no_usage = stream(0.0, [0.1, 0.2], usage=None)
    assert metrics.output_tokens(no_usage) == 2 and metrics.tokens_from(no_usage) == metrics.NO_USAGE
    assert metrics.tpot(stream(0.0, [0.1], usage=1)) is None  # one token has no per-token time


def test_a_token_without_text_still_counts_to_the_end_of_the_request():
    """SmolLM2 under ``ignore_eos`` ends in tokens with no text; usage counts them, so E2EL must reach them too."""
    from types import SimpleNamespace as Chunk

    recorder = ChunkRecorder(10.0)
    for now, delta, finish in [(10.199, {"role": "assistant", "content": ""}, None), (10.2, {"content": "Hi"}, None),
                               (10.25, {"content": "!"}, None), (10.3, {"content": ""}, None),
                               (10.35, {"content": ""}, "length")]:  # fmt: skip
        chunk = Chunk(usage=None, choices=[Chunk(delta=Chunk(**{"role": None, **delta}), finish_reason=finish)])
        recorder.on_chunk(chunk, now)
    recorder.on_chunk(Chunk(usage=Chunk(completion_tokens=4), choices=[]), 10.36)
    r = recorder.finish()
    assert r.text == "Hi!" and r.content_times == [10.2, 10.25] and len(r.choice_times) == 5
    assert metrics.ttft(r) == pytest.approx(0.2) and metrics.e2el(r) == pytest.approx(0.35)
    assert metrics.itl(r) == pytest.approx([0.05, 0.05, 0.05])  # the role chunk, before the first text, is no gap
    assert metrics.tpot(r) == pytest.approx((0.35 - 0.2) / (4 - 1))


def test_level_counts_failures_by_reason_and_slo_attainment_over_all_requests():
    slo = metrics.check_slo({"ttft": 300, "tpot": 50})
    fast = stream(0.0, [0.1, 0.14, 0.18], usage=3)  # TTFT 100 ms, TPOT 40 ms: meets
    slow = stream(0.0, [0.5, 0.6, 0.7], usage=3)  # TTFT 500 ms: misses
    empty = StreamResult(start=0.0, finish_reason="stop")
    empty.failure = "stream ended without content (finish_reason=stop)"
    level = metrics.summarize([fast, slow, empty, empty], 2.0, slo, concurrency=2)
    assert (level.completed, level.failures) == (2, 2)
    assert level.failure_reasons == {"stream ended without content (finish_reason=stop)": 2}
    assert level.goodput == 0.5 and level.slo_attainment_pct == 25.0 and level.output_throughput == 3.0
    assert level.ttft_ms.median == 300.0 and level.load == "concurrency 2"
    assert serving.Level.from_json(level.to_json()) == level


def test_a_stream_that_ends_without_content_carries_its_finish_reason():
    recorder = ChunkRecorder(0.0)
    recorder.result.finish_reason = "length"
    assert recorder.finish().failure == "stream ended without content (finish_reason=length)"


def test_percentiles_interpolate_like_numpy():
    stats = Percentiles.of([0.001 * v for v in range(1, 101)])
    assert (stats.mean, stats.median, stats.p90, stats.p99) == (50.5, 50.5, 90.1, 99.01)
    assert Percentiles.of([]) == Percentiles()


@pytest.mark.parametrize(
    ("slo", "message"),
    [({"latency": 100}, "Unknown SLO metric"), ({"ttft": 0}, "positive numbers"), ({"tpot": -5}, "positive numbers")],
)
def test_bad_slo_is_refused_with_the_known_names(slo, message):
    with pytest.raises(ServingError, match=message):
        metrics.check_slo(slo)


# ---------------------------------------------------------------- server metrics

OLD_NAMES = """
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="m"} 0.25
# TYPE vllm:time_per_output_token_seconds histogram
vllm:time_per_output_token_seconds_sum{model_name="m"} 2.0
vllm:time_per_output_token_seconds_count{model_name="m"} 40.0
# TYPE vllm:generation_tokens counter
vllm:generation_tokens_total{model_name="m"} 40.0
# TYPE vllm:request_success counter
vllm:request_success_total{finished_reason="stop",model_name="m"} 3.0
vllm:request_success_total{finished_reason="length",model_name="m"} 2.0
"""


def test_old_vllm_metric_names_are_accepted_and_labels_summed():
    parsed = server_metrics.parse_metrics(OLD_NAMES)
    assert parsed["kv_cache_usage"] == 0.25 and parsed["requests"] == 5.0
    delta = server_metrics.metrics_delta({"itl_sum": 0.0, "itl_count": 0.0}, parsed)
    assert delta.server_itl_mean_ms == 50.0 and delta.generation_tokens == 40
    assert not server_metrics.metrics_delta(None, parsed).available


# ---------------------------------------------------------------- open-loop arrivals


@pytest.mark.parametrize("rate", [0, -1.0, float("nan"), float("inf"), "2"])
def test_a_rate_must_be_positive_and_finite(rate):
    with pytest.raises(ServingError, match="positive number of requests per second"):
        load.arrival_times(rate, 4)


def test_poisson_arrivals_have_the_asked_mean_and_burstiness_changes_the_spread():
    def gaps(burstiness: float) -> list[float]:
        times = load.arrival_times(4.0, 4001, burstiness=burstiness, seed=1)
        return [b - a for a, b in zip(times[:-1], times[1:], strict=True)]

    poisson, bursty = gaps(1.0), gaps(0.25)
    assert sum(poisson) / len(poisson) == pytest.approx(0.25, rel=0.05)
    assert sum(bursty) / len(bursty) == pytest.approx(0.25, rel=0.15)
    assert max(bursty) > max(poisson)  # same mean, longer quiet spells and tighter bursts
    assert load.arrival_times(4.0, 5, seed=3) == load.arrival_times(4.0, 5, seed=3)
    first, *__, last = load.arrival_times(4.0, 8, seed=3)
    assert 0 < first and last == pytest.approx(8 / 4.0)  # vLLM's: the first waits too, the last goes out at N / rate
    with pytest.raises(ServingError, match="burstiness"):
        load.arrival_times(1.0, 3, burstiness=0)


@pytest.mark.parametrize("schedule", [[], [0.0, 0.5, 0.2], [-0.1, 0.3]])
def test_a_replayed_schedule_must_be_send_times_that_never_go_back(schedule):
    with pytest.raises(ServingError, match="never decreasing"):
        load.replay_schedule("http://127.0.0.1:9/v1", "m", [[{"role": "user", "content": "hi"}]], schedule, rate=1.0, slo_ms={})


def test_a_client_behind_its_schedule_makes_the_point_invalid():
    valid, reason, p90 = load.lag_verdict([0.001] * 10, rate=2.0)
    assert valid and reason is None
    valid, reason, p90 = load.lag_verdict([0.3] * 10, rate=8.0)  # 300 ms late at 8 req/s
    assert not valid and "measures the client machine, not the server" in reason and p90 == 300.0


# ---------------------------------------------------------------- the capacity search, on a deterministic probe

SLO = {"ttft": 500.0, "tpot": 50.0}


def probe_with_knee(
    knee: float, calls: list[float] | None = None, *, failing_from: float | None = None, lag_from: float | None = None
):
    """A probe that meets the SLO below ``knee`` req/s; P90 TPOT grows with the rate."""

    def probe(rate: float) -> serving.Level:
        if calls is not None:
            calls.append(rate)
        tpot = 40.0 * rate / knee
        times = [0.1 + i * tpot / 1000 for i in range(8)]
        results = [stream(0.0, times, usage=8) for _ in range(4)]
        if failing_from is not None and rate >= failing_from:
            results = [StreamResult(0.0, failure="connection error: Connection refused") for _ in range(4)]
        lagging = lag_from is not None and rate >= lag_from
        return metrics.summarize(
            results,
            4 / rate,
            SLO,
            request_rate=rate,
            valid=not lagging,
            invalid_reason="the client fell behind its schedule" if lagging else None,
        )

    return probe


def test_capacity_doubles_bisects_then_confirms_on_three_fresh_trials():
    calls: list[float] = []
    found = cap.search_capacity(probe_with_knee(3.0 * 50 / 40, calls), SLO, start_rate=0.5, tolerance=0.1)
    # meets while 40*r/3.75 <= 50, i.e. r <= 4.6875
    assert found.status == "found" and found.confirmed and 4.0 <= found.max_request_rate <= 4.6875
    assert calls[:5] == [0.5, 1.0, 2.0, 4.0, 8.0] and calls[-3:] == [found.max_request_rate] * 3  # three fresh trials
    assert [t.request_rate for t in found.trials] == [found.max_request_rate] * 3 and all(t.meets for t in found.trials)
    assert "met the SLO on all 3 trials" in found.note and "bisection" in found.method and "3 more times" in found.method
    # output tok/s at capacity: the confirmed rate times the output tokens per request its trials measured (8)
    assert found.output_tokens_per_s_at_capacity == pytest.approx(found.max_request_rate * 8)
    assert serving.Capacity.from_json(found.to_json()) == found


def test_capacity_states_when_nothing_meets_or_everything_does():
    assert cap.search_capacity(probe_with_knee(0.1), SLO).status == "none_meets"
    top = cap.search_capacity(probe_with_knee(1000.0), SLO, max_rate=4.0)
    assert top.status == "above_search_limit" and top.max_request_rate == 4.0 and top.lower_bound and not top.found
    assert [t.request_rate for t in top.trials] == [4.0] * 3


def scripted(answers: list[bool], calls: list[float] | None = None):
    """A probe whose n-th call meets the SLO when ``answers[n]`` says so (then every later call misses)."""
    replies = iter(answers)

    def probe(rate: float) -> serving.Level:
        return probe_with_knee(1000.0 if next(replies, False) else 0.01, calls)(rate)

    return probe


def test_a_rate_that_misses_one_trial_is_not_capacity_and_the_next_lower_rate_is_tried():
    # search: 0.5, 1, 2 meet, 4 misses, 3 meets (bracket 3..4); trials: 3 meets, 3 misses; 2 meets three times
    calls: list[float] = []
    found = cap.search_capacity(
        scripted([True, True, True, False, True, True, False, True, True, True], calls), SLO, tolerance=0.3
    )
    assert calls == [0.5, 1.0, 2.0, 4.0, 3.0, 3.0, 3.0, 2.0, 2.0, 2.0]
    assert found.status == "found" and found.max_request_rate == 2.0 and found.confirmed
    assert "3 req/s missed it on trial 2 of 3" in found.note and "2 req/s met the SLO on all 3 trials" in found.note


def test_capacity_is_indeterminate_when_no_rate_holds_on_every_trial():
    # 0.5 and 1 meet, 2 misses, 1.5 meets; then every trial misses
    result = cap.search_capacity(scripted([True, True, False, True]), SLO, tolerance=0.3)
    assert result.status == "indeterminate" and result.max_request_rate is None and not result.confirmed
    assert "no rate held on every trial" in result.note and result.output_tokens_per_s_at_capacity is None
    assert [t.request_rate for t in result.trials] == [1.5, 1.0, 0.5]  # one missed trial each, best first


def test_a_rate_with_fewer_trials_than_required_is_not_confirmed():
    point = cap.CapacityPoint(2.0, True, True, 100.0, 40.0, None, 60.0, 0, None, 20, 30.0)
    assert not serving.Capacity(SLO, 2.0, 60.0, "test", "found", 0.1, [], "", [point, point]).found
    assert serving.Capacity(SLO, 2.0, 60.0, "test", "found", 0.1, [], "", [point] * 3).found
    with pytest.raises(ServingError, match="trials must be a whole number of at least 3"):
        cap.search_capacity(probe_with_knee(1.0), SLO, trials=2)


def test_the_search_stops_inside_its_time_budget():
    now = [0.0]

    def slow(rate: float) -> serving.Level:
        now[0] += 10.0  # every probe takes 10 s
        return probe_with_knee(3.0)(rate)

    result = cap.search_capacity(slow, SLO, start_rate=0.5, budget_s=45.0, clock=lambda: now[0])
    assert result.status == "out_of_time" and result.max_request_rate is None and "45 s budget" in result.note
    assert now[0] <= 45.0 and len(result.points) + len(result.trials) == 4 and result.elapsed_s == 40.0


def test_a_server_killed_during_the_search_keeps_the_partial_result():
    result = cap.search_capacity(probe_with_knee(100.0, failing_from=2.0), SLO)
    assert result.status == "aborted" and result.max_request_rate is None and result.trials == []
    assert [p.request_rate for p in result.points] == [0.5, 1.0, 2.0] and "stopped answering" in result.note


def test_a_rate_the_client_cannot_sustain_is_not_blamed_on_the_server():
    result = cap.search_capacity(probe_with_knee(100.0, lag_from=4.0), SLO)
    assert result.status == "client_limited" and result.max_request_rate == 2.0 and not result.points[-1].valid
    assert result.lower_bound and not result.found  # 2 req/s met the SLO on three trials: the capacity is at least that


def test_a_probe_that_raises_is_recorded_and_stops_the_search():
    def broken(rate: float) -> serving.Level:
        raise ServingError("tunnel closed")

    result = cap.search_capacity(broken, SLO)
    assert result.status == "aborted" and "tunnel closed" in result.points[0].note


# ---------------------------------------------------------------- cost

CPU = serving.Origin("127.0.0.1:8000", "this_machine", "AMD EPYC, 2 cores", "cpu", "llama-server", 42, "on this machine")
GPU = serving.Origin("127.0.0.1:8000", "tunnel", "NVIDIA L4", "gpu", "ssh", 43, "the GPU host's nvidia-smi names NVIDIA L4")
UNKNOWN = serving.Origin("127.0.0.1:8000", "tunnel", None, None, "ssh", 43, "a tunnel to another host")
PRICES = {"cpu_hourly_usd": 0.1, "gpu_name": "L4", "gpu_hourly_usd": 0.7}


def level(throughput_tokens: float) -> serving.Level:
    times = [0.1 + 0.01 * i for i in range(10)]
    return metrics.summarize([stream(0.0, times, usage=10)], 10 / throughput_tokens, SLO, concurrency=1)


def capacity_at(rate: float, tokens_per_s: float, status: str = "found") -> serving.Capacity:
    trial = cap.CapacityPoint(rate, True, True, 100.0, 40.0, None, tokens_per_s, 0, None, 10, tokens_per_s / rate)
    return serving.Capacity(SLO, rate, tokens_per_s, "test", status, 0.1, [], "", [trial] * 3)


def price(origin: serving.Origin = CPU, capacity: serving.Capacity | None = None, **given) -> serving.CostNote:
    return cost.cost_note(origin=origin, capacity=capacity, boot_s=given.pop("boot_s", 0), idle_s=given.pop("idle_s", 0),
                          **{**PRICES, **given})  # fmt: skip


@pytest.mark.parametrize("hourly", [0, -1, float("nan")])
def test_a_price_of_zero_or_less_is_refused(hourly):
    with pytest.raises(ServingError, match="positive number of US dollars per hour"):
        price(capacity=capacity_at(2.0, 100.0), cpu_hourly_usd=hourly)


def test_cpu_figures_are_priced_at_the_cpu_price_only():
    note = price(capacity=capacity_at(2.0, 100.0), boot_s=36, idle_s=360, target_qps=5)
    assert note.usd_per_million_output_tokens == pytest.approx(0.1 / 3600 / 100 * 1e6, abs=0.01) and note.hourly_usd == 0.1
    assert note.estimates == [] and any("no GPU figure is derived" in n for n in note.notes)
    assert note.deployment.replicas == 3 and note.deployment.monthly_usd == pytest.approx(3 * 0.1 * 720)
    assert note.boot_usd == pytest.approx(0.001) and note.idle_usd == pytest.approx(0.01)
    assert serving.CostNote.from_json(note.to_json()) == note


def test_other_gpus_are_labelled_estimates_scaled_by_bandwidth():
    note = price(GPU, capacity_at(4.0, 300.0))
    h100 = next(e for e in note.estimates if e.gpu.startswith("H100"))
    assert h100.bandwidth_ratio == pytest.approx(3350 / 300, rel=1e-3) and "estimate" in h100.label
    assert h100.output_tokens_per_s == pytest.approx(300 * 3350 / 300, rel=1e-3) and note.hourly_usd == 0.7


def test_unknown_hardware_is_not_priced_at_all():
    note = price(UNKNOWN, capacity_at(4.0, 300.0), boot_s=30, idle_s=60, target_qps=5)
    assert (note.hourly_usd, note.usd_per_million_output_tokens, note.boot_usd, note.deployment) == (None, None, None, None)
    assert note.estimates == [] and note.measured_on == "unknown hardware" and any("a tunnel" in n for n in note.notes)


def test_a_gpu_is_priced_only_at_the_price_given_for_that_gpu():
    note = price(GPU, capacity_at(4.0, 300.0), gpu_name="H100")
    assert note.hourly_usd is None and note.estimates == [] and any("set gpu_name" in n for n in note.notes)


def test_without_a_confirmed_capacity_there_is_no_price_per_token():
    for capacity in (None, serving.Capacity(SLO, None, None, "test", "indeterminate", 0.1, [], "runs disagree")):
        note = price(capacity=capacity, target_qps=1)
        assert note.output_tokens_per_s is None and note.usd_per_million_output_tokens is None and "no price" in note.basis
        assert note.deployment is None and note.hourly_usd == 0.1  # boot and idle are still this machine's time
    assert (
        "runs disagree" in price(capacity=serving.Capacity(SLO, None, None, "t", "indeterminate", 0.1, [], "runs disagree")).basis
    )


def test_a_capacity_search_stopped_early_is_priced_as_a_lower_bound():
    note = price(capacity=capacity_at(4.0, 120.0, "client_limited"), target_qps=10)
    assert note.output_tokens_per_s == 120.0 and "at least 4 req/s" in note.basis
    assert note.deployment.replicas == 3 and any("upper bounds" in n for n in note.notes)


def test_a_search_where_nothing_met_the_slo_is_no_lower_bound():
    assert not serving.Capacity(SLO, None, None, "test", "client_limited", 0.1).lower_bound
    assert not serving.Capacity(SLO, None, None, "test", "none_meets", 0.1).lower_bound


# ---------------------------------------------------------------- shutdown proofs

HOST_STOPPED = "## gpu\n## ports\n## end\n"
HOST_RUNNING = """## gpu
2211, /usr/bin/python3, 71234
## ports
LISTEN 0      2048       127.0.0.1:8000      0.0.0.0:*
## end
"""


def test_remote_proof_reads_the_host_command_output():
    stopped = serving.prove_remote(HOST_STOPPED, "http://127.0.0.1:8000")
    assert stopped.kind == "remote_host" and stopped.stopped is True and "Billing stops only" in stopped.statement
    running = serving.prove_remote(HOST_RUNNING, "http://127.0.0.1:8000")
    assert running.stopped is False and running.host_gpu_processes[0]["used_memory_mib"] == 71234 and running.port_listening
    assert "nvidia-smi" in serving.host_check_command() and "ss -ltnH" in serving.host_check_command()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Permission denied (publickey).",
        "## gpu\nNVIDIA-SMI has failed\n## ports\n## end",
        "## gpu\n## ports\nLISTEN garbage\n## end",
    ],
)
def test_host_output_that_does_not_parse_says_what_to_run(text):
    with pytest.raises(shutdown.HostCheckError, match="Run exactly|Cannot read"):
        serving.prove_remote(text, "http://127.0.0.1:8000")


def test_an_endpoint_check_never_claims_the_instance_stopped():
    proof = serving.prove_endpoint(f"http://127.0.0.1:{free_port()}", wait_s=0)
    assert proof.kind == "endpoint_only" and proof.stopped is None and proof.health == "connection refused"
    assert "a closed tunnel is not a stopped instance" in proof.statement
    assert serving.ShutdownProof.from_json(proof.to_json()) == proof


# ---------------------------------------------------------------- the rehearsal dtype, from recorded /proc/cpuinfo

EPYC = (DATA / "cpuinfo_amd_epyc_2cores.txt").read_text()  # the course machine, recorded 2026-11-23
HASWELL = (DATA / "cpuinfo_xeon_e5_2699v3.txt").read_text()  # a Haswell Xeon VM, as published in OpenCue's rqd tests


def checks(bf16: float | None, fp32: float | None, error: str = "exited with code -4") -> list[dtype.DecodeCheck]:
    return [
        dtype.DecodeCheck("bfloat16", bf16 is not None, bf16, error=None if bf16 else error),
        dtype.DecodeCheck("float32", fp32 is not None, fp32),
    ]


def test_cpu_flags_decide_whether_bf16_is_tried():
    assert dtype.cpu_bf16_support(EPYC) == (True, "AMD EPYC has avx512_bf16")
    has, why = dtype.cpu_bf16_support(HASWELL)
    assert not has and why.startswith("fp32, because this CPU (Intel(R) Xeon(R) CPU E5-2699 v3 @ 2.30GHz) lists none of")
    assert dtype.pick_dtype(HASWELL, checks(30.0, 60.0))[0] == "float32"  # never measured on such a CPU


def test_bf16_is_kept_only_when_it_runs_and_is_faster():
    assert dtype.pick_dtype(EPYC, checks(38.8, 58.0))[0] == "bfloat16"
    dtype_, why = dtype.pick_dtype(EPYC, checks(70.0, 58.0))
    assert (
        dtype_ == "float32" and why == "fp32, because bf16 was slower on this CPU (70.0 against 58.0 ms per token, median TPOT)"
    )
    dtype_, why = dtype.pick_dtype(EPYC, checks(None, 58.0))
    assert dtype_ == "float32" and "bf16 path failed on this CPU (exited with code -4)" in why


def test_a_forced_dtype_is_not_measured_and_says_so(tmp_path):
    choice = dtype.choose_dtype("fp32", cache=tmp_path / "none.json")
    assert choice.dtype == "float32" and choice.forced and "forced" in choice.reason and not (tmp_path / "none.json").exists()
    with pytest.raises(ServingError, match="bfloat16 or float32"):
        dtype.choose_dtype("int8")


def test_the_likelier_winner_boots_last_and_a_cpu_without_bf16_boots_nothing():
    assert dtype.checks_to_run(EPYC) == ("float32", "bfloat16") and dtype.checks_to_run(HASWELL) == ()


def test_a_recorded_choice_is_read_back_only_for_the_cpu_it_was_made_on(tmp_path):
    path = tmp_path / "choice.json"
    made = dtype.record_choice(read_cpuinfo(), checks(24.8, 31.2), path)
    assert dtype.cached_choice(read_cpuinfo(), path) == made and made.checks == checks(24.8, 31.2)
    assert dtype.cached_choice(HASWELL, path) is None and dtype.cached_choice(read_cpuinfo(), tmp_path / "none") is None


def test_a_memory_row_is_read_back_for_its_dtype_and_key_only(tmp_path):
    from helpers.serving.memory import MemoryRow, record_row, recorded_row

    path = tmp_path / "rows.json"
    bf16 = MemoryRow("m", "vllm-cpu", "bf16", 3_493_000_000, 3_468_000_000, 0.7, 322_800_000, -90.7, 4)
    record_row(bf16, "key-a", path)
    record_row(MemoryRow(**{**bf16.to_json(), "dtype": "fp32"}), "key-a", path)  # a second dtype keeps the first
    assert recorded_row("bfloat16", "key-a", path) == bf16 and recorded_row("float32", "key-a", path).dtype == "fp32"
    assert recorded_row("bfloat16", "key-b", path) is None  # another CPU or vLLM build measures again


def test_a_cached_choice_is_reused_for_the_same_cpu_and_build(tmp_path):
    key = dtype.choice_key(read_cpuinfo())
    cached = dtype.DtypeChoice("bfloat16", "bf16, measured earlier", "cpu", "2026-11-23T12:00:00+00:00", key=key)
    path = tmp_path / "choice.json"
    path.write_text(__import__("json").dumps(cached.to_json()))
    assert dtype.choose_dtype(cache=path) == cached


# ---------------------------------------------------------------- launch commands and deployment files


def test_launch_command_keeps_the_key_in_the_environment_and_adds_tensor_parallel():
    command = serving.vllm_serve_command("Qwen/Qwen2.5-72B-Instruct", max_model_len=8192, gpu_memory_gb=80)
    assert "--tensor-parallel-size 4" in command and "--host 127.0.0.1" in command and "--api-key" not in command
    assert serving.tensor_parallel_size("Qwen/Qwen2.5-0.5B-Instruct", gpu_memory_gb=24, max_model_len=8192) == 1
    unknown = serving.vllm_serve_command("/models/my-finetune", max_model_len=2048, gpu_memory_gb=24)
    assert unknown.startswith("vllm serve /models/my-finetune --host 127.0.0.1") and "not sized by the estimator" in unknown
    sglang = serving.sglang_command("Qwen/Qwen2.5-72B-Instruct", max_model_len=8192, tensor_parallel=4)
    assert "--tp 4" in sglang and '--api-key "$VLLM_API_KEY"' in sglang  # the shell expands it: never typed or printed


def test_compose_and_nginx_files_are_structurally_sound(tmp_path):
    yaml = pytest.importorskip("yaml")
    layout = serving.deployment_files("Qwen/Qwen2.5-72B-Instruct", replicas=2, gpu_memory_gb=80, max_model_len=8192)
    compose = yaml.safe_load(layout.compose_yaml)
    services = compose["services"]
    assert sorted(services) == ["nginx", "vllm-0", "vllm-1"] and layout.tensor_parallel_size == 4
    for name, service in services.items():
        assert "healthcheck" in service, name
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        command = service.get("command", [])
        if "0.0.0.0" in command:  # only inside the compose network, and only with a key
            assert "VLLM_API_KEY" in service["environment"] and "${VLLM_API_KEY" in service["environment"]["VLLM_API_KEY"]
    assert services["vllm-1"]["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] == ["4", "5", "6", "7"]
    assert services["vllm-0"]["image"].startswith("vllm/vllm-openai:")
    nginx = layout.nginx_conf
    assert nginx.count("{") == nginx.count("}") and "limit_req zone=per_client" in nginx and "access_log" in nginx
    assert all(f"server vllm-{i}:8000" in nginx for i in range(2)) and "proxy_buffering off" in nginx
    assert layout.replica_urls == ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"]
    written = layout.write(tmp_path)
    assert [p.name for p in written] == ["docker-compose.yml", "nginx.conf"]


def test_a_model_the_estimator_does_not_know_gets_one_gpu_per_replica_and_says_so():
    yaml = pytest.importorskip("yaml")
    layout = serving.deployment_files("/models/my-finetune.gguf", replicas=1, gpu_memory_gb=24, max_model_len=2048)
    assert layout.tensor_parallel_size == 1 and "could not size it: 1 GPU per replica assumed" in layout.compose_yaml
    assert sorted(yaml.safe_load(layout.compose_yaml)["services"]) == ["nginx", "vllm-0"]


@pytest.mark.parametrize(("replicas", "rate"), [(0, 10), (1.5, 10), (1, 0)])
def test_bad_layouts_are_refused(replicas, rate):
    with pytest.raises(ServingError):
        serving.deployment_files(
            "Qwen/Qwen2.5-0.5B-Instruct", replicas=replicas, gpu_memory_gb=24, max_model_len=4096, rate_per_s=rate
        )


# ---------------------------------------------------------------- typed records


def test_a_models_list_that_is_empty_or_different_is_explained():
    ready = serving.Readiness("http://127.0.0.1:8000/v1", 1.0, [], None, None, True)
    with pytest.raises(ServingError, match="lists no model"):
        ready.model_to_use("HuggingFaceTB/SmolLM2-135M-Instruct")
    ready.served_models = ["Qwen/Qwen2.5-0.5B-Instruct"]
    model, note = ready.model_to_use("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert model == "Qwen/Qwen2.5-0.5B-Instruct" and "not HuggingFaceTB/SmolLM2-135M-Instruct" in note


def test_benchmark_round_trips_and_an_old_file_is_explained(tmp_path):
    bench = serving.Benchmark(
        "2026-11-23T12:00:00+00:00",
        "m",
        ["http://127.0.0.1:1/v1"],
        {"127.0.0.1:1": 1},
        "cpu",
        1,
        8,
        0,
        SLO,
        {},
        [level(10)],
        capacity=capacity_at(1.0, 10.0),
        cost=price(capacity=capacity_at(1.0, 10.0)),
        origin=CPU,
    )
    bench.write(tmp_path / "benchmark.json")
    assert serving.read_benchmark(tmp_path / "benchmark.json") == bench
    (tmp_path / "old.json").write_text('{"levels": []}')
    with pytest.raises(ServingError, match="re-run notebook 04"):
        serving.read_benchmark(tmp_path / "old.json")
    with pytest.raises(ServingError, match="run notebook 04_rented_gpu_route first"):
        serving.read_benchmark(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("given", "expected"), [("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"), ("http://h:1/v1/", "http://h:1/v1")]
)
def test_base_url_ends_in_v1(given, expected):
    assert normalize_base_url(given) == expected


# ---------------------------------------------------------------- what notebook 04 prints


def test_an_unconfirmed_capacity_reads_as_not_confirmed_with_every_trial(capsys):
    from helpers.lessons.serving import show_capacity

    show_capacity(cap.search_capacity(scripted([True, True, False, True]), SLO, tolerance=0.3))
    printed = capsys.readouterr().out
    assert "capacity: not confirmed (indeterminate)" in printed and "req/s, confirmed" not in printed
    assert "trials at 1.5 req/s: 0 of 1 met the SLO" in printed and "trials at 0.5 req/s: 0 of 1" in printed


def test_a_confirmed_capacity_reads_with_its_spread(capsys):
    from helpers.lessons.serving import show_capacity

    show_capacity(cap.search_capacity(probe_with_knee(3.75), SLO, tolerance=0.1))
    printed = capsys.readouterr().out
    assert "confirmed on all 3 trials" in printed and "3 of 3 met the SLO" in printed and "the search took" in printed


def test_unknown_hardware_prints_no_price(capsys):
    from helpers.lessons.serving import show_cost

    show_cost(price(UNKNOWN, capacity_at(4.0, 300.0), boot_s=30, target_qps=5))
    printed = capsys.readouterr().out
    assert "not priced" in printed and "per 1M" not in printed and "per month" not in printed and "GPU" not in printed


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("NVIDIA L4", "L4"),
        ("NVIDIA L40S", None),
        ("NVIDIA A100-SXM4-80GB", "A100 80GB"),
        ("Tesla T4", "T4"),
        ("A100", "A100 80GB"),
    ],
)
def test_a_gpu_name_matches_the_catalogue_word_by_word(name, known):
    assert cost.catalogue_gpu(name) == known
