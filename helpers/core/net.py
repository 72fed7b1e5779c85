"""Sockets on this machine: free ports, open ports, and whether the model hub answers.

Servers the kit starts bind to loopback only, so ``LOCALHOST`` is the one host
they use.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

LOCALHOST = "127.0.0.1"


class LoopbackServer:
    """A server process the kit started on 127.0.0.1, stopped by its own PID.

    llama.cpp's server and vLLM's rehearsal server share this part: the base URL clients use, the PID a
    shutdown proof names, and a stop that asks first (SIGTERM) and kills only if the server lingers.
    Subclasses set ``port`` and start ``process``.
    """

    port: int
    process: subprocess.Popen | None = None
    #: Seconds a server gets to exit after SIGTERM before it is killed.
    stop_timeout_s: float = 10.0

    @property
    def base_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> float:
        """SIGTERM the server's own PID, kill it if it lingers; the seconds that took, for the shutdown proof."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        began = time.monotonic()
        self.process.terminate()
        try:
            self.process.wait(timeout=self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait(timeout=10)
        return time.monotonic() - began

    def kill(self) -> None:
        """The last resort of :meth:`stop`."""
        assert self.process is not None
        self.process.kill()


#: Set (to a first port, e.g. ``18000``) by ``make regenerate``: ports are then handed out in order from it,
#: so a committed notebook prints the same port on every regeneration instead of the OS's random pick.
STABLE_PORTS_ENV = "OPENLLM_ROUTES_STABLE_PORTS"
_last_stable_port = 0


def _bindable(host: str, port: int) -> bool:
    """Whether a server could listen on the port now. SO_REUSEADDR, as uvicorn and llama.cpp's server set it: a port
    whose last connections are still in TIME_WAIT (a server stopped a minute ago) is free for them, and so for us."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOCALHOST) -> int:
    """A port nothing listens on right now: the OS picks it, or, under ``STABLE_PORTS_ENV``, the next free one in order."""
    global _last_stable_port
    first = os.environ.get(STABLE_PORTS_ENV, "").strip()
    if first.isdigit():
        port = max(int(first), _last_stable_port + 1)
        while not _bindable(host, port):
            port += 1
        _last_stable_port = port
        return port
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether anything accepts connections on host:port right now."""
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def hub_reachable(timeout_s: float = 2.0) -> bool:
    """Whether the Hugging Face hub answers; ``HF_HUB_OFFLINE=1`` means no without asking."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://", 1)[-1].split("/")[0]
    host, _, port = endpoint.partition(":")
    try:
        socket.create_connection((host, int(port or 443)), timeout=timeout_s).close()
        return True
    except OSError:
        return False
