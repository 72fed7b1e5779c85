"""The server's own view: vLLM's Prometheus ``/metrics``, scraped before and after a load.

Counters are compared as deltas between two snapshots, so requests made before
the benchmark do not count. Old and new vLLM metric names are both accepted,
and labels (model, finish reason) are summed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import httpx

from helpers.runtimes.client import server_root

METRIC_NAMES = {  # what we report -> vLLM's names, newest first
    "generation_tokens": ("vllm:generation_tokens_total",),
    "prompt_tokens": ("vllm:prompt_tokens_total",),
    "requests": ("vllm:request_success_total",),
    "preemptions": ("vllm:num_preemptions_total",),
    "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    "requests_waiting": ("vllm:num_requests_waiting",),
    "requests_running": ("vllm:num_requests_running",),
    "ttft_sum": ("vllm:time_to_first_token_seconds_sum",),
    "ttft_count": ("vllm:time_to_first_token_seconds_count",),
    "itl_sum": ("vllm:inter_token_latency_seconds_sum", "vllm:time_per_output_token_seconds_sum"),
    "itl_count": ("vllm:inter_token_latency_seconds_count", "vllm:time_per_output_token_seconds_count"),
}
NO_METRICS = "no /metrics endpoint: server-side tokens, preemptions, KV-cache use and TTFT could not be measured"


def parse_metrics(text: str) -> dict[str, float]:
    """Sum each reported series over its labels, accepting vLLM's old and new metric names."""
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    found = {}
    for key, names in METRIC_NAMES.items():
        for name in names:
            if name in totals:
                found[key] = totals[name]
                break
    return found


def scrape_metrics(base_url: str) -> dict[str, float] | None:
    """The server's ``/metrics``, parsed; ``None`` for a server without it."""
    try:
        response = httpx.get(server_root(base_url) + "/metrics", timeout=10)
    except httpx.TransportError:
        return None
    return parse_metrics(response.text) if response.status_code == 200 else None


@dataclass
class MetricsDelta:
    """What the server counted between two snapshots, beside its own latency means."""

    available: bool
    note: str = ""
    generation_tokens: int | None = None
    prompt_tokens: int | None = None
    requests: int | None = None
    preemptions: int | None = None
    kv_cache_usage_after: float | None = None
    requests_waiting_after: float | None = None
    server_ttft_mean_ms: float | None = None
    server_itl_mean_ms: float | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> MetricsDelta:
        return cls(**data)


def metrics_delta(before: dict[str, float] | None, after: dict[str, float] | None) -> MetricsDelta:
    if before is None or after is None:
        return MetricsDelta(available=False, note=NO_METRICS)

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    def mean_ms(total: str, count: str) -> float | None:
        return round(1000 * delta(total) / delta(count), 2) if delta(count) else None

    return MetricsDelta(
        available=True,
        generation_tokens=int(delta("generation_tokens")),
        prompt_tokens=int(delta("prompt_tokens")),
        requests=int(delta("requests")),
        preemptions=int(delta("preemptions")),
        kv_cache_usage_after=after.get("kv_cache_usage"),
        requests_waiting_after=after.get("requests_waiting"),
        server_ttft_mean_ms=mean_ms("ttft_sum", "ttft_count"),
        server_itl_mean_ms=mean_ms("itl_sum", "itl_count"),
    )
