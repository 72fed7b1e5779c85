"""The verdict: every branch of every route card, from evidence sets written as real files, with the paragraph beside it."""

from __future__ import annotations

import json

import pytest
from evidence_sets import CASES, all_but, benchmark, colab_run, eval_table

from helpers.core import names
from helpers.decision import LESSON_EXAMPLE, Profile, choose
from helpers.decision.evidence import gather
from helpers.decision.record import build_record, paragraph, validate_record
from helpers.decision.rule import GateError
from helpers.decision.verdict import CANNOT_TELL, MET, NOT_MET, judge, load_gate

N = len(CASES)


def verdict_for(profile: Profile, outputs):
    decision = choose(profile)
    evidence = gather(outputs)
    result = judge(decision, evidence)
    record = build_record(decision, evidence)
    validate_record(record)
    return result, record["decision_paragraph"], {c.route: c for c in result.cards}


def test_local_signal_met_moves_to_candidate_2_and_the_paragraph_says_so(isolated_outputs):
    eval_table(isolated_outputs, names.TINY_GPT2, "transformers", 0)
    eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", 3)
    result, text, cards = verdict_for(LESSON_EXAMPLE, isolated_outputs)
    card = cards["local_cpu"]
    assert card.status == MET
    assert (
        card.headline
        == "upgrade signal met: move to candidate_2 (Qwen/Qwen2.5-0.5B-Instruct on llama.cpp (quantized, on the CPU); offline, "
        "Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, offline sibling of the lesson's Qwen2.5-0.5B-Instruct) runs in its place)"
    )
    assert f"tiny-gpt2 on transformers 0/{N}" in card.rows[0] or f"tiny-gpt2 on transformers 0/{N}" in card.rows[1]
    assert any(f"SmolLM2-135M-Instruct on llama.cpp 3/{N}" in row for row in card.rows)
    assert text.startswith("For this project, I will start with Qwen/Qwen2.5-0.5B-Instruct using llama.cpp")
    assert "already shows the upgrade signal of the local_cpu card" in text and f"3/{N}" in text
    assert "has not yet shown" not in text


def test_local_signal_not_met_when_a_run_passes_the_gate(isolated_outputs):
    eval_table(isolated_outputs, names.TINY_GPT2, "transformers", 0)
    (isolated_outputs / "memory_check.csv").write_text("model,error_pct\nm,1.8\n", encoding="utf-8")
    eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", all_but("en-format-ok"))
    _, text, cards = verdict_for(Profile(), isolated_outputs)
    assert cards["local_cpu"].status == NOT_MET and cards["local_cpu"].headline == "not met"
    assert f"SmolLM2-135M-Instruct on llama.cpp {N - 1}/{N} passes the gate" in cards["local_cpu"].says
    assert (
        cards["local_cpu"].rows[-1]
        == "memory check: the estimator within 1.8% of measured peak memory on 1 model/runtime/dtype rows"
    )
    assert text.startswith("For this project, I will start with sshleifer/tiny-gpt2")
    assert "does not show the upgrade signal of the local_cpu card" in text


def test_a_required_case_failing_keeps_quality_too_weak_whatever_the_share(isolated_outputs):
    eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", all_but("zh-json-ticket"))
    _, _, cards = verdict_for(LESSON_EXAMPLE, isolated_outputs)
    assert cards["local_cpu"].status == MET
    assert "required cases failing: zh-json-ticket" in cards["local_cpu"].rows[0]


def test_missing_evidence_cannot_tell_and_names_what_to_run(isolated_outputs):
    _, text, cards = verdict_for(Profile(), isolated_outputs)
    assert {c.status for c in cards.values()} == {CANNOT_TELL}
    assert cards["local_cpu"].headline.startswith("cannot tell yet (run notebook 02_local_cpu_route")
    assert cards["rented_gpu"].run.startswith("notebook 04_rented_gpu_route")
    assert "nothing shows yet that one is needed" in text and "run notebook 02_local_cpu_route" in text


def test_contradictory_runs_cannot_tell(isolated_outputs):
    first = eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", 3)
    first.rename(first.with_name("an-earlier-run.csv"))
    eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", 9)
    _, text, cards = verdict_for(Profile(), isolated_outputs)
    assert cards["local_cpu"].status == CANNOT_TELL
    assert "disagree" in cards["local_cpu"].says and "an-earlier-run.csv" in cards["local_cpu"].says
    assert "disagree" in text


def test_a_run_on_an_older_case_set_cannot_tell(isolated_outputs):
    eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", 3, cases=CASES[:10])
    _, _, cards = verdict_for(Profile(), isolated_outputs)
    assert (
        cards["local_cpu"].status == CANNOT_TELL
        and f"scored on 10 cases, but the case files now hold {N}" in cards["local_cpu"].says
    )


