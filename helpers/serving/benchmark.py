"""A benchmark run as one typed record: its load, its levels, and what was learnt from them.

``outputs/serving/benchmark.json`` holds one :class:`Benchmark`. Notebook 04
writes it, and the decision record's evidence reads it with
:func:`read_benchmark`. Both use attributes, never nested keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.core import clock
from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV
from helpers.core.paths import atomic_write_json, output, relative
from helpers.runtimes.client import ServingError
from helpers.serving.capacity import Capacity
from helpers.serving.cost import CostNote
from helpers.serving.load import Load, run_levels
from helpers.serving.metrics import Level, check_slo, slo_text
from helpers.serving.origin import Origin, served_by
from helpers.serving.server_metrics import MetricsDelta

#: 3: the capacity keeps its trials, and the benchmark and its cost say what served the requests (``origin``).
FORMAT = 3


@dataclass
class Benchmark:
    created_at: str
    model: str
    endpoints: list[str]
    requests_per_endpoint: dict[str, int]
    hardware: str
    requests_per_level: int
    max_tokens: int
    warmup: int
    slo_ms: dict[str, float]
    extra_body: dict
    levels: list[Level]
    rate_levels: list[Level] = field(default_factory=list)
    server_version: str | None = None
    max_model_len: int | None = None
    dtype: str | None = None
    dtype_reason: str | None = None
    capacity: Capacity | None = None
    server_metrics: MetricsDelta | None = None
    cost: CostNote | None = None
    origin: Origin | None = None
    format: int = FORMAT

    @property
    def goodput_definition(self) -> str:
        return f"requests per second meeting {slo_text(self.slo_ms)}"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Benchmark:
        if data.get("format") != FORMAT:
            raise ServingError(
                _("This benchmark.json has format {found}, not {wanted}: re-run notebook 04 to write it again.").format(
                    found=repr(data.get("format")), wanted=FORMAT
                )
            )
        data = dict(data)
        data["levels"] = [Level.from_json(level) for level in data["levels"]]
        data["rate_levels"] = [Level.from_json(level) for level in data.get("rate_levels", [])]
        for name, kind in (("capacity", Capacity), ("server_metrics", MetricsDelta), ("cost", CostNote), ("origin", Origin)):
            data[name] = kind.from_json(data[name]) if data.get(name) else None
        return cls(**data)

    def write(self, path: Path | None = None) -> str:
        target = path or output("benchmark")
        atomic_write_json(target, self.to_json())
        return relative(target)

    @classmethod
    def load(cls, path: Path | None = None) -> Benchmark:
        return read_benchmark(path)


def read_benchmark(path: Path | None = None) -> Benchmark:
    """The benchmark notebook 04 wrote (``outputs/serving/benchmark.json`` unless ``path``), typed."""
    target = path or output("benchmark")
    if not target.is_file():
        raise ServingError(_("No benchmark at {path}: run notebook 04_rented_gpu_route first.").format(path=relative(target)))
    return Benchmark.from_json(json.loads(target.read_text(encoding="utf-8")))


def run_benchmark(
    base_urls: str | list[str],
    model: str,
    prompts: list[list[dict]],
    *,
    levels: Iterable[int] = (1, 2, 4, 8),
    rates: Iterable[float] = (),
    requests_per_level: int = 16,
    max_tokens: int = 32,
    warmup: int = 2,
    burstiness: float = 1.0,
    seed: int = 0,
    api_key_env: str = API_KEY_ENV,
    extra_body: dict | None = None,
    slo_ms: dict[str, float] | None = None,
) -> Benchmark:
    """Concurrency levels (closed loop) and request rates (open loop), spread round-robin over ``base_urls``.

    ``hardware`` is what served the requests (:func:`helpers.serving.origin.served_by`), not the client's machine:
    "unknown hardware" for a tunnel, and for several endpoints unless each is this machine.
    """
    urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
    origins = [served_by(url) for url in urls]
    hardware = {origin.hardware for origin in origins}
    slo = check_slo(slo_ms)
    load = Load(urls, model, prompts, max_tokens, extra_body, api_key_env)
    closed, opened = run_levels(
        load,
        concurrency_levels=levels,
        rates=rates,
        requests=requests_per_level,
        warmup=warmup,
        slo_ms=slo,
        burstiness=burstiness,
        seed=seed,
    )
    return Benchmark(
        clock.timestamp(),
        model,
        urls,
        load.per_endpoint,
        hardware.pop() if len(hardware) == 1 and None not in hardware else _("unknown hardware"),
        requests_per_level,
        max_tokens,
        warmup,
        slo,
        extra_body or {},
        closed,
        opened,
        origin=origins[0] if len(origins) == 1 else None,
    )
