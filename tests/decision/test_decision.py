"""The rule: every route of the lesson, the task fit, bad profiles, and a property test over a grid of profiles."""

from __future__ import annotations

import itertools

import pytest

from helpers.catalogue.models import catalogue
from helpers.core import names
from helpers.decision import (
    CLAIMS_BY_ROUTE,
    LESSON_EXAMPLE,
    NEEDS,
    DecisionError,
    Profile,
    choose,
    parse_profile,
)
from helpers.decision.record import build_record

QWEN_05B, QWEN_7B = "Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct"


@pytest.mark.parametrize(
    ("profile", "model", "runtime", "claim"),
    [
        (Profile(route="local_cpu"), names.TINY_GPT2, "transformers-cpu", "workflow"),
        (Profile(route="free_colab"), names.TINY_GPT2, "transformers-cpu", "portable_cpu"),
        (Profile(route="free_colab", available_vram_gb=15), names.SMOLLM2, "transformers-cuda", "portable"),
        (Profile(route="rented_gpu", available_vram_gb=24, needs_service=True), names.SMOLLM2, "vllm", "serving"),
        (Profile(route="rented_gpu", available_vram_gb=24), names.SMOLLM2, "transformers-cuda", "gpu_first"),
        (Profile(route="rented_gpu", available_vram_gb=8), names.SMOLLM2, "transformers-cuda", "not_ready"),
        (Profile(route="rented_gpu"), names.SMOLLM2, "llama.cpp", "not_ready"),
        (Profile(route="local_cpu", ram_gb=0.3), names.SMOLLM2, "llama.cpp", "workflow"),
    ],
)
def test_every_route_of_the_lesson(profile, model, runtime, claim):
    decision = choose(profile)
    assert decision.candidate_1.model == model
    assert decision.candidate_1.estimator_runtime == runtime
    assert decision.claim_key == claim


def test_the_lessons_example_project_starts_small_and_names_a_chinese_capable_next_step():
    decision = choose(LESSON_EXAMPLE)
    assert decision.candidate_1.model == names.TINY_GPT2  # the workflow proof
    assert decision.candidate_2.model == QWEN_05B and decision.candidate_2.estimator_runtime == "llama.cpp"
    rejected = {r.model: r.reason for r in decision.rejected}
    assert rejected[names.SMOLLM2].startswith("lacks zh_en_answers")
    assert rejected["meta-llama/Llama-3.1-8B-Instruct"].startswith("lacks zh_en_answers")


def test_private_docs_rule_out_the_cloud_api_and_public_data_allows_it():
    assert "no cloud model API" in choose(Profile(privacy="private_docs")).fallback
    assert "no cloud model API" in choose(Profile(privacy="public", must_have=("private_docs",))).fallback
    assert "or a cloud model API" in choose(Profile(privacy="public")).fallback


def test_a_must_have_no_model_covers_leaves_only_the_fallback():
    decision = choose(Profile(route="rented_gpu", available_vram_gb=80, must_have=("multimodal",)))
    assert decision.candidate_1 is None and decision.claim_key == "nothing_fits"
    assert all(r.reason.startswith("lacks multimodal") for r in decision.rejected if r.model != names.TINY_GPT2)


def test_licence_and_context_must_haves_reject_with_the_reason():
    decision = choose(Profile(route="rented_gpu", available_vram_gb=80, must_have=("commercial_use", "long_context")))
    rejected = {r.model: r.reason for r in decision.rejected}
    assert "licence (Llama 3.1 Community License)" in rejected["meta-llama/Llama-3.1-8B-Instruct"]
    assert "8,192 tokens, below 32,768" in rejected[names.SMOLLM2]
    assert decision.candidate_1.model == QWEN_05B


def test_the_memory_compared_is_named_ram_on_the_cpu_and_gpu_memory_elsewhere():
    assert choose(Profile(route="local_cpu", ram_gb=8)).candidate_1.memory_kind == "RAM"
    assert choose(Profile(route="rented_gpu", available_vram_gb=24)).candidate_1.memory_kind == "GPU memory"


