"""The runtime table: every runtime the kit names, once, with what each layer needs to know about it.

Four schemes used to name runtimes: the estimator's keys, the eval tables'
labels, the landscape's runtimes and the record's words. This table joins
them. Each :class:`Runtime` has the key the estimator and the record use, the
name a learner reads, the labels its eval tables carry, the memory it is
sized against (RAM for a CPU runtime, GPU memory otherwise), whether it serves
an OpenAI-compatible endpoint, the dtypes the rule tries on it, in order, and
the runtime to fall back to. Lookups are exact: a label no runtime claims is
``None``, never a guess from a substring.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.i18n import N_

RAM, GPU_MEMORY = N_("RAM"), N_("GPU memory")  # English in the record; translated where shown


@dataclass(frozen=True)
class Runtime:
    """One runtime as every layer of the kit names it."""

    key: str
    name: str
    eval_labels: tuple[str, ...]
    memory_kind: str
    serves: bool
    dtypes: tuple[str, ...]
    fallback: str

    @property
    def on_cpu(self) -> bool:
        return self.memory_kind == RAM


RUNTIMES = {
    runtime.key: runtime
    for runtime in (
        Runtime(
            "transformers-cpu",
            N_("Transformers on the CPU"),
            ("transformers", "transformers-cpu", "transformers-bf16"),
            RAM,
            serves=False,
            dtypes=("fp32", "bf16"),
            fallback=N_("llama.cpp with a quantized GGUF when memory or speed runs short"),
        ),
        Runtime(
            "llama.cpp",
            N_("llama.cpp (quantized, on the CPU)"),
            ("llama.cpp", "llama.cpp-server"),
            RAM,
            serves=False,
            dtypes=("q4_1", "q4_k_m", "q8_0"),
            fallback=N_("Ollama or LM Studio for a laptop hand-off, on the same GGUF file"),
        ),
        Runtime(
            "transformers-cuda",
            N_("Transformers on the GPU"),
            ("transformers-cuda",),
            GPU_MEMORY,
            serves=False,
            dtypes=("bf16", "int8", "int4"),
            fallback=N_("llama.cpp with a quantized GGUF when memory or speed runs short"),
        ),
        Runtime(
            "vllm",
            N_("vLLM (OpenAI-compatible server)"),
            ("vllm", "openai-compatible", "sglang"),
            GPU_MEMORY,
            serves=True,
            dtypes=("bf16", "int8", "int4"),
            fallback=N_("SGLang (also OpenAI-compatible), or Transformers to debug one prompt"),
        ),
    )
}
#: The fallback when no candidate was chosen at all.
NO_RUNTIME_FALLBACK = N_("llama.cpp with the smallest quantized model, once memory allows")
_BY_LABEL = {label: runtime for runtime in RUNTIMES.values() for label in runtime.eval_labels}


#: The runtimes a learner's paragraph may name, as (the name shown back, the runtime it stands for). Ollama and
#: LM Studio run the same GGUF files as llama.cpp, and SGLang serves like vLLM; "transformers" is the CPU or the
#: GPU build by where the decision runs (:func:`runtime_for_word`).
LEARNER_WORDS = {
    "vllm": ("vLLM", "vllm"),
    "sglang": ("SGLang", "vllm"),
    "llama.cpp": ("llama.cpp", "llama.cpp"),
    "llama-cpp": ("llama.cpp", "llama.cpp"),
    "ollama": ("Ollama", "llama.cpp"),
    "lm studio": ("LM Studio", "llama.cpp"),
    "transformers": ("Transformers", None),
}


def runtime_for_word(word: str | None, *, on_gpu: bool) -> str:
    """The runtime key a learner's word stands for; Transformers (on the decision's device) when none was named."""
    key = LEARNER_WORDS[word][1] if word in LEARNER_WORDS else None
    return key or ("transformers-cuda" if on_gpu else "transformers-cpu")


def runtime_loading(runtime: str, dtype: str) -> str | None:
    """The runtime that loads ``dtype`` for a decision sized on ``runtime``: itself when it loads it, llama.cpp for a
    GGUF quantization on a CPU route; None when nothing on that device does (a GGUF file on a GPU runtime, say)."""
    if dtype in RUNTIMES[runtime].dtypes:
        return runtime
    if RUNTIMES[runtime].on_cpu and dtype in RUNTIMES["llama.cpp"].dtypes:
        return "llama.cpp"
    return None


def runtime_for_label(label: str) -> Runtime | None:
    """The runtime an eval table's ``runtime`` label names, or None when no runtime claims that label."""
    return _BY_LABEL.get(label)


def plain_transformers(runtime: str) -> str:
    """Transformers on the same device as ``runtime``: what a model with no quantized file is sized on."""
    return "transformers-cpu" if RUNTIMES[runtime].on_cpu else "transformers-cuda"
