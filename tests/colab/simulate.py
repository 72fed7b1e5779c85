"""The simulated-Colab run: every notebook, top to bottom, the way a Colab learner runs it, on this machine.

What it builds (see tests/colab/README.md for what it does not simulate):

1. a fresh virtual environment from ``colab-preinstalled.txt``, with none of make's ``.venv``,
   ``.venv-vllm`` or ``.shelf`` on its path;
2. a ``google.colab`` module imported at start-up, so detection sees Colab, and nothing else of Colab;
3. a ``/content``-like folder; git is told (``url.<file://checkout>.insteadOf``) that the kit's
   GitHub URL is this checkout, so the first cell's clone is a real ``git clone`` of the committed tree;
4. papermill executes each notebook from that folder, first cell included, each in a new kernel of
   that environment, as opening the notebook from its badge does.

Offline here, the hub is replaced by the models on this checkout's shelf (``OPENLLM_ROUTES_SHELF`` points at a
folder of links to them), so models are capped at what the shelf has. The measurements ``make`` caches on the
shelf (the ladder, the runtime landscape) are left out, as a Colab runtime has none: notebook 05 measures there.
Run it with ``make colab-sim [NB=03]``.

``--lowest`` (``make colab-sim-lowest``) starts the runtime from the lowest versions ``pyproject.toml`` allows
for the packages Colab preinstalls, read from the bounds themselves (:func:`lowest_allowed`), so a bound
that is raised or lowered is the bound that runs; torch alone stays at the pin (:data:`KEPT_AT_PIN` says why).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import papermill
from packaging.requirements import Requirement

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
sys.path.insert(0, str(CHECKOUT))

from helpers.core.paths import atomic_write_json, output, relative  # noqa: E402
from helpers.runtimes.llama_cpp.build import first_wheel  # noqa: E402
from helpers.shelf.models import SHELF_ENTRIES  # noqa: E402
from helpers.tooling.colab_links import repo_url  # noqa: E402
from helpers.tooling.notebook_execution import describe_failure  # noqa: E402
from helpers.tooling.notebook_selection import select  # noqa: E402

KERNEL = "colab-sim"
PREINSTALLED = HERE / "colab-preinstalled.txt"
#: Packages the lowest run keeps at the pin, and why (the README's "Colab" section says the same).
KEPT_AT_PIN = {
    "torch": "PyPI has CPU-only Linux wheels of torch only from the pinned release on; older ones bring several GB of "
    "CUDA packages, so torch's lower bound is not run here",
}
FAKE_COLAB = '"""Stands in for Colab\'s own module, for platform detection only: nothing of Colab is simulated."""\n'


def run(command: list[str], **kwargs) -> None:
    subprocess.run(command, check=True, **kwargs)


def lowest_allowed(preinstalled: Path = PREINSTALLED, pyproject: Path = CHECKOUT / "pyproject.toml") -> list[str]:
    """The preinstalled list at the lowest versions ``pyproject.toml`` allows (its ``>=`` bounds, the Colab extra's too).

    A package the kit does not declare (ipykernel) keeps its pin, and so does each of :data:`KEPT_AT_PIN`.
    """
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    declared = [Requirement(line) for line in project["dependencies"] + project["optional-dependencies"]["colab"]]
    bounds = [(r.name.lower(), spec) for r in declared for spec in r.specifier if r.name not in KEPT_AT_PIN]
    lowest = {name: spec.version for name, spec in bounds if spec.operator == ">="}
    lines = []
    for line in preinstalled.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name = Requirement(line).name.lower()
            lines.append(f"{name}=={lowest[name]}" if name in lowest else line.strip())
    return lines


def hub_shelf(root: Path) -> Path:
    """The hub's stand-in: links to the shelf's models only, none of the measurements make caches beside them."""
    shelf = root / "shelf"
    shelf.mkdir()
    for entry in SHELF_ENTRIES.values():
        (shelf / entry.folder).symlink_to(CHECKOUT / ".shelf" / entry.folder, target_is_directory=True)
    return shelf


