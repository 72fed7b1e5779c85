"""Every sentence the exercise checker says, in one place, read in the current language.

The checker's notes, the names of the rows a figure is matched against, and the
lesson's pass criterion are kept here as whole sentences, so they can be read,
checked and translated as a unit (``helpers.core.i18n``).
"""

from __future__ import annotations

from helpers.core.i18n import sentences

#: Every sentence the checker says.
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
    "because_cited": "Your reason cites evidence: {rows}.",
    "given_only": "Your reason cites only the memory you have ({figure}). Add what the estimator or an eval table says about "
    "{model}: a GB figure or a pass count.",
    "no_figure": 'A claim without its figure is not evidence: "{text}". Give the number it rests on (a GB figure, a pass '
    "count, a case id).",
    "unmatched": '"{figure}" matches no row the kit wrote. The nearest row: {row}. Cite that row, or run what writes yours.',
    "unmatched_model": '"{figure}" is not a figure of {model}. Its nearest row: {row}.',
    "no_rows": '"{figure}" matches no row: nothing in outputs/ holds {kind} yet. Run {producer} first, then cite its rows.',
    "case_no_row": "{case} is in the fixed set, but no eval table of {model} holds it yet: run {producer}, then cite its row.",
    "not_larger_weak": "Say what a larger model is waiting for: a failure on the fixed eval set, memory, or cost.",
    "not_larger_ok": "You say what a larger model is waiting for.",
    "no_case": (
        "Your switch condition names no fixed eval case. Name one (for example {example}) or a category of them (JSON, Chinese)."
    ),
    "case_ok": "Your switch condition names fixed eval cases ({cases}).",
    "unknown_case": "There is no case {case} in the fixed eval set (data/eval_cases/). Did you mean {nearest}?",
    "not_measurable": "Make the switch condition measurable: a pass count, a share, or named cases that fail.",
    "switch_total": 'Your switch condition counts "{figure}", but the fixed eval set has {cases} cases: count out of {cases}.',
    "no_stop": "On a rented GPU, say when it stops: a stop time, a budget, or the shutdown proof.",
    "record_missing": "Your record lacks its {name}: {source}.",
    "record_ok": "Your record holds the five evidence items: {names}.",
    "record_other_model": "Your record's evidence is for {record_model}, the model the rule selects for your profile, not "
    "{model}: start with {record_model}, or change the profile until the rule selects {model}.",
    "contradicts": "The evidence already shows the upgrade signal of the {route} card ({rows}). Your paragraph still starts with "
    "{model}: move to {next} or say why not.",
    "pass": "You pass the lesson's criterion.",
    "not_yet": "Not yet: fix the unchecked items above and run the cell again.",
}
SAY = sentences(SAY)  # read in the current language (helpers.core.i18n)

#: What each kind of figure is, as "nothing in outputs/ holds {kind} yet" names it.
KINDS = {
    "count": "a pass count",
    "share": "a pass share or an error percentage",
    "gb": "a GB figure",
    "tok_s": "a tokens-per-second figure",
}
KINDS = sentences(KINDS)  # read in the current language (helpers.core.i18n)

#: The rows a figure is matched against, each as the feedback names it.
ROW = {
    "eval": "{model} on {runtime}: {passed}/{cases} passed ({share:.0%}), {tokens:.1f} tok/s ({source})",
    "case": "{model} on {runtime}: {case} {result} ({source})",
    "passed": "passed",
    "failed": "failed",
    "estimate": "the estimator: {model} {dtype} on {runtime}, {gb:.2f} GB",
    "memory": "your memory: {gb:g} GB of {kind}",
    "memory_check": "memory check, {model} {dtype} on {runtime}: {predicted:.2f} GB predicted, {measured:.2f} GB measured, "
    "error {error:+.1f}% ({source})",
    "serving": "{model} served at {load}: {tokens:.1f} output tok/s ({source})",
    "ladder": "ladder, {model} {quant}: {tokens:.1f} tok/s decode, {passed}/{cases} passed ({source})",
}
ROW = sentences(ROW)  # read in the current language (helpers.core.i18n)

CHECKLIST = (
    "Why your model/runtime pair is enough for the current project",
    "What would make you upgrade",
    "What evidence keeps a random model demo from becoming an uncontrolled deployment",
)
CHECKLIST = sentences(CHECKLIST)  # read in the current language (helpers.core.i18n)
