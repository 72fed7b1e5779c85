"""Issue 14: the language switch, the markdown splitter, and the Babel toolchain's checks.

The toolchain tests build small catalogues in a temporary folder with the real
Babel (including the ``notebook_markdown`` extractor through its entry point), so
each failure mode the issue names is shown failing: missing and fuzzy entries,
unbalanced placeholders, a corrupt or missing catalogue, a stale ``.mo``.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from helpers.core import i18n
from helpers.core.i18n import catalogues, po_files
from helpers.core.i18n import markdown as md
from helpers.core.i18n.po_files import CatalogueProblem

BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/openllm-routes/openllm-routes/blob/main/notebooks/01_decision_profile.ipynb)"
)


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.use("en")


# --- choosing a language -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"), [("zh", "zh"), ("zh_CN.UTF-8", "zh"), ("ja-JP", "ja"), ("JA", "ja"), ("en_US", "en"), ("en", "en")]
)
def test_codes_and_locales_normalize(code, expected):
    assert i18n.normalize(code) == expected


@pytest.mark.parametrize("code", ["fr", "cn", "jp", "", "zz_ZZ"])
def test_unknown_language_lists_the_three(code):
    with pytest.raises(i18n.UnknownLanguage) as error:
        i18n.use(code)
    message = str(error.value)
    assert all(f"{c} (" in message for c in ("en", "zh", "ja")), message
    assert i18n.current() == "en"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LC_ALL": "ja_JP.UTF-8", "LANG": "zh_CN.UTF-8"}, "ja"),
        ({"LANGUAGE": "fr:ja", "LANG": "en_US.UTF-8"}, "ja"),
        ({"OPENLLM_ROUTES_LANG": "zh", "LANG": "ja_JP.UTF-8"}, "zh"),
    ],
)
def test_language_from_environment(environ, expected):
    assert i18n.language_from_environment(environ) == expected


def test_an_explicit_unknown_language_variable_is_an_error():
    with pytest.raises(i18n.UnknownLanguage, match="en \\(English\\), zh"):
        i18n.language_from_environment({"OPENLLM_ROUTES_LANG": "de"})


def test_missing_catalogue_names_the_file(tmp_path):
    with pytest.raises(i18n.CatalogueError) as error:
        i18n.load("zh", locale_dir=tmp_path)
    assert str(tmp_path / "zh" / "LC_MESSAGES" / "messages.mo") in str(error.value)
    assert "make translations" in str(error.value)


def test_corrupt_catalogue_names_the_file(tmp_path):
    broken = i18n.catalogue_path("ja", locale_dir=tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"this is not a gettext catalogue at all")
    with pytest.raises(i18n.CatalogueError) as error:
        i18n.load("ja", locale_dir=tmp_path)
    assert str(broken) in str(error.value) and "corrupt" in str(error.value)


def test_use_switches_what_underscore_returns():
    heading = "## Run the check"  # a heading of notebook 00, so it is in every catalogue
    assert i18n._(heading) == heading
    for lang in ("zh", "ja"):
        i18n.use(lang)
        assert i18n.current() == lang
        assert i18n._(heading) not in ("", heading)
    assert i18n._("a sentence no catalogue has") == "a sentence no catalogue has"


# --- markdown blocks -----------------------------------------------------------------------------------------------

CELL = f"""# Title

{BADGE}

First paragraph,
two lines.

```bash
make run

make test
```

- one
- two

