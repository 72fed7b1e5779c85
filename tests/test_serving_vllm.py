"""The route-3 client against real servers: vLLM's CPU build, and llama.cpp's server as a non-vLLM peer.

One vLLM rehearsal server is shared by the module (it takes 40-65 s to boot on
2 cores); its tests run in file order and end with the shutdown proof.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from helpers import serving
from helpers.evals import OpenAIRunner, load_cases, run_cases
from helpers.local_api import free_port
from helpers.paths import NOTEBOOKS, OUTPUTS, REPO_ROOT
from helpers.serving import ServingError

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
HELLO = [{"role": "user", "content": "Say hello to a customer."}]


@pytest.fixture(scope="module")
def vllm():
    server = serving.RehearsalServer(served_name=MODEL).start()
    try:
        with pytest.raises(ServingError, match=r"No answer from 127\.0\.0\.1:\d+ within 0 s: the server may still be booting, or the SSH tunnel"):
            serving.wait_until_ready(server.base_url, deadline_s=0.0)
        server.readiness = server.wait(deadline_s=400)
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(vllm):
    return serving.make_client(vllm.base_url)


def test_readiness_reports_model_limit_and_version(vllm):
    ready = vllm.readiness
    assert ready.served_models == [MODEL] and ready.max_model_len == 2048
    assert ready.version == "0.32.0" and ready.has_health and ready.notes == []


def test_server_binds_localhost_and_keeps_the_key_off_the_command_line(vllm):
    command = " ".join(vllm.command())
    assert "--host 127.0.0.1" in command and "--api-key" not in command
    assert os.environ["VLLM_API_KEY"] not in command


def test_chat(client):
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8, temperature=0.0)
    assert reply.choices[0].message.content and reply.usage.completion_tokens <= 8


def test_stream_timing_uses_usage_and_vllm_definitions(client):
    result = serving.time_stream(client, MODEL, HELLO, max_tokens=12, extra_body={"ignore_eos": True})
    assert result.ok and result.tokens_from == "usage" and result.completion_tokens == 12
    assert 0 < result.ttft < result.e2el
    assert result.tpot == pytest.approx((result.e2el - result.ttft) / 11)
    assert len(result.itl) == len(result.text and result.itl)  # gaps only between content chunks
    assert sum(result.itl) == pytest.approx(result.e2el - result.ttft)


def test_benchmark_over_two_endpoints_and_metrics_deltas(vllm, tmp_path):
    urls = [vllm.base_url, vllm.base_url.replace("127.0.0.1", "localhost")]  # two addresses, one replica here
    before = serving.scrape_metrics(vllm.base_url)
    bench = serving.run_benchmark(urls, MODEL, [HELLO], levels=(1, 2), requests_per_level=4, max_tokens=8, warmup=1,
                                  extra_body={"ignore_eos": True})
    after = serving.scrape_metrics(vllm.base_url)
    assert [lv["completed"] for lv in bench["levels"]] == [4, 4] and all(lv["failures"] == 0 for lv in bench["levels"])
    assert sorted(bench["requests_per_endpoint"].values()) == [4, 4]
    for level in bench["levels"]:
        assert level["ttft_ms"]["median"] > 0 and level["tpot_ms"]["p99"] >= level["tpot_ms"]["median"]
        assert level["goodput"] <= level["request_throughput"] and level["tokens_from"] == ["usage"]
    delta = serving.metrics_delta(before, after)
    assert delta["available"] and delta["requests"] == 9 and delta["generation_tokens"] == 9 * 8
    assert delta["preemptions"] == 0 and delta["server_ttft_mean_ms"] > 0
    assert serving.write_benchmark(bench, tmp_path).endswith("benchmark.json")
    cost = serving.cost_note(bench, 2.5, boot_s=vllm.readiness.ready_after_s, idle_s=10)
    rate = bench["levels"][0]["output_throughput"]
    assert cost["levels"][0]["usd_per_million_output_tokens"] == pytest.approx(2.5 / 3600 / rate * 1e6, rel=0.01)


def test_eval_through_the_endpoint_enforces_json_schema(client):
    cases = [c for c in load_cases() if c.case_id in ("en-json-ticket", "en-json-priority")]
    rows = run_cases(OpenAIRunner(client, MODEL, runtime="vllm"), cases)
    assert [row["passed"] for row in rows] == [True, True]  # plain prompting passes neither (route 1's tables)
    assert json.loads(rows[1]["output"])["priority"] in ("low", "medium", "high")


def test_wrong_or_missing_key_is_401_explained(vllm, monkeypatch):
    import openai

    for value in ("not-the-key", ""):
        monkeypatch.setenv("OTHER_KEY", value)
        with pytest.raises(openai.AuthenticationError) as error:
            serving.make_client(vllm.base_url, api_key_env="OTHER_KEY").models.list()
        message = str(serving.explain(error.value, vllm.base_url))
        assert "rejected the API key (401). Set VLLM_API_KEY" in message and os.environ["VLLM_API_KEY"] not in message


def test_unknown_model_lists_the_served_ones(vllm, client):
    import openai

    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="gpt-5", messages=HELLO, max_tokens=4)
    assert f"Served models: {MODEL}." in str(serving.explain(error.value, vllm.base_url))


def test_prompt_over_max_model_len_states_the_limit(vllm, client):
    import openai

    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "word " * 3000}], max_tokens=4)
    assert "max_model_len of 2048 tokens" in str(serving.explain(error.value, vllm.base_url))


def test_unreachable_endpoint_names_host_port_and_tunnel():
    import openai

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(openai.APIConnectionError) as error:
        serving.make_client(url).models.list()
    message = str(serving.explain(error.value, url))
    assert url.removeprefix("http://") in message and "ssh -N -L" in message and "booting" in message


def test_shutdown_proof(vllm, tmp_path):
    proof = serving.stop_and_prove(vllm, vllm.base_url, outputs=tmp_path)
    assert proof["health"] == "connection refused" and proof["stopped"] is True
    assert vllm.process.poll() is not None
    saved = json.loads((tmp_path / "serving" / "shutdown_proof.json").read_text())
    assert saved["stop_requested_at"] <= saved["health_checked_at"] and saved["gpu_processes"] is None


def test_api_key_never_appears_in_outputs_notebooks_or_logs(vllm):
    key = os.environ["VLLM_API_KEY"]
    places = [*OUTPUTS.rglob("*"), *NOTEBOOKS.glob("*.ipynb"), *(REPO_ROOT / ".vllm-cache" / "logs").glob("*.log")]
    leaks = [p for p in places if p.is_file() and key.encode() in p.read_bytes()]
    assert leaks == []


# ---------------------------------------------------------------- a non-vLLM OpenAI-compatible server


def test_non_vllm_server_degrades_and_says_what_it_could_not_measure(llama_server):
    process, url = llama_server
    ready = serving.wait_until_ready(url, deadline_s=120, process=process)
    assert not ready.has_health and ready.version is None
    assert any("no /health" in note for note in ready.notes) and any("no /version" in note for note in ready.notes)
    bench = serving.run_benchmark(url, "any", [HELLO], levels=(1,), requests_per_level=2, max_tokens=8, warmup=0)
    assert bench["levels"][0]["completed"] == 2
    assert bench["levels"][0]["tokens_from"] == ["chunk count (the server sent no usage)"]
    delta = serving.metrics_delta(serving.scrape_metrics(url), serving.scrape_metrics(url))
    assert delta == {"available": False, "note": "no /metrics endpoint: server-side tokens, preemptions, KV-cache use and TTFT could not be measured"}


def test_server_killed_mid_stream_is_a_failure_and_the_benchmark_goes_on(llama_server):
    process, url = llama_server
    serving.wait_until_ready(url, deadline_s=120, process=process)
    client = serving.make_client(url)
    killer = threading.Thread(target=lambda: (time.sleep(1.0), process.kill()))
    killer.start()
    never_stop = {"logit_bias": {"0": -100, "2": -100}}  # SmolLM2's end tokens: it talks until the kill
    cut = serving.time_stream(client, "any", HELLO, max_tokens=1000, extra_body=never_stop)
    killer.join()
    assert not cut.ok and cut.error and cut.text  # a partial answer, recorded as a failure
    bench = serving.run_benchmark(url, "any", [HELLO], levels=(1,), requests_per_level=3, max_tokens=8, warmup=0)
    assert bench["levels"][0]["failures"] == 3 and bench["levels"][0]["failure_examples"]
