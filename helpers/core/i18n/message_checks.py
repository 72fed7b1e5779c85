"""What can be wrong with the messages themselves: placeholders that don't balance or match, entries missing or fuzzy.

A message from Python is a ``str.format`` template (``{model}``; literal braces
are doubled). Its braces must parse, and every translation must use exactly the
same names, so a mistake fails here rather than in a learner's cell. Notebook
markdown is never formatted, so its braces are left alone.
"""

from __future__ import annotations

import string
from pathlib import Path

from babel.messages.catalog import Catalog, Message

from helpers.core.paths import relative


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _from_python(message: Message) -> bool:
    """Python messages are format templates; notebook markdown is never formatted."""
    return any(not filename.endswith(".ipynb") for filename, _ in message.locations)


def placeholders(text: str) -> set[str]:
    """The ``str.format`` field names in ``text``; unbalanced braces raise :class:`ValueError`."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def source_problems(template: Catalog) -> list[str]:
    """Messages from Python whose braces don't parse: each becomes a learner-facing crash otherwise."""
    problems = []
    for message in template:
        if not message.id or not _from_python(message):
            continue
        try:
            placeholders(message.id)
        except ValueError as error:
            where = ", ".join(f"{name}:{line}" for name, line in message.locations)
            problems.append(f"{where}: unbalanced placeholder in {_short(message.id)!r} ({error}); double literal braces.")
    return problems


def translation_problems(catalog: Catalog, template: Catalog, po_path: Path) -> list[str]:
    """Entries of the template that ``catalog`` lacks, leaves empty, marks fuzzy, or whose placeholders differ."""
    name = relative(po_path)
    missing, fuzzy, problems = [], [], []
    for source in template:
        if not source.id:
            continue
        entry = catalog.get(source.id, source.context)
        if entry is None or not entry.string:
            missing.append(source.id)
        elif entry.fuzzy:
            fuzzy.append(source.id)
        elif _from_python(source):
            try:
                wanted, found = placeholders(source.id), placeholders(entry.string)
            except ValueError as error:
                problems.append(f"{name}: unbalanced placeholder in the translation of {_short(source.id)!r} ({error}).")
                continue
            if wanted != found:
                problems.append(
                    f"{name}: the translation of {_short(source.id)!r} uses {sorted(found)}, the English {sorted(wanted)}."
                )
    if missing:
        problems.append(f"{name}: {len(missing)} untranslated, first {_short(missing[0])!r}. Translate them.")
    if fuzzy:
        problems.append(f"{name}: {len(fuzzy)} fuzzy (the English changed), first {_short(fuzzy[0])!r}. Review them.")
    return problems
