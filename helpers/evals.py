"""The fixed eval gate: versioned cases, graders that do not care about the runtime, and runners.

Cases live in ``data/eval_cases/*.jsonl``, one JSON object per line, checked
against ``data/schemas/eval_case.schema.json``. The same cases run on every
route: Transformers and llama.cpp locally, and any OpenAI-compatible endpoint
(the local API skeleton, vLLM). Only generation differs between runtimes; the
graders see text and nothing else.

From a terminal::

    python -m helpers.evals validate data/eval_cases/
    python -m helpers.evals run data/eval_cases/ --model sshleifer/tiny-gpt2 --runtime transformers
    python -m helpers.evals run data/eval_cases/ --model HuggingFaceTB/SmolLM2-135M-Instruct --runtime llama.cpp
    python -m helpers.evals run data/eval_cases/ --runtime openai --base-url http://127.0.0.1:8000/v1 --model NAME
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import jsonschema

from helpers.paths import EVAL_CASES, OUTPUTS, REPO_ROOT, atomic_write_text, relative

CASE_SCHEMA_FILE = REPO_ROOT / "data" / "schemas" / "eval_case.schema.json"
CSV_COLUMNS = ["case_id", "model", "runtime", "passed", "latency_s", "output_tokens", "category", "language", "failed_graders", "output"]


class CaseFileError(ValueError):
    """A case file that cannot be used; the message names file, line and field."""


# --------------------------------------------------------------------------- graders

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
JSON_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def _exact(output: str, spec: dict) -> bool:
    text, value = output.strip().rstrip(".!。"), spec["value"]
    return text.lower() == value.lower() if spec.get("ignore_case") else text == value


def _contains(output: str, spec: dict) -> bool:
    return spec["value"].lower() in output.lower() if spec.get("ignore_case", True) else spec["value"] in output


def _regex(output: str, spec: dict) -> bool:
    return re.search(spec["pattern"], output) is not None


def parse_json_answer(output: str) -> Any:
    """The JSON in an answer: the whole answer, or one fenced ```json block; prose around it fails."""
    text = output.strip()
    fenced = JSON_FENCE.match(text)
    return json.loads(fenced.group(1) if fenced else text)


def _json_schema(output: str, spec: dict) -> bool:
    try:
        jsonschema.validate(parse_json_answer(output), spec["schema"])
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


def _language(output: str, spec: dict) -> bool:
    """Chinese: most letters are CJK characters. English: Latin letters and no CJK."""
    cjk, latin = len(CJK.findall(output)), len(LATIN.findall(output))
    if cjk + latin == 0:
        return False
    share = cjk / (cjk + latin)
    return share >= 0.5 if spec["language"] == "zh" else share == 0


GRADERS: dict[str, Callable[[str, dict], bool]] = {
    "exact": _exact,
    "contains": _contains,
    "regex": _regex,
    "json_schema": _json_schema,
    "language": _language,
}


def grade(output: str, graders: list[dict]) -> list[str]:
    """The names of the graders this output fails; empty means the case passed."""
    failed = []
    for spec in graders:
        if spec["type"] not in GRADERS:
            raise CaseFileError(f"unknown grader {spec['type']!r}; known graders: {', '.join(GRADERS)}")
        if not GRADERS[spec["type"]](output, spec):
            failed.append(spec["type"])
    return failed


# --------------------------------------------------------------------------- case files


@dataclass(frozen=True)
class Case:
    case_id: str
    version: int
    category: str
    language: str
    messages: list[dict[str, str]]
    max_tokens: int
    graders: list[dict[str, Any]]
    source: str

    @property
    def json_schema(self) -> dict | None:
        """The schema of a structured-output case, for runtimes that can enforce it."""
        return next((g["schema"] for g in self.graders if g["type"] == "json_schema"), None)


def _case_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(CASE_SCHEMA_FILE.read_text(encoding="utf-8")))


def load_cases(path: Path | str = EVAL_CASES) -> list[Case]:
    """Every case in a file or folder of ``.jsonl`` files, or :class:`CaseFileError` before anything runs."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise CaseFileError(f"{path}: no .jsonl case files found.")
    validator, cases, seen = _case_validator(), [], {}
    for file in files:
        name = relative(file)
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                raise CaseFileError(f"{name}, line {number}: invalid JSON ({error.msg} at column {error.colno}).") from None
            for grader in data.get("graders", []) if isinstance(data, dict) else []:
                if isinstance(grader, dict) and grader.get("type") not in GRADERS:
                    raise CaseFileError(
                        f"{name}, line {number}: unknown grader {grader.get('type')!r}; known graders: {', '.join(GRADERS)}."
                    )
            errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
            if errors:
                where = "/".join(str(p) for p in errors[0].path) or "(the case)"
                raise CaseFileError(f"{name}, line {number}, field {where}: {errors[0].message}.")
            if data["case_id"] in seen:
                raise CaseFileError(f"{name}, line {number}: duplicate case_id {data['case_id']!r} (first at {seen[data['case_id']]}).")
            seen[data["case_id"]] = f"{name}, line {number}"
            cases.append(Case(source=f"{name}:{number}", **data))
    return cases


# --------------------------------------------------------------------------- runners


@dataclass(frozen=True)
class Generation:
    text: str
    output_tokens: int
    latency_s: float


class Runner(Protocol):
    model: str
    runtime: str

    def generate(self, case: Case) -> Generation: ...


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """A prompt for models without a chat template (tiny-gpt2)."""
    return "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages) + "Assistant:"


def encode_messages(tokenizer: Any, messages: list[dict[str, str]]) -> Any:
    """Chat messages as model inputs: the tokenizer's chat template, or a plain prompt when it has none."""
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    return tokenizer(plain_prompt(messages), return_tensors="pt")


class TransformersRunner:
    """Greedy generation with Transformers, from a model name resolved through the shelf."""

    def __init__(self, model_id: str, *, device: str = "cpu", dtype: str = "float32", model: Any = None, tokenizer: Any = None,
                 runtime: str = "transformers"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from helpers.models import resolve

        self.model, self.device, self.runtime = model_id, device, runtime
        if model is None or tokenizer is None:
            source = resolve(model_id)
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype)).to(device)
        self.lm, self.tokenizer = model.eval(), tokenizer

    def generate(self, case: Case) -> Generation:
        import torch

        inputs = encode_messages(self.tokenizer, case.messages).to(self.device)
        start = time.perf_counter()
        with torch.no_grad():
            output = self.lm.generate(**inputs, max_new_tokens=case.max_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.eos_token_id)
        latency = time.perf_counter() - start
        new = output[0][inputs["input_ids"].shape[1]:]
        return Generation(self.tokenizer.decode(new, skip_special_tokens=True), len(new), latency)


class LlamaCppRunner:
    """Greedy generation with llama.cpp on a quantized GGUF."""

    runtime = "llama.cpp"

    def __init__(self, model_id: str, gguf_path: Path | str, *, n_ctx: int = 2048):
        from llama_cpp import Llama

        self.model = model_id
        self.llm = Llama(model_path=str(gguf_path), n_ctx=n_ctx, seed=0, verbose=False)

    def generate(self, case: Case) -> Generation:
        start = time.perf_counter()
        response = self.llm.create_chat_completion(case.messages, max_tokens=case.max_tokens, temperature=0.0, seed=0)
        latency = time.perf_counter() - start
        return Generation(response["choices"][0]["message"]["content"] or "", response["usage"]["completion_tokens"], latency)


class OpenAIRunner:
    """Any OpenAI-compatible endpoint; JSON cases ask for ``response_format`` json_schema.

    A server that rejects ``json_schema`` (llama.cpp's, for one) gets the JSON
    cases without enforced structure from then on, and :attr:`notes` says so.
    """

    runtime = "openai-compatible"

    def __init__(self, client: Any, model: str, *, runtime: str = "openai-compatible", structured_output: bool = True):
        self.client, self.model, self.runtime, self.structured_output = client, model, runtime, structured_output
        self.notes: list[str] = []

    def _create(self, case: Case, structured: bool) -> Any:
        extra: dict[str, Any] = {}
        if structured and case.json_schema:
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": case.case_id.replace("-", "_"), "schema": case.json_schema, "strict": True},
            }
        return self.client.chat.completions.create(
            model=self.model, messages=case.messages, max_tokens=case.max_tokens, temperature=0.0, seed=0, **extra
        )

    def generate(self, case: Case) -> Generation:
        import openai

        start = time.perf_counter()
        try:
            response = self._create(case, self.structured_output)
        except openai.APIStatusError as error:
            if not (self.structured_output and case.json_schema and "response_format" in str(error)):
                raise
            self.structured_output = False
            self.notes.append("the server rejected response_format json_schema, so JSON cases ran without enforced structure")
            start = time.perf_counter()
            response = self._create(case, False)
        latency = time.perf_counter() - start
        tokens = response.usage.completion_tokens if response.usage else 0
        return Generation(response.choices[0].message.content or "", tokens, latency)


# --------------------------------------------------------------------------- running and recording


def run_cases(runner: Runner, cases: Iterable[Case]) -> list[dict[str, Any]]:
    """One row per case: passed, latency, output tokens, and which graders failed."""
    rows = []
    for case in cases:
        generation = runner.generate(case)
        failed = grade(generation.text, case.graders)
        rows.append({
            "case_id": case.case_id, "model": runner.model, "runtime": runner.runtime, "passed": not failed,
            "latency_s": round(generation.latency_s, 3), "output_tokens": generation.output_tokens,
            "category": case.category, "language": case.language, "failed_graders": " ".join(failed),
            "output": generation.text.strip(),
        })
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Pass rate and decode speed for one run."""
    tokens, seconds = sum(r["output_tokens"] for r in rows), sum(r["latency_s"] for r in rows)
    return {
        "model": rows[0]["model"], "runtime": rows[0]["runtime"], "cases": len(rows),
        "passed": sum(r["passed"] for r in rows), "pass_rate": round(sum(r["passed"] for r in rows) / len(rows), 3),
        "tokens_per_s": round(tokens / seconds, 1) if seconds else 0.0,
    }


def table_path(model: str, runtime: str, outputs: Path | None = None) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", f"{model}__{runtime}").strip("-")
    return (outputs or OUTPUTS) / "evals" / f"{slug}.csv"


def write_table(rows: list[dict[str, Any]], outputs: Path | None = None) -> Path:
    """Write one run's rows as CSV under ``outputs/evals/``, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(table_path(rows[0]["model"], rows[0]["runtime"], outputs), buffer.getvalue())


def read_tables(outputs: Path | None = None) -> list[dict[str, Any]]:
    """Every eval row any route has written, for comparison tables and the decision record."""
    rows = []
    for path in sorted(((outputs or OUTPUTS) / "evals").glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                row["passed"] = row["passed"] == "True"
                row["latency_s"], row["output_tokens"] = float(row["latency_s"]), int(row["output_tokens"])
                rows.append(row)
    return rows


def make_runner(args: argparse.Namespace) -> Runner:
    if args.runtime == "transformers":
        return TransformersRunner(args.model)
    if args.runtime == "llama.cpp":
        from helpers.models import gguf_file

        return LlamaCppRunner(args.model, args.gguf or gguf_file())
    from helpers.serving import make_client

    return OpenAIRunner(make_client(args.base_url, api_key_env=args.api_key_env), args.model)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.evals", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("validate", help="check every case file; nothing runs")
    check.add_argument("path", nargs="?", default=str(EVAL_CASES))
    run = sub.add_parser("run", help="run the cases and write outputs/evals/<model>__<runtime>.csv")
    run.add_argument("path", nargs="?", default=str(EVAL_CASES))
    run.add_argument("--model", default="sshleifer/tiny-gpt2")
    run.add_argument("--runtime", choices=["transformers", "llama.cpp", "openai"], default="transformers")
    run.add_argument("--gguf", help="GGUF file for llama.cpp (default: the shelf's SmolLM2 Q4_1)")
    run.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="for --runtime openai")
    run.add_argument("--api-key-env", default="VLLM_API_KEY", help="environment variable holding the API key")
    args = parser.parse_args(argv)
    try:
        cases = load_cases(args.path)
    except CaseFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "validate":
        print(f"OK: {len(cases)} cases in {relative(Path(args.path))}")
        return 0
    rows = run_cases(make_runner(args), cases)
    path = write_table(rows)
    summary = summarize(rows)
    print(f"{summary['model']} on {summary['runtime']}: {summary['passed']}/{summary['cases']} passed, "
          f"{summary['tokens_per_s']} tokens/s. Wrote {relative(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
