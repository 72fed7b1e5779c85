"""One URL for the kit: a fork retargets every badge, first cell and README link with one command; the first cell's steps."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import bootstrap, colab_links
from helpers.paths import NOTEBOOKS, REPO_ROOT

FORK = "https://github.com/my-org/openllm-routes-fork"


def test_the_url_is_read_from_pyproject():
    assert colab_links.repo_url().startswith("https://github.com/")


def test_retarget_rewrites_the_one_url_and_every_link_follows(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    shutil.copy(REPO_ROOT / "pyproject.toml", pyproject)
    assert colab_links.retarget("my-org/openllm-routes-fork.git", pyproject) == FORK
    assert colab_links.repo_url(pyproject) == FORK
    notebook = NOTEBOOKS / "03_colab_gpu_route.ipynb"
    text = colab_links._linked(notebook, FORK, NOTEBOOKS)
    assert "colab.research.google.com/github/my-org/openllm-routes-fork/blob/main/notebooks/03_colab_gpu_route.ipynb" in text
    assert 'KIT_URL = \\"https://github.com/my-org/openllm-routes-fork.git\\"' in text
    stale = colab_links.out_of_date(FORK)
    assert "notebooks/00_setup_check.ipynb" in stale and "README.md" in stale


@pytest.mark.parametrize("repo", ["not a repo", "owner", "https://gitlab.com/a/b/c"])
def test_a_repo_that_is_not_owner_slash_name_is_refused(tmp_path, repo):
    pyproject = tmp_path / "pyproject.toml"
    shutil.copy(REPO_ROOT / "pyproject.toml", pyproject)
    with pytest.raises(colab_links.LinkError, match="is not owner/name"):
        colab_links.retarget(repo, pyproject)


def test_check_mode_changes_nothing_and_passes_on_this_tree():
    result = subprocess.run(
        [sys.executable, "-m", "helpers.colab_links", "--check"], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stdout


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
    result = subprocess.run([sys.executable, "-c", colab_links.install_cell(FORK)], capture_output=True, text=True, cwd=tmp_path)
    assert (result.returncode, result.stdout, list(tmp_path.iterdir())) == (0, "", [])


def test_llama_cpp_is_never_compiled_a_missing_wheel_is_one_sentence(tmp_path: Path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("llama-cpp-python==0.0.1\n")
    empty = tmp_path / "wheels"
    empty.mkdir()
    monkeypatch.setenv("OPENLLM_ROUTES_LLAMA_WHEELS", str(empty))
    message = bootstrap.install_llama_cpp(tmp_path)
    assert message.startswith("llama.cpp not installed: no prebuilt llama-cpp-python 0.0.1 wheel at")


def test_every_badge_opens_its_own_notebook_under_the_one_url_translations_included():
    """Read from the committed files, not regenerated: each badge names the repository URL and the notebook it sits in."""
    owner_name = colab_links.repo_url().removeprefix("https://github.com/")
    notebooks = colab_links.all_notebooks()
    assert {p.parent.name for p in notebooks} >= {"notebooks", "zh", "ja"}
    for path in notebooks:
        first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
        (target,) = re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)]*)\)", "".join(first["source"]))
        assert (
            target == f"https://colab.research.google.com/github/{owner_name}/blob/main/{path.relative_to(REPO_ROOT).as_posix()}"
        )
