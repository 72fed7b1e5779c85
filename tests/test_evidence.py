"""Notebook 05's logic: evidence found or named as missing, and a record completed once, validly."""

from __future__ import annotations

import json

from helpers import decision, evidence
from helpers.decision import Profile, build_record, write_record


def test_missing_evidence_names_its_producer(tmp_path):
    found = evidence.gather(tmp_path)
    assert {item["status"] for item in found.values()} == {"missing"}
    assert found["serving_benchmark"]["summary"] == "missing: run notebook 04_rented_gpu_route to produce outputs/serving/benchmark.json"
    assert "make run" in found["memory_check"]["summary"]


def test_completion_is_valid_and_idempotent(tmp_path):
    (tmp_path / "memory_check.csv").write_text(
        "model,runtime,dtype,predicted_bytes,measured_bytes,error_pct,rule_of_thumb_bytes,rule_error_pct\n"
        "m,transformers-cpu,fp32,100,98,2.0,1,-99.0\n", encoding="utf-8")
    found = evidence.gather(tmp_path)
    once = evidence.complete(build_record(Profile()), found)
    twice = evidence.complete(once, found)
    assert once["decision_paragraph"] == twice["decision_paragraph"]
    assert "(measured: estimator within 2.0% of measured peak memory" in once["decision_paragraph"]
    assert once["decision_paragraph"].endswith("; no eval table exists yet.")
    decision.validate_record(once)


def test_stop_time_goes_into_a_rented_gpu_record(tmp_path):
    assert decision.add_evidence("serving_stop", {}, tmp_path) is None  # no record yet: nothing written
    write_record(build_record(Profile(route="rented_gpu", vram_gb=24, needs_service=True)), tmp_path)
    proof = {"stop_requested_at": "2026-11-22T18:00:00.000+00:00", "health": "connection refused"}
    decision.add_evidence("serving_stop", proof, tmp_path)
    record = json.loads((tmp_path / "model_runtime_decision.json").read_text())
    assert record["hardware_note"]["expected_stop_time"].startswith("stopped at 2026-11-22T18:00:00")
    assert record["evidence"]["serving_stop"] == proof
    assert len(list((tmp_path / "decisions").glob("*.json"))) == 2
