"""Every runner is real: Transformers and llama.cpp on the shelf, the local API, and llama.cpp's own server."""

from __future__ import annotations

import time

import httpx
import pytest

from helpers import evals
from helpers.core.names import SMOLLM2, TINY_GPT2
from helpers.evals import load_cases, read_summaries, run_cases
from helpers.runtimes.client import make_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_cases():
    return [c for c in load_cases() if c.case_id in ("en-sop-reset-expiry", "en-json-priority")]


def test_transformers_runner_on_the_shelf(two_cases):
    rows = run_cases(evals.TransformersRunner(TINY_GPT2), two_cases)
    assert [r.passed for r in rows] == [False, False]
    assert all(r.output_tokens > 0 and r.runtime == "transformers" and not r.constrained for r in rows)


def test_llama_cpp_runner_free_and_constrained(two_cases):
    free = run_cases(evals.LlamaCppRunner(SMOLLM2), two_cases)
    assert free[0].passed and "30" in free[0].output
    assert not any(r.constrained for r in free)
    enforced = run_cases(evals.LlamaCppRunner(SMOLLM2, structured_output=True), two_cases)
    sop, priority = enforced
    assert not sop.constrained, "only JSON cases are constrained"
    assert priority.constrained and "json_schema" not in priority.failed_graders  # the grammar guarantees the shape...
    assert evals.parse_json_answer(priority.output)["priority"] in {"low", "medium", "high", "urgent"}


def test_openai_runner_against_the_local_api_and_csv_round_trip(two_cases, isolated_outputs):
    from helpers.runtimes.local_api import LocalAPIServer, load_served_model

    with LocalAPIServer(load_served_model(TINY_GPT2)) as server:
        runner = evals.make_runner("openai", base_url=server.base_url, structured_output=False, label="local-api")
        assert runner.model == TINY_GPT2  # taken from /v1/models when no name is given
        rows = run_cases(runner, two_cases)
    path = evals.write_table(rows)
    assert path.name == "sshleifer-tiny-gpt2__local-api.csv"
    (summary,) = read_summaries()
    assert (summary.model, summary.runtime, summary.cases, summary.constrained) == (TINY_GPT2, "local-api", 2, False)


def _wait_until_serving(base_url: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/v1/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"llama.cpp's server did not answer at {base_url} within {timeout_s:.0f} s")


def test_side_by_side_on_llama_cpp_server(llama_server, isolated_outputs):
    """The same cases with and without response_format, against a real OpenAI-compatible server that is not vLLM."""
    _, base_url = llama_server
    _wait_until_serving(base_url)
    cases = [c for c in load_cases() if c.case_id in ("en-fact-capital", "en-json-priority", "zh-json-refund-days")]
    pair = evals.run_side_by_side(make_client(base_url), SMOLLM2, cases, runtime="llama.cpp-server")
    assert not pair.unconstrained.constrained and pair.unconstrained.output_mode == "unconstrained"
    # the pinned llama-cpp-python's server refuses json_schema: the "constrained" run says nothing was enforced
    assert not pair.constrained.constrained and pair.constrained.constrained_cases == 0
    assert pair.notes == ("the server rejected response_format json_schema, so JSON cases ran without enforced structure",)
    assert [r.case_id for r in pair.constrained_rows] == [c.case_id for c in cases]
    assert {s.runtime for s in read_summaries()} == {"llama.cpp-server"}
