"""Views only show: no module in ``helpers/lessons/`` writes or opens a file, starts a process or a server, or times anything.

The rule, read from each module's syntax tree (so an import inside a function counts too):

1. It imports none of the modules that act (processes, sockets, servers, threads, the clock, models, the kit's
   servers): the ``views-only-show`` contract's ``forbidden_modules`` in pyproject.toml, the one list of them.
2. It calls no builtin ``open`` and no method that opens, writes, moves files, saves a figure or starts something
   (:data:`ACTING_METHODS`, :data:`ACTING_OS_CALLS`).
3. It imports, or reaches through a kit module, none of the kit's actors: a name whose verb says it acts
   (:data:`ACTING_PREFIXES`: ``write_record``, ``measure_capacity``, ...) or one of :data:`KIT_ACTORS`, the servers and
   the measuring or writing entry points whose names do not say so. A notebook cell calls those and hands the view
   their result, or, for the profile form's button, the writer itself.

Reading stays allowed: a view may ask the kit's loaders (the record, the catalogue, the evidence) what is on disk.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import tomllib

import pytest

from helpers.core.paths import REPO_ROOT

LESSONS = sorted((REPO_ROOT / "helpers" / "lessons").glob("*.py"))
(CONTRACT,) = [
    c
    for c in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    if c["id"] == "views-only-show"
]
ACTING_MODULES = tuple(CONTRACT["forbidden_modules"])
ACTING_METHODS = {
    "open", "write", "writelines", "write_text", "write_bytes", "savefig", "mkdir", "makedirs", "touch", "unlink", "rmdir",
    "rename", "symlink_to", "hardlink_to", "to_csv", "to_excel", "to_parquet", "to_pickle", "start", "serve_forever",
    "terminate", "kill",
}  # fmt: skip
#: ``os.<name>(...)`` calls that change the machine (``os.environ`` and ``os.path`` only read).
ACTING_OS_CALLS = {"system", "popen", "fork", "kill", "remove", "replace", "rename", "unlink", "makedirs", "mkdir", "rmdir"}
ACTING_OS_PREFIXES = ("spawn", "exec")
#: The verbs the kit names its actors with.
ACTING_PREFIXES = ("write_", "save_", "atomic_write", "measure", "start_", "run_", "rehearse_", "prove_")
#: The kit's actors whose names do not carry one of those verbs: ``module: names``, where each is defined.
KIT_ACTORS = {
    "helpers.core.paths": ("replace_dir",),
    "helpers.fits.roofline": ("bandwidth",),
    "helpers.machine.gpu": ("gpu_report",),
    "helpers.runtimes.transformers": ("load",),
    "helpers.routes.handoff": ("LlamaCppServer", "require_running"),
    "helpers.serving.rehearsal": ("RehearsalServer",),
    "helpers.serving.readiness": ("wait_until_ready", "served_models"),
    "helpers.serving.stream": ("time_stream",),
    "helpers.serving.server_metrics": ("scrape_metrics",),
    "helpers.serving.launch": ("deployment_files",),
    "helpers.routes.rented_gpu": ("Stopwatch",),
    "helpers.measured.ladder": ("ladder", "ladder_here"),
    "helpers.measured.landscape": ("landscape", "roofline_if_measured"),
}
ACTORS = {id(getattr(importlib.import_module(module), name)) for module, names in KIT_ACTORS.items() for name in names}


def _is_kit_module(name: str) -> bool:
    parent = name.rpartition(".")[0]
    if not name.startswith("helpers.") or not hasattr(importlib.import_module(parent), "__path__"):
        return False
    return importlib.util.find_spec(name) is not None


def _acts(module: str, name: str) -> bool:
    """Whether ``module.name`` is one of the kit's actors (followed through re-exports such as ``helpers.serving``)."""
    if not module.startswith("helpers") or name.startswith(ACTING_PREFIXES):
        return module.startswith("helpers")
    return id(getattr(importlib.import_module(module), name, None)) in ACTORS


