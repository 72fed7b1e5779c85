"""The lesson's production checklist, checked against the live server: pass, fail or unknown, each with its fix.

From the deployment guide: a health check, ``--max-model-len`` set, a key
required, loopback binding, metrics with queue depth and KV-cache use, an error
rate under load, and request logging. "unknown" means the client cannot see it
from where it stands; it is never counted as a pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from helpers.catalogue.models import ModelError, candidate_shape
from helpers.core import clock
from helpers.core.i18n import _
from helpers.core.paths import atomic_write_json, output, relative
from helpers.runtimes.client import host_port, normalize_base_url, server_root
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

    def write(self) -> str:
        atomic_write_json(output("checklist"), self.to_json())
        return relative(output("checklist"))


def _health(base_url: str) -> CheckItem:
    name, fix = (
        _("health check"),
        _("Use a server with GET /health (vLLM has one) and point the load balancer's health check at it."),
    )
    try:
        status = httpx.get(server_root(base_url) + "/health", timeout=5).status_code
    except httpx.TransportError as error:
        return CheckItem(name, "unknown", _("/health could not be reached ({error})").format(error=type(error).__name__), fix)
    return CheckItem(name, "pass" if status == 200 else "fail", _("GET /health answered {status}").format(status=status), fix)


def _max_model_len(readiness: Readiness, model_max: int | None) -> CheckItem:
    name = _("max_model_len below the model's maximum")
    fix = _("Start the server with --max-model-len set to the longest context the project needs (it sizes the KV cache).")
    if readiness.max_model_len is None or model_max is None:
        detail = _("server reports max_model_len={server}, model maximum {model}")
        return CheckItem(name, "unknown", detail.format(server=readiness.max_model_len, model=model_max), fix)
    ok = readiness.max_model_len < model_max
    detail = _("max_model_len {server} against the model's {model}").format(server=readiness.max_model_len, model=model_max)
    return CheckItem(name, "pass" if ok else "fail", detail, fix)


def _key_required(base_url: str) -> CheckItem:
    name = _("API key required")
    fix = _("Start vLLM with VLLM_API_KEY set in its environment (llama.cpp: --api_key); a request without it must get 401.")
    try:
        status = httpx.get(normalize_base_url(base_url) + "/models", timeout=5).status_code
    except httpx.TransportError as error:
        return CheckItem(name, "unknown", _("/v1/models could not be reached ({error})").format(error=type(error).__name__), fix)
    if status == 401:
        return CheckItem(name, "pass", _("a request without a key got 401"), fix)
    detail = _("a request without a key got {status}: this server has no authentication").format(status=status)
    return CheckItem(name, "fail", detail, fix)


def _loopback(base_url: str, server_host: str | None) -> CheckItem:
    name = _("bound to loopback")
    fix = _("Bind the server to 127.0.0.1 and reach it through an SSH tunnel ({command}).").format(
        command="ssh -N -L 8000:127.0.0.1:8000 user@gpu-host"
    )
    host = urlsplit(normalize_base_url(base_url)).hostname
    if server_host is not None:
        ok = server_host in LOOPBACK
        return CheckItem(
            name, "pass" if ok else "fail", _("the server was started with --host {host}").format(host=server_host), fix
        )
    if host in LOOPBACK:
        detail = _("reached at {host}: a server on this machine or a tunnel; check the GPU host binds 127.0.0.1 too")
        return CheckItem(name, "pass", detail.format(host=host), fix)
    detail = _("reached at {host}, a non-loopback address: the port is exposed").format(host=host)
    return CheckItem(name, "fail", detail, fix)


def _metrics(base_url: str) -> CheckItem:
    item = _("metrics: queue depth and KV cache")
    fix = _("Expose /metrics to your monitoring only, and alert on {waiting} and {kv_cache}.").format(
        waiting="vllm:num_requests_waiting", kv_cache="vllm:kv_cache_usage_perc"
    )
    scraped = scrape_metrics(base_url)
    if scraped is None:
        return CheckItem(item, "fail", _("no /metrics endpoint"), fix)
    seen = [name for name in ("requests_waiting", "kv_cache_usage") if name in scraped]
    ok = len(seen) == 2
    detail = (
        _("queue depth {waiting:g}, KV cache in use {kv_cache:.1f}%").format(
            waiting=scraped["requests_waiting"], kv_cache=100 * scraped["kv_cache_usage"]
        )
        if ok
        else _("/metrics lacks {missing}").format(missing=", ".join({"requests_waiting", "kv_cache_usage"} - set(seen)))
    )
    return CheckItem(item, "pass" if ok else "fail", detail, fix)


def _error_rate(levels: list[Level]) -> CheckItem:
    name = _("error rate under {limit:g}% under load").format(limit=MAX_ERROR_RATE_PCT)
    fix = _("Read each failure reason in the benchmark table; lower concurrency, raise max_model_len, or add replicas.")
    total = sum(level.requests for level in levels)
    if not total:
        return CheckItem(name, "unknown", _("no benchmark has run"), fix)
    failed = sum(level.failures for level in levels)
    rate = 100 * failed / total
    detail = _("{failed} of {total} benchmark requests failed ({rate:.1f}%)").format(failed=failed, total=total, rate=rate)
    return CheckItem(name, "pass" if rate < MAX_ERROR_RATE_PCT else "fail", detail, fix)


def _logging(log_path: Path | None) -> CheckItem:
    name = _("request logging")
    fix = _(
        "Keep one log line per request with status and latency (the generated nginx.conf does), and ship the server "
        "log; vLLM's --enable-log-requests adds per-request detail."
    )
    if log_path is None:
        return CheckItem(name, "unknown", _("the server's log is on the GPU host: check it has one line per request"), fix)
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    lines = sum("POST /v1/chat/completions" in line for line in text.splitlines())
    detail = _("{lines} chat request line(s) in the server log (status only; latency and tokens are in the benchmark)").format(
        lines=lines
    )
    return CheckItem(name, "pass" if lines else "fail", detail, fix)


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


def model_max_len(model: str) -> int | None:
    """The model's own context limit, from the catalogue's config numbers; ``None`` for a model it lacks."""
    try:
        return candidate_shape(model).context_length
    except ModelError:
        return None
