"""One greedy llama.cpp decode, timed token by token: the one timing loop behind every llama.cpp speed the kit reports.

The quantization ladder, the runtime landscape, the build comparison and the
memory check all decode greedily from a loaded ``llama_cpp.Llama`` and need the
same three facts: how many tokens came out, when the first arrived (the end of
prefill) and when the last did. :func:`time_greedy_decode` records them; the
speeds are then read through :mod:`helpers.machine.speed`, so a llama.cpp
figure means what every other figure with the same label means.

Two kinds of prompt:

* **text** (special tokens such as ``<|im_start|>`` allowed) runs through
  ``Llama.generate``, one item per token, for exactly ``max_tokens`` tokens:
  like ``llama-bench``, end-of-sequence does not stop it, so every run times the
  same number of tokens;
* **chat messages** run through ``create_chat_completion`` with the model's own
  chat template, streamed; each chunk with content counts as one token (as
  vLLM's benchmark counts chunks when a server sends no usage), and the answer
  stops where the model stops.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from helpers.machine import speed


@dataclass(frozen=True)
class DecodeTiming:
    """What one timed greedy decode saw; times are seconds since the call began (prompt tokenized already).

    ``prompt_tokens`` is known for a text prompt only: a chat prompt is templated and tokenized inside llama.cpp.
    """

    output_tokens: int
    first_token_s: float
    end_s: float
    prompt_tokens: int | None = None

    @property
    def ttft_ms(self) -> float:
        return 1000 * self.first_token_s

    @property
    def decode_tokens_per_s(self) -> float:
        return speed.decode_tokens_per_s(self.output_tokens, self.first_token_s, self.end_s)

    @property
    def end_to_end_tokens_per_s(self) -> float:
        return speed.end_to_end_tokens_per_s(self.output_tokens, self.end_s)

    @property
    def prefill_tokens_per_s(self) -> float:
        if self.prompt_tokens is None:
            raise speed.SpeedError("prefill speed needs the prompt's token count, which only a text prompt gives here.")
        return speed.prefill_tokens_per_s(self.prompt_tokens, self.first_token_s)


def time_greedy_decode(llm: Any, prompt: str | list[dict[str, str]], max_tokens: int) -> DecodeTiming:
    """Decode greedily from ``llm`` (a ``llama_cpp.Llama``) and time every token; see the module docstring for prompts."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1; got {max_tokens}.")
    prompt_tokens = None
    if isinstance(prompt, str):
        tokens = llm.tokenize(prompt.encode("utf-8"), special=True)
        prompt_tokens = len(tokens)
        start = time.perf_counter()
        outputs = llm.generate(tokens, temp=0.0, top_k=1)
    else:
        start = time.perf_counter()
        chunks = llm.create_chat_completion(prompt, max_tokens=max_tokens, temperature=0.0, seed=0, stream=True)
        outputs = (chunk for chunk in chunks if chunk["choices"][0]["delta"].get("content"))
    stamps: list[float] = []
    for _output in outputs:
        stamps.append(time.perf_counter() - start)
        if len(stamps) == max_tokens:
            break
    if not stamps:
        raise speed.SpeedError("llama.cpp produced no output token to time; try another prompt or a larger max_tokens.")
    return DecodeTiming(len(stamps), stamps[0], stamps[-1], prompt_tokens)
