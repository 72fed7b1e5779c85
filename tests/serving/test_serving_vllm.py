"""The route-3 client against real servers: vLLM's CPU build, and llama.cpp's server as a non-vLLM peer.

One vLLM rehearsal server is shared by the module (it takes 40-65 s to boot on
2 cores), in the dtype measured for this CPU (cached in ``.vllm-cache/``). Its
tests run in file order and end with the shutdown proof and what follows it:
a capacity search against the stopped server, and an endpoint-only proof.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from helpers import serving
from helpers.core.names import API_KEY_ENV, SMOLLM2
from helpers.core.net import free_port
from helpers.core.paths import NOTEBOOKS, REPO_ROOT, outputs_dir
from helpers.evals import OpenAIRunner, load_cases, run_cases
from helpers.runtimes.client import ServingError, make_client
from helpers.serving import checklist as production
from helpers.serving import metrics

pytestmark = pytest.mark.slow

HELLO = [{"role": "user", "content": "Say hello to a customer."}]
SLO = {"ttft": 500.0, "tpot": 50.0}


@pytest.fixture(scope="module")
def vllm():
    server = serving.RehearsalServer(dtype=serving.choose_dtype().dtype, served_name=SMOLLM2).start()
    try:
        with pytest.raises(
            ServingError, match=r"No answer from 127\.0\.0\.1:\d+ within 0 s: the server may still be booting, or the SSH tunnel"
        ):
            serving.wait_until_ready(server.base_url, deadline_s=0.0)
        server.wait(deadline_s=400)
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(vllm):
    return make_client(vllm.base_url)


def test_readiness_reports_model_limit_and_version(vllm):
    ready = vllm.readiness
    assert ready.served_models == [SMOLLM2] and ready.max_model_len == 2048
    assert ready.version == "0.32.0" and ready.has_health and ready.notes == []
    assert ready.model_to_use("Qwen/Qwen2.5-0.5B-Instruct") == (
        SMOLLM2,
        f"the server serves {SMOLLM2}, not Qwen/Qwen2.5-0.5B-Instruct: requests use {SMOLLM2}",
    )


def test_server_binds_localhost_and_keeps_the_key_off_the_command_line(vllm):
    command = " ".join(vllm.command())
    assert "--host 127.0.0.1" in command and "--api-key" not in command and f"--dtype {vllm.dtype}" in command
    assert os.environ[API_KEY_ENV] not in command


def test_chat(client):
    reply = client.chat.completions.create(model=SMOLLM2, messages=HELLO, max_tokens=8, temperature=0.0)
    assert reply.choices[0].message.content and reply.usage.completion_tokens <= 8


def test_stream_timing_uses_usage_and_vllm_definitions(client):
    result = serving.time_stream(client, SMOLLM2, HELLO, max_tokens=12, extra_body={"ignore_eos": True})
    assert result.ok and metrics.tokens_from(result) == "usage" and metrics.output_tokens(result) == 12
    assert 0 < metrics.ttft(result) < metrics.e2el(result) and result.finish_reason == "length"
    assert metrics.tpot(result) == pytest.approx((metrics.e2el(result) - metrics.ttft(result)) / 11)
    assert sum(metrics.itl(result)) == pytest.approx(metrics.e2el(result) - metrics.ttft(result))


def test_concurrency_and_request_rate_over_two_endpoints_with_metrics_deltas(vllm, tmp_path):
    urls = [vllm.base_url, vllm.base_url.replace("127.0.0.1", "localhost")]  # two addresses, one replica here
    before = serving.scrape_metrics(vllm.base_url)
    bench = serving.run_benchmark(
        urls,
        SMOLLM2,
        [HELLO],
        levels=(1, 2),
        rates=(2.0,),
        requests_per_level=4,
        max_tokens=8,
        warmup=1,
        extra_body={"ignore_eos": True},
        slo_ms=SLO,
    )
    after = serving.scrape_metrics(vllm.base_url)
    assert [lv.completed for lv in bench.levels + bench.rate_levels] == [4, 4, 4]
    assert all(lv.failures == 0 and lv.failure_reasons == {} for lv in bench.levels + bench.rate_levels)
    assert sorted(bench.requests_per_endpoint.values()) == [6, 6]
    rate = bench.rate_levels[0]
    assert rate.request_rate == 2.0 and rate.valid and rate.client_lag_p90_ms is not None and rate.load == "2 req/s (Poisson)"
    for level in bench.levels + bench.rate_levels:
        assert level.ttft_ms.median > 0 and level.tpot_ms.p99 >= level.tpot_ms.median
        assert level.goodput <= level.request_throughput and level.tokens_from == ["usage"]
    delta = serving.metrics_delta(before, after)
    assert delta.available and delta.requests == 13 and delta.generation_tokens == 13 * 8
    assert delta.preemptions == 0 and delta.server_ttft_mean_ms > 0 and delta.requests_waiting_after == 0
    assert bench.origin is None and bench.hardware == serving.machine_description()  # two endpoints, both this machine
    bench.write(tmp_path / "benchmark.json")
    assert serving.read_benchmark(tmp_path / "benchmark.json") == bench


def test_a_replayed_schedule_sends_when_told_and_reports_the_given_rate(vllm):
    from helpers.serving.load import replay_schedule

    level = replay_schedule(vllm.base_url, SMOLLM2, [HELLO], [0.0, 0.4, 0.8], rate=2.5, slo_ms=SLO, max_tokens=4)
    assert (level.requests, level.completed, level.request_rate) == (3, 3, 2.5)
    assert level.duration_s >= 0.8 and level.valid  # the last request went out 0.8 s after the first, on time


def test_every_failed_request_carries_its_reason(vllm):
    bench = serving.run_benchmark(
        vllm.base_url, "no-such-model", [HELLO], levels=(2,), requests_per_level=3, max_tokens=4, warmup=0
    )
    level = bench.levels[0]
    assert level.failures == 3 and len(level.failure_reasons) == 1
    reason, count = next(iter(level.failure_reasons.items()))
    assert count == 3 and reason.startswith("HTTP 404:")


def test_capacity_search_against_the_live_server(vllm):
    found = serving.measure_capacity(
        vllm.base_url,
        SMOLLM2,
        [HELLO],
        slo_ms=SLO,
        start_rate=0.5,
        max_rate=2.0,
        tolerance=0.5,
        seconds_per_point=2.0,
        min_requests=3,
        max_tokens=8,
        budget_s=120.0,
    )
    assert found.status in set(serving.capacity.STATUSES) - {"aborted"}, found.note  # a live server is never "aborted"
    assert found.points[0].request_rate == 0.5 and all(p.valid for p in found.points[:-1])
    assert "Poisson" in found.method and found.slo == SLO and found.elapsed_s <= 120.0 + 30.0
    if found.max_request_rate is not None:
        held = [t for t in found.trials if t.request_rate == found.max_request_rate]
        assert len(held) == 3 and all(t.meets for t in held) and found.output_tokens_per_s_at_capacity > 0
    served = serving.served_by(vllm.base_url)  # the rehearsal server runs here: this machine, priced as its CPU
    assert served.kind == "this_machine" and served.hardware in (serving.machine_description(), None)


def test_production_checklist_passes_on_the_rehearsal_server(vllm, isolated_outputs):
    bench = serving.run_benchmark(vllm.base_url, SMOLLM2, [HELLO], levels=(1,), requests_per_level=2, max_tokens=4, warmup=0)
    checks = production.check(
        vllm.base_url,
        vllm.readiness,
        levels=bench.levels,
        model_max_len=production.model_max_len(SMOLLM2),
        server_host="127.0.0.1",
        log_path=vllm.log_path,
    )
    assert checks.counts == {"pass": 7, "fail": 0, "unknown": 0}, [i for i in checks.items if i.status != "pass"]
    checks.write()
    assert json.loads((isolated_outputs / "serving" / "checklist.json").read_text()) == checks.to_json()


def test_every_rehearsed_failure_is_refused_by_vllm(vllm):
    cases = serving.rehearse_failures(vllm.base_url, SMOLLM2, max_model_len=2048)
    assert [c.case for c in cases] == ["wrong API key", "unknown model", "prompt too long", "nothing listening"]
    assert all(c.refused for c in cases)
    assert "rejected the API key (401)" in cases[0].message and f"Served models: {SMOLLM2}." in cases[1].message
    assert "max_model_len of 2048 tokens" in cases[2].message and "ssh -N -L" in cases[3].message


def test_eval_through_the_endpoint_enforces_json_schema(client):
    cases = [c for c in load_cases() if c.case_id in ("en-json-ticket", "en-json-priority")]
    rows = run_cases(OpenAIRunner(client, SMOLLM2, runtime="vllm"), cases)
    assert [row.passed for row in rows] == [True, True]
    schema = cases[1].json_schema["properties"]["priority"]["enum"]
    assert json.loads(rows[1].output)["priority"] in schema  # the server enforced the case's own enum


def test_wrong_or_missing_key_is_401_explained(vllm, monkeypatch):
    import openai

    for value in ("not-the-key", ""):
        monkeypatch.setenv("OTHER_KEY", value)
        with pytest.raises(openai.AuthenticationError) as error:
            make_client(vllm.base_url, api_key_env="OTHER_KEY").models.list()
        message = str(serving.explain(error.value, vllm.base_url))
        assert "rejected the API key (401). Set VLLM_API_KEY" in message and os.environ[API_KEY_ENV] not in message


def test_unreachable_endpoint_names_host_port_and_tunnel():
    import openai

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(openai.APIConnectionError) as error:
        make_client(url).models.list()
    message = str(serving.explain(error.value, url))
    assert url.removeprefix("http://") in message and "ssh -N -L" in message and "booting" in message


def test_shutdown_proof_then_a_search_against_the_stopped_server(vllm, isolated_outputs):
    proof = serving.prove_local(vllm).write()
    assert proof.kind == "local_process" and proof.stopped is True and proof.process_exited and not proof.port_listening
    assert proof.health == "connection refused" and vllm.process.poll() is not None
    saved = serving.read_shutdown_proof()
    assert saved.stop_requested_at <= saved.checked_at and saved.gpu_processes is None and saved == proof
    endpoint = serving.prove_endpoint(vllm.base_url, wait_s=0)
    assert endpoint.kind == "endpoint_only" and endpoint.stopped is None  # never claims the instance stopped
    dead = serving.measure_capacity(
        vllm.base_url, SMOLLM2, [HELLO], slo_ms=SLO, seconds_per_point=0, min_requests=2, max_tokens=4
    )
    assert dead.status == "aborted" and dead.max_request_rate is None and "stopped answering" in dead.note


def test_api_key_never_appears_in_outputs_notebooks_or_logs(vllm):
    key = os.environ[API_KEY_ENV]
    places = [*outputs_dir().rglob("*"), *NOTEBOOKS.rglob("*.ipynb"), *(REPO_ROOT / ".vllm-cache" / "logs").glob("*.log")]
    leaks = [p for p in places if p.is_file() and key.encode() in p.read_bytes()]
    assert leaks == []


# ---------------------------------------------------------------- a non-vLLM OpenAI-compatible server


def test_non_vllm_server_degrades_and_says_what_it_could_not_measure(llama_server):
    process, url = llama_server
    ready = serving.wait_until_ready(url, deadline_s=120, process=process)
    assert not ready.has_health and ready.version is None
    assert any("no /health" in note for note in ready.notes) and any("no /version" in note for note in ready.notes)
    bench = serving.run_benchmark(url, "any", [HELLO], levels=(2,), requests_per_level=4, max_tokens=8, warmup=0)
    level = bench.levels[0]
    assert level.completed >= 1 and sum(level.failure_reasons.values()) == level.failures  # no failure without a reason
    assert level.tokens_from == [metrics.NO_USAGE]
    delta = serving.metrics_delta(serving.scrape_metrics(url), serving.scrape_metrics(url))
    assert not delta.available and delta.note == serving.server_metrics.NO_METRICS


def test_an_open_server_is_reported_as_a_finding(llama_server):
    process, url = llama_server
    ready = serving.wait_until_ready(url, deadline_s=120, process=process)
    cases = {c.case: c for c in serving.rehearse_failures(url, "any", max_model_len=2048)}
    assert not cases["wrong API key"].refused and "it has no authentication" in cases["wrong API key"].message
    assert not cases["unknown model"].refused and "answers any model name" in cases["unknown model"].message
    checks = production.check(url, ready, levels=[], model_max_len=None)
    status = {item.name: item.status for item in checks.items}
    assert status["API key required"] == "fail" and status["health check"] == "fail"
    assert status["metrics: queue depth and KV cache"] == "fail" and status["request logging"] == "unknown"


def test_server_killed_mid_stream_is_a_failure_with_a_reason_and_the_benchmark_goes_on(llama_server):
    process, url = llama_server
    serving.wait_until_ready(url, deadline_s=120, process=process)
    serving.time_stream(make_client(url), "any", HELLO, max_tokens=1)  # the first request is slow (seconds): not mid-answer
    killer = threading.Thread(target=lambda: (time.sleep(3.0), process.kill()))  # mid-answer: 1000 tokens take ~15 s
    killer.start()
    never_stop = {"logit_bias": {"0": -100, "2": -100}}  # SmolLM2's end tokens: it talks until the kill
    cut = serving.time_stream(make_client(url), "any", HELLO, max_tokens=1000, extra_body=never_stop)
    killer.join()
    assert not cut.ok and cut.failure and cut.text  # a partial answer, recorded as a failure
    bench = serving.run_benchmark(url, "any", [HELLO], levels=(1,), requests_per_level=3, max_tokens=8, warmup=0)
    level = bench.levels[0]
    assert level.failures == 3 and list(level.failure_reasons) == [next(iter(level.failure_reasons))]
    assert next(iter(level.failure_reasons)).startswith("connection error")
