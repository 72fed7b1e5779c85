"""Graders: each takes an answer's text and one grader spec from a case, and says pass or fail.

Graders see text and nothing else, so the same case scores Transformers,
llama.cpp and any OpenAI-compatible server the same way. The JSON graders check
values as well as shape: ``json_schema`` says the answer is well-formed JSON of
the right shape, ``json_fields`` says the fields hold what the passage says
(a payroll lockout is ``urgent``, not ``low``).
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


class GraderError(ValueError):
    """A grader spec the kit does not know; the message lists the known graders."""


def _exact(output: str, spec: dict) -> bool:
    text, value = output.strip().rstrip(".!。"), spec["value"]
    return text.lower() == value.lower() if spec.get("ignore_case") else text == value


def _contains(output: str, spec: dict) -> bool:
    return spec["value"].lower() in output.lower() if spec.get("ignore_case", True) else spec["value"] in output


def _regex(output: str, spec: dict) -> bool:
    return re.search(spec["pattern"], output) is not None


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
    "exact": _exact,
    "contains": _contains,
    "regex": _regex,
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
