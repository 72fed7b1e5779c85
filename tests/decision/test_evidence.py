"""Evidence read back as typed results: missing sources name their producer; broken ones say what to rerun and stay untouched."""

from __future__ import annotations

import pytest
from evidence_sets import benchmark, colab_run, eval_table, shutdown_proof

from helpers.core import names
from helpers.decision.candidates import model_version
from helpers.decision.evidence import MISSING, PRESENT, UNREADABLE, EvidenceError, gather, runs_of, runtime_key
from helpers.shelf.models import SHELF_ENTRIES, problems


def test_missing_evidence_names_its_producer(isolated_outputs):
    found = gather(isolated_outputs)
    assert {s.status for s in found.sources.values()} == {MISSING}
    assert found.sources[
        "benchmark"
    ].message == "outputs/serving/benchmark.json is missing: run notebook 04_rented_gpu_route to produce it." or found.sources[
        "benchmark"
    ].message.endswith("benchmark.json is missing: run notebook 04_rented_gpu_route to produce it.")
    assert "make run" in found.sources["memory_check"].message
    found.raise_for_problems()  # missing is not broken


def test_every_source_present_is_read_by_attribute(isolated_outputs):
    (isolated_outputs / "memory_check.csv").write_text("model,error_pct\nm,2.0\nn,-6.1\n", encoding="utf-8")
    eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", 3)
    colab_run(isolated_outputs, "cpu", names.TINY_GPT2, 0)
    benchmark(isolated_outputs)
    shutdown_proof(isolated_outputs)
    found = gather(isolated_outputs)
    assert {s.status for s in found.sources.values()} == {PRESENT}
    assert found.memory.worst_error_pct == 6.1 and found.memory.rows == 2
    assert found.colab.steps[0].plan.device == "cpu" and found.shutdown.stopped is True and found.benchmark.hardware == "test CPU"
    assert [r.label for r in runs_of(found, names.SMOLLM2, "llama.cpp")] == [
        f"SmolLM2-135M-Instruct on llama.cpp 3/{len(found.case_ids)}"
    ]


BROKEN = {
    "memory_check.csv": ["", "model,error_pct\nm,2.0\nn,"],
    "colab_run.json": ["", '{"platform": "colab", "steps": [{"plan"'],
    "serving/benchmark.json": ["", '{"format": 2, "created_at": "2026'],
    "serving/shutdown_proof.json": ["", "{not json"],
}


@pytest.mark.parametrize(("name", "content"), [(n, c) for n, contents in BROKEN.items() for c in contents])
def test_an_empty_or_half_written_file_is_reported_and_left_alone(isolated_outputs, name, content):
    path = isolated_outputs / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    found = gather(isolated_outputs)
    broken = [s for s in found.sources.values() if s.status == UNREADABLE]
    assert len(broken) == 1 and broken[0].path.endswith(name)
    assert "Rerun" in broken[0].message and "nothing was changed" in broken[0].message
    with pytest.raises(EvidenceError, match=name.split("/")[-1]):
        found.raise_for_problems()
    assert path.read_text(encoding="utf-8") == content


def test_a_shutdown_proof_from_an_older_kit_is_refused_with_the_format_check_route_3_uses(isolated_outputs):
    """Evidence reads the proof through helpers.serving.shutdown's reader, so a proof with no kind is not evidence."""
    path = isolated_outputs / "serving" / "shutdown_proof.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"base_url": "http://127.0.0.1:8000/v1", "stopped": true}', encoding="utf-8")
    found = gather(isolated_outputs)
    assert found.sources["shutdown_proof"].status == UNREADABLE and found.shutdown is None
    assert "older kit (no proof kind)" in found.sources["shutdown_proof"].message


def test_an_eval_table_with_no_usable_latency_is_reported_not_a_crash(isolated_outputs):
    path = eval_table(isolated_outputs, "HuggingFaceTB/SmolLM2-135M-Instruct", "llama.cpp", 3)
    lines = path.read_text(encoding="utf-8").splitlines()
    column = lines[0].split(",").index("latency_s")
    zeroed = [lines[0]] + [",".join("0" if i == column else v for i, v in enumerate(row.split(","))) for row in lines[1:]]
    path.write_text("\n".join(zeroed) + "\n", encoding="utf-8")
    found = gather(isolated_outputs)
    assert found.runs == () and found.sources["evals"].status == UNREADABLE
    assert "has no usable latencies" in found.sources["evals"].message


def test_a_corrupt_eval_table_is_reported_with_the_command_that_rewrites_it(isolated_outputs):
    path = eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", 3)
    path.write_text("case_id,model\n", encoding="utf-8")
    found = gather(isolated_outputs)
    assert found.sources["evals"].status == UNREADABLE and "python -m helpers.evals run" in found.sources["evals"].message
    assert path.read_text(encoding="utf-8") == "case_id,model\n"


@pytest.mark.parametrize(
    ("runtime", "family"),
    [
        ("transformers", "transformers-cpu"),
        ("llama.cpp", "llama.cpp"),
        ("vllm", "vllm"),
        ("openai-compatible", "vllm"),
        ("transformers-cuda", "transformers-cuda"),
        ("llama.cpp-server", "llama.cpp"),
        ("my-llama-fork", None),
        ("cuda-vllm", None),
    ],
)
def test_eval_labels_map_to_the_runtime_table_exactly(runtime, family):
    """An unknown label is no runtime's, never a guess from a substring ("llama" in the name)."""
    assert runtime_key(runtime) == family


def test_model_version_is_the_shelf_digest_of_the_file_that_ran():
    if problems(SHELF_ENTRIES[names.TINY_GPT2]):
        pytest.skip("the shelf is not built on this machine (make run builds it)")
    digest, path = model_version(names.TINY_GPT2, "transformers-cpu")
    assert len(digest) == 64 and path.endswith("model.safetensors")
    assert model_version(names.SMOLLM2, "llama.cpp")[1].endswith(".gguf")
    assert model_version("Qwen/Qwen2.5-7B-Instruct", "vllm") is None
