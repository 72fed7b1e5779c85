"""Execute one notebook headlessly with papermill, and say how it went.

:func:`execute` runs a notebook with the kernel named explicitly and the working
directory fixed to the notebook's folder, and notes which files under
``outputs/`` it wrote. A failure names the cell the way a learner finds it; the
failed executed copy is kept. :func:`strip_volatile_metadata` removes what changes
on every run without meaning anything, so a committed notebook's diff shows only
real changes. :func:`summary` is the table every runner command ends with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers.core.names import KERNEL_NAME
from helpers.core.paths import atomic_write_text, output, outputs_dir, relative

#: What committed notebooks declare, so Colab and plain Jupyter open them with their own Python.
PORTABLE_KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
VOLATILE_CELL_METADATA = ("papermill", "execution")
#: Output mime type of a live widget: it carries a random model id, and means nothing without the kernel.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class NotebookResult:
    notebook: Path
    executed: Path
    seconds: float
    error: str | None = None
    artefacts: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None


def _snapshot(folder: Path, skip: Path) -> dict[Path, int]:
    if not folder.exists():
        return {}
    return {
        p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and skip not in p.parents and not p.name.startswith(".")
    }


def describe_failure(error: BaseException) -> str:
    """Name the failing cell the way a learner finds it: its position and execution count."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        return f"cell {error.cell_index} (execution count [{error.exec_count}]): {error.ename}: {error.evalue}"
    return f"{type(error).__name__}: {error}"


def execute(notebook: Path, executed: Path, parameters: dict | None = None) -> NotebookResult:
    """Run one notebook with papermill; the executed copy is written even when a cell fails."""
    import papermill

    executed.parent.mkdir(parents=True, exist_ok=True)
    outputs, runs = outputs_dir(), output("notebook_runs")
    before = _snapshot(outputs, skip=runs)
    start = time.perf_counter()
    error = None
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters or {},
            kernel_name=KERNEL_NAME,
            cwd=str(notebook.parent),
            progress_bar=False,
            log_output=False,
        )
    except Exception as exc:  # papermill raises after saving the failed copy
        error = describe_failure(exc)
    seconds = time.perf_counter() - start
    after = _snapshot(outputs, skip=runs)
    artefacts = sorted(relative(p) for p, mtime in after.items() if before.get(p) != mtime)
    return NotebookResult(notebook, executed, seconds, error, artefacts)


def strip_volatile_metadata(path: Path) -> None:
    """Drop papermill's per-cell timing and status and all widget state, and declare the portable kernel.

    Widget state (``metadata.widgets`` and each widget view's model id) is random
    on every run; a learner's live kernel renders the form again without it.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(PORTABLE_KERNELSPEC)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                del out["data"][WIDGET_VIEW]
    atomic_write_text(path, nbformat.writes(nb) + "\n")


def summary(results: list[NotebookResult]) -> str:
    """One line per notebook (passed or failed, seconds, artefacts), then where each failure is kept."""
    lines = ["", f"{'notebook':<34} {'result':<7} {'seconds':>8}  artefacts"]
    for r in results:
        shown = ", ".join(r.artefacts[:4]) + (f" (+{len(r.artefacts) - 4} more)" if len(r.artefacts) > 4 else "")
        lines.append(f"{r.notebook.name:<34} {'passed' if r.passed else 'FAILED':<7} {r.seconds:>8.1f}  {shown or '-'}")
    for r in results:
        if not r.passed:
            lines.append(f"FAILED {relative(r.notebook)}: {r.error}")
            lines.append(f"       the failed executed copy is {relative(r.executed)}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} notebooks passed; executed copies are in {relative(output('notebook_runs'))}/")
    return "\n".join(lines)
