"""Eval cases are validated before anything runs; graders are runtime-blind; every runner is real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import evals
from helpers.evals import CaseFileError, grade, load_cases
from helpers.paths import EVAL_CASES, REPO_ROOT

GOOD = json.loads((EVAL_CASES / "sop_assistant.v1.jsonl").read_text(encoding="utf-8").splitlines()[0])


def write_cases(folder: Path, *lines: str) -> Path:
    path = folder / "cases.v1.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_fixed_set_covers_the_lesson():
    cases = load_cases()
    assert len(cases) >= 12
    assert {c.language for c in cases} == {"en", "zh"}
    assert {"factual", "refusal", "extraction", "sop"} <= {c.category for c in cases}
    assert {g["type"] for c in cases for g in c.graders} == set(evals.GRADERS)


def test_invalid_json_names_file_and_line(tmp_path):
    write_cases(tmp_path, json.dumps(GOOD), '{"case_id": "broken", ')
    with pytest.raises(CaseFileError, match=r"cases.v1.jsonl, line 2: invalid JSON"):
        load_cases(tmp_path)


def test_schema_violation_names_file_line_and_field(tmp_path):
    bad = {**GOOD, "max_tokens": "many"}
    write_cases(tmp_path, json.dumps(bad))
    with pytest.raises(CaseFileError, match=r"line 1, field max_tokens: 'many' is not of type 'integer'"):
        load_cases(tmp_path)


def test_duplicate_case_id_is_rejected(tmp_path):
    write_cases(tmp_path, json.dumps(GOOD), json.dumps(GOOD))
    with pytest.raises(CaseFileError, match=r"line 2: duplicate case_id 'en-fact-capital' \(first at .*line 1\)"):
        load_cases(tmp_path)


def test_unknown_grader_is_a_clear_error(tmp_path):
    write_cases(tmp_path, json.dumps({**GOOD, "graders": [{"type": "vibes"}]}))
    with pytest.raises(CaseFileError, match=r"unknown grader 'vibes'; known graders: exact, contains, regex, json_schema, language"):
        load_cases(tmp_path)
    with pytest.raises(CaseFileError, match="unknown grader"):
        grade("text", [{"type": "vibes"}])


def test_cli_validate_rejects_and_runs_nothing(tmp_path):
    write_cases(tmp_path, json.dumps(GOOD), "not json")
    result = subprocess.run([sys.executable, "-m", "helpers.evals", "run", str(tmp_path)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 2 and "line 2: invalid JSON" in result.stderr
    ok = subprocess.run([sys.executable, "-m", "helpers.evals", "validate", "data/eval_cases/"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 14 cases")


@pytest.mark.parametrize(
    ("output", "spec", "passes"),
    [
        ("OK.", {"type": "exact", "value": "OK"}, True),
        ("OK then", {"type": "exact", "value": "OK"}, False),
        ("The capital is paris", {"type": "contains", "value": "Paris"}, True),
        ("Tier 2 handles it", {"type": "regex", "pattern": "(?i)tier\\s*2"}, True),
        ('{"priority": "high"}', {"type": "json_schema", "schema": {"required": ["priority"]}}, True),
        ('```json\n{"priority": "high"}\n```', {"type": "json_schema", "schema": {"required": ["priority"]}}, True),
        ('Sure! {"priority": "high"}', {"type": "json_schema", "schema": {"required": ["priority"]}}, False),
        ('{"level": 1}', {"type": "json_schema", "schema": {"required": ["priority"]}}, False),
        ("北京是中国的首都。", {"type": "language", "language": "zh"}, True),
        ("Beijing 是首都", {"type": "language", "language": "zh"}, False),
        ("Beijing is the capital.", {"type": "language", "language": "en"}, True),
        ("Beijing 北京", {"type": "language", "language": "en"}, False),
        ("", {"type": "language", "language": "en"}, False),
    ],
)
def test_graders(output, spec, passes):
    assert (grade(output, [spec]) == []) is passes


@pytest.fixture(scope="module")
def two_cases():
    return [c for c in load_cases() if c.case_id in ("en-sop-reset-expiry", "en-json-priority")]


def test_transformers_runner_on_the_shelf(two_cases):
    rows = evals.run_cases(evals.TransformersRunner("sshleifer/tiny-gpt2"), two_cases)
    assert [r["passed"] for r in rows] == [False, False]
    assert all(r["output_tokens"] > 0 and r["runtime"] == "transformers" for r in rows)


def test_llama_cpp_runner_on_the_shelf_gguf(two_cases):
    from helpers.models import gguf_file

    rows = evals.run_cases(evals.LlamaCppRunner("HuggingFaceTB/SmolLM2-135M-Instruct", gguf_file()), two_cases)
    assert rows[0]["passed"] and "30" in rows[0]["output"]
    assert all(r["runtime"] == "llama.cpp" and r["output_tokens"] > 0 for r in rows)


def test_openai_runner_against_the_local_api_and_csv_round_trip(two_cases, tmp_path):
    from helpers.local_api import LocalAPIServer, load_served_model
    from helpers.serving import make_client

    with LocalAPIServer(load_served_model("sshleifer/tiny-gpt2")) as server:
        runner = evals.OpenAIRunner(make_client(server.base_url), "sshleifer/tiny-gpt2", runtime="local-api", structured_output=False)
        rows = evals.run_cases(runner, two_cases)
    path = evals.write_table(rows, tmp_path)
    assert path.name == "sshleifer-tiny-gpt2__local-api.csv"
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith("case_id,model,runtime,passed,latency_s,output_tokens")
    assert [r["case_id"] for r in evals.read_tables(tmp_path)] == ["en-sop-reset-expiry", "en-json-priority"]
