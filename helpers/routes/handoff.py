"""The laptop hand-off: llama.cpp's OpenAI-compatible server, an Ollama Modelfile, and any local server by base_url.

The lesson's second runtime rule, "Ollama or LM Studio for a laptop hand-off",
rests on one fact: each of them serves the same OpenAI-compatible API, so the
kit's client needs only a ``base_url``. Ollama cannot be installed on the
course machines (no network beyond PyPI), so the path is rehearsed here against
**llama.cpp's own server** (``python -m llama_cpp.server``), which serves the
same GGUF Ollama would. What is generated for Ollama (the ``Modelfile`` and the
``ollama create`` / ``ollama run`` commands) is text for the learner's laptop,
and says so.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.core.i18n import N_, _
from helpers.core.names import SMOLLM2
from helpers.core.net import LOCALHOST, LoopbackServer, free_port, port_is_open
from helpers.core.paths import CACHE, atomic_write_text, output
from helpers.runtimes.client import ServingError, host_port, normalize_base_url, server_root
from helpers.shelf.models import gguf_file

#: Where each local OpenAI-compatible server listens by default, and how to start it (English; said through ``_()``).
LOCAL_SERVERS = {
    "Ollama": ("http://localhost:11434/v1", N_("start the Ollama app, or run `ollama serve`")),
    "LM Studio": ("http://localhost:1234/v1", N_("open LM Studio, load the model, and start the server on its Developer tab")),
    "llama.cpp server": ("http://127.0.0.1:8080/v1", N_("run `python -m llama_cpp.server --model FILE.gguf --port 8080`")),
}
#: ChatML, SmolLM2's template (the GGUF's ``tokenizer.chat_template``), written in Ollama's Go template language.
CHATML_TEMPLATE = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
STOP_TOKENS = ("<|im_end|>", "<|im_start|>")


def require_running(base_url: str) -> str:
    """The normalised URL if something listens there; otherwise which server that port belongs to and how to start it."""
    url = normalize_base_url(base_url)
    host, port = host_port(url).rsplit(":", 1)
    if port_is_open(host, int(port)):
        return url
    known = [(name, how) for name, (default, how) in LOCAL_SERVERS.items() if host_port(default).endswith(f":{port}")]
    hint = (
        _("{server}'s default port: {how}").format(server=known[0][0], how=_(known[0][1]))
        if known
        else _("start the server, or correct the base_url")
    )
    raise ServingError(
        _("Nothing answers at {endpoint} ({hint}). Then run this cell again.").format(endpoint=host_port(url), hint=hint)
    )


class LlamaCppServer(LoopbackServer):
    """llama.cpp's OpenAI-compatible server on 127.0.0.1 for a shelf GGUF, stopped by its own PID.

    It has no ``/health``; it is ready when ``/v1/models`` answers.
    """

    def __init__(self, gguf: Path | None = None, *, served_name: str = SMOLLM2, port: int | None = None, n_ctx: int = 2048):
        self.gguf, self.served_name, self.port, self.n_ctx = Path(gguf or gguf_file()), served_name, port or free_port(), n_ctx
        self.process: subprocess.Popen | None = None
        self.cold_start_s: float | None = None
        self.log_path = CACHE / "llama-server" / f"llama-server-{self.port}.log"

    def command(self) -> list[str]:
        """``--interrupt_requests False``: by default a new request cancels the running one, and concurrent streams
        come back empty (7 of 8 streams at concurrency 4 when measured here); with it they queue."""
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.gguf), "--model_alias", self.served_name,
                "--host", LOCALHOST, "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                "--interrupt_requests", "False"]  # fmt: skip

    def start(self, deadline_s: float = 60.0) -> LlamaCppServer:
        """Start the server and wait until ``/v1/models`` answers; ``cold_start_s`` is that wait."""
        import httpx

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        with self.log_path.open("w", encoding="utf-8") as log:  # a file, not a pipe: llama.cpp logs enough to fill one
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        while time.perf_counter() - began < deadline_s:
            if self.process.poll() is not None:
                error = self.log_path.read_text(encoding="utf-8", errors="replace")[-400:]
                raise ServingError(f"llama.cpp's server exited with code {self.process.returncode} while starting: {error}")
            try:
                if httpx.get(f"{server_root(self.base_url)}/v1/models", timeout=1.0).status_code == 200:
                    self.cold_start_s = time.perf_counter() - began
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServingError(f"llama.cpp's server did not answer /v1/models within {deadline_s:g} s; it was stopped.")

    def __enter__(self) -> LlamaCppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class HandOff:
    """What a laptop needs to run the chosen model the way the eval gate ran it: file, template, prompt, settings."""

    name: str
    gguf: str
    system_prompt: str
    temperature: float
    stop: tuple[str, ...]
    template: str = CHATML_TEMPLATE

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def for_project(cls, goal: str, must_have: Sequence[str], gguf: Path | None = None) -> HandOff:
        """From the project's goal and must-haves (the decision record's), the system prompt; greedy like the gate."""
        needs = [str(need).replace("_", " ") for need in must_have]
        prompt = f"You are a {goal}." + (f" Requirements: {'; '.join(needs)}." if needs else "")
        return cls("openllm-routes-smollm2", str(gguf or gguf_file()), prompt, 0.0, STOP_TOKENS)

    def modelfile(self) -> str:
        """Ollama's ``Modelfile``: FROM the GGUF, the chat template, the system prompt, temperature and stop tokens."""
        lines = [f"FROM ./{Path(self.gguf).name}", f'TEMPLATE """{self.template}"""', f'SYSTEM """{self.system_prompt}"""']
        lines += [f"PARAMETER temperature {self.temperature:g}", *(f'PARAMETER stop "{token}"' for token in self.stop)]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path | None = None) -> Path:
        """``Modelfile`` into ``outputs/handoff/``; copy the GGUF beside it on the laptop (FROM names it relatively)."""
        return atomic_write_text((folder or output("handoff")) / "Modelfile", self.modelfile())

    def commands(self, modelfile_path: str = "Modelfile") -> list[str]:
        """The commands to run on a machine that has Ollama (not run here: Ollama cannot be installed on this one)."""
        return [f"ollama create {self.name} -f {modelfile_path}", f"ollama run {self.name}",
                f"# then, from Python: make_client('{LOCAL_SERVERS['Ollama'][0]}') and model='{self.name}'"]  # fmt: skip