---
"""


def test_segments_join_back_exactly():
    for text in (CELL, "", "\n\n", "one", "a\n\n\n  \nb\n", "```\nunclosed\n\nfence"):
        assert "".join(piece for piece, _ in md.segments(text)) == text


def test_messages_are_prose_blocks_only():
    assert list(md.messages(CELL)) == ["# Title", "First paragraph,\ntwo lines.", "- one\n- two"]


def test_translate_keeps_code_and_points_the_badge_at_the_translation():
    translated = md.translate(CELL, lambda s: s.upper(), "zh")
    assert "# TITLE" in translated and "FIRST PARAGRAPH" in translated
    assert "```bash\nmake run\n\nmake test\n```" in translated
    assert "blob/main/notebooks/zh/01_decision_profile.ipynb" in translated
    assert md.point_colab_links(translated, "ja").count("notebooks/ja/01_decision_profile.ipynb") == 1
    assert md.translate(CELL, lambda s: s, "en") == CELL


# --- the Babel toolchain, in a scratch project --------------------------------------------------------------------


def _project(tmp_path: Path, python: str, markdown: str = "## Hello\n\nA paragraph.") -> Path:
    mapping = "[python_messages: pkg/**.py]\n[notebook_markdown: notebooks/*.ipynb]\n"
    (tmp_path / "babel.cfg").write_text(mapping, encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(textwrap.dedent(python), encoding="utf-8")
    (tmp_path / "notebooks").mkdir()
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": markdown},
            {"cell_type": "code", "metadata": {}, "source": "print('not extracted')", "outputs": [], "execution_count": None},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "notebooks" / "00_x.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    return tmp_path


def _translate_all(locale: Path, suffix: str = " (translated)") -> None:
    """Fill every msgstr the way a translator would, keeping the placeholders."""
    for lang in catalogues.TRANSLATED:
        po = i18n.catalogue_path(lang, ".po", locale)
        catalog = po_files.read_catalogue(po, lang)
        for message in catalog:
            if message.id:
                message.string = message.id + suffix
                message.flags.discard("fuzzy")
        po.write_text(po_files.po_text(catalog), encoding="utf-8")


PYTHON = """
    from helpers.core.i18n import _, N_, sentences
    CLAIM = N_("proves the workflow, not model quality")
    SAY = sentences({"ok": "Your runtime ({runtime}) matches.", "joined": "Two literals " "make one sentence.", "skip": 1})
    STEPS = ("Tiny model first.",)
    STEPS = sentences(STEPS)
    def hello(model):
        print(_("Loaded {model} from the shelf.").format(model=model))
    """
PYTHON_IDS = [
    "proves the workflow, not model quality",
    "Your runtime ({runtime}) matches.",
    "Two literals make one sentence.",
    "Tiny model first.",
    "Loaded {model} from the shelf.",
]


def test_extraction_finds_python_and_notebook_markdown(tmp_path):
    template = catalogues.extract(_project(tmp_path, PYTHON))
    ids = [m.id for m in template if m.id]
    assert sorted(ids) == sorted([*PYTHON_IDS, "## Hello", "A paragraph."])
    assert "not extracted" not in "".join(ids)


DATA_MAPPING = "[helpers.core.i18n.extract.extract_data_text: data/*.json]\nkeys = license_note, capability_note\n"


def test_data_notes_are_extracted_by_key_wherever_they_sit(tmp_path):
    (tmp_path / "babel.cfg").write_text(DATA_MAPPING, encoding="utf-8")
    (tmp_path / "data").mkdir()
    document = {
        "about": "Not a note a learner reads in a table.",
        "models": [
            {"id": "org/model", "license_note": "Keep the licence and notices.", "capability_note": "English only."},
            {"id": "org/other", "license_note": "Keep the licence and notices.", "nested": {"capability_note": "Deeper."}},
        ],
    }
    (tmp_path / "data" / "catalogue.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    template = catalogues.extract(tmp_path)
    found = {m.id: m.locations for m in template if m.id}
    assert set(found) == {"Keep the licence and notices.", "English only.", "Deeper."}
    assert found["English only."] == [("data/catalogue.json", 7)]


def test_a_data_mapping_without_keys_is_an_error_that_says_so(tmp_path):
    (tmp_path / "babel.cfg").write_text(DATA_MAPPING.replace("keys = license_note, capability_note\n", ""), encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "catalogue.json").write_text('{"license_note": "x"}', encoding="utf-8")
    with pytest.raises(ValueError, match="without `keys = ...`"):
        catalogues.extract(tmp_path)


def test_update_then_check_fails_until_every_entry_is_translated(tmp_path):
    root = _project(tmp_path, PYTHON)
    locale = root / "locale"
    changed = catalogues.update(root, locale)
    assert {Path(p).name for p in changed} == {"messages.pot", "messages.po", "messages.mo"}
    report = catalogues.check(root, locale)
    assert any("7 untranslated" in p and "zh/LC_MESSAGES/messages.po" in p for p in report.problems)
    assert any("ja/LC_MESSAGES/messages.po" in p for p in report.problems)
    _translate_all(locale)
    catalogues.update(root, locale)
    assert catalogues.check(root, locale).ok
    assert catalogues.update(root, locale) == []  # a rerun changes nothing


def test_sentences_translate_when_read(tmp_path, monkeypatch):
    root = _project(tmp_path, PYTHON)
    locale = root / "locale"
    catalogues.update(root, locale)
    _translate_all(locale, suffix=" [ja]")
    catalogues.update(root, locale)
    monkeypatch.setattr("helpers.core.i18n.LOCALE_DIR", locale)
    say = i18n.sentences({"ok": "Your runtime ({runtime}) matches."})
    steps = i18n.sentences(("Tiny model first.",))
    assert say["ok"] == "Your runtime ({runtime}) matches." and steps[0] == "Tiny model first."
    i18n.use("ja")
    assert say["ok"].format(runtime="vLLM") == "Your runtime (vLLM) matches. [ja]"
    assert list(steps) == ["Tiny model first. [ja]"] and dict(say) == {"ok": "Your runtime ({runtime}) matches. [ja]"}
    assert say.english("ok") == "Your runtime ({runtime}) matches."


def test_changed_english_makes_the_entry_fuzzy_and_fails(tmp_path):
    root = _project(tmp_path, PYTHON)
    locale = root / "locale"
    catalogues.update(root, locale)
    _translate_all(locale)
    catalogues.update(root, locale)
    (root / "pkg" / "mod.py").write_text(textwrap.dedent(PYTHON).replace("from the shelf", "from the shelf, offline"))
    stale = catalogues.check(root, locale)
    assert any("messages.pot is older than the sources" in p for p in stale.problems)
    catalogues.update(root, locale)
    fuzzy = catalogues.check(root, locale)
    assert any("1 fuzzy" in p for p in fuzzy.problems), fuzzy.problems


def test_unbalanced_placeholder_fails_extraction(tmp_path):
    root = _project(tmp_path, 'from helpers.core.i18n import _\n\nMESSAGE = _("Loaded {model from the shelf.")\n')
    with pytest.raises(CatalogueProblem, match=r"pkg/mod.py:3: unbalanced placeholder"):
        catalogues.update(root, root / "locale")
    assert any("unbalanced placeholder" in p for p in catalogues.check(root, root / "locale").problems)


def test_markdown_braces_are_not_placeholders(tmp_path):
    root = _project(tmp_path, "X = 1\n", markdown='Send `{"a": 1` as JSON; a lone } is fine in prose.')
    catalogues.update(root, root / "locale")
    assert not any("placeholder" in p for p in catalogues.check(root, root / "locale").problems)


def test_translation_with_other_placeholders_fails(tmp_path):
    root = _project(tmp_path, PYTHON)
    locale = root / "locale"
    catalogues.update(root, locale)
    _translate_all(locale)
    po = i18n.catalogue_path("ja", ".po", locale)
    po.write_text(po.read_text(encoding="utf-8").replace("{model} from the shelf. (translated)", "{modell} (translated)"))
    catalogues.update(root, locale)
    problems = catalogues.check(root, locale).problems
    assert any("ja/LC_MESSAGES/messages.po" in p and "['modell']" in p and "['model']" in p for p in problems), problems


def test_corrupt_or_missing_po_is_named(tmp_path):
    root = _project(tmp_path, PYTHON)
    locale = root / "locale"
    catalogues.update(root, locale)
    zh, ja = i18n.catalogue_path("zh", ".po", locale), i18n.catalogue_path("ja", ".po", locale)
    zh.write_text('msgid "unterminated\nmsgstr ""\n', encoding="utf-8")
    ja.unlink()
    problems = catalogues.check(root, locale).problems
    assert any(str(zh) in p and "corrupt" in p for p in problems), problems
    assert any(str(ja) in p and "missing" in p for p in problems), problems
    with pytest.raises(CatalogueProblem, match="corrupt"):
        catalogues.update(root, locale)


def test_stale_mo_fails(tmp_path):
    root = _project(tmp_path, PYTHON)
    locale = root / "locale"
    catalogues.update(root, locale)
    _translate_all(locale)  # edited .po, not compiled
    problems = catalogues.check(root, locale).problems
    assert any("messages.mo is older than" in p for p in problems), problems


# --- the kit's own catalogues ------------------------------------------------------------------------------------


def test_the_kits_catalogues_are_complete_and_current():
    report = catalogues.check()
    assert report.ok, "\n".join(report.problems)
