"""Shared fixtures: tests write into a temporary outputs folder, never the real one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def isolated_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Redirect ``outputs/`` to a temporary folder for this process and every kernel or subprocess it starts.

    ``helpers.core.paths.outputs_dir()`` reads ``OPENLLM_ROUTES_OUTPUTS`` at call time,
    so no module needs patching.
    """
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    monkeypatch.setenv("OPENLLM_ROUTES_OUTPUTS", str(outputs))
    return outputs


@pytest.fixture
def llama_server():
    """llama.cpp's own OpenAI-compatible server on the shelf GGUF: a real server that is not vLLM.

    It runs with llama.cpp's default flags, ``--interrupt_requests`` included, so a second concurrent
    stream cuts the first short: the failure issue 13 found unexplained, which the tests now see explained.
    (``helpers.routes.handoff.LlamaCppServer`` turns interruption off for the notebooks.)
    """
    from helpers.core.names import SMOLLM2_GGUF
    from helpers.core.net import LOCALHOST, free_port
    from helpers.core.paths import REPO_ROOT
    from helpers.shelf.models import gguf_file

    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_file(SMOLLM2_GGUF)),
               "--host", LOCALHOST, "--port", str(port), "--n_ctx", "2048"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
    try:
        yield process, f"http://{LOCALHOST}:{port}"
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_outputs: Path) -> Path:
    """An empty course folder that the notebook runner treats as ``notebooks/``."""
    from helpers.tooling import notebook_selection

    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setattr(notebook_selection, "NOTEBOOKS", folder)
    return folder
