"""The lesson's exercise: a learner's three-sentence decision paragraph, checked by rules.

The lesson ends with one paragraph to write ("For this project, I will start
with _ using _ because _. I will not use a larger model yet because _. I will
switch only if the fixed eval set shows _."). :func:`check` reads it against the
learner's decision (the rule and the estimator), the gate's fixed cases and,
when given, the evidence in ``outputs/``, its verdict and the five evidence items
of the learner's own record. A figure the paragraph cites (a pass count, a GB
figure, a tok/s, a case id) must match a row the kit wrote, or the note names
the row it should have cited (:mod:`helpers.decision.exercise.claims`); a
keyword without its claim earns nothing. Each finding is a specific sentence,
and the lesson's pass criterion comes back as a checklist. It is deterministic:
rules, the estimator and the files, no model.

The paragraph may be written in English, Chinese or Japanese: each language has
its own shape of the three sentences and the word lists in :mod:`helpers.decision.exercise.languages`
know each language's words for evidence, failures and stopping, so the checks
are the same. The feedback comes in the language the paragraph is written in; an
English paragraph gets it in the notebook's language (:func:`helpers.core.i18n.current`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers.catalogue.models import catalogue
from helpers.catalogue.runtimes import GPU_MEMORY, LEARNER_WORDS, RUNTIMES, plain_transformers, runtime_for_word
from helpers.core.i18n import SOURCE_LANGUAGE, _, current, speaking
from helpers.decision import Decision, best_dtype
from helpers.decision.evidence import Evidence
from helpers.decision.exercise.claims import (
    RecordItem,
    because_notes,
    not_larger_notes,
    record_notes,
    states_a_stop,
    switch_notes,
)
from helpers.decision.exercise.feedback import Feedback, Note
from helpers.decision.exercise.languages import (
    CASE_WORDS,
    SHAPES,
    STRONG_ANSWERS,
    STUFFED_ANSWERS,
    TEMPLATES,
    WEAK_ANSWERS,
    WORKFLOW_WORDS,
    language_of,
)
from helpers.decision.exercise.rows import evidence_rows
from helpers.decision.exercise.text import CHECKLIST, SAY
from helpers.decision.verdict import MET, Gate, Verdict

__all__ = ["SAY", "CHECKLIST", "ExerciseError", "Feedback", "Note", "Parts", "RecordItem", "check", "parse", "reply_language"]

#: The worked example: the lesson's project on a rented GPU with 8 GB and no service, answered well and badly.
WORKED_PROFILE = {
    "task": "support-operations SOP assistant",
    "route": "rented_gpu",
    "available_vram_gb": 8.0,
    "must_have": ("private_docs", "zh_en_answers", "stable_json"),
}


def __getattr__(name: str) -> str:
    """``STRONG_ANSWER``/``WEAK_ANSWER``/``STUFFED_ANSWER`` in the current language, so notebook 07's code cells show each
    edition's own."""
    answers = {"STRONG_ANSWER": STRONG_ANSWERS, "WEAK_ANSWER": WEAK_ANSWERS, "STUFFED_ANSWER": STUFFED_ANSWERS}.get(name)
    if answers is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return answers[current()]


def reply_language(text: str) -> str:
    """The language feedback comes in: the paragraph's, or the notebook's for an English paragraph."""
    lang = language_of(text)
    return current() if lang == SOURCE_LANGUAGE else lang


class ExerciseError(ValueError):
    """A paragraph the checker cannot read yet (empty, the template, or not the lesson's three sentences)."""


@dataclass(frozen=True)
class Parts:
    model: str
    runtime: str
    because: str
    not_larger: str
    switch: str
    lang: str = SOURCE_LANGUAGE


def parse(paragraph: str) -> Parts:
    """The five blanks of the lesson's paragraph, or :class:`ExerciseError` saying what to do."""
    text = " ".join((paragraph or "").split())
    lang = language_of(text)
    with speaking(reply_language(text)) as reply:
        if not text:
            raise ExerciseError(SAY["empty"].format(template=TEMPLATES[reply]))
        if "___" in text:
            raise ExerciseError(SAY["template"])
        found = SHAPES[lang].search(text)
        if not found:
            raise ExerciseError(SAY["shape"].format(template=TEMPLATES[reply]))
    return Parts(*(found.group(k).strip() for k in ("model", "runtime", "because", "not_larger", "switch")), lang=lang)


def find_model(text: str) -> str | None:
    """The catalogue model a blank names, by id or by its name after the slash."""
    lowered = text.lower()
    for entry in sorted(catalogue()["models"], key=lambda e: -len(e["id"])):
        if entry["id"].lower() in lowered or entry["id"].split("/")[-1].lower() in lowered:
            return entry["id"]
    return None


def find_runtime(text: str) -> str | None:
    lowered = text.lower()
    return next((word for word in LEARNER_WORDS if word in lowered), None)


