"""Where the kit keeps things, and how it writes them without losing what was there.

Every artefact a notebook produces goes under ``outputs/``; every model the kit
builds offline goes on the shelf under ``.shelf/``. Writes go to a temporary file
beside the target and are renamed into place, so a crash mid-write leaves the
previous file intact rather than half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: The repository root. ``helpers`` is installed in editable mode, so this is the
#: clone itself, in Colab as well as locally. ``OPENLLM_ROUTES_HOME`` overrides it.
REPO_ROOT = Path(os.environ.get("OPENLLM_ROUTES_HOME", Path(__file__).resolve().parents[2]))
#: ``OPENLLM_ROUTES_SHELF`` points at another clone's shelf (the simulated-Colab run uses it to stand in for the hub).
SHELF = Path(os.environ.get("OPENLLM_ROUTES_SHELF", REPO_ROOT / ".shelf"))
CACHE = REPO_ROOT / ".cache"
NOTEBOOKS = REPO_ROOT / "notebooks"
EVAL_CASES = REPO_ROOT / "data" / "eval_cases"
REQUIREMENTS = REPO_ROOT / "requirements.txt"

#: Every artefact the kit writes, by name, relative to the outputs folder. Each
#: path is spelled here once; code asks for ``output("benchmark")``.
ARTEFACTS: dict[str, str] = {
    "environment": "environment.json",
    "memory_check": "memory_check.csv",
    "evals": "evals",
    "local_cpu_comparison": "evals/local_cpu_comparison.png",
    "gpu_report": "gpu_report.json",
    "colab_run": "colab_run.json",
    "benchmark": "serving/benchmark.json",
    "candidate_benchmark": "serving/candidate_benchmark.json",
    "shutdown_proof": "serving/shutdown_proof.json",
    "checklist": "serving/checklist.json",
    "peer_comparison": "serving/peer_comparison.json",
    "dtype_comparison": "serving/dtype_comparison.json",
    "deploy": "serving/deploy",
    "serving_logs": "serving/logs",
    "decision_json": "model_runtime_decision.json",
    "decision_md": "model_runtime_decision.md",
    "decision_archive": "decisions",
    "ladder": "quantization/ladder.csv",
    "roofline": "roofline.csv",
    "bandwidth": "bandwidth.json",
    "handoff": "handoff",
    "regeneration_report": "regeneration_report.md",
    "regeneration_baseline": "regeneration_baseline.json",
    "colab_sim": "colab_sim.json",
    "colab_sim_lowest": "colab_sim_lowest.json",
    "notebook_runs": "notebooks",
    "outputs_zip": "openllm_routes_outputs.zip",
}


def outputs_dir() -> Path:
    """The artefacts folder, read at call time: ``OPENLLM_ROUTES_OUTPUTS`` redirects it (the tests use it)."""
    return Path(os.environ.get("OPENLLM_ROUTES_OUTPUTS", REPO_ROOT / "outputs"))


def output(name: str) -> Path:
    """Where the artefact ``name`` (a key of :data:`ARTEFACTS`) lives now."""
    try:
        return outputs_dir() / ARTEFACTS[name]
    except KeyError:
        raise KeyError(f"No artefact named {name!r}; known: {', '.join(sorted(ARTEFACTS))}.") from None


def relative(path: Path | str) -> str:
    """A path as a learner should read it: relative to the repo root when inside it.

    Notebook outputs print paths this way so they are the same on every machine.
    """
    path = Path(path).resolve()
    try:
        return path.relative_to(REPO_ROOT.resolve()).as_posix()
    except ValueError:
        return str(path)


def csv_text(records: Iterable[dict[str, Any]], columns: list[str]) -> str:
    """Rows as CSV text, header first, ``\n`` line ends: the one CSV writer of the kit's measurement tables."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def atomic_write_text(path: Path | str, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: Path | str, data: Any) -> Path:
    """Write ``data`` as indented, key-sorted UTF-8 JSON, atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object written by :func:`atomic_write_json`, or ``{}`` where none has been written yet."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def keep_json_entry(path: Path, key: str, value: Any) -> None:
    """Set one entry of a JSON object file, keeping the others, written atomically (one writer at a time)."""
    atomic_write_json(path, {**read_json_object(path), key: value})


def replace_dir(staging: Path, target: Path) -> None:
    """Move a fully built ``staging`` folder to ``target``, replacing any old one.

    The old folder is renamed aside first, so at no moment does ``target`` hold a
    mixture of old and new files.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    if old.exists():
        shutil.rmtree(old)
