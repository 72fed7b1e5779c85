"""The fixed eval cases in the rehearsal server's other dtype: a dtype is part of the decision.

Greedy decoding takes the most likely token at every step. bf16 rounds the
logits differently from fp32, so a close call can go the other way, and a case
can pass in one dtype and fail in the other. Notebook 04 serves the dtype that
measured fastest; :func:`passes_in` boots a second rehearsal server in the
other dtype, runs the same cases with the same graders (JSON enforced through
``response_format``, as the served run did), stops it, and returns the count, so
the notebook can show both counts side by side and name the cases that moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV, SMOLLM2
from helpers.evals import EvalRow, OpenAIRunner, load_cases, run_cases
from helpers.runtimes.client import make_client
from helpers.serving import RehearsalServer
from helpers.serving.rehearsal import DTYPES, SHORT_NAMES


@dataclass(frozen=True)
class DtypePasses:
    """How many fixed cases one dtype passed on the rehearsal server, with JSON enforced."""

    dtype: str
    passed_cases: tuple[str, ...]
    cases: int

    @classmethod
    def from_rows(cls, dtype: str, rows: Iterable[EvalRow]) -> DtypePasses:
        rows = list(rows)
        return cls(dtype, tuple(sorted(row.case_id for row in rows if row.passed)), len(rows))

    @property
    def passed(self) -> int:
        return len(self.passed_cases)

    @property
    def short(self) -> str:
        return SHORT_NAMES[self.dtype]


def other_dtype(dtype: str) -> str:
    """The rehearsal dtype that is not ``dtype``."""
    return next(other for other in DTYPES if other != dtype)


def passes_in(dtype: str, model: str = SMOLLM2, *, api_key_env: str = API_KEY_ENV) -> DtypePasses:
    """Boot a rehearsal server in ``dtype``, run the fixed cases with ``response_format``, stop it (about a minute here)."""
    server = RehearsalServer(dtype=dtype, served_name=model, api_key_env=api_key_env).start()
    try:
        server.wait()
        runner = OpenAIRunner(
            make_client(server.base_url, api_key_env=api_key_env), model, runtime="vllm", structured_output=True
        )
        rows = run_cases(runner, load_cases())
    finally:
        server.stop()
    return DtypePasses.from_rows(dtype, rows)


def side_by_side(served: DtypePasses, other: DtypePasses) -> str:
    """Both counts in one sentence, the cases that moved, and what a difference means."""
    counts = _("{a}: {a_passed} of {cases} fixed cases passed; {b}: {b_passed} of {cases} (both with response_format).").format(
        a=served.short, a_passed=served.passed, b=other.short, b_passed=other.passed, cases=served.cases
    )
    if served.passed_cases == other.passed_cases:
        return counts + " " + _("The same cases passed in both dtypes.")
    only = [(dtype.short, sorted(set(dtype.passed_cases) - set(rest.passed_cases))) for dtype, rest in
            ((served, other), (other, served))]  # fmt: skip
    moved = "; ".join(_("only in {dtype}: {cases}").format(dtype=d, cases=", ".join(c)) for d, c in only if c)
    return (
        counts
        + " "
        + moved
        + ". "
        + _(
            "Numerics change greedy outputs: a close call between two tokens can go the other way, so the dtype is part "
            "of the decision, and the eval gate has to run in the dtype that will serve."
        )
    )


def compare_with_other_dtype(served_dtype: str | None, served_rows: Iterable[EvalRow], model: str, *, api_key_env: str) -> str:
    """Notebook 04's comparison: the served run's passes beside a second server's in the other dtype.

    ``served_dtype`` is ``None`` when no vLLM rehearsal runs here (a rented GPU, or llama.cpp's server in
    Colab): there is no second dtype to boot, and the sentence says so.
    """
    if served_dtype is None:
        return _(
            "No vLLM rehearsal server here, so no second dtype to compare; a rented GPU serves the dtype its server reports."
        )
    other = passes_in(other_dtype(served_dtype), model, api_key_env=api_key_env)
    return side_by_side(DtypePasses.from_rows(served_dtype, served_rows), other)
