"""Issue 25: notebook 01's profile form, clicked in a real browser.

nbval and papermill execute cells but render no widget, so neither has ever pressed "Decide". This test starts
JupyterLab from this venv on 127.0.0.1, opens a copy of notebook 01 in headless Chromium (Debian's package, driven by
Playwright), runs all cells from the Run menu, picks another route in the form, clicks "Decide" and reads the record as
the browser shows it: the lesson's lines, each on a line of its own, as the lesson writes them (Markdown without hard
breaks would join them into one run-on paragraph). The copy and the kernel's outputs live in the test's scratch folder,
so notebook 01 is never saved and the record later notebooks read is never replaced; a screenshot and two logs (the
test's steps and what the browser said, JupyterLab's own) are kept beside the record the form wrote.

It needs a browser, so it runs through ``make browser-test`` (in ``.ci/run``), which installs Playwright and sets
``REQUIRED_ENV``: there a missing browser fails it. Elsewhere (``make test``, ``make unit``) it skips.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from helpers.core.names import KERNEL_NAME
from helpers.core.net import LOCALHOST, free_port
from helpers.core.paths import NOTEBOOKS, output, relative

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

#: Set to 1 by ``make browser-test``: there a missing browser or Playwright is a failure, not a skip.
REQUIRED_ENV = "OPENLLM_ROUTES_BROWSER_TEST"
NOTEBOOK = "01_decision_profile.ipynb"
#: Not the notebook's own route (local_cpu), so the record the form shows is told apart from the one cell 40 shows.
ROUTE = "rented_gpu"
#: Seconds: JupyterLab's start, the kernel's, "Run All Cells" (a few seconds on 2 idle cores), the record after a click.
SERVER_S, KERNEL_S, RUN_ALL_S, RECORD_S, STOP_S = 90, 120, 300, 60, 15
VIEWPORT = {"width": 1400, "height": 1100}
#: Jupyter's per-user folders, moved into the scratch folder: the learner's settings, workspace and user kernels neither
#: change the run nor are changed by it.
JUPYTER_DIRS = {
    "JUPYTER_CONFIG_DIR": "config",
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "JUPYTERLAB_SETTINGS_DIR": "settings",
    "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
}
#: JupyterLab settings for the run: no "official Jupyter news?" toast over the form and no update check against PyPI;
#: every cell in the page, not only those in view, so the test can count the cells that ran.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class Log:
    """What the test did and the browser said, with seconds since the start: written beside the screenshot."""

    path: Path
    lines: list[str] = field(default_factory=list)
    start: float = field(default_factory=time.monotonic)

    def note(self, text: str) -> None:
        self.lines.append(f"{time.monotonic() - self.start:6.1f} s  {text}")

    def write(self) -> None:
        self.path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")


@pytest.fixture
def chromium() -> str:
    """Debian's Chromium, with Playwright importable; only ``make browser-test`` asks for them."""
    if os.environ.get(REQUIRED_ENV) != "1":
        pytest.skip("the browser test needs JupyterLab, Playwright and Chromium, so it runs through `make browser-test` only")
    path = shutil.which("chromium")
    if path is None or importlib.util.find_spec("playwright") is None:
        pytest.fail("make browser-test needs Debian's `chromium` on PATH and Playwright in .venv (requirements-browser.txt)")
    return path


def kernel_display_name() -> str:
    """The kit's kernel as ``make`` registers it in this venv (``ipykernel install --sys-prefix``): the status bar names it."""
    spec = Path(sys.prefix, "share", "jupyter", "kernels", KERNEL_NAME, "kernel.json")
    assert spec.is_file(), f"no kernel {KERNEL_NAME!r} in {sys.prefix}: run `make setup`"
    return json.loads(spec.read_text(encoding="utf-8"))["display_name"]


