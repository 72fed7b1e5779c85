"""Setup's vLLM measurements on as few boots as they need.

vLLM's CPU build takes 25 to 45 s to boot here. Setup needs it for the dtype
check (a boot per dtype), the runtime landscape's vLLM row and the memory
check's row, and notebook 04 needs the fixed cases in the dtype it does not
serve; booted for each, that was five boots. Here each dtype check's server,
while it is up, also gives

* the memory check's row: RSS after one request, taken before the check's load
  (:func:`helpers.serving.memory.memory_row_on`);
* the fixed cases, JSON enforced, that notebook 04 sets beside its served dtype
  (:func:`helpers.measured.dtype_evals.record_passes`);

and the server of the dtype the rule picks, booted last
(:data:`helpers.serving.dtype.CHECK_ORDER`), stays up for the landscape's row.
Two boots where bf16 wins, as on the course machine, and a third where fp32
wins; one where the choice was made earlier and is not measured again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from helpers.core.names import SMOLLM2
from helpers.evals import EvalRow
from helpers.machine.environment import read_cpuinfo
from helpers.measured.dtype_evals import constrained_rows, record_passes
from helpers.measured.runtime_results import RuntimeResult
from helpers.runtimes.client import ServingError
from helpers.serving import RehearsalServer
from helpers.serving.dtype import (
    DecodeCheck,
    cached_choice,
    checks_to_run,
    choice_key,
    choice_lock,
    decode_check_on,
    failed_check,
    record_choice,
)
from helpers.serving.memory import memory_row_on, record_row

#: The landscape's measurement on a server that is up, given its cold start: the row and the fixed cases' rows it ran.
EndpointMeasurement = Callable[[RehearsalServer, float], tuple[RuntimeResult, list[EvalRow]]]


def _boot(server: RehearsalServer, key: str) -> float:
    """Start ``server``, wait until it answers, keep its memory row; the seconds from start to ready (cold start)."""
    began = time.perf_counter()
    server.start().wait()
    cold_start_s = time.perf_counter() - began
    record_row(memory_row_on(server), key)
    return cold_start_s


def measure_vllm(endpoint: EndpointMeasurement) -> RuntimeResult:
    """The landscape's vLLM row, measured on the dtype check's boots where the check runs now (see the module's doc)."""
    cpuinfo = read_cpuinfo()
    key = choice_key(cpuinfo)
    result: RuntimeResult | None = None
    with choice_lock():
        choice = cached_choice(cpuinfo)
        order = () if choice else checks_to_run(cpuinfo)
        checks: list[DecodeCheck] = []
        for position, dtype in enumerate(order):
            server = RehearsalServer(dtype=dtype)
            try:
                cold_start_s = _boot(server, key)
                checks.append(decode_check_on(server))
                if position == len(order) - 1:
                    choice = record_choice(cpuinfo, checks)
                if choice and choice.dtype == dtype:
                    result, rows = endpoint(server, cold_start_s)
                else:
                    rows = constrained_rows(server)
                record_passes(SMOLLM2, dtype, rows, key)
            except ServingError as error:
                if len(checks) == position:  # the boot or the check failed: the rule reads that as a failed check
                    checks.append(failed_check(server, error))
                else:
                    raise
            finally:
                server.stop()
        if choice is None:  # no bf16 instructions (nothing to check), or the last check's boot failed
            choice = record_choice(cpuinfo, checks)
    if result is None:
        server = RehearsalServer(dtype=choice.dtype)
        try:
            result, _ = endpoint(server, _boot(server, key))
        finally:
            server.stop()
    return result
