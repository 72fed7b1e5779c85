"""Which llama.cpp build this CPU gets: the best instruction sets it has, never AMX, and only if a decode test passes.

llama-cpp-python ships as source, so every machine compiles it, once, into a
per-user wheelhouse keyed by instruction set. The *portable* set (AVX2, FMA,
F16C, BMI2) runs on any x86-64 CPU from the last decade; this module reads
``/proc/cpuinfo`` and, where the CPU has more (AVX-512 and its VNNI, VBMI and
BF16 extensions; AVX-VNNI), compiles with those turned on instead. ``make``
compiles once: :func:`first_wheel` is the build for this CPU's best set, and
the portable one is compiled only when the guard below needs it.

**AMX is always off.** ``-march=native`` turns it on for CPUs that advertise it,
and AMX tiles crash (SIGSEGV in ``ggml_backend_amx_mul_mat``) in sandboxed VMs.
The switches are spelled once, in :mod:`helpers.core.pins` (the Makefile's
portable build reads them there too), and the version once, in ``requirements.txt``.

**A decode test guards the switch.** The faster wheel decodes greedy tokens from
the shelf's SmolLM2 GGUF in a fresh process, and is kept only if it exits cleanly
and produces the portable build's tokens. Those are the portable wheel's own
decode where this machine has that wheel, and otherwise the tokens it decoded on
the course machine, kept in ``data/llama_cpp_reference.json`` with the llama.cpp
version and the GGUF's SHA-256; one of another version or file is not used, and
the portable wheel is compiled to decode instead. When the guard fails, the
portable build is installed, and the reason is printed and kept in ``.venv/llama-build.json``.

**On Arm there is nothing to choose.** None of these switches exists there, so
``make`` compiles ggml's own native build (Metal on Apple Silicon) into the
``arm-native`` wheelhouse (:func:`helpers.core.pins.portable_key`), and
:func:`setup` keeps it and says why. Untested on an Arm machine.

    python -m helpers.runtimes.llama_cpp.build first-wheel   # make: the wheel to install before the shelf exists
    python -m helpers.runtimes.llama_cpp.build setup         # make does this after the shelf is built
    python -m helpers.runtimes.llama_cpp.build reference     # record the portable build's tokens (after a bump)
    python -m helpers.runtimes.llama_cpp.build show          # the flags, the key, the cmake arguments
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

from helpers.core.paths import REPO_ROOT, atomic_write_json, relative
from helpers.core.pins import ISA, LLAMA_CPP, PORTABLE, cmake_args, is_arm, pinned, portable_key
from helpers.machine.environment import cpu_model_and_flags, read_cpuinfo
from helpers.runtimes.llama_cpp import reference
from helpers.runtimes.llama_cpp.reference import GUARD_TOKENS, reference_tokens, write_reference
from helpers.shelf.models import gguf_file

LLAMA_VERSION = pinned(LLAMA_CPP)
WHEELHOUSE_ROOT = Path(os.environ.get("OPENLLM_ROUTES_WHEELHOUSE", Path.home() / ".cache" / "openllm-routes" / "wheels"))
STAMP = REPO_ROOT / ".venv" / "llama-build.json"
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


def wheel_key(isa: tuple[str, ...], machine: str | None = None) -> str:
    """The wheelhouse key: ``avx2`` for the portable set, else the set itself (``avx2-avxvnni-avx512-vbmi-vnni-bf16``);
    on Arm, ``arm-native`` whatever ``isa`` says (:func:`helpers.core.pins.portable_key`)."""
    if is_arm(machine):
        return portable_key(machine)
    return "avx2" if set(isa) <= set(PORTABLE) else "-".join(["avx2", *(n for n in isa if n not in PORTABLE)])


def wheelhouse(key: str) -> Path:
    return WHEELHOUSE_ROOT / f"llama-cpp-python-{LLAMA_VERSION}-{key}"


def wheel_in(folder: Path) -> Path | None:
    return next(iter(sorted(folder.glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl"))), None)


#: ``make setup LLAMA_CMAKE_ARGS='...'``: your own CMake switches for the portable wheelhouse's build, instead of pins'.
CMAKE_OVERRIDE_ENV = "LLAMA_CMAKE_ARGS"


def build_wheel(isa: tuple[str, ...]) -> Path:
    """Compile llama-cpp-python for ``isa`` once into its own wheelhouse (a ``.partial`` folder renamed when done).

    The portable set takes :data:`CMAKE_OVERRIDE_ENV`'s switches when it is set.
    """
    target = wheelhouse(wheel_key(isa))
    if found := wheel_in(target):
        return found
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    print(
        f"llama-build: compiling llama-cpp-python {LLAMA_VERSION} for {', '.join(isa)} (about 2 min on 2 cores, once)",
        file=sys.stderr,
        flush=True,
    )
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir",
               f"{LLAMA_CPP}=={LLAMA_VERSION}", "-w", str(partial)]  # fmt: skip
    switches = (wheel_key(isa) == wheel_key(PORTABLE) and os.environ.get(CMAKE_OVERRIDE_ENV)) or cmake_args(isa)
    result = subprocess.run(command, env={**os.environ, "CMAKE_ARGS": switches}, capture_output=True, text=True)
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


def portable_tokens(model: Path) -> tuple[list[int], str]:
    """What the portable build decodes from ``model``, and from where: its wheel here, else the recorded reference."""
    portable = wheel_in(wheelhouse("avx2"))
    if portable is None and (recorded := reference_tokens(model)) is not None:
        return recorded, f"the portable build's tokens recorded in {relative(reference.REFERENCE)}"
    _, tokens, _ = greedy_tokens(portable or build_wheel(PORTABLE), model)
    return tokens, "the portable build"


def guard(candidate: Path, key: str, model: Path | None = None) -> GuardResult:
    """The candidate passes if it decodes without crashing and gives the portable build's greedy tokens."""
    model = model or gguf_file()
    code, tokens, error = greedy_tokens(candidate, model)
    if code != 0:
        return GuardResult(key, False, f"the {key} build crashed in the decode test (exit {code}): {error}", [])
    expected, source = portable_tokens(model)
    if tokens != expected:
        return GuardResult(key, False, f"the {key} build decoded {tokens[:8]}..., {source} {expected[:8]}...", tokens)
    return GuardResult(key, True, f"the {key} build decoded the same {len(tokens)} greedy tokens as {source}", tokens)


