"""The lesson's exercise: a learner's three-sentence decision paragraph, checked by rules.

The lesson ends with one paragraph to write ("For this project, I will start
with _ using _ because _. I will not use a larger model yet because _. I will
switch only if the fixed eval set shows _."). :func:`check` reads it against the
learner's decision (the rule and the estimator), the gate's fixed cases and,
when given, the evidence's verdict. Each finding is a specific sentence, and the
lesson's pass criterion comes back as a checklist. It is deterministic: rules
and the estimator, no model.

The paragraph may be written in English, Chinese or Japanese: each language has
its own shape of the three sentences and the word lists in :mod:`helpers.decision.exercise.languages`
know each language's words for evidence, failures and stopping, so the checks
are the same. The feedback comes in the language the paragraph is written in; an
English paragraph gets it in the notebook's language (:func:`helpers.core.i18n.current`).
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.catalogue.models import catalogue
from helpers.catalogue.runtimes import GPU_MEMORY, LEARNER_WORDS, RUNTIMES, plain_transformers, runtime_for_word
from helpers.core.i18n import SOURCE_LANGUAGE, _, current, sentences, speaking
from helpers.decision import Decision, best_dtype
from helpers.decision.exercise.languages import (
    CASE_WORDS,
    EVIDENCE_WORDS,
    MEASURE_WORDS,
    REASON_WORDS,
    SHAPES,
    STOP_WORDS,
    STRONG_ANSWERS,
    TEMPLATES,
    WEAK_ANSWERS,
    WORKFLOW_WORDS,
    language_of,
)
from helpers.decision.verdict import MET, Gate, Verdict

#: Every sentence the checker says, in one place.
SAY = {
    "empty": "Your paragraph is empty. Copy the template below into `paragraph` and fill in each _____:\n{template}",
    "template": "Your paragraph is still the template. Replace each _____ with your own words, then run this cell again.",
    "shape": "Keep the lesson's three sentences, in order, with your words in place of each _____:\n{template}",
    "model_unknown": 'I cannot find a catalogue model in "{text}". Name one of: {known}.',
    "model_ok": "You start with {model}, which the estimator puts at {need:.2f} GB of {kind} against {avail:g} GB: it fits.",
    "no_fit": "You start with {model}, but the estimator says {model} does not fit {avail:g} GB of {kind}: it needs about "
    "{need:.1f} GB even as {dtype} on {runtime}.",
    "lacks": "You start with {model}, but it lacks the must-have {need}: {why}",
    "workflow": "{model} has random weights: say that it proves the workflow only, and what model the answers will come from.",
    "runtime_none": "Name the runtime you start with (Transformers, llama.cpp, Ollama, vLLM or SGLang).",
    "no_service": "You chose {runtime}, but nothing in the profile needs a service (NEEDS_SERVICE=no). Transformers or llama.cpp "
    "proves the same behaviour with less to run.",
    "needs_server": (
        "The profile needs a service, but {runtime} alone gives no endpoint: name a serving runtime, vLLM or SGLang."
    ),
    "runtime_ok": "Your runtime ({runtime}) matches the profile's service need.",
    "no_dtype": "You start with {model}, but the catalogue offers it in no dtype {runtime} loads: name another model or runtime.",
    "because_weak": "Your reason gives no evidence. Name the estimator's number (GB against your memory) or an eval result.",
    "because_ok": "Your reason cites evidence.",
    "not_larger_weak": "Say what a larger model is waiting for: a failure on the fixed eval set, memory, or cost.",
    "not_larger_ok": "You say what a larger model is waiting for.",
    "no_case": (
        "Your switch condition names no fixed eval case. Name one (for example {example}) or a category of them (JSON, Chinese)."
    ),
    "case_ok": "Your switch condition names fixed eval cases ({cases}).",
    "not_measurable": "Make the switch condition measurable: a pass count, a share, or named cases that fail.",
    "no_stop": "On a rented GPU, say when it stops: a stop time, a budget, or the shutdown proof.",
    "contradicts": "The evidence already shows the upgrade signal of the {route} card ({rows}). Your paragraph still starts with "
    "{model}: move to {next} or say why not.",
    "pass": "You pass the lesson's criterion.",
    "not_yet": "Not yet: fix the unchecked items above and run the cell again.",
}
SAY = sentences(SAY)  # read in the current language (helpers.core.i18n)
CHECKLIST = (
    "Why your model/runtime pair is enough for the current project",
    "What would make you upgrade",
    "What evidence keeps a random model demo from becoming an uncontrolled deployment",
)
CHECKLIST = sentences(CHECKLIST)  # read in the current language (helpers.core.i18n)

#: The worked example: the lesson's project on a rented GPU with 8 GB and no service, answered well and badly.
WORKED_PROFILE = {
    "task": "support-operations SOP assistant",
    "route": "rented_gpu",
    "available_vram_gb": 8.0,
    "must_have": ("private_docs", "zh_en_answers", "stable_json"),
}


def __getattr__(name: str) -> str:
    """``STRONG_ANSWER``/``WEAK_ANSWER`` in the current language, so notebook 07's one code cell shows each edition's own."""
    answers = {"STRONG_ANSWER": STRONG_ANSWERS, "WEAK_ANSWER": WEAK_ANSWERS}.get(name)
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


@dataclass(frozen=True)
class Note:
    ok: bool
    text: str


@dataclass(frozen=True)
class Feedback:
    """The notes, each checked or not, and the lesson's pass criterion as a checklist."""

    notes: tuple[Note, ...]
    checklist: tuple[Note, ...]
    lang: str = SOURCE_LANGUAGE  # the language the notes were written in, and text() speaks

    @property
    def passed(self) -> bool:
        return all(item.ok for item in self.checklist)

    def text(self) -> str:
        lines = [f"[{'x' if n.ok else ' '}] {n.text}" for n in self.notes]
        with speaking(self.lang):
            lines += ["", _("The lesson's pass criterion: you can explain")]
            lines += [f"[{'x' if item.ok else ' '}] {item.text}" for item in self.checklist]
            return "\n".join(lines + ["", SAY["pass"] if self.passed else SAY["not_yet"]])


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
    if not MEASURE_WORDS.search(parts.switch):
        notes.append(Note(False, SAY["not_measurable"]))
    return notes


