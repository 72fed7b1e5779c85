"""The one llama.cpp timing loop: token count, first-token and end times, and the speeds read from them."""

from __future__ import annotations

import pytest

from helpers.machine import speed
from helpers.machine.speed import SpeedError
from helpers.runtimes.llama_cpp import timing
from helpers.runtimes.llama_cpp.timing import DecodeTiming, time_greedy_decode


class Clock:
    """A perf_counter that advances only when the fake model works: 0.5 s of prefill, then 0.1 s a token."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeLlama:
    """Enough of ``llama_cpp.Llama`` for the timing loop: it never stops by itself, as ``generate`` does not."""

    def __init__(self, clock: Clock, answer: int = 1000):
        self.clock, self.answer, self.asked = clock, answer, {}

    def tokenize(self, text: bytes, special: bool = False) -> list[int]:
        assert special, "the kit's text prompts carry chat-template tokens"
        return list(range(len(text.split())))

    def _tokens(self):
        self.clock.now += 0.5
        for index in range(self.answer):
            if index:
                self.clock.now += 0.1
            yield index

    def generate(self, tokens: list[int], temp: float, top_k: int):
        self.asked = {"tokens": tokens, "temp": temp, "top_k": top_k}
        return self._tokens()

    def create_chat_completion(self, messages, **kwargs):
        self.asked = {"messages": messages, **kwargs}
        yield {"choices": [{"delta": {"role": "assistant"}}]}  # the role chunk carries no content and is no token
        for index in self._tokens():
            yield {"choices": [{"delta": {"content": f"t{index}"}}]}
            if index + 1 == kwargs["max_tokens"]:
                return


@pytest.fixture
def clock(monkeypatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(timing.time, "perf_counter", found)
    return found


def test_a_text_prompt_is_decoded_greedily_for_exactly_max_tokens(clock):
    llm = FakeLlama(clock)
    found = time_greedy_decode(llm, "<|im_start|>user hello there<|im_end|>", 11)
    assert llm.asked == {"tokens": [0, 1, 2], "temp": 0.0, "top_k": 1}
    assert (found.output_tokens, found.prompt_tokens) == (11, 3)
    assert found.first_token_s == pytest.approx(0.5) and found.end_s == pytest.approx(1.5)
    assert found.decode_tokens_per_s == pytest.approx(10.0)  # 10 tokens after the first, in 1 s
    assert found.end_to_end_tokens_per_s == pytest.approx(11 / 1.5)
    assert found.prefill_tokens_per_s == pytest.approx(6.0) and found.ttft_ms == pytest.approx(500.0)


def test_chat_messages_count_content_chunks_and_stop_where_the_model_stops(clock):
    llm = FakeLlama(clock, answer=4)
    messages = [{"role": "user", "content": "hi"}]
    found = time_greedy_decode(llm, messages, 32)
    assert llm.asked["messages"] == messages and llm.asked["temperature"] == 0.0 and llm.asked["stream"]
    assert (found.output_tokens, found.prompt_tokens) == (4, None)
    assert found.decode_tokens_per_s == pytest.approx(3 / 0.3)
    with pytest.raises(SpeedError, match="only a text prompt"):
        found.prefill_tokens_per_s  # noqa: B018 - the property is the code under test


def test_the_speeds_are_speed_py_s_not_a_copy():
    found = DecodeTiming(output_tokens=9, first_token_s=0.2, end_s=1.0, prompt_tokens=40)
    assert found.decode_tokens_per_s == speed.decode_tokens_per_s(9, 0.2, 1.0)
    assert found.end_to_end_tokens_per_s == speed.end_to_end_tokens_per_s(9, 1.0)
    assert found.prefill_tokens_per_s == speed.prefill_tokens_per_s(40, 0.2)


def test_a_decode_of_one_token_has_no_decode_speed_and_says_so(clock):
    found = time_greedy_decode(FakeLlama(clock, answer=1), [{"role": "user", "content": "hi"}], 8)
    assert found.output_tokens == 1
    with pytest.raises(SpeedError, match="at least 2 output tokens"):
        found.decode_tokens_per_s  # noqa: B018


def test_nothing_to_time_is_an_error_not_a_zero(clock):
    with pytest.raises(SpeedError, match="no output token"):
        time_greedy_decode(FakeLlama(clock, answer=0), [{"role": "user", "content": "hi"}], 8)
    with pytest.raises(ValueError, match="max_tokens must be at least 1"):
        time_greedy_decode(FakeLlama(clock), "x", 0)


@pytest.mark.slow
def test_the_shelf_gguf_decodes_and_times_both_ways():
    from llama_cpp import Llama

    from helpers.shelf.models import gguf_file

    llm = Llama(model_path=str(gguf_file()), n_ctx=512, seed=0, verbose=False)
    text = time_greedy_decode(llm, "<|im_start|>user\nWrite about the sea.<|im_end|>\n<|im_start|>assistant\n", 9)
    assert text.output_tokens == 9 and text.prompt_tokens > 5 and 0 < text.first_token_s < text.end_s
    assert text.decode_tokens_per_s > text.end_to_end_tokens_per_s > 0
    chat = time_greedy_decode(llm, [{"role": "user", "content": "Write about the sea."}], 8)
    assert 2 <= chat.output_tokens <= 8 and chat.decode_tokens_per_s > 0
