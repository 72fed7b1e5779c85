"""The written record read back as typed values, so other modules and notebooks use attributes, not nested keys.

The JSON file is the record's canonical form (what the schema validates and
what a reviewer diffs). :func:`read_record` checks it (:func:`load_record`)
and returns a :class:`DecisionRecord`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.core.i18n import _
from helpers.core.paths import output
from helpers.decision import LESSON_EXAMPLE, Profile, choose
from helpers.decision.evidence import Evidence, gather
from helpers.decision.record.build import build_record
from helpers.decision.record.store import RecordError, load_record, profile_of, write_record
from helpers.decision.verdict import CardVerdict


@dataclass(frozen=True)
class CandidateEntry:
    """One of the lesson's two candidates as the record states it, with the estimator's verdict on memory."""

    model: str
    dtype: str
    runtime: str
    license_note: str
    hardware_note: str
    risk: str
    estimator_runtime: str
    total_gb: float
    memory_kind: str
    memory_available_gb: float
    fits: bool

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> CandidateEntry | None:
        if data is None:
            return None
        e, m = data["estimate"], data["memory"]
        return cls(data["model"], data["dtype"], data["runtime"], data["license_note"], data["hardware_note"], data["risk"],
                   e["estimator_runtime"], e["total_gb"], m["kind"], m["available_gb"], m["fits"])  # fmt: skip


@dataclass(frozen=True)
class EvidenceItem:
    """One of the lesson's five evidence-fit items: present with its value and file, or missing with what produces it."""

    name: str
    status: str
    value: str
    source: str


@dataclass(frozen=True)
class DecisionRecord:
    """The record's fields a reader needs, typed. ``document`` keeps the whole JSON for anything else."""

    created_at: str
    profile: Profile
    project_goal: str
    candidate_1: CandidateEntry | None
    candidate_2: CandidateEntry | None
    fallback: str
    why_now: str
    rejected_for_now: str
    model: str | None
    runtime: str
    claim: str
    first_run_command: str
    expected_stop_time: str
    evidence_complete: bool
    evidence: tuple[EvidenceItem, ...]
    verdict: tuple[CardVerdict, ...]
    paragraph: str
    document: dict[str, Any]

    @property
    def mine(self) -> CardVerdict:
        """The verdict of the profile's own route card."""
        return next(card for card in self.verdict if card.route == self.profile.route)

    def to_json(self) -> dict[str, Any]:
        return self.document

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DecisionRecord:
        return cls(
            data["created_at"], Profile.from_json(data["profile"]), data["project_goal"],
            CandidateEntry.from_json(data["candidate_1"]), CandidateEntry.from_json(data["candidate_2"]),
            data["fallback"], data["why_now"], data["rejected_for_now"], data["model_decision"]["model"],
            data["runtime_decision"]["runtime"], data["decision"]["claim"], data["expected_output"]["first_run_command"],
            data["hardware_note"]["expected_stop_time"], data["evidence_fit"]["complete"],
            tuple(EvidenceItem(**item) for item in data["evidence_fit"]["items"]),
            tuple(CardVerdict.from_json(card) for card in data["verdict"]), data["decision_paragraph"], data,
        )  # fmt: skip


def read_record(path: Path | None = None) -> DecisionRecord:
    """The current record (``outputs/model_runtime_decision.json`` unless ``path``), checked and typed.

    Missing, unreadable and older-version files raise :class:`~helpers.decision.record.RecordError` saying what to do.
    """
    return DecisionRecord.from_json(load_record(path))


def current_profile() -> Profile:
    """The profile of the record notebook 01 wrote, so every notebook judges the same project.

    With no usable record (a notebook opened on its own, say in Colab), the
    lesson's example profile stands in, and one sentence says so.
    """
    try:
        return read_record().profile
    except RecordError as error:
        print(_("{problem} Using the lesson's example profile instead.").format(problem=error))
        return LESSON_EXAMPLE


def attach_evidence(evidence: Evidence | None = None, profile: Profile | None = None) -> DecisionRecord | None:
    """Rebuild the record from a profile and the evidence in ``outputs/``, write it, and return it.

    The one writer of evidence into a record: the verdict, the evidence fit and
    the paragraph are rebuilt together from the profile, so attaching twice gives
    the same text. The profile defaults to the current record's; with neither,
    nothing is written and ``None`` comes back (notebook 01 writes the draft).
    """
    if profile is None:
        if not output("decision_json").exists():
            return None
        profile = profile_of(load_record())
    record = build_record(choose(profile), evidence if evidence is not None else gather())
    write_record(record)
    return DecisionRecord.from_json(record)
