"""``python -m helpers.exercise PARAGRAPH_FILE``: the exercise's feedback from the terminal, and the learner's own record.

Notebook 07 and the terminal check a paragraph the same way (:func:`review`):
against the profile of the current record (notebook 01's, or the lesson's
example), the evidence in ``outputs/``, and the five evidence items of the
learner's own record, which the record's builder makes for that profile
(``helpers.decision.record``). :func:`write_learner_record` writes that record
with the paragraph and its feedback to ``outputs/my_model_runtime_decision.json``
and ``.md``, atomically, beside the kit's record and under a name the kit's
writer never uses. This module sits above both ``helpers.decision.record`` and
``helpers.decision.exercise``, which the decision's layers keep apart.

Exit status: 0 when the lesson's pass criterion is met, 1 when it is not yet,
2 on input that cannot be checked (a missing, unreadable or empty file, or a
paragraph that is not the lesson's three sentences), with what to do.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.core.i18n import _
from helpers.core.paths import atomic_write_json, atomic_write_text, output, relative
from helpers.decision import Profile, choose
from helpers.decision.evidence import gather
from helpers.decision.exercise import ExerciseError, Feedback, check
from helpers.decision.record import DecisionRecord, build_record, current_profile, render_markdown, validate_record
from helpers.decision.verdict import judge, load_gate

#: The learner's record is the kit's record's name with this prefix: the kit's writer can never replace it.
PREFIX = "my_"
LEARNER_RECORD = "learner_decision"


@dataclass(frozen=True)
class Review:
    """A paragraph checked against the evidence, with the learner's record it was checked against.

    ``feedback`` is None when the paragraph could not be checked; ``problem`` then says what to do.
    """

    paragraph: str
    record: DecisionRecord
    feedback: Feedback | None
    problem: str = ""

    @property
    def passed(self) -> bool:
        return self.feedback is not None and self.feedback.passed

    def text(self) -> str:
        return self.feedback.text() if self.feedback else self.problem

    def to_json(self) -> dict[str, Any]:
        checked = self.feedback.to_json() if self.feedback else {"passed": False, "problem": self.problem}
        return {"kind": LEARNER_RECORD, "paragraph": self.paragraph, "feedback": checked, "record": self.record.to_json()}


def review(paragraph: str, profile: Profile | None = None, outputs: Path | None = None) -> Review:
    """Check ``paragraph`` for ``profile`` (default: the current record's) against what ``outputs`` holds."""
    decision = choose(profile or current_profile())
    evidence = gather(outputs)
    record = DecisionRecord.from_json(build_record(decision, evidence))
    case_ids = evidence.case_ids
    try:
        feedback = check(
            paragraph, decision, load_gate(case_ids=case_ids), case_ids, judge(decision, evidence),
            evidence=evidence, record_items=record.evidence, record_model=record.model, outputs=outputs,
        )  # fmt: skip
    except ExerciseError as error:
        return Review(paragraph, record, None, str(error))
    return Review(paragraph, record, feedback)


def learner_paths() -> tuple[Path, Path]:
    """``outputs/my_model_runtime_decision.json`` and ``.md``: beside the kit's record, never its name."""
    kit_json, kit_md = output("decision_json"), output("decision_md")
    return kit_json.with_name(PREFIX + kit_json.name), kit_md.with_name(PREFIX + kit_md.name)


@dataclass(frozen=True)
class LearnerWritten:
    """Where the learner's record went."""

    json: str
    markdown: str

    def __str__(self) -> str:
        return _("Wrote your record: {json} and {markdown}").format(json=self.json, markdown=self.markdown)


def _markdown(checked: Review) -> str:
    quoted = "\n".join(f"> {line}" for line in checked.paragraph.strip().splitlines()) or "> "
    return "\n".join(
        [
            "# " + _("My decision"),
            "",
            "## " + _("My paragraph"),
            "",
            quoted,
            "",
            "## " + _("The checker's feedback"),
            "",
            "```text",
            checked.text(),
            "```",
            "",
            render_markdown(checked.record.to_json()),
        ]
    )


def write_learner_record(checked: Review) -> LearnerWritten:
    """Write the learner's record (.json and .md) atomically; its record part is validated first, so nothing half-valid lands."""
    validate_record(checked.record.to_json())
    json_path, md_path = learner_paths()
    atomic_write_text(md_path, _markdown(checked))
    atomic_write_json(json_path, checked.to_json())
    return LearnerWritten(relative(json_path), relative(md_path))


def _read(path: Path) -> str:
    """The paragraph file's text, or :class:`ExerciseError` saying what to do."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        say = _("No file at {path}: write your paragraph (the lesson's three sentences) into a text file and pass its path.")
        raise ExerciseError(say.format(path=path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ExerciseError(
            _("{path} cannot be read ({error}): save your paragraph as a UTF-8 text file and pass its path.").format(
                path=path, error=type(error).__name__
            )
        ) from None


def main(argv: list[str] | None = None) -> int:
    """Print the feedback; 0 when the pass criterion is met, 1 when not yet, 2 when the input cannot be checked."""
    parser = argparse.ArgumentParser(prog="python -m helpers.exercise", description=_("Check your decision paragraph."))
    parser.add_argument("paragraph_file", type=Path, help=_("a UTF-8 text file holding your paragraph"))
    args = parser.parse_args(argv)
    try:
        paragraph = _read(args.paragraph_file)
    except ExerciseError as error:
        print(error, file=sys.stderr)
        return 2
    checked = review(paragraph)
    if checked.feedback is None:
        print(checked.problem, file=sys.stderr)
        return 2
    print(checked.text())
    return 0 if checked.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
