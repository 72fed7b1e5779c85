"""Peak resident memory (peak RSS) of a process: the one reader every memory measurement in the kit calls.

Peak RSS, not the RSS at the end, is what a machine must really have: a model
load briefly holds more than it keeps. Where the figure comes from depends on
the operating system, and this module is the only place that knows:

* **Linux**: ``VmHWM`` in ``/proc/<pid>/status``, the kernel's high-water mark,
  for any process; :func:`reset_peak` restarts it from the current RSS, so a
  measurement can leave out what the imports' start-up already held;
* **other Unix** (macOS): ``getrusage(RUSAGE_SELF).ru_maxrss``, this process
  only, in KiB on Linux and BSD but in bytes on macOS;
* **Windows**: psutil's ``peak_wset`` (peak working set), for any process.
  Windows has no ``resource`` module, so it is imported only where it exists.

A process tree's peak is the sum of each process's own peak: an upper bound,
since they need not peak at the same moment. The one other memory figure in the
kit is a server's *current* RSS (``helpers.serving.memory.server_rss``), which
vLLM's overhead constant was calibrated against; it is not a peak, so it is read
there, on purpose.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:  # Unix only: Windows has no ``resource`` module
    import resource
except ImportError:  # pragma: no cover - exercised on Windows, and by the test that hides the module
    resource = None  # type: ignore[assignment]

PROC = Path("/proc")


class RssUnavailable(RuntimeError):
    """This platform offers no way to read the peak memory asked for; the message says what would."""


def _vmhwm_bytes(pid: int | str) -> int | None:
    try:
        status = (PROC / str(pid) / "status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    found = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(found) * 1024 if found is not None else None


def _peak_wset_bytes(pid: int) -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return getattr(psutil.Process(pid).memory_info(), "peak_wset", None)  # Windows only


def _own_peak_bytes() -> int:
    found = _vmhwm_bytes("self")
    if found is None and resource is not None:
        kib_or_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        found = kib_or_bytes if sys.platform == "darwin" else kib_or_bytes * 1024
    if found is None:
        found = _peak_wset_bytes(os.getpid())
    if found is None:
        raise RssUnavailable(
            "This platform reports no peak memory for this process: no /proc (Linux), no resource module (Unix) "
            "and no psutil peak_wset (Windows). Install psutil on Windows (`pip install psutil`)."
        )
    return found


def _peak_of(pid: int) -> int:
    found = _vmhwm_bytes(pid)
    if found is None:
        found = _peak_wset_bytes(pid)
    if found is None:
        raise RssUnavailable(
            f"This platform reports no peak memory for process {pid}: another process's peak is read from /proc "
            "(Linux) or psutil's peak_wset (Windows, `pip install psutil`)."
        )
    return found


def reset_peak() -> bool:
    """Restart this process's peak count from its current RSS (Linux ``clear_refs`` value 5); whether it could.

    Where it cannot (not Linux, or not allowed), a later :func:`peak_rss_bytes` includes the start-up peak and
    is an upper bound on what came after.
    """
    try:
        (PROC / "self" / "clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def peak_rss_bytes(pid: int | None = None, *, with_children: bool = False) -> int:
    """Peak resident memory in bytes: of this process (``pid=None``) or of ``pid``, plus all its children if asked.

    This process's peak counts from :func:`reset_peak` where that succeeded, else from its start.
    """
    if pid is None and not with_children:
        return _own_peak_bytes()
    root = os.getpid() if pid is None else pid
    if not with_children:
        return _peak_of(root)
    try:
        import psutil
    except ImportError:
        raise RssUnavailable("A process tree's peak memory needs psutil to find the children: `pip install psutil`.") from None
    tree = [root, *(child.pid for child in psutil.Process(root).children(recursive=True))]
    alive = [p for p in tree if psutil.pid_exists(p)]  # a child that has exited since can no longer be read
    return sum(_own_peak_bytes() if p == os.getpid() else _peak_of(p) for p in alive)
