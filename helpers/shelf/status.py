"""What this machine's shelf holds: a row per entry, one sentence for an optional entry setup could not build, and the
``python -m helpers.shelf build|status`` command that builds and reports."""

from __future__ import annotations

import argparse

from helpers.core.i18n import _
from helpers.core.paths import relative
from helpers.shelf.manifest import problems
from helpers.shelf.models import SHELF_ENTRIES, build_all, stand_in


def shelf_status() -> list[dict[str, object]]:
    """One row per shelf entry: name, folder, whether it is complete, and its size on disk."""
    rows = []
    for entry in SHELF_ENTRIES.values():
        found = problems(entry)
        size = sum(p.stat().st_size for p in entry.path.rglob("*") if p.is_file()) if entry.path.exists() else 0
        rows.append(
            {
                "name": entry.name,
                "folder": relative(entry.path),
                "ok": not found,
                "problem": "; ".join(found),
                "size_mb": round(size / 1e6, 1),
            }
        )
    return rows


def missing_for(name: str) -> str | None:
    """Why ``name`` has no shelf files here (an optional entry setup could not build), in one sentence; ``None`` if it has.

    The Qwen sibling is joined from PyPI wheels: where they could not be had, the kit runs on the rest of the shelf and
    the Qwen rows say they are missing, with what to run, instead of a notebook failing.
    """
    entry = SHELF_ENTRIES.get(name) or stand_in(name)
    if entry is None or not entry.optional:
        return None
    parts = [entry] + ([SHELF_ENTRIES[entry.derived_from]] if entry.derived_from else [])
    found = [problem for part in parts for problem in problems(part)]
    if not found:
        return None
    return _(
        "{name} is missing from the shelf ({problems}), so its rows are missing: run `make shelf` once PyPI is reachable, "
        "then run this again."
    ).format(name=name, problems="; ".join(found))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.shelf", description="Build or report the offline shelf.")
    parser.add_argument("command", choices=["build", "status"], help="build what is missing, or only report")
    args = parser.parse_args(argv)
    if args.command == "build":
        for entry, outcome in build_all():
            print(f"shelf: {entry.name:<40} {outcome}")
    for row in shelf_status():
        print(f"{'OK  ' if row['ok'] else 'MISS'} {row['name']:<40} {row['folder']:<40} {row['size_mb']:>7} MB")
    required = {entry.name for entry in SHELF_ENTRIES.values() if not entry.optional}
    return 0 if all(row["ok"] for row in shelf_status() if row["name"] in required) else 1
