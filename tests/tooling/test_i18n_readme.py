"""Issue 14: the README in three languages, linked at the top, with the same commands and measured tables.

Commands and measured tables live in fenced blocks, so "the same" is checked
exactly: every fenced block of ``README.md`` appears, unchanged, in each
translation. A figure updated in English and not in a translation fails here.
"""

from __future__ import annotations

import re

import pytest

from helpers.core.paths import REPO_ROOT

READMES = {"en": "README.md", "zh": "README.zh.md", "ja": "README.ja.md"}
FENCE = re.compile(r"^```[^\n]*\n.*?^```$", re.MULTILINE | re.DOTALL)


def _text(lang: str) -> str:
    return (REPO_ROOT / READMES[lang]).read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", READMES)
def test_each_readme_links_the_other_two_at_the_top(lang):
    first = _text(lang).splitlines()[0]
    for other, name in READMES.items():
        assert name in first or other == lang, f"{READMES[lang]}'s first line does not link {name}"


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_translations_carry_every_command_and_measured_table(lang):
    translated = _text(lang)
    missing = [block for block in FENCE.findall(_text("en")) if block not in translated]
    assert not missing, f"{READMES[lang]} lacks {len(missing)} fenced blocks of README.md, first:\n{missing[:1]}"


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_translated_badge_opens_the_translated_notebook(lang):
    assert f"/blob/main/notebooks/{lang}/00_setup_check.ipynb)" in _text(lang)
