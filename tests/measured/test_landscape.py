"""The runtime landscape: endpoint capabilities, the hand-off (llama.cpp's server, Modelfile), launch lines, the tables."""

from __future__ import annotations

import pytest

from helpers.catalogue.models import shape_from_config_file
from helpers.core.names import SMOLLM2
from helpers.core.net import LOCALHOST, free_port, port_is_open
from helpers.fits.estimator import kv_bytes_per_token, parameter_count
from helpers.lessons import landscape as views
from helpers.measured import landscape
from helpers.measured.endpoint_probe import Capabilities, probe
from helpers.measured.runtime_results import Landscape, RuntimeResult
from helpers.routes.handoff import STOP_TOKENS, HandOff, LlamaCppServer, require_running
from helpers.runtimes.client import ServingError, make_client
from helpers.shelf.models import SHELF_ENTRIES

RECORD = {"project_goal": "support-operations SOP assistant", "must_have": ["private_docs", "stable_json"]}


def _result(runtime: str, dtype: str, caps: Capabilities | None) -> RuntimeResult:
    return RuntimeResult(runtime, SMOLLM2, dtype, 4, 16, caps is not None, 120.0, 40.0, 38.0, 90.0, 900.0, 5.0, caps)


def test_capabilities_split_into_offers_and_lacks():
    vllm_like = Capabilities(health=True, metrics=True, usage_in_stream=True, json_schema="enforced")
    assert vllm_like.offers() == ["/health", "/metrics", "usage in streams", "json_schema enforced"] and vllm_like.lacks() == []
    llama_like = Capabilities(health=False, metrics=False, usage_in_stream=False, json_schema="rejected: HTTP 500")
    assert llama_like.offers() == []
    assert llama_like.lacks() == ["/health", "/metrics", "usage in streams", "json_schema (rejected: HTTP 500)"]


def test_runtime_results_round_trip_through_json():
    result = _result("vllm", "float32", Capabilities(True, True, True, "enforced"))
    assert RuntimeResult.from_json(result.to_json()) == result
    in_process = _result("llama.cpp", "q4_1", None)
    assert RuntimeResult.from_json(in_process.to_json()) == in_process


def test_a_local_server_that_is_not_running_is_named_with_how_to_start_it():
    if port_is_open("127.0.0.1", 11434):
        pytest.skip("something listens on Ollama's port here")
    with pytest.raises(ServingError, match=r"Nothing answers at localhost:11434 \(Ollama's default port: .*ollama serve"):
        require_running("http://localhost:11434/v1")
    port = free_port()
    with pytest.raises(ServingError, match=f"Nothing answers at {LOCALHOST}:{port} \\(start the server, or correct the base_url"):
        require_running(f"http://{LOCALHOST}:{port}")


def test_the_modelfile_carries_the_gguf_template_prompt_temperature_and_stop_tokens():
    handoff = HandOff.for_project(RECORD["project_goal"], RECORD["must_have"])
    text = handoff.modelfile()
    assert text.startswith("FROM ./SmolLM2-135M-Instruct.Q4_1.gguf\n")
    assert "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>" in text
    assert 'SYSTEM """You are a support-operations SOP assistant. Requirements: private docs; stable json."""' in text
    assert "PARAMETER temperature 0\n" in text
    assert all(f'PARAMETER stop "{token}"' in text for token in STOP_TOKENS)
    assert handoff.commands()[:2] == [f"ollama create {handoff.name} -f Modelfile", f"ollama run {handoff.name}"]


def test_the_modelfile_is_written_atomically_into_outputs(isolated_outputs):
    path = HandOff.for_project(RECORD["project_goal"], RECORD["must_have"]).write()
    assert path == isolated_outputs / "handoff" / "Modelfile" and path.read_text().startswith("FROM ./")


def test_launch_lines_for_the_records_service_candidate_side_by_side():
    launch = landscape.launch_commands("Qwen/Qwen2.5-7B-Instruct", 80)
    assert launch.gpu_from_record and launch.gpu_memory_gb == 80
    assert launch.vllm.startswith("vllm serve Qwen/Qwen2.5-7B-Instruct --host 127.0.0.1")
    assert launch.sglang.startswith("python -m sglang.launch_server --model-path Qwen/Qwen2.5-7B-Instruct --host 127.0.0.1")
    assert "--tp" not in launch.sglang
    assumed = landscape.launch_commands("Qwen/Qwen2.5-72B-Instruct", 0)
    assert not assumed.gpu_from_record and assumed.gpu_memory_gb == 24 and "--tp 8" in assumed.sglang


def test_the_framework_table_marks_what_was_not_run_here_with_its_source():
    land = Landscape([_result("vllm", "float32", Capabilities(True, True, True, "enforced"))], "AMD EPYC, 2 cores", "2026-11-23")
    rows = views.framework_rows(land)
    assert rows[0]["guide says"].startswith("CPU inference: not supported") and "AMD EPYC" in rows[0]["source"]
    not_run = {row["runtime"]: row for row in rows[1:]}
    assert set(not_run) == {"TGI", "TensorRT-LLM", "Ollama", "SGLang"}
    assert all(row["measured here"].startswith("not run here: ") and row["source"] for row in not_run.values())


def test_roofline_rows_count_every_weight_of_a_tied_fp32_model_and_the_kv_cache():
    land = Landscape([_result("transformers", "fp32", None)], "AMD EPYC, 2 cores", "2026-11-23")
    (row,) = landscape.roofline_rows(land, 40.0)
    shape = shape_from_config_file(SHELF_ENTRIES[SMOLLM2].path / "config.json")
    expected = parameter_count(shape) * 4 + kv_bytes_per_token(shape, "fp32") * landscape.CONTEXT_TOKENS
    assert row.bytes_per_token == expected
    assert row.ceiling_tokens_per_s == pytest.approx(40e9 / expected, abs=0.1)


@pytest.mark.slow
def test_llama_cpp_server_is_driven_by_the_same_client_and_its_gaps_are_reported_not_raised():
    with LlamaCppServer() as server:
        assert server.cold_start_s and port_is_open(LOCALHOST, server.port)
        reply = make_client(server.base_url).chat.completions.create(
            model=SMOLLM2, messages=[{"role": "user", "content": "What is the capital of France?"}], max_tokens=12, temperature=0
        )
        assert reply.choices[0].message.content.strip() and reply.usage.completion_tokens > 0
        caps = probe(server.base_url, SMOLLM2)
    assert not caps.health and not caps.metrics and caps.json_schema.startswith("rejected")  # a server that rejects json_schema
    assert not port_is_open(LOCALHOST, server.port)