def check(paragraph: str, decision: Decision, gate: Gate, case_ids: tuple[str, ...], verdict: Verdict | None = None) -> Feedback:
    """Specific feedback on a learner's paragraph, and the lesson's pass criterion as a checklist.

    The same rules in every language; the notes are written in :func:`reply_language`.
    """
    parts = parse(paragraph)
    lang = current() if parts.lang == SOURCE_LANGUAGE else parts.lang
    with speaking(lang):
        return _feedback(parts, paragraph, decision, gate, case_ids, verdict, lang)


def _feedback(
    parts: Parts, paragraph: str, decision: Decision, gate: Gate, case_ids: tuple[str, ...], verdict: Verdict | None, lang: str
) -> Feedback:
    runtime_word = find_runtime(parts.runtime)
    enough = _model_notes(parts, decision, runtime_word) + _runtime_notes(runtime_word, decision)
    enough.append(
        Note(
            bool(EVIDENCE_WORDS.search(parts.because)),
            SAY["because_ok"] if EVIDENCE_WORDS.search(parts.because) else SAY["because_weak"],
        )
    )
    upgrade = _switch_notes(parts, gate, case_ids, decision)
    evidence = [
        Note(
            bool(REASON_WORDS.search(parts.not_larger)),
            SAY["not_larger_ok"] if REASON_WORDS.search(parts.not_larger) else SAY["not_larger_weak"],
        )
    ]
    if decision.profile.route == "rented_gpu" and not STOP_WORDS.search(paragraph):
        evidence.append(Note(False, SAY["no_stop"]))
    first, card = decision.candidate_1, verdict.mine if verdict else None
    if card and card.status == MET and first and find_model(parts.model) == first.model and decision.candidate_2:
        evidence.append(
            Note(
                False,
                SAY["contradicts"].format(
                    route=card.route, rows="; ".join(card.rows), model=first.model, next=decision.candidate_2.model
                ),
            )
        )
    checklist = tuple(
        Note(all(n.ok for n in group), label) for group, label in zip((enough, upgrade, evidence), CHECKLIST, strict=True)
    )
    return Feedback(tuple(enough + upgrade + evidence), checklist, lang)
