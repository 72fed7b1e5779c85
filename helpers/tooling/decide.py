"""Print (and save) the model/runtime decision for a profile, from the terminal.

The lesson's command works as written (``choose_openllm_runtime.py`` calls :func:`main` with ``lesson=True``)::

    ROUTE=rented_gpu VRAM_GB=24 NEEDS_SERVICE=yes python choose_openllm_runtime.py

Environment variables TASK, ROUTE, PRIVACY, VRAM_GB, NEEDS_SERVICE, RAM_GB,
MUST_HAVE and NICE_TO_HAVE set the profile (the lesson's defaults: local_cpu,
private_docs, 0 GB of GPU memory, no service); the flags below override them.
Both write ``outputs/model_runtime_decision.json`` and ``.md``. Bad input exits
with status 2 and a message naming the field, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from helpers.core.i18n import (
    LANGUAGE_ENV,
    LANGUAGES,
    CatalogueError,
    UnknownLanguage,
    _,
    current,
    language_from_environment,
    use,
)
from helpers.decision import DecisionError, choose, parse_profile
from helpers.decision.record import RecordError, build_record, render_markdown, write_record

FIELDS = {
    "task": "TASK",
    "route": "ROUTE",
    "privacy": "PRIVACY",
    "vram_gb": "VRAM_GB",
    "needs_service": "NEEDS_SERVICE",
    "ram_gb": "RAM_GB",
    "must_have": "MUST_HAVE",
    "nice_to_have": "NICE_TO_HAVE",
}


def main(argv: list[str] | None = None, *, lesson: bool = False) -> int:
    """``lesson=True`` prints what the lesson's script prints: JSON with the profile and the decision.

    ``--lang`` (else ``OPENLLM_ROUTES_LANG``, else ``LANG``-style locale variables) picks the language of the
    Markdown record and its sentences; the JSON keys are the same in every language. The language in force
    before the call is restored afterwards, so calling ``main`` in-process changes nothing else.
    """
    parser = argparse.ArgumentParser(prog="python -m helpers.decide", description=__doc__.split("\n\n")[0])
    for name, env in FIELDS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"overrides ${env}")
    parser.add_argument("--json", action="store_true", help="print the whole JSON record instead of Markdown")
    parser.add_argument("--dry-run", action="store_true", help="print the record without writing outputs/")
    parser.add_argument("--lang", help=f"{', '.join(LANGUAGES)}: the record's language (default ${LANGUAGE_ENV}, then $LANG)")
    args = parser.parse_args(argv)
    previous = current()
    try:
        use(args.lang or language_from_environment())
    except (UnknownLanguage, CatalogueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return _decide(args, lesson)
    finally:
        use(previous)


def _decide(args: argparse.Namespace, lesson: bool) -> int:
    values = {
        env: getattr(args, name) if getattr(args, name) is not None else os.environ.get(env) for name, env in FIELDS.items()
    }
    try:
        decision = choose(parse_profile(values))
        record = build_record(decision)
        written = None if args.dry_run else write_record(record)
    except (DecisionError, RecordError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if lesson:
        second, decided = record["candidate_2"], record["decision"]
        runtime, claim = decided["runtime"], decided["claim"]  # English in the record (catalogue entries), said in the language
        shown = {**decided, "runtime": _(runtime), "claim": _(claim), "next": second["model"] if second else None}
        shown["fallback"] = record["fallback"]
        print(json.dumps({"profile": record["profile"], "decision": shown}, indent=2, ensure_ascii=False))
    else:
        print(json.dumps(record, indent=2, ensure_ascii=False) if args.json else render_markdown(record))
    if written:
        print(written, file=sys.stderr)
    return 0
