"""Setup that says where it is: each step's headline, its recorded seconds, the summary and the failure message."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core.paths import REPO_ROOT
from helpers.tooling import setup_steps
from helpers.tooling.setup_steps import RUN_ENV

MAKEFILE = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RUN_ENV, "this-run")
    return tmp_path / "setup-steps.json"


def test_a_step_says_where_setup_is_what_it_does_and_how_long_it_usually_takes():
    assert setup_steps.headline("shelf") == (
        "setup [4/8] shelf: building the offline model shelf in .shelf (usually ~2-3 min on a 2-core AMD EPYC)"
    )
    assert setup_steps.headline("llama-compile").startswith("setup [1/8] llama-compile: compiling llama-cpp-python")


def test_seconds_are_recorded_per_step_and_the_total_is_wall_clock_for_this_run(record: Path, monkeypatch: pytest.MonkeyPatch):
    setup_steps.begin("llama-compile", path=record, now=1000.0)
    setup_steps.begin("venv", path=record, now=1000.5)
    setup_steps.end("venv", path=record, now=1060.5)
    setup_steps.begin("shelf", path=record, now=1061.0)
    assert setup_steps.end("llama-compile", path=record, now=1120.0) == "setup: llama-compile done in 2 min 00 s"
    setup_steps.end("shelf", path=record, now=1103.4)
    setup_steps.begin("ladder", path=record, now=1121.0)
    setup_steps.end("ladder", path=record, now=1221.0)
    saved = json.loads(record.read_text(encoding="utf-8"))
    assert saved["venv"]["seconds"] == 60.0 and saved["shelf"]["status"] == "ok" and saved["shelf"]["run"] == "this-run"

    lines = setup_steps.summary(path=record).splitlines()
    assert lines[0] == "setup: summary of this run"
    assert re.fullmatch(r"\s+llama-compile\s+2 min 00 s", lines[1]) and re.fullmatch(r"\s+venv\s+1 min 00 s", lines[2])
    assert re.fullmatch(r"\s+shelf\s+42 s", lines[4]) and re.fullmatch(r"\s+landscape\s+not run by this clone yet", lines[7])
    # 3 min 41 s from the first start to the last end; the step seconds add up to 5 min 22 s, because three overlapped
    assert re.fullmatch(r"\s+total\s+3 min 41 s \(wall clock: llama-compile, venv, shelf ran side by side\)", lines[-1])

    monkeypatch.setenv(RUN_ENV, "the-next-run")  # a second make: nothing rebuilt, every step up to date
    assert re.search(r"venv\s+up to date \(took 1 min 00 s on \d{4}-\d\d-\d\d\)", setup_steps.summary(path=record))
    assert setup_steps.summary(path=record).splitlines()[-1].split() == ["total", "0", "s"]


def test_a_failed_step_names_itself_and_what_to_run(record: Path):
    setup_steps.begin("ladder", path=record, now=100.0)
    message = setup_steps.failed("ladder", 2, path=record, now=107.0)
    assert message == (
        "setup: step 'ladder' (building and measuring the quantization ladder) failed after 7 s with exit status 2.\n"
        "  Its error is printed above. When it is fixed, run: make ladder"
    )
    assert re.search(r"ladder\s+FAILED after 7 s", setup_steps.summary(path=record))


def test_an_unreadable_record_is_no_record_so_the_timer_never_stops_setup(record: Path):
    record.write_text("{not json", encoding="utf-8")
    assert setup_steps.read_records(record) == {}
    setup_steps.begin("shelf", path=record, now=1.0)
    assert setup_steps.read_records(record)["shelf"]["status"] == "running"


def test_an_unknown_step_is_an_error_listing_the_steps():
    with pytest.raises(setup_steps.UnknownStep, match="No setup step 'shelve'; the steps are: llama-compile, venv"):
        setup_steps.headline("shelve")


def run_module(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The module as make runs it: ``-I -S`` (the standard library only, no site-packages), the record in tmp_path."""
    code = (
        f"import runpy, sys; sys.path.insert(0, {str(REPO_ROOT)!r}); from pathlib import Path; "
        f"import helpers.tooling.setup_steps as s; s.RECORD = Path({str(tmp_path / 'steps.json')!r}); "
        f"sys.argv = ['setup_steps', *{list(args)!r}]; "
        "raise SystemExit(s.main(sys.argv[1:]))"
    )
    env = {RUN_ENV: "cli-run", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, env=env)


def test_run_times_a_command_and_on_failure_passes_its_status(record: Path, tmp_path: Path):
    ok = setup_steps.run("shelf", [sys.executable, "-c", "print('built')"], path=tmp_path / "steps.json")
    assert ok == 0
    code = setup_steps.run("landscape", [sys.executable, "-c", "raise SystemExit(3)"], path=tmp_path / "steps.json")
    assert code == 3
    records = setup_steps.read_records(tmp_path / "steps.json")
    assert records["shelf"]["status"] == "ok" and records["landscape"]["status"] == "failed"


def test_the_module_runs_on_the_standard_library_alone_as_make_calls_it(tmp_path: Path):
    failing = run_module("run", "memory-check", "--", sys.executable, "-c", "raise SystemExit(4)", tmp_path=tmp_path)
    assert failing.returncode == 4, failing.stderr
    assert failing.stdout.startswith("setup [8/8] memory-check: measuring each model's peak memory (usually ~1 min")
    assert "step 'memory-check'" in failing.stderr and "run: make memory-check" in failing.stderr
    marked = run_module("failed", "venv", "1", tmp_path=tmp_path)
    assert marked.returncode == 1 and "run: make setup" in marked.stderr
    summary = run_module("summary", tmp_path=tmp_path)
    assert summary.returncode == 0 and re.search(r"memory-check\s+FAILED after \d+ s", summary.stdout), summary.stdout
    assert run_module("begin", "shelve", tmp_path=tmp_path).returncode == 2
    assert run_module("dance", tmp_path=tmp_path).returncode == 2


def test_side_by_side_steps_never_lose_each_others_records(record: Path):
    """Three make jobs write the record at once; the lock keeps every step's entry (without it, most are lost)."""
    from concurrent.futures import ThreadPoolExecutor

    names = [step.name for step in setup_steps.STEPS] * 5
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: setup_steps.begin(name, path=record), names))
    assert set(setup_steps.read_records(record)) == set(setup_steps.BY_NAME)
    assert not record.with_name(record.name + ".lock").exists()


def test_every_step_the_makefile_names_is_listed_and_every_listed_step_is_in_the_makefile():
    named = set(re.findall(r"\$\(STEP\) (?:begin|end|run) ([\w-]+)", MAKEFILE))
    named |= set(re.findall(r"or_fail,([\w-]+)\)", MAKEFILE))
    assert named == set(setup_steps.BY_NAME)


def test_setup_run_and_test_end_with_the_summary():
    for target in ("setup", "run", "test"):
        recipe = re.search(rf"^{target}:[^\n]*\n((?:\t[^\n]*\n)*)", MAKEFILE, re.MULTILINE)
        assert recipe and "summary" in recipe.group(1), f"make {target} prints no setup summary"
