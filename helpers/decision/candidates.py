"""Candidates: what a catalogue model covers, and its estimate on one runtime against one memory.

The rule (:mod:`helpers.decision.rule`) asks these questions of every
catalogue model: which must-haves does it lack, in the catalogue's words, and
at which dtype does it fit this runtime's memory at this context length. A
:class:`Candidate` keeps the estimate beside the memory it was compared with,
so every reader says the same "fits" for the same numbers.

Offline, a candidate may run as its shelf sibling (the lesson's Qwen2.5-0.5B-Instruct as Qwen2.5-Coder-0.5B-Instruct):
:func:`sibling_name` names such a model as it ran, and :func:`absent` says truly why the rule names no candidate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from helpers.catalogue.models import candidate, candidate_shape, catalogue
from helpers.catalogue.runtimes import RUNTIMES
from helpers.core.i18n import N_, _, sentences
from helpers.core.paths import relative
from helpers.decision.profile import LONG_CONTEXT_TOKENS, RUNTIME_NEEDS, Profile
from helpers.fits import estimator
from helpers.shelf.manifest import MANIFEST
from helpers.shelf.models import SHELF_ENTRIES, ShelfEntry, stand_in
from helpers.shelf.parts import QWEN_CODER_GGUF

LACKS = sentences(
    {
        "context": "its context is {context:,} tokens, below {needed:,}",
        "licence": "its licence ({license}) does not plainly allow it: {note}",
        "unlisted": "the catalogue does not list it",
    }
)


def lacks(model: str, needs: tuple[str, ...]) -> list[tuple[str, str]]:
    """The needs a catalogue model does not cover, each with the catalogue's reason, in the current language.

    The catalogue's notes are English in ``data/model_catalogue.json``; ``babel.cfg`` extracts them, so ``_()`` reads
    each in the language a notebook speaks.
    """
    entry = candidate(model)
    licence_note, capability_note = entry["license_note"], entry.get("capability_note")  # English data, read through _()
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
                missing.append((need, LACKS["licence"].format(license=entry["license"], note=_(licence_note))))
        elif need not in entry.get("capabilities", []):
            missing.append((need, _(capability_note) if capability_note else LACKS["unlisted"]))
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


#: How a model that ran in another's place is named wherever a learner reads its evidence.
NAMES = sentences(
    {
        "sibling": "{model} ({form}, offline sibling of the lesson's {lesson})",
        "gguf": "{quant} GGUF",
        "folder": "dequantised from the {quant} GGUF",
        "online_gguf": "llama.cpp runs this shelf file online too, while online Transformers and vLLM run the lesson's own "
        "{lesson} instead",
        "online_hub": "online, the lesson's own {lesson} runs instead",
        "counts_for": "Rows of {model} are the offline sibling of the lesson's {lesson} (from the shelf's {quant} GGUF): they "
        "count for it, not for {lesson_id}.",
    }
)


def short(model: str) -> str:
    return model.split("/")[-1]


def shelf_file(model: str, runtime: str) -> ShelfEntry | None:
    """The shelf entry whose file ``runtime`` runs for ``model``: llama.cpp the GGUF, the others the converted folder."""
    entry = SHELF_ENTRIES.get(model)
    if entry is not None and runtime == "llama.cpp":
        return SHELF_ENTRIES.get(entry.derived_from) if entry.derived_from else None
    return entry


def shelf_quant(model: str) -> str | None:
    """The quantization of the shelf GGUF llama.cpp runs for ``model`` (``q4_k_m``), from its file name; ``None`` if none."""
    entry = SHELF_ENTRIES.get(model) or stand_in(model)
    gguf = shelf_file(entry.name, "llama.cpp") if entry else None
    return gguf.name.rsplit(".", 2)[-2].lower() if gguf else None


def sibling_name(model: str, runtime: str) -> str | None:
    """``model`` as a learner reads it when it is a shelf sibling standing in for the lesson's model; ``None`` otherwise."""
    entry = SHELF_ENTRIES.get(model)
    if entry is None or entry.stands_in_for is None:
        return None
    quant = (shelf_quant(model) or "").upper()
    form = NAMES["gguf" if runtime == "llama.cpp" else "folder"].format(quant=quant)
    return NAMES["sibling"].format(model=short(model), form=form, lesson=short(entry.stands_in_for))


def online_note(model: str, runtime: str) -> str:
    """What runs online instead of the sibling ``model``: llama.cpp keeps the shelf file, the hub runtimes load the lesson's."""
    lesson = SHELF_ENTRIES[model].stands_in_for
    return NAMES["online_gguf" if runtime == "llama.cpp" else "online_hub"].format(lesson=lesson)


#: SHA-256 digests setup checks a file against before it goes on the shelf (files joined from parts).
PINNED = {QWEN_CODER_GGUF.name: QWEN_CODER_GGUF.sha256}


def model_version(model: str, runtime: str) -> tuple[str, str] | None:
    """The SHA-256 of the weights file this machine ran for ``model`` (from the shelf manifest), and that file.

    llama.cpp runs the GGUF; the other runtimes the converted folder. ``None``
    when the model is not on the shelf: online, record the hub revision instead.
    """
    entry = shelf_file(model, runtime)
    manifest = entry.path / MANIFEST if entry else None
    if manifest is None or not manifest.is_file():
        return None
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    weights = next((n for n in files if n.endswith((".safetensors", ".gguf")) and "vocab" not in n), None)
    return (files[weights]["sha256"], relative(entry.path / weights)) if weights else None


def pinned(version: tuple[str, str]) -> bool:
    """Whether a model version's digest is the one setup pins for that file (so it was checked, not only recorded)."""
    return PINNED.get(Path(version[1]).name) == version[0]


def counts_for(model: str) -> str | None:
    """For a shelf sibling's rows: whose evidence they are (its own, not the lesson's model's); ``None`` for other models."""
    entry = SHELF_ENTRIES.get(model)
    if entry is None or entry.stands_in_for is None:
        return None
    lesson = entry.stands_in_for
    quant = (shelf_quant(model) or "").upper()
    return NAMES["counts_for"].format(model=short(model), lesson=short(lesson), quant=quant, lesson_id=lesson)


#: Why the rule names no candidate, in words true of the profile: with no must-have given, every model covers them.
ABSENT = {
    "none_covers": N_("none in the catalogue covers {needs}"),
    "none_fits": N_("none in the catalogue that covers {needs} fits {avail:g} GB of {kind}"),
    "none_fits_any": N_("no catalogue model fits {avail:g} GB of {kind}"),
    "none_larger_covers": N_("no catalogue model larger than candidate_1 covers {needs}"),
    "none_larger": N_("no catalogue model is larger than candidate_1"),
    "no_dtype": N_("no catalogue model is offered in a dtype this route's runtime loads"),
}


def absent(which: str, must_have: tuple[str, ...], avail: float, kind: str, has_first: bool) -> str:
    """Why ``which`` (``candidate_1`` or ``candidate_2``) is empty, for these must-haves and this memory."""
    needs = ", ".join(must_have)
    covered = any(not lacks(model, must_have) for model in instruct_models())
    if which == "candidate_1":
        key = "none_covers" if not covered else ("none_fits" if must_have else "none_fits_any")
    elif has_first:
        key = "none_larger_covers" if must_have else "none_larger"
    else:
        key = "none_covers" if must_have else "no_dtype"
    return _(ABSENT[key]).format(needs=needs, avail=avail, kind=_(kind))


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
