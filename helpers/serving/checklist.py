"""The lesson's production checklist, checked against the live server: pass, fail or unknown, each with its fix.

From the deployment guide: a health check, ``--max-model-len`` set, a key
required, loopback binding, metrics with queue depth and KV-cache use, an error
rate under load, and request logging. "unknown" means the client cannot see it
from where it stands; it is never counted as a pass.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from helpers import clock, hardware
from helpers.client import ServingError, host_port, normalize_base_url, server_root
from helpers.paths import atomic_write_json, output, relative
from helpers.serving.metrics import Level
from helpers.serving.readiness import Readiness
from helpers.serving.server_metrics import scrape_metrics

MAX_ERROR_RATE_PCT = 1.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class CheckItem:
    name: str
    status: str  # pass | fail | unknown
    detail: str
    fix: str


@dataclass
class Checklist:
    endpoint: str
    checked_at: str
    items: list[CheckItem] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {status: sum(item.status == status for item in self.items) for status in ("pass", "fail", "unknown")}

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Checklist:
        return cls(data["endpoint"], data["checked_at"], [CheckItem(**item) for item in data["items"]])

    def write(self) -> str:
        atomic_write_json(output("checklist"), self.to_json())
        return relative(output("checklist"))


def _health(base_url: str) -> CheckItem:
    fix = "Use a server with GET /health (vLLM has one) and point the load balancer's health check at it."
    try:
        status = httpx.get(server_root(base_url) + "/health", timeout=5).status_code
    except httpx.TransportError as error:
        return CheckItem("health check", "unknown", f"/health could not be reached ({type(error).__name__})", fix)
    return CheckItem("health check", "pass" if status == 200 else "fail", f"GET /health answered {status}", fix)


def _max_model_len(readiness: Readiness, model_max: int | None) -> CheckItem:
    fix = "Start the server with --max-model-len set to the longest context the project needs (it sizes the KV cache)."
    if readiness.max_model_len is None or model_max is None:
        return CheckItem(
            "max_model_len below the model's maximum",
            "unknown",
            f"server reports max_model_len={readiness.max_model_len}, model maximum {model_max}",
            fix,
        )
    ok = readiness.max_model_len < model_max
    return CheckItem(
        "max_model_len below the model's maximum",
        "pass" if ok else "fail",
        f"max_model_len {readiness.max_model_len} against the model's {model_max}",
        fix,
    )


def _key_required(base_url: str) -> CheckItem:
    fix = "Start vLLM with VLLM_API_KEY set in its environment (llama.cpp: --api_key); a request without it must get 401."
    try:
        status = httpx.get(normalize_base_url(base_url) + "/models", timeout=5).status_code
    except httpx.TransportError as error:
        return CheckItem("API key required", "unknown", f"/v1/models could not be reached ({type(error).__name__})", fix)
    if status == 401:
        return CheckItem("API key required", "pass", "a request without a key got 401", fix)
    return CheckItem("API key required", "fail", f"a request without a key got {status}: this server has no authentication", fix)


def _loopback(base_url: str, server_host: str | None) -> CheckItem:
    fix = "Bind the server to 127.0.0.1 and reach it through an SSH tunnel (ssh -N -L 8000:127.0.0.1:8000 user@gpu-host)."
    host = urlsplit(normalize_base_url(base_url)).hostname
    if server_host is not None:
        ok = server_host in LOOPBACK
        return CheckItem("bound to loopback", "pass" if ok else "fail", f"the server was started with --host {server_host}", fix)
    if host in LOOPBACK:
        return CheckItem(
            "bound to loopback",
            "pass",
            f"reached at {host}: a server on this machine or a tunnel; check the GPU host binds 127.0.0.1 too",
            fix,
        )
    return CheckItem("bound to loopback", "fail", f"reached at {host}, a non-loopback address: the port is exposed", fix)


def _metrics(base_url: str) -> CheckItem:
    fix = "Expose /metrics to your monitoring only, and alert on vllm:num_requests_waiting and vllm:kv_cache_usage_perc."
    scraped = scrape_metrics(base_url)
    if scraped is None:
        return CheckItem("metrics: queue depth and KV cache", "fail", "no /metrics endpoint", fix)
    seen = [name for name in ("requests_waiting", "kv_cache_usage") if name in scraped]
    ok = len(seen) == 2
    detail = (
        f"queue depth {scraped['requests_waiting']:g}, KV cache in use {100 * scraped['kv_cache_usage']:.1f}%"
        if ok
        else f"/metrics lacks {', '.join({'requests_waiting', 'kv_cache_usage'} - set(seen))}"
    )
    return CheckItem("metrics: queue depth and KV cache", "pass" if ok else "fail", detail, fix)


def _error_rate(levels: list[Level]) -> CheckItem:
    fix = "Read each failure reason in the benchmark table; lower concurrency, raise max_model_len, or add replicas."
    total = sum(level.requests for level in levels)
    if not total:
        return CheckItem(f"error rate under {MAX_ERROR_RATE_PCT:g}% under load", "unknown", "no benchmark has run", fix)
    failed = sum(level.failures for level in levels)
    rate = 100 * failed / total
    return CheckItem(
        f"error rate under {MAX_ERROR_RATE_PCT:g}% under load",
        "pass" if rate < MAX_ERROR_RATE_PCT else "fail",
        f"{failed} of {total} benchmark requests failed ({rate:.1f}%)",
        fix,
    )


def _logging(log_path: Path | None) -> CheckItem:
    fix = (
        "Keep one log line per request with status and latency (the generated nginx.conf does), and ship the server "
        "log; vLLM's --enable-log-requests adds per-request detail."
    )
    if log_path is None:
        return CheckItem(
            "request logging", "unknown", "the server's log is on the GPU host: check it has one line per request", fix
        )
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    lines = sum("POST /v1/chat/completions" in line for line in text.splitlines())
    return CheckItem(
        "request logging",
        "pass" if lines else "fail",
        f"{lines} chat request line(s) in the server log (status only; latency and tokens are in the benchmark)",
        fix,
    )


def check(
    base_url: str,
    readiness: Readiness,
    *,
    levels: list[Level],
    model_max_len: int | None,
    server_host: str | None = None,
    log_path: Path | None = None,
) -> Checklist:
    """Run every item against the live server. ``server_host`` and ``log_path`` are known only for a server started here."""
    items = [
        _health(base_url),
        _max_model_len(readiness, model_max_len),
        _key_required(base_url),
        _loopback(base_url, server_host),
        _metrics(base_url),
        _error_rate(levels),
        _logging(log_path),
    ]
    return Checklist(host_port(base_url), clock.timestamp(), items)


def read_checklist(path: Path | None = None) -> Checklist:
    """The checklist notebook 04 wrote (``outputs/serving/checklist.json`` unless ``path``), typed."""
    target = path or output("checklist")
    if not target.is_file():
        raise ServingError(f"No checklist at {relative(target)}: run notebook 04_rented_gpu_route first.")
    return Checklist.from_json(json.loads(target.read_text(encoding="utf-8")))


def model_max_len(model: str) -> int | None:
    """The model's own context limit, from the catalogue's config numbers; ``None`` for a model it lacks."""
    try:
        return hardware.candidate_shape(model).context_length
    except hardware.EstimateError:
        return None
