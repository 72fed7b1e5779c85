"""The course's rule: from a profile to two candidates, a claim and a fallback, never past the estimator.

*Start with the smallest model and simplest runtime that proves the behaviour;
upgrade only on evidence.* :func:`choose` never recommends a model the estimator
says does not fit, says which memory it compared against (RAM when the model
runs on a CPU, GPU memory otherwise), and rejects every catalogue model that
lacks a must-have, giving that reason. *Upgrade only on evidence* needs a bar: :class:`Gate` reads it from
``data/eval_cases/gate.json`` (the pass share and the cases each must-have requires), beside the cases.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from helpers.catalogue.models import catalogue
from helpers.catalogue.runtimes import NO_RUNTIME_FALLBACK, RUNTIMES, plain_transformers
from helpers.core import names
from helpers.core.i18n import N_, _, sentences
from helpers.core.paths import EVAL_CASES, relative
from helpers.decision.candidates import Candidate, best_dtype, estimate_for, lacks, smallest_covering
from helpers.decision.profile import MIN_SERVING_VRAM_GB, SMALL_INSTRUCT_MAX_PARAMS, Profile
from helpers.evals import EvalSummary
from helpers.routes.cards import ROUTE_CARDS

GATE_FILE = EVAL_CASES / "gate.json"

#: The KV-cache length candidates are sized at, in tokens: each route card's own (``helpers.routes.cards``), capped
#: at a model's own window (tiny-gpt2's is 1,024). Rejections are sized at the same length as the choice.
CPU_CONTEXT_TOKENS = ROUTE_CARDS["local_cpu"].context_tokens
COLAB_CONTEXT_TOKENS = ROUTE_CARDS["free_colab"].context_tokens
SERVING_CONTEXT_TOKENS = ROUTE_CARDS["rented_gpu"].context_tokens

#: What each kind of first run can claim, as whole sentences.
CLAIMS = {
    "workflow": N_("This choice proves the workflow, not model quality."),
    "portable": N_("This choice proves a portable notebook run, not stable serving."),
    "portable_cpu": N_("This choice proves a portable notebook run on the CPU: not GPU speed, not model quality."),
    "serving": N_("This choice proves controlled serving, eval, latency and shutdown."),
    "gpu_first": N_("This choice proves the model answers on a GPU before paying for a service."),
    "not_ready": N_("The current hardware route is not ready: do not start GPU serving yet."),
    "nothing_fits": N_("Nothing in the catalogue fits this memory yet: use the fallback."),
}
CLAIMS_BY_ROUTE = {
    "local_cpu": ("workflow", "nothing_fits"),
    "free_colab": ("portable", "portable_cpu", "nothing_fits"),
    "rented_gpu": ("serving", "gpu_first", "not_ready", "nothing_fits"),
}
FALLBACKS = {  # translated when the decision says them, like the record's other sentences
    "cloud": N_(
        "a smaller model, a stronger quantization or a rented GPU; or a cloud model API, or RAG with the current API model, "
        "since this data may leave your machines"
    ),
    "private": N_(
        "a smaller model, a stronger quantization on llama.cpp, or a rented GPU you control; no cloud model API, because "
        "the data may not leave machines you control ({why})"
    ),
}
# --------------------------------------------------------------------------- the evidence bar (gate.json)


class GateError(ValueError):
    """A gate file that cannot be used; names the file and the problem."""


@dataclass(frozen=True)
class Gate:
    """The thresholds of ``gate.json``: the pass share and the cases each must-have requires."""

    pass_share: float
    required_cases: dict[str, tuple[str, ...]]

    def required_for(self, must_have: tuple[str, ...]) -> tuple[str, ...]:
        """The cases a run must pass for these must-haves, language and JSON cases first."""
        listed = [
            need for need in ("zh_en_answers", "stable_json", *must_have) if need in must_have and need in self.required_cases
        ]
        groups = listed or ["default"]
        return tuple(dict.fromkeys(case for need in groups for case in self.required_cases[need]))

    def passes(self, s: EvalSummary, required: tuple[str, ...]) -> bool:
        return s.cases > 0 and s.passed / s.cases >= self.pass_share and all(case in s.passed_cases for case in required)


def load_gate(path: Path | None = None, case_ids: tuple[str, ...] = ()) -> Gate:
    """Read the gate; a missing file, bad JSON or a case id no case file holds is a :class:`GateError`."""
    path = path or GATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        gate = Gate(float(data["pass_share"]), {k: tuple(v) for k, v in data["required_cases"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise GateError(
            f"{relative(path)} cannot be used ({error}); restore it from git (git checkout -- {relative(path)})."
        ) from None
    if not 0 < gate.pass_share <= 1 or "default" not in gate.required_cases:
        raise GateError(f"{relative(path)}: pass_share must be in (0, 1] and required_cases must have a 'default' list.")
    unknown = sorted({c for cases in gate.required_cases.values() for c in cases} - set(case_ids)) if case_ids else []
    if unknown:
        raise GateError(
            f"{relative(path)} requires cases no case file holds: {', '.join(unknown)}. Fix the ids or add the cases."
        )
    return gate


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class Rejection:
    """A model set aside, why, and the estimate the reason rests on (so a test can hold the two together)."""

    model: str
    reason: str
    estimate: Candidate | None = None


@dataclass(frozen=True)
class Decision:
    """The rule's answer: where to start, what comes next, what it may claim, and what is set aside.

    It also carries what it was decided with: the route's runtime (``runtime``, a
    key of the runtime table: llama.cpp on the CPU routes, whose first proof may
    still be tiny-gpt2 on Transformers), the memory every candidate was compared
    against and its kind, and the context length. The fit table, the record, the lesson views and the exercise
    read these instead of deciding them again.
    """

    profile: Profile
    claim_key: str
    candidate_1: Candidate | None
    candidate_2: Candidate | None
    start_gpu_serving: bool
    rejected: tuple[Rejection, ...]
    runtime: str
    memory_gb: float
    context_tokens: int

    @property
    def memory_kind(self) -> str:
        """RAM or GPU memory: the memory every fit of this decision was compared against."""
        return RUNTIMES[self.runtime].memory_kind

    @property
    def claim(self) -> str:
        return CLAIMS[self.claim_key]

    @property
    def fallback(self) -> str:
        """The lesson's fallback list, filtered by privacy: a cloud API only when the data may leave."""
        if self.profile.cloud_allowed:
            template = FALLBACKS["cloud"]
            return _(template)
        why = f"privacy {self.profile.privacy}" + (", private_docs must-have" if "private_docs" in self.profile.must_have else "")
        template = FALLBACKS["private"]
        return _(template).format(why=why)

    @property
    def fallback_runtime(self) -> str:
        return fallback_runtime(self.candidate_1)


