"""The estimator: parameter counts, KV cache arithmetic, vLLM budget, and its errors (on the catalogue's shapes)."""

from __future__ import annotations

import pytest

from helpers.catalogue.models import (
    FLOAT_DTYPES,
    candidate,
    candidate_shape,
    shape_from_config,
    shape_from_config_file,
    shape_from_gguf,
)
from helpers.fits import estimator
from helpers.fits.estimator import EstimateError
from helpers.shelf.models import SHELF_ENTRIES

PUBLISHED_SIZES_B = {  # parameter counts stated on the model cards
    "sshleifer/tiny-gpt2": 0.000102714,
    "HuggingFaceTB/SmolLM2-135M-Instruct": 0.1345,
    "Qwen/Qwen2.5-0.5B-Instruct": 0.494,
    "Qwen/Qwen2.5-7B-Instruct": 7.62,
    "meta-llama/Llama-3.1-8B-Instruct": 8.03,
    "mistralai/Mistral-7B-Instruct-v0.3": 7.25,
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B": 7.62,
    "Qwen/Qwen2.5-72B-Instruct": 72.7,
}


@pytest.mark.parametrize(("model", "billions"), PUBLISHED_SIZES_B.items())
def test_parameter_counts_match_the_model_cards(model, billions):
    counted = estimator.parameter_count(candidate_shape(model)) / 1e9
    assert counted == pytest.approx(billions, rel=0.005)


def test_kv_cache_counts_kv_heads_not_query_heads():
    shape = candidate_shape("meta-llama/Llama-3.1-8B-Instruct")
    # 2 · 32 layers · 8 kv heads · 128 · 2 bytes = 131,072 bytes per token
    assert estimator.kv_bytes_per_token(shape, "bf16") == 131_072
    est = estimator.estimate(shape, "bf16", runtime="vllm", context_tokens=8192, concurrency=4)
    assert est.kv_cache_bytes == 131_072 * 8192 * 4


def test_untied_head_is_counted():
    tied = shape_from_config({**candidate("Qwen/Qwen2.5-0.5B-Instruct")["config"]})
    untied = shape_from_config({**candidate("Qwen/Qwen2.5-0.5B-Instruct")["config"], "tie_word_embeddings": False})
    assert estimator.parameter_count(untied) - estimator.parameter_count(tied) == 151936 * 896


def test_shelf_config_and_gguf_header_agree():
    from_config = shape_from_config_file(SHELF_ENTRIES["HuggingFaceTB/SmolLM2-135M-Instruct"].path / "config.json")
    from_gguf, gguf_bytes = shape_from_gguf(
        SHELF_ENTRIES["SmolLM2-135M-Instruct.Q4_1.gguf"].path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    assert estimator.parameter_count(from_config) == estimator.parameter_count(from_gguf) == 134_515_008
    assert 0.6 < gguf_bytes / estimator.parameter_count(from_gguf) < 0.8  # Q4_1 blocks plus fp32 norms


def test_decode_ceiling_is_bandwidth_over_bytes_per_token():
    shape = candidate_shape("Qwen/Qwen2.5-7B-Instruct")  # untied: its input embedding is a one-row lookup
    est = estimator.estimate(shape, "bf16", runtime="vllm", context_tokens=1, bandwidth_gb_s=3350)
    embedding = shape.vocab_size * shape.hidden_size * 2
    read = est.weight_bytes - embedding + embedding // shape.vocab_size + estimator.kv_bytes_per_token(shape, "fp16")
    assert est.decode_tokens_per_s_ceiling == pytest.approx(3350e9 / read, rel=1e-3)


def test_vllm_budget_and_tensor_parallel():
    single = estimator.vllm_budget(candidate_shape("Qwen/Qwen2.5-7B-Instruct"), "bf16", 24, max_model_len=8192)
    assert single.tensor_parallel_size == 1 and single.fits and single.max_concurrency >= 1
    big = estimator.vllm_budget(candidate_shape("Qwen/Qwen2.5-72B-Instruct"), "bf16", 80, max_model_len=8192)
    assert big.tensor_parallel_size == 4


def test_unknown_dtype_and_runtime_are_errors():
    shape = candidate_shape("HuggingFaceTB/SmolLM2-135M-Instruct")
    with pytest.raises(EstimateError, match="fp32, bf16"):
        estimator.estimate(shape, "fp8_e9")
    with pytest.raises(EstimateError, match="transformers-cpu"):
        estimator.estimate(shape, "bf16", runtime="tensorrt")


def test_quantized_never_costs_more_than_bf16_on_cpu():
    rows = {(r["model"], r["dtype"]): r for r in estimator.fit_table(8, runtime="transformers-cpu")}
    for (model, dtype), row in rows.items():
        if dtype not in FLOAT_DTYPES and (model, "bf16") in rows:
            assert row["total_gb"] < rows[(model, "bf16")]["total_gb"], (model, dtype)
    assert rows[("Qwen/Qwen2.5-7B-Instruct", "q4_k_m")]["runtime"] == "llama.cpp"
