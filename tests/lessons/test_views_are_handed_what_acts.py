"""The views that used to act now show what the notebook hands them: the form's writer, the roofline rows, the server."""

from __future__ import annotations

from dataclasses import fields, replace

from helpers.decision import LESSON_EXAMPLE, Profile
from helpers.lessons import landscape as views
from helpers.lessons.decision import profile_form
from helpers.lessons.serving import show_rehearsal_start
from helpers.routes.rented_gpu import LLAMA_CPP_SERVER, VLLM_CPU


def _widgets(box) -> list:
    """Every input widget of the form, in order, flattened out of its rows."""
    return [w for child in box.children[:-2] for w in getattr(child, "children", (child,))]


def test_the_profile_form_has_one_widget_per_profile_field_and_decide_writes_through_the_writer_it_was_handed(
    isolated_outputs, capsys
):
    written: list[dict] = []
    profile = replace(LESSON_EXAMPLE, task="route a ticket", ram_gb=12.0)
    box = profile_form(profile, write=lambda record: written.append(record) or "the writer's answer")
    inputs = _widgets(box)
    assert len(inputs) == len(fields(Profile))
    box.children[-2].click()
    assert [record["profile"]["task"] for record in written] == ["route a ticket"]
    assert Profile.from_json(written[0]["profile"]) == profile
    assert "the writer's answer" in capsys.readouterr().out
    assert list(isolated_outputs.iterdir()) == []


def test_the_roofline_view_says_why_there_is_no_table_when_handed_none(capsys):
    assert views.roofline_table(None) is None
    assert "not measured on this machine yet" in capsys.readouterr().out


def test_the_rehearsal_announcement_names_the_server_that_started(capsys):
    show_rehearsal_start(VLLM_CPU)
    show_rehearsal_start(LLAMA_CPP_SERVER)
    vllm, llama = capsys.readouterr().out.splitlines()
    assert vllm.startswith("Started the rehearsal server: vLLM (CPU build)")
    assert "llama.cpp's OpenAI-compatible server" in llama
