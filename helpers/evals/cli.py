"""``python -m helpers.evals``: check the case files, or run them on one model and runtime.

    python -m helpers.evals validate data/eval_cases/
    python -m helpers.evals run --runtime transformers --model sshleifer/tiny-gpt2
    python -m helpers.evals run --runtime llama.cpp                          # SmolLM2 Q4_1 from the shelf
    python -m helpers.evals run --runtime openai --base-url http://127.0.0.1:8000/v1 --label vllm --output-mode both
    python -m helpers.evals run --runtime openai --base-url http://localhost:11434/v1 --label ollama  # any endpoint

A bad case file exits 2 with a message naming the file and line; nothing runs. ``validate`` also grades
every case's examples (answers a person would accept and reject) with the case's own graders, and a case
whose graders pass a rejected answer or fail an accepted one is refused the same way, by ``run`` too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV
from helpers.core.paths import EVAL_CASES, relative
from helpers.evals.cases import CaseFileError, load_cases
from helpers.evals.results import EvalSummary, run_cases, run_side_by_side, summarize, table_path, write_table
from helpers.evals.runners import RUNTIMES, OpenAIRunner, make_runner
from helpers.machine.speed import END_TO_END_LABEL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.evals", description="The fixed eval gate: check or run the cases.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("validate", help="check every case file and grade its examples; no model runs")
    check.add_argument("path", nargs="?", default=str(EVAL_CASES))
    run = sub.add_parser("run", help="run the cases and write outputs/evals/<model>__<runtime>[__constrained].csv")
    run.add_argument("path", nargs="?", default=str(EVAL_CASES))
    run.add_argument("--runtime", choices=RUNTIMES, default="transformers")
    run.add_argument(
        "--model", help="hub name (default: tiny-gpt2 on transformers, SmolLM2 on llama.cpp, the server's first model on openai)"
    )
    run.add_argument("--gguf", help="GGUF file for llama.cpp (default: the shelf's SmolLM2 Q4_1)")
    run.add_argument("--base-url", help="for --runtime openai, e.g. http://127.0.0.1:8000/v1")
    run.add_argument("--api-key-env", default=API_KEY_ENV, help="environment variable holding the API key (never printed)")
    run.add_argument("--label", help="the runtime's name in the table, e.g. vllm, ollama, llama.cpp-server")
    run.add_argument(
        "--output-mode",
        choices=["default", "constrained", "unconstrained", "both"],
        default="default",
        help="enforce the JSON cases' schema (response_format), or not, or both side by side (openai only)",
    )
    return parser


def _line(summary: EvalSummary, path: Path) -> str:
    return (
        f"{summary.model} on {summary.runtime}, {summary.output_mode}: {summary.passed}/{summary.cases} passed, "
        f"{summary.tokens_per_s} {END_TO_END_LABEL}. Wrote {relative(path)}"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cases = load_cases(args.path)
    except CaseFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "validate":
        accepted = sum(len(c.examples["pass"]) for c in cases)
        rejected = sum(len(c.examples["fail"]) for c in cases)
        print(
            _(
                "OK: {cases} cases in {path}; their graders pass all {accepted} answers a person would accept and fail "
                "all {rejected} a person would reject."
            ).format(cases=len(cases), path=relative(Path(args.path)), accepted=accepted, rejected=rejected)
        )
        return 0
    mode = {"default": None, "constrained": True, "unconstrained": False, "both": True}[args.output_mode]
    try:
        runner = make_runner(
            args.runtime,
            args.model,
            gguf=args.gguf,
            base_url=args.base_url,
            api_key_env=args.api_key_env,
            structured_output=mode,
            label=args.label,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.output_mode == "both":
        if not isinstance(runner, OpenAIRunner):
            print(
                "error: --output-mode both needs --runtime openai (an endpoint that can run with and without response_format).",
                file=sys.stderr,
            )
            return 2
        pair = run_side_by_side(runner.client, runner.model, cases, runtime=runner.runtime)
        for summary in (pair.constrained, pair.unconstrained):
            print(_line(summary, table_path(summary.model, summary.runtime, summary.constrained)))
        notes = pair.notes
    else:
        rows = run_cases(runner, cases)
        print(_line(summarize(rows), write_table(rows)))
        notes = tuple(runner.notes)
    for note in notes:
        print("note:", note)
    return 0
