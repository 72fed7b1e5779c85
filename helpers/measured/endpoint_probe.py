"""What an OpenAI-compatible endpoint really offers, asked of it by request rather than read from its documentation.

The runtime landscape sets every endpoint beside the others on the same four
questions: does ``/health`` answer, does ``/metrics``, does a stream end with a
``usage`` chunk, and is a ``json_schema`` in ``response_format`` enforced,
ignored or rejected. A missing one changes how the kit talks to that server
(readiness by ``/v1/models``, tokens counted from chunks, JSON cases unconstrained).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from helpers.runtimes.client import make_client, server_root
from helpers.serving.stream import time_stream

SCHEMA_PROBE = {"type": "object", "properties": {"capital": {"type": "string"}}, "required": ["capital"]}


@dataclass(frozen=True)
class Capabilities:
    """What an endpoint offers, each checked by a request rather than read from its documentation."""

    health: bool
    metrics: bool
    usage_in_stream: bool
    json_schema: str  # "enforced", "ignored" (accepted, output not valid JSON) or "rejected: ..."

    def offers(self) -> list[str]:
        found = [name for name, ok in (("/health", self.health), ("/metrics", self.metrics)) if ok]
        found += ["usage in streams"] if self.usage_in_stream else []
        return found + (["json_schema enforced"] if self.json_schema == "enforced" else [])

    def lacks(self) -> list[str]:
        missing = [name for name, ok in (("/health", self.health), ("/metrics", self.metrics)) if not ok]
        missing += [] if self.usage_in_stream else ["usage in streams"]
        return missing + ([] if self.json_schema == "enforced" else [f"json_schema ({self.json_schema})"])


def probe(base_url: str, model: str) -> Capabilities:
    """Ask the endpoint for each capability; a server that rejects ``json_schema`` is reported, not raised."""
    import httpx
    import openai

    root = server_root(base_url)

    def answers(path: str) -> bool:
        try:
            return httpx.get(f"{root}{path}", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    client = make_client(base_url)
    streamed = time_stream(client, model, [{"role": "user", "content": "Say hello."}], max_tokens=8)
    schema = {"type": "json_schema", "json_schema": {"name": "capital", "schema": SCHEMA_PROBE, "strict": True}}
    question = [{"role": "user", "content": "What is the capital of France? Answer in JSON."}]
    try:
        reply = client.chat.completions.create(
            model=model, messages=question, max_tokens=24, temperature=0.0, response_format=schema
        )
        text = reply.choices[0].message.content or ""
        try:
            json_schema = "enforced" if "capital" in json.loads(text) else "ignored"
        except (ValueError, TypeError):
            json_schema = "ignored"
    except openai.APIStatusError as error:
        json_schema = f"rejected: HTTP {error.status_code}"
    metrics = answers("/metrics")
    return Capabilities(answers("/health"), metrics, streamed.usage_tokens is not None, json_schema)
