"""The fixed eval gate: versioned cases, graders that do not care about the runtime, runners, and typed results.

Cases live in ``data/eval_cases/*.jsonl`` (:mod:`~helpers.evals.cases`). The same
cases run on every route: Transformers and llama.cpp in process, and any
OpenAI-compatible endpoint (:mod:`~helpers.evals.runners`). Only generation
differs between runtimes; the graders see text and nothing else
(:mod:`~helpers.evals.graders`), and each case's examples of answers a person
would accept and reject check its graders before any model is scored
(:func:`~helpers.evals.cases.check_examples`). Each run is a table of :class:`EvalRow` and one
:class:`EvalSummary` (:mod:`~helpers.evals.results`), which says whether the
output was constrained. ``python -m helpers.evals`` is the command line.
"""

from helpers.evals.cases import Case, CaseFileError, check_examples, load_cases
from helpers.evals.graders import GRADERS, GraderError, grade, parse_json_answer
from helpers.evals.results import (
    EvalRow,
    EvalSummary,
    EvalTableError,
    SideBySide,
    read_rows,
    read_summaries,
    read_table,
    run_cases,
    run_side_by_side,
    summarize,
    table_files,
    table_path,
    write_table,
)
from helpers.evals.runners import LlamaCppRunner, OpenAIRunner, Runner, TransformersRunner, make_runner

__all__ = [
    "GRADERS",
    "Case",
    "CaseFileError",
    "EvalRow",
    "EvalSummary",
    "EvalTableError",
    "GraderError",
    "LlamaCppRunner",
    "OpenAIRunner",
    "Runner",
    "SideBySide",
    "TransformersRunner",
    "check_examples",
    "grade",
    "load_cases",
    "make_runner",
    "parse_json_answer",
    "read_rows",
    "read_summaries",
    "read_table",
    "run_cases",
    "run_side_by_side",
    "summarize",
    "table_files",
    "table_path",
    "write_table",
]
