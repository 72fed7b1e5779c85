"""Graders see text only; JSON graders check values as well as shape; Japanese is not Chinese."""

from __future__ import annotations

import pytest

from helpers.evals import GraderError, grade
from helpers.evals.graders import script_counts

PRIORITY = {"type": "json_fields", "fields": {"priority": "urgent"}}


@pytest.mark.parametrize(
    ("output", "spec", "passes"),
    [
        ("OK.", {"type": "answer", "patterns": ["OK"], "ignore_case": False}, True),
        ("OK then", {"type": "answer", "patterns": ["OK"], "ignore_case": False}, False),
        ("ok", {"type": "answer", "patterns": ["OK"], "ignore_case": False}, False),
        ("**Paris.**", {"type": "answer", "patterns": ["paris"]}, True),
        ("Le Grand Paris, la France, la France.", {"type": "answer", "patterns": ["paris"]}, False),  # "Paris" is in it
        ("Tier 2 handles it", {"type": "absent", "pattern": "(?i)tier\\s*1"}, True),
        ("Tier 1, then Tier 2", {"type": "absent", "pattern": "(?i)tier\\s*1"}, False),
        ("Settings.", {"type": "max_chars", "chars": 10}, True),
        ("Settings. Settings. Settings.", {"type": "max_chars", "chars": 10}, False),
        ("  Open Settings", {"type": "regex", "pattern": "^Open"}, True),  # ^ anchors at the answer's first character
        ("Tier 2 handles it", {"type": "regex", "pattern": "(?i)tier\\s*2"}, True),
        ('{"priority": "high"}', {"type": "json_schema", "schema": {"required": ["priority"]}}, True),
        ('```json\n{"priority": "high"}\n```', {"type": "json_schema", "schema": {"required": ["priority"]}}, True),
        ('Sure! {"priority": "high"}', {"type": "json_schema", "schema": {"required": ["priority"]}}, False),
        ('{"level": 1}', {"type": "json_schema", "schema": {"required": ["priority"]}}, False),
        ('{"priority": "urgent"}', PRIORITY, True),
        ('{"priority": " Urgent "}', PRIORITY, True),
        ('```json\n{"priority": "urgent"}\n```', PRIORITY, True),
        ('{"priority": "low"}', PRIORITY, False),  # the right shape, the wrong answer
        ('{"level": "urgent"}', PRIORITY, False),
        ("urgent", PRIORITY, False),
        ('{"refund_days": 7}', {"type": "json_fields", "fields": {"refund_days": 7}}, True),
        ('{"refund_days": 7.0}', {"type": "json_fields", "fields": {"refund_days": 7}}, True),
        ('{"refund_days": "7"}', {"type": "json_fields", "fields": {"refund_days": 7}}, False),
        ('{"refund_days": 30}', {"type": "json_fields", "fields": {"refund_days": 7}}, False),
        ('{"refund": {"days": 7}}', {"type": "json_fields", "fields": {"refund/days": 7}}, True),
        ('{"ok": 1}', {"type": "json_fields", "fields": {"ok": True}}, False),
        ("北京是中国的首都。", {"type": "language", "language": "zh"}, True),
        ("Beijing 是首都", {"type": "language", "language": "zh"}, False),
        ("Beijing is the capital.", {"type": "language", "language": "en"}, True),
        ("Beijing 北京", {"type": "language", "language": "en"}, False),
        ("", {"type": "language", "language": "en"}, False),
        ("日本の首都は東京です。", {"type": "language", "language": "ja"}, True),
        ("東京です", {"type": "language", "language": "ja"}, True),
        ("北京是中国的首都。", {"type": "language", "language": "ja"}, False),
        ("Tokyo です", {"type": "language", "language": "ja"}, False),
        ("東京はトーキョー", {"type": "language", "language": "en"}, False),
    ],
)
def test_graders(output, spec, passes):
    assert (grade(output, [spec]) == []) is passes


@pytest.mark.parametrize(
    "japanese", ["日本の首都は東京です。", "返金は7営業日以内に処理されます。", "パスワードをリセットしてください"]
)
def test_japanese_is_not_chinese_because_of_its_kana(japanese):
    """Japanese borrows Han characters, so a Han share alone would call it Chinese; the kana decide (issue 14)."""
    han, kana, _ = script_counts(japanese)
    assert kana > 0
    assert grade(japanese, [{"type": "language", "language": "zh"}]) == ["language"]
    assert grade(japanese, [{"type": "language", "language": "ja"}]) == []


def test_grade_names_each_failed_grader():
    specs = [{"type": "json_schema", "schema": {"required": ["priority"]}}, PRIORITY]
    assert grade('{"priority": "low"}', specs) == ["json_fields"]
    assert grade("not json", specs) == ["json_schema", "json_fields"]


def test_unknown_grader_lists_the_known_ones():
    with pytest.raises(GraderError, match="unknown grader 'vibes'; known graders: answer, regex, absent, max_chars"):
        grade("text", [{"type": "vibes"}])
