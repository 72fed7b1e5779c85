"""Proof that a server is stopped, and what kind of proof it is.

Three kinds, because they prove different things:

* ``local_process``: a server this machine started (the rehearsal). Its
  process has exited, its port is closed, and NVML shows no GPU process where
  there is a GPU. This proves the server is stopped.
* ``remote_host``: a rented GPU. The evidence comes from the GPU host itself:
  the learner runs :func:`host_check_command` there over SSH and pastes its
  output, which :func:`parse_host_check` reads. It proves the server is
  stopped on that host; the instance bills until the provider shows it stopped.
* ``endpoint_only``: only the endpoint was checked (through a tunnel). A
  refused connection proves nothing answers at this end: **a closed tunnel is
  not a stopped instance**, so ``stopped`` stays ``None``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from helpers.core import clock
from helpers.core.i18n import N_, _
from helpers.core.net import port_is_open
from helpers.core.paths import atomic_write_json, output, relative
from helpers.machine.gpu import nvml_facts
from helpers.runtimes.client import ServingError, host_port, normalize_base_url, server_root

KINDS = ("local_process", "remote_host", "endpoint_only")
BILLING = N_("Billing stops only when your provider's console shows the instance stopped (or deleted).")
SECTIONS = ("## gpu", "## ports", "## end")


class HostCheckError(ServingError):
    """Host command output that cannot be read; says what to run instead."""


@dataclass
class ShutdownProof:
    kind: str
    endpoint: str
    checked_at: str
    stopped: bool | None
    statement: str
    stop_requested_at: str | None = None
    seconds_to_stop: float | None = None
    server_pid: int | None = None
    process_exited: bool | None = None
    health: str | None = None
    port_listening: bool | None = None
    gpu_processes: int | None = None
    gpu_check: str = ""
    host_gpu_processes: list[dict[str, Any]] = field(default_factory=list)
    written_to: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ShutdownProof:
        return cls(**data)

    def write(self) -> ShutdownProof:
        self.written_to = relative(output("shutdown_proof"))
        atomic_write_json(output("shutdown_proof"), self.to_json())
        return self


def host_check_command(user_at_host: str = "user@gpu-host", port: int = 8000) -> str:
    """One command to run against the GPU host: its GPU compute processes and whether anything listens on ``port``."""
    remote = (
        f'echo "## gpu"; nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader,nounits; '
        f'echo "## ports"; ss -ltnH "( sport = :{port} )"; echo "## end"'
    )
    return f"ssh {user_at_host} '{remote}'"


def parse_host_check(text: str) -> tuple[list[dict[str, Any]], list[int]]:
    """GPU compute processes (pid, name, MiB) and listening ports from :func:`host_check_command`'s output."""
    lines = [line.strip() for line in text.strip().splitlines()]
    missing = [marker for marker in SECTIONS if marker not in lines]
    if missing:
        raise HostCheckError(
            f"This is not the output of the host check (missing {', '.join(missing)}). "
            f"Run exactly: {host_check_command()} and paste everything it prints."
        )
    gpu_part = lines[lines.index("## gpu") + 1 : lines.index("## ports")]
    port_part = lines[lines.index("## ports") + 1 : lines.index("## end")]
    processes = []
    for line in gpu_part:
        if not line or line.lower().startswith("no running processes"):
            continue
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != 3 or not cells[0].isdigit() or not cells[2].isdigit():
            raise HostCheckError(
                f"Cannot read this nvidia-smi line: {line!r} (expected 'pid, name, MiB'). "
                "Is nvidia-smi installed on the host, and was the command run unchanged?"
            )
        processes.append({"pid": int(cells[0]), "name": cells[1], "used_memory_mib": int(cells[2])})
    ports = []
    for line in port_part:
        if not line:
            continue
        fields = line.split()
        match = re.search(r":(\d+)$", fields[3]) if len(fields) >= 4 else None
        if not match:
            raise HostCheckError(f"Cannot read this ss line: {line!r} (expected 'LISTEN recv send address:port peer').")
        ports.append(int(match.group(1)))
    return processes, ports


def _health(base_url: str, wait_s: float) -> str:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            httpx.get(server_root(base_url) + "/health", timeout=2)
        except httpx.TransportError:
            return "connection refused"
        if time.monotonic() >= deadline:
            return "still answering"
        time.sleep(0.5)


