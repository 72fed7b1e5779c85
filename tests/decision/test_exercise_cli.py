"""``python -m helpers.exercise PARAGRAPH_FILE``: the notebook's feedback in a terminal, and its three exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_exercise_evidence import HONEST, PROFILE, STUFFED, write_evidence

from helpers.core.paths import REPO_ROOT
from helpers.decision import choose
from helpers.decision.evidence import gather
from helpers.decision.record import build_record, write_record
from helpers.exercise import main, review


@pytest.fixture
def kit_record(isolated_outputs):
    """The evidence, and the kit's record for notebook 07's profile written by the record's own writer (the CLI reads it)."""
    write_record(build_record(choose(PROFILE), gather(write_evidence(isolated_outputs))))
    return isolated_outputs


def test_an_honest_paragraph_exits_0_with_the_notebooks_feedback(kit_record, tmp_path, capsys):
    path = tmp_path / "paragraph.txt"
    path.write_text(HONEST["en"], encoding="utf-8")
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == review(HONEST["en"]).text() and out.rstrip().endswith("You pass the lesson's criterion.")


@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
def test_a_stuffed_paragraph_exits_1(kit_record, tmp_path, capsys, lang):
    path = tmp_path / "paragraph.txt"
    path.write_text(STUFFED[lang][0], encoding="utf-8")
    assert main([str(path)]) == 1
    assert "[ ]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No file at"),
        (b"", "Your paragraph is empty"),
        (b"  \n\t\n", "Your paragraph is empty"),
        (b"\xff\xfe\x00F\x00o", "cannot be read (UnicodeDecodeError): save your paragraph as a UTF-8 text file"),
        ("directory", "cannot be read (IsADirectoryError)"),
        (b"I will use Qwen because it is good.", "Keep the lesson's three sentences"),
    ],
)
def test_input_that_cannot_be_checked_exits_2_saying_what_to_do(kit_record, tmp_path, capsys, content, message):
    path = tmp_path / "paragraph.txt"
    if content == "directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    assert main([str(path)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_the_terminal_entry_runs_as_a_module(kit_record, tmp_path):
    path = tmp_path / "paragraph.txt"
    path.write_text(HONEST["zh"], encoding="utf-8")
    passed = subprocess.run([sys.executable, "-m", "helpers.exercise", str(path)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "还没有" not in passed.stdout and "[ ]" not in passed.stdout
    path.write_text(STUFFED["zh"][0], encoding="utf-8")
    failed = subprocess.run([sys.executable, "-m", "helpers.exercise", str(path)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert failed.returncode == 1 and "[ ]" in failed.stdout
    missing = subprocess.run([sys.executable, "-m", "helpers.exercise", str(tmp_path / "nope.txt")], capture_output=True,
                             text=True, cwd=REPO_ROOT)  # fmt: skip
    assert missing.returncode == 2 and "No file at" in missing.stderr