def violations(source: str) -> list[str]:
    """Each place ``source`` acts instead of showing, as ``line: what``."""
    tree = ast.parse(source)
    kit_modules: dict[str, str] = {}  # a local name -> the kit module it is bound to
    found: list[str] = []

    def acting_module(name: str) -> bool:
        return any(name == m or name.startswith(f"{m}.") for m in ACTING_MODULES)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if acting_module(alias.name):
                    found.append(f"{node.lineno}: imports {alias.name}")
                elif alias.asname and _is_kit_module(alias.name):
                    kit_modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            if acting_module(node.module):
                found.append(f"{node.lineno}: imports from {node.module}")
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if acting_module(full):
                    found.append(f"{node.lineno}: imports {full}")
                elif _is_kit_module(full):
                    kit_modules[alias.asname or alias.name] = full
                elif _acts(node.module, alias.name):
                    found.append(f"{node.lineno}: imports {full}, which acts")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in kit_modules:
            if _acts(kit_modules[node.value.id], node.attr):
                found.append(f"{node.lineno}: uses {kit_modules[node.value.id]}.{node.attr}, which acts")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                found.append(f"{node.lineno}: calls open()")
            elif isinstance(func, ast.Attribute):
                on_os = isinstance(func.value, ast.Name) and func.value.id == "os"
                if func.attr in ACTING_METHODS:
                    found.append(f"{node.lineno}: calls .{func.attr}()")
                elif on_os and (func.attr in ACTING_OS_CALLS or func.attr.startswith(ACTING_OS_PREFIXES)):
                    found.append(f"{node.lineno}: calls os.{func.attr}()")
    return found


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_view_only_shows(path):
    found = violations(path.read_text(encoding="utf-8"))
    assert found == [], (
        f"helpers/lessons/{path.name} acts; move the acting into the layer that acts (serving, routes, measured, ...) and "
        f"let the notebook cell hand the view its result: {found}"
    )


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess",
        "from http.server import HTTPServer",
        "def f():\n    import time\n    return time.monotonic()",
        "from helpers.serving.rehearsal import RehearsalServer",
        "from helpers.serving import RehearsalServer",
        "from helpers.serving import wait_until_ready",
        "from helpers.routes.handoff import LlamaCppServer",
        "from helpers.decision.record import write_record",
        "from helpers.measured.landscape import measured_roofline",
        "from helpers.measured.handoff_rehearsal import rehearse_handoff",
        "from helpers.routes.rented_gpu import Stopwatch",
        "from helpers.routes.local_cpu import save_comparison",
        "from helpers.measured import ladder\nladder.ladder()",
        "import helpers.measured.landscape as land\nland.landscape()",
        "open('x.csv', 'w')",
        "path.write_text('x')",
        "path.open('w')",
        "figure.savefig(path)",
        "path.parent.mkdir(parents=True)",
        "server.start()",
        "table.to_csv('x.csv')",
        "os.system('ls')",
        "os.execv('/bin/ls', [])",
    ],
)
def test_the_rule_catches_each_way_of_acting(source):
    assert violations(source), source


def test_the_rule_lets_a_view_read_print_tabulate_and_plot():
    view = (
        "import os\n"
        "import matplotlib.pyplot as plt\n"
        "from helpers.measured import ladder\n"
        "from helpers.measured.landscape import LABELS, Landscape\n"
        "from helpers.decision.record import read_record\n"
        "from helpers.serving import Benchmark, Readiness\n"
        "def show(land: Landscape, benchmark: Benchmark) -> None:\n"
        "    print(LABELS, ladder.unavailable(), ladder.MEASURED, read_record(), os.environ.get('X'))\n"
        "    plt.subplots()\n"
        "    'a · b'.replace(' · ', ' ')\n"
    )
    assert violations(view) == []
