"""The faster llama.cpp build: instruction sets read from /proc/cpuinfo, AMX never on, a decode test as the guard."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers.runtimes.llama_cpp import build as llama_build
from helpers.runtimes.llama_cpp import reference as llama_reference
from helpers.runtimes.llama_cpp.build import LlamaBuildError
from helpers.shelf.models import gguf_file

SAPPHIRE_RAPIDS = (
    "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c bmi2 avx_vnni avx512f avx512cd avx512vl avx512dq avx512bw "
    "avx512vbmi avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_int8 amx_bf16\n"
)
HASWELL = "flags\t\t: fpu sse2 avx avx2 fma f16c bmi2\n"


def test_the_best_set_takes_every_extension_the_cpu_has_and_never_amx():
    isa = llama_build.best_isa(llama_build.cpu_flags(SAPPHIRE_RAPIDS))
    assert isa == ("avx", "avx2", "fma", "f16c", "bmi2", "avxvnni", "avx512", "vbmi", "vnni", "bf16")
    args = llama_build.cmake_args(isa)
    assert "-DGGML_NATIVE=OFF" in args and "-DGGML_AVX512=ON" in args and "-DGGML_AVX512_BF16=ON" in args
    assert all(f"-DGGML_AMX_{kind}=OFF" in args for kind in ("TILE", "INT8", "BF16")) and "AMX_TILE=ON" not in args
    assert llama_build.wheel_key(isa) == "avx2-avxvnni-avx512-vbmi-vnni-bf16"


def test_a_cpu_with_only_the_portable_set_keeps_the_portable_wheel_key():
    isa = llama_build.best_isa(llama_build.cpu_flags(HASWELL))
    assert llama_build.wheel_key(isa) == "avx2" and "-DGGML_AVX512=OFF" in llama_build.cmake_args(isa)


def test_a_cpu_without_avx2_gets_a_clear_refusal():
    with pytest.raises(LlamaBuildError, match="does not advertise AVX2"):
        llama_build.best_isa(llama_build.cpu_flags("flags\t\t: fpu sse2 sse4_2 avx\n"))


def test_a_build_that_crashes_in_the_decode_test_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(llama_build, "greedy_tokens", lambda wheel, model: (-11, [], "Segmentation fault"))
    result = llama_build.guard(tmp_path / "fast.whl", "avx2-avx512", model=tmp_path / "m.gguf")
    assert not result.passed and "crashed in the decode test (exit -11)" in result.reason


def test_a_build_that_decodes_different_tokens_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(llama_build, "greedy_tokens", lambda wheel, model: (0, [1, 2, 3], ""))
    monkeypatch.setattr(llama_build, "portable_tokens", lambda model: ([1, 2, 4], "the portable build"))
    result = llama_build.guard(tmp_path / "fast.whl", "avx2-avx512", model=tmp_path / "m.gguf")
    assert not result.passed and "the portable build [1, 2, 4]" in result.reason


@pytest.fixture
def no_wheels(monkeypatch, tmp_path):
    """An empty per-user wheelhouse and a reference of the pinned llama.cpp for a small model file: (model, reference)."""
    monkeypatch.setattr(llama_build, "WHEELHOUSE_ROOT", tmp_path / "wheels")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF weights")
    reference = tmp_path / "reference.json"
    tokens = list(range(llama_build.GUARD_TOKENS))
    record = {"llama_cpp_python": llama_build.LLAMA_VERSION, "model_sha256": llama_reference.sha256(model), "tokens": tokens}
    reference.write_text(json.dumps(record))
    monkeypatch.setattr(llama_reference, "REFERENCE", reference)
    return model, reference


def test_without_a_portable_wheel_the_recorded_tokens_stand_in_and_nothing_is_compiled(monkeypatch, no_wheels):
    model, _ = no_wheels
    monkeypatch.setattr(llama_build, "build_wheel", lambda isa: pytest.fail(f"nothing is compiled: {isa}"))
    tokens, source = llama_build.portable_tokens(model)
    assert tokens == list(range(llama_build.GUARD_TOKENS)) and "recorded in" in source


@pytest.mark.parametrize("stale", [{"llama_cpp_python": "0.0.1"}, {"model_sha256": "another file"}, {"tokens": [1]}])
def test_a_reference_of_another_version_or_file_is_not_used_and_the_portable_build_decodes(monkeypatch, no_wheels, stale):
    model, reference = no_wheels
    reference.write_text(json.dumps({**json.loads(reference.read_text()), **stale}))
    assert llama_build.reference_tokens(model) is None
    compiled = []
    monkeypatch.setattr(llama_build, "build_wheel", lambda isa: compiled.append(isa) or Path("portable.whl"))
    monkeypatch.setattr(llama_build, "greedy_tokens", lambda wheel, model: (0, [7, 8], ""))
    assert llama_build.portable_tokens(model) == ([7, 8], "the portable build")
    assert compiled == [llama_build.PORTABLE]


def test_the_first_wheel_is_one_built_here_else_the_best_compiled(monkeypatch, no_wheels):
    isa = llama_build.best_isa(llama_build.cpu_flags(SAPPHIRE_RAPIDS))
    monkeypatch.setattr(llama_build, "best_isa", lambda: isa)
    monkeypatch.setattr(llama_build, "build_wheel", lambda built: Path(f"compiled-{llama_build.wheel_key(built)}.whl"))
    machine = "x86_64"
    assert llama_build.first_wheel(machine, compile_missing=False) is None
    assert llama_build.first_wheel(machine) == Path("compiled-avx2-avxvnni-avx512-vbmi-vnni-bf16.whl")
    for key in ("avx2", llama_build.wheel_key(isa)):  # the portable one, then the best one beside it: the best is taken
        folder = llama_build.wheelhouse(key)
        folder.mkdir(parents=True)
        (folder / f"llama_cpp_python-{llama_build.LLAMA_VERSION}-cp311-cp311-linux_x86_64.whl").write_bytes(b"")
        assert llama_build.first_wheel(machine, compile_missing=False).parent == folder


def test_the_portable_first_wheel_takes_the_portable_wheelhouse_and_your_own_switches(monkeypatch, no_wheels):
    isa = llama_build.best_isa(llama_build.cpu_flags(SAPPHIRE_RAPIDS))
    monkeypatch.setattr(llama_build, "best_isa", lambda: pytest.fail("LLAMA_BEST=0 asks nothing of /proc/cpuinfo"))
    monkeypatch.setenv(llama_build.CMAKE_OVERRIDE_ENV, "-DGGML_NATIVE=OFF -DMY_SWITCH=ON")
    seen = {}

    def pip_wheel(command, env, **kwargs):
        seen["switches"] = env["CMAKE_ARGS"]
        folder = Path(command[command.index("-w") + 1])
        (folder / f"llama_cpp_python-{llama_build.LLAMA_VERSION}-cp311-cp311-linux_x86_64.whl").write_bytes(b"")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(llama_build.subprocess, "run", pip_wheel)
    assert llama_build.first_wheel("x86_64", portable=True, compile_missing=False) is None
    wheel = llama_build.first_wheel("x86_64", portable=True)
    assert wheel.parent == llama_build.wheelhouse("avx2") and seen["switches"] == "-DGGML_NATIVE=OFF -DMY_SWITCH=ON"
    monkeypatch.delenv(llama_build.CMAKE_OVERRIDE_ENV)
    llama_build.build_wheel(isa)  # another set never takes the override: pins' switches for it
    assert seen["switches"] == llama_build.cmake_args(isa)


@pytest.mark.slow
def test_the_best_build_on_this_machine_decodes_the_committed_reference():
    """The reference a machine without the portable wheel trusts is what the best build decodes here, on the shelf's GGUF."""
    key = llama_build.wheel_key(llama_build.best_isa())
    best = llama_build.wheel_in(llama_build.wheelhouse(key))
    if best is None:
        pytest.skip(f"no {key} build on this machine")
    model = gguf_file()
    expected = llama_build.reference_tokens(model)
    assert expected is not None, "data/llama_cpp_reference.json is stale: python -m helpers.runtimes.llama_cpp.build reference"
    code, tokens, error = llama_build.greedy_tokens(best, model)
    assert code == 0 and tokens == expected, error


