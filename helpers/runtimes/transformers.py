"""One way to load a model, encode a chat, and decode greedily.

The eval runners, the local API skeleton, the notebooks and the benchmarks all
load models by hub name through :func:`helpers.shelf.models.resolve` (the offline
shelf stands in for the hub), and all of them decode greedily so a run can be
repeated and tested. Keeping those steps here means a change to loading or to
greedy decoding happens once. A :class:`Generation` is timed as a whole request,
so its speed is the end-to-end one of :mod:`helpers.machine.speed` (prefill
included), never the decode speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.core.quiet import quiet_libraries
from helpers.machine import speed
from helpers.shelf.models import model_that_ran, resolve


@dataclass(frozen=True)
class Generation:
    """One greedy completion: the text, how many tokens it took, how long, and whether its form was enforced.

    ``constrained`` is true when the runtime forced the output into a JSON
    schema (``response_format``), so a well-formed answer says nothing about
    the model's own discipline.
    """

    text: str
    output_tokens: int
    seconds: float
    constrained: bool = False

    @property
    def tokens_per_s(self) -> float:
        """End-to-end tokens/s (:data:`helpers.machine.speed.END_TO_END_LABEL`): ``seconds`` is the whole request."""
        return speed.end_to_end_tokens_per_s(self.output_tokens, self.seconds)


@dataclass(frozen=True)
class LoadedModel:
    """A model and tokenizer ready to generate, and where they were loaded from.

    ``source`` is what :func:`resolve` returned (a hub id or a local folder);
    ``folder`` is the local folder holding ``config.json`` and the weights, so
    sizes on disk can be measured online (the hub cache) as well as offline.
    """

    name: str
    source: str
    folder: Path
    model: Any
    tokenizer: Any
    device: str = "cpu"

    @property
    def max_context(self) -> int:
        """The longest sequence the model accepts (prompt plus completion)."""
        config = self.model.config
        return int(getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 1024))


def _local_folder(source: str) -> Path:
    if Path(source).is_dir():
        return Path(source)
    from transformers.utils import cached_file

    return Path(cached_file(source, "config.json")).parent  # already downloaded by from_pretrained


def load(name: str, *, dtype: str = "float32", device: str = "cpu") -> LoadedModel:
    """Load ``name`` (a hub id or a folder) through the shelf resolver, in eval mode on ``device``.

    The result is named for the model that ran: offline, the lesson's Qwen is its shelf sibling.
    """
    quiet_libraries()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve(name)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype)).to(device).eval()
    return LoadedModel(model_that_ran(name, source), source, _local_folder(source), model, tokenizer, device)


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """A prompt for models without a chat template (tiny-gpt2): one ``Role: content`` line each."""
    return "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages) + "Assistant:"


def for_generate(encoding: Any) -> Any:
    """An encoding without ``token_type_ids``: some tokenizers return them under transformers 4.x (4.56, the lowest
    ``pyproject.toml`` allows, does for SmolLM2's), and ``generate`` then refuses them for a causal LM that has none."""
    encoding.pop("token_type_ids", None)
    return encoding


def encode_messages(tokenizer: Any, messages: list[dict[str, str]]) -> Any:
    """Chat messages as model inputs: the tokenizer's chat template, or a plain prompt when it has none."""
    if tokenizer.chat_template:
        encoding = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    else:
        encoding = tokenizer(plain_prompt(messages), return_tensors="pt")
    return for_generate(encoding)


def encode(tokenizer: Any, prompt: str | list[dict[str, str]]) -> Any:
    """A raw text prompt as it is, or chat messages through :func:`encode_messages`."""
    return for_generate(tokenizer(prompt, return_tensors="pt")) if isinstance(prompt, str) else encode_messages(tokenizer, prompt)


def greedy_settings(tokenizer: Any, max_new_tokens: int) -> dict[str, Any]:
    """The ``generate`` arguments that make decoding greedy and quiet: the one definition the kit uses."""
    return {"max_new_tokens": max_new_tokens, "do_sample": False, "pad_token_id": tokenizer.eos_token_id}


def generate(loaded: LoadedModel, prompt: str | list[dict[str, str]], max_new_tokens: int) -> Generation:
    """Greedy decoding of a text prompt or chat messages; only the new tokens are decoded."""
    import torch

    inputs = encode(loaded.tokenizer, prompt).to(loaded.device)
    start = time.perf_counter()
    with torch.no_grad():
        output = loaded.model.generate(**inputs, **greedy_settings(loaded.tokenizer, max_new_tokens))
    seconds = time.perf_counter() - start
    new = output[0][inputs["input_ids"].shape[1] :]
    return Generation(loaded.tokenizer.decode(new, skip_special_tokens=True), len(new), seconds)
