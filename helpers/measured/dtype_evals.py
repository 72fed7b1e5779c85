"""The fixed eval cases in the rehearsal server's other dtype: a dtype is part of the decision.

Greedy decoding takes the most likely token at every step. bf16 rounds the
logits differently from fp32, so a close call can go the other way, and a case
can pass in one dtype and fail in the other. Notebook 04 serves the dtype that
measured fastest. Setup's dtype check has already booted the server in both
dtypes, and ran the same cases on each boot with the same graders (JSON
enforced through ``response_format``, as the served run does): the notebook
reads the other dtype's passes from there (:func:`recorded_passes`). Where
setup did not (another CPU or vLLM build, changed cases), :func:`passes_in`
boots a second server in the other dtype and runs them now. Either way the
notebook shows both counts side by side and names the cases that moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.core.clock import timestamp
from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV, SMOLLM2
from helpers.core.paths import keep_json_entry, read_json_object
from helpers.evals import EvalRow, OpenAIRunner, load_cases, run_cases
from helpers.machine.environment import read_cpuinfo
from helpers.runtimes.client import make_client
from helpers.serving import RehearsalServer
from helpers.serving.dtype import choice_key
from helpers.serving.rehearsal import DTYPES, SHORT_NAMES, VLLM_CACHE

#: Passes on setup's dtype-check boots, by model and dtype, with the CPU, vLLM build and cases they were run with.
PASSES_FILE = VLLM_CACHE / "dtype_passes.json"


@dataclass(frozen=True)
class DtypePasses:
    """How many fixed cases one dtype passed on the rehearsal server, with JSON enforced."""

    dtype: str
    passed_cases: tuple[str, ...]
    cases: int
    #: When setup ran them, for passes read back from :data:`PASSES_FILE`; empty for passes run in this session.
    measured_at: str = ""

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


def cases_digest() -> str:
    """What the fixed cases are now: a recorded count is only read back for the same cases."""
    cases = [asdict(case) for case in load_cases()]
    return hashlib.sha256(json.dumps(cases, sort_keys=True, default=str).encode()).hexdigest()[:16]


def record_passes(model: str, dtype: str, rows: Iterable[EvalRow], key: str, path: Path = PASSES_FILE) -> None:
    """Keep the passes of ``rows`` (the fixed cases, constrained) run on a ``dtype`` server of ``model``."""
    passes = DtypePasses.from_rows(dtype, rows)
    keep_json_entry(path, f"{model}|{dtype}", {"key": key, "cases_digest": cases_digest(), "measured_at": timestamp(),
                                                "passed_cases": list(passes.passed_cases), "cases": passes.cases})  # fmt: skip


def recorded_passes(model: str, dtype: str, key: str, path: Path = PASSES_FILE) -> DtypePasses | None:
    """The passes setup kept for ``model`` in ``dtype`` on this CPU and vLLM build with these cases, or ``None``."""
    kept = read_json_object(path).get(f"{model}|{dtype}")
    if not kept or kept["key"] != key or kept["cases_digest"] != cases_digest():
        return None
    return DtypePasses(dtype, tuple(kept["passed_cases"]), kept["cases"], kept["measured_at"])


def passes_in(dtype: str, model: str = SMOLLM2, *, api_key_env: str = API_KEY_ENV) -> DtypePasses:
    """Boot a rehearsal server in ``dtype``, run the fixed cases with ``response_format``, stop it (about a minute here)."""
    server = RehearsalServer(dtype=dtype, served_name=model, api_key_env=api_key_env).start()
    try:
        server.wait()
        rows = constrained_rows(server)
    finally:
        server.stop()
    return DtypePasses.from_rows(dtype, rows)


def constrained_rows(server: RehearsalServer) -> list[EvalRow]:
    """The fixed cases on a running rehearsal server, JSON enforced through ``response_format`` as notebook 04 serves."""
    client = make_client(server.base_url, api_key_env=server.api_key_env)
    return run_cases(OpenAIRunner(client, server.served_name, runtime="vllm", structured_output=True), load_cases())


def side_by_side(served: DtypePasses, other: DtypePasses) -> str:
    """Both counts in one sentence, the cases that moved, and what a difference means."""
    counts = _("{a}: {a_passed} of {cases} fixed cases passed; {b}: {b_passed} of {cases} (both with response_format).").format(
        a=served.short, a_passed=served.passed, b=other.short, b_passed=other.passed, cases=served.cases
    )
    if other.measured_at:
        counts += " " + _(
            "The {b} count is from setup's dtype check on this machine ({when}): the same model, cases and graders."
        ).format(b=other.short, when=other.measured_at)
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
    """Notebook 04's comparison: the served run's passes beside the other dtype's, as setup recorded them or run now.

    ``served_dtype`` is ``None`` when no vLLM rehearsal runs here (a rented GPU, or llama.cpp's server in
    Colab): there is no second dtype to boot, and the sentence says so.
    """
    if served_dtype is None:
        return _(
            "No vLLM rehearsal server here, so no second dtype to compare; a rented GPU serves the dtype its server reports."
        )
    dtype = other_dtype(served_dtype)
    other = recorded_passes(model, dtype, choice_key(read_cpuinfo())) or passes_in(dtype, model, api_key_env=api_key_env)
    return side_by_side(DtypePasses.from_rows(served_dtype, served_rows), other)
