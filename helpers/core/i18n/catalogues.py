"""The Babel toolchain: extract, update, compile, and the check CI runs.

``python -m helpers.core.i18n.catalogues update`` (``make translations``):

1. **extract** every ``_()``/``N_()`` message from ``helpers/`` and the lesson's
   command, and every prose block of ``notebooks/*.ipynb`` (the ``notebook_markdown``
   extractor), as ``babel.cfg`` maps them, into ``locale/messages.pot``;
2. **update** ``locale/zh`` and ``locale/ja``: new messages arrive empty, changed
   ones keep their old translation marked *fuzzy* (with the previous English) for
   a translator to review;
3. **compile** each ``.po`` into the ``.mo`` that :mod:`helpers.core.i18n` reads.

``python -m helpers.core.i18n.catalogues check`` changes nothing and fails when the
template is older than the sources, when any message is missing or fuzzy in any
language, when a ``.mo`` is older than its ``.po``, when a catalogue is missing or
corrupt (naming the file), or when placeholders don't balance.

Placeholders: a message from Python is a ``str.format`` template (``{model}``;
literal braces are doubled). Its braces must parse, and every translation must use
exactly the same names, so a mistake fails here rather than in a learner's cell.
Files are rewritten only when their messages change, so a rerun leaves git clean.

This module is the command line and the two steps; reading and writing the files is
:mod:`helpers.core.i18n.po_files`, the placeholder and completeness checks
:mod:`helpers.core.i18n.message_checks`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from helpers.core.clock import now
from helpers.core.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, catalogue_path
from helpers.core.i18n.message_checks import source_problems, translation_problems
from helpers.core.i18n.po_files import (
    CatalogueProblem,
    compiled,
    po_text,
    read_catalogue,
    write_bytes_if_changed,
    write_if_changed,
)
from helpers.core.paths import REPO_ROOT, relative

#: The languages that have a catalogue (English is the source text).
TRANSLATED = tuple(code for code in LANGUAGES if code != SOURCE_LANGUAGE)
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
BUGS = "https://github.com/openllm-routes/openllm-routes/issues"
_HEADER = (
    "# OpenLLM Routes: the course's learner-facing text, {language}.\n"
    "# Extracted from helpers/ and notebooks/ by `make translations`; edit msgstr lines only.\n"
    "# Keep record field names (project_goal, must_have, ...), code, commands and {{placeholders}} as they are.\n"
    "# Licensed like the kit, Apache-2.0."
)


@dataclass
class Report:
    """What a check found: one line per problem, each naming a file."""

    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def extract(root: Path = REPO_ROOT, mapping: Path | None = None) -> Catalog:
    """The template: every message in the sources, in the order a learner meets them."""
    mapping = mapping or root / "babel.cfg"
    try:
        with mapping.open(encoding="utf-8") as handle:
            method_map, options_map = parse_mapping_cfg(handle, str(mapping))
    except OSError as error:
        raise CatalogueProblem(f"{relative(mapping)} cannot be read ({error}); it maps sources to extractors.") from None
    template = Catalog(
        project="OpenLLM Routes",
        version="0.1.0",
        copyright_holder="the OpenLLM Routes authors",
        domain=DOMAIN,
        header_comment=_HEADER.format(language="every language"),
        msgid_bugs_address=BUGS,
        charset="utf-8",
        fuzzy=False,
        creation_date=now(),
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        root, method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        if isinstance(message, tuple):
            raise CatalogueProblem(f"{filename}:{lineno}: plural messages are not used in this kit; write one sentence.")
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def _new_catalogue(template: Catalog, lang: str) -> Catalog:
    catalog = Catalog(
        locale=lang,
        domain=DOMAIN,
        project=template.project,
        version=template.version,
        charset="utf-8",
        fuzzy=False,
        header_comment=_HEADER.format(language=LANGUAGES[lang]),
        msgid_bugs_address=BUGS,
        last_translator="OpenLLM Routes translators",
        language_team=f"{LANGUAGES[lang]} ({lang})",
        creation_date=template.creation_date,
        revision_date=now(),
    )
    catalog.update(template)
    return catalog


def update(root: Path = REPO_ROOT, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Extract, update every language, compile; returns the files it changed. Bad sources stop it first."""
    template = extract(root)
    problems = source_problems(template)
    if problems:
        raise CatalogueProblem("Extraction failed:\n" + "\n".join(problems))
    changed = []
    pot = locale_dir / TEMPLATE.name
    if write_if_changed(pot, po_text(template, template=True)):
        changed.append(pot)
    for lang in TRANSLATED:
        po_path = catalogue_path(lang, ".po", locale_dir)
        if po_path.exists():
            catalog = read_catalogue(po_path, lang)
            catalog.update(template, update_creation_date=True)
            catalog.revision_date = now()
        else:
            catalog = _new_catalogue(template, lang)
        if write_if_changed(po_path, po_text(catalog)):
            changed.append(po_path)
        catalog = read_catalogue(po_path, lang)  # compile what is on disk, exactly as `check` will
        mo_path = catalogue_path(lang, ".mo", locale_dir)
        if write_bytes_if_changed(mo_path, compiled(catalog)):
            changed.append(mo_path)
    return [relative(path) for path in changed]


def check(root: Path = REPO_ROOT, locale_dir: Path = LOCALE_DIR) -> Report:
    """Everything CI needs to be true of the catalogues, without changing a file."""
    report = Report()
    try:
        template = extract(root)
    except CatalogueProblem as error:
        report.problems.append(str(error))
        return report
    report.problems += source_problems(template)
    pot = locale_dir / TEMPLATE.name
    try:
        committed = read_catalogue(pot, SOURCE_LANGUAGE)
        stale = {m.id for m in template if m.id} ^ {m.id for m in committed if m.id}
        if stale:
            report.problems.append(
                f"{relative(pot)} is older than the sources ({len(stale)} messages differ). Run `make translations`."
            )
    except CatalogueProblem as error:
        report.problems.append(str(error))
    for lang in TRANSLATED:
        po_path, mo_path = catalogue_path(lang, ".po", locale_dir), catalogue_path(lang, ".mo", locale_dir)
        try:
            catalog = read_catalogue(po_path, lang)
        except CatalogueProblem as error:
            report.problems.append(str(error))
            continue
        report.problems += translation_problems(catalog, template, po_path)
        if not mo_path.exists():
            report.problems.append(f"{relative(mo_path)} is missing. Compile it with `make translations`.")
        elif mo_path.read_bytes() != compiled(catalog):
            stale_mo = f"{relative(mo_path)} is older than {relative(po_path)}"
            report.problems.append(f"{stale_mo}. Compile it with `make translations`.")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.core.i18n.catalogues", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command", choices=("update", "check"), help="update: extract, update, compile; check: change nothing, fail on a problem"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "update":
            changed = update()
            print("\n".join(f"wrote {path}" for path in changed) or "catalogues already up to date")
            report = check()
        else:
            report = check()
    except CatalogueProblem as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    if report.ok:
        print(f"catalogues complete: {', '.join(TRANSLATED)}")
    return 0 if report.ok or args.command == "update" else 1


if __name__ == "__main__":
    raise SystemExit(main())
