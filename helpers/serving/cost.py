"""What serving costs, from what was measured: the SLO capacity, priced at the hardware it ran on.

Rules this module keeps:

* A measurement is priced only at the hourly price of the hardware it was
  measured on, as the learner gives it. CPU throughput is never priced at a GPU rate.
* Figures for other GPUs are **estimates**: the measured GPU's throughput scaled
  by the memory-bandwidth ratio from ``data/model_catalogue.json`` (decode is
  bandwidth-bound on a GPU). They are kept apart from the measurement, and none
  is derived from a CPU run, where that ratio would be a guess.
* Replicas and monthly cost for a target QPS follow the lesson's
  ``estimate_deployment_cost``, fed with measured capacity instead of a guessed throughput.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from helpers.catalogue.models import catalogue
from helpers.core.i18n import N_, _
from helpers.runtimes.client import ServingError
from helpers.serving.capacity import Capacity
from helpers.serving.metrics import Level

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
    measured_on: str
    device: str
    hourly_usd: float
    basis: str
    output_tokens_per_s: float | None
    usd_per_million_output_tokens: float | None
    boot_s: float
    boot_usd: float
    idle_s: float
    idle_usd: float
    deployment: DeploymentPlan | None = None
    estimates: list[GpuEstimate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CostNote:
        data = dict(data)
        data["deployment"] = DeploymentPlan(**data["deployment"]) if data.get("deployment") else None
        data["estimates"] = [GpuEstimate(**e) for e in data.get("estimates", [])]
        return cls(**data)


def _gpu_estimates(measured_gpu: str, tokens_per_s: float) -> tuple[list[GpuEstimate], str | None]:
    gpus = {g["name"]: g for g in catalogue()["gpus"]}
    match = next((name for name in gpus if name.lower() in measured_gpu.lower() or measured_gpu.lower() in name.lower()), None)
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


def _priced_rate(capacity: Capacity | None, levels: list[Level]) -> tuple[str, float | None, list[str]]:
    """What is priced (the SLO capacity, a lower bound of it, or the best measured level), its output tokens/s, and caveats."""
    if capacity is not None and capacity.found:
        basis = _("SLO capacity ({rate:g} req/s)").format(rate=capacity.max_request_rate)
        return basis, capacity.output_tokens_per_s_at_capacity, []
    if capacity is not None and capacity.lower_bound:
        basis = _("SLO capacity of at least {rate:g} req/s (the search stopped early: {status})").format(
            rate=capacity.max_request_rate, status=capacity.status
        )
        caveat = _(
            "a lower bound: the server may serve more within the SLO, so the price per token and the replica "
            "count are upper bounds"
        )
        return basis, capacity.output_tokens_per_s_at_capacity, [caveat]
    valid = [lv for lv in levels if lv.valid and lv.completed]
    if not valid:
        raise ServingError("Nothing to price: no benchmark level completed a request.")
    best = max(valid, key=lambda lv: lv.output_throughput)
    basis = _("best measured level ({load}); no SLO capacity was found").format(load=best.load)
    caveat = _("priced at peak throughput, not at an SLO: latency at that load may be more than users accept")
    return basis, best.output_throughput, [caveat]


def _other_gpus(device: str, measured_on: str, rate: float | None) -> tuple[list[GpuEstimate], list[str]]:
    """Bandwidth-ratio estimates for other GPUs, from a GPU measurement only; the note that says why there are none."""
    if device == "gpu":
        estimates, why_not = _gpu_estimates(measured_on, rate)
        return estimates, [why_not] if why_not else []
    why_not = _(
        "measured on a CPU ({machine}) and priced at that machine's price only; no GPU figure is derived "
        "from it, because a bandwidth ratio from CPU cores to a GPU would be a guess. Point this notebook at "
        "your GPU to measure one."
    ).format(machine=measured_on)
    return [], [why_not]


def cost_note(
    *,
    measured_on: str,
    device: str,
    hourly_usd: float,
    capacity: Capacity | None,
    levels: list[Level],
    boot_s: float,
    idle_s: float,
    target_qps: float | None = None,
    gpus_per_replica: int = 1,
) -> CostNote:
    """Price the SLO capacity (or, without one, the best measured level, said so) at the measured hardware's price.

    ``device`` is ``"cpu"`` or ``"gpu"``; ``measured_on`` names the hardware (for a GPU, its catalogue name).
    """
    if device not in ("cpu", "gpu"):
        raise ServingError(_("device must be 'cpu' or 'gpu'; got {value}.").format(value=repr(device)))
    price = check_price(hourly_usd)
    basis, rate, notes = _priced_rate(capacity, levels)
    plan = None
    if target_qps is not None:
        if capacity is not None and (capacity.found or capacity.lower_bound):
            plan = deployment_plan(target_qps, capacity.max_request_rate, price, gpus_per_replica)
        else:
            notes.append(_("no replica plan: it needs a measured SLO capacity"))
    estimates, why_not = _other_gpus(device, measured_on, rate)
    per_second = price / 3600
    return CostNote(
        measured_on,
        device,
        price,
        basis,
        rate,
        usd_per_million_tokens(price, rate) if rate else None,
        round(boot_s, 1),
        round(boot_s * per_second, 4),
        round(idle_s, 1),
        round(idle_s * per_second, 4),
        plan,
        estimates,
        notes + why_not,
    )
