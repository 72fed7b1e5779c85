"""The language the kit speaks to a learner: English, Chinese or Japanese.

Every learner-facing sentence is written once, in English, inside ``_()``. Babel
extracts those sentences (and the notebooks' markdown) into ``locale/messages.pot``;
the Chinese and Japanese catalogues under ``locale/<lang>/LC_MESSAGES/`` translate
them, and this module reads the compiled ``.mo`` files with the standard library's
:mod:`gettext`. English needs no catalogue: the source text is the English text.

``use("zh")`` switches the language for everything printed afterwards; a notebook
does it from its ``lang`` papermill parameter, the CLIs from ``--lang`` or the
environment (:func:`language_from_environment`). Only the standard library is
imported here, so the lowest layers of ``helpers`` can translate their messages.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from helpers.core.paths import REPO_ROOT

#: The languages the course is published in, with the name a learner recognises.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文", "ja": "日本語"}
#: The language of the source text, which needs no catalogue.
SOURCE_LANGUAGE = "en"
#: The gettext domain: one catalogue per language for the notebooks and the helpers.
DOMAIN = "messages"
#: Where the catalogues live (``locale/<lang>/LC_MESSAGES/messages.po`` and ``.mo``).
LOCALE_DIR = REPO_ROOT / "locale"
#: The variable that picks the language explicitly, ahead of the system locale.
LANGUAGE_ENV = "OPENLLM_ROUTES_LANG"

_current = SOURCE_LANGUAGE
_loaded: dict[str, _gettext.NullTranslations] = {}


class UnknownLanguage(ValueError):
    """A language code the course is not published in."""


class CatalogueError(RuntimeError):
    """A compiled catalogue that is missing or cannot be read; the message names the file."""


def choices() -> str:
    """``en (English), zh (中文), ja (日本語)``: what an error about a language lists."""
    return ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())


def normalize(code: str) -> str:
    """``zh``, ``zh_CN.UTF-8``, ``ja-JP`` or ``EN`` to the course's code; anything else is an error.

    The error lists the three codes, because a learner who typed ``cn`` or ``jp``
    needs to see the right spelling, not a traceback.
    """
    base = str(code).strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if base not in LANGUAGES:
        raise UnknownLanguage(f"Unknown language {code!r}. Choose one of: {choices()}.")
    return base


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language a terminal asks for: ``OPENLLM_ROUTES_LANG`` first, then the POSIX locale.

    ``OPENLLM_ROUTES_LANG`` is an explicit choice, so an unknown value is an error.
    ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` describe the whole system
    (``C.UTF-8``, ``fr_FR``...), so they only pick Chinese or Japanese when they name
    it; anything else means English. This is the order gettext itself reads them in.
    """
    environ = os.environ if environ is None else environ
    explicit = environ.get(LANGUAGE_ENV, "").strip()
    if explicit:
        return normalize(explicit)
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "").strip()
        if not value:
            continue
        for entry in value.split(":"):
            try:
                return normalize(entry)
            except UnknownLanguage:
                continue
        return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def catalogue_path(lang: str, suffix: str = ".mo", locale_dir: Path | None = None) -> Path:
    """Where the compiled (``.mo``) or editable (``.po``) catalogue of ``lang`` lives."""
    return (locale_dir or LOCALE_DIR) / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def load(lang: str, locale_dir: Path | None = None) -> _gettext.NullTranslations:
    """The translations of ``lang``, read once from its ``.mo`` file.

    A missing or corrupt file raises :class:`CatalogueError` naming the file and
    the command that rebuilds it, rather than silently falling back to English.
    """
    lang = normalize(lang)
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    path = catalogue_path(lang, locale_dir=locale_dir)
    try:
        key = f"{path}@{path.stat().st_mtime_ns}"  # a rebuilt catalogue is read again
    except FileNotFoundError:
        key = str(path)
    if key not in _loaded:
        try:
            with path.open("rb") as handle:
                _loaded[key] = _gettext.GNUTranslations(handle)
        except FileNotFoundError:
            raise CatalogueError(
                f"The {LANGUAGES[lang]} catalogue {path} is missing. Build it with `make translations`."
            ) from None
        except (OSError, ValueError, UnicodeDecodeError, IndexError) as error:
            raise CatalogueError(
                f"The {LANGUAGES[lang]} catalogue {path} is corrupt ({error}). Rebuild it with `make translations`."
            ) from None
    return _loaded[key]


