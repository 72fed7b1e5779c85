"""What the runtime landscape measured: one typed result per runtime, and the set with the hardware it ran on.

``helpers.measured.landscape`` measures and caches these; the lesson views read
them. They live apart so the arithmetic of measuring and the shape of a result
can each be read on their own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from helpers.measured.endpoint_probe import Capabilities

RUNTIMES = ("transformers", "llama.cpp", "llama.cpp-server", "vllm")
#: Not a fifth runtime: llama.cpp in process again, on the lesson's candidate_1 (offline, its Qwen sibling's Q4_K_M GGUF),
#: measured for the roofline, where a 0.5 GB file makes the bandwidth ceiling mean something.
CANDIDATE = "llama.cpp-candidate"
LABELS = {
    "transformers": "Transformers (local API skeleton)",
    "llama.cpp": "llama.cpp in process",
    "llama.cpp-server": "llama.cpp server (llama_cpp.server)",
    "vllm": "vLLM (rehearsal server, CPU build)",
    CANDIDATE: "llama.cpp in process (candidate_1)",  # a name, like the others: the same in every language
}


@dataclass(frozen=True)
class RuntimeResult:
    """One runtime measured here: quality on the fixed cases, speed, memory, start-up and endpoint."""

    runtime: str
    model: str
    dtype: str
    cases_passed: int
    cases: int
    constrained: bool
    ttft_ms: float | None
    #: Single-stream decode tokens/s (:data:`helpers.machine.speed.DECODE_LABEL`), from the median request.
    decode_tokens_per_s: float
    #: Output throughput at concurrency 1 and 4 (``helpers.serving.metrics``): all requests' tokens ÷ the level's time.
    throughput_c1: float | None
    throughput_c4: float | None
    peak_rss_mb: float
    cold_start_s: float
    capabilities: Capabilities | None
    notes: tuple[str, ...] = ()
    failures_c4: int = 0
    #: The 1-minute load average when the measurement ended: other work on the cores slows every figure.
    load_average: float | None = None

    @property
    def label(self) -> str:
        return LABELS[self.runtime]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> RuntimeResult:
        caps = data.get("capabilities")
        return cls(**{**data, "capabilities": Capabilities(**caps) if caps else None, "notes": tuple(data.get("notes", ()))})


@dataclass(frozen=True)
class Landscape:
    """Every runtime measured here, where and when; and the ones not measured here, with why."""

    results: list[RuntimeResult]
    hardware: str
    measured_at: str
    #: The runtimes not measured in this runtime, each with the sentence that says why and how to get it.
    not_run: dict[str, str] = field(default_factory=dict)
    #: The lesson's candidate on llama.cpp (:data:`CANDIDATE`), where the shelf has it and ``make`` measured it.
    candidate: RuntimeResult | None = None

    def result(self, runtime: str) -> RuntimeResult:
        return next(r for r in self.results if r.runtime == runtime)
