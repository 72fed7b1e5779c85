"""Is this environment ready for the course? One line per fact, OK or FAIL.

Run it in notebook 00 or from a terminal::

    python -m helpers.setup_check

It checks every package in ``requirements.txt`` against its pin, reports the
platform, Python, CPU, RAM, disk, any GPU and the offline model shelf, writes
``outputs/environment.json``, and exits non-zero if a required package is
missing, printing the exact command that installs it.

A package present at another version (Colab's own torch, say) is reported as
``DIFF`` and does not fail the check: the kit runs on it, but numbers may differ
from the committed notebooks.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

from packaging.requirements import Requirement

from helpers.environment import detect_platform, system_facts
from helpers.gpu import gpu_summary
from helpers.models import shelf_status
from helpers.paths import OUTPUTS, REQUIREMENTS, atomic_write_json, relative

Status = Literal["OK", "DIFF", "FAIL"]


@dataclass(frozen=True)
class PackageCheck:
    name: str
    wanted: str
    installed: str | None
    status: Status


def read_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    """The requirements that apply to this interpreter (environment markers honoured)."""
    requirements = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            requirements.append(requirement)
    return requirements


def check_packages(requirements: list[Requirement]) -> list[PackageCheck]:
    checks = []
    for requirement in requirements:
        try:
            installed: str | None = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None:
            status: Status = "FAIL"
        elif requirement.specifier.contains(installed.split("+")[0], prereleases=True):
            status = "OK"
        else:
            status = "DIFF"
        checks.append(PackageCheck(requirement.name, str(requirement.specifier), installed, status))
    return checks


def fix_command(checks: list[PackageCheck]) -> str | None:
    """The one command that installs every missing package at its pin, or None if none is missing."""
    missing = [f"{c.name}{c.wanted}" for c in checks if c.status == "FAIL"]
    if not missing:
        return None
    return shlex.join([relative(sys.executable), "-m", "pip", "install", *missing])


def run_check(requirements_path: Path = REQUIREMENTS) -> dict[str, object]:
    """Gather every fact, write ``outputs/environment.json`` and return the report."""
    checks = check_packages(read_requirements(requirements_path))
    report = {
        "platform": detect_platform(),
        **system_facts(),
        "gpu": gpu_summary(),
        "packages": [asdict(c) for c in checks],
        "missing": [c.name for c in checks if c.status == "FAIL"],
        "fix": fix_command(checks),
        "shelf": shelf_status(),
    }
    atomic_write_json(OUTPUTS / "environment.json", report)
    return report


def format_report(report: dict) -> str:
    """The report as the lines a learner reads, OK/DIFF/FAIL first."""
    gpu = report["gpu"]
    lines = [
        f"platform      {report['platform']}",
        f"python        {report['python']} ({report['os']})",
        f"cpu cores     {report['cpu_cores']}",
        f"ram           {report['ram_total_gb']} GB total, {report['ram_available_gb']} GB available",
        f"disk free     {report['disk_free_gb']} GB",
        f"gpu           {gpu['name']} ({gpu['memory_gb']} GB)" if gpu["available"] else f"gpu           none ({gpu['reason']})",
        "",
        "packages (against requirements.txt)",
    ]
    for c in report["packages"]:
        seen = c["installed"] or "missing"
        lines.append(f"  {c['status']:<4} {c['name']:<20} {seen:<16} wants {c['wanted']}")
    lines += ["", "model shelf"]
    for row in report["shelf"]:
        state = "OK  " if row["ok"] else "MISS"
        lines.append(f"  {state} {row['name']:<38} {row['folder']}")
    if report["fix"]:
        lines += ["", f"FAIL: {len(report['missing'])} required package(s) missing. Fix with:", f"  {report['fix']}"]
    else:
        lines += ["", "All required packages are installed."]
    if not all(row["ok"] for row in report["shelf"]):
        lines.append("Some shelf models are missing: run `make run` or `python -m helpers.models build`.")
    lines.append(f"Wrote {relative(OUTPUTS / 'environment.json')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.setup_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS, help="the pins to check against")
    args = parser.parse_args(argv)
    report = run_check(args.requirements)
    print(format_report(report))
    return 1 if report["missing"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
