"""One loader, one chat encoding, one greedy decode, timed end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.core.names import SMOLLM2, TINY_GPT2
from helpers.machine.speed import SpeedError
from helpers.runtimes import transformers as generation
from helpers.runtimes.transformers import Generation, plain_prompt
from helpers.shelf.models import SHELF_ENTRIES

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]


def test_plain_prompt_for_models_without_a_chat_template():
    assert plain_prompt(MESSAGES) == "System: Be brief.\nUser: Hello\nAssistant:"


def test_a_generations_speed_is_end_to_end_all_its_tokens_over_the_whole_request():
    assert Generation("x", 20, 0.5).tokens_per_s == 40.0  # the decode speed would count 19 tokens, after the first
    with pytest.raises(SpeedError, match="positive time"):
        Generation("x", 5, 0.0).tokens_per_s  # noqa: B018 - the property is the code under test


def test_token_type_ids_are_dropped_before_generate_sees_them():
    from transformers import BatchEncoding

    encoding = BatchEncoding({"input_ids": [[1, 2]], "attention_mask": [[1, 1]], "token_type_ids": [[0, 0]]})
    assert set(generation.for_generate(encoding)) == {"input_ids", "attention_mask"}  # transformers 4.56 returns them


@pytest.mark.slow
def test_load_through_the_shelf_and_decode_greedily(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = generation.load(TINY_GPT2)
    assert Path(loaded.source) == loaded.folder == SHELF_ENTRIES[TINY_GPT2].path
    assert loaded.max_context == 1024
    first, second = (generation.generate(loaded, "The support ticket says", 8) for _ in range(2))
    assert first.text == second.text and first.output_tokens == 8 and not first.constrained
    chat = generation.generate(loaded, MESSAGES, 4)  # no chat template: the plain prompt
    assert chat.output_tokens == 4


@pytest.mark.slow
def test_chat_template_is_used_when_the_tokenizer_has_one(monkeypatch):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(SHELF_ENTRIES[SMOLLM2].path)
    inputs = generation.encode_messages(tokenizer, MESSAGES)
    text = tokenizer.decode(inputs["input_ids"][0])
    assert "<|im_start|>user\nHello<|im_end|>" in text and text.rstrip().endswith("<|im_start|>assistant")
