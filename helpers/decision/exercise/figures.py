"""The figures a paragraph cites, read in any of their usual forms, in English, Chinese and Japanese.

A learner writes a pass count as "7/16", "7 of 16", "16 个用例中 7 个" or
"16 ケース中 7", a share as "44%", memory as "0.42 GB", speed as "73 tok/s".
:func:`find_figures` turns each into one :class:`Figure` (its kind, its value,
the precision it was written to), so the checker compares numbers, never
words; :func:`case_ids_in` finds what looks like a case id, known or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"(\d+(?:\.\d+)?)"
TOK_S = re.compile(
    NUMBER + r"\s*(?:output\s+|decode\s+)?(?:tok(?:en)?s?\s*/\s*(?:s(?:ec)?|秒)(?![a-z])|tokens?\s+(?:per|a)\s+second"
    r"|(?:个\s*)?tokens?\s*每秒|トークン\s*(?:/\s*秒|毎秒))",
    re.I,
)
GB = re.compile(NUMBER + r"\s*(?:GB|GiB)(?![a-z])", re.I)
#: A pass count, count first ("7/16", "7 of 16", "7 out of the 16").
COUNT = re.compile(r"(?<![\d.])(\d+)\s*(?:/|\bof\b|\bout of\b)\s*(?:the\s+)?(\d+)(?![\d.]|\s*(?:GB|GiB|%))", re.I)
#: A pass count, total first, as Chinese and Japanese write it ("16 个用例里 … 13 个", "16 ケース中 7").
COUNT_TOTAL_FIRST = re.compile(
    r"(?<![\d.])(\d+)\s*(?:个|件|つの)?\s*(?:固定)?(?:评估|評価)?\s*(?:用例|ケース|cases?)\s*(?:里|中|之中|のうち|中で)"
    r"[^\d。．.；;]{0,12}?(\d+)(?![\d.])",
    re.I,
)
SHARE = re.compile(NUMBER + r"\s*%")
CASE_ID = re.compile(r"(?<![A-Za-z0-9_-])((?:en|zh|ja)-[a-z0-9]+(?:-[a-z0-9]+)+)(?![A-Za-z0-9_-])", re.I)


@dataclass(frozen=True)
class Figure:
    """One number a paragraph states: ``kind`` is ``count``, ``share`` (percent), ``gb`` or ``tok_s``.

    ``value`` is the number as written (a count's passes; a share in percent),
    ``total`` a count's denominator, ``decimals`` the precision it was written to.
    """

    kind: str
    text: str
    value: float
    decimals: int = 0
    total: int | None = None


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def find_figures(text: str) -> list[Figure]:
    """Every figure in ``text``, in the order written. Each span is read once: "0.42 GB" is a GB figure, not a count."""
    found: list[tuple[int, Figure]] = []
    remaining = text
    for kind, pattern in (("tok_s", TOK_S), ("gb", GB), ("count", COUNT), ("count", COUNT_TOTAL_FIRST), ("share", SHARE)):
        for match in pattern.finditer(remaining):
            if kind == "count":
                passed, total = match.groups() if pattern is COUNT else reversed(match.groups())
                figure = Figure(kind, match.group(0).strip(), float(passed), 0, int(total))
            else:
                figure = Figure(kind, match.group(0).strip(), float(match.group(1)), _decimals(match.group(1)))
            found.append((match.start(), figure))
        remaining = pattern.sub(lambda m: " " * len(m.group(0)), remaining)  # keep positions, read each span once
    return [figure for _, figure in sorted(found, key=lambda pair: pair[0])]


def case_ids_in(text: str) -> list[str]:
    """What looks like a case id (``zh-json-ticket``), in the order written, known to the fixed set or not."""
    return list(dict.fromkeys(match.lower() for match in CASE_ID.findall(text)))
