"""Transport only: send one streamed chat request and keep the time of every chunk.

Nothing here computes a latency. The arithmetic (TTFT, TPOT, ITL, E2EL) lives
once, in :mod:`helpers.serving.metrics`, and reads these timestamps. Keeping
the two apart is what lets the kit be checked against ``vllm bench serve``: the
transport records what happened, the arithmetic applies vLLM's definitions.

A request that fails never raises here: it comes back with a ``failure``
reason (HTTP status, timeout, exception, or a stream that ended without
content), so a benchmark level can show why requests failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamResult:
    """One streamed request: when it was sent, when each chunk arrived, and what usage said.

    ``choice_times`` holds every chunk with a choice, ``content_times`` only those whose text is not empty. They differ
    where a generated token has no text: a special token such as ``<|im_end|>`` under ``ignore_eos``, which ``usage``
    still counts, and a closing chunk that carries only the finish reason.
    """

    start: float
    content_times: list[float] = field(default_factory=list)
    choice_times: list[float] = field(default_factory=list)
    text: str = ""
    usage_tokens: int | None = None
    finish_reason: str | None = None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def failure_reason(error: BaseException, timeout_s: float | None = None) -> str:
    """One line for a failed request: HTTP status, timeout, connection, or the exception's type."""
    import openai

    if isinstance(error, openai.APITimeoutError):
        return f"timeout after {timeout_s:g} s" if timeout_s else "timeout"
    if isinstance(error, openai.APIStatusError):
        message = getattr(error, "message", "") or str(error)
        return f"HTTP {error.status_code}: {message[:120]}"
    if isinstance(error, openai.APIConnectionError):
        return f"connection error: {error.__cause__ or error}"[:160]
    return f"{type(error).__name__}: {error}"[:160]


class ChunkRecorder:
    """Records a stream chunk by chunk; shared by the sync and async paths."""

    def __init__(self, start: float):
        self.result = StreamResult(start=start)
        self._pieces: list[str] = []

    def on_chunk(self, chunk: Any, now: float) -> None:
        if getattr(chunk, "usage", None) is not None:
            self.result.usage_tokens = chunk.usage.completion_tokens
        if not chunk.choices:  # the include_usage chunk has no choices
            return
        choice = chunk.choices[0]
        self.result.choice_times.append(now)
        if choice.finish_reason:
            self.result.finish_reason = choice.finish_reason
        if choice.delta.content:
            self.result.content_times.append(now)
            self._pieces.append(choice.delta.content)

    def finish(self, error: BaseException | None = None, timeout_s: float | None = None) -> StreamResult:
        self.result.text = "".join(self._pieces)
        if error is not None:
            self.result.failure = failure_reason(error, timeout_s)
        elif not self.result.content_times:
            self.result.failure = f"stream ended without content (finish_reason={self.result.finish_reason})"
        return self.result


def chat_request(model: str, messages: list[dict], max_tokens: int, extra_body: dict | None) -> dict[str, Any]:
    """Greedy, streamed, with usage in the last chunk (``stream_options.include_usage``)."""
    return {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
        "extra_body": extra_body,
    }


def _timeout(client: Any) -> float | None:
    timeout = getattr(client, "timeout", None)
    return timeout if isinstance(timeout, (int, float)) else None


def time_stream(
    client: Any, model: str, messages: list[dict], *, max_tokens: int = 32, extra_body: dict | None = None
) -> StreamResult:
    """Stream one chat completion, recording chunk times; a stream cut mid-way is a failed, partial result."""
    recorder = ChunkRecorder(time.perf_counter())
    try:
        for chunk in client.chat.completions.create(**chat_request(model, messages, max_tokens, extra_body)):
            recorder.on_chunk(chunk, time.perf_counter())
    except Exception as error:  # connection reset, server killed, HTTP error: record, do not raise
        return recorder.finish(error, _timeout(client))
    return recorder.finish()


async def time_stream_async(
    client: Any, model: str, messages: list[dict], max_tokens: int, extra_body: dict | None
) -> StreamResult:
    """The same as :func:`time_stream`, for ``AsyncOpenAI``."""
    recorder = ChunkRecorder(time.perf_counter())
    try:
        stream = await client.chat.completions.create(**chat_request(model, messages, max_tokens, extra_body))
        async for chunk in stream:
            recorder.on_chunk(chunk, time.perf_counter())
    except Exception as error:
        return recorder.finish(error, _timeout(client))
    return recorder.finish()
