"""Print (and save) the model/runtime decision for a profile, from the terminal.

The lesson's command works as written::

    ROUTE=rented_gpu VRAM_GB=24 NEEDS_SERVICE=yes python -m helpers.decide

Environment variables TASK, ROUTE, PRIVACY, VRAM_GB and NEEDS_SERVICE set the
profile; the flags below override them. Bad input exits with status 2 and a
message naming the field, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from helpers.decision import DecisionError, build_record, parse_profile, render_markdown, write_record

FIELDS = {"task": "TASK", "route": "ROUTE", "privacy": "PRIVACY", "vram_gb": "VRAM_GB", "needs_service": "NEEDS_SERVICE"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.decide", description=__doc__.split("\n\n")[0])
    for name, env in FIELDS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"overrides ${env}")
    parser.add_argument("--json", action="store_true", help="print the JSON record instead of Markdown")
    parser.add_argument("--dry-run", action="store_true", help="print the record without writing outputs/")
    args = parser.parse_args(argv)
    values = {env: getattr(args, name) if getattr(args, name) is not None else os.environ.get(env) for name, env in FIELDS.items()}
    try:
        record = build_record(parse_profile(values))
        written = None if args.dry_run else write_record(record)
    except DecisionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(record, indent=2, ensure_ascii=False) if args.json else render_markdown(record))
    if written:
        print(f"Wrote {written['json']} and {written['markdown']}; archived as {written['archived']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