def fallback_runtime(candidate: Candidate | None) -> str:
    """The runtime to fall back to from a candidate's runtime (the lesson's runtime fit)."""
    return RUNTIMES[candidate.estimator_runtime].fallback if candidate else NO_RUNTIME_FALLBACK


#: Why a catalogue model is set aside, in the order the rule checks: role, must-haves, memory, size. Said in the language
#: the decision is made in, like the record's other sentences.
REASONS = {
    "workflow": "random weights: it proves the workflow, never the task",
    "lacks": "lacks {need} ({why})",
    "no_fit": "does not fit: the estimator puts it at {need:.2f} GB ({dtype}, {runtime}) against {avail:g} GB of {kind}",
    "larger": "fits ({need:.2f} GB of {avail:g} GB of {kind}), but it is larger than needed until the fixed eval set shows a "
    "failure it would fix",
    "smaller": "smaller than the first candidate, which the must-haves and the route already justify",
    "no_dtype": "the catalogue offers it in no dtype {runtime} loads",
}
REASONS = sentences(REASONS)


def _reason(entry: dict, missing: list[tuple[str, str]], option: Candidate | None, start_params: int, runtime: str) -> str:
    if option is None:
        return REASONS["no_dtype"].format(runtime=_(RUNTIMES[runtime].name))
    numbers = {"need": option.need_gb, "dtype": option.dtype, "runtime": _(option.runtime), "avail": option.memory_available_gb,
               "kind": _(option.memory_kind)}  # fmt: skip
    if entry.get("role") == "workflow":
        return REASONS["workflow"]
    if missing:
        return "; ".join(REASONS["lacks"].format(need=need, why=why) for need, why in missing)
    if not option.fits:
        return REASONS["no_fit"].format(**numbers)
    return REASONS["larger"].format(**numbers) if option.estimate.parameters > start_params else REASONS["smaller"]


def _rejections(
    profile: Profile, chosen: tuple[Candidate | None, ...], runtime: str, memory_gb: float, context: int
) -> tuple[Rejection, ...]:
    """Why every other catalogue model is set aside: a missing must-have first, then memory, then size."""
    picked = {c.model for c in chosen if c}
    start_params = chosen[0].estimate.parameters if chosen[0] else 0
    plain = plain_transformers(runtime)
    found = []
    for entry in catalogue()["models"]:
        if entry["id"] in picked:
            continue
        option = best_dtype(entry["id"], runtime, context, memory_gb, profile.must_have) or best_dtype(
            entry["id"], plain, context, memory_gb, profile.must_have
        )
        reason = _reason(entry, lacks(entry["id"], profile.must_have), option, start_params, runtime)
        found.append(Rejection(entry["id"], reason, option))
    return tuple(found)