@pytest.mark.parametrize(
    ("values", "field", "allowed"),
    [
        ({"ROUTE": "moon"}, "ROUTE", "local_cpu, free_colab, rented_gpu"),
        ({"VRAM_GB": "abc"}, "VRAM_GB", "0 or more"),
        ({"VRAM_GB": "-4"}, "VRAM_GB", "0 or more"),
        ({"VRAM_GB": "inf"}, "VRAM_GB", "0 or more"),
        ({"RAM_GB": "lots"}, "RAM_GB", "0 or more"),
        ({"NEEDS_SERVICE": "maybe"}, "NEEDS_SERVICE", "yes or no"),
        ({"PRIVACY": "secret"}, "PRIVACY", "public, internal, private_docs, restricted"),
        ({"MUST_HAVE": "chat,telepathy"}, "MUST_HAVE", "'telepathy'"),
        ({"NICE_TO_HAVE": "speed"}, "NICE_TO_HAVE", "stable_json"),
    ],
)
def test_bad_profile_names_the_field_and_the_allowed_values(values, field, allowed):
    with pytest.raises(DecisionError) as error:
        parse_profile(values)
    assert field in str(error.value) and allowed in str(error.value)


def test_the_lessons_defaults():
    profile = parse_profile({})
    assert (profile.route, profile.privacy, profile.available_vram_gb, profile.needs_service) == (
        "local_cpu",
        "private_docs",
        0.0,
        False,
    )
    assert parse_profile({"MUST_HAVE": "zh_en_answers, stable_json"}).must_have == ("zh_en_answers", "stable_json")


GRID = list(
    itertools.product(
        ("local_cpu", "free_colab", "rented_gpu"),
        (0.0, 0.1, 0.3, 8.0, 16.0, 24.0, 80.0),
        (False, True),
        ("public", "private_docs"),
        ((), ("zh_en_answers", "stable_json"), ("long_context",), ("multimodal",)),
    )
)


@pytest.mark.parametrize(("route", "memory", "service", "privacy", "must"), GRID)
def test_the_rule_never_contradicts_itself(route, memory, service, privacy, must):
    profile = Profile(
        route=route,
        available_vram_gb=memory,
        ram_gb=memory if route == "local_cpu" else 8.0,
        needs_service=service,
        privacy=privacy,
        must_have=must,
    )
    decision = choose(profile)
    first = decision.candidate_1
    # 1. the chosen model fits the memory the estimator compared, and that memory is the profile's
    if first is not None:
        assert first.fits
        expected = profile.ram_gb if first.memory_kind == "RAM" else profile.available_vram_gb
        assert first.memory_available_gb == expected
        assert first.workflow_only or not first.lacks
    # 2. the rejected list never contradicts the paragraph or the estimator
    record = build_record(decision)
    chosen = {c.model for c in (first, decision.candidate_2) if c}
    for rejection in decision.rejected:
        assert rejection.model not in chosen
        assert rejection.model not in record["decision_paragraph"]
        if rejection.reason.startswith(("does not fit", "fits (")):
            assert rejection.estimate.fits == rejection.reason.startswith("fits (")
            assert f"{rejection.estimate.need_gb:.2f} GB" in rejection.reason
            assert f"{rejection.estimate.memory_available_gb:g} GB of {rejection.estimate.memory_kind}" in rejection.reason
    # 3. the claim matches the route; the cloud API is offered only when the data may leave
    assert decision.claim_key in CLAIMS_BY_ROUTE[route]
    assert ("or a cloud model API" in decision.fallback) == (privacy == "public")
    assert "rented GPU" in decision.fallback and "smaller model" in decision.fallback
    assert not decision.start_gpu_serving or (route == "rented_gpu" and memory >= 16 and service)


def test_every_need_in_the_vocabulary_is_documented():
    assert all(NEEDS.values())
    assert {"private_docs", "zh_en_answers", "stable_json"} <= set(NEEDS)
    assert all("capabilities" in entry for entry in catalogue()["models"])
