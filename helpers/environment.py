"""Where a notebook runs and what the machine offers, read without installing anything.

The same facts feed the setup check (notebook 00), the GPU report (notebook 03)
and the decision record, so they are gathered in one place.
"""

from __future__ import annotations

import os
import platform as _platform
import shutil
import sys
from typing import Literal

import psutil

from helpers.paths import REPO_ROOT

Platform = Literal["colab", "kaggle", "local"]


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


def machine_description() -> str:
    """The CPU model and core count, so no figure is ever quoted without its hardware."""
    cpu = _platform.processor() or _platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def system_facts() -> dict[str, object]:
    """Python, OS, CPU cores, RAM and free disk where the kit lives, in plain units."""
    memory = psutil.virtual_memory()
    disk = shutil.disk_usage(REPO_ROOT)
    return {
        "python": _platform.python_version(),
        "os": f"{_platform.system()} {_platform.machine()}",
        "cpu_cores": os.cpu_count() or 1,
        "ram_total_gb": round(memory.total / 2**30, 1),
        "ram_available_gb": round(memory.available / 2**30, 1),
        "disk_free_gb": round(disk.free / 2**30, 1),
    }
