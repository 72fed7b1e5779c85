"""Route 3: one OpenAI-compatible endpoint (or several), measured the way vLLM measures itself.

Route 3 rents a GPU by the hour, so the notebook must be right the first time.
Everything here is rehearsed against real vLLM (its CPU build, started by
:class:`RehearsalServer`) and works unchanged against a rented GPU reached on
localhost or through an SSH tunnel. The modules, one concept each, bottom to top:

* :mod:`~helpers.serving.tunnel`, :mod:`~helpers.serving.readiness`, :mod:`~helpers.serving.errors`:
  reaching the server, waiting until it is ready, and one sentence per failure.
* :mod:`~helpers.serving.stream`: transport only, the time of every content chunk.
* :mod:`~helpers.serving.metrics`: the arithmetic, every metric defined once in one table.
* :mod:`~helpers.serving.load`, :mod:`~helpers.serving.capacity`: concurrency levels, request
  rates, and the highest rate that meets an SLO.
* :mod:`~helpers.serving.server_metrics`: the server's own ``/metrics``.
* :mod:`~helpers.serving.origin`: what served the requests (this machine, a tunnel, or unknown hardware).
* :mod:`~helpers.serving.cost`, :mod:`~helpers.serving.checklist`, :mod:`~helpers.serving.launch`:
  what it costs on the machine that served it, whether it is production-ready, and how to launch it past one GPU.
* :mod:`~helpers.serving.rehearsal`, :mod:`~helpers.serving.dtype`, :mod:`~helpers.serving.memory`,
  :mod:`~helpers.serving.shutdown`: the free rehearsal server, its measured dtype and memory, and the
  proof that a server is stopped.
* :mod:`~helpers.serving.offline_batch`: the same engine with no server (``LLM``, ``SamplingParams``), as batch jobs use it.
* :mod:`~helpers.serving.benchmark`: the typed ``benchmark.json`` and :func:`read_benchmark`.

API keys come from an environment variable or Colab Secrets and are never printed.
"""

from helpers.machine.environment import machine_description
from helpers.serving.benchmark import Benchmark, read_benchmark, run_benchmark
from helpers.serving.capacity import Capacity, measure_capacity, search_capacity
from helpers.serving.checklist import Checklist
from helpers.serving.cost import CostNote, cost_note, deployment_plan, hourly_price
from helpers.serving.dtype import DtypeChoice, choose_dtype
from helpers.serving.errors import explain, rehearse_failures
from helpers.serving.launch import deployment_files, sglang_command, tensor_parallel_size, vllm_serve_command
from helpers.serving.load import run_rate
from helpers.serving.metrics import DEFAULT_SLO_MS, Level, Percentiles
from helpers.serving.origin import Origin, served_by, with_host_gpu
from helpers.serving.readiness import Readiness, wait_until_ready
from helpers.serving.rehearsal import VLLM_CACHE, VLLM_PYTHON, RehearsalServer
from helpers.serving.server_metrics import MetricsDelta, metrics_delta, scrape_metrics
from helpers.serving.shutdown import (
    ShutdownProof,
    host_check_command,
    prove_endpoint,
    prove_local,
    prove_remote,
    read_shutdown_proof,
)
from helpers.serving.stream import StreamResult, time_stream
from helpers.serving.tunnel import BINDING_RULE, tunnel_command

__all__ = [
    "BINDING_RULE",
    "DEFAULT_SLO_MS",
    "VLLM_CACHE",
    "VLLM_PYTHON",
    "Benchmark",
    "Capacity",
    "Checklist",
    "CostNote",
    "DtypeChoice",
    "Level",
    "MetricsDelta",
    "Origin",
    "Percentiles",
    "Readiness",
    "RehearsalServer",
    "ShutdownProof",
    "StreamResult",
    "choose_dtype",
    "cost_note",
    "deployment_files",
    "deployment_plan",
    "explain",
    "hourly_price",
    "machine_description",
    "host_check_command",
    "measure_capacity",
    "metrics_delta",
    "prove_endpoint",
    "prove_local",
    "prove_remote",
    "read_benchmark",
    "read_shutdown_proof",
    "rehearse_failures",
    "run_benchmark",
    "run_rate",
    "scrape_metrics",
    "search_capacity",
    "served_by",
    "sglang_command",
    "tensor_parallel_size",
    "time_stream",
    "tunnel_command",
    "vllm_serve_command",
    "wait_until_ready",
    "with_host_gpu",
]
