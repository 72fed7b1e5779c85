"""The exercise reads the evidence, not the words: figures must match rows the kit wrote, keywords alone earn nothing.

Every outputs folder here is written by the kit's own writers (``helpers.evals.write_table`` through
``evidence_sets.eval_table``, and ``csv_text`` over ``helpers.serving.memory.MemoryRow`` for the memory check).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evidence_sets import CASES, eval_table

from helpers.core import names
from helpers.core.paths import atomic_write_text, csv_text
from helpers.decision import LESSON_EXAMPLE, Profile, choose
from helpers.decision.exercise import check
from helpers.decision.exercise.figures import find_figures
from helpers.decision.exercise.languages import STRONG_ANSWERS, STUFFED_ANSWERS
from helpers.decision.verdict import load_gate
from helpers.exercise import learner_paths, review, write_learner_record
from helpers.fits import estimator
from helpers.serving.memory import MemoryRow

#: Notebook 07's own project: a local CPU with 8 GB of RAM, private documents and chat.
PROFILE = Profile(task="course assistant", route="local_cpu", ram_gb=8.0, must_have=("private_docs", "chat"))
HONEST = {
    "en": "For this project, I will start with SmolLM2-135M-Instruct using llama.cpp because the estimator puts its Q4_1 file "
    "at 0.25 GB of RAM against 8 GB, and it passed 7 of 16 fixed cases (44%) where tiny-gpt2 passed 0/16. I will not use a "
    "larger model yet because the memory check measured 0.31 GB for it and no case it fails needs more. I will switch only "
    "if the fixed eval set shows en-sop-escalation failing, or fewer than 13 of 16 cases passing.",
    "zh": "在这个项目里，我先用 SmolLM2-135M-Instruct 搭配 llama.cpp，因为估算器算出它的 Q4_1 文件需要 0.25 GB 内存，而我们有 "
    "8 GB，它在固定用例上通过了 7/16，而 tiny-gpt2 是 0/16。我暂时不换更大的模型，因为内存检查实测它只用 0.31 GB。"
    "只有固定评估集显示 en-sop-escalation 失败，或 16 个用例里通过的不到 13 个时，我才切换。",
    "ja": "このプロジェクトでは、まず SmolLM2-135M-Instruct を llama.cpp で動かします。理由は、見積もりでは Q4_1 ファイルが RAM "
    "8 GB のうち 0.25 GB で、固定ケースで 7/16 合格し、tiny-gpt2 は 0/16 だったからです。まだ大きなモデルに移らない理由は、"
    "メモリチェックの実測が 0.31 GB だからです。固定評価セットが en-sop-escalation の失敗、または 16 ケース中 13 未満の"
    "合格を示したときだけ切り替えます。",
}
#: Stuffed variants: the words every old check looked for, with no claim or a figure nothing holds.
STUFFED = {
    "en": [
        STUFFED_ANSWERS["en"],
        "For this project, I will start with SmolLM2-135M-Instruct using llama.cpp because estimator eval pass fits cases "
        "GB licence. I will not use a larger model yet because eval fail case cost memory GB fit budget evidence. I will "
        "switch only if the fixed eval set shows json chinese 1.",
        "For this project, I will start with SmolLM2-135M-Instruct using llama.cpp because it passed 15/16 and needs 0.9 GB. "
        "I will not use a larger model yet because 99% of cases pass. I will switch only if the fixed eval set shows "
        "zh-json-nonsense failing.",
    ],
    "zh": [
        STUFFED_ANSWERS["zh"],
        "在这个项目里，我先用 SmolLM2-135M-Instruct 搭配 llama.cpp，因为估算 评估 通过 放得下 用例 许可。"
        "我暂时不换更大的模型，因为评估 失败 用例 成本 内存 预算 证据。只有固定评估集显示 中文 json 1 时，我才切换。",
        "在这个项目里，我先用 SmolLM2-135M-Instruct 搭配 llama.cpp，因为它通过了 15/16，只要 0.9 GB。"
        "我暂时不换更大的模型，因为 99% 的用例都通过。只有固定评估集显示 zh-json-nonsense 失败时，我才切换。",
    ],
    "ja": [
        STUFFED_ANSWERS["ja"],
        "このプロジェクトでは、まず SmolLM2-135M-Instruct を llama.cpp で動かします。理由は、見積 評価 合格 収ま ケース "
        "ライセンスです。まだ大きなモデルに移らない理由は、評価 失敗 ケース コスト メモリ 予算 証拠です。固定評価セットが "
        "中国語 json 1 を示したときだけ切り替えます。",
        "このプロジェクトでは、まず SmolLM2-135M-Instruct を llama.cpp で動かします。理由は、15/16 合格し 0.9 GB だから"
        "です。まだ大きなモデルに移らない理由は、99% のケースが合格するからです。固定評価セットが zh-json-nonsense の"
        "失敗を示したときだけ切り替えます。",
    ],
}


def write_evidence(outputs: Path) -> Path:
    """What notebook 02 leaves on this profile's route: tiny-gpt2 at 0/16, SmolLM2 on llama.cpp at 7/16, a memory check."""
    eval_table(outputs, names.TINY_GPT2, "transformers-cpu", 0)
    eval_table(outputs, names.SMOLLM2, "llama.cpp", 7)
    measured = int(0.31 * estimator.GB)
    row = MemoryRow(names.SMOLLM2, "llama.cpp", "q4_1", int(0.25 * estimator.GB), measured, -19.4, 300, -99.9, 1)
    atomic_write_text(outputs / "memory_check.csv", csv_text([row.csv_row()], list(row.csv_row())))
    return outputs


@pytest.fixture
def evidence_outputs(isolated_outputs: Path) -> Path:
    return write_evidence(isolated_outputs)


