"""Setup that says where it is: each ``make setup`` step announces itself, is timed, and names itself if it fails.

``make setup`` is a chain of long steps (two virtual environments, a llama.cpp
compile, the shelf, three measurements). For minutes at a time the terminal shows
only pip's or the compiler's output, or nothing, and a learner cannot tell
progress from a hang. The steps that measure nothing (:data:`SIDE_BY_SIDE`) run
at the same time, so their headlines interleave. The Makefile wraps each step in
this module:

    python -m helpers.tooling.setup_steps run shelf -- .venv/bin/python -m helpers.shelf build
    python -m helpers.tooling.setup_steps begin venv       # a recipe of several lines: begin,
    python -m helpers.tooling.setup_steps failed venv 1    # `|| failed venv $?` after each line,
    python -m helpers.tooling.setup_steps end venv         # end
    python -m helpers.tooling.setup_steps summary          # last, in make setup, run and test

A step prints one line as it starts (what it does, how long it usually takes on
the machine :data:`MEASURED_ON` names), its seconds go to :data:`RECORD` with
the ``make`` invocation they belong to (:data:`RUN_ENV`, set once per ``make``),
and a failure names the step and the command to run next. The summary's total
is wall-clock time, first start to last end, because side-by-side steps overlap.
Only the standard library and :mod:`helpers.core` are imported, so the system
Python runs this before ``.venv`` exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


#: In the order ``make run`` starts them.
STEPS = (
    Step(
        "llama-compile",
        N_("compiling llama-cpp-python for this CPU, once per machine, into ~/.cache/openllm-routes/wheels"),
        N_("~2-3 min, beside the next three steps"),
        "make setup   (LLAMA_CMAKE_ARGS='...' overrides the CMake switches)",
    ),
    Step("venv", N_("creating .venv and installing requirements.txt"), N_("~1-2 min"), "make setup"),
    Step("vllm", N_("creating .venv-vllm: vLLM for the CPU, route 3's rehearsal server"), N_("~1-3 min"), "make vllm"),
    Step("shelf", N_("building the offline model shelf in .shelf"), N_("~2-3 min"), "make shelf"),
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
#: The steps that measure nothing, which ``make`` runs at the same time: the compile keeps both cores busy while pip
#: and the shelf's conversions wait on the disk and on one core. Measurements never run beside anything.
SIDE_BY_SIDE = ("llama-compile", "venv", "vllm", "shelf")
#: How long a step waits for another to finish writing the record before giving up on the lock (a timer never stops setup).
LOCK_WAIT_S = 10.0


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


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer at a time: side-by-side steps update the same record. ``mkdir`` is atomic on every platform."""
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            lock.mkdir()
            break
        except FileExistsError:
            if time.monotonic() > deadline:  # a writer that died holding it: take it over
                break
            time.sleep(0.02)
    try:
        yield
    finally:
        lock.rmdir()


def _record(name: str, update: Callable[[dict], dict], path: Path) -> None:
    """Replace ``name``'s entry with ``update(its current entry)``, under the lock."""
    with _locked(path):
        records = read_records(path)
        records[name] = update(records.get(name, {}))
        atomic_write_json(path, records)


def format_seconds(seconds: float) -> str:
    """``42 s``, ``7 min 05 s``: a step's duration as a learner reads it."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def headline(name: str) -> str:
    """The line a step prints as it starts: where setup is, what it does, how long it usually takes."""
    found = step(name)
    usual = _("usually {usual} on {machine}").format(usual=_(found.usual), machine=_(MEASURED_ON))
    return f"setup [{STEPS.index(found) + 1}/{len(STEPS)}] {found.name}: {_(found.doing)} ({usual})"


def begin(name: str, *, path: Path = RECORD, now: float | None = None) -> str:
    """Record that ``name`` started in this run; return its headline."""
    started = time.time() if now is None else now
    _record(name, lambda _entry: {"run": current_run(), "started": started, "status": "running"}, path)
    return headline(name)


def _finish(name: str, status: str, path: Path, now: float | None) -> float:
    finished = time.time() if now is None else now
    seconds = 0.0

    def finished_entry(entry: dict) -> dict:
        nonlocal seconds
        started = float(entry.get("started", finished))
        seconds = max(0.0, finished - started)
        return {"run": current_run(), "seconds": round(seconds, 1), "status": status, "started": started,
                "ended": finished, "finished": time.strftime("%Y-%m-%d", time.localtime(finished))}  # fmt: skip

    _record(name, finished_entry, path)
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
    """Each step's seconds in this ``make`` run (or why it did not run), and the wall-clock total."""
    records, run = read_records(path), current_run()
    width = max(len(s.name) for s in STEPS) + 2
    lines = [_("setup: summary of this run")]
    for found in STEPS:
        lines.append(f"  {found.name:<{width}} {_summary_cell(records.get(found.name), run)}")
    this_run = [entry for entry in records.values() if entry.get("run") == run and "ended" in entry]
    total = max((e["ended"] for e in this_run), default=0.0) - min((e["started"] for e in this_run), default=0.0)
    side = [name for name in SIDE_BY_SIDE if records.get(name, {}).get("run") == run]
    note = _(" (wall clock: {steps} ran side by side)").format(steps=", ".join(side)) if len(side) > 1 else ""
    lines.append(f"  {_('total'):<{width}} {format_seconds(total)}{note}")
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
