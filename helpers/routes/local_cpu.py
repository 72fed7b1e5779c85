"""Route 1's acting step in notebook 02 that its views leave out: keeping the comparison figure beside the eval tables."""

from __future__ import annotations

from typing import Any

from helpers.core.paths import output

#: The resolution the figure is kept at: enough to read its labels, small enough to travel in the outputs zip.
DPI = 100


def save_comparison(figure: Any) -> None:
    """Save :func:`helpers.lessons.local_cpu.plot_comparison`'s figure (a matplotlib figure) to ``outputs/evals/``."""
    path = output("local_cpu_comparison")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
