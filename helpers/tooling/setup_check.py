"""Is this environment ready for the course? One line per fact, OK or FAIL.

Run it in notebook 00 or from a terminal::

    python -m helpers.tooling.setup_check

It checks every package in ``requirements.txt`` against its pin, reports the
platform, Python, CPU, RAM, disk, any GPU and the offline model shelf, writes
``outputs/environment.json``, and exits non-zero if a required package is
missing, printing the exact command that installs it.

It runs on the standard library alone, because it must diagnose environments
that lack the very packages it looks for: torch, psutil and NVML are each
imported behind a guard, and a missing one is a FAIL line, not a traceback.

A package present at another version (Colab's own torch, say) is reported as
``DIFF`` and does not fail the check: the kit runs on it, but numbers may differ
from the committed notebooks. In Colab and Kaggle, what only a local machine
needs (papermill, nbval, the linters, the offline shelf) is ``NOT NEEDED``: the
hosted runtime needs ``pyproject.toml``'s dependencies and its ``colab`` extra.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from importlib import metadata
from pathlib import Path

from helpers.core.i18n import N_, _
from helpers.core.paths import REPO_ROOT, REQUIREMENTS, atomic_write_json, output, relative
from helpers.core.pins import RequirementsError, read_requirements
from helpers.machine.environment import EnvironmentReport, PackageCheck, ShelfRow, detect_platform, system_facts
from helpers.machine.gpu import gpu_summary
from helpers.shelf.status import shelf_status

LOCAL_ONLY_NOTE = N_("not needed here: only `make` on a local machine uses it")
PYPROJECT = REPO_ROOT / "pyproject.toml"
#: llama.cpp and its OpenAI server's packages: in Colab the first cell installs them from a prebuilt wheel
#: when one exists (``helpers.tooling.bootstrap``), for notebooks 02 and 05; without one those notebooks skip nothing else.
HOSTED_OPTIONAL = {"llama-cpp-python", "sse-starlette", "starlette-context", "pydantic-settings"}
HOSTED_OPTIONAL_NOTE = N_("optional here: the first cell installs it with a prebuilt llama.cpp wheel when one exists")


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def hosted_needs(pyproject: Path | None = None) -> set[str] | None:
    """What a Colab or Kaggle run needs: ``pyproject.toml``'s dependencies and its ``colab`` extra.

    Everything else in ``requirements.txt`` serves only ``make`` on a local
    machine (papermill, nbval, the linters, llama.cpp's build, the translation
    tools). ``None`` when this Python cannot read TOML (before 3.11): then every
    pin counts.
    """
    try:
        import tomllib
    except ImportError:
        return None
    project = tomllib.loads((pyproject or PYPROJECT).read_text(encoding="utf-8"))["project"]
    wanted = [*project.get("dependencies", []), *project.get("optional-dependencies", {}).get("colab", [])]
    return {_normalized(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in wanted}


def check_packages(pins: list[tuple[str, str]], platform: str = "local") -> list[PackageCheck]:
    """Each pin against what is installed: OK, DIFF (another version), FAIL (missing), or NOT NEEDED in Colab/Kaggle."""
    needs = hosted_needs() if platform != "local" else None
    checks = []
    for name, version in pins:
        installed = _installed(name)
        if needs is not None and _normalized(name) in HOSTED_OPTIONAL and installed is None:
            checks.append(PackageCheck(name, f"=={version}", None, "OPTIONAL", HOSTED_OPTIONAL_NOTE))
        elif needs is not None and _normalized(name) not in needs | HOSTED_OPTIONAL:
            checks.append(PackageCheck(name, f"=={version}", installed, "NOT NEEDED", LOCAL_ONLY_NOTE))
        elif installed is None:
            checks.append(PackageCheck(name, f"=={version}", None, "FAIL"))
        else:
            same = installed.split("+")[0] == version
            checks.append(PackageCheck(name, f"=={version}", installed, "OK" if same else "DIFF"))
    return checks


def fix_command(checks: list[PackageCheck]) -> str | None:
    """The one command that installs every missing package at its pin, or None if none is missing."""
    missing = [f"{c.name}{c.wanted}" for c in checks if c.status == "FAIL"]
    if not missing:
        return None
    return shlex.join([relative(sys.executable), "-m", "pip", "install", *missing])


def run_check(requirements_path: Path = REQUIREMENTS) -> EnvironmentReport:
    """Gather every fact, write ``outputs/environment.json`` and return the report."""
    platform = detect_platform()
    checks = check_packages(read_requirements(requirements_path), platform)
    report = EnvironmentReport(
        platform=platform,
        system=system_facts(),
        gpu=gpu_summary(),
        packages=tuple(checks),
        shelf=tuple(ShelfRow(str(row["name"]), str(row["folder"]), bool(row["ok"])) for row in shelf_status()),
        fix=fix_command(checks),
    )
    atomic_write_json(output("environment"), report.to_json())
    return report


def format_packages(report: EnvironmentReport) -> str:
    """The package and shelf lines a learner reads, then the verdict: these do not change from run to run."""
    system, gpu = report.system, report.gpu
    lines = [
        f"platform      {report.platform}",
        f"python        {system.python} ({system.os})",
        f"gpu           {gpu.name} ({gpu.memory_gb} GB)" if gpu.available else f"gpu           none ({_(gpu.reason)})",
        "",
        _("packages (against requirements.txt)"),
    ]
    width = max([4, *(len(c.status) for c in report.packages)])
    for c in report.packages:
        note = f"  ({_(c.note)})" if c.note else ""
        lines.append(f"  {c.status:<{width}} {c.name:<20} {c.installed or 'missing':<16} wants {c.wanted}{note}")
    lines += ["", _("model shelf")]
    for row in report.shelf:
        state = "OK  " if row.ok else ("NOT NEEDED" if report.platform != "local" else "MISS")
        lines.append(f"  {state} {row.name:<38} {row.folder}")
    if report.fix:
        failed = _("FAIL: {count} required package(s) missing. Fix with:").format(count=len(report.missing))
        lines += ["", failed, f"  {report.fix}"]
    else:
        lines += ["", _("All required packages are installed.")]
    if report.platform == "local" and not all(row.ok for row in report.shelf):
        lines.append(_("Some shelf models are missing: run `make run` or `python -m helpers.shelf build`."))
    if report.platform != "local":
        lines.append(_("In Colab and Kaggle the models come from the Hugging Face hub, so the offline shelf is not needed here."))
    lines.append(_("Wrote {path}").format(path=relative(output("environment"))))
    return "\n".join(lines)


def format_machine(report: EnvironmentReport) -> str:
    """RAM and disk: measurements that move between runs, shown apart from the stable lines."""
    system = report.system
    return "\n".join(
        [
            f"cpu           {system.cpu}",
            "ram           "
            + _("{total} GB total, {available} GB available").format(
                total=system.ram_total_gb, available=system.ram_available_gb
            ),
            f"disk free     {system.disk_free_gb} GB",
        ]
    )


def format_report(report: EnvironmentReport) -> str:
    """Everything, for the terminal."""
    return f"{format_machine(report)}\n{format_packages(report)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.tooling.setup_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS, help="the pins to check against")
    args = parser.parse_args(argv)
    try:
        report = run_check(args.requirements)
    except (OSError, RequirementsError) as error:
        print(f"setup check: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 1 if report.missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
