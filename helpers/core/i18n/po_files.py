"""Reading and writing Babel catalogue files: ``.po`` strictly, ``.po``/``.pot`` and ``.mo`` only when they change.

Babel's own parser skips what it cannot read; :func:`read_catalogue` fails
instead, naming the file and the line, so a damaged file never silently loses
translations. The writers compare with what is on disk (the ``.po`` header dates
aside), so rerunning ``make translations`` leaves git clean.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from helpers.core.i18n import DOMAIN
from helpers.core.paths import atomic_write_text, relative

_HEADER_DATES = ('"POT-Creation-Date:', '"PO-Revision-Date:')
_PO_OPTIONS = {"width": 76, "ignore_obsolete": True, "include_previous": True, "include_lineno": False}


class CatalogueProblem(RuntimeError):
    """The catalogues cannot be built; the message says which file and what to do."""


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
        raise CatalogueProblem(f"{relative(po_path)} is missing. Create it with `make translations`.") from None
    except Exception as error:  # Babel raises PoFileError, decoding and parsing errors alike
        raise CatalogueProblem(f"{relative(po_path)} is corrupt ({error}). Fix the file or restore it from git.") from None


def compiled(catalog: Catalog) -> bytes:
    """The ``.mo`` bytes of a catalogue; fuzzy entries are left out, so they read as English."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def po_text(catalog: Catalog, template: bool = False) -> str:
    """A catalogue as ``.po`` (or, for the template, ``.pot``) text; a translation keeps the previous English of fuzzy entries."""
    buffer = io.BytesIO()
    options = dict(_PO_OPTIONS, include_previous=not template)
    write_po(buffer, catalog, **options)
    return buffer.getvalue().decode("utf-8")


def _without_dates(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(_HEADER_DATES))


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``.po``/``.pot`` text unless only its header dates differ from the file's; True when it wrote."""
    if path.exists() and _without_dates(path.read_text(encoding="utf-8")) == _without_dates(text):
        return False
    atomic_write_text(path, text)
    return True


def write_bytes_if_changed(path: Path, data: bytes) -> bool:
    """Write ``.mo`` bytes unless the file already holds them; True when it wrote."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_bytes(data)
    staging.replace(path)
    return True
