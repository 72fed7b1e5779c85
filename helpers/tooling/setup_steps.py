"""Setup that says where it is: each ``make setup`` step announces itself, is timed, and names itself if it fails.

``make setup`` is a chain of long steps (two virtual environments, a llama.cpp
compile, the shelf, three measurements). For minutes at a time the terminal shows
only pip's or the compiler's output, or nothing, and a learner cannot tell
progress from a hang. So the Makefile wraps each step in this module:

    python -m helpers.tooling.setup_steps run shelf -- .venv/bin/python -m helpers.shelf build
    python -m helpers.tooling.setup_steps begin venv       # a recipe of several lines: begin,
    python -m helpers.tooling.setup_steps failed venv 1    # `|| failed venv $?` after each line,
    python -m helpers.tooling.setup_steps end venv         # end
    python -m helpers.tooling.setup_steps summary          # last, in make setup, run and test

A step prints one line as it starts (what it does, how long it usually takes on
the machine :data:`MEASURED_ON` names), its seconds go to :data:`RECORD` with
the ``make`` invocation they belong to (:data:`RUN_ENV`, set once per ``make``),
and a failure names the step and the command to run next. Only the standard
library and :mod:`helpers.core` are imported, so the system Python runs this
before ``.venv`` exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.core.i18n import N_, CatalogueError, UnknownLanguage, _, language_from_environment, use
from helpers.core.paths import CACHE, atomic_write_json

RECORD = CACHE / "setup-steps.json"
#: Set once per ``make`` invocation by the Makefile (and inherited by a recursive ``make``): which seconds are this run's.
RUN_ENV = "OPENLLM_ROUTES_SETUP_RUN"
#: Where the usual durations below were measured, with empty caches (2026-12-07; the README's cost table has the seconds).
MEASURED_ON = N_("a 2-core AMD EPYC")


@dataclass(frozen=True)
class Step:
    """One step of ``make setup``: what it does, how long it usually takes, and what to run after it fails."""

    name: str
    doing: str
    usual: str
    rerun: str
    #: The step whose recipe runs this one (its seconds are inside that step's, not added to the total).
    within: str | None = None


#: In the order ``make run`` reaches them.
STEPS = (
    Step("venv", N_("creating .venv and installing requirements.txt"), N_("~1 min"), "make setup"),
    Step(
        "llama-compile",
        N_("compiling llama-cpp-python for this CPU, once per machine, into ~/.cache/openllm-routes/wheels"),
        N_("~5 min"),
        "make setup   (LLAMA_CMAKE_ARGS='...' overrides the CMake switches)",
        within="venv",
    ),
    Step("vllm", N_("creating .venv-vllm: vLLM for the CPU, route 3's rehearsal server"), N_("~1-3 min"), "make vllm"),
    Step("shelf", N_("building the offline model shelf in .shelf"), N_("~2 min"), "make shelf"),
    Step(
        "best-build",
        N_("checking that build's decode against the portable build's (which is compiled only if they differ)"),
        N_("a few seconds"),
        "make setup   (or keep the portable build: make setup LLAMA_BEST=0)",
    ),
    Step("ladder", N_("building and measuring the quantization ladder"), N_("~2 min"), "make ladder"),
    Step("landscape", N_("measuring the four runtimes, each in a fresh process"), N_("~3 min"), "make landscape"),
    Step("memory-check", N_("measuring each model's peak memory"), N_("~1 min"), "make memory-check"),
)
BY_NAME = {step.name: step for step in STEPS}
MAIN_STEPS = [step for step in STEPS if step.within is None]


class UnknownStep(ValueError):
    """A step name the Makefile passed that :data:`STEPS` does not list."""


def step(name: str) -> Step:
    if name not in BY_NAME:
        raise UnknownStep(f"No setup step {name!r}; the steps are: {', '.join(BY_NAME)} (helpers/tooling/setup_steps.py).")
    return BY_NAME[name]


def current_run() -> str:
    return os.environ.get(RUN_ENV, "")


def read_records(path: Path = RECORD) -> dict[str, dict]:
    """Each step's last record; none yet, or a file that cannot be read, is no records (a timer never stops setup)."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return records if isinstance(records, dict) else {}


def _record(name: str, entry: dict, path: Path) -> None:
    records = read_records(path)
    records[name] = entry
    atomic_write_json(path, records)


