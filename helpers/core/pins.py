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
as a compile: no Arm machine has built it for the kit.
"""

from __future__ import annotations

import platform
import re
import sys
from pathlib import Path

from helpers.core.paths import REQUIREMENTS, relative

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
#: The multimodal library is not built on any machine (the course never loads an image model, and it is a third
#: of the compile).
EXTRA_CMAKE = ("-DLLAVA_BUILD=OFF",)
#: On x86, ``-march=native`` would turn AMX on.
X86_ONLY_CMAKE = ("-DGGML_NATIVE=OFF",)
#: What :func:`platform.machine` says on Arm: ``arm64`` on macOS (and Windows), ``aarch64`` on Linux.
ARM_MACHINES = frozenset({"arm64", "aarch64", "armv8l"})


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


def cmake_args(isa: tuple[str, ...], machine: str | None = None) -> str:
    """``CMAKE_ARGS`` for a llama.cpp build with exactly ``isa`` on: every other set, and AMX, off.

    On Arm (``machine``, this one unless given) ``isa`` is ignored and no x86 switch is given: ggml's defaults
    build natively for the CPU, with Metal on Apple Silicon.
    """
    if is_arm(machine):
        return " ".join(EXTRA_CMAKE)
    switches = [f"-D{option}={'ON' if name in isa else 'OFF'}" for _, option, name in ISA]
    return " ".join([*X86_ONLY_CMAKE, *EXTRA_CMAKE, *switches, *(f"-D{option}=OFF" for option in NEVER)])


def main(argv: list[str]) -> int:
    if argv != ["llama-cmake"]:
        usage = "usage: python -m helpers.core.pins llama-cmake   (this machine's portable llama.cpp build's CMAKE_ARGS)"
        print(usage, file=sys.stderr)
        return 2
    print(cmake_args(PORTABLE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
