"""Shared fixtures: tests write into a temporary outputs folder, never the real one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def isolated_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every loaded ``helpers`` module's ``OUTPUTS`` at a temporary folder."""
    import helpers.paths

    outputs = tmp_path / "outputs"
    outputs.mkdir()
    for name, module in list(sys.modules.items()):
        if (name == "helpers" or name.startswith("helpers.")) and hasattr(module, "OUTPUTS"):
            monkeypatch.setattr(module, "OUTPUTS", outputs)
    monkeypatch.setattr(helpers.paths, "OUTPUTS", outputs)
    return outputs


@pytest.fixture
def llama_server():
    """llama.cpp's own OpenAI-compatible server on the shelf GGUF: a real server that is not vLLM."""
    from helpers.local_api import free_port
    from helpers.models import gguf_file
    from helpers.paths import REPO_ROOT

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_file()), "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()
