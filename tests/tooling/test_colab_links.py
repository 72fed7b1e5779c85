"""One URL for the kit: a fork retargets every badge, first cell and README link with one command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from helpers.core.paths import NOTEBOOKS, REPO_ROOT
from helpers.tooling import colab_links

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
        [sys.executable, "-m", "helpers.tooling.colab_links", "--check"], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stdout


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
