"""The course's rule: from a project profile to two candidates, a claim and a fallback.

*Start with the smallest model and simplest runtime that proves the behaviour;
upgrade only on evidence.* :func:`choose` applies that rule to a
:class:`Profile` (the lesson's five fields, plus the task fit's must-haves and
nice-to-haves and the machine's RAM). It never recommends a model the
estimator says does not fit, it says which memory it compared against (RAM when
the model runs on a CPU, GPU memory otherwise), and it rejects every catalogue
model that lacks a must-have, giving that reason.

Writing the record, reading evidence and judging the upgrade signal live in
``helpers.decision.record``, ``helpers.decision.evidence`` and ``helpers.decision.verdict``.
"""

from helpers.decision.candidates import Candidate, best_dtype, estimate_for, instruct_models, lacks, smallest_covering
from helpers.decision.profile import (
    CLOUD_ALLOWED,
    DEFAULT_RAM_GB,
    DEFAULT_TASK,
    LESSON_EXAMPLE,
    LONG_CONTEXT_TOKENS,
    MIN_SERVING_VRAM_GB,
    NEEDS,
    PRIVACY_LEVELS,
    REJECTED_FOR_NOW,
    ROUTES,
    RUNTIME_NEEDS,
    SMALL_INSTRUCT_MAX_PARAMS,
    DecisionError,
    Profile,
    parse_profile,
)
from helpers.decision.rule import CLAIMS, CLAIMS_BY_ROUTE, Decision, Rejection, choose, fallback_runtime

__all__ = [
    "CLAIMS",
    "CLAIMS_BY_ROUTE",
    "CLOUD_ALLOWED",
    "DEFAULT_RAM_GB",
    "DEFAULT_TASK",
    "LESSON_EXAMPLE",
    "LONG_CONTEXT_TOKENS",
    "MIN_SERVING_VRAM_GB",
    "NEEDS",
    "PRIVACY_LEVELS",
    "REJECTED_FOR_NOW",
    "ROUTES",
    "RUNTIME_NEEDS",
    "SMALL_INSTRUCT_MAX_PARAMS",
    "Candidate",
    "Decision",
    "DecisionError",
    "Profile",
    "Rejection",
    "best_dtype",
    "choose",
    "estimate_for",
    "fallback_runtime",
    "instruct_models",
    "lacks",
    "parse_profile",
    "smallest_covering",
]
