"""The layout and its rules: every folder has a layer, few loose modules, the import contracts kept, imports that change
nothing, and no pass threshold outside ``gate.json``."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib

import pytest

from helpers.core.paths import REPO_ROOT
from helpers.core.quiet import QUIET_ENV

HELPERS = REPO_ROOT / "helpers"
CONTRACTS = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
#: The terminal entries that keep their names wherever their code lives (``python -m helpers.decide``, ...).
MAX_LOOSE_MODULES = 4


def _contract(contract_id: str) -> dict:
    (found,) = [c for c in CONTRACTS if c["id"] == contract_id]
    return found


def _layer_names(contract_id: str) -> set[str]:
    return {name.strip() for layer in _contract(contract_id)["layers"] for name in re.split(r"[|:]", layer)}


def test_every_helpers_folder_and_loose_module_has_a_layer():
    modules = {f"helpers.{p.stem}" for p in HELPERS.glob("*.py") if p.stem != "__init__"}
    packages = {f"helpers.{p.name}" for p in HELPERS.iterdir() if (p / "__init__.py").is_file()}
    missing = sorted((modules | packages) - _layer_names("layers"))
    assert missing == [], f"add these to a layer in pyproject.toml [tool.importlinter]: {missing}"


@pytest.mark.parametrize(("contract_id", "package"), [("decision-layers", "decision"), ("serving-layers", "serving")])
def test_every_module_inside_a_layered_package_has_a_layer(contract_id, package):
    folder = HELPERS / package
    inside = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in folder.iterdir() if (p / "__init__.py").is_file()
    }
    assert sorted(inside - _layer_names(contract_id)) == []


def test_at_most_four_loose_modules_at_the_top_of_helpers():
    loose = sorted(p.name for p in HELPERS.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_LOOSE_MODULES, f"move these into a layer folder: {loose}"


@pytest.mark.parametrize(
    ("contract_id", "forbidden", "must_cover"),
    [
        ("views-only-in-lessons", {"pandas", "matplotlib", "IPython", "ipywidgets"}, {"helpers.tooling", "helpers.decision"}),
        (
            "notebook-tools-only-in-tooling",
            {"babel", "papermill", "nbformat", "nbval"},
            {"helpers.lessons", "helpers.core.paths"},
        ),
        (
            "no-runtimes-below-runtimes",
            {"torch", "transformers", "llama_cpp", "openai", "httpx"},
            {"helpers.core", "helpers.fits"},
        ),
        ("bootstrap-stands-alone", {"helpers.core", "helpers.decision"}, {"helpers.tooling.bootstrap"}),
    ],
)
def test_forbidden_import_contracts_are_kept(contract_id, forbidden, must_cover):
    contract = _contract(contract_id)
    assert contract["type"] == "forbidden"
    assert forbidden <= set(contract["forbidden_modules"])
    assert must_cover <= set(contract["source_modules"])


def test_lesson_views_are_not_imported_by_tooling():
    assert {"helpers.decide", "helpers.tooling"} <= set(_contract("lessons-on-top")["source_modules"])


@pytest.mark.slow
def test_importing_every_helpers_module_leaves_the_environment_unchanged():
    script = """
import importlib, json, os, pkgutil, sys
before = dict(os.environ)
import helpers
for info in pkgutil.walk_packages(helpers.__path__, "helpers."):
    if info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)
after = dict(os.environ)
print(json.dumps({k: [before.get(k), after.get(k)] for k in set(before) | set(after) if before.get(k) != after.get(k)}))
"""
    clean = {name: value for name, value in os.environ.items() if name not in QUIET_ENV}  # earlier tests may have set them
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=clean, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}


#: Names that, given a number, would be a pass threshold: those belong in data/eval_cases/gate.json.
THRESHOLD_NAME = re.compile(r"(pass_share|good_enough|threshold|min_pass|pass_bar|quality_bar)", re.I)


def _numeric(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def test_no_pass_threshold_outside_gate_json():
    found = []
    for path in HELPERS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            pairs = []
            if isinstance(node, ast.Assign):
                pairs = [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                pairs = [(node.target.id, node.value)]
            elif isinstance(node, ast.keyword) and node.arg:
                pairs = [(node.arg, node.value)]
            elif isinstance(node, ast.arguments):
                positional = zip(node.args[len(node.args) - len(node.defaults) :], node.defaults, strict=True)
                keyword = zip(node.kwonlyargs, node.kw_defaults, strict=True)
                pairs = [(a.arg, v) for a, v in [*positional, *keyword] if v is not None]
            found += [
                f"{path.relative_to(REPO_ROOT)}:{name}"
                for name, value in pairs
                if THRESHOLD_NAME.search(name) and _numeric(value)
            ]
    assert found == [], f"read these from data/eval_cases/gate.json instead: {found}"
