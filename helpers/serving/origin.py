"""What served the requests: this machine, a tunnel to another one, or hardware the kit cannot see.

A price is only true for the machine that was measured. Notebook 04 once
measured a llama.cpp server on this CPU and priced it as an L4, because nothing
asked what was listening at ``base_url``. This module asks the kernel, with the
standard library alone: the listening socket for the endpoint's host and port
(``/proc/net/tcp`` and ``tcp6``), then the process holding it (``/proc/*/fd``).

* The owner is an ``ssh`` client (or another forwarder): a **tunnel**. The
  server runs on another host whose hardware the client cannot see; vLLM's
  ``/version``, ``/v1/models`` and ``/metrics`` name no device. The GPU host's
  own ``nvidia-smi`` can say it (:func:`with_host_gpu`).
* Any other owner: **this machine**, described by :mod:`helpers.machine`. With
  no GPU here, it is a CPU and is priced as one. With a GPU here, whether the
  server uses it is not checked, so it is not priced.
* The host is another machine reached directly: **remote**, hardware unknown.
* The owner cannot be seen (another user's process, another network namespace)
  or nothing listens: **unknown**, and nothing is priced.

The owner's command line is never read: it may hold an API key.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from helpers.core.i18n import _
from helpers.machine.environment import machine_description
from helpers.machine.gpu import nvidia_smi_facts, nvml_facts
from helpers.runtimes.client import normalize_base_url

Kind = Literal["this_machine", "tunnel", "remote", "unknown"]
#: Owners of a listening socket that forward it to another host rather than serve it.
FORWARDERS = ("ssh", "autossh", "kubectl", "socat")
LISTEN = "0A"
PROC = Path("/proc")


@dataclass(frozen=True)
class Origin:
    """Where ``endpoint`` is served from. ``hardware`` and ``device`` are ``None`` when the kit cannot tell."""

    endpoint: str
    kind: Kind
    hardware: str | None
    device: Literal["cpu", "gpu"] | None
    process: str | None
    pid: int | None
    reason: str

    @property
    def known(self) -> bool:
        return self.device is not None and self.hardware is not None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Origin:
        return cls(**data)


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket, as ``/proc/net/tcp{,6}`` lists it."""

    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int
    uid: int
    inode: int


def _address(hex_text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The kernel prints addresses as 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_text)
    return ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))


def listeners(proc: Path = PROC) -> list[Listener]:
    """Every TCP socket in the LISTEN state in this network namespace."""
    found = []
    for name in ("tcp", "tcp6"):
        table = proc / "net" / name
        if not table.is_file():
            continue
        for line in table.read_text(encoding="utf-8").splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            address, port = fields[1].split(":")
            found.append(Listener(_address(address), int(port, 16), int(fields[7]), int(fields[9])))
    return found


def socket_owner(inode: int, proc: Path = PROC) -> tuple[int, str] | None:
    """The PID and command name (``comm``) of the process holding socket ``inode``; ``None`` if no visible process does."""
    target = f"socket:[{inode}]"
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) == target:
                    return int(entry.name), (entry / "comm").read_text(encoding="utf-8").strip()
        except OSError:  # another user's process (not readable), or one that just exited
            continue
    return None


def _addresses(host: str) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return set()
    return {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}


def is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, or an address of this machine (the kernel lets a socket bind only to its own addresses)."""
    if address.is_loopback:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError:
            return False
    return True


def _matches(listener: Listener, port: int, addresses: set) -> bool:
    if listener.port != port:
        return False
    wildcard = listener.address.is_unspecified
    mapped = getattr(listener.address, "ipv4_mapped", None)
    return wildcard or listener.address in addresses or mapped in addresses


def this_machine(endpoint: str, pid: int, process: str) -> Origin:
    """A server on this machine: a CPU when no GPU is here; with a GPU here, not known which one served."""
    cpu = machine_description()
    driver = nvml_facts() or nvidia_smi_facts()
    gpus = [device.name for device in driver.devices] if driver else []
    if not gpus:
        reason = _("{process} (PID {pid}) on this machine listens at {endpoint}, and this machine has no GPU: it ran on the CPU")
        return Origin(
            endpoint, "this_machine", cpu, "cpu", process, pid, reason.format(process=process, pid=pid, endpoint=endpoint)
        )
    reason = _(
        "{process} (PID {pid}) on this machine listens at {endpoint}; this machine has {gpus}, and whether the server "
        "runs on it or on the CPU is not checked, so it is not priced"
    ).format(process=process, pid=pid, endpoint=endpoint, gpus=", ".join(gpus))
    return Origin(endpoint, "this_machine", None, None, process, pid, reason)


def served_by(base_url: str, proc: Path = PROC) -> Origin:
    """Find out what serves ``base_url``: see the module docstring for the four answers."""
    parts = urlsplit(normalize_base_url(base_url))
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    endpoint = f"{host}:{port}"
    addresses = _addresses(host)
    if not addresses:
        return Origin(endpoint, "unknown", None, None, None, None, _("{host} does not resolve to an address").format(host=host))
    if not any(is_local(address) for address in addresses):
        reason = _("{endpoint} is another machine, reached directly: the kit cannot see its hardware")
        return Origin(endpoint, "remote", None, None, None, None, reason.format(endpoint=endpoint))
    matching = [listener for listener in listeners(proc) if _matches(listener, port, addresses)]
    if not matching:
        reason = _("nothing on this machine listens at {endpoint}, so what would serve it is unknown")
        return Origin(endpoint, "unknown", None, None, None, None, reason.format(endpoint=endpoint))
    owner = next((found for listener in matching if (found := socket_owner(listener.inode, proc))), None)
    if owner is None:
        reason = _(
            "a process of user {uid} listens at {endpoint}, and this user cannot see which one, "
            "so the hardware behind it is unknown"
        )
        return Origin(endpoint, "unknown", None, None, None, None, reason.format(uid=matching[0].uid, endpoint=endpoint))
    pid, process = owner
    if process in FORWARDERS:
        reason = _(
            "{endpoint} is a tunnel: {process} (PID {pid}) forwards it to another host, whose hardware the client "
            "cannot see and the server does not report"
        )
        return Origin(endpoint, "tunnel", None, None, process, pid, reason.format(endpoint=endpoint, process=process, pid=pid))
    return this_machine(endpoint, pid, process)


def with_host_gpu(origin: Origin, nvidia_smi_names: str) -> Origin:
    """The origin of a tunnel or remote endpoint, with the GPU its host's own ``nvidia-smi`` names.

    ``nvidia_smi_names`` is the output of ``nvidia-smi --query-gpu=name --format=csv,noheader``, run on the GPU host
    (over the same SSH login as the tunnel). One name per GPU; a host with several GPUs of one kind names it once.
    """
    names = sorted({line.strip() for line in nvidia_smi_names.splitlines() if line.strip()})
    if origin.kind not in ("tunnel", "remote") or len(names) != 1:
        reason = _("the host's nvidia-smi output names {count} GPU model(s), not one: {names}").format(
            count=len(names), names=", ".join(names) or "-"
        )
        return replace(origin, reason=f"{origin.reason}; {reason}") if origin.kind in ("tunnel", "remote") else origin
    reason = _("{endpoint} is served from another host, whose own nvidia-smi names {gpu}").format(
        endpoint=origin.endpoint, gpu=names[0]
    )
    return replace(origin, hardware=names[0], device="gpu", reason=reason)
