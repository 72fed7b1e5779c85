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
"""

from __future__ import annotations

import argparse
import io
import re
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from helpers.core.clock import now
from helpers.core.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, catalogue_path
from helpers.core.paths import REPO_ROOT, atomic_write_text

#: The languages that have a catalogue (English is the source text).
TRANSLATED = tuple(code for code in LANGUAGES if code != SOURCE_LANGUAGE)
BABEL_CFG = REPO_ROOT / "babel.cfg"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
_HEADER_DATES = ('"POT-Creation-Date:', '"PO-Revision-Date:')
BUGS = "https://github.com/openllm-routes/openllm-routes/issues"
_HEADER = (
    "# OpenLLM Routes: the course's learner-facing text, {language}.\n"
    "# Extracted from helpers/ and notebooks/ by `make translations`; edit msgstr lines only.\n"
    "# Keep record field names (project_goal, must_have, ...), code, commands and {{placeholders}} as they are.\n"
    "# Licensed like the kit, Apache-2.0."
)
_PO_OPTIONS = {"width": 76, "ignore_obsolete": True, "include_previous": True, "include_lineno": False}


class CatalogueProblem(RuntimeError):
    """The catalogues cannot be built; the message says which file and what to do."""


@dataclass
class Report:
    """What a check found: one line per problem, each naming a file."""

    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT.resolve()).as_posix()
    except ValueError:
        return str(path)


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _from_python(message: Message) -> bool:
    """Python messages are format templates; notebook markdown is never formatted."""
    return any(not filename.endswith(".ipynb") for filename, _ in message.locations)


def placeholders(text: str) -> set[str]:
    """The ``str.format`` field names in ``text``; unbalanced braces raise :class:`ValueError`."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def extract(root: Path = REPO_ROOT, mapping: Path | None = None) -> Catalog:
    """The template: every message in the sources, in the order a learner meets them."""
    mapping = mapping or root / "babel.cfg"
    try:
        with mapping.open(encoding="utf-8") as handle:
            method_map, options_map = parse_mapping_cfg(handle, str(mapping))
    except OSError as error:
        raise CatalogueProblem(f"{_relative(mapping)} cannot be read ({error}); it maps sources to extractors.") from None
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
    name = _relative(po_path)
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


_PO_LINE = re.compile(r'^(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?"(?:[^"\\]|\\.)*"\s*$')


def _first_malformed_line(text: str) -> int | None:
    """Babel's parser skips what it cannot read; a damaged file must fail instead of losing translations."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _PO_LINE.match(stripped):
            return number
    return None


def read_catalogue(po_path: Path, lang: str) -> Catalog:
    """One ``.po`` file, strictly: a missing or corrupt file names itself (and the line)."""
    try:
        text = po_path.read_text(encoding="utf-8")
        line = _first_malformed_line(text)
        if line is not None:
            raise ValueError(f"line {line} is not a PO entry")
        return read_po(io.StringIO(text), locale=lang, domain=DOMAIN, abort_invalid=True)
    except FileNotFoundError:
        raise CatalogueProblem(f"{_relative(po_path)} is missing. Create it with `make translations`.") from None
    except Exception as error:  # Babel raises PoFileError, decoding and parsing errors alike
        raise CatalogueProblem(f"{_relative(po_path)} is corrupt ({error}). Fix the file or restore it from git.") from None


def compiled(catalog: Catalog) -> bytes:
    """The ``.mo`` bytes of a catalogue; fuzzy entries are left out, so they read as English."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _po_text(catalog: Catalog, template: bool = False) -> str:
    buffer = io.BytesIO()
    options = dict(_PO_OPTIONS, include_previous=not template)
    write_po(buffer, catalog, **options)
    return buffer.getvalue().decode("utf-8")


def _without_dates(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(_HEADER_DATES))


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and _without_dates(path.read_text(encoding="utf-8")) == _without_dates(text):
        return False
    atomic_write_text(path, text)
    return True


def _write_bytes_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_bytes(data)
    staging.replace(path)
    return True


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
    if _write_if_changed(pot, _po_text(template, template=True)):
        changed.append(pot)
    for lang in TRANSLATED:
        po_path = catalogue_path(lang, ".po", locale_dir)
        if po_path.exists():
            catalog = read_catalogue(po_path, lang)
            catalog.update(template, update_creation_date=True)
            catalog.revision_date = now()
        else:
            catalog = _new_catalogue(template, lang)
        if _write_if_changed(po_path, _po_text(catalog)):
            changed.append(po_path)
        catalog = read_catalogue(po_path, lang)  # compile what is on disk, exactly as `check` will
        mo_path = catalogue_path(lang, ".mo", locale_dir)
        if _write_bytes_if_changed(mo_path, compiled(catalog)):
            changed.append(mo_path)
    return [_relative(path) for path in changed]


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
                f"{_relative(pot)} is older than the sources ({len(stale)} messages differ). Run `make translations`."
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
            report.problems.append(f"{_relative(mo_path)} is missing. Compile it with `make translations`.")
        elif mo_path.read_bytes() != compiled(catalog):
            stale_mo = f"{_relative(mo_path)} is older than {_relative(po_path)}"
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
