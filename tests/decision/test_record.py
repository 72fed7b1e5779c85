"""The record: the lesson's shape, the evidence fit, writes that lose nothing, old versions, and the lesson's commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from evidence_sets import all_but, eval_table, shutdown_proof

from helpers.core import names
from helpers.core.paths import REPO_ROOT
from helpers.decision import LESSON_EXAMPLE, Profile, choose, record
from helpers.decision.evidence import gather
from helpers.decision.record import (
    RecordError,
    attach_evidence,
    build_record,
    load_record,
    read_record,
    render_markdown,
    write_record,
)
from helpers.tooling import decide

LESSON_FIELDS = (
    "project_goal",
    "must_have",
    "nice_to_have",
    "candidate_1",
    "candidate_2",
    "fallback",
    "why_now",
    "rejected_for_now",
)
CANDIDATE_FIELDS = ("license_note", "runtime", "hardware_note", "risk")


def test_the_record_has_the_lessons_shape_and_its_five_deliverables():
    built = build_record(choose(LESSON_EXAMPLE))
    assert all(built[f] for f in LESSON_FIELDS)
    assert built["must_have"] == ["private_docs", "zh_en_answers", "stable_json"]
    for key in ("candidate_1", "candidate_2"):
        assert all(built[key][f] for f in CANDIDATE_FIELDS)
        assert built[key]["estimate"]["total_gb"] > 0 and built[key]["memory"]["kind"] == "RAM"
    assert set(built["model_decision"]) >= {"model", "license_note", "size", "context_length", "rejected_alternatives"}
    assert set(built["runtime_decision"]) == {"runtime", "hardware_reason", "fallback_runtime"}
    assert built["expected_output"]["files"] == ["outputs/model_runtime_decision.md", "outputs/model_runtime_decision.json"]
    assert [i["name"] for i in built["evidence_fit"]["items"]] == list(record.EVIDENCE_FIT)
    assert built["evidence_fit"]["complete"] is False
    page = render_markdown(built)
    assert page.startswith("# Model Runtime Decision\n\nproject_goal: support-operations SOP assistant  \n")
    for heading in (
        "## Verdict",
        "## Model Decision",
        "## Runtime Decision",
        "## Hardware Note",
        "## Eval Gate",
        "## Expected Output",
        "## Evidence fit: not complete yet",
    ):
        assert heading in page
    for field in LESSON_FIELDS + CANDIDATE_FIELDS:
        assert f"\n{field}: " in page


def test_the_lessons_block_renders_one_line_per_field():
    """JupyterLab, Colab and GitHub join single-newline text into one paragraph; each field must stay on its own line."""
    from markdown_it import MarkdownIt

    page = render_markdown(build_record(choose(LESSON_EXAMPLE)))
    html = MarkdownIt("commonmark").render(page)
    first = html.split("</p>")[0]  # the paragraph under the title: the lesson's block
    assert first.count("<br />") == first.count("\n") - 1 > len(LESSON_FIELDS), first[:300]


def test_a_profile_with_no_candidate_says_so_without_none_or_must_haves_it_was_not_given():
    nothing = build_record(choose(Profile(route="rented_gpu", available_vram_gb=1, must_have=())))
    assert nothing["candidate_1"] is None
    page = render_markdown(nothing)
    assert "None GB" not in page and "covers the must-haves" not in page
    assert "candidate_1: none that fits this profile" in page and "no candidate, so no peak or disk is predicted" in page


def test_evidence_fit_is_complete_only_when_all_five_are_present(isolated_outputs):
    decision = choose(Profile())
    eval_table(isolated_outputs, names.TINY_GPT2, "transformers", 0)
    eval_table(isolated_outputs, names.SMOLLM2, "llama.cpp", all_but())  # the gate passes: the record stays with candidate_1
    fit = build_record(decision, gather(isolated_outputs))["evidence_fit"]
    items = {i["name"]: i for i in fit["items"]}
    assert items["eval_table"]["status"] == "present" and "tiny-gpt2 on transformers 0/" in items["eval_table"]["value"]
    assert items["first_output"]["value"].startswith("en-fact-capital: 'answer to en-fact-capital'")
    assert items["stop_procedure"]["status"] == "present"  # nothing paid runs on the local route
    has_shelf = items["model_version"]["status"] == "present"
    assert fit["complete"] is has_shelf
    if not has_shelf:
        assert "make run" in items["model_version"]["source"]


def test_once_the_signal_is_met_the_record_stands_behind_candidate_2(isolated_outputs):
    eval_table(isolated_outputs, names.TINY_GPT2, "transformers", 0)
    built = build_record(choose(Profile()), gather(isolated_outputs))
    assert built["candidate_1"]["model"] == names.TINY_GPT2
    assert built["model_decision"]["model"] == built["decision"]["model"] == names.SMOLLM2
    assert built["eval_gate"]["switch_if"].startswith(names.SMOLLM2)
    assert built["expected_output"]["first_run_command"] == (
        f"python -m helpers.evals run data/eval_cases/ --model {names.SMOLLM2} --runtime llama.cpp"
    )
    items = {i["name"]: i for i in built["evidence_fit"]["items"]}
    assert items["eval_table"]["status"] == "missing" and built["evidence_fit"]["complete"] is False


def test_a_rented_gpu_record_needs_a_shutdown_proof(isolated_outputs):
    decision = choose(Profile(route="rented_gpu", available_vram_gb=24, needs_service=True))
    built = build_record(decision)
    assert built["expected_output"]["first_run_command"].startswith(f"vllm serve {names.SMOLLM2} --host 127.0.0.1")
    assert "2 h of boot" in built["hardware_note"]["expected_stop_time"]
    stop = {i["name"]: i for i in build_record(decision, gather(isolated_outputs))["evidence_fit"]["items"]}["stop_procedure"]
    assert stop["status"] == "missing" and "notebook 04" in stop["source"]
    shutdown_proof(isolated_outputs)
    stop = {i["name"]: i for i in build_record(decision, gather(isolated_outputs))["evidence_fit"]["items"]}["stop_procedure"]
    assert stop["status"] == "present" and stop["value"].startswith("local_process:")


def test_write_keeps_every_earlier_decision(isolated_outputs):
    first = write_record(build_record(choose(Profile())))
    second = write_record(build_record(choose(Profile(route="rented_gpu", available_vram_gb=24, needs_service=True))))
    assert first.archived != second.archived and "archived as" in str(second)
    archived = sorted((isolated_outputs / "decisions").glob("*.json"))
    assert [json.loads(p.read_text())["profile"]["route"] for p in archived] == ["local_cpu", "rented_gpu"]
    assert load_record()["profile"]["route"] == "rented_gpu"


def test_equal_timestamps_never_overwrite_an_archive(isolated_outputs, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = write_record(build_record(choose(Profile())))
    other = write_record(build_record(choose(Profile(ram_gb=16))))
    again = write_record(build_record(choose(Profile())))
    assert len(list((isolated_outputs / "decisions").glob("*.json"))) == 2
    # the same record under the same fixed clock keeps its archive name, so regenerated notebooks print the same path
    assert first.archived != other.archived and again.archived == first.archived


def test_a_record_that_fails_its_schema_writes_nothing(isolated_outputs):
    write_record(build_record(choose(Profile())))
    before = {p: p.read_bytes() for p in isolated_outputs.rglob("*") if p.is_file()}
    broken = build_record(choose(Profile(route="rented_gpu", available_vram_gb=24)))
    broken["model_decision"]["rejected_alternatives"] = []
    with pytest.raises(RecordError, match="model_decision/rejected_alternatives"):
        write_record(broken)
    assert {p: p.read_bytes() for p in isolated_outputs.rglob("*") if p.is_file()} == before


def test_a_crash_mid_write_leaves_the_previous_record(isolated_outputs, monkeypatch):
    write_record(build_record(choose(Profile())))
    previous = (isolated_outputs / "model_runtime_decision.json").read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(record.store, "atomic_write_json", crash)
    with pytest.raises(OSError):
        write_record(build_record(choose(Profile(route="rented_gpu", available_vram_gb=24))))
    assert (isolated_outputs / "model_runtime_decision.json").read_bytes() == previous


def test_an_older_schema_version_is_refused_with_what_to_do_and_kept(isolated_outputs):
    old = isolated_outputs / "model_runtime_decision.json"
    old.write_text(json.dumps({"schema_version": 1, "profile": {"route": "local_cpu", "vram_gb": 8}}), encoding="utf-8")
    before = old.read_bytes()
    with pytest.raises(RecordError, match="schema_version 1.*choose_openllm_runtime.py"):
        attach_evidence()
    assert old.read_bytes() == before and not (isolated_outputs / "decisions").exists()


@pytest.mark.parametrize("content", ["", '{"schema_version": 2, "profile": {"rou'])
def test_an_empty_or_half_written_record_is_refused_and_kept(isolated_outputs, content):
    current = isolated_outputs / "model_runtime_decision.json"
    current.write_text(content, encoding="utf-8")
    with pytest.raises(RecordError, match="empty or not valid JSON"):
        load_record()
    assert current.read_text(encoding="utf-8") == content


def test_attaching_evidence_twice_gives_the_same_record(isolated_outputs, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert attach_evidence() is None  # no record yet: nothing written
    write_record(build_record(choose(LESSON_EXAMPLE)))
    eval_table(isolated_outputs, names.TINY_GPT2, "transformers", 0)
    attach_evidence()
    once = (isolated_outputs / "model_runtime_decision.json").read_text()
    attach_evidence()
    assert (isolated_outputs / "model_runtime_decision.json").read_text() == once
    assert json.loads(once)["verdict"][0]["status"] == "met"
    assert read_record().mine.status == "met" and read_record().model == "Qwen/Qwen2.5-0.5B-Instruct"


def run_cli(script: list[str], outputs, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("ROUTE", "VRAM_GB", "NEEDS_SERVICE", "PRIVACY", "TASK", "MUST_HAVE")
    }
    return subprocess.run(
        [sys.executable, *script],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**clean, "OPENLLM_ROUTES_OUTPUTS": str(outputs), **env},
    )


@pytest.mark.parametrize(
    ("env", "model"),
    [
        ({}, names.TINY_GPT2),
        ({"ROUTE": "local_cpu"}, names.TINY_GPT2),
        ({"ROUTE": "free_colab"}, names.TINY_GPT2),
        ({"ROUTE": "rented_gpu", "VRAM_GB": "24", "NEEDS_SERVICE": "yes", "PRIVACY": "private_docs"}, names.SMOLLM2),
    ],
)
def test_the_lessons_commands_work_as_written(tmp_path, env, model):
    result = run_cli(["choose_openllm_runtime.py"], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert set(printed) == {"profile", "decision"} and printed["decision"]["model"] == model
    assert printed["profile"]["available_vram_gb"] == float(env.get("VRAM_GB", 0))
    assert (tmp_path / "model_runtime_decision.json").exists() and (tmp_path / "model_runtime_decision.md").exists()


def test_flags_override_environment(isolated_outputs, monkeypatch, capsys):
    monkeypatch.setenv("ROUTE", "rented_gpu")
    assert decide.main(["--route", "free_colab", "--vram-gb", "15", "--must-have", "zh_en_answers", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["profile"]["route"] == "free_colab" and printed["candidate_1"]["model"] == "Qwen/Qwen2.5-0.5B-Instruct"


@pytest.mark.parametrize("env", [{"VRAM_GB": "-1"}, {"ROUTE": "moon"}, {"MUST_HAVE": "telepathy"}])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys, env):
    monkeypatch.setenv("OPENLLM_ROUTES_OUTPUTS", str(tmp_path / "out"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert decide.main([], lesson=True) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and next(iter(env)) in error
    assert not (tmp_path / "out").exists()


def test_the_lessons_script_exits_2_on_bad_input(tmp_path):
    result = run_cli(["choose_openllm_runtime.py"], tmp_path / "out", VRAM_GB="abc")
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "VRAM_GB" in result.stderr
    assert not (tmp_path / "out").exists()
