"""Markdown cut into the pieces a translator sees: one paragraph, list or heading at a time.

A notebook's markdown cell is split at blank lines. Each block is one catalogue
entry, so editing one paragraph of a cell leaves its neighbours' translations
current. Fenced code (commands a learner copies) and the Colab badge are not
text to translate: they are copied as they are, and the badge is pointed at the
translated notebook. The extractor and the notebook build both use this one
splitter, so the catalogue holds exactly the blocks the build looks up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_FENCE = re.compile(r"^\s*(```|~~~)")
_BLANK = re.compile(r"^\s*$")
#: A Colab link to a notebook of the course: ``.../blob/<ref>/notebooks/<name>.ipynb``.
_COLAB_LINK = re.compile(
    r"(https://colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/notebooks/)(?:(?:zh|ja)/)?([^/)\s]+\.ipynb)"
)
_BADGE_ONLY = re.compile(r"^\s*\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)\s*$")
_LETTER = re.compile(r"[^\W\d_]")


def segments(text: str) -> Iterator[tuple[str, bool]]:
    """``(piece, is_block)`` pairs that join back to ``text`` exactly; separators are the blank lines.

    A fenced code block stays one block even when it contains blank lines.
    """
    lines = text.splitlines(keepends=True)
    block: list[str] = []
    gap: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is None and _BLANK.match(line):
            if block:
                yield "".join(block), True
                block = []
            gap.append(line)
            continue
        if gap:
            yield "".join(gap), False
            gap = []
        block.append(line)
        opened = _FENCE.match(line)
        if opened and fence is None:
            fence = opened.group(1)
        elif opened and fence == opened.group(1):
            fence = None
    if block:
        yield "".join(block), True
    if gap:
        yield "".join(gap), False


def _split_trailing_newline(block: str) -> tuple[str, str]:
    stripped = block.rstrip("\n")
    return stripped, block[len(stripped) :]


def translatable(block: str) -> bool:
    """Whether a block is prose: not fenced code, not the badge alone, and has letters in it."""
    block = block.strip()
    return bool(_LETTER.search(block)) and not _FENCE.match(block) and not _BADGE_ONLY.match(block)


def messages(text: str) -> Iterator[str]:
    """The catalogue entries of one markdown cell, in order (without trailing newlines)."""
    for piece, is_block in segments(text):
        if is_block and translatable(piece):
            yield _split_trailing_newline(piece)[0]


def point_colab_links(text: str, lang: str) -> str:
    """Make every Colab link to a course notebook open the ``lang`` edition of it (English: ``notebooks/``)."""
    folder = "" if lang == "en" else f"{lang}/"
    return _COLAB_LINK.sub(lambda m: f"{m.group(1)}{folder}{m.group(2)}", text)


def translate(text: str, gettext: Callable[[str], str], lang: str) -> str:
    """One markdown cell in ``lang``: each prose block through ``gettext``, everything else as it was."""
    out = []
    for piece, is_block in segments(text):
        if is_block and translatable(piece):
            body, newline = _split_trailing_newline(piece)
            piece = gettext(body) + newline
        out.append(piece)
    return point_colab_links("".join(out), lang)
