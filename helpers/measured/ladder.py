"""The quantization ladder, measured: size, memory, speed, eval passes and quality at every level.

Each level is measured in a fresh Python process, so peak memory is that
level's alone:

* **file_mb** and **predicted_mb**: the GGUF on disk, and the estimator's
  weights for the level (parameters × the level's bits per weight);
* **peak_rss_mb**: the process's peak resident memory while it loads the file
  with a 2048-token context and decodes; the peak is reset just before the
  load, so the imports' own start-up peak does not hide the level's memory;
* **tokens_per_s**: decode tokens/s (``helpers.machine.speed``): 64 greedy
  tokens after the first, timed from the first generated token to the last, so
  prompt processing is left out (the column keeps its short name for readers);
* **cases_passed / cases**: the fixed eval cases through the eval gate's own
  llama.cpp runner;
* **kl_divergence** and **top1_agreement**: over the fixed text below, the
  mean KL(reference ‖ level) of next-token distributions and how often both
  pick the same next token, against the highest-precision file (F16).

Measuring takes a few minutes, so the result is cached on the shelf next to the
files (``make ladder``), with the hardware and llama.cpp build it came from;
``outputs/quantization/ladder.csv`` is copied from there.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.catalogue.models import ModelShape, shape_from_config_file
from helpers.core.clock import timestamp
from helpers.core.i18n import _
from helpers.core.names import SMOLLM2
from helpers.core.paths import atomic_write_json, atomic_write_text, output
from helpers.evals import LlamaCppRunner, load_cases, run_cases, summarize
from helpers.fits import roofline
from helpers.fits.estimator import estimate, kv_bytes_per_token
from helpers.machine import rss, speed
from helpers.machine.environment import machine_description
from helpers.measured.ladder_results import Ladder, LadderRow, rows_csv, rows_from_csv
from helpers.runtimes.llama_cpp import quantize as quantization
from helpers.runtimes.llama_cpp.timing import time_greedy_decode
from helpers.shelf import models
from helpers.shelf.models import ShelfEntry, problems

#: Tokens timed after the first one: the decode speed's numerator.
DECODE_TOKENS = 64
N_CTX = 2048
DECODE_PROMPT = "<|im_start|>user\nWrite a long story about the sea.<|im_end|>\n<|im_start|>assistant\n"
#: The fixed text for quality: English and Chinese prose, JSON and code, as the course's cases mix them.
FIXED_TEXT = (
    "A good open-source LLM project starts before the first download. The engineering question is which "
    "model and runtime pair is enough for this project, on this hardware, with this license and rollback path. "
    "Use the smallest model and simplest runtime that proves the behaviour, and move upward only when evidence "
    "shows that quality, context length, throughput, privacy, or cost requires it.\n"
    "模型部署是将训练好的大模型转化为可服务的 API,涉及推理框架选型、量化推理、容器化、性能调优和成本估算。\n"
    '{"ticket_id": "SOP-1042", "priority": "high", "steps": ["restart the service", "check the logs"]}\n'
    "def tokens_per_second(tokens, seconds):\n    return tokens / seconds if seconds > 0 else 0.0\n"
)


# --------------------------------------------------------------------------- quality arithmetic


def kl_and_top1(reference_logits, logits) -> tuple[float, float]:
    """Mean KL(P_reference ‖ P_level) in nats and top-1 agreement, position by position."""
    import numpy as np

    def log_softmax(x):
        x = np.asarray(x, dtype=np.float64)
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    if np.shape(reference_logits) != np.shape(logits):
        raise ValueError(f"logits of shape {np.shape(logits)} cannot be compared with {np.shape(reference_logits)}.")
    log_p, log_q = log_softmax(reference_logits), log_softmax(logits)
    kl = float((np.exp(log_p) * (log_p - log_q)).sum(axis=-1).mean())
    top1 = float((log_p.argmax(axis=-1) == log_q.argmax(axis=-1)).mean())
    return max(kl, 0.0), top1


# --------------------------------------------------------------------------- one level, in a fresh process


def fixed_text_logits(path: Path):
    """The level's next-token logits at every position of :data:`FIXED_TEXT`, as float32 (positions × vocabulary)."""
    import numpy as np
    from llama_cpp import Llama

    scorer = Llama(model_path=str(path), n_ctx=512, seed=0, logits_all=True, verbose=False)
    tokens = scorer.tokenize(FIXED_TEXT.encode())
    scorer.eval(tokens)
    return np.asarray(scorer.scores[: len(tokens)], dtype=np.float32)


