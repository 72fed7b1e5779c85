"""The first cell in Colab, and issue 11's bad input: each case gets one sentence with a way forward, nothing written is lost.

A GPU too small and a gated model without a token are route 2's planner's cases, in ``test_gpu.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest

from helpers.core.paths import REPO_ROOT
from helpers.routes import free_colab as colab
from helpers.tooling import bootstrap, colab_links

FAKE_COLAB = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"


def _kit(root: Path) -> Path:
    """A copy of the kit as far as the first cell sees it: a git clone with the bootstrap, already installed once."""
    kit = root / "openllm-routes"
    (kit / "helpers" / "tooling").mkdir(parents=True)
    (kit / "notebooks").mkdir()
    shutil.copy(REPO_ROOT / "helpers" / "tooling" / "bootstrap.py", kit / "helpers" / "tooling" / "bootstrap.py")
    (kit / "helpers" / "__init__.py").write_text("")
    (kit / "helpers" / "tooling" / "__init__.py").write_text("")
    (kit / "pyproject.toml").write_text("[project]\nname = 'kit'\nversion = '0'\n")
    (kit / "requirements.txt").write_text(f"llama-cpp-python=={metadata.version('llama-cpp-python')}\n")
    (kit / bootstrap.STAMP).write_text(bootstrap._pyproject_digest(kit) + "\n")
    subprocess.run(["git", "init", "--quiet", str(kit)], check=True)
    return kit


def _first_cell(cwd: Path, kit: Path) -> subprocess.CompletedProcess:
    cell = FAKE_COLAB + colab_links.install_cell("file:///nowhere/openllm-routes") + "\nprint(os.getcwd())\n"
    env = {**os.environ, "OPENLLM_ROUTES_KIT": str(kit)}
    return subprocess.run([sys.executable, "-c", cell], capture_output=True, text=True, cwd=cwd, env=env)


def test_a_session_restarted_halfway_reruns_the_first_cell_without_cloning_installing_or_losing_outputs(tmp_path):
    """After a restart the clone and the installed packages are still on the VM: the cell only moves back into the kit."""
    kit = _kit(tmp_path)
    (kit / "outputs").mkdir()
    kept = kit / "outputs" / "model_runtime_decision.json"
    kept.write_text('{"written": "before the restart"}')
    for _ in range(2):
        ran = _first_cell(tmp_path, kit)
        assert ran.returncode == 0, ran.stderr
        done, cwd = ran.stdout.strip().splitlines()
        assert "already installed" in done and "llama.cpp already installed" in done and cwd == str(kit / "notebooks")
    assert kept.read_text() == '{"written": "before the restart"}'


def test_no_network_for_pip_is_one_sentence_that_says_to_go_online(tmp_path, monkeypatch):
    """A runtime whose package index does not answer: pip's failure becomes the sentence, and no stamp is written."""
    kit = _kit(tmp_path)
    (kit / bootstrap.STAMP).unlink()
    (kit / "pyproject.toml").write_text(
        "[build-system]\nrequires = ['setuptools']\nbuild-backend = 'setuptools.build_meta'\n"
        "[project]\nname = 'kit'\nversion = '0'\n[project.optional-dependencies]\ncolab = []\n"
    )
    for name, value in {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "1",
                        "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with pytest.raises(
        bootstrap.BootstrapError, match=r"^pip could not install the kit \(.*\); check that this runtime is online"
    ):
        bootstrap.install(kit)
    assert not (kit / bootstrap.STAMP).exists()


def test_a_drive_that_does_not_mount_keeps_the_zip_and_says_how_to_download_it(tmp_path, monkeypatch):
    def refuse(_: str) -> None:
        raise ValueError("mount failed: the consent window was closed")

    fake = types.ModuleType("google.colab")
    fake.drive = types.SimpleNamespace(mount=refuse)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", fake)
    (tmp_path / "environment.json").write_text("{}")
    with pytest.raises(
        colab.DriveError, match=r"Google Drive did not mount \(mount failed.*run this cell again with save_to_drive=False"
    ):
        colab.save_outputs("colab", to_drive=True, outputs=tmp_path)
    assert (tmp_path / "openllm_routes_outputs.zip").is_file() and (tmp_path / "environment.json").read_text() == "{}"


# ---------------------------------------------------------------- the first cell's steps, each failing with one sentence


def test_an_unsupported_python_says_what_to_do():
    with pytest.raises(bootstrap.BootstrapError, match=r"Python 3.9; the kit needs 3.10 or newer: choose a newer runtime"):
        bootstrap.check_python((3, 9))


def test_a_folder_that_is_not_the_kit_says_to_delete_it(tmp_path):
    with pytest.raises(bootstrap.BootstrapError, match="is not a copy of the kit"):
        bootstrap.prepare(tmp_path)


def test_an_update_without_network_keeps_the_copy_already_here(tmp_path):
    assert bootstrap.update(tmp_path).startswith("could not update the kit")


def test_a_failed_pip_install_is_one_sentence_and_leaves_no_stamp(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("this is [not toml\n")
    with pytest.raises(bootstrap.BootstrapError, match="pip could not install the kit .*check that this runtime is online"):
        bootstrap.install(tmp_path)
    assert not (tmp_path / bootstrap.STAMP).exists()


def test_an_install_is_skipped_while_pyproject_is_unchanged(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / bootstrap.STAMP).write_text(bootstrap._pyproject_digest(tmp_path))
    assert bootstrap.install(tmp_path) == "already installed"


def test_a_clone_that_fails_stops_the_first_cell_with_one_sentence(tmp_path: Path):
    """The generated cell itself, run as Colab would run it (``google.colab`` imported), against a URL that cannot clone."""
    cell = colab_links.install_cell("file:///nonexistent/openllm-routes")
    code = f"import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n{cell}\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Could not clone file:///nonexistent/openllm-routes.git: check that this runtime is online, then run this cell again."
    )
    assert not (tmp_path / "openllm-routes").exists()


def test_locally_the_first_cell_does_nothing(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-c", colab_links.install_cell("https://github.com/my-org/openllm-routes-fork")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout, list(tmp_path.iterdir())) == (0, "", [])


def test_llama_cpp_is_never_compiled_a_missing_wheel_is_one_sentence(tmp_path: Path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("llama-cpp-python==0.0.1\n")
    empty = tmp_path / "wheels"
    empty.mkdir()
    monkeypatch.setenv("OPENLLM_ROUTES_LLAMA_WHEELS", str(empty))
    message = bootstrap.install_llama_cpp(tmp_path)
    assert message.startswith("llama.cpp not installed: no prebuilt llama-cpp-python 0.0.1 wheel at")
