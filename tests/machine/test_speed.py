"""The two speeds: decode (after the first token) and end-to-end (prefill included), each once, each named."""

from __future__ import annotations

import pytest

from helpers.machine import speed
from helpers.machine.speed import SpeedError


def test_decode_leaves_out_the_first_token_and_the_prefill_before_it():
    # 11 tokens: the first at 0.5 s (the prefill), the last at 1.5 s: 10 tokens decoded in 1 s
    assert speed.decode_tokens_per_s(11, 0.5, 1.5) == pytest.approx(10.0)


def test_end_to_end_counts_every_token_over_the_whole_request():
    assert speed.end_to_end_tokens_per_s(11, 1.5) == pytest.approx(11 / 1.5)
    assert speed.end_to_end_tokens_per_s(0, 1.0) == 0.0  # a request that answered nothing, but took time


def test_one_request_gives_two_different_speeds_which_is_why_each_has_its_own_label():
    decode, end_to_end = speed.decode_tokens_per_s(11, 0.5, 1.5), speed.end_to_end_tokens_per_s(11, 1.5)
    assert end_to_end < decode
    labels = {speed.DECODE_LABEL, speed.END_TO_END_LABEL, speed.PREFILL_LABEL}
    assert len(labels) == 3 and "after the first token" in speed.DECODE_LABEL and "prefill included" in speed.END_TO_END_LABEL


def test_decode_from_tpot_is_the_same_quantity():
    # TPOT = (E2EL - TTFT) / (n - 1): the same request as above has TPOT 0.1 s
    assert speed.decode_tokens_per_s_from_tpot((1.5 - 0.5) / (11 - 1)) == pytest.approx(speed.decode_tokens_per_s(11, 0.5, 1.5))


def test_prefill_is_prompt_tokens_over_the_time_to_the_first_token():
    assert speed.prefill_tokens_per_s(230, 0.5) == 460.0


@pytest.mark.parametrize("tokens", [0, 1])
def test_decode_needs_two_tokens(tokens):
    with pytest.raises(SpeedError, match=f"at least 2 output tokens.*got {tokens}.*max_tokens"):
        speed.decode_tokens_per_s(tokens, 0.5, 1.5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: speed.decode_tokens_per_s(5, 1.0, 1.0),
        lambda: speed.decode_tokens_per_s(5, 2.0, 1.0),
        lambda: speed.end_to_end_tokens_per_s(5, 0.0),
        lambda: speed.end_to_end_tokens_per_s(5, -1.0),
        lambda: speed.decode_tokens_per_s_from_tpot(0.0),
        lambda: speed.prefill_tokens_per_s(10, 0.0),
    ],
)
def test_a_time_that_is_not_positive_is_refused(call):
    with pytest.raises(SpeedError, match="needs a positive time"):
        call()


def test_impossible_counts_are_refused():
    with pytest.raises(SpeedError, match="cannot be negative"):
        speed.end_to_end_tokens_per_s(-1, 1.0)
    with pytest.raises(SpeedError, match="at least one prompt token"):
        speed.prefill_tokens_per_s(0, 1.0)
