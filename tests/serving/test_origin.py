"""What served the requests, asked of the kernel with real servers this code did not start.

The cases: a server on this machine (an ``http.server`` child process, and llama.cpp's server), a port whose owner
this user cannot see (the lookup drops to user ``nobody``, so it needs root), nothing listening, a remote
address, and a real ``ssh -L`` tunnel through a local ``sshd`` (Debian's ``openssh-server``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers.core.net import LOCALHOST, free_port, port_is_open
from helpers.machine.environment import machine_description
from helpers.machine.gpu import nvidia_smi_facts, nvml_facts
from helpers.serving import capacity as cap
from helpers.serving import cost, origin

NO_GPU_HERE = not ((nvml_facts() or nvidia_smi_facts()) and (nvml_facts() or nvidia_smi_facts()).devices)
SSHD, SSH = Path("/usr/sbin/sshd"), shutil.which("ssh")
CONFIRMED = cap.Capacity({"ttft": 500.0}, 2.0, 60.0, "test", "found", 0.25, [], "", [
    cap.CapacityPoint(2.0, True, True, 100.0, None, None, 55.0, 0, None, 20, 30.0) for _ in range(3)])  # fmt: skip
PRICES = {"cpu_hourly_usd": 0.1, "gpu_name": "L4", "gpu_hourly_usd": 0.7}


def wait_for_port(port: int, process: subprocess.Popen, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while not port_is_open(LOCALHOST, port):
        if process.poll() is not None or time.monotonic() > end:
            raise AssertionError(f"nothing listened on {port} (exit code {process.poll()})")
        time.sleep(0.1)


@pytest.fixture
def http_server():
    """A tiny HTTP server in a child process: on this machine, started by the test, not by the code under test."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", "--bind", LOCALHOST, str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield process, port
    finally:
        process.kill()
        process.wait()


def test_a_server_on_this_machine_is_this_machine_and_never_priced_as_a_gpu(http_server):
    process, port = http_server
    found = origin.served_by(f"http://{LOCALHOST}:{port}")
    assert found.kind == "this_machine" and found.pid == process.pid and found.process.startswith("python")
    if not NO_GPU_HERE:
        assert found.device is None and "not priced" in found.reason  # a GPU here: which one served is not checked
        return
    assert (found.device, found.hardware) == ("cpu", machine_description()) and "no GPU" in found.reason
    note = cost.cost_note(origin=found, capacity=CONFIRMED, boot_s=30, idle_s=0, target_qps=5, **PRICES)
    assert note.device == "cpu" and note.hourly_usd == 0.1 and note.estimates == []  # the L4 price is never used
    assert note.usd_per_million_output_tokens == pytest.approx(0.1 / 3600 / 60 * 1e6, abs=0.01)
    assert any("no GPU figure is derived" in n for n in note.notes)


@pytest.mark.slow
def test_llama_cpps_server_on_this_cpu_is_not_an_l4(llama_server):
    """Issue 23's case: notebook 04 pointed at a llama.cpp server it did not start printed an L4 price."""
    process, url = llama_server
    wait_for_port(int(url.rsplit(":", 1)[1]), process)
    found = origin.served_by(url + "/v1")
    assert found.kind == "this_machine" and found.pid == process.pid
    price, why = cost.hourly_price(found, **PRICES)
    assert (price, found.device) == ((0.1, "cpu") if NO_GPU_HERE else (None, None)), why


def test_a_server_in_this_process_is_found_too():
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    server = HTTPServer((LOCALHOST, 0), SimpleHTTPRequestHandler)
    try:
        found = origin.served_by(f"http://{LOCALHOST}:{server.server_address[1]}")
        assert found.kind == "this_machine" and found.pid == os.getpid()
    finally:
        server.server_close()


