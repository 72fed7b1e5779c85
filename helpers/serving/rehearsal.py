"""The rehearsal server: real vLLM (its CPU build, ``.venv-vllm``) on 127.0.0.1, serving the shelf's SmolLM2.

Route 3 costs money by the hour, so every step is rehearsed here first for
free. The server is the one a GPU runs, with the same endpoints, metrics and
errors, only slower. It is stopped by its own PID, and an ``atexit`` hook stops
it if the kernel dies first.

The key reaches vLLM through ``VLLM_API_KEY`` in its environment, never on the
command line where ``ps`` would show it. Caches and logs stay in the git-ignored
``.vllm-cache/``.
"""

from __future__ import annotations

import atexit
import os
import secrets
import signal
import subprocess
from pathlib import Path

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV, SMOLLM2
from helpers.core.net import LOCALHOST, LoopbackServer, free_port
from helpers.core.paths import REPO_ROOT, relative
from helpers.runtimes.client import ServingError
from helpers.serving.readiness import Readiness, wait_until_ready
from helpers.shelf.models import SHELF_ENTRIES

VLLM_PYTHON = REPO_ROOT / ".venv-vllm" / "bin" / "python"
VLLM_CACHE = REPO_ROOT / ".vllm-cache"
DTYPES = ("bfloat16", "float32")
#: How the kit writes each dtype in a sentence ("served in bf16").
SHORT_NAMES = {"bfloat16": "bf16", "float32": "fp32"}
#: GiB of KV cache vLLM's CPU backend reserves up front (``VLLM_CPU_KVCACHE_SPACE``).
KV_CACHE_GIB = 1
#: The rehearsal's context window (``--max-model-len``), server and offline engine alike.
MAX_MODEL_LEN = 2048


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise ServingError(
            _("The rehearsal server runs in {dtypes}; got {value}.").format(dtypes=" or ".join(DTYPES), value=repr(dtype))
        )
    return dtype


def engine_environment() -> dict[str, str]:
    """The CPU engine's environment, server or offline: offline hub, a bounded KV cache, caches kept in ``.vllm-cache/``."""
    for folder in ("logs", "tmp", "inductor"):
        (VLLM_CACHE / folder).mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VLLM_TARGET_DEVICE": "cpu",
        "VLLM_CPU_KVCACHE_SPACE": str(KV_CACHE_GIB),
        "VLLM_CACHE_ROOT": str(VLLM_CACHE),
        "TORCHINDUCTOR_CACHE_DIR": str(VLLM_CACHE / "inductor"),
        "TMPDIR": str(VLLM_CACHE / "tmp"),
    }


class RehearsalServer(LoopbackServer):
    """Real vLLM on 127.0.0.1, stopped by its own PID. ``dtype`` comes from :func:`helpers.serving.dtype.choose_dtype`."""

    stop_timeout_s = 60.0  # vLLM ends its engine and workers on SIGTERM, which takes a while on 2 cores

    def __init__(
        self,
        *,
        dtype: str,
        model_dir: Path | None = None,
        served_name: str = SMOLLM2,
        port: int | None = None,
        api_key_env: str = API_KEY_ENV,
        max_model_len: int = MAX_MODEL_LEN,
    ):
        if not VLLM_PYTHON.exists():
            raise ServingError(
                _("The rehearsal server's environment .venv-vllm is missing: run `make vllm` (make run and make test do it).")
            )
        self.dtype = check_dtype(dtype)
        self.model_dir = model_dir or SHELF_ENTRIES[served_name].path
        self.served_name, self.port, self.api_key_env, self.max_model_len = (
            served_name,
            port or free_port(),
            api_key_env,
            max_model_len,
        )
        self.process: subprocess.Popen | None = None
        self.log_path = VLLM_CACHE / "logs" / f"vllm-{self.port}.log"
        self.readiness: Readiness | None = None

    def command(self) -> list[str]:
        return [
            str(VLLM_PYTHON),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(self.model_dir),
            "--host",
            LOCALHOST,
            "--port",
            str(self.port),
            "--served-model-name",
            self.served_name,
            "--max-model-len",
            str(self.max_model_len),
            "--dtype",
            self.dtype,
            "--enforce-eager",
        ]

    def start(self) -> RehearsalServer:
        if not os.environ.get(self.api_key_env):
            os.environ[self.api_key_env] = secrets.token_urlsafe(24)
        env = {**engine_environment(), "VLLM_API_KEY": os.environ[self.api_key_env]}
        with self.log_path.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, start_new_session=True
            )
        atexit.register(self.stop)  # a kernel that dies or restarts must not leave 3-4 GB of server behind
        return self

    def wait(self, deadline_s: float = 300.0) -> Readiness:
        assert self.process is not None, "start() first"
        try:
            self.readiness = wait_until_ready(
                self.base_url, api_key_env=self.api_key_env, deadline_s=deadline_s, process=self.process
            )
        except ServingError as error:
            raise ServingError(f"{error} Log: {relative(self.log_path)}") from None
        return self.readiness

    def log_tail(self, lines: int = 5) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGTERM lets vLLM end its own workers; if it lingers, SIGKILL its whole process group (it leads one)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
