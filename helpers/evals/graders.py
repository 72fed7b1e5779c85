"""Graders: each takes an answer's text and one grader spec from a case, and says pass or fail.

Graders see text and nothing else, so the same case scores Transformers,
llama.cpp and any OpenAI-compatible server the same way. A grader must fail what
a person would fail, so none of them looks for a word anywhere in the answer:
``answer`` takes the whole answer, ``regex`` can anchor where the answer starts,
``absent`` names what a right answer never says, ``max_chars`` rejects rambling
and repetition, and ``language`` rejects an answer in another script. Each case
carries examples a person would accept and reject, and
:func:`helpers.evals.cases.check_examples` runs them through these graders.

The JSON graders check values as well as shape: ``json_schema`` says the answer
is well-formed JSON of the right shape, ``json_fields`` says the fields hold
what the passage says (a payroll lockout is ``urgent``, not ``low``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Hiragana, katakana (with the prolonged-sound mark), katakana extensions and half-width katakana.
#: Chinese never uses them, Japanese nearly always does: the kana tell the two apart.
KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
LATIN = re.compile(r"[A-Za-z]")
JSON_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)
#: What :func:`whole_answer` takes off the ends: spaces, wrapping quotes or bold, and one closing punctuation mark.
WRAPPING = "\"'“”‘’「」*` \t\n"
CLOSING = ".!。！"


class GraderError(ValueError):
    """A grader spec the kit does not know; the message lists the known graders."""


def whole_answer(output: str) -> str:
    """The answer as a person reads it: outer spaces, quotes or bold, and one final full stop removed; runs of spaces as one.

    "**Paris.**" and " Paris " are the answer "Paris"; "Paris, France" is not.
    """
    text = output.strip(WRAPPING)
    if text[-1:] and text[-1] in CLOSING:
        text = text[:-1].strip(WRAPPING)
    return re.sub(r"\s+", " ", text)


def _answer(output: str, spec: dict) -> bool:
    """The whole answer is one of ``patterns`` (each a full match, ignoring case unless ``ignore_case`` is false).

    For questions with one short right answer, and for "reply exactly: ..."
    instructions: nothing may come before or after it.
    """
    flags = re.IGNORECASE if spec.get("ignore_case", True) else 0
    text = whole_answer(output)
    return any(re.fullmatch(pattern, text, flags) for pattern in spec["patterns"])


def _regex(output: str, spec: dict) -> bool:
    """The pattern is found in the answer (``^`` anchors it at the answer's first character: "starts with")."""
    return re.search(spec["pattern"], output.strip()) is not None


def _absent(output: str, spec: dict) -> bool:
    """The pattern is nowhere in the answer: what a right answer never says (another tier, the passage's heading)."""
    return re.search(spec["pattern"], output) is None


def _max_chars(output: str, spec: dict) -> bool:
    """The answer, without its outer spaces, is at most ``chars`` characters: an answer asked to be brief, that is."""
    return len(output.strip()) <= spec["chars"]


def parse_json_answer(output: str) -> Any:
    """The JSON in an answer: the whole answer, or one fenced ```json block; prose around it fails."""
    text = output.strip()
    fenced = JSON_FENCE.match(text)
    return json.loads(fenced.group(1) if fenced else text)


def _json_schema(output: str, spec: dict) -> bool:
    try:
        jsonschema.validate(parse_json_answer(output), spec["schema"])
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


_MISSING = object()


def _field(document: Any, path: str) -> Any:
    """The value at a ``/``-separated path (``"priority"``, ``"refund/days"``), or a marker when absent."""
    for key in path.split("/"):
        if isinstance(document, dict) and key in document:
            document = document[key]
        elif isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        else:
            return _MISSING
    return document


def _same_value(found: Any, expected: Any) -> bool:
    """Strings match ignoring case and surrounding spaces; numbers by value; no type crosses (``"7"`` is not 7)."""
    if isinstance(expected, str):
        return isinstance(found, str) and found.strip().casefold() == expected.strip().casefold()
    if isinstance(expected, bool) or isinstance(found, bool):
        return found is expected
    if isinstance(expected, (int, float)):
        return isinstance(found, (int, float)) and found == expected
    return found == expected


def _json_fields(output: str, spec: dict) -> bool:
    """Every named field holds its expected value (an answer that is not JSON fails)."""
    try:
        answer = parse_json_answer(output)
    except ValueError:
        return False
    return all(_same_value(_field(answer, path), expected) for path, expected in spec["fields"].items())


def script_counts(text: str) -> tuple[int, int, int]:
    """How many Han characters, kana and Latin letters a text holds."""
    return len(CJK.findall(text)), len(KANA.findall(text)), len(LATIN.findall(text))


def _language(output: str, spec: dict) -> bool:
    """Chinese: most letters are Han and there is no kana. Japanese: kana present, most letters Han or kana.

    English: Latin letters and neither Han nor kana. Japanese borrows Han
    characters, so Han alone cannot tell Chinese from Japanese; kana can.
    """
    han, kana, latin = script_counts(output)
    total = han + kana + latin
    if total == 0:
        return False
    if spec["language"] == "zh":
        return kana == 0 and han / total >= 0.5
    if spec["language"] == "ja":
        return kana > 0 and (han + kana) / total >= 0.5
    return han + kana == 0


GRADERS: dict[str, Callable[[str, dict], bool]] = {
    "answer": _answer,
    "regex": _regex,
    "absent": _absent,
    "max_chars": _max_chars,
    "json_schema": _json_schema,
    "json_fields": _json_fields,
    "language": _language,
}


def grade(output: str, graders: list[dict]) -> list[str]:
    """The names of the graders this output fails; empty means the case passed."""
    failed = []
    for spec in graders:
        if spec["type"] not in GRADERS:
            raise GraderError(f"unknown grader {spec['type']!r}; known graders: {', '.join(GRADERS)}")
        if not GRADERS[spec["type"]](output, spec):
            failed.append(spec["type"])
    return failed
