"""The kit's two generation speeds, each defined once, with the label every table and header uses for it.

A request's output tokens arrive in two phases. Before the first token the
runtime processes the whole prompt (*prefill*: arithmetic-bound, and longer the
longer the prompt); after it, each further token costs one pass over the weights
(*decode*: memory-bound, the quantity the bandwidth roofline predicts). One
number cannot describe both, so the kit quotes two and never calls either of
them plain "tokens/s":

* **decode tokens/s** = (output tokens − 1) ÷ (last token's time − first
  token's time): the speed once the answer is flowing, prompt excluded. It is
  what ``helpers.fits.roofline`` sets against the ceiling, and the inverse of
  vLLM's TPOT.
* **end-to-end tokens/s** = output tokens ÷ the request's wall time, prefill
  included: what one user waiting for a whole answer sees. Short answers to long
  prompts make it much lower than decode tokens/s.

Serving throughput under concurrency (output tokens of all requests ÷ the
level's duration) is a third quantity, defined with the benchmark in
``helpers.serving.metrics``. Prefill speed (prompt tokens ÷ time to the first
token) is defined here too, because the llama.cpp build comparison reports it,
but it counts prompt tokens, not output tokens.
"""

from __future__ import annotations

DECODE_LABEL = "decode tok/s (after the first token)"
END_TO_END_LABEL = "end-to-end tok/s (prefill included)"
PREFILL_LABEL = "prefill tok/s (prompt tokens to the first token)"


class SpeedError(ValueError):
    """A speed asked of timings that cannot give one (too few tokens, a time that is not positive)."""


def _positive(seconds: float, what: str) -> None:
    if not seconds > 0:
        raise SpeedError(f"{what} is {seconds!r} s; a speed needs a positive time. Time the request with time.perf_counter().")


def decode_tokens_per_s(output_tokens: int, first_token_s: float, end_s: float) -> float:
    """Decode speed: the ``output_tokens − 1`` tokens after the first, over the time from the first token to the last.

    ``first_token_s`` and ``end_s`` are timestamps on one clock (or seconds since the request was sent). The
    first token is left out because its time is the prompt's prefill, not decoding: with it, the figure would
    depend on the prompt's length.
    """
    if output_tokens < 2:
        raise SpeedError(
            f"decode speed needs at least 2 output tokens (the first only ends the prefill); got {output_tokens}. "
            "Ask for more tokens (max_tokens) or a prompt the model answers at length."
        )
    _positive(end_s - first_token_s, "the time from the first output token to the last")
    return (output_tokens - 1) / (end_s - first_token_s)


def decode_tokens_per_s_from_tpot(tpot_s: float) -> float:
    """Decode speed from vLLM's TPOT, ``(E2EL − TTFT) / (output tokens − 1)``: the same quantity, so ``1 / TPOT``."""
    _positive(tpot_s, "TPOT (time per output token after the first)")
    return 1.0 / tpot_s


def end_to_end_tokens_per_s(output_tokens: int, wall_s: float) -> float:
    """End-to-end speed: every output token over the request's wall time, prompt processing included.

    Over several requests run one at a time, pass the totals (tokens and seconds), not a mean of per-request
    rates: short answers would otherwise weigh as much as long ones.
    """
    if output_tokens < 0:
        raise SpeedError(f"output tokens cannot be negative; got {output_tokens}.")
    _positive(wall_s, "the request's wall time")
    return output_tokens / wall_s


def prefill_tokens_per_s(prompt_tokens: int, first_token_s: float) -> float:
    """Prefill speed: prompt tokens over the time from sending the request to the first output token."""
    if prompt_tokens < 1:
        raise SpeedError(f"prefill speed needs at least one prompt token; got {prompt_tokens}.")
    _positive(first_token_s, "the time to the first output token")
    return prompt_tokens / first_token_s
