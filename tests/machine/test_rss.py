"""Peak RSS, read one way everywhere: this process, another process and its children, and platforms without /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import psutil
import pytest

from helpers.core.paths import REPO_ROOT
from helpers.machine import rss
from helpers.machine.rss import RssUnavailable

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM and clear_refs are Linux's")
MB = 1_000_000


def test_the_peak_is_at_least_what_the_process_holds_now():
    assert rss.peak_rss_bytes() >= psutil.Process().memory_info().rss * 0.99


@LINUX
def test_an_allocation_after_a_reset_raises_the_peak_by_its_size():
    if not rss.reset_peak():
        pytest.skip("this kernel does not let the process reset its peak")
    before = rss.peak_rss_bytes()
    block = bytearray(64 * MB)  # zero-filled, so every page is touched
    assert rss.peak_rss_bytes() - before >= 60 * MB
    del block


@LINUX
def test_a_process_tree_counts_its_children():
    code = "import time; block = bytearray(80_000_000); print('ready', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        alone, tree = rss.peak_rss_bytes(os.getpid()), rss.peak_rss_bytes(os.getpid(), with_children=True)
        assert tree - alone >= 80 * MB
        assert rss.peak_rss_bytes(child.pid) >= 80 * MB
    finally:
        child.kill()
        child.wait()


def _without_proc(monkeypatch, tmp_path):
    monkeypatch.setattr(rss, "PROC", tmp_path / "no-proc")


def test_without_proc_unix_reads_ru_maxrss_in_kib_and_macos_in_bytes(monkeypatch, tmp_path):
    _without_proc(monkeypatch, tmp_path)
    monkeypatch.setattr(rss, "resource", SimpleNamespace(RUSAGE_SELF=0, getrusage=lambda who: SimpleNamespace(ru_maxrss=2048)))
    monkeypatch.setattr(rss.sys, "platform", "linux")
    assert rss.peak_rss_bytes() == 2048 * 1024
    monkeypatch.setattr(rss.sys, "platform", "darwin")
    assert rss.peak_rss_bytes() == 2048
    assert not rss.reset_peak()


def test_without_proc_or_resource_windows_reads_psutils_peak_working_set(monkeypatch, tmp_path):
    _without_proc(monkeypatch, tmp_path)
    monkeypatch.setattr(rss, "resource", None)
    process = SimpleNamespace(memory_info=lambda: SimpleNamespace(rss=1, peak_wset=123 * MB))
    monkeypatch.setattr(psutil, "Process", lambda pid=None: process)
    assert rss.peak_rss_bytes() == 123 * MB
    assert rss.peak_rss_bytes(4242) == 123 * MB


def test_a_platform_with_no_peak_to_read_says_what_would_give_one(monkeypatch, tmp_path):
    _without_proc(monkeypatch, tmp_path)
    monkeypatch.setattr(rss, "resource", None)
    monkeypatch.setattr(psutil, "Process", lambda pid=None: SimpleNamespace(memory_info=lambda: SimpleNamespace(rss=1)))
    with pytest.raises(RssUnavailable, match="no peak memory for this process.*pip install psutil"):
        rss.peak_rss_bytes()
    with pytest.raises(RssUnavailable, match="no peak memory for process 4242.*/proc"):
        rss.peak_rss_bytes(4242)


def test_the_measuring_modules_import_where_python_has_no_resource_module():
    """Windows has no ``resource``; importing the ladder, the landscape and the memory check must not need it."""
    code = (
        "import sys; sys.modules['resource'] = None\n"  # `import resource` now raises ImportError, as on Windows
        "import helpers.measured.ladder, helpers.measured.landscape\n"
        "from helpers.machine import rss; assert rss.resource is None; print(rss.peak_rss_bytes() > 0)\n"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "True"
