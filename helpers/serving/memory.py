"""The rehearsal server's memory: predicted from the model's config against the measured RSS of its processes.

vLLM's CPU build runs four processes (API server, engine core, worker, and a
small helper), and the first three each import torch and vLLM. The prediction is the estimator's structure: the weights
in the server's dtype, plus the KV cache vLLM reserves up front
(``VLLM_CPU_KVCACHE_SPACE``, 1 GiB here, whatever the prompt), plus a runtime
overhead. That overhead has its own constant, measured on the course machine
like the README's torch and llama.cpp constants: part of the fit is calibration.
What the row checks is that one constant holds for both dtypes.

Setup's dtype check boots the server anyway, so the runtime landscape measures
this row on those boots (:func:`memory_row_on`, kept by :func:`record_row`) and
the memory check reads it back instead of booting vLLM again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.catalogue.models import shape_from_config_file
from helpers.core.clock import timestamp
from helpers.core.paths import keep_json_entry, read_json_object
from helpers.fits import estimator
from helpers.runtimes.client import make_client
from helpers.serving.dtype import choose_dtype
from helpers.serving.rehearsal import KV_CACHE_GIB, VLLM_CACHE, RehearsalServer
from helpers.serving.stream import time_stream

#: Python, torch and vLLM in every server process, before weights and KV cache (MB). Measured on the course machine
#: (AMD EPYC, 2 cores, vllm-cpu 0.32.0, SmolLM2-135M): RSS of all processes after one request, minus weights and KV
#: cache, was 2134 MB in bf16 and 2150 MB in fp32.
VLLM_CPU_OVERHEAD_MB = 2150.0
RUNTIME = "vllm-cpu"
#: Rows measured on setup's dtype-check boots, by dtype, with the CPU and vLLM build they were measured on.
ROWS_FILE = VLLM_CACHE / "memory_rows.json"


@dataclass
class MemoryRow:
    model: str
    runtime: str
    dtype: str
    predicted_bytes: int
    measured_bytes: int
    error_pct: float
    rule_of_thumb_bytes: int
    rule_error_pct: float
    processes: int

    def to_json(self) -> dict:
        return asdict(self)

    def csv_row(self) -> dict:
        """The columns of ``outputs/memory_check.csv``."""
        return {key: value for key, value in self.to_json().items() if key != "processes"}


def predicted_bytes(server: RehearsalServer) -> tuple[int, int]:
    """(the prediction, the ×1.2 rule of thumb) for ``server``'s model in its dtype."""
    shape = shape_from_config_file(server.model_dir / "config.json")
    weights = estimator.parameter_count(shape) * estimator.BYTES_PER_PARAM[estimator.normalize_dtype(server.dtype)]
    return int(weights + KV_CACHE_GIB * 2**30 + VLLM_CPU_OVERHEAD_MB * 1e6), estimator.rule_of_thumb(int(weights))


def server_rss(pid: int) -> tuple[int, int]:
    """Resident memory of a process and all its children (bytes), and how many processes that is."""
    import psutil

    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    return sum(process.memory_info().rss for process in processes), len(processes)


def memory_row_on(server: RehearsalServer) -> MemoryRow:
    """Serve one request on a freshly booted ``server``, then read the RSS of its processes (it keeps running)."""
    time_stream(
        make_client(server.base_url, api_key_env=server.api_key_env),
        server.served_name,
        [{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=16,
    )
    measured, processes = server_rss(server.pid)
    predicted, rule = predicted_bytes(server)
    return MemoryRow(
        server.served_name,
        RUNTIME,
        estimator.normalize_dtype(server.dtype),
        predicted,
        measured,
        round(100 * (predicted - measured) / measured, 1),
        rule,
        round(100 * (rule - measured) / measured, 1),
        processes,
    )


def measure_rehearsal_memory(dtype: str) -> MemoryRow:
    """Boot the rehearsal server in ``dtype``, measure its row (:func:`memory_row_on`), stop it."""
    server = RehearsalServer(dtype=dtype).start()
    try:
        server.wait()
        return memory_row_on(server)
    finally:
        server.stop()


def record_row(row: MemoryRow, key: str, path: Path = ROWS_FILE) -> None:
    """Keep ``row`` for its dtype, measured on the CPU and vLLM build ``key`` names (``helpers.serving.dtype.choice_key``)."""
    keep_json_entry(path, row.dtype, {"key": key, "measured_at": timestamp(), "row": row.to_json()})


def recorded_row(dtype: str, key: str, path: Path = ROWS_FILE) -> MemoryRow | None:
    """The row kept for ``dtype`` on this CPU and vLLM build, or ``None``."""
    kept = read_json_object(path).get(estimator.normalize_dtype(dtype))
    return MemoryRow(**kept["row"]) if kept and kept["key"] == key else None


def rehearsal_memory_row() -> dict:
    """The memory check's row for the rehearsal server, in the dtype it runs (see :mod:`helpers.serving.dtype`):
    the one setup measured on its dtype-check boot where there is one, else measured now."""
    choice = choose_dtype()
    return (recorded_row(choice.dtype, choice.key) or measure_rehearsal_memory(choice.dtype)).csv_row()
