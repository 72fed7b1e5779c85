"""Shared fixtures: tests write into a temporary outputs folder, never the real one."""

from __future__ import annotations

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
