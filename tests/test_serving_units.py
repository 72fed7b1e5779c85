"""Serving logic that needs no model: readiness on a dead engine, old metric names, percentiles, cost."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import serving
from helpers.serving import ServingError


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
    parsed = serving.parse_metrics(OLD_NAMES)
    assert parsed["kv_cache_usage"] == 0.25 and parsed["requests"] == 5.0
    delta = serving.metrics_delta({"itl_sum": 0.0, "itl_count": 0.0}, parsed)
    assert delta["server_itl_mean_ms"] == 50.0 and delta["generation_tokens"] == 40


def test_percentiles_interpolate_like_numpy():
    values = [0.001 * v for v in range(1, 101)]
    stats = serving.percentiles(values)
    assert stats == {"mean": 50.5, "median": 50.5, "p90": 90.1, "p99": 99.01}
    assert serving.percentiles([]) == {"mean": None, "median": None, "p90": None, "p99": None}


def test_cost_note_prices_measured_throughput():
    bench = {"levels": [{"concurrency": 1, "output_throughput": 100.0}]}
    cost = serving.cost_note(bench, 3.6, boot_s=60, idle_s=600)
    assert cost["levels"][0]["usd_per_million_output_tokens"] == 10.0  # $3.6/h = $0.001/s; 1e6 tokens take 1e4 s
    assert cost["boot_usd"] == 0.06 and cost["idle_usd"] == 0.6
    with pytest.raises(ServingError, match="gpu_hourly_usd"):
        serving.cost_note(bench, -1, boot_s=0, idle_s=0)


@pytest.mark.parametrize(("given", "expected"), [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"), ("http://h:1/v1/", "http://h:1/v1")])
def test_base_url_ends_in_v1(given, expected):
    assert serving.normalize_base_url(given) == expected


def test_base_url_without_scheme_is_an_error():
    with pytest.raises(ServingError, match="must start with http"):
        serving.normalize_base_url("127.0.0.1:8000")


def test_launch_command_adds_tensor_parallel_when_one_gpu_is_too_small():
    from helpers.decision import vllm_serve_command

    command = vllm_serve_command("Qwen/Qwen2.5-72B-Instruct", max_model_len=8192, gpu_memory_gb=80)
    assert "--tensor-parallel-size 4" in command and "--host 127.0.0.1" in command