def prove_local(server: Any, *, wait_s: float = 30.0) -> ShutdownProof:
    """Stop a server this machine started (by its own PID) and prove it: exited, port closed, no GPU process."""
    requested = clock.timestamp("milliseconds")
    seconds = server.stop()
    health = _health(server.base_url, wait_s)
    parts = urlsplit(normalize_base_url(server.base_url))
    listening = port_is_open(parts.hostname, parts.port)
    nvml = nvml_facts()
    gpu_processes = None if nvml is None else sum(device.processes for device in nvml.devices)
    exited = server.process is not None and server.process.poll() is not None
    stopped = exited and not listening and gpu_processes in (None, 0)
    if not stopped:
        statement = _("NOT proven stopped: process exited {exited}, port listening {listening}, GPU processes {gpu}.")
    elif gpu_processes == 0:
        statement = _("the server process has exited and {endpoint} is closed, and NVML shows no GPU process: "
                      "the server is stopped.")  # fmt: skip
    else:
        statement = _("the server process has exited and {endpoint} is closed: the server is stopped.")
    statement = statement.format(endpoint=host_port(server.base_url), exited=exited, listening=listening, gpu=gpu_processes)
    return ShutdownProof(
        kind="local_process",
        endpoint=host_port(server.base_url),
        checked_at=clock.timestamp("milliseconds"),
        stopped=stopped,
        statement=statement,
        stop_requested_at=requested,
        seconds_to_stop=round(seconds, 2),
        server_pid=server.pid,
        process_exited=exited,
        health=health,
        port_listening=listening,
        gpu_processes=gpu_processes,
        gpu_check=_("NVML unavailable: no NVIDIA GPU on this machine, nothing can hold GPU memory")
        if nvml is None
        else _("NVML: {count} process(es) holding GPU memory").format(count=gpu_processes),
    )


def prove_remote(host_output: str, base_url: str, *, port: int = 8000) -> ShutdownProof:
    """Read the host check's output: stopped when no GPU compute process remains and nothing listens on ``port``."""
    processes, ports = parse_host_check(host_output)
    listening = port in ports
    stopped = not processes and not listening
    if stopped:
        statement = _("the GPU host shows no compute process and nothing listening on port {port}: the server is stopped.")
    elif listening:
        statement = _(
            "the GPU host still shows {count} GPU process(es) and a listener on port {port}: the server is NOT stopped."
        )
    else:
        statement = _("the GPU host still shows {count} GPU process(es): the server is NOT stopped.")
    statement = statement.format(port=port, count=len(processes)) + " " + _(BILLING)
    return ShutdownProof(
        kind="remote_host",
        endpoint=host_port(base_url),
        checked_at=clock.timestamp("milliseconds"),
        stopped=stopped,
        statement=statement,
        port_listening=listening,
        gpu_processes=len(processes),
        host_gpu_processes=processes,
        gpu_check=_("nvidia-smi on the host: {count} compute process(es)").format(count=len(processes)),
    )


def prove_endpoint(base_url: str, *, wait_s: float = 5.0) -> ShutdownProof:
    """Only the endpoint is checked: it never claims the instance stopped."""
    health = _health(base_url, wait_s)
    answer = _("{endpoint} refuses connections.") if health == "connection refused" else _("{endpoint} still answers.")
    statement = " ".join(
        (
            answer.format(endpoint=host_port(base_url)),
            _(
                "That proves only what answers at this end of the tunnel: a closed tunnel is not a stopped instance. "
                "For proof from the GPU host, run {command} and pass its output to prove_remote."
            ).format(command=host_check_command()),
            _(BILLING),
        )
    )
    return ShutdownProof(
        kind="endpoint_only",
        endpoint=host_port(base_url),
        checked_at=clock.timestamp("milliseconds"),
        stopped=None if health == "connection refused" else False,
        statement=statement,
        health=health,
    )


def read_shutdown_proof(path: Path | None = None) -> ShutdownProof:
    """The proof notebook 04 wrote (``outputs/serving/shutdown_proof.json`` unless ``path``), typed."""
    target = path or output("shutdown_proof")
    if not target.is_file():
        raise ServingError(f"No shutdown proof at {relative(target)}: run notebook 04_rented_gpu_route first.")
    data = json.loads(target.read_text(encoding="utf-8"))
    if data.get("kind") not in KINDS:
        raise ServingError(f"{relative(target)} is from an older kit (no proof kind): re-run notebook 04 to write it again.")
    return ShutdownProof.from_json(data)
