"""Reading and writing records: validated, archived, replaced atomically; evidence attached by one writer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.core import clock
from helpers.core.i18n import N_, _
from helpers.core.paths import atomic_write_json, atomic_write_text, output, relative
from helpers.core.schemas import first_schema_error
from helpers.decision import Profile
from helpers.decision.record.markdown import render_markdown
from helpers.decision.record.text import SCHEMA, SCHEMA_VERSION


class RecordError(ValueError):
    """A record that cannot be used or written; says what to do. Nothing was written."""


def validate_record(record: dict[str, Any]) -> None:
    """Raise :class:`RecordError` naming the field when the record breaks its schema."""
    version = record.get("schema_version") if isinstance(record, dict) else None
    if version != SCHEMA_VERSION:
        raise RecordError(_(OLD_VERSION).format(version=version, current=SCHEMA_VERSION))
    problem = first_schema_error(SCHEMA, record)
    if problem:
        raise RecordError(
            _("The decision record fails its schema at {where}: {problem}. Nothing was written.").format(
                where=problem.where, problem=problem.message
            )
        )


OLD_VERSION = N_(
    "This decision record has schema_version {version!r}; this kit reads version {current}. It was written by an older "
    "kit, so its fields differ from the lesson's shape. Write a new one with `python choose_openllm_runtime.py` or "
    "notebook 01; the old file stays where it is (and under outputs/decisions/)."
)


def load_record(path: Path | None = None) -> dict[str, Any]:
    """The current record, checked: missing, unreadable or older-version files are a :class:`RecordError`."""
    path = path or output("decision_json")
    if not path.is_file():
        raise RecordError(
            _("No decision record at {path} yet: run notebook 01 or `python choose_openllm_runtime.py`.").format(
                path=relative(path)
            )
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RecordError(
            _(
                "{path} is empty or not valid JSON (cut off while being written?). Write it again with "
                "notebook 01 or `python choose_openllm_runtime.py`; earlier records are under outputs/decisions/."
            ).format(path=relative(path))
        ) from None
    validate_record(record)
    return record


def profile_of(record: dict[str, Any]) -> Profile:
    return Profile.from_json(record["profile"])


def _archive(record: dict[str, Any]) -> tuple[str, str]:
    """An archive copy per written record, created exclusively, never overwritten (a counter separates equal stamps).

    A copy identical to the record is reused: under the fixed clock of
    ``make regenerate`` every rerun writes the same stamp, and the same record
    then keeps the same archive name instead of counting up on every run.
    """
    folder = output("decision_archive")
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    base, counter = f"{clock.stamp()}_{record['profile']['route']}", 0
    while True:
        name = base + (f"_{counter}" if counter else "")
        try:
            with open(folder / f"{name}.json", "x", encoding="utf-8") as handle:
                handle.write(text)
            break
        except FileExistsError:
            if (folder / f"{name}.json").read_text(encoding="utf-8") == text and (folder / f"{name}.md").is_file():
                return relative(folder / f"{name}.json"), relative(folder / f"{name}.md")
            counter += 1
    with open(folder / f"{name}.md", "x", encoding="utf-8") as handle:
        handle.write(render_markdown(record))
    return relative(folder / f"{name}.json"), relative(folder / f"{name}.md")


@dataclass(frozen=True)
class Written:
    """Where a record went: the current JSON and Markdown, and its archived copy."""

    json: str
    markdown: str
    archived: str

    def __str__(self) -> str:
        return _("Wrote {json} and {markdown}; archived as {archived}").format(
            json=self.json, markdown=self.markdown, archived=self.archived
        )


def write_record(record: dict[str, Any]) -> Written:
    """Validate, archive under ``outputs/decisions/``, then replace the current record atomically.

    A record that fails its schema raises before any file is touched.
    """
    validate_record(record)
    markdown = render_markdown(record)
    archived, __ = _archive(record)
    atomic_write_text(output("decision_md"), markdown)
    atomic_write_json(output("decision_json"), record)
    return Written(relative(output("decision_json")), relative(output("decision_md")), archived)
