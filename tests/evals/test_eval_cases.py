"""Case files are checked in full before anything runs; every bad file gets a message naming it and what to do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core.paths import EVAL_CASES, REPO_ROOT
from helpers.evals import GRADERS, CaseFileError, grade, load_cases

GOOD = json.loads((EVAL_CASES / "sop_assistant.v1.jsonl").read_text(encoding="utf-8").splitlines()[0])


def write_cases(folder: Path, *lines: str, name: str = "cases.v1.jsonl") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_fixed_set_covers_the_lesson():
    cases = load_cases()
    assert len(cases) == 16
    assert {c.language for c in cases} == {"en", "zh", "ja"}
    assert {"factual", "refusal", "extraction", "sop"} <= {c.category for c in cases}
    assert {g["type"] for c in cases for g in c.graders} == set(GRADERS)


def test_every_json_case_checks_values_not_only_shape():
    json_cases = [c for c in load_cases() if c.json_schema]
    assert len(json_cases) == 4
    for case in json_cases:
        assert any(g["type"] == "json_fields" for g in case.graders), case.case_id
    priority = next(c for c in json_cases if c.case_id == "en-json-priority")
    assert {"type": "json_fields", "fields": {"priority": "urgent"}} in priority.graders


def test_the_japanese_case_asks_for_japanese():
    (case,) = [c for c in load_cases() if c.language == "ja"]
    assert {"type": "language", "language": "ja"} in case.graders


def test_invalid_json_names_file_and_line(tmp_path):
    write_cases(tmp_path, json.dumps(GOOD), '{"case_id": "broken", "version": 1}}')
    with pytest.raises(CaseFileError, match=r"cases.v1.jsonl, line 2: invalid JSON .*one complete JSON object"):
        load_cases(tmp_path)


def test_a_line_cut_in_half_is_called_truncated(tmp_path):
    whole = json.dumps(GOOD)
    (tmp_path / "cases.v1.jsonl").write_text(whole + "\n" + whole.replace("en-fact-capital", "second")[:40], encoding="utf-8")
    with pytest.raises(
        CaseFileError, match=r"cases.v1.jsonl, line 2: the last line is cut off .* looks truncated .*git checkout"
    ):
        load_cases(tmp_path)


def test_a_file_cut_inside_a_character_is_called_truncated(tmp_path):
    (tmp_path / "cases.v1.jsonl").write_bytes((json.dumps(GOOD) + '\n{"case_id": "北').encode("utf-8")[:-1])
    with pytest.raises(CaseFileError, match=r"line 2: the file ends in the middle of a character, so it looks truncated"):
        load_cases(tmp_path)


def test_a_file_that_is_not_utf8_names_the_line_and_the_fix(tmp_path):
    chinese = json.dumps(
        {**GOOD, "case_id": "zh-gbk", "messages": [{"role": "user", "content": "中国的首都"}]}, ensure_ascii=False
    )
    (tmp_path / "cases.v1.jsonl").write_bytes((json.dumps(GOOD) + "\n").encode() + (chinese + "\n").encode("gb18030"))
    with pytest.raises(CaseFileError, match=r"cases.v1.jsonl, line 2: the file is not UTF-8 text .*re-save it as UTF-8"):
        load_cases(tmp_path)


@pytest.mark.parametrize("content", ["", "\n\n", "   \n"])
def test_an_empty_file_is_an_error_not_zero_cases(tmp_path, content):
    (tmp_path / "cases.v1.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"cases.v1.jsonl holds no cases \(it is empty\)"):
        load_cases(tmp_path)


def test_an_empty_file_beside_good_ones_is_named(tmp_path):
    write_cases(tmp_path, json.dumps(GOOD), name="a.v1.jsonl")
    (tmp_path / "b.v1.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"b.v1.jsonl holds no cases"):
        load_cases(tmp_path)


def test_a_byte_order_mark_is_accepted(tmp_path):
    (tmp_path / "cases.v1.jsonl").write_text("\ufeff" + json.dumps(GOOD) + "\n", encoding="utf-8")
    assert [c.case_id for c in load_cases(tmp_path)] == ["en-fact-capital"]


def test_missing_path_and_folder_without_cases(tmp_path):
    with pytest.raises(CaseFileError, match="does not exist"):
        load_cases(tmp_path / "nowhere")
    with pytest.raises(CaseFileError, match="no .jsonl case files found"):
        load_cases(tmp_path)


def test_schema_violation_names_file_line_and_field(tmp_path):
    write_cases(tmp_path, json.dumps({**GOOD, "max_tokens": "many"}))
    with pytest.raises(CaseFileError, match=r"line 1, field max_tokens: 'many' is not of type 'integer'"):
        load_cases(tmp_path)


def test_a_json_fields_grader_needs_its_fields(tmp_path):
    write_cases(tmp_path, json.dumps({**GOOD, "graders": [{"type": "json_fields"}]}))
    with pytest.raises(CaseFileError, match=r"field graders/0: 'fields' is a required property"):
        load_cases(tmp_path)


def test_duplicate_case_id_is_rejected(tmp_path):
    write_cases(tmp_path, json.dumps(GOOD), json.dumps(GOOD))
    with pytest.raises(CaseFileError, match=r"line 2: duplicate case_id 'en-fact-capital' \(first at .*line 1\)"):
        load_cases(tmp_path)


def test_unknown_grader_is_a_clear_error(tmp_path):
    write_cases(tmp_path, json.dumps({**GOOD, "graders": [{"type": "vibes"}]}))
    with pytest.raises(
        CaseFileError, match=r"unknown grader 'vibes'; known graders: answer, regex, absent, max_chars, json_schema, json_fields"
    ):
        load_cases(tmp_path)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.evals", *args], capture_output=True, text=True, cwd=REPO_ROOT)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "holds no cases"),
        (json.dumps(GOOD).encode()[:50], "looks truncated"),
        ("中文".encode("gb18030"), "not UTF-8"),
        (b'{"case_id": \n', "invalid JSON"),
    ],
    ids=["empty", "truncated", "not-utf8", "invalid-json"],
)
def test_cli_says_what_is_wrong_and_runs_nothing(tmp_path, content, message):
    (tmp_path / "cases.v1.jsonl").write_bytes(content)
    for command in ("validate", "run"):
        result = _cli(command, str(tmp_path))
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "cases.v1.jsonl" in result.stderr
        assert "Traceback" not in result.stderr and "passed" not in result.stdout


def test_cli_validates_the_fixed_set():
    ok = _cli("validate", "data/eval_cases/")
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 16 cases"), ok.stderr
    assert "fail all" in ok.stdout


NONSENSE = "Le Grand Paris, le Grand-Bien-Souffrac, la France, la France. I'm a"


def test_the_nonsense_that_passed_the_old_grader_is_a_fail_example_and_fails():
    """SmolLM2's answer passed when the grader only looked for "Paris"; the case now rejects it by its own example."""
    case = next(c for c in load_cases() if c.case_id == "en-fact-capital")
    assert NONSENSE in case.examples["fail"]
    assert grade(NONSENSE, case.graders), "a must-fail example passes the case's graders"


