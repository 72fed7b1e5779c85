"""Issue 24: the translations follow. No zh or ja notebook prints an English sentence that the English edition prints.

``make translations`` translates every notebook's markdown, but a code cell's output is whatever the helpers print, so a
sentence that never passed through the catalogue (a helper string without ``_()``, a licence note read from
``data/model_catalogue.json``, an f-string in a code cell) comes out in English in all three editions. This test reads
the committed outputs of every code cell of ``notebooks/<lang>/NN_*.ipynb`` and fails, naming the notebook, the cell and
the sentence, on each run of at least :data:`MIN_WORDS` English words that the English notebook's outputs print too.

What is not the kit's prose is left out, by what it is rather than by cell number:

- **quoted text**: a string in quotes (``'...'``, ``"..."``, curly or CJK quotes, cut short or not) is a value shown as
  it is: a model's generation (``'The capital of France is Paris.'``, ``' creations creations'``, French from SmolLM2),
  a string from the lesson's own code (``lesson_choose``'s dict), a JSON value. An apostrophe inside a word
  (``the lesson's``) opens no quote;
- **code**: inline code spans (`` `...` ``) and fenced blocks in Markdown, lines that are shell commands
  (``$ ROUTE=... python choose_openllm_runtime.py``, ``python -m ...``, ``make ...``), and lines of a Python script a
  cell prints (an import, a definition, an assignment or a call, with its ``# comment``);
- **identifiers, paths, URLs, figures, model names**: only plain words count (letters, an apostrophe, no digit, no
  capital after the first letter, no ``.``, ``/``, ``_`` or ``-`` inside), so ``llama.cpp``, ``Qwen2.5-0.5B-Instruct``,
  ``outputs/evals/...``, ``zh-fact-capital``, ``GPU`` and ``0.40`` each end a run;
- **cut-off words**: pandas shortens long cells to ``...``; the cut word is dropped, the words before it still count.

Each output is read in its richest text form (Markdown, else HTML with its tags removed, else plain text), since
the others repeat it. Text the English edition does not print (a measured figure that differs) is not compared.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.core.paths import NOTEBOOKS, relative
from helpers.tooling.translation_build import TRANSLATED

#: The shortest run of English words counted as a sentence. Four-word labels (``Transformers on the CPU``) pass.
MIN_WORDS = 5
#: A plain word: a letter, then lower-case letters, with one apostrophe (``lesson's``); ``a`` and ``I`` included.
WORD = re.compile(r"[A-Za-z][a-z]*(?:['’][a-z]+)?")
#: What may wrap a word (besides Markdown emphasis, ``*`` and ``_``): brackets before it, brackets and punctuation after it.
LEADING, TRAILING = "([{", ")]}.,;:!?"
#: Text in quotes or backticks, on one line; an unclosed quote runs to the end of the line (a cell cut short by pandas).
#: A single quote opens only where no letter or digit precedes it, and one followed by a letter is an apostrophe.
QUOTED = re.compile(
    r"""(?<![\w'])'(?:[^'\n]|'(?=\w))*(?:'|$)"""
    r"""|"[^"\n]*(?:"|$)|“[^”\n]*(?:”|$)|‘[^’\n]*(?:’|$)|「[^」\n]*(?:」|$)|『[^』\n]*(?:』|$)|`[^`\n]*(?:`|$)""",
    re.MULTILINE,
)
URL = re.compile(r"\b\w+://\S+")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
STYLE = re.compile(r"<(style|script)\b.*?</\1>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]+>")
#: A line that is a shell command: a prompt, or a command the kit prints (after ``VAR=value`` settings).
COMMAND = re.compile(r"^\s*(?:[$%!]\s|>>>\s|(?:\w+=\S*\s+)*(?:python3?|pip|make|git|ollama|vllm|curl|bash)\s)")
#: A line of printed Python (a script the notebook shows): an import, a definition, an assignment or a call, comment and all.
CODE = re.compile(
    r"^\s*(?:from\s+[\w.]+\s+import\s|import\s+[\w.]+|def\s+\w+\(|class\s+\w+|[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*=[^=]|[A-Za-z_][\w.]*\()"
)


def output_text(output: dict[str, Any]) -> str:
    """One output as text: a stream's text; a display's Markdown, else its HTML without tags, else its plain text."""
    if output.get("output_type") == "stream":
        return _joined(output.get("text", ""))
    data = output.get("data", {})
    if "text/markdown" in data:
        return FENCE.sub("\n", _joined(data["text/markdown"]))
    if "text/html" in data:
        return html.unescape(TAG.sub("\n", STYLE.sub("\n", _joined(data["text/html"]))))
    return _joined(data.get("text/plain", ""))


def _joined(text: str | list[str]) -> str:
    return "".join(text) if isinstance(text, list) else text


def _word(token: str) -> tuple[str | None, bool, bool]:
    """The plain word in ``token`` (``None`` if it is not one), whether a bracket opens before it, and whether a full stop,
    colon, semicolon or bracket ends the run after it. A word cut short (``understa...``) is no word."""
    bare = token.strip("*_")
    opens, closes = bare.startswith(("(", "[", "{")), bare.endswith((".", ";", ":", "!", "?", ")", "]", "}", "…"))
    core = bare.lstrip(LEADING).rstrip(TRAILING)
    if bare.endswith(("...", "…")) or not WORD.fullmatch(core):
        return None, opens, True
    return core + ("," if bare.endswith(",") else ""), opens, closes


def prose_runs(text: str) -> list[str]:
    """Every run of at least :data:`MIN_WORDS` plain English words in ``text``, outside quotes, code and commands."""
    runs: list[str] = []

    def close(current: list[str]) -> list[str]:
        if len(current) >= MIN_WORDS:
            runs.append(" ".join(current).rstrip(","))
        return []

    for line in URL.sub(" ", text).splitlines():
        if COMMAND.match(line) or CODE.match(line):
            continue
        current: list[str] = []
        for token in QUOTED.sub(" | ", line).split():
            word, opens, closes = _word(token)
            if opens or word is None:
                current = close(current)
            if word is not None:
                current.append(word)
            if closes:
                current = close(current)
        close(current)
    return runs


def cell_outputs(notebook: dict[str, Any]) -> list[tuple[int, str]]:
    """``(cell index, text of its outputs)`` for every code cell that has outputs."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            found.append((index, "\n".join(output_text(o) for o in cell["outputs"])))
    return found


@dataclass(frozen=True)
class Finding:
    cell: int
    sentence: str


def _normal(run: str) -> str:
    """A run as the comparison reads it: lower case, without commas, one space between words and at each end."""
    return " " + " ".join(run.lower().replace("’", "'").replace(",", " ").split()) + " "


def english_in_translation(english: dict[str, Any], translated: dict[str, Any]) -> list[Finding]:
    """The runs of English prose in ``translated``'s outputs that ``english``'s outputs print too, cell by cell."""
    printed = "|".join(_normal(run) for _, text in cell_outputs(english) for run in prose_runs(text))
    return [
        Finding(index, run)
        for index, text in cell_outputs(translated)
        for run in dict.fromkeys(prose_runs(text))
        if _normal(run) in printed
    ]


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- the detector --------------------------------------------------------------------------------------------------


def test_a_kit_sentence_is_caught():
    assert prose_runs("Claim: This choice proves the workflow, not model quality.") == [
        "This choice proves the workflow, not model quality"
    ]
    assert prose_runs("measured 31.6 tok/s on llama.cpp in process, the lesson's candidate: 37%") == [
        "in process, the lesson's candidate"
    ]
    cut = "<td>zh_en_answers: Its model card says it understa...</td><td>MIT</td>"
    assert prose_runs(output_text({"output_type": "execute_result", "data": {"text/html": cut}})) == ["Its model card says it"]


@pytest.mark.parametrize(
    "text",
    [
        "HuggingFaceTB/SmolLM2-135M-Instruct q4_1 on llama.cpp (quantized, on the CPU)",
        "$ ROUTE=rented_gpu VRAM_GB=24 NEEDS_SERVICE=yes python choose_openllm_runtime.py",
        "ROUTE=local_cpu python choose_openllm_runtime.py --lang ja",
        "python -m helpers.evals run data/eval_cases/ --model Qwen/Qwen2.5-0.5B-Instruct --runtime llama.cpp",
        "see https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/blob/main/config.json for the card",
        "chat: 'The capital of France is Paris.' | usage: 8 completion tokens",
        "en-fact-capital: 'The capital of France is Par...",
        'en-fact-capital: "Le Grand Paris, le Grand-Bie...',
        "' creations creations creations creations creations creations'",
        "运行 `python -m llama_cpp.server --model FILE.gguf --port 8080` 然后再运行",
        "zh-fact-capital, zh-sop-refund-days, en-json-ticket, zh-json-ticket, en-json-priority",
        "18 tok/s decode, 2/16 passes, 1056 MB, concurrency 16 → 16 output tok/s (×1.0)",
        "params = SamplingParams(temperature=0, max_tokens=job['max_tokens'])  # greedy, as the eval gate decodes",
        "outputs = llm.chat(job['conversations'], params, use_tqdm=False)  # every conversation scheduled at once",
        "from vllm import LLM, SamplingParams",
    ],
)
def test_models_commands_identifiers_and_quotes_are_not_prose(text):
    assert prose_runs(text) == []


def _notebook(*outputs: str) -> dict[str, Any]:
    cells = [{"cell_type": "markdown", "source": "Prose in markdown is translated by the catalogue, not compared."}]
    cells += [
        {"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]}
        for text in outputs
    ]
    return {"cells": cells}


def test_a_sentence_both_editions_print_is_named_with_its_cell():
    english = _notebook("Random weights: use it to prove the workflow, never for answers.", "Reply: 'Hello there, how are you?'")
    chinese = _notebook("随机权重：只用来证明工作流。", "Reply: 'Hello there, how are you?'", "use it to prove the workflow")
    assert english_in_translation(english, chinese) == [Finding(3, "use it to prove the workflow")]
    assert english_in_translation(english, _notebook("Only the Chinese edition prints this English sentence.")) == []


# --- the kit's notebooks -------------------------------------------------------------------------------------------


def _pairs() -> list[Any]:
    return [
        pytest.param(lang, path.name, id=f"{lang}/{path.stem}")
        for lang in TRANSLATED
        for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    ]


@pytest.mark.parametrize(("lang", "name"), _pairs())
def test_no_translated_output_prints_the_english_editions_prose(lang, name):
    translated = NOTEBOOKS / lang / name
    found = english_in_translation(_read(NOTEBOOKS / name), _read(translated))
    listed = "\n".join(f"  cell {f.cell}: {f.sentence!r}" for f in found)
    assert not found, (
        f"{relative(translated)} prints English prose that {relative(NOTEBOOKS / name)} prints too; route the helper "
        f"string through _() (helpers.core.i18n), or a data field through babel.cfg's data extractor, then "
        f"`make translations` and re-execute (`make translations-run NB={name[:2]}`):\n{listed}"
    )
