"""Where a notebook runs and what the machine offers, read with the standard library alone.

The same facts feed the setup check (notebook 00), the GPU report (notebook 03)
and the decision record, so they are gathered in one place. Nothing here needs a
package from ``requirements.txt``: the setup check must be able to report what
is missing in the environment it diagnoses, so ``psutil`` is used when present
and the operating system is asked directly when it is not.

:class:`EnvironmentReport` is what ``python -m helpers.tooling.setup_check`` writes to
``outputs/environment.json``, a record of the machine that travels with the outputs
(notebook 03 zips it); :func:`read_environment_report` reads it back for whoever
inspects them. No notebook reads it: each one asks the machine itself.
"""

from __future__ import annotations

import json
import os
import platform as _platform
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from helpers.core.i18n import _
from helpers.core.paths import REPO_ROOT, output

Platform = Literal["colab", "kaggle", "local"]
PackageStatus = Literal["OK", "DIFF", "FAIL", "NOT NEEDED", "OPTIONAL"]
#: Bumped when :class:`EnvironmentReport` changes shape; an older file gets a clear error.
ENVIRONMENT_FORMAT = 2


class ReportFormatError(ValueError):
    """A results file written by another version of the kit; rerun the notebook that writes it."""


def require_format(data: dict[str, Any], expected: int, file_name: str, rerun: str) -> None:
    """Refuse a results file of another format, saying which file and what rewrites it."""
    if data.get("format") != expected:
        raise ReportFormatError(
            _("{file} has format {found}, this kit reads format {expected}: rerun {rerun} to rewrite it.").format(
                file=file_name, found=repr(data.get("format")), expected=expected, rerun=rerun
            )
        )


def detect_platform(environ: dict[str, str] | None = None, modules: dict | None = None) -> Platform:
    """Colab, Kaggle or local, from the markers each platform sets.

    Colab sets ``COLAB_RELEASE_TAG`` (and provides ``google.colab``); Kaggle sets
    ``KAGGLE_KERNEL_RUN_TYPE``. Arguments default to the real process state and
    exist so tests can show each branch.
    """
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    if "COLAB_RELEASE_TAG" in environ or "google.colab" in modules:
        return "colab"
    if "KAGGLE_KERNEL_RUN_TYPE" in environ:
        return "kaggle"
    return "local"


def read_cpuinfo() -> str:
    """``/proc/cpuinfo`` as text, or ``""`` where there is none (macOS, Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def cpu_model_and_flags(cpuinfo: str) -> tuple[str | None, frozenset[str]]:
    """The CPU's model name and the instruction-set flags it advertises (the first of each line in ``cpuinfo``).

    The flags decide which llama.cpp build the CPU can run and whether vLLM's bf16 path is worth trying.
    """
    name, flags = None, None
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and name is None:
            name = value.strip()
        elif key.strip() == "flags" and flags is None:
            flags = frozenset(value.split())
    return name, flags or frozenset()


def machine_description() -> str:
    """The CPU model and core count, so no figure is ever quoted without its hardware."""
    name, _ = cpu_model_and_flags(read_cpuinfo())
    return f"{name or _platform.processor() or _platform.machine()}, {os.cpu_count()} cores"


def _memory_bytes() -> tuple[int, int]:
    """Total and available RAM: psutil when installed, else ``/proc/meminfo`` or ``sysconf``."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        memory = psutil.virtual_memory()
        return memory.total, memory.available
    try:
        kib = {}
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                kib[key] = int(value.split()[0])
        return kib["MemTotal"] * 1024, kib.get("MemAvailable", kib["MemFree"]) * 1024
    except (OSError, KeyError, ValueError):
        page = os.sysconf("SC_PAGE_SIZE")
        return os.sysconf("SC_PHYS_PAGES") * page, os.sysconf("SC_AVPHYS_PAGES") * page


@dataclass(frozen=True)
class SystemFacts:
    """Python, OS, CPU cores, RAM and free disk where the kit lives, in GB."""

    python: str
    os: str
    cpu: str
    cpu_cores: int
    ram_total_gb: float
    ram_available_gb: float
    disk_free_gb: float


def system_facts() -> SystemFacts:
    total, available = _memory_bytes()
    return SystemFacts(
        python=_platform.python_version(),
        os=f"{_platform.system()} {_platform.machine()}",
        cpu=machine_description(),
        cpu_cores=os.cpu_count() or 1,
        ram_total_gb=round(total / 2**30, 1),
        ram_available_gb=round(available / 2**30, 1),
        disk_free_gb=round(shutil.disk_usage(REPO_ROOT).free / 2**30, 1),
    )


@dataclass(frozen=True)
class PackageCheck:
    """One line of ``requirements.txt`` against what is installed."""

    name: str
    wanted: str
    installed: str | None
    status: PackageStatus
    note: str = ""


@dataclass(frozen=True)
class ShelfRow:
    """One model on the offline shelf, and whether its folder matches its manifest."""

    name: str
    folder: str
    ok: bool


@dataclass(frozen=True)
class GpuSummary:
    """The first usable GPU, or why there is none."""

    available: bool
    name: str | None
    memory_gb: float
    reason: str


@dataclass(frozen=True)
class EnvironmentReport:
    """Everything the setup check found; ``outputs/environment.json`` holds it."""

    platform: Platform
    system: SystemFacts
    gpu: GpuSummary
    packages: tuple[PackageCheck, ...]
    shelf: tuple[ShelfRow, ...]
    fix: str | None
    format: int = ENVIRONMENT_FORMAT
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.packages if c.status == "FAIL"]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvironmentReport:
        rerun = "notebook 00_setup_check (or `python -m helpers.tooling.setup_check`)"
        require_format(data, ENVIRONMENT_FORMAT, "environment.json", rerun)
        return cls(
            platform=data["platform"],
            system=SystemFacts(**data["system"]),
            gpu=GpuSummary(**data["gpu"]),
            packages=tuple(PackageCheck(**row) for row in data["packages"]),
            shelf=tuple(ShelfRow(**row) for row in data["shelf"]),
            fix=data["fix"],
            notes=tuple(data.get("notes", ())),
        )


def read_environment_report(path: Path | None = None) -> EnvironmentReport:
    """Read ``outputs/environment.json`` back; a file of another format says which notebook rewrites it."""
    path = path or output("environment")
    return EnvironmentReport.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