@pytest.mark.parametrize("machine", ["arm64", "aarch64"])
def test_on_arm_no_avx2_is_asked_for(machine):
    llama_build.require_avx2(frozenset(), machine=machine)  # Apple Silicon has no /proc/cpuinfo, aarch64 no AVX2: both pass


def test_on_arm_setup_keeps_the_native_build_make_compiled_and_says_why(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(llama_build, "WHEELHOUSE_ROOT", tmp_path / "wheels")
    monkeypatch.setattr(llama_build, "STAMP", tmp_path / "llama-build.json")
    monkeypatch.setattr(llama_build.subprocess, "run", lambda *a, **k: pytest.fail(f"nothing is compiled or installed: {a}"))
    with pytest.raises(LlamaBuildError, match="arm-native; run `make setup` first"):
        llama_build.setup(machine="arm64")
    native = llama_build.wheelhouse("arm-native")
    native.mkdir(parents=True)
    (native / f"llama_cpp_python-{llama_build.LLAMA_VERSION}-cp311-cp311-macosx_14_0_arm64.whl").write_bytes(b"")
    result = llama_build.setup(machine="arm64")
    assert result.passed and result.key == "arm-native" and "Metal on Apple Silicon" in result.reason
    assert f"keeping {native.name}" in capsys.readouterr().out
    assert llama_build.installed_build().startswith(f"{native.name}, because on Arm")
    (tmp_path / "llama-build.json").unlink()
    monkeypatch.setattr(llama_build, "is_arm", lambda machine=None: True)
    assert "AVX2" not in llama_build.installed_build() and "native" in llama_build.installed_build()
