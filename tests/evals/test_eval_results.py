"""Eval results are typed both ways: rows and summaries survive JSON and CSV, and a bad table is named, not misread."""

from __future__ import annotations

import pytest

from helpers.evals import EvalRow, EvalSummary, EvalTableError, SideBySide, read_rows, read_summaries, summarize, write_table
from helpers.evals.results import CSV_COLUMNS, table_path
from helpers.machine.speed import end_to_end_tokens_per_s


def row(
    case_id: str,
    passed: bool,
    *,
    constrained: bool = False,
    runtime: str = "llama.cpp",
    tokens: int = 10,
    latency: float = 0.5,
    output: str = "answer, with a comma\nand a new line",
) -> EvalRow:
    return EvalRow(
        case_id,
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        runtime,
        constrained,
        passed,
        latency,
        tokens,
        "sop",
        "en",
        () if passed else ("regex", "language"),
        output,
    )


RUN = [row("a", True, tokens=30, latency=1.0), row("b", False, tokens=10, latency=1.0), row("c", True, constrained=True)]


def test_summary_counts_passes_and_names_the_cases():
    summary = summarize(RUN)
    assert (summary.cases, summary.passed, summary.pass_rate) == (3, 2, 0.667)
    assert summary.passed_cases == ("a", "c") and summary.failed_cases == ("b",)
    assert summary.constrained and summary.constrained_cases == 1
    assert summary.output_mode == "constrained (response_format on 1 JSON cases)"


def test_tokens_per_second_is_total_tokens_over_total_time():
    summary = summarize(RUN)
    assert summary.tokens_per_s == round(end_to_end_tokens_per_s(50, 2.5), 1) == 20.0


def test_unconstrained_run_says_so():
    summary = summarize(RUN[:2])
    assert not summary.constrained and summary.output_mode == "unconstrained"
    assert summary.label == "SmolLM2-135M-Instruct · llama.cpp"


def test_zero_rows_and_mixed_runs_are_refused():
    with pytest.raises(ValueError, match="zero cases proves nothing"):
        summarize([])
    with pytest.raises(ValueError, match="mix 2 runs"):
        summarize([row("a", True), row("b", True, runtime="transformers")])


def test_json_round_trips():
    summary = summarize(RUN)
    assert EvalSummary.from_json(summary.to_json()) == summary
    assert [EvalRow.from_json(r.to_json()) for r in RUN] == RUN
    pair = SideBySide(summary, summarize(RUN[:2]), tuple(RUN), tuple(RUN[:2]), ("a note",))
    assert SideBySide.from_json(pair.to_json()) == pair


def test_csv_round_trip_and_constrained_tables_do_not_overwrite_free_ones(isolated_outputs):
    free, enforced = write_table(RUN[:2]), write_table(RUN)
    assert free.name == "HuggingFaceTB-SmolLM2-135M-Instruct__llama.cpp.csv"
    assert enforced.name == "HuggingFaceTB-SmolLM2-135M-Instruct__llama.cpp__constrained.csv"
    assert free.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)
    assert read_rows() == RUN[:2] + RUN
    assert read_summaries() == [summarize(RUN[:2]), summarize(RUN)]


def test_no_tables_yet_is_an_empty_list(isolated_outputs):
    assert read_summaries() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        (
            "case_id,model,runtime,passed,latency_s,output_tokens,category,language,failed_graders,output\n"
            "a,m,r,True,0.1,3,sop,en,,text\n",
            r"older version of the kit \(no column constrained\)",
        ),
        (",".join(CSV_COLUMNS) + "\n", "has a header but no rows"),
        (",".join(CSV_COLUMNS) + "\na,m,r,False,True,0.1\n", "line 2: not a complete eval row"),
        (",".join(CSV_COLUMNS) + "\na,m,r,False,True,fast,3,sop,en,,text\n", "line 2: not a complete eval row"),
    ],
    ids=["empty", "older-format", "header-only", "cut-off", "bad-number"],
)
def test_a_bad_table_names_the_file_and_how_to_rewrite_it(isolated_outputs, content, message):
    path = table_path("m", "r")
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalTableError, match=message) as error:
        read_summaries()
    assert "m__r.csv" in str(error.value)
    assert "python -m helpers.evals run" in str(error.value)
