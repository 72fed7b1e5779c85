"""A shelf without the Qwen wheels (PyPI down, a part withdrawn) is said in one sentence; the rest of the shelf runs."""

from __future__ import annotations

from helpers.core import names
from helpers.shelf import status


def test_a_missing_optional_entry_is_one_sentence_with_what_to_run(monkeypatch):
    monkeypatch.setattr(status, "problems", lambda entry: [f"{entry.folder} has no shelf_manifest.json"])
    said = status.missing_for(names.QWEN_LESSON)  # the lesson's name finds its sibling
    assert said is not None and said.startswith(f"{names.QWEN_LESSON} is missing from the shelf")
    assert "Qwen2.5-Coder-0.5B-Instruct-GGUF has no shelf_manifest.json" in said and "run `make shelf`" in said


def test_a_complete_entry_or_a_required_one_is_not_missing(monkeypatch):
    monkeypatch.setattr(status, "problems", lambda entry: [])
    assert status.missing_for(names.QWEN_SIBLING) is None
    monkeypatch.setattr(status, "problems", lambda entry: ["gone"])
    assert status.missing_for(names.SMOLLM2) is None  # required: setup fails on it instead, naming the step
    assert status.missing_for("no-such/model") is None
