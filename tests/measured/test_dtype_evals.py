"""Notebook 04's sentence on eval passes in bf16 against fp32 (the servers themselves run in notebook 04 under nbval)."""

from helpers.evals import EvalRow
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
