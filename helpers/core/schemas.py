"""JSON Schema checks with one way of saying what is wrong.

Eval cases and decision records are both validated against schemas in
``data/schemas/``. A learner who breaks one should read the same kind of message
either way: the first problem, and the field where it is. jsonschema lists
errors in no useful order, so the one reported is the first by field path,
which makes the message the same on every run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from helpers.core.paths import REPO_ROOT

SCHEMAS = REPO_ROOT / "data" / "schemas"


@dataclass(frozen=True)
class SchemaProblem:
    """The first thing wrong with a document: where (a ``/``-joined field path, or ``root``) and what."""

    where: str
    message: str


@cache
def validator(schema_file: Path | str) -> jsonschema.Draft202012Validator:
    """A validator for a schema file (a name in ``data/schemas/`` or a path), read once per process."""
    path = Path(schema_file) if Path(schema_file).is_absolute() else SCHEMAS / schema_file
    return jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


def first_schema_error(
    schema: jsonschema.Draft202012Validator | Path | str, document: Any, *, root: str = "(top level)"
) -> SchemaProblem | None:
    """The first problem by field path, or ``None`` when ``document`` is valid.

    ``root`` names the document itself when the problem is not inside a field
    (e.g. "(the case)" for an eval case, "(top level)" for a record).
    """
    check = schema if isinstance(schema, jsonschema.Draft202012Validator) else validator(schema)
    errors = sorted(check.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    if not errors:
        return None
    return SchemaProblem("/".join(str(p) for p in errors[0].path) or root, errors[0].message)