@pytest.mark.parametrize(
    ("graders", "examples", "words"),
    [
        ([{"type": "regex", "pattern": "Paris"}], {"pass": ["Paris"], "fail": [NONSENSE]}, "the fail example"),
        ([{"type": "answer", "patterns": ["paris"]}], {"pass": ["Paris", "It is Paris, of course."], "fail": [NONSENSE]},
         "the pass example 'It is Paris, of course.' fails answer"),
    ],
    ids=["a-must-fail-passes", "a-must-pass-fails"],
)  # fmt: skip
def test_a_case_whose_examples_grade_the_wrong_way_is_refused(tmp_path, graders, examples, words):
    write_cases(tmp_path, json.dumps({**GOOD, "graders": graders, "examples": examples}))
    with pytest.raises(CaseFileError, match="en-fact-capital") as refused:
        load_cases(tmp_path)
    assert words in str(refused.value)
    result = _cli("validate", str(tmp_path))
    assert result.returncode == 2 and "en-fact-capital" in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_case_needs_a_pass_and_a_fail_example(tmp_path):
    write_cases(tmp_path, json.dumps({**GOOD, "examples": {"pass": ["Paris"], "fail": []}}))
    with pytest.raises(CaseFileError, match="examples"):
        load_cases(tmp_path)


def test_a_pattern_that_does_not_compile_is_named(tmp_path):
    write_cases(tmp_path, json.dumps({**GOOD, "graders": [{"type": "regex", "pattern": "(unclosed"}]}))
    with pytest.raises(CaseFileError, match="not a valid regular expression"):
        load_cases(tmp_path)


def test_cli_refuses_a_constrained_run_that_cannot_be_constrained():
    result = _cli("run", "--runtime", "transformers", "--output-mode", "constrained")
    assert result.returncode == 2 and "cannot enforce a JSON schema" in result.stderr and "Traceback" not in result.stderr
    result = _cli("run", "--runtime", "openai")
    assert result.returncode == 2 and "needs a base_url" in result.stderr
