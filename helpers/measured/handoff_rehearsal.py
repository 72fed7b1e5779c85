"""The laptop hand-off, rehearsed: llama.cpp's server started on the shelf GGUF, asked one question, stopped.

Ollama cannot be installed here (its installer needs ollama.com), so the path a laptop would take is run once
against llama.cpp's own OpenAI-compatible server on the same GGUF, through the kit's client, and timed.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.names import SMOLLM2
from helpers.measured import landscape
from helpers.routes.handoff import LlamaCppServer
from helpers.runtimes.client import make_client

#: The runtime the hand-off is rehearsed on, by its name in :data:`helpers.measured.landscape.RUNTIMES`.
RUNTIME = "llama.cpp-server"


@dataclass(frozen=True)
class HandoffRehearsal:
    """The hand-off path run once against llama.cpp's server: where, its reply, and its cold start."""

    base_url: str
    reply: str
    cold_start_s: float


def rehearse_handoff() -> HandoffRehearsal | None:
    """Start llama.cpp's server, ask one question through the kit's client, stop it; ``None`` where it cannot run here.

    ``landscape.unavailable(RUNTIME)`` says why not (llama-cpp-python is not installed in this runtime).
    """
    if landscape.unavailable(RUNTIME):
        return None
    with LlamaCppServer() as server:
        reply = make_client(server.base_url).chat.completions.create(
            model=SMOLLM2, messages=[{"role": "user", "content": "What is the capital of France?"}], max_tokens=16, temperature=0
        )
        return HandoffRehearsal(server.base_url, reply.choices[0].message.content or "", server.cold_start_s or 0.0)
