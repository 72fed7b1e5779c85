"""Helper messages a learner reads come in the notebook's language, with the same numbers and names as in English.

The catalogue check (tests/core/test_i18n.py) proves every message has a translation;
these tests prove the helpers actually ask for it at the moment they speak, for
one message of each kind: a CPU cost note, a capacity search note, a profile
error, a Colab plan, the offline shelf's error, and a failure-rehearsal sentence;
and (issue 24) the model catalogue's notes, the rule's reasons, the rehearsal dtype's
reason and a local server's start hint, which the translated notebooks printed in English.
"""

from __future__ import annotations

import pytest

from helpers import serving
from helpers.core.i18n import speaking
from helpers.core.paths import REPO_ROOT
from helpers.decision import DecisionError, Profile
from helpers.decision.colab_plan import plan_route
from helpers.machine import gpu
from helpers.machine.gpu import GpuReport, TorchFacts
from helpers.runtimes.client import ServingError
from helpers.serving import capacity as cap
from helpers.serving import cost
from helpers.serving.errors import explain
from helpers.shelf.models import ShelfError, resolve

LANGS = ("zh", "ja")


def has_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("lang", LANGS)
def test_a_cpu_cost_note_never_prices_a_gpu_in_any_language(lang):
    trial = cap.CapacityPoint(2.0, True, True, 100.0, None, None, 50.0, 0, None, 20, 25.0)
    capacity = serving.Capacity({"ttft": 500.0, "tpot": 50.0}, 2.0, 50.0, "test", "found", 0.1, [], "", [trial] * 3)
    cpu = serving.Origin("127.0.0.1:8000", "this_machine", "AMD EPYC", "cpu", "python", 1, "test")
    prices = {"cpu_hourly_usd": 0.1, "gpu_name": "L4", "gpu_hourly_usd": 0.7}
    english = cost.cost_note(origin=cpu, capacity=capacity, boot_s=0, idle_s=0, **prices)
    with speaking(lang):
        note = cost.cost_note(origin=cpu, capacity=capacity, boot_s=0, idle_s=0, **prices)
    assert note.estimates == [] and note.usd_per_million_output_tokens == english.usd_per_million_output_tokens
    assert english.usd_per_million_output_tokens is not None
    assert len(note.notes) == len(english.notes) == 1
    assert "AMD EPYC" in note.notes[0] and has_cjk(note.notes[0]) and "no GPU figure" not in note.notes[0]
    assert "2" in note.basis and has_cjk(note.basis)


@pytest.mark.parametrize("lang", LANGS)
def test_a_capacity_note_keeps_its_numbers_in_every_language(lang):
    def never_meets(rate):
        raise RuntimeError("no server")

    with speaking(lang):
        result = cap.search_capacity(never_meets, start_rate=0.5)
    assert result.status == "aborted" and has_cjk(result.note) and has_cjk(result.method)
    assert "0.5" in result.note and "RuntimeError" in result.note


@pytest.mark.parametrize("lang", LANGS)
def test_a_bad_profile_field_is_named_in_the_learners_language(lang):
    with speaking(lang), pytest.raises(DecisionError) as raised:
        Profile(route="gpu_cloud")
    message = str(raised.value)
    assert "ROUTE" in message and "local_cpu" in message and "'gpu_cloud'" in message and has_cjk(message)


@pytest.mark.parametrize("lang", LANGS)
def test_the_colab_plan_without_a_gpu_says_why_in_the_learners_language(lang):
    report = GpuReport("colab", TorchFacts("2.13.0+cpu", None, False), gpu.NO_DRIVER)
    with speaking(lang):
        route = plan_route(report, "cpu")
    assert route.second is None and has_cjk(route.skipped) and has_cjk(route.first.proves)


@pytest.mark.parametrize("lang", LANGS)
def test_an_unknown_model_offline_lists_the_shelf_in_the_learners_language(lang, monkeypatch):
    monkeypatch.setattr("helpers.shelf.models.hub_reachable", lambda: False)
    monkeypatch.setattr("helpers.shelf.models.in_hub_cache", lambda name: False)
    with speaking(lang), pytest.raises(ShelfError) as raised:
        resolve("no-such/model")
    assert "'no-such/model'" in str(raised.value) and "sshleifer/tiny-gpt2" in str(raised.value) and has_cjk(str(raised.value))


