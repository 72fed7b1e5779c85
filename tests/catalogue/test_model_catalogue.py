"""The model catalogue and the shapes read from configs: unknown models, missing numbers and odd dtypes are clear errors."""

from __future__ import annotations

import pytest

from helpers.catalogue.models import (
    ModelError,
    candidate,
    candidate_shape,
    catalogue,
    gguf_file_type,
    shape_from_config,
    shape_from_gguf,
    short_dtype,
)
from helpers.shelf.models import SHELF_ENTRIES, problems


def test_every_catalogue_model_has_a_shape_the_estimator_can_use():
    for entry in catalogue()["models"]:
        shape = candidate_shape(entry["id"])
        assert shape.file_dtype in ("fp32", "bf16") and shape.kv_width > 0 and shape.context_length >= 1024, entry["id"]


def test_unknown_model_lists_the_catalogue():
    with pytest.raises(ModelError) as error:
        candidate("acme/giant-1T")
    assert "acme/giant-1T" in str(error.value) and "Qwen/Qwen2.5-7B-Instruct" in str(error.value)


@pytest.mark.parametrize(
    ("config", "missing"),
    [
        (
            {"model_type": "llama", "vocab_size": 10, "hidden_size": 8},
            "num_hidden_layers, num_attention_heads, intermediate_size",
        ),
        ({"model_type": "gpt2", "vocab_size": 10, "n_embd": 4}, "n_layer, n_head, n_positions"),
    ],
)
def test_config_missing_fields_names_them(config, missing):
    with pytest.raises(ModelError, match=missing):
        shape_from_config(config)


def test_the_checkpoint_dtype_is_read_in_either_spelling_and_an_unknown_one_is_named():
    config = {**candidate("HuggingFaceTB/SmolLM2-135M-Instruct")["config"]}
    config.pop("torch_dtype")
    assert shape_from_config({**config, "dtype": "float16"}).file_dtype == "fp16"  # newer configs say dtype
    assert shape_from_config(config).file_dtype == "bf16"  # neither: the hub's usual
    with pytest.raises(ModelError, match=r"'float8_e4m3fn' is not one of fp32, bf16, fp16"):
        shape_from_config({**config, "torch_dtype": "float8_e4m3fn"})
    assert short_dtype("BFloat16") == "bf16" and short_dtype("q4_k_m") == "q4_k_m"


@pytest.mark.parametrize(("code", "dtype"), [(0, "fp32"), (1, "fp16"), (3, "q4_1"), (7, "q8_0"), (15, "q4_k_m"), (32, "bf16")])
def test_a_gguf_file_type_is_read_in_the_kits_dtype_spelling(code, dtype):
    assert gguf_file_type(code) == dtype


def test_an_unknown_gguf_file_type_is_a_clear_error():
    with pytest.raises(ModelError, match="general.file_type 999 is not a file type this gguf package knows"):
        gguf_file_type(999)


@pytest.mark.parametrize(
    ("entry", "file", "dtype", "qkv_bias", "tied"),
    [
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1.gguf", "q4_1", False, True),
        ("Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf", "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf", "q4_k_m", True, False),
    ],
)
def test_a_gguf_header_gives_its_own_file_type_bias_and_head(entry, file, dtype, qkv_bias, tied):
    shelf = SHELF_ENTRIES[entry]
    if problems(shelf):
        pytest.skip(f"{entry} is not on this machine's shelf (make run builds it)")
    shape, _ = shape_from_gguf(shelf.path / file)
    assert (shape.file_dtype, shape.qkv_bias, shape.tied_embeddings) == (dtype, qkv_bias, tied)