def format_seconds(seconds: float) -> str:
    """``42 s``, ``7 min 05 s``: a step's duration as a learner reads it."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def headline(name: str) -> str:
    """The line a step prints as it starts: where setup is, what it does, how long it usually takes."""
    found = step(name)
    parent = step(found.within) if found.within else found
    position = f"[{MAIN_STEPS.index(parent) + 1}/{len(MAIN_STEPS)}] {parent.name}"
    if found.within:
        position += f" > {found.name}"
    usual = _("usually {usual} on {machine}").format(usual=_(found.usual), machine=_(MEASURED_ON))
    return f"setup {position}: {_(found.doing)} ({usual})"


def begin(name: str, *, path: Path = RECORD, now: float | None = None) -> str:
    """Record that ``name`` started in this run; return its headline."""
    _record(name, {"run": current_run(), "started": time.time() if now is None else now, "status": "running"}, path)
    return headline(name)


def _finish(name: str, status: str, path: Path, now: float | None) -> float:
    entry = read_records(path).get(name, {})
    finished = time.time() if now is None else now
    seconds = max(0.0, finished - float(entry.get("started", finished)))
    finished_on = time.strftime("%Y-%m-%d", time.localtime(finished))
    _record(name, {"run": current_run(), "seconds": round(seconds, 1), "status": status, "finished": finished_on}, path)
    return seconds


def end(name: str, *, path: Path = RECORD, now: float | None = None) -> str:
    """Record that ``name`` finished; return the line saying how long it took."""
    seconds = _finish(name, "ok", path, now)
    return _("setup: {step} done in {seconds}").format(step=name, seconds=format_seconds(seconds))


def failed(name: str, exit_status: int, *, path: Path = RECORD, now: float | None = None) -> str:
    """Record that ``name`` failed; return the message naming the step and the command to run after fixing it."""
    seconds = _finish(name, "failed", path, now)
    found = step(name)
    return _(
        "setup: step '{step}' ({doing}) failed after {seconds} with exit status {code}.\n"
        "  Its error is printed above. When it is fixed, run: {rerun}"
    ).format(step=name, doing=_(found.doing), seconds=format_seconds(seconds), code=exit_status, rerun=found.rerun)


def _summary_cell(entry: dict | None, run: str) -> str:
    if entry is None:
        return _("not run by this clone yet")
    if entry.get("run") != run:
        if entry.get("status") == "ok":
            return _("up to date (took {seconds} on {date})").format(
                seconds=format_seconds(entry["seconds"]), date=entry.get("finished", "?")
            )
        return _("did not finish in an earlier run")
    if entry.get("status") == "running":
        return _("started, not finished")
    if entry.get("status") == "failed":
        return _("FAILED after {seconds}").format(seconds=format_seconds(entry["seconds"]))
    return format_seconds(entry["seconds"])


def summary(*, path: Path = RECORD) -> str:
    """Each step's seconds in this ``make`` run (or why it did not run), and the total."""
    records, run = read_records(path), current_run()
    width = max(len(s.name) for s in STEPS) + 2
    lines = [_("setup: summary of this run")]
    for found in STEPS:
        label = f"  {found.name}" if found.within else found.name
        lines.append(f"  {label:<{width}} {_summary_cell(records.get(found.name), run)}")
    this_run = [records[s.name] for s in MAIN_STEPS if records.get(s.name, {}).get("run") == run]
    total = sum(entry.get("seconds", 0.0) for entry in this_run)
    lines.append(f"  {_('total'):<{width}} {format_seconds(total)}")
    return "\n".join(lines)


def run(name: str, command: list[str], *, path: Path = RECORD) -> int:
    """``begin``, run ``command``, then ``end`` or ``failed``: a one-command step. Returns the command's exit status."""
    print(begin(name, path=path), flush=True)
    try:
        code = subprocess.run(command).returncode
    except KeyboardInterrupt:
        code = 130
    except OSError as error:  # the program itself is missing
        print(error, file=sys.stderr)
        code = 127
    if code == 0:
        print(end(name, path=path), flush=True)
    else:
        print(failed(name, code, path=path), file=sys.stderr, flush=True)
    return code


USAGE = (
    "usage: python -m helpers.tooling.setup_steps {begin NAME | end NAME | failed NAME STATUS | run NAME -- COMMAND... | summary}"
)


def main(argv: list[str]) -> int:
    try:
        use(language_from_environment())
    except (CatalogueError, UnknownLanguage):
        pass  # the source language, English: a catalogue problem must not stop setup
    try:
        match argv:
            case ["begin", name]:
                print(begin(name, path=RECORD), flush=True)
            case ["end", name]:
                print(end(name, path=RECORD), flush=True)
            case ["failed", name, status]:
                print(failed(name, int(status), path=RECORD), file=sys.stderr, flush=True)
                return max(1, int(status))
            case ["run", name, "--", *command] if command:
                step(name)
                return run(name, command, path=RECORD)
            case ["summary"]:
                print(summary(path=RECORD), flush=True)
            case _:
                print(USAGE, file=sys.stderr)
                return 2
    except UnknownStep as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