@pytest.mark.parametrize("lang", LANGS)
def test_an_unreachable_server_is_explained_in_the_learners_language(lang):
    import httpx

    with speaking(lang):
        error = explain(httpx.ConnectError("refused"), "http://127.0.0.1:9/v1")
    assert isinstance(error, ServingError) and "127.0.0.1:9" in str(error) and has_cjk(str(error))


@pytest.mark.parametrize("lang", LANGS)
def test_a_constant_imported_in_english_speaks_the_notebook_language_when_printed(lang):
    from helpers.serving.launch import KEY_NOTE  # imported before the switch, as a notebook cell does

    english_rule = str(serving.BINDING_RULE)
    with speaking(lang):
        rule, note = str(serving.BINDING_RULE), str(KEY_NOTE)
    assert has_cjk(rule) and "127.0.0.1" in rule and rule != english_rule
    assert note.startswith("export VLLM_API_KEY=...") and has_cjk(note)  # the command stays a command
    assert str(KEY_NOTE).endswith("# a long random secret, typed once on the GPU host; never commit or print it")


# --- issue 24: what the translated notebooks printed in English -----------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_catalogues_notes_are_read_in_the_learners_language(lang):
    """data/model_catalogue.json stays English; babel.cfg extracts its notes, so every one of them has a translation."""
    from helpers.catalogue.models import catalogue
    from helpers.core.i18n import _

    notes = [m[key] for m in catalogue()["models"] for key in ("license_note", "capability_note") if m.get(key)]
    with speaking(lang):
        said = [_(note) for note in notes]
    assert len(notes) == 16 and all(has_cjk(text) for text in said), [
        n for n, s in zip(notes, said, strict=True) if not has_cjk(s)
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_what_a_model_lacks_and_why_it_is_set_aside_are_in_the_learners_language(lang):
    from helpers.core import names
    from helpers.decision import LESSON_EXAMPLE, choose, lacks

    [(need, why)] = lacks(names.SMOLLM2, ("zh_en_answers",))
    with speaking(lang):
        [(need_here, why_here)] = lacks(names.SMOLLM2, ("zh_en_answers",))
        rejected = {r.model: r.reason for r in choose(LESSON_EXAMPLE).rejected}
    assert need_here == need and has_cjk(why_here) and "135M" in why_here and why.startswith("Its model card")
    assert rejected and all(has_cjk(reason) for reason in rejected.values()), rejected
    assert any("zh_en_answers" in reason for reason in rejected.values())  # the must-have keeps its name


@pytest.mark.parametrize("lang", LANGS)
def test_the_rehearsal_dtype_says_why_in_the_learners_language(lang, monkeypatch):
    from helpers.serving import dtype

    epyc = (REPO_ROOT / "tests" / "data" / "cpuinfo_amd_epyc_2cores.txt").read_text()
    monkeypatch.setattr(dtype, "read_cpuinfo", lambda: epyc)
    checks = [dtype.DecodeCheck("bfloat16", True, 28.17), dtype.DecodeCheck("float32", True, 43.09)]
    chosen, reason = dtype.pick_dtype(epyc, checks)
    choice = dtype.DtypeChoice(chosen, reason, "AMD EPYC", "2026-12-07T12:04:56+00:00", checks)
    assert (
        choice.why()
        == reason
        == (
            "bf16, because it decoded faster than fp32 here (28.17 against 43.09 ms per token, median TPOT) and AMD EPYC has "
            "avx512_bf16"
        )
    )
    with speaking(lang):
        said, elsewhere = choice.why(), dtype.DtypeChoice(chosen, reason, "another CPU", "", checks).why()
    assert has_cjk(said) and "28.17" in said and "43.09" in said and "avx512_bf16" in said
    assert elsewhere == reason  # a choice made on another CPU keeps the sentence it was cached with


@pytest.mark.parametrize("lang", LANGS)
def test_how_to_start_a_local_server_is_said_in_the_learners_language(lang):
    from helpers.routes.handoff import require_running

    with speaking(lang), pytest.raises(ServingError) as raised:
        require_running("http://localhost:1234/v1")  # LM Studio's port, where nothing listens in a test
    message = str(raised.value)
    assert "LM Studio" in message and "Developer" in message and has_cjk(message) and "load the model" not in message
