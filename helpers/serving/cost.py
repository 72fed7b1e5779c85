"""What serving costs, from what was measured: the confirmed SLO capacity, priced at the hardware it ran on.

Rules this module keeps:

* A measurement is priced only at the hourly price of the hardware it was
  measured on, and that hardware is what :func:`helpers.serving.origin.served_by`
  found, not what a parameter says: a server on this CPU is priced at the CPU's
  price, a tunnel to a host whose hardware is unknown is not priced at all, and a
  GPU only at the price given for that GPU.
* Only a **confirmed** capacity (every trial met the SLO, see
  :mod:`helpers.serving.capacity`) is priced; without one there is no price per
  token, and the note says why. Peak throughput outside the SLO is never priced.
* Figures for other GPUs are **estimates**: the measured GPU's throughput scaled
  by the memory-bandwidth ratio from ``data/model_catalogue.json`` (decode is
  bandwidth-bound on a GPU). They are kept apart from the measurement, and none
  is derived from a CPU run, where that ratio would be a guess.
* Replicas and monthly cost for a target QPS follow the lesson's
  ``estimate_deployment_cost``, fed with measured capacity instead of a guessed throughput.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

from helpers.catalogue.models import catalogue
from helpers.core.i18n import N_, _
from helpers.runtimes.client import ServingError
from helpers.serving.capacity import Capacity
from helpers.serving.origin import Origin

HOURS_PER_MONTH = 24 * 30


def check_price(hourly_usd: float, what: str = N_("hourly price")) -> float:
    if not isinstance(hourly_usd, (int, float)) or not math.isfinite(hourly_usd) or hourly_usd <= 0:
        raise ServingError(
            _(
                "The {what} must be a positive number of US dollars per hour; got {value}. "
                "Use your provider's price for the machine you measured on."
            ).format(what=_(what), value=repr(hourly_usd))
        )
    return float(hourly_usd)


def usd_per_million_tokens(hourly_usd: float, tokens_per_s: float) -> float | None:
    """Dollars per 1M output tokens: the hourly price over the tokens produced in an hour."""
    return round(hourly_usd / 3600 / tokens_per_s * 1e6, 2) if tokens_per_s > 0 else None


@dataclass
class DeploymentPlan:
    """Replicas for a target QPS from measured capacity (the seed's structure, measured input)."""

    target_qps: float
    capacity_rps_per_replica: float
    replicas: int
    gpus_per_replica: int
    monthly_usd: float


def deployment_plan(
    target_qps: float, capacity_rps: float, hourly_usd_per_gpu: float, gpus_per_replica: int = 1
) -> DeploymentPlan:
    if target_qps <= 0:
        raise ServingError(_("target_qps must be positive; got {value}.").format(value=repr(target_qps)))
    if capacity_rps <= 0:
        raise ServingError(_("No measured capacity to size replicas from: run the capacity search first."))
    replicas = math.ceil(target_qps / capacity_rps)
    monthly = replicas * gpus_per_replica * check_price(hourly_usd_per_gpu) * HOURS_PER_MONTH
    return DeploymentPlan(target_qps, capacity_rps, replicas, gpus_per_replica, round(monthly, 2))


@dataclass
class GpuEstimate:
    """Another GPU's figure, scaled from a GPU measurement by the bandwidth ratio: an estimate, labelled so."""

    gpu: str
    bandwidth_ratio: float
    output_tokens_per_s: float
    example_usd_per_hour: float
    usd_per_million_output_tokens: float | None
    label: str = "estimate (bandwidth ratio), not measured"


@dataclass
class CostNote:
    """The price of what was measured; every USD figure is ``None`` where the hardware or a confirmed capacity is lacking."""

    measured_on: str
    device: str | None
    hourly_usd: float | None
    price_source: str
    basis: str
    output_tokens_per_s: float | None
    usd_per_million_output_tokens: float | None
    boot_s: float
    boot_usd: float | None
    idle_s: float
    idle_usd: float | None
    deployment: DeploymentPlan | None = None
    estimates: list[GpuEstimate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    origin: Origin | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CostNote:
        data = dict(data)
        data["deployment"] = DeploymentPlan(**data["deployment"]) if data.get("deployment") else None
        data["estimates"] = [GpuEstimate(**e) for e in data.get("estimates", [])]
        data["origin"] = Origin.from_json(data["origin"]) if data.get("origin") else None
        return cls(**data)


def _words(name: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", name.lower()))


def catalogue_gpu(name: str) -> str | None:
    """The catalogue's name for the GPU ``name`` names, word by word ("NVIDIA A100-SXM4-80GB" is "A100 80GB", and
    "NVIDIA L40S" is not "L4"); ``None`` when it lists no such GPU."""
    given = _words(name)
    names = [g["name"] for g in catalogue()["gpus"]]
    return next((known for known in names if given and (_words(known) <= given or given <= _words(known))), None)


def _gpu_estimates(measured_gpu: str, tokens_per_s: float) -> tuple[list[GpuEstimate], str | None]:
    gpus = {g["name"]: g for g in catalogue()["gpus"]}
    match = catalogue_gpu(measured_gpu)
    if match is None:
        return [], f"no estimates for other GPUs: {measured_gpu!r} is not in the catalogue's GPU list ({', '.join(gpus)})"
    base = gpus[match]["bandwidth_gb_s"]
    rows = []
    for name, gpu in gpus.items():
        if name == match:
            continue
        ratio = gpu["bandwidth_gb_s"] / base
        rate = round(tokens_per_s * ratio, 2)
        rows.append(
            GpuEstimate(
                name,
                round(ratio, 3),
                rate,
                gpu["example_usd_per_hour"],
                usd_per_million_tokens(gpu["example_usd_per_hour"], rate),
            )
        )
    return rows, None


def hourly_price(origin: Origin, *, cpu_hourly_usd: float, gpu_name: str, gpu_hourly_usd: float) -> tuple[float | None, str]:
    """The price per hour of the machine ``origin`` found, and why; ``None`` when no given price is that machine's."""
    if not origin.known:
        return None, _("not priced: {reason}").format(reason=origin.reason)
    if origin.device == "cpu":
        return check_price(cpu_hourly_usd, N_("CPU hourly price")), _("cpu_hourly_usd, the price given for this machine")
    measured, given = catalogue_gpu(origin.hardware), catalogue_gpu(gpu_name)
    if measured is None or measured != given:
        why = _(
            "not priced: the requests were served by {hardware}, and gpu_hourly_usd is the price given for {gpu}; "
            "set gpu_name and gpu_hourly_usd to the GPU that served them"
        )
        return None, why.format(hardware=origin.hardware, gpu=gpu_name)
    return check_price(gpu_hourly_usd), _("gpu_hourly_usd, the price given for {gpu}").format(gpu=gpu_name)


def _priced_rate(capacity: Capacity | None) -> tuple[str, float | None, list[str]]:
    """What is priced (the confirmed SLO capacity, or a confirmed lower bound of it), its output tokens/s, and caveats."""
    if capacity is not None and capacity.found:
        basis = _("SLO capacity confirmed on every trial ({rate:g} req/s)").format(rate=capacity.max_request_rate)
        return basis, capacity.output_tokens_per_s_at_capacity, []
    if capacity is not None and capacity.lower_bound:
        basis = _(
            "SLO capacity of at least {rate:g} req/s, confirmed on every trial (the search stopped early: {status})"
        ).format(rate=capacity.max_request_rate, status=capacity.status)
        caveat = _(
            "a lower bound: the server may serve more within the SLO, so the price per token and the replica "
            "count are upper bounds"
        )
        return basis, capacity.output_tokens_per_s_at_capacity, [caveat]
    if capacity is None:
        return _("no price per token: no capacity search ran"), None, []
    why = _("no price per token: no capacity was confirmed ({status}: {note})").format(status=capacity.status, note=capacity.note)
    return why, None, []


def _other_gpus(origin: Origin, rate: float | None) -> tuple[list[GpuEstimate], list[str]]:
    """Bandwidth-ratio estimates for other GPUs, from a priced GPU measurement only; the note that says why there are none."""
    if origin.device == "gpu" and origin.hardware and rate:
        estimates, why_not = _gpu_estimates(origin.hardware, rate)
        return estimates, [why_not] if why_not else []
    if origin.device == "cpu":
        why_not = _(
            "measured on a CPU ({machine}) and priced at that machine's price only; no GPU figure is derived "
            "from it, because a bandwidth ratio from CPU cores to a GPU would be a guess. Point this notebook at "
            "your GPU to measure one."
        ).format(machine=origin.hardware)
        return [], [why_not]
    return [], []


def cost_note(
    *,
    origin: Origin,
    cpu_hourly_usd: float,
    gpu_name: str,
    gpu_hourly_usd: float,
    capacity: Capacity | None,
    boot_s: float,
    idle_s: float,
    target_qps: float | None = None,
    gpus_per_replica: int = 1,
) -> CostNote:
    """Price the confirmed SLO capacity at the hourly price of the machine that served it (see :func:`hourly_price`).

    Where that machine's price is not known, nothing is priced, and the notes say why.
    """
    price, price_source = hourly_price(origin, cpu_hourly_usd=cpu_hourly_usd, gpu_name=gpu_name, gpu_hourly_usd=gpu_hourly_usd)
    basis, rate, notes = _priced_rate(capacity)
    plan = None
    if price is None:
        notes.append(price_source)
    elif target_qps is not None:
        if capacity is not None and (capacity.found or capacity.lower_bound):
            plan = deployment_plan(target_qps, capacity.max_request_rate, price, gpus_per_replica)
        else:
            notes.append(_("no replica plan: it needs a confirmed SLO capacity"))
    estimates, why_not = _other_gpus(origin, rate if price is not None else None)
    per_second = price / 3600 if price is not None else None
    return CostNote(
        origin.hardware or _("unknown hardware"),
        origin.device,
        price,
        price_source,
        basis,
        rate,
        usd_per_million_tokens(price, rate) if price is not None and rate else None,
        round(boot_s, 1),
        round(boot_s * per_second, 4) if per_second is not None else None,
        round(idle_s, 1),
        round(idle_s * per_second, 4) if per_second is not None else None,
        plan,
        estimates,
        notes + why_not,
        origin,
    )
