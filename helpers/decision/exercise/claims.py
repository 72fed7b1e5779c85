"""The checks that read a paragraph's claims against the evidence: figures that match rows, cases that exist, a record.

A reason counts as evidence only when it states a figure and the figure is one
the kit wrote (:mod:`helpers.decision.exercise.rows`): a keyword without its
claim ("because my boss passed by") earns nothing, and a figure no row holds is
named with the row it should have cited. The switch condition is a future
condition, so its counts are checked against the size of the fixed set, not
against today's rows. The five evidence items are the learner's own record's,
read as the record built them (``helpers.decision.record``); this module only
reads them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from helpers.decision.exercise.feedback import Note
from helpers.decision.exercise.figures import case_ids_in, find_figures
from helpers.decision.exercise.languages import OUTCOME_WORDS, PROOF_WORDS, REASON_WORDS, STOP_TIME, STOP_WORDS
from helpers.decision.exercise.rows import PRODUCER, Row, matches, nearest
from helpers.decision.exercise.text import KINDS, SAY


class RecordItem(Protocol):
    """One of the record's five evidence items (``helpers.decision.record.EvidenceItem`` has this shape)."""

    name: str
    status: str
    value: str
    source: str


@dataclass(frozen=True)
class Citation:
    """What one clause cites: the rows its figures and case ids match, and a note for each one that matches nothing."""

    rows: tuple[Row, ...]
    problems: tuple[Note, ...]

    @property
    def evidence(self) -> tuple[Row, ...]:
        """The matched rows that say something about a model (the profile's own memory does not)."""
        return tuple(row for row in self.rows if not row.given)


def cite(clause: str, rows: Sequence[Row], case_ids: Sequence[str], model: str | None, *, own_model: bool) -> Citation:
    """The rows ``clause`` cites.

    With ``own_model``, a figure must be a row of ``model``, of a model the clause names ("where tiny-gpt2 passed
    0/16"), or the profile's memory: another model's figure is no evidence about this one.
    """
    found, problems = [], []
    named = {model} | {r.model for r in rows if r.model and r.model.split("/")[-1].lower() in clause.lower()}
    for figure in find_figures(clause):
        hits = sorted((r for r in rows if matches(figure, r)), key=lambda r: r.model != model)
        usable = [r for r in hits if r.model is None or r.model in named] if own_model else hits
        if usable:
            found.append(usable[0])
            continue
        near = nearest(figure, rows, model)
        if near is None:
            problems.append(Note(False, SAY["no_rows"].format(figure=figure.text, kind=KINDS[figure.kind],
                                                              producer=PRODUCER[figure.kind])))  # fmt: skip
        elif hits:
            problems.append(Note(False, SAY["unmatched_model"].format(figure=figure.text, model=model, row=near.label)))
        else:
            problems.append(Note(False, SAY["unmatched"].format(figure=figure.text, row=near.label)))
    for case in case_ids_in(clause):
        if case not in case_ids:
            problems.append(_unknown_case(case, case_ids))
            continue
        held = sorted((r for r in rows if r.case == case), key=lambda r: r.model != model)
        held = [r for r in held if r.model in named] if own_model else held
        if held:
            found.append(held[0])
        elif own_model:
            problems.append(Note(False, SAY["case_no_row"].format(case=case, model=model, producer=PRODUCER["count"])))
    return Citation(tuple(dict.fromkeys(found)), tuple(problems))


def _unknown_case(case: str, case_ids: Sequence[str]) -> Note:
    closest = difflib.get_close_matches(case, list(case_ids), n=1, cutoff=0) or list(case_ids)[:1]
    return Note(False, SAY["unknown_case"].format(case=case, nearest=closest[0] if closest else "-"))


def because_notes(because: str, rows: Sequence[Row], case_ids: Sequence[str], model: str | None) -> list[Note]:
    """Criterion 1's evidence: the reason states a figure of the chosen model that the kit wrote."""
    cited = cite(because, rows, case_ids, model, own_model=True)
    if cited.evidence:
        first = Note(True, SAY["because_cited"].format(rows="; ".join(row.label for row in cited.evidence)))
    elif cited.rows:
        first = Note(False, SAY["given_only"].format(figure="; ".join(r.label for r in cited.rows), model=model))
    elif not cited.problems:
        first = Note(False, SAY["because_weak"])
    else:
        return list(cited.problems)
    return [first, *cited.problems]


def not_larger_notes(not_larger: str, rows: Sequence[Row], case_ids: Sequence[str], model: str | None) -> list[Note]:
    """What a larger model waits for, with its figure: a case or count of the eval set, a GB figure, a cost."""
    cited = cite(not_larger, rows, case_ids, model, own_model=False)
    if cited.rows:
        return [Note(True, SAY["not_larger_ok"]), *cited.problems]
    if cited.problems:
        return list(cited.problems)
    if REASON_WORDS.search(not_larger):
        return [Note(False, SAY["no_figure"].format(text=not_larger))]
    return [Note(False, SAY["not_larger_weak"])]


def switch_notes(switch: str, named: Sequence[str], case_ids: Sequence[str]) -> list[Note]:
    """A switch condition the fixed set can confirm: counts out of its real size, cases it holds, a result to look for."""
    notes = [_unknown_case(case, case_ids) for case in case_ids_in(switch) if case not in case_ids]
    figures = [f for f in find_figures(switch) if f.kind in ("count", "share")]
    notes += [
        Note(False, SAY["switch_total"].format(figure=f.text, cases=len(case_ids)))
        for f in figures
        if f.kind == "count" and f.total != len(case_ids)
    ]
    if not figures and not (named and OUTCOME_WORDS.search(switch)):
        notes.append(Note(False, SAY["not_measurable"]))
    return notes


def states_a_stop(paragraph: str) -> bool:
    """A stop with its time, or the shutdown proof: "budget" alone is a keyword, not a stop."""
    return bool(PROOF_WORDS.search(paragraph) or (STOP_WORDS.search(paragraph) and STOP_TIME.search(paragraph)))


def record_notes(items: Sequence[RecordItem], record_model: str | None, model: str | None) -> list[Note]:
    """Criterion 3's record: its five evidence items present, and about the model the paragraph starts with."""
    missing = [Note(False, SAY["record_missing"].format(name=i.name, source=i.source)) for i in items if i.status != "present"]
    notes = missing or [Note(True, SAY["record_ok"].format(names=", ".join(i.name for i in items)))]
    if record_model and model and record_model != model:
        notes.append(Note(False, SAY["record_other_model"].format(record_model=record_model, model=model)))
    return notes
