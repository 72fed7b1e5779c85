"""Which llama.cpp build this CPU gets: the best instruction sets it has, never AMX, and only if a decode test passes.

llama-cpp-python ships as source, so every machine compiles it. ``make`` first
builds a *portable* wheel (AVX2, FMA, F16C, BMI2), which runs on any x86-64 CPU
from the last decade. This module then reads ``/proc/cpuinfo`` and, where the
CPU has more (AVX-512 and its VNNI, VBMI and BF16 extensions; AVX-VNNI), builds
a second wheel with those turned on, keyed by that set in the per-user
wheelhouse, so each machine compiles each set once.

**AMX is always off.** ``-march=native`` turns it on for CPUs that advertise it,
and AMX tiles crash (SIGSEGV in ``ggml_backend_amx_mul_mat``) in sandboxed VMs.
The switches are spelled once, in :mod:`helpers.core.pins` (the Makefile's
portable build reads them there too), and the version once, in ``requirements.txt``.

**A decode test guards the switch.** Both wheels are unpacked side by side and
each decodes the same greedy tokens from the shelf's SmolLM2 GGUF in its own
process. The faster wheel is installed only if it exits cleanly and produces the
same tokens as the portable one; otherwise the portable build stays, and the
reason is printed and kept in ``.venv/llama-build.json``.

**On Arm there is nothing to choose.** None of these switches exists there, so
``make`` compiles ggml's own native build (Metal on Apple Silicon) into the
``arm-native`` wheelhouse (:func:`helpers.core.pins.portable_key`), and
:func:`setup` keeps it and says why. Untested on an Arm machine.

    python -m helpers.runtimes.llama_cpp.build setup     # make does this after the shelf is built
    python -m helpers.runtimes.llama_cpp.build show      # the flags, the key, the cmake arguments
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.core.paths import REPO_ROOT, atomic_write_json
from helpers.core.pins import ISA, LLAMA_CPP, PORTABLE, cmake_args, is_arm, pinned, portable_key
from helpers.machine.environment import cpu_model_and_flags, read_cpuinfo
from helpers.shelf.models import gguf_file

LLAMA_VERSION = pinned(LLAMA_CPP)
WHEELHOUSE_ROOT = Path(os.environ.get("OPENLLM_ROUTES_WHEELHOUSE", Path.home() / ".cache" / "openllm-routes" / "wheels"))
STAMP = REPO_ROOT / ".venv" / "llama-build.json"
GUARD_TOKENS = 24
GUARD_CODE = """
import json, sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, seed=0, verbose=False)
prompt = llm.tokenize(b"<|im_start|>user\\nWhat is the capital of France?<|im_end|>\\n<|im_start|>assistant\\n", special=True)
tokens = []
for token in llm.generate(prompt, temp=0.0, top_k=1):
    tokens.append(token)
    if len(tokens) == int(sys.argv[2]):
        break