def copy_notebook(course: Path, kernel: str) -> int:
    """Notebook 01 copied into ``course``, on the kernel papermill runs it with; returns how many code cells it has.

    The committed notebook declares the portable ``python3``; the kit's kernel is the one ``make run`` and nbval use.
    """
    notebook = json.loads((NOTEBOOKS / NOTEBOOK).read_text(encoding="utf-8"))
    notebook["metadata"]["kernelspec"] = {"name": KERNEL_NAME, "display_name": kernel, "language": "python"}
    course.mkdir(parents=True)
    (course / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
    return sum(cell["cell_type"] == "code" for cell in notebook["cells"])


def left_alone() -> dict[str, object]:
    """What a pass must leave as it was: notebook 01's bytes, the record's files, and the names in their folders."""
    files = [NOTEBOOKS / NOTEBOOK, output("decision_json"), output("decision_md")]
    folders = [NOTEBOOKS, output("decision_archive")]
    return {
        **{relative(f): f.read_bytes() if f.exists() else None for f in files},
        **{relative(d): sorted(p.name for p in d.iterdir()) if d.exists() else None for d in folders},
    }


def wait_ready(server: subprocess.Popen, base: str, token: str) -> None:
    """Until the server answers its status API with the token: an open port alone comes before its handlers."""
    request = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
    deadline = time.monotonic() + SERVER_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"JupyterLab exited with {server.returncode} before it answered; see its log"
        try:
            with urllib.request.urlopen(request, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer {base}/api/status within {SERVER_S} s; see its log")


@contextmanager
def jupyterlab(course: Path, outputs: Path, log: Path) -> Iterator[tuple[str, str]]:
    """JupyterLab from this venv on 127.0.0.1 serving ``course``, its kernels writing into ``outputs``: the base URL and
    the token, a random one passed in the environment and never printed. Its process group is ended on the way out.

    ``--allow-root`` only as root (CI), where JupyterLab refuses to start without it.
    """
    token, port, jupyter = secrets.token_urlsafe(24), free_port(), course.parent / "jupyter"
    for name, settings in SETTINGS.items():
        (jupyter / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (jupyter / "settings" / name).write_text(json.dumps(settings), encoding="utf-8")
    env = {**os.environ, "JUPYTER_TOKEN": token, "OPENLLM_ROUTES_OUTPUTS": str(outputs)}
    env |= {variable: str(jupyter / folder) for variable, folder in JUPYTER_DIRS.items()}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ip={LOCALHOST}", f"--port={port}",
               f"--ServerApp.root_dir={course}", *(["--allow-root"] if os.geteuid() == 0 else [])]  # fmt: skip
    with log.open("w", encoding="utf-8") as sink:
        server = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://{LOCALHOST}:{port}"
        wait_ready(server, base, token)
        yield base, token
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
        try:
            server.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert token not in log.read_text(encoding="utf-8"), "JupyterLab's log shows the token"


@contextmanager
def browser_page(chromium: str, token: str, log: Log) -> Iterator[Page]:
    """A headless Chromium page that sends the token in a header (never in a URL an error could print).

    ``--no-sandbox``: Chromium's sandbox refuses root (CI) and needs user namespaces that containers often lack.
    ``--disable-dev-shm-usage``: containers often give ``/dev/shm`` 64 MB, which a renderer outgrows and then crashes.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        flags = ["--no-sandbox", "--disable-dev-shm-usage"]
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=flags)
        try:
            context = browser.new_context(viewport=VIEWPORT, extra_http_headers={"Authorization": f"token {token}"})
            page = context.new_page()
            page.on("console", lambda message: log.note(f"console {message.type}: {message.text}"))
            yield page
        finally:
            browser.close()


def run_all_cells(page: Page, base: str, kernel: str, code_cells: int, log: Log) -> None:
    """Open the copy, wait for its kernel, and run every cell from the Run menu, as a learner does, up to the form."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{base}/lab/tree/{NOTEBOOK}")
    page.get_by_text(f"{kernel} | Idle").wait_for(timeout=KERNEL_S * 1000)
    log.note(f"kernel {kernel} idle")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    try:
        page.get_by_role("button", name="Decide").wait_for(timeout=RUN_ALL_S * 1000)
    except PlaywrightTimeout:
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        pytest.fail(f"Run All Cells did not reach the form in {RUN_ALL_S} s; the last error shown: {errors[-1:] or 'none'}")
    ran = [p for p in page.locator(".jp-InputArea-prompt").all_inner_texts() if re.fullmatch(r"\[\d+\]:", p)]
    log.note(f"Run All Cells: the form is drawn, {len(ran)} of {code_cells} code cells ran")
    assert len(ran) == code_cells


def decide(page: Page, route: str, log: Log) -> str:
    """Pick ``route`` in the form, click "Decide", and return the text the form's output shows, as the browser lays it out."""
    page.get_by_label("route", exact=True).select_option(route)
    page.get_by_role("button", name="Decide").click()
    shown = page.locator(".widget-output")
    shown.locator(".jp-RenderedText").wait_for(timeout=RECORD_S * 1000)  # the line printed after the record
    shown.scroll_into_view_if_needed()
    text = shown.inner_text()
    log.note(f"Decide clicked on route {route}: the form's output shows\n{text}")
    return text


def lesson_lines(page: str) -> list[str]:
    """The record page's lesson block (``project_goal`` … ``rejected_for_now``), one entry per line as written."""
    block = page.split("\n\n")[1]  # after the title
    return [line.rstrip() for line in block.splitlines()]


def test_decide_writes_and_shows_the_record(chromium: str, tmp_path: Path) -> None:
    """Run All, another route, "Decide": the new record is written to the scratch outputs and shown one line per line."""
    before, kernel = left_alone(), kernel_display_name()
    outputs = tmp_path / "outputs"
    log = Log(outputs / "notebook01_form.log")
    outputs.mkdir()
    screenshot = log.path.with_suffix(".png")
    code_cells = copy_notebook(tmp_path / "course", kernel)
    try:
        with jupyterlab(tmp_path / "course", outputs, log.path.with_name("jupyterlab.log")) as (base, token):
            with browser_page(chromium, token, log) as page:
                try:
                    run_all_cells(page, base, kernel, code_cells, log)
                    shown = decide(page, ROUTE, log).splitlines()
                finally:
                    page.screenshot(path=str(screenshot))
    finally:
        log.write()
        print(f"\nbrowser test: screenshot {relative(screenshot)}, log {relative(log.path)} and jupyterlab.log beside them")

    assert (outputs / "model_runtime_decision.json").is_file(), "the form wrote no record; it showed:\n" + "\n".join(shown)
    record = json.loads((outputs / "model_runtime_decision.json").read_text(encoding="utf-8"))
    assert record["profile"]["route"] == ROUTE
    assert len(list((outputs / "decisions").glob(f"*_{ROUTE}.json"))) == 1
    written = (outputs / "model_runtime_decision.md").read_text(encoding="utf-8")
    lesson = lesson_lines(written)
    assert lesson[0].startswith("project_goal: ") and lesson[-1].startswith("rejected_for_now: "), lesson
    assert lesson[0] in shown, f"the record's first line is not a line of its own in the form's output; see {relative(log.path)}"
    start = shown.index(lesson[0])
    assert shown[start : start + len(lesson)] == lesson, "the record's lines are not shown one per line, as written"
    claim = next(line for line in written.splitlines() if line.startswith("**Claim:**")).replace("**", "")
    assert claim in shown
    assert any(relative(outputs / "model_runtime_decision.json") in line for line in shown), "no line says where it wrote"
    assert left_alone() == before, "notebook 01, notebooks/ or the record in outputs/ changed"
