"""Notebook 04's sentence on eval passes in bf16 against fp32 (the servers themselves run in notebook 04 under nbval)."""

from helpers.evals import EvalRow
from helpers.measured import dtype_evals
from helpers.measured.dtype_evals import DtypePasses, compare_with_other_dtype, other_dtype, side_by_side


def row(case_id: str, passed: bool) -> EvalRow:
    return EvalRow(case_id, "m", "vllm", True, passed, 0.1, 4, "qa", "en", (), "answer")


def test_passes_are_counted_by_case_from_the_rows():
    passes = DtypePasses.from_rows("bfloat16", [row("b", True), row("a", True), row("c", False)])
    assert passes.passed_cases == ("a", "b") and passes.passed == 2 and passes.cases == 3 and passes.short == "bf16"


def test_the_other_dtype():
    assert other_dtype("bfloat16") == "float32" and other_dtype("float32") == "bfloat16"


def test_different_cases_are_named_and_explained_even_when_the_counts_tie():
    served, other = DtypePasses("bfloat16", ("a", "b"), 16), DtypePasses("float32", ("a", "c"), 16)
    sentence = side_by_side(served, other)
    assert "bf16: 2 of 16" in sentence and "fp32: 2 of 16" in sentence
    assert "only in bf16: b" in sentence and "only in fp32: c" in sentence and "Numerics change greedy outputs" in sentence


def test_the_same_cases_say_so_and_claim_no_difference():
    sentence = side_by_side(DtypePasses("float32", ("a",), 16), DtypePasses("bfloat16", ("a",), 16))
    assert "The same cases passed in both dtypes." in sentence and "Numerics" not in sentence


def test_no_rehearsal_means_no_second_server_and_says_so():
    sentence = compare_with_other_dtype(None, [row("a", True)], "m", api_key_env="UNSET_KEY_FOR_TEST")
    assert "no second dtype" in sentence


def test_setup_passes_are_read_back_only_for_the_same_key_and_cases(tmp_path, monkeypatch):
    path = tmp_path / "passes.json"
    dtype_evals.record_passes("m", "float32", [row("a", True), row("b", False)], "key-a", path)
    kept = dtype_evals.recorded_passes("m", "float32", "key-a", path)
    assert kept.passed_cases == ("a",) and kept.cases == 2 and kept.measured_at
    assert dtype_evals.recorded_passes("m", "bfloat16", "key-a", path) is None  # never run in that dtype
    assert dtype_evals.recorded_passes("m", "float32", "key-b", path) is None  # another CPU or vLLM build
    monkeypatch.setattr(dtype_evals, "cases_digest", lambda: "edited cases")
    assert dtype_evals.recorded_passes("m", "float32", "key-a", path) is None


def test_a_count_from_setup_says_when_and_that_it_is_like_with_like():
    sentence = side_by_side(DtypePasses("bfloat16", ("a",), 16), DtypePasses("float32", ("a",), 16, "2026-12-07T23:47"))
    assert "The fp32 count is from setup's dtype check on this machine (2026-12-07T23:47)" in sentence
    assert "from setup" not in side_by_side(DtypePasses("bfloat16", ("a",), 16), DtypePasses("float32", ("a",), 16))
