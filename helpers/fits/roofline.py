"""The bandwidth ceiling: how fast decoding could possibly go on this machine, and how close each runtime comes.

Generating one token reads every weight the forward pass uses once, plus the KV
cache of the context so far. On a CPU (and for small batches on a GPU) that
read, not arithmetic, sets the pace, hence the deployment guide's rule
*decode tokens/s ≈ memory bandwidth ÷ model size*. This module makes the rule
exact enough to test against:

* **bytes read per token** = weight bytes the step touches + KV bytes per token
  × tokens in context. The input embedding is a lookup (one row per token), so
  an *untied* model reads only one row of it; a *tied* model reads the whole
  matrix anyway, as its output head. Leaving the head out would flatter small
  models, whose embedding is a large share of the weights (21 % of SmolLM2).
* **ceiling tokens/s** = measured read bandwidth ÷ bytes read per token.
* **percent of ceiling** = measured decode tokens/s ÷ ceiling.

Bandwidth is measured here, not taken from a datasheet: numpy reduces a
512 MiB array (16 times this CPU's L3 cache), once per thread count, best of
five. ``benchmarks/bandwidth.py`` runs it and writes ``outputs/bandwidth.json``.
"""

from __future__ import annotations

import csv
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from helpers.catalogue.gguf_header import GGUFTensor
from helpers.catalogue.models import gguf_header
from helpers.core.clock import timestamp
from helpers.core.paths import atomic_write_json, atomic_write_text, csv_text, output
from helpers.machine.environment import machine_description

GB = 1e9
MEASURE_BYTES = 512 * 2**20
REPEATS = 5
METHOD = (
    "numpy bitwise-OR reduction over a 512 MiB int64 array (larger than any CPU cache), split evenly across "
    "1..N threads (numpy releases the GIL), best of 5 per thread count; bandwidth = bytes read / wall time"
)


class RooflineError(ValueError):
    """An input the ceiling arithmetic cannot use (a zero bandwidth, a negative byte count)."""


# --------------------------------------------------------------------------- arithmetic


def weight_bytes_read_per_token(weight_bytes: int, embedding_bytes: int, vocab_size: int, *, tied: bool) -> int:
    """Weight bytes one decode step reads: all of them, except an untied input embedding, of which one row is read."""
    if min(weight_bytes, embedding_bytes) < 0 or vocab_size < 1 or embedding_bytes > weight_bytes:
        raise RooflineError(
            f"weight_bytes={weight_bytes}, embedding_bytes={embedding_bytes}, vocab_size={vocab_size}: "
            "need 0 <= embedding_bytes <= weight_bytes and vocab_size >= 1."
        )
    if tied:
        return weight_bytes  # the embedding matrix is read in full as the output head
    return weight_bytes - embedding_bytes + embedding_bytes // vocab_size


def bytes_per_token(weight_bytes_read: int, kv_bytes_per_token: float, context_tokens: int) -> int:
    """Weights read once per token, plus the KV cache of every token already in context."""
    if weight_bytes_read <= 0 or kv_bytes_per_token < 0 or context_tokens < 0:
        raise RooflineError("bytes per token needs positive weight bytes and a non-negative KV size and context.")
    return int(weight_bytes_read + kv_bytes_per_token * context_tokens)


def ceiling_tokens_per_s(bandwidth_gb_s: float, bytes_read_per_token: float) -> float:
    """The most decode tokens per second memory can feed: bandwidth ÷ bytes read per token."""
    if bandwidth_gb_s <= 0 or bytes_read_per_token <= 0:
        raise RooflineError(
            f"bandwidth {bandwidth_gb_s} GB/s and {bytes_read_per_token} bytes per token must both be positive; "
            "measure the bandwidth with `python benchmarks/bandwidth.py`."
        )
    return bandwidth_gb_s * GB / bytes_read_per_token


def pct_of_ceiling(tokens_per_s: float, ceiling: float) -> float:
    """Measured decode speed as a percentage of the ceiling."""
    return 100.0 * tokens_per_s / ceiling


def gguf_tensors(path: Path | str) -> tuple[GGUFTensor, ...]:
    """A GGUF's tensor table, from its header as :func:`helpers.catalogue.models.gguf_header` reads it once per process."""
    return gguf_header(path).tensors


