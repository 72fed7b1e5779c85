"""Launch commands and deployment files for a rented GPU, generated from the decision and the estimator.

Everything generated here keeps three rules: the server binds to loopback (or,
inside a container network, is reached only through the load balancer, which
binds to loopback); the API key travels in ``VLLM_API_KEY`` from the
environment and is never written into a command or a file; and
``--max-model-len`` is set, so the KV cache is sized for the context the
project needs rather than the model's maximum.

Past one GPU: :func:`tensor_parallel_size` splits a model that does not fit,
and :func:`deployment_files` writes a ``docker-compose.yml`` for N vLLM replicas
(the official ``vllm/vllm-openai`` image) behind an nginx load balancer with
rate limiting and request logging. The engine is vLLM itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from helpers.catalogue.models import ModelError, candidate_shape
from helpers.core.i18n import N_, Sentence, _
from helpers.core.names import API_KEY_ENV
from helpers.core.net import LOCALHOST
from helpers.core.paths import atomic_write_text
from helpers.fits import estimator
from helpers.runtimes.client import ServingError

#: Pin the image to the vLLM version you tested; 0.32.0 is the rehearsal server's.
VLLM_IMAGE = "vllm/vllm-openai:v0.32.0"
NGINX_IMAGE = "nginx:1.27-alpine"
KEY_NOTE = Sentence(
    N_("export {variable}=...   # a long random secret, typed once on the GPU host; never commit or print it"),
    variable=API_KEY_ENV,
)

#: Said beside the SGLang line wherever it is printed: its key is in the host's process list.
SGLANG_KEY_WARNING = Sentence(
    N_(
        "SGLang takes the key only as --api-key: the shell fills it in from {variable}, but every user of the GPU host "
        "can read it with ps, so run this line only on a host you alone log into"
    ),
    variable=API_KEY_ENV,
)


def tensor_parallel_size(model: str, *, dtype: str = "bf16", gpu_memory_gb: float, max_model_len: int) -> int:
    """GPUs one replica needs: 1, or the smallest power of two whose share of the weights fits (the estimator's)."""
    return estimator.vllm_budget(candidate_shape(model), dtype, gpu_memory_gb, max_model_len=max_model_len).tensor_parallel_size


def vllm_serve_command(model: str, *, max_model_len: int, gpu_memory_gb: float, dtype: str = "bf16", port: int = 8000) -> str:
    """The ``vllm serve`` line: loopback only, sized by the estimator; vLLM reads the key from ``VLLM_API_KEY``.

    A model outside the catalogue gets vLLM's default memory share and a shell comment saying it was not sized.
    """
    parts = [f"vllm serve {model}", f"--host {LOCALHOST}", f"--port {port}", f"--max-model-len {max_model_len}"]
    try:
        budget = estimator.vllm_budget(candidate_shape(model), dtype, gpu_memory_gb, max_model_len=max_model_len)
    except ModelError:
        return " ".join(parts) + "   # not in data/model_catalogue.json: not sized by the estimator, check it fits one GPU"
    parts.append(f"--gpu-memory-utilization {budget.gpu_memory_utilization:.2f}")
    if budget.tensor_parallel_size > 1:
        parts.insert(4, f"--tensor-parallel-size {budget.tensor_parallel_size}")
    return " ".join(parts)


def sglang_command(model: str, *, max_model_len: int, tensor_parallel: int = 1, port: int = 30000) -> str:
    """SGLang's launch line (not run here: no SGLang CPU build is installed).

    SGLang takes its key as ``--api-key``; the shell expands it from the environment, so it is never typed or
    printed, but it is visible in the GPU host's process list.
    """
    parts = [
        f"python -m sglang.launch_server --model-path {model}",
        f"--host {LOCALHOST}",
        f"--port {port}",
        f"--context-length {max_model_len}",
        f'--api-key "${API_KEY_ENV}"',
    ]
    if tensor_parallel > 1:
        parts.insert(3, f"--tp {tensor_parallel}")
    return " ".join(parts)


@dataclass
class DeploymentLayout:
    """N vLLM replicas behind nginx: the files, and the endpoints a benchmark can spread load over."""

    model: str
    replicas: int
    tensor_parallel_size: int
    compose_yaml: str
    nginx_conf: str
    balancer_url: str
    replica_urls: list[str]

    def write(self, folder: Path) -> list[Path]:
        return [
            atomic_write_text(folder / "docker-compose.yml", self.compose_yaml),
            atomic_write_text(folder / "nginx.conf", self.nginx_conf),
        ]


def _compose(model: str, replicas: int, tp: int, max_model_len: int, port: int, rate_per_s: int) -> str:
    lines = [
        f"# {replicas} vLLM replica(s) of {model}, {tp} GPU(s) each, behind nginx on {LOCALHOST}:{port}.",
        f"# Start with `{API_KEY_ENV}=... docker compose up -d`; the key comes from the environment, never this file.",
        f"# nginx limits each client to {rate_per_s} requests/s and logs latency per request.",
        "services:",
    ]
    for index in range(replicas):
        gpus = ", ".join(f'"{g}"' for g in range(index * tp, (index + 1) * tp))
        command = [
            "--model",
            model,
            "--served-model-name",
            model,
            "--host",
            "0.0.0.0",
            "--port",
            "8000",
            "--max-model-len",
            str(max_model_len),
            "--tensor-parallel-size",
            str(tp),
        ]
        lines += [
            f"  vllm-{index}:",
            f"    image: {VLLM_IMAGE}",
            f"    command: {json.dumps(command)}",
            "    environment:",
            f'      {API_KEY_ENV}: "${{{API_KEY_ENV}:?set {API_KEY_ENV} on the GPU host}}"',
            '      HF_TOKEN: "${HF_TOKEN:-}"',
            "    ipc: host",
            '    volumes: ["${HOME}/.cache/huggingface:/root/.cache/huggingface"]',
            f'    ports: ["{LOCALHOST}:{port + 1 + index}:8000"]  # this replica alone, for measuring it directly',
            "    deploy:",
            "      resources:",
            "        reservations:",
            f"          devices: [{{driver: nvidia, device_ids: [{gpus}], capabilities: [gpu]}}]",
            "    healthcheck:",
            '      test: ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen(\'http://127.0.0.1:8000/health\')"]',
            "      interval: 10s",
            "      timeout: 5s",
            "      retries: 60",
            "      start_period: 600s",
            "    restart: unless-stopped",
        ]
    lines += [
        "  nginx:",
        f"    image: {NGINX_IMAGE}",
        f'    ports: ["{LOCALHOST}:{port}:8000"]',
        '    volumes: ["./nginx.conf:/etc/nginx/nginx.conf:ro"]',
        "    depends_on:",
        *[f"      vllm-{index}: {{condition: service_healthy}}" for index in range(replicas)],
        "    healthcheck:",
        '      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8000/nginx-health"]',
        "      interval: 10s",
        "      timeout: 5s",
        "      retries: 3",
        "    restart: unless-stopped",
    ]
    return "\n".join(lines) + "\n"


def _nginx(replicas: int, rate_per_s: int) -> str:
    servers = "\n".join(f"        server vllm-{index}:8000 max_fails=3 fail_timeout=30s;" for index in range(replicas))
    return f"""# Load balancer for {replicas} vLLM replica(s): least connections, rate limited, one log line per request.
events {{}}
http {{
    limit_req_zone $binary_remote_addr zone=per_client:10m rate={rate_per_s}r/s;
    limit_req_status 429;
    log_format timing '$time_iso8601 $remote_addr "$request" $status '
                      '$request_time s upstream=$upstream_addr $upstream_response_time s';
    access_log /dev/stdout timing;

    upstream vllm {{
        least_conn;
{servers}
    }}

    server {{
        listen 8000;
        location = /nginx-health {{
            return 200 "ok\\n";
        }}
        location / {{
            limit_req zone=per_client burst={2 * rate_per_s} nodelay;
            proxy_pass http://vllm;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_read_timeout 300s;
            proxy_set_header Host $host;
            proxy_set_header Authorization $http_authorization;
        }}
    }}
}}
"""


def deployment_files(
    model: str,
    *,
    replicas: int,
    gpu_memory_gb: float,
    max_model_len: int,
    dtype: str = "bf16",
    port: int = 8000,
    rate_per_s: int = 10,
) -> DeploymentLayout:
    """docker-compose.yml and nginx.conf for ``replicas`` vLLM replicas of ``model``, each sized by the estimator."""
    if not isinstance(replicas, int) or replicas < 1:
        raise ServingError(_("replicas must be a whole number of at least 1; got {value}.").format(value=repr(replicas)))
    if rate_per_s < 1:
        raise ServingError(
            _("rate_per_s (nginx's per-client limit) must be at least 1; got {value}.").format(value=repr(rate_per_s))
        )
    try:
        tp, sizing = tensor_parallel_size(model, dtype=dtype, gpu_memory_gb=gpu_memory_gb, max_model_len=max_model_len), ""
    except ModelError:
        tp, sizing = (
            1,
            f"# {model} is not in data/model_catalogue.json, so the estimator could not size it: 1 GPU per replica assumed.\n",
        )
    return DeploymentLayout(
        model,
        replicas,
        tp,
        sizing + _compose(model, replicas, tp, max_model_len, port, rate_per_s),
        _nginx(replicas, rate_per_s),
        f"http://{LOCALHOST}:{port}/v1",
        [f"http://{LOCALHOST}:{port + 1 + index}/v1" for index in range(replicas)],
    )