@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
def test_a_paragraph_that_cites_the_kits_real_rows_passes(evidence_outputs, lang):
    checked = review(HONEST[lang], PROFILE, evidence_outputs)
    assert checked.record.model == names.SMOLLM2 and checked.record.evidence_complete
    assert checked.passed, checked.text()
    assert "7/16 passed (44%)" in checked.text()  # the row it cited, named


@pytest.mark.parametrize(("lang", "variant"), [(lang, i) for lang in STUFFED for i in range(len(STUFFED[lang]))])
def test_stuffed_paragraphs_fail_in_every_language(evidence_outputs, lang, variant):
    checked = review(STUFFED[lang][variant], PROFILE, evidence_outputs)
    assert checked.feedback is not None, checked.problem
    assert not checked.passed, checked.text()
    assert checked.feedback.lang == lang


def test_the_audits_stuffed_paragraph_earns_no_item(evidence_outputs):
    checked = review(STUFFED_ANSWERS["en"], PROFILE)
    notes = {n.text: n.ok for n in checked.feedback.notes}
    assert (
        notes["Your reason gives no evidence. Name the estimator's number (GB against your memory) or an eval result."] is False
    )
    assert notes["Make the switch condition measurable: a pass count, a share, or named cases that fail."] is False
    assert notes['A claim without its figure is not evidence: "I fit in". Give the number it rests on (a GB figure, a pass '
                 "count, a case id)."] is False  # fmt: skip
    assert not any(item.ok for item in checked.feedback.checklist), checked.text()


def test_a_figure_no_row_holds_is_told_which_row_to_cite(evidence_outputs):
    wrong = HONEST["en"].replace("7 of 16 fixed cases (44%)", "9 of 16 fixed cases").replace("0.31 GB", "3.33 GB")
    text = review(wrong, PROFILE, evidence_outputs).text()
    assert (
        '"9 of 16" matches no row the kit wrote. The nearest row: SmolLM2-135M-Instruct on llama.cpp: 7/16 passed (44%)' in text
    )
    assert '"3.33 GB" matches no row the kit wrote. The nearest row: the estimator:' in text
    assert "Not yet" in text


def test_another_models_figure_is_not_evidence_for_this_one(evidence_outputs):
    # 0.49 GB is Qwen2.5-0.5B's figure on llama.cpp, not SmolLM2's
    borrowed = HONEST["en"].replace("0.25 GB of RAM", "0.49 GB of RAM").replace(" where tiny-gpt2 passed 0/16", "")
    text = review(borrowed, PROFILE, evidence_outputs).text()
    assert '"0.49 GB" is not a figure of HuggingFaceTB/SmolLM2-135M-Instruct' in text
    assert "Its nearest row: " in text.split('"0.49 GB"')[1].splitlines()[0] and "SmolLM2" in text.split('"0.49 GB"')[1]


def test_a_pass_count_with_no_eval_table_says_what_writes_one(isolated_outputs):
    text = review(HONEST["en"], PROFILE, isolated_outputs).text()
    assert '"7 of 16" matches no row: nothing in outputs/ holds a pass count yet. Run notebooks 02, 03 and 04' in text


def test_a_switch_count_out_of_the_wrong_total_is_named():
    case_ids = tuple(c.case_id for c in CASES)
    paragraph = STRONG_ANSWERS["en"].replace("13 of 16", "13 of 20")
    text = check(paragraph, choose(LESSON_EXAMPLE), load_gate(case_ids=case_ids), case_ids).text()
    assert '"13 of 20", but the fixed eval set has 16 cases' in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7/16", [("count", 7, 16)]),
        ("7 of 16", [("count", 7, 16)]),
        ("7 out of the 16 cases", [("count", 7, 16)]),
        ("16 个用例里通过的不到 13 个", [("count", 13, 16)]),
        ("16 ケース中 7 件", [("count", 7, 16)]),
        ("44%, 0.42 GB, 73.5 tok/s", [("share", 44, None), ("gb", 0.42, None), ("tok_s", 73.5, None)]),
        ("Qwen2.5-0.5B-Instruct, a 7B model, 2 hours", []),
    ],
)
def test_figures_are_read_in_their_usual_forms(text, expected):
    assert [(f.kind, f.value, f.total) for f in find_figures(text)] == expected


def test_the_learners_record_is_written_beside_the_kits_and_never_replaces_it(evidence_outputs):
    kit = evidence_outputs / "model_runtime_decision.json"
    kit.write_text('{"kit": true}', encoding="utf-8")
    written = write_learner_record(review(HONEST["en"], PROFILE, evidence_outputs))
    json_path, md_path = learner_paths()
    assert json_path.parent == kit.parent and json_path.name != kit.name and md_path.name != "model_runtime_decision.md"
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["paragraph"] == HONEST["en"] and document["feedback"]["passed"] is True
    assert document["record"]["evidence_fit"]["complete"] and document["record"]["profile"]["task"] == PROFILE.task
    assert HONEST["en"][:40] in md_path.read_text(encoding="utf-8") and str(written).startswith("Wrote your record")
    assert json.loads(kit.read_text(encoding="utf-8")) == {"kit": True}
    assert not list(evidence_outputs.glob(".*.tmp"))  # the atomic writer left no temporary file


def test_a_paragraph_that_cannot_be_checked_still_writes_the_record_with_what_to_do(evidence_outputs):
    checked = review("", PROFILE, evidence_outputs)
    write_learner_record(checked)
    document = json.loads(learner_paths()[0].read_text(encoding="utf-8"))
    assert document["feedback"] == {"passed": False, "problem": checked.problem} and "Your paragraph is empty" in checked.problem