print(json.dumps(tokens))
"""


class LlamaBuildError(RuntimeError):
    """The CPU cannot run the kit's llama.cpp builds, or a build could not be made."""


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The instruction-set flags the CPU advertises (this machine's ``/proc/cpuinfo`` unless given)."""
    return cpu_model_and_flags(read_cpuinfo() if cpuinfo is None else cpuinfo)[1]


def require_avx2(flags: frozenset[str] | None = None, machine: str | None = None) -> None:
    """Stop with advice on an x86 CPU without AVX2, which the portable build (and so every llama.cpp step here) needs.

    On Arm (``machine``, this one unless given) the build is ggml's native one, which needs no AVX2.
    """
    if is_arm(machine):
        return
    flags = cpu_flags() if flags is None else flags
    if "avx2" not in flags:
        raise LlamaBuildError(
            "This CPU does not advertise AVX2 (checked in /proc/cpuinfo), and the kit's llama.cpp builds need it. "
            "Use the Transformers runtime (route 1 works without llama.cpp), or rebuild llama-cpp-python with every "
            f"instruction set off: make run LLAMA_BEST=0 LLAMA_CMAKE_ARGS='{cmake_args(())}'."
        )


def best_isa(flags: frozenset[str] | None = None) -> tuple[str, ...]:
    """Every instruction set in :data:`ISA` whose CPU flags are all present, AMX never among them."""
    flags = cpu_flags() if flags is None else flags
    require_avx2(flags)
    return tuple(name for needed, _, name in ISA if set(needed) <= flags)


def wheel_key(isa: tuple[str, ...]) -> str:
    """The wheelhouse key: ``avx2`` for the portable set, else the set itself (``avx2-avxvnni-avx512-vbmi-vnni-bf16``)."""
    return "avx2" if set(isa) <= set(PORTABLE) else "-".join(["avx2", *(n for n in isa if n not in PORTABLE)])


def wheelhouse(key: str) -> Path:
    return WHEELHOUSE_ROOT / f"llama-cpp-python-{LLAMA_VERSION}-{key}"


def wheel_in(folder: Path) -> Path | None:
    return next(iter(sorted(folder.glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl"))), None)


def build_wheel(isa: tuple[str, ...]) -> Path:
    """Compile llama-cpp-python for ``isa`` once into its own wheelhouse (a ``.partial`` folder renamed when done)."""
    target = wheelhouse(wheel_key(isa))
    if found := wheel_in(target):
        return found
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    print(f"llama-build: compiling llama-cpp-python {LLAMA_VERSION} for {', '.join(isa)} (about 5-8 min on 2 cores, once)")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir",
               f"{LLAMA_CPP}=={LLAMA_VERSION}", "-w", str(partial)]  # fmt: skip
    result = subprocess.run(command, env={**os.environ, "CMAKE_ARGS": cmake_args(isa)}, capture_output=True, text=True)
    if result.returncode != 0 or wheel_in(partial) is None:
        raise LlamaBuildError(f"Compiling llama-cpp-python for {', '.join(isa)} failed: {result.stderr.strip()[-800:]}")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return wheel_in(target)  # type: ignore[return-value]


@dataclass(frozen=True)
class GuardResult:
    """What the decode test saw: whether the candidate build may replace the portable one, and why."""

    key: str
    passed: bool
    reason: str
    tokens: list[int]

    def to_json(self) -> dict:
        return asdict(self)


@contextmanager
def unpacked(wheel: Path) -> Iterator[dict[str, str]]:
    """An environment in which ``import llama_cpp`` loads ``wheel``'s build, not the one installed in the venv."""
    with tempfile.TemporaryDirectory(prefix="llama-build.") as site:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, str(wheel)], check=True)
        yield {**os.environ, "PYTHONPATH": site}


def greedy_tokens(wheel: Path, model: Path, count: int = GUARD_TOKENS) -> tuple[int, list[int], str]:
    """Decode ``count`` greedy tokens with ``wheel``'s llama.cpp in a fresh process: (exit code, tokens, stderr tail)."""
    with unpacked(wheel) as env:
        command = [sys.executable, "-c", GUARD_CODE, str(model), str(count)]
        result = subprocess.run(command, capture_output=True, text=True, env=env)
    tokens = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else []
    return result.returncode, tokens, result.stderr.strip()[-300:]


def guard(candidate: Path, portable: Path, key: str, model: Path | None = None) -> GuardResult:
    """The candidate passes if it decodes without crashing and gives the portable build's greedy tokens."""
    model = model or gguf_file()
    code, tokens, error = greedy_tokens(candidate, model)
    if code != 0:
        return GuardResult(key, False, f"the {key} build crashed in the decode test (exit {code}): {error}", [])
    _, expected, _ = greedy_tokens(portable, model)
    if tokens != expected:
        return GuardResult(key, False, f"the {key} build decoded {tokens[:8]}..., the portable build {expected[:8]}...", tokens)
    return GuardResult(key, True, f"the {key} build decoded the same {len(tokens)} greedy tokens as the portable build", tokens)


def _keep_native_arm_build(machine: str | None) -> GuardResult:
    """On Arm: ``make``'s one build is already native for this CPU; keep it and say so (nothing is compiled or installed)."""
    key = portable_key(machine)
    if wheel_in(wheelhouse(key)) is None:
        raise LlamaBuildError(f"No llama.cpp wheel in {wheelhouse(key)}; run `make setup` first, which builds it.")
    reason = "on Arm, ggml builds natively for this CPU (Metal on Apple Silicon), so there is no instruction set to choose"
    result = GuardResult(key, True, reason, [])
    print(f"llama-build: keeping {wheelhouse(key).name}; {reason}")
    atomic_write_json(STAMP, {**result.to_json(), "installed": wheelhouse(key).name})
    return result


def setup(machine: str | None = None) -> GuardResult:
    """Build (once) and guard the best build for this CPU; install it into this environment only if the guard passes.

    On Arm (``machine``, this one unless given) the native build ``make`` compiled is kept as it is.
    """
    if is_arm(machine):
        return _keep_native_arm_build(machine)
    isa = best_isa()
    key = wheel_key(isa)
    portable = wheel_in(wheelhouse("avx2"))
    if portable is None:
        raise LlamaBuildError(f"No portable wheel in {wheelhouse('avx2')}; run `make setup` first, which builds it.")
    if key == "avx2":
        result = GuardResult(key, True, "this CPU has nothing beyond the portable set; the portable build is the best", [])
    else:
        result = guard(build_wheel(isa), portable, key)
    chosen = wheel_in(wheelhouse(key)) if result.passed and key != "avx2" else portable
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(chosen)], check=True)
    print(
        f"llama-build: installed {chosen.parent.name}; {result.reason}"
        if result.passed
        else f"llama-build: falling back to the portable build, because {result.reason}"
    )
    atomic_write_json(STAMP, {**result.to_json(), "installed": chosen.parent.name})
    return result


def installed_build() -> str:
    """One sentence: which llama.cpp build this environment runs, and why (from the stamp ``setup`` writes)."""
    if not STAMP.is_file():
        if is_arm():
            return "ggml's native llama.cpp build for this Arm CPU (Metal on Apple Silicon)"
        return "the portable llama.cpp build (AVX2): `make setup` has not tried a faster one in this environment"
    stamp = json.loads(STAMP.read_text(encoding="utf-8"))
    if stamp["passed"]:
        return f"{stamp['installed']}, because {stamp['reason']}"
    return f"the portable build (AVX2), because {stamp['reason']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.runtimes.llama_cpp.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["setup", "show"])
    args = parser.parse_args(argv)
    if args.command == "show":
        isa = () if is_arm() else best_isa()
        key = portable_key() if is_arm() else wheel_key(isa)
        print(f"instruction sets: {', '.join(isa) or 'ggml defaults (Arm)'}\nwheel key: {key}\ncmake: {cmake_args(isa)}")
        return 0
    setup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
