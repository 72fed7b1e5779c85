"""Will it fit? Memory, disk and speed estimates from a model's config, before any download.

The guide's rule of thumb, *memory ≈ parameters × bytes per parameter × 1.2*,
lets its 0.2 stand for the two things that decide whether small models fit: the
runtime's own footprint (a Python process with torch is hundreds of MB before
any weight) and the KV cache, which grows with context length and concurrency.
A fixed share of the weights cannot track either, so this module counts both:

* **parameters**, from the architecture (untied output heads counted), as
  :mod:`helpers.catalogue.models` reads it from a config, a GGUF header or the catalogue;
* **weights** = parameters × bytes per parameter for the dtype or quantization;
* **KV cache** = 2 · layers · kv_heads · head_dim · bytes · tokens;
* **runtime overhead**, measured per runtime (see :data:`RUNTIME_OVERHEAD_MB`);
* **load transient**: Transformers on CPU maps the checkpoint while it converts
  it, so loading fp32 files as bf16 briefly holds both;
* **disk**, and a **decode ceiling** = memory bandwidth ÷ bytes read per token (``helpers.fits.roofline``;
  CPU runtimes use this machine's measured bandwidth when there is one).

``benchmarks/memory_check.py`` checks these predictions against measured peak
memory and writes ``outputs/memory_check.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.catalogue.models import FLOAT_DTYPES, ModelShape, catalogue, shape_from_config, short_dtype
from helpers.catalogue.runtimes import RUNTIMES, runtime_loading
from helpers.core.i18n import _
from helpers.fits import roofline

MB = 1e6
GB = 1e9

#: Bytes stored per parameter. GGUF block formats carry per-block scales:
#: Q8_0 = 34 bytes per 32 weights, Q4_1 = 20 per 32; Q4_K_M averages ~4.85 bits.
BYTES_PER_PARAM = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "int8": 1.0,
    "q8_0": 34 / 32,
    "q4_1": 20 / 32,
    "q4_k_m": 4.85 / 8,
    # The rest of the quantization ladder: bits per weight llama.cpp's tools/quantize/README.md
    # reports for Llama-3-8B (K-quant mixes keep some tensors at a higher type).
    "q6_k": 6.5633 / 8,
    "q5_k_m": 5.7036 / 8,
    "q3_k_m": 3.9960 / 8,
    "q2_k": 3.1593 / 8,
    "int4": 4.25 / 8,
}

#: Memory a runtime needs before the first weight, in MB. CPU figures were measured
#: on the course machine (2 cores, Python 3.11, torch 2.13.0+cpu, transformers 5.23, and
#: llama-cpp-python at requirements.txt's pin): importing torch and transformers is 261 MB, and the
#: tokenizer plus generate machinery add ~130 MB; importing llama_cpp is 41 MB, and llama.cpp adds
#: :data:`LLAMA_CPP_BYTES_PER_VOCAB_ENTRY` for each entry of the model's vocabulary. GPU figures
#: cover the CUDA context and activation workspace.
RUNTIME_OVERHEAD_MB = {
    "transformers-cpu": 400.0,
    "llama.cpp": 40.0,
    "transformers-cuda": 1000.0,
    "vllm": 2000.0,
}

#: What llama.cpp holds per vocabulary entry beyond the weights: the vocabulary's own tables (token strings, the
#: token-to-id map, the BPE merges) and the logit rows llama-cpp-python copies out. It was read off peak memory on
#: this machine's two GGUFs (SmolLM2, 49,152 entries: 3 MB above weights + KV + 40 MB; Qwen2.5-Coder, 151,936
#: entries: 68 MB above), so those two memory-check rows do not test it independently; a third vocabulary would.
LLAMA_CPP_BYTES_PER_VOCAB_ENTRY = 640

#: How far from measured peak memory the estimate may be on every row of ``benchmarks/memory_check.py``.
TARGET_ERROR_PCT = 10.0

#: The guide's rule of thumb: weights × 1.2, the 0.2 standing for the KV cache and the runtime's overhead together.
RULE_OF_THUMB_FACTOR = 1.2


def rule_of_thumb(weight_bytes: int) -> int:
    """Memory by the ×1.2 rule: the weights, plus a fixed 20% for the KV cache and runtime (whatever the context)."""
    return int(weight_bytes * RULE_OF_THUMB_FACTOR)


class EstimateError(ValueError):
    """A request the estimator cannot work with (a dtype, runtime or size it does not know), naming what is allowed."""


def normalize_dtype(dtype: str) -> str:
    key = short_dtype(dtype)
    if key not in BYTES_PER_PARAM:
        raise EstimateError(_("dtype {dtype} is not one of {known}.").format(dtype=repr(dtype), known=", ".join(BYTES_PER_PARAM)))
    return key


def parameter_count(shape: ModelShape) -> int:
    """Every weight, counting an untied output head once more."""
    h, layers, vocab = shape.hidden_size, shape.num_layers, shape.vocab_size
    if shape.architecture == "gpt2":
        inner = shape.intermediate_size
        per_layer = 2 * h + (3 * h * h + 3 * h) + (h * h + h) + 2 * h + (h * inner + inner) + (inner * h + h)
        return vocab * h + shape.context_length * h + layers * per_layer + 2 * h
    q_width = shape.num_heads * shape.head_dim
    attention = h * q_width + 2 * h * shape.kv_width + q_width * h
    if shape.qkv_bias:
        attention += q_width + 2 * shape.kv_width
    per_layer = attention + 3 * h * shape.intermediate_size + 2 * h
    head = 0 if shape.tied_embeddings else vocab * h
    return vocab * h + layers * per_layer + h + head


def kv_bytes_per_token(shape: ModelShape, kv_dtype: str) -> float:
    """2 (K and V) · layers · kv_heads · head_dim · bytes."""
    return 2 * shape.num_layers * shape.kv_width * BYTES_PER_PARAM[normalize_dtype(kv_dtype)]


def kv_dtype_for(dtype: str) -> str:
    """fp32 models keep an fp32 cache; everything else (quantized included) keeps 16-bit."""
    return "fp32" if normalize_dtype(dtype) == "fp32" else "fp16"


@dataclass(frozen=True)
class Estimate:
    """Predicted peak memory for one model, dtype, runtime, context and concurrency."""

    runtime: str
    dtype: str
    parameters: int
    weight_bytes: int
    kv_cache_bytes: int
    runtime_overhead_bytes: int
    load_transient_bytes: int
    total_bytes: int
    disk_bytes: int
    rule_of_thumb_bytes: int
    decode_tokens_per_s_ceiling: float | None
    #: Weights a short run never reads into memory (see :func:`mapped_unread_bytes`); ``total_bytes`` leaves them out.
    mapped_unread_bytes: int = 0


def estimate(
    shape: ModelShape,
    dtype: str,
    *,
    runtime: str = "transformers-cpu",
    context_tokens: int | None = None,
    concurrency: int = 1,
    bandwidth_gb_s: float | None = None,
    weight_bytes: int | None = None,
) -> Estimate:
    """Predict peak memory; ``weight_bytes`` overrides the dtype arithmetic (a GGUF's exact size)."""
    dtype = normalize_dtype(dtype)
    if runtime not in RUNTIME_OVERHEAD_MB:
        raise EstimateError(
            _("runtime {runtime} is not one of {known}.").format(runtime=repr(runtime), known=", ".join(RUNTIME_OVERHEAD_MB))
        )
    if concurrency < 1:
        raise EstimateError(_("concurrency must be at least 1, got {value}.").format(value=concurrency))
    tokens = context_tokens if context_tokens is not None else shape.context_length
    params = parameter_count(shape)
    weights = int(weight_bytes if weight_bytes is not None else params * BYTES_PER_PARAM[dtype])
    kv_per_token = kv_bytes_per_token(shape, kv_dtype_for(dtype))
    kv = int(kv_per_token * tokens * concurrency)
    overhead = RUNTIME_OVERHEAD_MB[runtime] * MB
    if runtime == "llama.cpp":
        overhead += LLAMA_CPP_BYTES_PER_VOCAB_ENTRY * shape.vocab_size
    transient = 0
    converting = dtype != shape.file_dtype and dtype in FLOAT_DTYPES and shape.file_dtype in FLOAT_DTYPES
    if runtime == "transformers-cpu" and converting:
        transient = int(params * BYTES_PER_PARAM[shape.file_dtype])  # the mapped checkpoint, while converting
    unread = mapped_unread_bytes(shape, dtype, runtime, converting)
    if bandwidth_gb_s is None and RUNTIMES[runtime].on_cpu and (measured := roofline.measured_bandwidth()):
        bandwidth_gb_s = measured.gb_s  # this machine's own figure, never a GPU's
    ceiling = None
    if bandwidth_gb_s:
        embedding = int(weights * shape.vocab_size * shape.hidden_size / params)
        read = roofline.weight_bytes_read_per_token(weights, embedding, shape.vocab_size, tied=shape.tied_embeddings)
        ceiling = round(roofline.ceiling_tokens_per_s(bandwidth_gb_s, roofline.bytes_per_token(read, kv_per_token, tokens)), 1)
    return Estimate(
        runtime=runtime,
        dtype=dtype,
        parameters=params,
        weight_bytes=weights,
        kv_cache_bytes=kv,
        runtime_overhead_bytes=int(overhead),
        load_transient_bytes=transient,
        total_bytes=int(weights + kv + overhead + transient - unread),
        disk_bytes=int(weights * 1.02 + 5 * MB),  # tokenizer and config files
        rule_of_thumb_bytes=rule_of_thumb(int(params * BYTES_PER_PARAM[dtype])),
        decode_tokens_per_s_ceiling=ceiling,
        mapped_unread_bytes=unread,
    )


def mapped_unread_bytes(shape: ModelShape, dtype: str, runtime: str, converting: bool) -> int:
    """The input embedding a short run never reads, where Transformers maps the checkpoint instead of copying it.

    Loading a safetensors file in its own dtype, Transformers on CPU maps it, and a page costs memory only once it
    is read. An embedding matrix is read one row per token seen, so an untied one (Qwen2.5-Coder's 272 MB in bf16)
    stays mostly on disk during a short run. A tied one is the output head too, read whole at every step. Over a long
    run with many different tokens the resident part grows toward the whole matrix: the estimate is a short run's peak.
    """
    if runtime != "transformers-cpu" or converting or shape.tied_embeddings:  # GPT-2 shapes are always tied
        return 0
    return int(shape.vocab_size * shape.hidden_size * BYTES_PER_PARAM[normalize_dtype(dtype)])


@dataclass(frozen=True)
class VllmBudget:
    """How vLLM would split one GPU: weights, overhead, and the KV cache that is left."""

    gpu_memory_utilization: float
    usable_bytes: int
    kv_budget_bytes: int
    kv_tokens: int
    max_concurrency: int
    tensor_parallel_size: int
    fits: bool


def vllm_budget(
    shape: ModelShape, dtype: str, gpu_memory_gb: float, *, max_model_len: int, gpu_memory_utilization: float = 0.9
) -> VllmBudget:
    """KV tokens and concurrent sequences that fit under ``--gpu-memory-utilization``.

    When the weights alone overflow one GPU, the smallest power-of-two tensor
    parallel size that fits is given; weights and KV then split across GPUs.
    """
    if not 0 < gpu_memory_utilization <= 1:
        raise EstimateError(_("gpu_memory_utilization must be in (0, 1], got {value}.").format(value=gpu_memory_utilization))
    weights = parameter_count(shape) * BYTES_PER_PARAM[normalize_dtype(dtype)]
    overhead = RUNTIME_OVERHEAD_MB["vllm"] * MB
    usable = gpu_memory_gb * GB * gpu_memory_utilization
    tp = 1
    while weights / tp + overhead >= usable and tp < 8:
        tp *= 2
    kv_budget = max(0.0, (usable - overhead) * tp - weights)
    kv_tokens = int(kv_budget // kv_bytes_per_token(shape, kv_dtype_for(dtype)))
    return VllmBudget(
        gpu_memory_utilization,
        int(usable * tp),
        int(kv_budget),
        kv_tokens,
        kv_tokens // max_model_len,
        tp,
        kv_tokens >= max_model_len,
    )


def fit_table(memory_gb: float, *, context_tokens: int = 4096, runtime: str = "transformers-cuda") -> list[dict[str, Any]]:
    """Every catalogue model at every dtype a runtime on that device loads: predicted memory against what is available.

    The dtypes are the runtime table's, as the rule tries them: on the CPU, GGUF quantizations are estimated for
    llama.cpp, the runtime that loads them; on a GPU runtime a GGUF row would be a fit nothing loads, so it is left out.
    """
    rows = []
    for entry in catalogue()["models"]:
        shape = shape_from_config(entry["config"])
        tokens = min(context_tokens, shape.context_length)
        for dtype in entry["dtypes"]:
            used = runtime_loading(runtime, dtype)
            if used is None:
                continue
            est = estimate(shape, dtype, runtime=used, context_tokens=tokens)
            rows.append(
                {
                    "model": entry["id"],
                    "dtype": dtype,
                    "runtime": used,
                    "params_b": round(est.parameters / 1e9, 3),
                    "weights_gb": round(est.weight_bytes / GB, 2),
                    "kv_gb": round(est.kv_cache_bytes / GB, 2),
                    "total_gb": round(est.total_bytes / GB, 2),
                    "rule_of_thumb_gb": round(est.rule_of_thumb_bytes / GB, 2),
                    "fits": est.total_bytes <= memory_gb * GB,
                    "license": entry["license"],
                }
            )
    return rows
