"""The setup: pins agree, the setup check reports and fails as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from helpers import setup_check
from helpers.paths import REPO_ROOT, REQUIREMENTS


def test_environment_yml_carries_exactly_requirements_txt():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "python=3.11" in env["dependencies"]
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip_lists) == 1
    wanted = [str(r) for r in setup_check.read_requirements(REQUIREMENTS)]
    assert pip_lists[0] == wanted


def test_torch_is_pinned_to_the_cpu_wheel_version():
    pins = {r.name: str(r.specifier) for r in setup_check.read_requirements()}
    assert pins["torch"] == "==2.13.0"


def test_every_requirement_is_installed_here():
    checks = setup_check.check_packages(setup_check.read_requirements())
    assert [c.name for c in checks if c.status == "FAIL"] == []
    assert setup_check.fix_command(checks) is None


def test_check_writes_environment_json(isolated_outputs: Path):
    report = setup_check.run_check()
    saved = json.loads((isolated_outputs / "environment.json").read_text(encoding="utf-8"))
    assert saved["platform"] == report["platform"] == "local"
    assert {row["name"] for row in saved["shelf"]} >= {"sshleifer/tiny-gpt2", "HuggingFaceTB/SmolLM2-135M-Instruct"}
    assert saved["gpu"]["available"] is False


def test_missing_package_exits_non_zero_with_the_exact_fix(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pytest==9.2.0\nsurely-not-installed-pkg==1.2.3  # a comment\n", encoding="utf-8")
    outputs = tmp_path / "outputs"
    result = subprocess.run(
        [sys.executable, "-m", "helpers.setup_check", "--requirements", str(requirements)],
        capture_output=True, text=True, cwd=REPO_ROOT, env={**__import__("os").environ, "OPENLLM_ROUTES_OUTPUTS": str(outputs)},
    )
    assert result.returncode == 1
    assert "FAIL surely-not-installed-pkg" in result.stdout
    assert "-m pip install surely-not-installed-pkg==1.2.3" in result.stdout
    assert (outputs / "environment.json").exists()


def test_other_version_is_diff_not_fail(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pytest==0.0.1\n", encoding="utf-8")
    (check,) = setup_check.check_packages(setup_check.read_requirements(requirements))
    assert check.status == "DIFF"
