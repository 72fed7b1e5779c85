"""Notebook 01's profile form under ipywidgets 7.7.1: the version Colab has long shipped, and ``pyproject.toml``'s bound.

The first cell in Colab keeps the runtime's ipywidgets (``ipywidgets>=7.7.1``) instead of upgrading it mid-session, so
the form must work on 7.x as well as on the 8.x that ``requirements.txt`` pins. This builds it in a real kernel with
the bound's version first on ``PYTHONPATH``, changes two fields, clicks "Decide" and reads what the kernel sent.
It checks the kernel's side only: how Colab's own frontend draws the widgets is not tested here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from helpers.core.paths import REPO_ROOT

KERNEL_CODE = r"""
import json, ipywidgets
from helpers.decision import Profile
from helpers.lessons.decision import profile_form
records = []
form = profile_form(Profile(), write=lambda record: records.append(record) or "not written: a test")
display(form)
text, (route_row, numbers, needs), button = form.children[0], form.children[1:4], form.children[4]
numbers.children[1].value = 32.0  # RAM GB
needs.children[0].value = ("private_docs",)  # must have
button.click()
print("RESULT " + json.dumps({"version": ipywidgets.__version__, "records": len(records),
                              "must_have": records[0]["profile"]["must_have"] if records else None}))
"""


def pyproject_lower_bound() -> str:
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    (bound,) = [match[1] for dep in dependencies if (match := re.fullmatch(r"ipywidgets>=([\d.]+)", dep))]
    return bound


@pytest.fixture(scope="module")
def ipywidgets_at_the_bound(tmp_path_factory) -> tuple[Path, str]:
    """ipywidgets at ``pyproject.toml``'s lower bound, in a folder of its own (the venv keeps its pinned 8.x)."""
    target, version = tmp_path_factory.mktemp("ipywidgets-bound"), pyproject_lower_bound()
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--target", str(target), f"ipywidgets=={version}", "ipython_genutils==0.2.0"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"pip could not fetch ipywidgets {version} (no network and no pip cache?): {result.stderr.strip()[-300:]}")
    return target, version


def test_the_bound_is_colabs_long_shipped_7x():
    assert pyproject_lower_bound().startswith("7.")


@pytest.mark.slow  # a pip install and a kernel
def test_the_form_builds_and_decides_in_a_kernel_under_the_lowest_ipywidgets_the_kit_allows(ipywidgets_at_the_bound):
    from jupyter_client.manager import start_new_kernel

    target, version = ipywidgets_at_the_bound
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))}
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(REPO_ROOT / "notebooks"))
    sent: list[dict] = []
    try:
        reply = client.execute_interactive(KERNEL_CODE, timeout=180, output_hook=sent.append)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    errors = [m["content"] for m in sent if m["header"]["msg_type"] == "error"]
    assert reply["content"]["status"] == "ok", errors[:1]
    printed = "".join(m["content"]["text"] for m in sent if m["header"]["msg_type"] == "stream")
    result = json.loads(printed.split("RESULT ", 1)[1].splitlines()[0])
    assert result == {"version": version, "records": 1, "must_have": ["private_docs"]}
    models = {
        (m["content"]["data"]["state"]["_model_name"], m["content"]["data"]["state"]["_model_module_version"])
        for m in sent
        if m["header"]["msg_type"] == "comm_open" and m["content"].get("target_name") == "jupyter.widget"
    }
    names = {name for name, _ in models}
    assert {"TextModel", "DropdownModel", "BoundedFloatTextModel", "CheckboxModel", "SelectMultipleModel"} <= names
    assert {"ButtonModel", "OutputModel", "HBoxModel", "VBoxModel"} <= names
    controls = {module for name, module in models if name in {"TextModel", "DropdownModel", "VBoxModel"}}
    assert controls == {"1.5.0"}, f"ipywidgets 7's widget protocol is @jupyter-widgets/controls 1.5.0, not {controls}"
