"""The decision tree notebook 01 draws is the rule's own answers, and the lesson's choose() is compared truthfully."""

from __future__ import annotations

from dataclasses import replace

import pytest

from helpers.decision import LESSON_EXAMPLE, ROUTES, Profile, choose
from helpers.lessons.decision_tree import (
    GRID_VRAM_GB,
    SERVICE,
    Outcome,
    beside_the_rule,
    decision_tree,
    grid_profile,
    render_tree,
)

BASES = [LESSON_EXAMPLE, Profile(), replace(LESSON_EXAMPLE, privacy="public", must_have=("stable_json",), ram_gb=2.0)]


@pytest.mark.parametrize("base", BASES, ids=["lesson-example", "defaults", "public-2GB"])
def test_every_leaf_says_what_the_rule_says_for_every_profile_it_covers(base):
    tree = decision_tree(base)
    for leaf in tree.leaves():
        assert leaf.profiles, leaf.label
        for profile in leaf.profiles:
            assert Outcome.of(choose(profile)) == leaf.outcome, (leaf.label, profile)


@pytest.mark.parametrize("base", BASES, ids=["lesson-example", "defaults", "public-2GB"])
def test_the_leaves_cover_the_grid_once(base):
    covered = [p for leaf in decision_tree(base).leaves() for p in leaf.profiles]
    grid = [grid_profile(base, (r, v, s)) for r in ROUTES for v in GRID_VRAM_GB for s in SERVICE]
    assert sorted(map(repr, covered)) == sorted(map(repr, grid))


def test_the_drawing_shows_each_leaf_once_with_its_outcome():
    tree = decision_tree()
    text = render_tree(tree)
    arrows = [line for line in text.splitlines() if "→" in line]
    assert len(arrows) == len(tree.leaves())
    for line, leaf in zip(arrows, tree.leaves(), strict=True):
        assert line.endswith(f"{leaf.label} → {leaf.outcome}")


def test_the_lesson_examples_service_branch_leads_to_vllm_and_splits_on_the_serving_threshold():
    rented = next(node for node in decision_tree().children if node.label == "route rented_gpu")
    by_label = {leaf.label: leaf for leaf in rented.leaves()}
    assert "vLLM" in by_label["service: yes"].outcome.start
    assert "vLLM" not in by_label["service: no"].outcome.start
    bands = [child.label for child in rented.children]
    assert bands[-1].startswith("GPU memory 16 to 80 GB")


def test_answers_that_ignore_a_field_collapse_and_only_neighbouring_memory_merges():
    def by_route(profile: Profile):
        return choose(replace(profile, available_vram_gb=0.0, needs_service=False))

    flat = decision_tree(rule=by_route)
    assert [leaf.label for leaf in flat.leaves()] == [f"route {r}" for r in ROUTES]

    def thresholds(profile: Profile):  # 0 and 80 answer alike but are not neighbours: two bands, never merged
        vram = profile.available_vram_gb
        return choose(replace(profile, route="rented_gpu", available_vram_gb=24.0 if vram in (0.0, 80.0) else 8.0))

    labels = [child.label for child in decision_tree(rule=thresholds).children[0].children]
    assert labels == ["GPU memory 0 GB", "GPU memory 8 to 24 GB (tried 8, 15, 16, 24)", "GPU memory 80 GB"]


def lesson_choose(profile: dict) -> dict:
    """The lesson's four branches, as its script writes them."""
    if profile["route"] == "local_cpu":
        return {"model": "sshleifer/tiny-gpt2 or a small quantized model", "runtime": "Transformers; llama.cpp/Ollama",
                "claim": "proves the workflow"}  # fmt: skip
    if profile["route"] == "free_colab":
        return {"model": "tiny model first", "runtime": "Transformers notebook", "claim": "portable"}
    if profile["route"] == "rented_gpu" and profile["available_vram_gb"] >= 16:
        runtime = "vLLM or SGLang" if profile["needs_service"] else "Transformers first, then vLLM"
        return {"model": "small instruct model", "runtime": runtime, "claim": "serving"}
    return {"model": "smaller model or cloud API fallback", "runtime": "do not start GPU serving yet", "claim": "not ready"}


def _lesson_profile(route: str, vram: float = 0.0, service: bool = False) -> dict:
    return {"task": "course assistant", "route": route, "privacy": "private_docs", "available_vram_gb": vram,
            "needs_service": service}  # fmt: skip


def test_the_lesson_beside_the_rule_on_its_three_profiles():
    local, colab, rented = (
        beside_the_rule(lesson_choose, _lesson_profile("local_cpu")),
        beside_the_rule(lesson_choose, _lesson_profile("free_colab")),
        beside_the_rule(lesson_choose, _lesson_profile("rented_gpu", 24.0, True)),
    )
    assert all(row.same_runtime for row in (local, colab, rented))
    assert local.same_model and not colab.same_model and not rented.same_model
    assert (local.lesson_reads_memory, colab.lesson_reads_memory, rented.lesson_reads_memory) == (False, False, True)
    assert (local.kit_reads_memory, colab.kit_reads_memory) == (False, True)
    assert "one of the runtimes the lesson names" in local.sentences()[0]
    assert "the lesson's answer stays the same and the kit's changes" in colab.sentences()[2]


def test_a_runtime_the_lesson_does_not_name_is_said_so():
    row = beside_the_rule(lambda p: {**lesson_choose(p), "runtime": "do not start GPU serving yet"}, _lesson_profile("local_cpu"))
    assert not row.same_runtime
    assert "which the lesson does not name" in row.sentences()[0]
