"""How many times setup boots vLLM, and on which boot each measurement is taken.

The boots themselves run for real at setup (``make landscape``, in ``make run``
and ``make test``); here a stand-in server counts them, so each branch of the
rule (bf16 wins, fp32 wins, a boot fails, an earlier choice) is checked in
milliseconds. What the stand-in returns is what the real helpers return.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.measured import rehearsal_boots
from helpers.measured.runtime_results import RuntimeResult
from helpers.runtimes.client import ServingError
from helpers.serving import dtype
from helpers.serving.readiness import Readiness

EPYC = (Path(__file__).parents[1] / "data" / "cpuinfo_amd_epyc_2cores.txt").read_text()


class CountedServer:
    """Stands in for RehearsalServer: records each start and stop, and fails to boot in ``broken`` dtypes."""

    log: list[str] = []
    broken: tuple[str, ...] = ()

    def __init__(self, *, dtype: str):
        self.dtype, self.pid, self.readiness = dtype, 0, None

    def start(self) -> CountedServer:
        self.log.append(f"boot {self.dtype}")
        return self

    def wait(self) -> Readiness:
        if self.dtype in self.broken:
            raise ServingError("exited with code -4")
        self.readiness = Readiness("http://127.0.0.1:1", 40.0, ["m"], 2048, "0.32.0", True)
        return self.readiness

    def log_tail(self, lines: int = 2) -> str:
        return ""

    def stop(self) -> None:
        self.log.append(f"stop {self.dtype}")


@pytest.fixture
def boots(monkeypatch, tmp_path):
    """measure_vllm on an AVX-512 BF16 CPU with bf16 decoding at ``tpot['bfloat16']`` ms per token; returns the log."""
    CountedServer.log, CountedServer.broken = [], ()
    tpot = {"float32": 31.2, "bfloat16": 24.8}
    kept: dict[str, list] = {"memory": [], "passes": []}
    choice_file = tmp_path / "choice.json"
    stand_ins = {
        "RehearsalServer": CountedServer,
        "read_cpuinfo": lambda: EPYC,
        "choice_lock": lambda: dtype.choice_lock(choice_file),
        "cached_choice": lambda cpuinfo: dtype.cached_choice(cpuinfo, choice_file),
        "record_choice": lambda cpuinfo, checks: dtype.record_choice(cpuinfo, checks, choice_file),
        "decode_check_on": lambda server: dtype.DecodeCheck(server.dtype, True, tpot[server.dtype], 40.0),
        "memory_row_on": lambda server: server.log.append(f"memory {server.dtype}"),
        "record_row": lambda row, key: kept["memory"].append(key),
        "constrained_rows": lambda server: server.log.append(f"cases {server.dtype}") or [],
        "record_passes": lambda model, dtype_, rows, key: kept["passes"].append(dtype_),
    }
    for name, stand_in in stand_ins.items():
        monkeypatch.setattr(rehearsal_boots, name, stand_in)
    return CountedServer.log, tpot, kept, choice_file


def landscape_row(server, cold_start_s):
    server.log.append(f"landscape {server.dtype}")
    return RuntimeResult("vllm", "m", server.dtype, 6, 16, True, 70.0, 52.3, 33.0, 116.0, 3507.0, cold_start_s, None), []


def test_when_bf16_wins_two_boots_serve_every_measurement(boots):
    log, _, kept, choice_file = boots
    result = rehearsal_boots.measure_vllm(landscape_row)
    assert log == ["boot float32", "memory float32", "cases float32", "stop float32",
                   "boot bfloat16", "memory bfloat16", "landscape bfloat16", "stop bfloat16"]  # fmt: skip
    assert result.dtype == "bfloat16" and kept["passes"] == ["float32", "bfloat16"] and len(kept["memory"]) == 2
    assert dtype.cached_choice(EPYC, choice_file).dtype == "bfloat16"


def test_when_fp32_wins_it_boots_a_third_time_for_the_landscape(boots):
    log, tpot, _, _ = boots
    tpot["bfloat16"] = 70.0
    assert rehearsal_boots.measure_vllm(landscape_row).dtype == "float32"
    assert log[-8:] == ["boot bfloat16", "memory bfloat16", "cases bfloat16", "stop bfloat16",
                        "boot float32", "memory float32", "landscape float32", "stop float32"]  # fmt: skip


def test_a_bf16_boot_that_fails_is_a_failed_check_and_fp32_serves(boots):
    log, _, kept, choice_file = boots
    CountedServer.broken = ("bfloat16",)
    assert rehearsal_boots.measure_vllm(landscape_row).dtype == "float32"
    choice = dtype.cached_choice(EPYC, choice_file)
    assert choice.dtype == "float32" and "bf16 path failed" in choice.reason and "exited with code -4" in choice.reason
    assert "stop bfloat16" in log and log.count("boot float32") == 2 and kept["passes"] == ["float32"]


def test_an_earlier_choice_boots_once(boots):
    log, _, _, choice_file = boots
    dtype.record_choice(EPYC, [], choice_file)  # as on a CPU with no bf16 checks: fp32
    assert rehearsal_boots.measure_vllm(landscape_row).dtype == "float32"
    assert log == ["boot float32", "memory float32", "landscape float32", "stop float32"]
