"""The decision record: the lesson's ``model_runtime_decision`` shape, with the kit's evidence behind it.

:func:`build_record` turns a :class:`~helpers.decision.Decision` (and, when
there is some, the :class:`~helpers.decision.evidence.Evidence` in ``outputs/``) into the
record: the lesson's fields (``project_goal`` … ``rejected_for_now``), its five
deliverables, the evidence fit, the verdict and the paragraph written from it.
:func:`write_record` validates it against
``data/schemas/model_runtime_decision.schema.json`` and replaces
``outputs/model_runtime_decision.json`` and ``.md`` atomically, archiving each
written record under ``outputs/decisions/``. :func:`attach_evidence` is the one
way evidence gets into a record.
"""

from helpers.decision.record.build import build_record, candidate_json, selected
from helpers.decision.record.fit import evidence_fit, expected_stop_time, first_run_command
from helpers.decision.record.markdown import render_markdown
from helpers.decision.record.paragraph import paragraph
from helpers.decision.record.store import RecordError, Written, load_record, profile_of, validate_record, write_record
from helpers.decision.record.text import EVIDENCE_FIT, SCHEMA_VERSION, TEXT, WHY_NOW
from helpers.decision.record.typed import (
    CandidateEntry,
    DecisionRecord,
    EvidenceItem,
    attach_evidence,
    current_profile,
    read_record,
)

__all__ = [
    "EVIDENCE_FIT",
    "CandidateEntry",
    "DecisionRecord",
    "EvidenceItem",
    "read_record",
    "SCHEMA_VERSION",
    "TEXT",
    "WHY_NOW",
    "RecordError",
    "Written",
    "attach_evidence",
    "current_profile",
    "build_record",
    "candidate_json",
    "evidence_fit",
    "expected_stop_time",
    "first_run_command",
    "load_record",
    "paragraph",
    "profile_of",
    "render_markdown",
    "selected",
    "validate_record",
    "write_record",
]