def runtime(root: Path, python: str, llama_wheels: str, preinstalled: list[str]) -> tuple[Path, dict[str, str]]:
    """The Colab-like environment: a fresh venv, the fake module, a kernel, and the environment variables."""
    venv = root / "venv"
    start = time.perf_counter()
    run([python, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, *preinstalled])
    site = Path(
        subprocess.check_output(
            [str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"], text=True
        ).strip()
    )
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (site / "google" / "colab" / "__init__.py").write_text(FAKE_COLAB)
    (site / "zz_fake_google_colab.pth").write_text("import google.colab\n")
    run(
        [str(venv / "bin" / "python"), "-m", "ipykernel", "install", "--prefix", str(root / "jupyter"), "--name", KERNEL],
        stdout=subprocess.DEVNULL,
    )
    home = root / "home"
    home.mkdir()
    url = repo_url()
    for original in (url, f"{url}.git"):
        run(["git", "config", "--file", str(home / ".gitconfig"), "--add", f"url.file://{CHECKOUT}.insteadOf", original])
    environ = {
        **os.environ,
        "HOME": str(home),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        "JUPYTER_PATH": str(root / "jupyter" / "share" / "jupyter"),
        "OPENLLM_ROUTES_SHELF": str(hub_shelf(root)),
        "HF_HUB_OFFLINE": "1",
        "OPENLLM_ROUTES_LLAMA_WHEELS": llama_wheels,
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
    }
    for leaked in ("VIRTUAL_ENV", "OPENLLM_ROUTES_OUTPUTS", "OPENLLM_ROUTES_HOME", "PYTHONPATH"):
        environ.pop(leaked, None)
    print(f"colab-sim: runtime ready in {time.perf_counter() - start:.0f} s ({venv})", flush=True)
    return venv, environ


def execute(notebooks: list[Path], root: Path, environ: dict[str, str]) -> list[dict]:
    content = root / "content"
    content.mkdir()
    results = []
    os.environ.clear()
    os.environ.update(environ)  # papermill starts each kernel with this process's environment
    for notebook in notebooks:
        opened = content / notebook.name
        shutil.copy(notebook, opened)
        start, error = time.perf_counter(), None
        print(f"colab-sim: running {notebook.name} from {content} ...", flush=True)
        try:
            papermill.execute_notebook(
                str(opened), str(root / "executed" / notebook.name), kernel_name=KERNEL, cwd=str(content), progress_bar=False
            )
        except Exception as exc:
            error = describe_failure(exc)
        results.append({"notebook": notebook.name, "seconds": round(time.perf_counter() - start, 1), "error": error})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="PATTERN", help="a number prefix (03), a name or a glob; repeatable")
    parser.add_argument("--python", default="python3.11", help="the interpreter the runtime's venv is made from")
    parser.add_argument("--keep", action="store_true", help="keep the simulated runtime's folder to inspect it")
    parser.add_argument(
        "--llama-wheels",
        default=str((first_wheel(compile_missing=False) or Path("no-llama-wheel-yet")).parent),
        help="stands in for the prebuilt llama-cpp-python wheels Colab would download: the wheelhouse of make's build",
    )
    parser.add_argument(
        "--lowest", action="store_true", help="start from the lowest versions pyproject.toml allows (torch at the pin)"
    )
    args = parser.parse_args(argv)
    notebooks = select(args.only)
    if args.lowest:
        preinstalled = lowest_allowed()
        print(f"colab-sim: the lowest versions pyproject.toml allows: {' '.join(preinstalled)}", flush=True)
        for name, why in KEPT_AT_PIN.items():
            print(f"colab-sim: {name} stays at the pin: {why}.", flush=True)
    else:
        preinstalled = ["-r", str(PREINSTALLED)]
    root = Path(tempfile.mkdtemp(prefix="colab-sim-"))
    (root / "executed").mkdir()
    try:
        _, environ = runtime(root, args.python, args.llama_wheels, preinstalled)
        results = execute(notebooks, root, environ)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    for r in results:
        print(f"{r['notebook']:<34} {'passed' if r['error'] is None else 'FAILED':<7} {r['seconds']:>7.1f}  {r['error'] or ''}")
    print(f"wrote {relative(atomic_write_json(output('colab_sim_lowest' if args.lowest else 'colab_sim'), results))}")
    failed = [r for r in results if r["error"]]
    print(
        f"{len(results) - len(failed)} of {len(results)} notebooks ran top to bottom in the simulated Colab runtime"
        + (f"; kept {root}" if args.keep else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