def gguf_weight_bytes_read(path: Path | str) -> int:
    """Exact weight bytes a decode step reads from a GGUF file, from its tensor table (no data loaded)."""
    tensors = {t.name: t for t in gguf_tensors(str(path))}
    if "token_embd.weight" not in tensors:
        raise RooflineError(f"{Path(path).name} has no token_embd.weight tensor; is it a language model GGUF?")
    embedding = tensors["token_embd.weight"]
    return weight_bytes_read_per_token(
        sum(t.n_bytes for t in tensors.values()), embedding.n_bytes, embedding.rows, tied="output.weight" not in tensors
    )


# --------------------------------------------------------------------------- measuring bandwidth


@dataclass(frozen=True)
class Bandwidth:
    """This machine's measured memory read bandwidth, with how and where it was measured."""

    gb_s: float
    by_threads: dict[int, float]
    hardware: str
    method: str
    measured_at: str

    def to_json(self) -> dict:
        return {**asdict(self), "by_threads": {str(k): v for k, v in self.by_threads.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Bandwidth:
        return cls(**{**data, "by_threads": {int(k): float(v) for k, v in data["by_threads"].items()}})


def _read_once(chunks: list) -> float:
    import numpy as np

    threads = [threading.Thread(target=np.bitwise_or.reduce, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def measure_bandwidth(max_threads: int | None = None, size_bytes: int = MEASURE_BYTES) -> Bandwidth:
    """Read a large array with 1..N threads; the best rate over thread counts is the machine's read bandwidth."""
    import numpy as np

    data = np.ones(size_bytes // 8, dtype=np.int64)
    by_threads = {}
    for count in range(1, (max_threads or os.cpu_count() or 1) + 1):
        chunks = np.array_split(data, count)
        best = min(_read_once(chunks) for _ in range(REPEATS))
        by_threads[count] = round(data.nbytes / best / GB, 2)
    return Bandwidth(max(by_threads.values()), by_threads, machine_description(), METHOD, timestamp())


def write_bandwidth(bandwidth: Bandwidth) -> Path:
    return atomic_write_json(output("bandwidth"), bandwidth.to_json())


def measured_bandwidth() -> Bandwidth | None:
    """The last measurement on this machine, or None when there is none (or it came from other hardware)."""
    path = output("bandwidth")
    if not path.is_file():
        return None
    found = Bandwidth.from_json(json.loads(path.read_text(encoding="utf-8")))
    return found if found.hardware == machine_description() else None


def bandwidth(*, remeasure: bool = False) -> Bandwidth:
    """The measured bandwidth, measuring (about 10 s) and saving it first when there is none for this machine."""
    found = None if remeasure else measured_bandwidth()
    if found is None:
        found = measure_bandwidth()
        write_bandwidth(found)
    return found


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class RooflineRow:
    """One runtime's decode speed against the ceiling; the columns of ``outputs/roofline.csv``."""

    runtime: str
    model: str
    dtype: str
    tokens_per_s: float
    bytes_per_token: int
    bandwidth_gb_s: float
    ceiling_tokens_per_s: float
    pct_of_ceiling: float

    @classmethod
    def measured(cls, runtime: str, model: str, dtype: str, tokens_per_s: float, bytes_read: int, bw: float) -> RooflineRow:
        ceiling = ceiling_tokens_per_s(bw, bytes_read)
        return cls(
            runtime,
            model,
            dtype,
            round(tokens_per_s, 1),
            bytes_read,
            bw,
            round(ceiling, 1),
            round(pct_of_ceiling(tokens_per_s, ceiling), 1),
        )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> RooflineRow:
        types = {f.name: f.type for f in fields(cls)}
        return cls(**{k: (float(v) if types[k] == "float" else int(v) if types[k] == "int" else v) for k, v in data.items()})


COLUMNS = [f.name for f in fields(RooflineRow)]


def write_roofline(rows: list[RooflineRow]) -> Path:
    return atomic_write_text(output("roofline"), csv_text((row.to_json() for row in rows), COLUMNS))


def read_roofline() -> list[RooflineRow]:
    path = output("roofline")
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [RooflineRow.from_json(row) for row in csv.DictReader(handle)]
