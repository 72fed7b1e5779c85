"""The first cell's work in Colab and Kaggle: update the kit, install what the runtime lacks, move into it.

Each notebook's first cell clones the kit (when it is not there yet) and calls
:func:`prepare`. That cell has to run before anything is installed, so this
module uses the standard library only. Locally the cell never calls it: ``make``
has set everything up.

Every step either works or stops with one sentence that says what to do; none
carries on after a failure, because the next error a learner would see
(``ModuleNotFoundError: helpers``, two cells later) says nothing about the cause.
A rerun is cheap: an install is skipped while the kit's ``pyproject.toml`` is the
one that was installed, and a Colab session restarted halfway keeps its clone and
its packages, so running the cell again is all it takes.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

#: Prebuilt llama-cpp-python CPU wheels, published by its author beside the PyPI sdist (PyPI has no wheels).
#: ``OPENLLM_ROUTES_LLAMA_WHEELS`` replaces it (a URL of an index, or a folder of wheels).
LLAMA_WHEELS = "https://abetlen.github.io/llama-cpp-python/whl/cpu"
#: What the kit runs on; Colab and Kaggle images are newer.
MIN_PYTHON = (3, 10)
#: The extra in ``pyproject.toml`` with what Colab lacks (its own torch is kept).
EXTRA = "colab"
STAMP = ".colab-installed"


class BootstrapError(RuntimeError):
    """One step of the first cell failed; the message is the sentence the learner reads."""


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


def _last_line(result: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {result.returncode}"


def check_python(version: tuple[int, int] = sys.version_info[:2]) -> None:
    if tuple(version) < MIN_PYTHON:
        raise BootstrapError(
            f"This runtime has Python {version[0]}.{version[1]}; the kit needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer: "
            "choose a newer runtime (Runtime → Change runtime type), then run this cell again."
        )


def update(kit: Path) -> str:
    """Fast-forward an existing clone; offline, keep the copy already here (nothing written so far is lost)."""
    result = _run(["git", "-C", str(kit), "pull", "--ff-only", "--quiet"])
    if result.returncode:
        return f"could not update the kit ({_last_line(result)}); using the copy already in {kit}"
    return f"updated the kit in {kit}"


def _pyproject_digest(kit: Path) -> str:
    return hashlib.sha256((kit / "pyproject.toml").read_bytes()).hexdigest()


def install(kit: Path) -> str:
    """``pip install -e kit[colab]`` with this runtime's torch held where it is; skipped when already done."""
    stamp = kit / STAMP
    digest = _pyproject_digest(kit)
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest:
        return "already installed"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f"{kit}[{EXTRA}]"]
    torch_version = _installed_version("torch")
    if torch_version:
        constraints = kit / ".colab-constraints.txt"
        constraints.write_text(f"torch=={torch_version}\n", encoding="utf-8")
        command += ["--constraint", str(constraints)]
    before = _freeze()
    result = _run(command)
    if result.returncode:
        raise BootstrapError(
            f"pip could not install the kit ({_last_line(result)}); check that this runtime is online, then run this cell again."
        )
    stamp.write_text(digest + "\n", encoding="utf-8")
    added = sorted(set(_freeze()) - set(before))
    return "installed " + (", ".join(added) if added else "nothing new (the runtime had every package)")


def _pin(kit: Path, name: str) -> str | None:
    for line in (kit / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==", 1)[1].split()[0]
    return None


def install_llama_cpp(kit: Path) -> str:
    """llama-cpp-python at the kit's pin from a prebuilt wheel, or a sentence saying why not: it never compiles here.

    Building it from PyPI's sdist takes about ten silent minutes, so ``--only-binary`` makes a missing
    wheel a quick failure; notebook 02's llama.cpp runs need it, nothing else in the first cell does.
    """
    version = _pin(kit, "llama-cpp-python")
    if version is None or _installed_version("llama-cpp-python") == version:
        return "llama.cpp already installed" if version else "llama.cpp not pinned"
    source = os.environ.get("OPENLLM_ROUTES_LLAMA_WHEELS", LLAMA_WHEELS)
    where = ["--find-links", source] if Path(source).is_dir() else ["--extra-index-url", source]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary",
        "llama-cpp-python",
    ]
    result = _run([*command, *where, f"llama-cpp-python[server]=={version}"])  # [server]: its OpenAI server, for notebook 05
    if result.returncode:
        return f"llama.cpp not installed: no prebuilt llama-cpp-python {version} wheel at {source} for this runtime"
    return f"installed llama-cpp-python {version} (prebuilt, from {source})"


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _freeze() -> list[str]:
    return [f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()]


def prepare(kit: str | Path) -> None:
    """Update, install, and move into ``kit/notebooks``, printing what was done and how long it took."""
    start = time.perf_counter()
    check_python()
    kit = Path(kit)
    if not (kit / "pyproject.toml").is_file():
        raise BootstrapError(f"{kit} is not a copy of the kit (no pyproject.toml): delete that folder, then run this cell again.")
    steps = [update(kit), install(kit), install_llama_cpp(kit)]
    if str(kit) not in sys.path:
        sys.path.insert(0, str(kit))
    importlib.invalidate_caches()  # packages pip just added must be importable in this running kernel
    os.chdir(kit / "notebooks")
    print("; ".join(steps) + f"; working in {kit / 'notebooks'} ({time.perf_counter() - start:.0f} s)")