def measure_in_this_process(path: Path, logits_out: Path) -> dict:
    """Decode speed and peak memory first (nothing else loaded yet), then the fixed text's logits, then the eval cases."""
    import numpy as np
    from llama_cpp import Llama

    rss.reset_peak()  # the imports' start-up peak is not the level's memory
    llm = Llama(model_path=str(path), n_ctx=N_CTX, seed=0, verbose=False)
    timing = time_greedy_decode(llm, DECODE_PROMPT, DECODE_TOKENS + 1)
    measured = {"tokens_per_s": timing.decode_tokens_per_s, "peak_rss_bytes": rss.peak_rss_bytes(), "n_threads": llm.n_threads,
                "context_tokens": timing.prompt_tokens + DECODE_TOKENS // 2, "load_average": os.getloadavg()[0]}  # fmt: skip
    del llm
    np.save(logits_out, fixed_text_logits(path))
    summary = summarize(run_cases(LlamaCppRunner(SMOLLM2, path), load_cases()))
    return {**measured, "cases_passed": summary.passed, "cases": summary.cases}


def _measure_level(path: Path, logits_out: Path) -> dict:
    child = subprocess.run([sys.executable, "-m", "helpers.measured.ladder", "measure-one", str(path), str(logits_out)],
                           capture_output=True, text=True)  # fmt: skip
    if child.returncode != 0:
        failure = child.stderr.strip()[-600:]
        raise quantization.QuantizationError(f"Measuring {path.name} failed (exit {child.returncode}): {failure}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def measure(files: dict[str, Path]) -> tuple[list[LadderRow], dict]:
    """Every level in its own process, then quality against the reference level's logits; also the decode settings."""
    import numpy as np

    shape = shape_from_config_file(quantization.source_folder() / "config.json")
    with tempfile.TemporaryDirectory(prefix="ladder-logits.") as scratch:
        results = {level: _measure_level(path, Path(scratch) / f"{level}.npy") for level, path in files.items()}
        logits = {level: np.load(Path(scratch) / f"{level}.npy") for level in files}
    rows = []
    for level, path in files.items():
        kl, top1 = kl_and_top1(logits[quantization.REFERENCE], logits[level])
        predicted = estimate(shape, quantization.ESTIMATOR_DTYPE[level], runtime="llama.cpp").weight_bytes
        got = results[level]
        rows.append(
            LadderRow(
                level,
                round(path.stat().st_size / 1e6, 1),
                round(predicted / 1e6, 1),
                round(got["peak_rss_bytes"] / 1e6, 1),
                round(got["tokens_per_s"], 1),
                got["cases_passed"],
                got["cases"],
                round(kl, 5),
                round(top1, 4),
            )
        )
    settings = results[quantization.REFERENCE]
    load = round(sum(r["load_average"] for r in results.values()) / len(results), 2)
    return rows, {"n_threads": settings["n_threads"], "context_tokens": settings["context_tokens"], "load_average": load}


# --------------------------------------------------------------------------- cached on the shelf


def _build_measurements(staging: Path) -> None:
    import llama_cpp

    rows, settings = measure(quantization.ladder_files())
    atomic_write_text(staging / "ladder.csv", rows_csv(rows))
    atomic_write_json(
        staging / "about.json",
        {
            "hardware": machine_description(),
            "llama_cpp": f"llama-cpp-python {llama_cpp.__version__}: {llama_cpp.llama_print_system_info().decode().strip()}",
            "source": quantization.LADDER.provenance,
            "measured_at": timestamp(),
            **settings,
        },
    )


MEASURED = ShelfEntry(
    f"{SMOLLM2} quantization ladder, measured",
    f"{quantization.STEM}-ladder-measured",
    "each ladder level measured in a fresh process on this machine",
    _build_measurements,
)


def ladder() -> Ladder:
    """The measured ladder (building and measuring it once if the shelf lacks it), copied to ``outputs/``."""
    folder = models.ensure(MEASURED)
    text = (folder / "ladder.csv").read_text(encoding="utf-8")
    atomic_write_text(output("ladder"), text)
    about = json.loads((folder / "about.json").read_text(encoding="utf-8"))
    return Ladder(rows_from_csv(text), **about)


def unavailable() -> str | None:
    """Why this runtime cannot build and measure the ladder (one sentence), or ``None`` when it can.

    Every step runs llama.cpp through llama-cpp-python; ``make setup`` compiles it, and Colab's first cell installs a
    prebuilt wheel when one exists for the runtime. The measured ladder on the shelf is read without it.
    """
    if not problems(MEASURED) or importlib.util.find_spec("llama_cpp") is not None:
        return None
    return _(
        "The quantization ladder was not built in this runtime: it needs llama-cpp-python, which the first cell "
        "installs only from a prebuilt wheel (none was found for this runtime); `make setup` on a local machine builds it."
    )


def ladder_here() -> Ladder | None:
    """:func:`ladder` (measured here first if the shelf lacks it), or ``None`` where :func:`unavailable` says why not."""
    return None if unavailable() else ladder()


def smollm2_shape() -> ModelShape:
    """SmolLM2's shape for KV-cache arithmetic: from the shelf's folder where ``make`` built it, else the hub's config."""
    on_shelf = models.SHELF_ENTRIES[SMOLLM2].path / "config.json"
    return shape_from_config_file(on_shelf if on_shelf.is_file() else quantization.source_folder() / "config.json")


def roofline_rows(measured: Ladder, bandwidth_gb_s: float) -> list[roofline.RooflineRow]:
    """Each level's decode speed against the ceiling: its exact tensor bytes plus the KV cache read per token."""
    files = quantization.ladder_files()
    kv = kv_bytes_per_token(smollm2_shape(), "fp16")  # llama.cpp keeps an F16 cache whatever the weights
    return [
        roofline.RooflineRow.measured(
            "llama.cpp",
            SMOLLM2,
            row.quant.lower(),
            row.tokens_per_s,
            roofline.bytes_per_token(roofline.gguf_weight_bytes_read(files[row.quant]), kv, measured.context_tokens),
            bandwidth_gb_s,
        )  # fmt: skip
        for row in measured.rows
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.measured.ladder", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build and measure the ladder onto the shelf (once), then copy the table to outputs/")
    one = sub.add_parser("measure-one", help="(internal) measure one GGUF in this process")
    one.add_argument("path", type=Path)
    one.add_argument("logits_out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "measure-one":
        print(json.dumps(measure_in_this_process(args.path, args.logits_out)))
        return 0
    measured = ladder()
    print(f"Quantization ladder of {SMOLLM2} on {measured.hardware}; tokens_per_s is {speed.DECODE_LABEL}")
    print(rows_csv(measured.rows), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
