"""The lowest-versions Colab run installs what ``pyproject.toml`` declares, so a declared bound is a tested bound."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulate  # noqa: E402


def test_each_declared_bound_becomes_the_version_installed_and_torch_stays_at_the_pin(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = ["torch>=2.1", "transformers>=4.56", "pandas>=2.2.2"]\n'
        '[project.optional-dependencies]\ncolab = ["accelerate>=1.0"]\n'
    )
    preinstalled = tmp_path / "colab-preinstalled.txt"
    pins = ("torch==2.13.0", "transformers==5.23.0", "Pandas==3.1.1", "accelerate==1.15.0", "ipykernel==7.4.0")
    preinstalled.write_text("# comment\n" + "\n".join(pins) + "\n")
    assert simulate.lowest_allowed(preinstalled, pyproject) == [
        "torch==2.13.0",  # KEPT_AT_PIN
        "transformers==4.56",
        "pandas==2.2.2",
        "accelerate==1.0",
        "ipykernel==7.4.0",  # not declared by the kit: Colab's own
    ]


def test_the_committed_lowest_list_lowers_every_declared_package_colab_preinstalls():
    lowest = dict(line.split("==") for line in simulate.lowest_allowed())
    pinned = dict(line.split("==") for line in simulate.PREINSTALLED.read_text().splitlines() if line and line[0] != "#")
    lowered = {name for name in lowest if lowest[name] != pinned[name]}
    assert {"transformers", "pandas", "matplotlib", "ipywidgets", "accelerate"} <= lowered
    assert lowest["torch"] == pinned["torch"] and "torch" in simulate.KEPT_AT_PIN
