"""The fixed eval cases: versioned JSONL files, checked in full before anything runs.

One JSON object per line, each checked against
``data/schemas/eval_case.schema.json``. A file that cannot be used stops the run
with a message naming the file, the line and what to do, never a traceback, and
never a run that "passes" zero cases: an empty file, a file that is not UTF-8
and a file cut off mid-line (a copy or download that did not finish) are errors.

Each case carries examples: answers a person would accept and answers a person
would reject. :func:`check_examples` grades them with the case's own graders,
and a file in which a rejected answer passes (or an accepted one fails) is
refused, by ``python -m helpers.evals validate`` and by every run alike, so no
pass count is ever scored by graders that pass nonsense.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.core.i18n import N_, _
from helpers.core.paths import EVAL_CASES, relative
from helpers.core.schemas import first_schema_error
from helpers.evals.graders import GRADERS, grade

CASE_SCHEMA = "eval_case.schema.json"
RESTORE = N_("Restore it from git (`git checkout -- {name}`) or fix it by hand, then run again.")


class CaseFileError(ValueError):
    """A case file that cannot be used; the message names file, line and field, and what to do."""


@dataclass(frozen=True)
class Case:
    case_id: str
    version: int
    category: str
    language: str
    messages: list[dict[str, str]]
    max_tokens: int
    graders: list[dict[str, Any]]
    #: ``{"pass": [...], "fail": [...]}``: answers a person would accept and reject, checked by :func:`check_examples`.
    examples: dict[str, list[str]]
    source: str

    @property
    def json_schema(self) -> dict | None:
        """The schema of a structured-output case, for runtimes that can enforce it."""
        return next((g["schema"] for g in self.graders if g["type"] == "json_schema"), None)


def _text(file: Path, name: str) -> str:
    """The file as text; a file that is not UTF-8 is named with the line of its first bad byte."""
    data = file.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        if error.reason == "unexpected end of data":  # the file stops inside a character
            raise CaseFileError(
                _(
                    "{name}, line {line}: the file ends in the middle of a character, so it looks truncated (a copy or "
                    "download that did not finish)."
                ).format(name=name, line=line)
                + " "
                + _(RESTORE).format(name=name)
            ) from None
        raise CaseFileError(
            _(
                "{name}, line {line}: the file is not UTF-8 text (byte 0x{byte:02x} at offset {offset}). "
                "Case files must be UTF-8: re-save it as UTF-8 (e.g. `iconv -f GB18030 -t UTF-8` for a GBK file), "
                "then run again."
            ).format(name=name, line=line, byte=data[error.start], offset=error.start)
        ) from None


def _parse_line(line: str, number: int, name: str, last_line_cut: bool) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        if last_line_cut:
            raise CaseFileError(
                _(
                    "{name}, line {line}: the last line is cut off mid-case ({error} at column {column}) and the "
                    "file does not end with a newline, so it looks truncated (a copy or download that did not finish)."
                ).format(name=name, line=number, error=error.msg, column=error.colno)
                + " "
                + _(RESTORE).format(name=name)
            ) from None
        raise CaseFileError(
            _(
                "{name}, line {line}: invalid JSON ({error} at column {column}). Each line must be one complete "
                "JSON object (a case spread over several lines is not allowed); fix that line, then run again."
            ).format(name=name, line=number, error=error.msg, column=error.colno)
        ) from None


def _cases_in_file(file: Path, seen: dict[str, str]) -> list[Case]:
    name = relative(file)
    text = _text(file, name)
    lines = text.splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise CaseFileError(
            _(
                "{name} holds no cases (it is empty). Add one JSON object per line (see data/schemas/{schema}), "
                "or delete the file; an empty file would let a run pass zero cases."
            ).format(name=name, schema=CASE_SCHEMA)
        )
    cut = not text.endswith("\n")
    cases = []
    for number, line in numbered:
        data = _parse_line(line, number, name, last_line_cut=cut and number == len(lines))
        _check_grader_types(data, name, number)
        problem = first_schema_error(CASE_SCHEMA, data, root="(the case)")
        if problem:
            raise CaseFileError(f"{name}, line {number}, field {problem.where}: {problem.message}.")
        _check_patterns(data, name, number)
        if data["case_id"] in seen:
            raise CaseFileError(
                _("{name}, line {line}: duplicate case_id {case} (first at {first}); give each case its own id.").format(
                    name=name, line=number, case=repr(data["case_id"]), first=seen[data["case_id"]]
                )
            )
        seen[data["case_id"]] = f"{name}, line {number}"
        cases.append(Case(source=f"{name}:{number}", **data))
    problems = [problem for case in cases for problem in check_examples(case)]
    if problems:
        raise CaseFileError("\n".join(problems))
    return cases


def _check_grader_types(data: Any, name: str, number: int) -> None:
    """An unknown grader is named with the known ones (before the schema, whose enum message lists no fix)."""
    for grader in data.get("graders", []) if isinstance(data, dict) else []:
        if isinstance(grader, dict) and grader.get("type") not in GRADERS:
            raise CaseFileError(
                _("{name}, line {line}: unknown grader {grader}; known graders: {known}.").format(
                    name=name, line=number, grader=repr(grader.get("type")), known=", ".join(GRADERS)
                )
            )


def _check_patterns(data: dict, name: str, number: int) -> None:
    """Every regular expression in the graders compiles; a broken one is named here, not as a traceback mid-run."""
    for index, grader in enumerate(data["graders"]):
        for pattern in grader.get("patterns", []) + ([grader["pattern"]] if "pattern" in grader else []):
            try:
                re.compile(pattern)
            except re.error as error:
                raise CaseFileError(
                    _(
                        "{name}, line {line}, field graders/{index}: the pattern {pattern} is not a valid regular expression "
                        "({error}); fix it, then run again."
                    ).format(name=name, line=number, index=index, pattern=repr(pattern), error=error)
                ) from None


def check_examples(case: Case) -> list[str]:
    """What is wrong with a case's graders, judged by its own examples: one line per example graded the wrong way.

    A fail example that passes means the graders would pass an answer a person
    rejects; a pass example that fails means they would fail one a person accepts.
    Empty means every example grades as a person would.
    """
    problems = []
    for example in case.examples["fail"]:
        if not grade(example, case.graders):
            problems.append(
                _(
                    "{source}: case {case}: the fail example {example} passes every grader ({graders}), so these graders "
                    "would pass an answer a person rejects. Tighten the case's graders (helpers/evals/graders.py lists "
                    "them), raise its version, then run again."
                ).format(source=case.source, case=case.case_id, example=repr(example), graders=_grader_names(case))
            )
    for example in case.examples["pass"]:
        failed = grade(example, case.graders)
        if failed:
            problems.append(
                _(
                    "{source}: case {case}: the pass example {example} fails {failed}, so these graders would fail an "
                    "answer a person accepts. Loosen that grader or correct the example, raise the case's version, "
                    "then run again."
                ).format(source=case.source, case=case.case_id, example=repr(example), failed=", ".join(failed))
            )
    return problems


def _grader_names(case: Case) -> str:
    return ", ".join(g["type"] for g in case.graders)


def case_files(path: Path | str = EVAL_CASES) -> list[Path]:
    """The ``.jsonl`` files at ``path`` (a file or a folder), or :class:`CaseFileError` when there are none."""
    path = Path(path)
    if not path.exists():
        raise CaseFileError(
            _("{path} does not exist. Point at a .jsonl file or a folder of them (default: data/eval_cases/).").format(
                path=relative(path)
            )
        )
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise CaseFileError(
            _("{path}: no .jsonl case files found. Put the cases there, one JSON object per line.").format(path=relative(path))
        )
    return files


def load_cases(path: Path | str = EVAL_CASES) -> list[Case]:
    """Every case in a file or folder of ``.jsonl`` files, or :class:`CaseFileError` before anything runs."""
    seen: dict[str, str] = {}
    return [case for file in case_files(path) for case in _cases_in_file(file, seen)]