Choice = tuple[Candidate | None, Candidate | None, str, str, float, int]  # first, second, claim, runtime, memory, context


def _on_cpu(profile: Profile) -> Choice:
    """Local CPU (and Colab with no GPU): tiny-gpt2 proves the workflow; a small quantized model is next."""
    ram = profile.ram_gb
    tiny = estimate_for(names.TINY_GPT2, "fp32", "transformers-cpu", CPU_CONTEXT_TOKENS, ram, ())
    task_model = smallest_covering(profile, "llama.cpp", ram, CPU_CONTEXT_TOKENS)
    if profile.route == "free_colab":
        later = smallest_covering(
            profile, "transformers-cuda", 0.0, COLAB_CONTEXT_TOKENS, max_params=SMALL_INSTRUCT_MAX_PARAMS, must_fit=False
        )
        key = "portable_cpu" if tiny.fits else "nothing_fits"
        return (tiny if tiny.fits else None), later, key, "llama.cpp", ram, CPU_CONTEXT_TOKENS
    if tiny.fits:
        return (
            tiny,
            task_model or smallest_covering(profile, "llama.cpp", ram, CPU_CONTEXT_TOKENS, must_fit=False),
            "workflow",
            "llama.cpp",
            ram,
            CPU_CONTEXT_TOKENS,
        )
    larger = task_model.estimate.parameters if task_model else 0
    second = smallest_covering(profile, "vllm", MIN_SERVING_VRAM_GB, SERVING_CONTEXT_TOKENS, must_fit=False, larger_than=larger)
    return task_model, second, "workflow" if task_model else "nothing_fits", "llama.cpp", ram, CPU_CONTEXT_TOKENS


def _on_gpu(
    profile: Profile, runtime: str, context: int, max_params: float = math.inf
) -> tuple[Candidate | None, Candidate | None]:
    """The smallest covering model that fits the GPU, then the next larger one (fitting if one does)."""
    vram = profile.available_vram_gb
    first = smallest_covering(profile, runtime, vram, context, max_params=max_params)
    larger = first.estimate.parameters if first else 0
    second = smallest_covering(profile, runtime, vram, context, larger_than=larger) or smallest_covering(
        profile, runtime, vram, context, larger_than=larger, must_fit=False
    )
    return first, second


def _colab(profile: Profile) -> Choice:
    first, second = _on_gpu(profile, "transformers-cuda", COLAB_CONTEXT_TOKENS, SMALL_INSTRUCT_MAX_PARAMS)
    key = "portable" if first else "nothing_fits"
    return first, second, key, "transformers-cuda", profile.available_vram_gb, COLAB_CONTEXT_TOKENS


def _rented(profile: Profile) -> Choice:
    vram = profile.available_vram_gb
    if vram >= MIN_SERVING_VRAM_GB:
        runtime = "vllm" if profile.service_needed else "transformers-cuda"
        first, second = _on_gpu(profile, runtime, SERVING_CONTEXT_TOKENS)
        key = ("serving" if profile.service_needed else "gpu_first") if first else "nothing_fits"
        return first, second, key, runtime, vram, SERVING_CONTEXT_TOKENS
    runtime, memory = ("transformers-cuda", vram) if vram > 0 else ("llama.cpp", profile.ram_gb)
    first = smallest_covering(profile, runtime, memory, CPU_CONTEXT_TOKENS)
    larger = first.estimate.parameters if first else 0
    second = smallest_covering(profile, "vllm", MIN_SERVING_VRAM_GB, SERVING_CONTEXT_TOKENS, must_fit=False, larger_than=larger)
    return first, second, "not_ready" if first else "nothing_fits", runtime, memory, CPU_CONTEXT_TOKENS


def choose(profile: Profile) -> Decision:
    """Apply the course's rule to a profile. Every route of the lesson is covered."""
    if profile.route == "local_cpu" or (profile.route == "free_colab" and profile.available_vram_gb == 0):
        first, second, key, runtime, memory, context = _on_cpu(profile)
    elif profile.route == "free_colab":
        first, second, key, runtime, memory, context = _colab(profile)
    else:
        first, second, key, runtime, memory, context = _rented(profile)
    serving = profile.route == "rented_gpu" and profile.service_needed and key == "serving"
    rejected = _rejections(profile, (first, second), runtime, memory, context)
    return Decision(profile, key, first, second, serving, rejected, runtime, memory, context)
