"""Issue 14: the decision in every language. ``--lang`` and the locale pick the language of the
record's Markdown; the JSON keys are the same in every language, so the schema is one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers.core.i18n import current
from helpers.core.paths import REPO_ROOT

HEADINGS = {"en": "# Model Runtime Decision", "zh": "# 模型与运行时决策", "ja": "# モデルと Runtime の決定記録"}


def _run(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "OPENLLM_ROUTES_LANG")
    }
    environ.update(OPENLLM_ROUTES_OUTPUTS=str(tmp_path), **env)
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
def test_decide_prints_the_record_in_the_chosen_language(lang, tmp_path):
    done = _run(["-m", "helpers.decide", "--lang", lang], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(HEADINGS[lang])
    assert (tmp_path / "model_runtime_decision.md").read_text(encoding="utf-8").startswith(HEADINGS[lang])


def test_json_keys_are_the_same_in_every_language(tmp_path):
    keys = {}
    for lang in ("en", "zh", "ja"):
        done = _run(["-m", "helpers.decide", "--lang", lang, "--json", "--dry-run"], tmp_path)
        assert done.returncode == 0, done.stderr
        record = json.loads(done.stdout)
        keys[lang] = json.dumps(_shape(record), sort_keys=True)
    assert keys["en"] == keys["zh"] == keys["ja"]


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_the_lessons_command_reads_the_locale(tmp_path):
    done = _run(
        ["choose_openllm_runtime.py"], tmp_path, LANG="ja_JP.UTF-8", ROUTE="rented_gpu", VRAM_GB="24", NEEDS_SERVICE="yes"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["profile"]["route"] == "rented_gpu"  # the lesson's JSON, as the lesson prints it
    assert (tmp_path / "model_runtime_decision.md").read_text(encoding="utf-8").startswith(HEADINGS["ja"])


def test_the_lessons_json_says_its_claim_and_runtime_in_the_chosen_language(tmp_path):
    """Issue 24: the record keeps the rule's claim and runtime in English; the lesson's printed JSON says them."""
    route = {"ROUTE": "rented_gpu", "VRAM_GB": "24", "NEEDS_SERVICE": "yes"}
    printed = {}
    for lang in ("en", "zh"):
        done = _run(["choose_openllm_runtime.py"], tmp_path, OPENLLM_ROUTES_LANG=lang, **route)
        assert done.returncode == 0, done.stderr
        printed[lang] = json.loads(done.stdout)["decision"]
    en, zh = printed["en"], printed["zh"]
    assert en["claim"] == "This choice proves controlled serving, eval, latency and shutdown."
    assert zh.keys() == en.keys() and (zh["model"], zh["next"]) == (en["model"], en["next"])
    assert zh["claim"] != en["claim"] and zh["runtime"] != en["runtime"] and "vLLM" in zh["runtime"]
    record = json.loads((tmp_path / "model_runtime_decision.json").read_text(encoding="utf-8"))
    assert record["decision"]["claim"] == en["claim"]  # the record itself stays one schema, in English


@pytest.mark.parametrize("args, env", [(["--lang", "fr"], {}), ([], {"OPENLLM_ROUTES_LANG": "cn"})])
def test_an_unknown_language_exits_2_listing_the_three(args, env, tmp_path):
    done = _run(["-m", "helpers.decide", *args], tmp_path, **env)
    assert done.returncode == 2
    assert "en (English), zh (中文), ja (日本語)" in done.stderr
    assert not (tmp_path / "model_runtime_decision.json").exists()


def test_main_leaves_the_language_as_it_found_it(tmp_path, monkeypatch):
    from helpers.tooling.decide import main

    monkeypatch.setenv("OPENLLM_ROUTES_OUTPUTS", str(tmp_path))
    assert main(["--lang", "ja", "--dry-run"]) == 0
    assert current() == "en"
