"""What a model is, before any download: its shape, read from a ``config.json``, a GGUF header or the catalogue.

``data/model_catalogue.json`` holds the lesson's candidate models (each with
the ``config.json`` numbers its model card publishes, its licence and the dtypes
it is offered in) and the reference GPUs, with their sources noted there. A
:class:`ModelShape` is the architecture numbers the estimator
(:mod:`helpers.fits.estimator`) does its arithmetic on, whichever file they came
from; reading them lives here, below the estimator, so every layer reads the
catalogue the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from helpers.catalogue.gguf_header import GGUFHeader, read_gguf_header
from helpers.core.i18n import _
from helpers.core.paths import REPO_ROOT

CATALOGUE_FILE = REPO_ROOT / "data" / "model_catalogue.json"
#: The float types a checkpoint is stored in, by the kit's short names, and the torch spellings configs use for them.
FLOAT_DTYPES = ("fp32", "bf16", "fp16")
DTYPE_ALIASES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16"}
GPT2_FIELDS = ("vocab_size", "n_embd", "n_layer", "n_head", "n_positions")
DECODER_FIELDS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")


class ModelError(ValueError):
    """A model the catalogue lacks, or a config or GGUF header without a number the estimator needs."""


@dataclass(frozen=True)
class ModelShape:
    """The architecture numbers the estimator needs, whatever file they came from."""

    architecture: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    context_length: int
    tied_embeddings: bool
    qkv_bias: bool = False
    file_dtype: str = "bf16"

    @property
    def kv_width(self) -> int:
        return self.num_kv_heads * self.head_dim


def short_dtype(dtype: str) -> str:
    """The kit's short name for a dtype torch spells out (``bfloat16`` is ``bf16``); any other name, lower-cased."""
    return DTYPE_ALIASES.get(dtype.lower(), dtype.lower())


def _file_dtype(config: dict[str, Any]) -> str:
    """The float type the checkpoint is stored in (``torch_dtype``, or ``dtype`` in newer configs; bf16 if neither)."""
    named = str(config.get("torch_dtype") or config.get("dtype") or "bfloat16")
    if short_dtype(named) not in FLOAT_DTYPES:
        raise ModelError(_("dtype {dtype} is not one of {known}.").format(dtype=repr(named), known=", ".join(FLOAT_DTYPES)))
    return short_dtype(named)


def shape_from_config(config: dict[str, Any]) -> ModelShape:
    """Read a Hugging Face ``config.json`` (GPT-2 or Llama-style decoder)."""
    is_gpt2 = config.get("model_type") == "gpt2" or "n_embd" in config
    required = GPT2_FIELDS if is_gpt2 else DECODER_FIELDS
    missing = [field for field in required if field not in config]
    if missing:
        kind = "GPT-2" if is_gpt2 else _("decoder (Llama/Qwen/Mistral-style)")
        raise ModelError(
            _("The config is missing {missing}; the estimator needs {required} for a {kind} model.").format(
                missing=", ".join(missing), required=", ".join(required), kind=kind
            )
        )
    file_dtype = _file_dtype(config)
    if is_gpt2:
        hidden, heads = config["n_embd"], config["n_head"]
        return ModelShape(
            "gpt2",
            config["vocab_size"],
            hidden,
            config["n_layer"],
            heads,
            heads,
            hidden // heads,
            config.get("n_inner") or 4 * hidden,
            config["n_positions"],
            True,
            True,
            file_dtype,
        )
    heads = config["num_attention_heads"]
    return ModelShape(
        config.get("model_type", "llama"),
        config["vocab_size"],
        config["hidden_size"],
        config["num_hidden_layers"],
        heads,
        config.get("num_key_value_heads", heads),
        config.get("head_dim") or config["hidden_size"] // heads,
        config["intermediate_size"],
        config.get("max_position_embeddings", 2048),
        bool(config.get("tie_word_embeddings", False)),
        config.get("model_type") == "qwen2",
        file_dtype,
    )


def shape_from_config_file(path: Path | str) -> ModelShape:
    return shape_from_config(json.loads(Path(path).read_text(encoding="utf-8")))


def gguf_file_type(code: int) -> str:
    """A GGUF's ``general.file_type`` in the kit's dtype spelling: 15 is ``q4_k_m``, 3 ``q4_1``, 1 ``fp16``."""
    from gguf import LlamaFileType

    try:
        name = LlamaFileType(code).name
    except ValueError:
        raise ModelError(_("general.file_type {code} is not a file type this gguf package knows.").format(code=code)) from None
    short = name.removeprefix("MOSTLY_").removeprefix("ALL_").lower()
    return {"f32": "fp32", "f16": "fp16"}.get(short, short)


def gguf_header(path: Path | str) -> GGUFHeader:
    """A GGUF file's header, parsed once per process (no tensor data is loaded).

    The estimator, the roofline and the quantizer all read the same files; a file rewritten in place, with another
    size or time, is read again (:mod:`helpers.catalogue.gguf_header` reads one in milliseconds).
    """
    found = Path(path).resolve()
    stat = found.stat()
    return _gguf_header(str(found), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _gguf_header(path: str, size: int, mtime_ns: int) -> GGUFHeader:
    return read_gguf_header(path)


def shape_from_gguf(path: Path | str) -> tuple[ModelShape, int]:
    """A GGUF's shape from its header (:func:`gguf_header`); also return the file's exact tensor bytes."""
    header = gguf_header(path)

    def value(key: str) -> int:
        if key not in header.scalars:
            raise ModelError(
                _("The GGUF header of {file} has no {key}, which the estimator needs.").format(file=Path(path).name, key=key)
            )
        return header.scalars[key]

    arch = header.architecture
    hidden, heads = value(f"{arch}.embedding_length"), value(f"{arch}.attention.head_count")
    tensor_names = {t.name for t in header.tensors}
    qkv_bias = any(name.endswith("attn_q.bias") for name in tensor_names)  # Qwen2 has them, Llama does not
    shape = ModelShape(
        arch,
        header.vocab_size,
        hidden,
        value(f"{arch}.block_count"),
        heads,
        value(f"{arch}.attention.head_count_kv"),
        hidden // heads,
        value(f"{arch}.feed_forward_length"),
        value(f"{arch}.context_length"),
        "output.weight" not in tensor_names,
        qkv_bias,
        gguf_file_type(value("general.file_type")),
    )
    return shape, sum(t.n_bytes for t in header.tensors)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    """The candidate models and reference GPUs in ``data/model_catalogue.json``, sources noted there."""
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))


def candidate(model_id: str) -> dict[str, Any]:
    """One catalogue entry; an unknown id is an error that lists the known ones."""
    for entry in catalogue()["models"]:
        if entry["id"] == model_id:
            return entry
    known = ", ".join(e["id"] for e in catalogue()["models"])
    raise ModelError(
        _("{model} is not in the catalogue (data/model_catalogue.json). Known models: {known}.").format(
            model=repr(model_id), known=known
        )
    )


def candidate_shape(model_id: str) -> ModelShape:
    return shape_from_config(candidate(model_id)["config"])
