"""The layer rule covers every module: a new one must be given a layer, or lint-imports would never check it."""

from __future__ import annotations

import re
import tomllib

from helpers.paths import REPO_ROOT

HELPERS = REPO_ROOT / "helpers"


def layered_modules() -> set[str]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    return {name.strip("() ") for layer in layers for name in re.split(r"[|:]", layer)}


def test_every_helpers_module_has_a_layer():
    modules = {f"helpers.{p.stem}" for p in HELPERS.glob("*.py") if p.stem != "__init__"}
    packages = {f"helpers.{p.name}" for p in HELPERS.iterdir() if (p / "__init__.py").is_file()}
    missing = sorted((modules | packages) - layered_modules())
    assert missing == [], f"add these to a layer in pyproject.toml [tool.importlinter]: {missing}"
