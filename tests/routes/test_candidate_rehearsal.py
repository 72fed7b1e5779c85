"""The candidate's rehearsal is measured once per run: a kept one is read back only under the same conditions."""

from __future__ import annotations

import json

from evidence_sets import benchmark, eval_table

from helpers.core import names
from helpers.core.paths import relative
from helpers.routes import rented_gpu


def _keep(tmp_path, outputs, conditions):
    table = eval_table(outputs, names.QWEN_SIBLING, "vllm", 12, constrained=True)
    benchmark(outputs, names.QWEN_SIBLING)
    kept = tmp_path / "candidate_rehearsal.json"
    kept.write_text(json.dumps({"conditions": conditions, "model": names.QWEN_SIBLING, "boot_s": 40.0, "eval_s": 18.0,
                                "table": relative(table), "benchmark": relative(outputs / "serving" / "benchmark.json")}),
               encoding="utf-8")  # fmt: skip
    return kept


def test_a_kept_rehearsal_is_read_back_under_the_same_conditions(tmp_path, isolated_outputs, monkeypatch):
    conditions = rented_gpu._conditions(names.QWEN_SIBLING, "bfloat16")
    monkeypatch.setattr(rented_gpu, "CANDIDATE_KEPT", _keep(tmp_path, isolated_outputs, conditions))
    kept = rented_gpu._kept_rehearsal(conditions)
    assert kept is not None and kept.reused and kept.summary.passed == 12 and kept.benchmark.model == names.QWEN_SIBLING


def test_another_dtype_or_a_missing_table_measures_again(tmp_path, isolated_outputs, monkeypatch):
    conditions = rented_gpu._conditions(names.QWEN_SIBLING, "bfloat16")
    monkeypatch.setattr(rented_gpu, "CANDIDATE_KEPT", _keep(tmp_path, isolated_outputs, conditions))
    assert rented_gpu._kept_rehearsal(rented_gpu._conditions(names.QWEN_SIBLING, "float32")) is None
    next((isolated_outputs / "evals").glob("*.csv")).unlink()
    assert rented_gpu._kept_rehearsal(conditions) is None


def test_the_conditions_name_the_machine_the_cases_and_the_model():
    bf16 = rented_gpu._conditions(names.QWEN_SIBLING, "bfloat16")
    assert bf16["cases"] and bf16["hardware"] and bf16 != rented_gpu._conditions(names.SMOLLM2, "bfloat16")