def first_wheel(machine: str | None = None, *, portable: bool = False, compile_missing: bool = True) -> Path | None:
    """The llama.cpp wheel ``make`` installs before the shelf exists: one already built here, else this CPU's best, compiled
    (``None`` instead, when ``compile_missing`` is off, so ``make`` can time the compile as a step of its own).

    The best build is preferred; :func:`setup` guards it once the shelf's model is there, and falls back to the portable one.
    ``portable`` (``LLAMA_BEST=0``, or your own ``LLAMA_CMAKE_ARGS``) takes the portable wheelhouse alone.
    """
    isa = () if is_arm(machine) else PORTABLE if portable else best_isa()
    found = wheel_in(wheelhouse(wheel_key(isa, machine))) or wheel_in(wheelhouse(wheel_key(PORTABLE, machine)))
    return found or (build_wheel(isa) if compile_missing else None)


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
    if key == "avx2":
        result = GuardResult(key, True, "this CPU has nothing beyond the portable set; the portable build is the best", [])
    else:
        result = guard(build_wheel(isa), key)
    chosen = wheel_in(wheelhouse(key)) if result.passed and key != "avx2" else build_wheel(PORTABLE)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(chosen)], check=True)
    print(
        f"llama-build: installed {chosen.parent.name}; {result.reason}"
        if result.passed
        else f"llama-build: falling back to the portable build, because {result.reason}"
    )
    atomic_write_json(STAMP, {**result.to_json(), "installed": chosen.parent.name})
    return result


def record_reference(model: Path | None = None) -> Path:
    """Decode with the portable build (compiled if missing) and keep its tokens, version and file hash as the reference."""
    model = model or gguf_file()
    code, tokens, error = greedy_tokens(build_wheel(PORTABLE), model)
    if code != 0:
        raise LlamaBuildError(f"The portable build crashed decoding {model.name} (exit {code}): {error}")
    return write_reference(model, tokens)


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
    parser.add_argument("command", choices=["first-wheel", "setup", "reference", "show"])
    parser.add_argument("--cached", action="store_true", help="first-wheel: exit 3 instead of compiling when none is built")
    parser.add_argument("--portable", action="store_true", help="first-wheel: the portable build, not this CPU's best")
    args = parser.parse_args(argv)
    try:
        if args.command == "first-wheel":
            wheel = first_wheel(portable=args.portable, compile_missing=not args.cached)
            if wheel is None:
                return 3
            print(wheel)
        elif args.command == "reference":
            print(f"wrote {relative(record_reference())}")
        elif args.command == "setup":
            setup()
        else:
            isa = () if is_arm() else best_isa()
            key = portable_key() if is_arm() else wheel_key(isa)
            print(f"instruction sets: {', '.join(isa) or 'ggml defaults (Arm)'}\nwheel key: {key}\ncmake: {cmake_args(isa)}")
    except LlamaBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