@pytest.mark.skipif(os.geteuid() != 0, reason="the unseen-owner case drops to user nobody, which needs root")
def test_a_listener_whose_process_this_user_cannot_see_is_unknown_hardware(http_server):
    """The lookup runs as ``nobody``: root's server is listed in /proc/net/tcp, but its /proc/PID/fd is not readable."""
    __, port = http_server
    script = (
        # the idna codec is imported before the interpreter's own files (under /root) are out of reach
        "import encodings.idna, json, os\nfrom helpers.serving.origin import served_by\n"
        "os.setgid(65534); os.setuid(65534)\n"
        f"print(json.dumps(served_by('http://{LOCALHOST}:{port}').to_json()))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    found = origin.Origin.from_json(json.loads(done.stdout))
    assert (found.kind, found.hardware, found.device, found.pid) == ("unknown", None, None, None)
    assert "a process of user 0 listens" in found.reason and "unknown" in found.reason
    note = cost.cost_note(origin=found, capacity=CONFIRMED, boot_s=30, idle_s=5, target_qps=5, **PRICES)
    assert note.hourly_usd is None and note.usd_per_million_output_tokens is None and note.boot_usd is None
    assert note.deployment is None and note.estimates == [] and note.measured_on == "unknown hardware"


def test_nothing_listening_and_a_remote_address_are_not_this_machine():
    nothing = origin.served_by(f"http://{LOCALHOST}:{free_port()}")
    assert nothing.kind == "unknown" and "nothing on this machine listens" in nothing.reason
    remote = origin.served_by("http://192.0.2.10:8000/v1")  # TEST-NET-1: never an address of this machine
    assert remote.kind == "remote" and remote.device is None and cost.hourly_price(remote, **PRICES)[0] is None


def test_the_gpu_hosts_own_nvidia_smi_prices_only_that_gpu():
    remote = origin.served_by("http://192.0.2.10:8000/v1")
    l4 = origin.with_host_gpu(remote, "NVIDIA L4\n")
    assert (l4.device, l4.hardware) == ("gpu", "NVIDIA L4") and cost.hourly_price(l4, **PRICES)[0] == 0.7
    h100 = origin.with_host_gpu(remote, "NVIDIA H100 80GB HBM3\n")
    price, why = cost.hourly_price(h100, **PRICES)
    assert price is None and "NVIDIA H100 80GB HBM3" in why and "gpu_name" in why
    note = cost.cost_note(origin=l4, capacity=CONFIRMED, boot_s=0, idle_s=0, **PRICES)
    assert {e.gpu for e in note.estimates} and all("estimate" in e.label for e in note.estimates)
    assert origin.with_host_gpu(remote, "NVIDIA L4\nNVIDIA T4\n").device is None  # two models: which one served?


@pytest.fixture
def ssh_tunnel(tmp_path, http_server):
    """A real ``ssh -N -L`` through an ``sshd`` on 127.0.0.1 to the HTTP server: (ssh process, local port)."""
    if not SSHD.exists() or SSH is None:
        pytest.skip("the tunnel case needs Debian's openssh-server (/usr/sbin/sshd) and an ssh client")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory (systemd makes it)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
    ssh_port, local_port, (__, target) = free_port(), free_port(), http_server
    (tmp_path / "sshd_config").write_text(
        f"ListenAddress {LOCALHOST}\nPort {ssh_port}\nHostKey {tmp_path / 'host'}\nAuthorizedKeysFile {tmp_path / 'client.pub'}\n"
        f"PidFile {tmp_path / 'sshd.pid'}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n",
        encoding="utf-8",
    )
    sshd = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(tmp_path / "sshd_config")], stderr=subprocess.DEVNULL)
    ssh = None
    try:
        wait_for_port(ssh_port, sshd)
        ssh = subprocess.Popen(
            [SSH, "-N", "-L", f"{local_port}:{LOCALHOST}:{target}", "-p", str(ssh_port), "-i", str(tmp_path / "client"),
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
             "-o", "ExitOnForwardFailure=yes", f"{os.environ.get('USER', 'root')}@{LOCALHOST}"],
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(local_port, ssh)
        yield ssh, local_port
    finally:
        for process in (ssh, sshd):
            if process is not None:
                process.kill()
                process.wait()


def test_an_ssh_tunnel_is_a_tunnel_with_unknown_hardware(ssh_tunnel):
    ssh, port = ssh_tunnel
    assert httpx.get(f"http://{LOCALHOST}:{port}/", timeout=10).status_code == 200  # the tunnel really forwards
    found = origin.served_by(f"http://{LOCALHOST}:{port}/v1")
    assert (found.kind, found.process, found.pid) == ("tunnel", "ssh", ssh.pid) and found.device is None
    assert "forwards it to another host" in found.reason
    price, why = cost.hourly_price(found, **PRICES)
    assert price is None and "tunnel" in why  # not the CPU's price, though sshd happens to run here, nor the L4's
