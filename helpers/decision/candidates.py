"""Candidates: what a catalogue model covers, and its estimate on one runtime against one memory.

The rule (:mod:`helpers.decision.rule`) asks these questions of every
catalogue model: which must-haves does it lack, in the catalogue's words, and
at which dtype does it fit this runtime's memory at this context length. A
:class:`Candidate` keeps the estimate beside the memory it was compared with,
so every reader says the same "fits" for the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from helpers.catalogue.models import candidate, candidate_shape, catalogue
from helpers.catalogue.runtimes import RUNTIMES
from helpers.decision.profile import LONG_CONTEXT_TOKENS, RUNTIME_NEEDS, Profile
from helpers.fits import estimator

LACKS = {
    "context": "its context is {context:,} tokens, below {needed:,}",
    "licence": "its licence ({license}) does not plainly allow it: {note}",
    "unlisted": "the catalogue does not list it",
}


def lacks(model: str, needs: tuple[str, ...]) -> list[tuple[str, str]]:
    """The needs a catalogue model does not cover, each with the catalogue's reason."""
    entry = candidate(model)
    missing = []
    for need in needs:
        if need in RUNTIME_NEEDS:
            continue
        if need == "long_context":
            context = candidate_shape(model).context_length
            if context < LONG_CONTEXT_TOKENS:
                missing.append((need, LACKS["context"].format(context=context, needed=LONG_CONTEXT_TOKENS)))
        elif need == "commercial_use":
            if entry.get("commercial_use") != "yes":
                missing.append((need, LACKS["licence"].format(license=entry["license"], note=entry["license_note"])))
        elif need not in entry.get("capabilities", []):
            missing.append((need, entry.get("capability_note", LACKS["unlisted"])))
    return missing


@dataclass(frozen=True)
class Candidate:
    """One model on one runtime, with the estimator's numbers and the memory they were compared against."""

    model: str
    dtype: str
    estimator_runtime: str
    context_tokens: int
    memory_kind: str
    memory_available_gb: float
    estimate: estimator.Estimate
    lacks: tuple[tuple[str, str], ...]

    @property
    def runtime(self) -> str:
        return RUNTIMES[self.estimator_runtime].name

    @property
    def need_gb(self) -> float:
        return self.estimate.total_bytes / estimator.GB

    @property
    def fits(self) -> bool:
        return self.estimate.total_bytes <= self.memory_available_gb * estimator.GB

    @property
    def workflow_only(self) -> bool:
        return candidate(self.model).get("role") == "workflow"


def estimate_for(
    model: str, dtype: str, runtime: str, context_tokens: int, memory_gb: float, needs: tuple[str, ...]
) -> Candidate:
    shape = candidate_shape(model)
    tokens = min(context_tokens, shape.context_length)
    est = estimator.estimate(shape, dtype, runtime=runtime, context_tokens=tokens)
    kind = RUNTIMES[runtime].memory_kind
    return Candidate(model, dtype, runtime, tokens, kind, memory_gb, est, tuple(lacks(model, needs)))


def best_dtype(model: str, runtime: str, context_tokens: int, memory_gb: float, needs: tuple[str, ...]) -> Candidate | None:
    """The model at the first dtype its runtime loads; the first that fits, else the smallest need."""
    offered = [d for d in RUNTIMES[runtime].dtypes if d in candidate(model)["dtypes"]]
    options = [estimate_for(model, d, runtime, context_tokens, memory_gb, needs) for d in offered]
    if not options:
        return None
    return next((c for c in options if c.fits), min(options, key=lambda c: c.need_gb))


def instruct_models() -> list[str]:
    """Catalogue instruct models, smallest first."""
    models = [e["id"] for e in catalogue()["models"] if e.get("role") != "workflow"]
    return sorted(models, key=lambda m: estimator.parameter_count(candidate_shape(m)))


def smallest_covering(
    profile: Profile,
    runtime: str,
    memory_gb: float,
    context_tokens: int,
    *,
    larger_than: int = 0,
    max_params: float = math.inf,
    must_fit: bool = True,
) -> Candidate | None:
    """The smallest instruct model that covers every must-have (and fits, when ``must_fit``)."""
    for model in instruct_models():
        params = estimator.parameter_count(candidate_shape(model))
        if params <= larger_than or params > max_params or lacks(model, profile.must_have):
            continue
        option = best_dtype(model, runtime, context_tokens, memory_gb, profile.must_have)
        if option and (option.fits or not must_fit):
            return option
    return None