def _model_notes(parts: Parts, decision: Decision, runtime_word: str | None) -> list[Note]:
    profile = decision.profile
    model = find_model(parts.model)
    if model is None:
        known = ", ".join(e["id"] for e in catalogue()["models"])
        return [Note(False, SAY["model_unknown"].format(text=parts.model, known=known))]
    runtime = runtime_for_word(runtime_word, on_gpu=decision.memory_kind == GPU_MEMORY)
    if RUNTIMES[runtime].memory_kind == decision.memory_kind:
        memory = decision.memory_gb
    else:  # the learner named a runtime on the other device: its memory is the profile's other one
        memory = profile.ram_gb if RUNTIMES[runtime].on_cpu else profile.available_vram_gb
    context = decision.context_tokens
    option = best_dtype(model, runtime, context, memory, profile.must_have) or best_dtype(
        model, plain_transformers(runtime), context, memory, ()
    )
    if option is None:
        return [Note(False, SAY["no_dtype"].format(model=model, runtime=_(RUNTIMES[runtime].name)))]
    notes = []
    if not option.fits:
        notes.append(
            Note(
                False,
                SAY["no_fit"].format(
                    model=model,
                    avail=memory,
                    kind=_(option.memory_kind),
                    need=option.need_gb,
                    dtype=option.dtype,
                    runtime=_(option.runtime),
                ),
            )
        )
    else:
        notes.append(
            Note(True, SAY["model_ok"].format(model=model, need=option.need_gb, kind=_(option.memory_kind), avail=memory))
        )
    if option.workflow_only:
        said = WORKFLOW_WORDS.search(parts.because + parts.not_larger)
        notes.append(Note(bool(said), SAY["workflow"].format(model=model)))
    else:
        notes += [Note(False, SAY["lacks"].format(model=model, need=need, why=why)) for need, why in option.lacks]
    return notes


def _runtime_notes(runtime_word: str | None, decision: Decision) -> list[Note]:
    if runtime_word is None:
        return [Note(False, SAY["runtime_none"])]
    key = LEARNER_WORDS[runtime_word][1]
    server = key is not None and RUNTIMES[key].serves
    name = LEARNER_WORDS[runtime_word][0]
    if server and not decision.profile.service_needed:
        return [Note(False, SAY["no_service"].format(runtime=name))]
    if decision.profile.service_needed and not server:
        return [Note(False, SAY["needs_server"].format(runtime=name))]
    return [Note(True, SAY["runtime_ok"].format(runtime=name))]


def _switch_notes(parts: Parts, gate: Gate, case_ids: tuple[str, ...], decision: Decision) -> list[Note]:
    lowered = parts.switch.lower()
    named = [case for case in case_ids if case in lowered] or [word.rstrip("-") for word in CASE_WORDS if word in lowered]
    required = gate.required_for(decision.profile.must_have)
    notes = [
        Note(bool(named), SAY["case_ok"].format(cases=", ".join(named)) if named else SAY["no_case"].format(example=required[0]))
    ]
    return notes + switch_notes(parts.switch, named, case_ids)


def _runtimes(decision: Decision, runtime_word: str | None) -> tuple[str, ...]:
    """The estimator runtimes whose fit table a GB figure may come from: the decision's and the one the paragraph names."""
    named = runtime_for_word(runtime_word, on_gpu=decision.memory_kind == GPU_MEMORY) if runtime_word else decision.runtime
    return tuple(dict.fromkeys(r for k in (decision.runtime, named) for r in (k, plain_transformers(k))))


def check(
    paragraph: str,
    decision: Decision,
    gate: Gate,
    case_ids: tuple[str, ...],
    verdict: Verdict | None = None,
    *,
    evidence: Evidence | None = None,
    record_items: Sequence[RecordItem] | None = None,
    record_model: str | None = None,
    outputs: Path | None = None,
) -> Feedback:
    """Specific feedback on a learner's paragraph, and the lesson's pass criterion as a checklist.

    Figures are read against the estimator and the profile always, and against
    the rows in ``outputs/`` when ``evidence`` is given; ``record_items`` are the
    five evidence items of the learner's own record (criterion 3), about
    ``record_model``. The same rules in every language; the notes are written in
    :func:`reply_language`.
    """
    parts = parse(paragraph)
    lang = current() if parts.lang == SOURCE_LANGUAGE else parts.lang
    runtime_word = find_runtime(parts.runtime)
    rows = evidence_rows(decision, evidence, _runtimes(decision, runtime_word), outputs)
    with speaking(lang):
        enough = _model_notes(parts, decision, runtime_word) + _runtime_notes(runtime_word, decision)
        model = find_model(parts.model)
        enough += because_notes(parts.because, rows, case_ids, model)
        upgrade = _switch_notes(parts, gate, case_ids, decision)
        evidence_notes = not_larger_notes(parts.not_larger, rows, case_ids, model)
        if decision.profile.route == "rented_gpu" and not states_a_stop(paragraph):
            evidence_notes.append(Note(False, SAY["no_stop"]))
        evidence_notes += _contradiction(decision, verdict, model)
        if record_items is not None:
            evidence_notes += record_notes(record_items, record_model, model)
        groups = (enough, upgrade, evidence_notes)
        checklist = tuple(Note(all(n.ok for n in group), label) for group, label in zip(groups, CHECKLIST, strict=True))
        return Feedback(tuple(enough + upgrade + evidence_notes), checklist, lang)


def _contradiction(decision: Decision, verdict: Verdict | None, model: str | None) -> list[Note]:
    """A paragraph that starts with candidate_1 although its route card's upgrade signal is met."""
    first, card = decision.candidate_1, verdict.mine if verdict else None
    if not (card and card.status == MET and first and model == first.model and decision.candidate_2):
        return []
    rows, upgrade = "; ".join(card.rows), decision.candidate_2.model
    return [Note(False, SAY["contradicts"].format(route=card.route, rows=rows, model=first.model, next=upgrade))]