def use(lang: str) -> None:
    """Speak ``lang`` from now on; its catalogue is checked at once, so a broken one fails here."""
    global _current
    lang = normalize(lang)
    load(lang)
    _current = lang


@contextmanager
def speaking(lang: str) -> Iterator[str]:
    """Speak ``lang`` inside a ``with`` block, then the language before it again.

    For an answer that must come in one language whatever the notebook speaks:
    the exercise checker replies in the language the learner wrote in.
    """
    global _current
    before = _current
    use(lang)
    try:
        yield _current
    finally:
        _current = before


def current() -> str:
    """The language messages are printed in now (``en`` until :func:`use` says otherwise)."""
    return _current


def translator(lang: str | None = None) -> Callable[[str], str]:
    """A ``gettext`` for one language, without changing the current one (used to render files)."""
    return load(lang or _current).gettext


def gettext(message: str) -> str:
    """``message`` in the current language; untranslated text comes back in English."""
    return load(_current).gettext(message)


class Messages(Mapping):
    """A module's sentences, written once in English and read in the current language.

    ``SAY = sentences({"empty": "Your paragraph is empty.", ...})`` (or ``SAY = {...}``
    then ``SAY = sentences(SAY)``) keeps every sentence of a module in one dict; each lookup (``SAY["empty"]``)
    translates at that moment, so a module imported in English speaks Japanese
    after ``use("ja")``. The extractor (:mod:`helpers.core.i18n.extract`) collects the
    literal values of every ``sentences({...})``, so no sentence needs its own ``_()``.
    """

    def __init__(self, english: Mapping[str, str]):
        self._english = dict(english)

    def __getitem__(self, key: str) -> str:
        return gettext(self._english[key])

    def __iter__(self):
        return iter(self._english)

    def __len__(self) -> int:
        return len(self._english)

    def english(self, key: str) -> str:
        """The source sentence, whatever the current language (for comparisons and logs)."""
        return self._english[key]


class MessageList(Sequence):
    """:class:`Messages` for an ordered list of sentences (a checklist, a list of steps)."""

    def __init__(self, english: Iterable[str]):
        self._english = tuple(english)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(gettext(text) for text in self._english[index])
        return gettext(self._english[index])

    def __len__(self) -> int:
        return len(self._english)


def sentences(english: Mapping[str, str] | Iterable[str]) -> Messages | MessageList:
    """Sentences that translate when read: a dict gives :class:`Messages`, a list or tuple :class:`MessageList`."""
    return Messages(english) if isinstance(english, Mapping) else MessageList(english)


class Sentence:
    """One sentence kept as a module constant and translated each time it is shown (``print`` and f-strings call ``str``).

    ``RULE = Sentence(N_("Bind the server to {host}..."), host=LOCALHOST)``: ``N_`` marks the English for extraction,
    and the fields fill its placeholders after translation, so a notebook that imported the constant in English
    prints it in Japanese after ``use("ja")``.
    """

    def __init__(self, english: str, **fields: object):
        self.english, self.fields = english, fields

    def __str__(self) -> str:
        return gettext(self.english).format(**self.fields)

    def __repr__(self) -> str:
        return f"Sentence({self.english!r})"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention, and Babel's default keyword
    """Mark ``message`` for extraction without translating it yet (it is translated where it is shown)."""
    return message


_ = gettext

__all__ = [
    "LANGUAGES",
    "CatalogueError",
    "UnknownLanguage",
    "N_",
    "Sentence",
    "_",
    "current",
    "gettext",
    "language_from_environment",
    "load",
    "sentences",
    "speaking",
    "normalize",
    "translator",
    "use",
]
