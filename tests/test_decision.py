"""Profile → decision → record: every route, every bad input, and writes that lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import decision
from helpers.decision import DecisionError, Profile, build_record, choose, parse_profile, write_record
from helpers.paths import REPO_ROOT


@pytest.mark.parametrize(
    ("profile", "model", "runtime_word", "claim_word"),
    [
        (Profile(route="local_cpu", vram_gb=8), "sshleifer/tiny-gpt2", "Transformers", "workflow"),
        (Profile(route="free_colab", vram_gb=0), "sshleifer/tiny-gpt2", "CPU", "portable"),
        (Profile(route="free_colab", vram_gb=15), "Qwen/Qwen2.5-0.5B-Instruct", "Colab GPU", "portable"),
        (Profile(route="rented_gpu", vram_gb=24, needs_service=True), "Qwen/Qwen2.5-0.5B-Instruct", "vLLM", "serving"),
        (Profile(route="rented_gpu", vram_gb=24), "Qwen/Qwen2.5-0.5B-Instruct", "Transformers first", "GPU before"),
        (Profile(route="rented_gpu", vram_gb=8), "HuggingFaceTB/SmolLM2-135M-Instruct", "llama.cpp", "do not start GPU serving"),
        (Profile(route="local_cpu", vram_gb=0.2), "HuggingFaceTB/SmolLM2-135M-Instruct", "llama.cpp", "do not start GPU serving"),
    ],
)
def test_every_route_of_the_lesson(profile, model, runtime_word, claim_word):
    choice = choose(profile)
    assert choice.model == model
    assert runtime_word in choice.runtime
    assert claim_word in choice.claim


def test_small_gpu_says_do_not_serve_and_respects_privacy():
    restricted = build_record(Profile(route="rented_gpu", vram_gb=8, privacy="restricted"))
    assert restricted["hardware_note"]["start_gpu_serving"] is False
    assert "no hosted API" in restricted["runtime_decision"]["fallback_runtime"]
    public = choose(Profile(route="rented_gpu", vram_gb=8, privacy="public"))
    assert "hosted API" in public.fallback_runtime


def test_rented_gpu_record_has_launch_command_and_stop_time():
    record = build_record(Profile(route="rented_gpu", vram_gb=24, needs_service=True))
    command = record["expected_output"]["first_run_command"]
    assert command.startswith("vllm serve Qwen/Qwen2.5-0.5B-Instruct --host 127.0.0.1")
    assert '--api-key "$VLLM_API_KEY"' in command and "--gpu-memory-utilization 0.90" in command
    assert "2 h" in record["hardware_note"]["expected_stop_time"]
    rejected = {r["model"]: r["reason"] for r in record["model_decision"]["rejected_alternatives"]}
    assert rejected["Qwen/Qwen2.5-72B-Instruct"].startswith("does not fit")


def test_paragraph_is_filled_in():
    paragraph = build_record(Profile())["decision_paragraph"]
    assert paragraph.startswith("For this project, I will start with sshleifer/tiny-gpt2 using ")
    assert "I will not use a larger model yet because " in paragraph
    assert "I will switch only if the fixed eval set shows " in paragraph and "_" not in paragraph


@pytest.mark.parametrize(
    ("values", "field", "allowed"),
    [
        ({"ROUTE": "moon"}, "ROUTE", "local_cpu, free_colab, rented_gpu"),
        ({"VRAM_GB": "abc"}, "VRAM_GB", "0 or more"),
        ({"VRAM_GB": "-4"}, "VRAM_GB", "0 or more"),
        ({"VRAM_GB": "inf"}, "VRAM_GB", "0 or more"),
        ({"NEEDS_SERVICE": "maybe"}, "NEEDS_SERVICE", "yes or no"),
        ({"PRIVACY": "secret"}, "PRIVACY", "public, internal, restricted"),
    ],
)
def test_bad_profile_names_the_field_and_the_allowed_values(values, field, allowed):
    with pytest.raises(DecisionError) as error:
        parse_profile(values)
    assert field in str(error.value) and allowed in str(error.value)


def test_write_keeps_every_earlier_decision(tmp_path):
    first = write_record(build_record(Profile(route="local_cpu", vram_gb=8)), tmp_path)
    second = write_record(build_record(Profile(route="rented_gpu", vram_gb=24, needs_service=True)), tmp_path)
    assert first["archived"] != second["archived"]
    archived = sorted((tmp_path / "decisions").glob("*.json"))
    assert [json.loads(p.read_text())["profile"]["route"] for p in archived] == ["local_cpu", "rented_gpu"]
    current = json.loads((tmp_path / "model_runtime_decision.json").read_text())
    assert current["profile"]["route"] == "rented_gpu"
    assert (tmp_path / "model_runtime_decision.md").read_text().startswith("# Model/runtime decision")


def test_record_that_fails_its_schema_writes_nothing(tmp_path):
    write_record(build_record(Profile()), tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    record = build_record(Profile(route="rented_gpu", vram_gb=24))
    record["model_decision"]["rejected_alternatives"] = []
    with pytest.raises(DecisionError, match="model_decision/rejected_alternatives"):
        write_record(record, tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_crash_mid_write_leaves_the_previous_record(tmp_path, monkeypatch):
    write_record(build_record(Profile()), tmp_path)
    previous = (tmp_path / "model_runtime_decision.json").read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(decision.json, "dumps", crash)
    with pytest.raises(OSError):
        write_record(build_record(Profile(route="rented_gpu", vram_gb=24)), tmp_path)
    assert (tmp_path / "model_runtime_decision.json").read_bytes() == previous
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=REPO_ROOT,
        env={**os.environ, **env},
    )


def test_the_lessons_command_works_as_written(tmp_path):
    result = run_cli("choose_openllm_runtime.py", ROUTE="rented_gpu", VRAM_GB="24", NEEDS_SERVICE="yes",
                     OPENLLM_ROUTES_OUTPUTS=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "vllm serve Qwen/Qwen2.5-0.5B-Instruct" in result.stdout
    assert (tmp_path / "model_runtime_decision.json").exists()


def test_flags_override_environment(tmp_path):
    result = run_cli("-m", "helpers.decide", "--route", "free_colab", "--vram-gb", "15", "--json",
                     ROUTE="rented_gpu", OPENLLM_ROUTES_OUTPUTS=str(tmp_path))
    assert json.loads(result.stdout)["profile"]["route"] == "free_colab"


@pytest.mark.parametrize("env", [{"VRAM_GB": "abc"}, {"VRAM_GB": "-1"}, {"ROUTE": "moon"}])
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, env):
    result = run_cli("-m", "helpers.decide", OPENLLM_ROUTES_OUTPUTS=str(tmp_path / "out"), **env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and next(iter(env)) in result.stderr
    assert not (tmp_path / "out").exists()
