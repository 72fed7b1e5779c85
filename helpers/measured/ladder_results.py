"""What the quantization ladder measured: one typed row per level, the table's columns, and the set with its hardware.

``helpers.measured.ladder`` measures and caches these; the lesson views read
them. ``tokens_per_s`` is decode tokens/s (:data:`helpers.machine.speed.DECODE_LABEL`);
the CSV column keeps its short name because the cached tables and their readers use it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields

from helpers.core.paths import csv_text


@dataclass(frozen=True)
class LadderRow:
    """One level of the ladder; the columns of ``outputs/quantization/ladder.csv``."""

    quant: str
    file_mb: float
    predicted_mb: float
    peak_rss_mb: float
    #: Decode tokens/s: the tokens after the first over the time after the first (``helpers.machine.speed``).
    tokens_per_s: float
    cases_passed: int
    cases: int
    kl_divergence: float
    top1_agreement: float

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> LadderRow:
        kinds = {f.name: f.type for f in fields(cls)}
        return cls(**{k: {"float": float, "int": int}.get(kinds[k], str)(v) for k, v in data.items()})


COLUMNS = [f.name for f in fields(LadderRow)]


def rows_csv(rows: list[LadderRow]) -> str:
    """The rows as ``ladder.csv``'s text, header first."""
    return csv_text((row.to_json() for row in rows), COLUMNS)


def rows_from_csv(text: str) -> list[LadderRow]:
    """``ladder.csv``'s text as typed rows."""
    return [LadderRow.from_json(r) for r in csv.DictReader(io.StringIO(text))]


@dataclass(frozen=True)
class Ladder:
    """The measured ladder and where it was measured (the figures mean nothing without the hardware)."""

    rows: list[LadderRow]
    hardware: str
    llama_cpp: str
    source: str
    measured_at: str
    n_threads: int
    context_tokens: int
    #: The 1-minute load average while decoding, mean over levels: other work on the cores slows every figure.
    load_average: float | None = None

    def row(self, quant: str) -> LadderRow:
        return next(r for r in self.rows if r.quant == quant)
