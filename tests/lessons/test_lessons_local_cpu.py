"""Notebook 02's sentences are written from the numbers, from what the resolver loaded, and from the one verdict."""

from __future__ import annotations

import pytest
from evidence_sets import CASES, eval_table

from helpers.core.names import SMOLLM2, TINY_GPT2
from helpers.decision import LESSON_EXAMPLE, choose
from helpers.decision.evidence import gather
from helpers.decision.verdict import judge
from helpers.evals import EvalSummary
from helpers.lessons.local_cpu import upgrade_verdict, weights_note
from helpers.shelf.models import SHELF_ENTRIES, gguf_file


def summary(model: str, runtime: str, passed: int, *, constrained: bool = False) -> EvalSummary:
    ids = tuple(c.case_id for c in CASES)
    return EvalSummary(model, runtime, constrained, 4 if constrained else 0, len(ids), passed, round(passed / len(ids), 3),
                       30.0, ids[:passed], ids[passed:])  # fmt: skip


@pytest.mark.parametrize(("smollm2_passes", "headline"), [(4, "upgrade signal met"), (len(CASES), "not met")])
def test_notebook_02_prints_the_verdict_notebook_06_judges(isolated_outputs, smollm2_passes, headline):
    """No bar of its own: the same judge and gate.json decide, so a run that passes every case is 'not met' in both."""
    eval_table(isolated_outputs, TINY_GPT2, "transformers", 0)
    eval_table(isolated_outputs, SMOLLM2, "llama.cpp", smollm2_passes)
    summaries = [summary(TINY_GPT2, "transformers", 0), summary(SMOLLM2, "llama.cpp", smollm2_passes)]
    verdict = judge(choose(LESSON_EXAMPLE), gather(isolated_outputs))
    text = upgrade_verdict(summaries, verdict)
    assert verdict.card("local_cpu").headline.startswith(headline)
    assert f"Verdict (the same judge as notebook 06): {verdict.card('local_cpu').headline}." in text
    assert f"at {verdict.pass_share:.0%} of the cases or more" in text
    assert "on a GPU route" not in text


def test_constrained_runs_are_set_beside_their_unconstrained_twin(isolated_outputs):
    eval_table(isolated_outputs, SMOLLM2, "llama.cpp", 3)
    summaries = [summary(TINY_GPT2, "transformers", 0), summary(SMOLLM2, "llama.cpp", 3),
                 summary(SMOLLM2, "llama.cpp", 6, constrained=True)]  # fmt: skip
    text = upgrade_verdict(summaries, judge(choose(LESSON_EXAMPLE), gather(isolated_outputs)))
    assert "with enforced JSON passes 6 of" in text
    assert "Enforcing the JSON schema on llama.cpp changes +3 passes" in text


def test_weights_note_follows_what_was_loaded():
    offline = weights_note(str(SHELF_ENTRIES[SMOLLM2].path), gguf_file())
    assert offline.startswith("Both SmolLM2 runs use the same Q4_1 weights") and "cannot show quantization loss" in offline
    online = weights_note(SMOLLM2, gguf_file())  # resolve returned the hub id: the original weights
    assert "mixes the runtime and quantization" in online


def test_the_record_shown_fits_a_screen_and_folds_the_evidence(monkeypatch):
    """The lesson's lines stay in view; the verdict and the evidence, some 60 lines, open with one click."""
    import helpers.lessons.decision as views
    from helpers.decision import choose, parse_profile
    from helpers.decision.record import build_record

    shown = []
    monkeypatch.setattr(views, "display", lambda markdown: shown.append(markdown.data))
    views.show_record(build_record(choose(parse_profile({"ROUTE": "local_cpu"}))))
    in_view, folded = shown[0].split("<details>")
    assert "project_goal:" in in_view and "rejected_for_now:" in in_view and "## " not in in_view
    assert len(in_view.splitlines()) <= 30 and folded.lstrip().startswith("<summary>") and "## " in folded
