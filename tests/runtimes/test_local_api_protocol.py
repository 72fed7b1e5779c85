"""The local API's protocol without a model: a scripted model and tokenizer, so the fast lane checks every body it sends.

``test_local_api.py`` runs the real model (slow); these check the same protocol on
each commit: a plain completion with usage, a stream ending in the usage chunk
and ``[DONE]``, and vLLM's context-length error.
"""

from __future__ import annotations

import json

import pytest
import torch
from fastapi.testclient import TestClient

from helpers.runtimes.local_api import ServedModel, create_app
from helpers.runtimes.transformers import plain_prompt


class WordTokenizer:
    """One token per word of the prompt; token ``i`` decodes as ``"w<i> "``."""

    chat_template = None
    eos_token_id = 0

    def __call__(self, text: str, return_tensors: str | None = None) -> dict:
        return {"input_ids": torch.ones((1, len(text.split())), dtype=torch.long)}

    def decode(self, ids, **kwargs) -> str:
        return "".join(f"w{int(i)} " for i in ids)


class CountingModel:
    """Generates tokens 2, 3, 4, ... until ``max_new_tokens`` or the stopping criteria say stop."""

    def generate(self, input_ids, streamer, stopping_criteria, max_new_tokens, **kwargs):
        streamer.put(input_ids)
        output = input_ids
        for i in range(max_new_tokens):
            token = torch.tensor([[i + 2]])
            output = torch.cat([output, token], dim=1)
            streamer.put(token[0])
            if stopping_criteria(output, None):
                break
        streamer.end()
        return output


@pytest.fixture
def client():
    return TestClient(create_app(ServedModel("scripted", CountingModel(), WordTokenizer(), max_model_len=64)))


def _ask(content: str = "hello there", **body) -> dict:
    return {"model": "scripted", "messages": [{"role": "user", "content": content}], **body}


def test_a_plain_completion_reports_its_text_usage_and_finish_reason(client):
    reply = client.post("/v1/chat/completions", json=_ask(max_tokens=3)).json()
    prompt = reply["usage"]["prompt_tokens"]
    assert reply["object"] == "chat.completion" and reply["id"].startswith("chatcmpl-")
    assert reply["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "w2 w3 w4 "}, "finish_reason": "length"}]
    assert reply["usage"] == {"prompt_tokens": prompt, "completion_tokens": 3, "total_tokens": prompt + 3}


def test_a_stream_with_include_usage_ends_with_the_usage_chunk_then_done(client):
    response = client.post("/v1/chat/completions", json=_ask(max_tokens=2, stream=True, stream_options={"include_usage": True}))
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    assert [c["choices"][0]["delta"] for c in chunks[:-2]] == [
        {"role": "assistant", "content": ""},
        {"content": "w2 "},
        {"content": "w3 "},
    ]
    assert chunks[-2]["choices"][0]["finish_reason"] == "length" and chunks[-2]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 2


def test_a_stream_without_include_usage_has_no_usage_chunk(client):
    response = client.post("/v1/chat/completions", json=_ask(max_completion_tokens=1, stream=True))
    chunks = [json.loads(e.removeprefix("data: ")) for e in response.text.split("\n\n") if e and e != "data: [DONE]"]
    assert all(c["choices"] for c in chunks) and not any("usage" in c for c in chunks)


def test_a_prompt_over_the_context_is_400_naming_the_limit(client):
    body = _ask("word " * 60, max_tokens=10)
    prompt = len(plain_prompt(body["messages"]).split())
    response = client.post("/v1/chat/completions", json=body)
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "context_length_exceeded"
    assert (
        "maximum context length is 64 tokens" in error["message"]
        and f"requested {prompt + 10} tokens ({prompt} in the messages, 10 in the completion)" in error["message"]
    )