def test_a_corrupt_eval_table_cannot_tell_and_is_left_alone(isolated_outputs):
    path = eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", 3)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\n", len(text) // 2) - 3], encoding="utf-8")  # cut off mid-row, mid-write
    before = path.read_bytes()
    _, _, cards = verdict_for(Profile(), isolated_outputs)
    assert cards["local_cpu"].status == CANNOT_TELL and path.name in cards["local_cpu"].says
    assert path.read_bytes() == before


def test_colab_without_a_gpu_is_not_met_and_with_a_weak_gpu_run_is_met(isolated_outputs):
    colab_run(isolated_outputs, "cpu", names.TINY_GPT2, 0)
    _, _, cards = verdict_for(Profile(route="free_colab"), isolated_outputs)
    assert cards["free_colab"].status == NOT_MET and "No GPU was visible" in cards["free_colab"].says
    colab_run(isolated_outputs, "cuda", names.SMOLLM2, 4)
    _, text, cards = verdict_for(Profile(route="free_colab", available_vram_gb=15), isolated_outputs)
    assert cards["free_colab"].status == MET and "move to candidate_2 (Qwen/Qwen2.5-0.5B-Instruct" in cards["free_colab"].headline
    assert text.startswith("For this project, I will start with Qwen/Qwen2.5-0.5B-Instruct")


@pytest.mark.parametrize(
    ("passing", "service", "bench", "status", "words"),
    [
        (5, True, True, NOT_MET, "do not pass on the served model"),
        (N, False, True, NOT_MET, "needs no service"),
        (N, True, False, CANNOT_TELL, "no benchmark"),
        (N, True, True, MET, "profile needs a service measured under load"),
    ],
)
def test_rented_gpu_card(isolated_outputs, passing, service, bench, status, words):
    eval_table(isolated_outputs, names.SMOLLM2, "vllm", passing, constrained=True)
    if bench:
        benchmark(isolated_outputs, names.SMOLLM2)
    _, text, cards = verdict_for(Profile(route="rented_gpu", available_vram_gb=24, needs_service=service), isolated_outputs)
    assert cards["rented_gpu"].status == status and words in cards["rented_gpu"].says
    assert f"SmolLM2-135M-Instruct on vllm {passing}/{N}, constrained" in cards["rented_gpu"].rows[0]
    assert ("already shows the upgrade signal" in text) == (status == MET)


@pytest.mark.parametrize(
    ("model", "completed", "words"),
    [
        (names.TINY_GPT2, 8, "another model, so it is not counted"),
        (names.SMOLLM2, 0, "only 0 of 8 requests completed (0%; HTTP 500: 8)"),
        (names.SMOLLM2, 6, "only 6 of 8 requests completed (75%; HTTP 500: 2)"),
    ],
)
def test_route_3_cannot_tell_from_a_benchmark_of_another_model_or_of_failed_requests(isolated_outputs, model, completed, words):
    eval_table(isolated_outputs, names.SMOLLM2, "vllm", N, constrained=True)
    benchmark(isolated_outputs, model, completed)
    _, text, cards = verdict_for(Profile(route="rented_gpu", available_vram_gb=24, needs_service=True), isolated_outputs)
    card = cards["rented_gpu"]
    assert card.status == CANNOT_TELL and words in card.says, card.says
    assert card.run, "it names what to rerun"
    assert "already shows the upgrade signal" not in text


def test_route_3_met_names_the_share_of_requests_that_completed(isolated_outputs):
    eval_table(isolated_outputs, names.SMOLLM2, "vllm", N, constrained=True)
    benchmark(isolated_outputs, names.SMOLLM2, 8)
    _, _, cards = verdict_for(Profile(route="rented_gpu", available_vram_gb=24, needs_service=True), isolated_outputs)
    assert cards["rented_gpu"].status == MET and "8 of 8 requests completed (100%) at concurrency 1" in cards["rented_gpu"].says


def test_the_paragraph_never_contradicts_its_verdict(isolated_outputs):
    eval_table(isolated_outputs, names.TINY_GPT2, "transformers", 0)
    decision = choose(Profile())
    verdict = judge(decision, gather(isolated_outputs))
    assert verdict.mine.status == MET
    text = paragraph(decision, verdict)
    assert "does not show" not in text and "nothing shows yet" not in text


def test_a_gate_naming_an_unknown_case_is_refused(tmp_path):
    bad = tmp_path / "gate.json"
    bad.write_text(json.dumps({"pass_share": 0.8, "required_cases": {"default": ["no-such-case"]}}), encoding="utf-8")
    with pytest.raises(GateError, match="no-such-case"):
        load_gate(bad, tuple(c.case_id for c in CASES))
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(GateError, match="restore it from git"):
        load_gate(bad)
