"""Notebook 02's views: a model's size beside the estimate, tokens, the eval comparison, and what it shows.

Each function answers one question the notebook asks, so its cells read like
sentences. The numbers come from ``helpers.fits.estimator``, ``helpers.runtimes.transformers``
and ``helpers.evals``; this module only lays them out and says them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.catalogue.models import shape_from_config_file
from helpers.core.i18n import _
from helpers.decision.verdict import Verdict
from helpers.evals import EvalSummary
from helpers.fits import estimator
from helpers.machine.speed import END_TO_END_LABEL
from helpers.runtimes.transformers import LoadedModel
from helpers.shelf.models import converted_from


def size_against_prediction(loaded: LoadedModel) -> list[dict[str, Any]]:
    """Parameters, dtype, on-disk and in-memory size, each beside what the estimator predicted from config.json."""
    model, folder = loaded.model, loaded.folder
    shape = shape_from_config_file(folder / "config.json")
    dtype = estimator.normalize_dtype(str(next(model.parameters()).dtype).removeprefix("torch."))
    predicted = estimator.estimate(shape, dtype, context_tokens=0)
    parameters = sum(p.numel() for p in model.parameters())
    in_memory = sum(p.numel() * p.element_size() for p in model.parameters())
    on_disk = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    return [
        {"quantity": "parameters", "measured": f"{parameters:,}", "predicted": f"{predicted.parameters:,}"},
        {"quantity": "dtype", "measured": dtype, "predicted": predicted.dtype},
        {
            "quantity": "weights in memory",
            "measured": f"{in_memory / 1e6:.3f} MB",
            "predicted": f"{predicted.weight_bytes / 1e6:.3f} MB",
        },
        {
            "quantity": "weights on disk",
            "measured": f"{on_disk / 1e6:.3f} MB",
            "predicted": f"{estimator.parameter_count(shape) * estimator.BYTES_PER_PARAM[shape.file_dtype] / 1e6:.3f} MB",
        },
    ]


def token_pieces(tokenizer: Any, text: str) -> list[dict[str, Any]]:
    """How a text splits into token ids, and what each id decodes back to."""
    return [{"id": i, "decodes_to": tokenizer.decode([i])} for i in tokenizer.encode(text)]


def tokens_per_character(tokenizer: Any, samples: dict[str, str]) -> list[dict[str, Any]]:
    """Token counts per character: a byte-level English tokenizer spends far more on Chinese."""
    rows = []
    for language, text in samples.items():
        count = len(tokenizer.encode(text))
        rows.append(
            {"language": language, "characters": len(text), "tokens": count, "tokens_per_char": round(count / len(text), 2)}
        )
    return rows


def cases_table(cases: list[Any]) -> list[dict[str, str]]:
    """The fixed cases, one line each: id, category, language and the graders that score it."""
    return [
        {"case_id": c.case_id, "category": c.category, "language": c.language, "graders": ", ".join(g["type"] for g in c.graders)}
        for c in cases
    ]


def summary_table(summaries: list[EvalSummary]) -> list[dict[str, Any]]:
    """One line per run: passes, end-to-end speed, and whether the output was constrained."""
    return [
        {
            "model": s.model,
            "runtime": s.runtime,
            "output": s.output_mode,
            "passed": f"{s.passed}/{s.cases}",
            "pass_rate": s.pass_rate,
            END_TO_END_LABEL: s.tokens_per_s,
        }
        for s in summaries
    ]


def pass_matrix(tables: dict[str, list[Any]]) -> dict[str, dict[str, str]]:
    """Case by case, which run passes what: ``{run label: {case_id: "pass" | "fail"}}``."""
    return {label: {row.case_id: "pass" if row.passed else "fail" for row in rows} for label, rows in tables.items()}


def plot_comparison(summaries: list[EvalSummary]) -> Any:
    """Pass rate and end-to-end tokens/s for each run, side by side (``helpers.routes.local_cpu.save_comparison`` keeps it)."""
    import matplotlib.pyplot as plt

    labels = [s.label for s in summaries]  # horizontal bars: long run labels stay readable, one per line
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 0.45 * len(labels) + 1.2), sharey=True)
    left.barh(labels, [100 * s.pass_rate for s in summaries], color="#4c72b0")
    left.set_xlabel("fixed cases passed (%)")
    left.set_xlim(0, 100)
    left.invert_yaxis()  # the first run on top, as in the table above
    right.barh(labels, [s.tokens_per_s for s in summaries], color="#dd8452")
    right.set_xscale("log")  # tiny-gpt2's random weights run 20-50x faster than any real model
    right.set_xlabel(f"{END_TO_END_LABEL}, this CPU (log scale)")
    left.tick_params(axis="y", labelsize=9)
    figure.tight_layout()
    return figure


def weights_note(transformers_source: str, gguf: Path | str) -> str:
    """Whether the Transformers and llama.cpp runs share weights, so the reader knows what their difference means.

    Said from what the resolver actually loaded: true offline (the shelf's fp32
    folder is the same Q4_1 file dequantised), false online (the hub's originals).
    """
    origin = converted_from(transformers_source)
    if origin is not None and Path(gguf).resolve().parent == origin.path.resolve():
        return _(
            "Both SmolLM2 runs use the same Q4_1 weights: offline, the Transformers folder is {gguf} "
            "dequantised to fp32, the file llama.cpp runs. So any difference between the two runs comes from the runtime "
            "(chat template, kernels, numerics), not from quantization; these runs cannot show quantization loss."
        ).format(gguf=Path(gguf).name)
    return _(
        "The Transformers run loaded {source} (original weights) and llama.cpp runs {gguf}, "
        "a 4-bit quantization, so the difference between them mixes the runtime and quantization."
    ).format(source=transformers_source, gguf=Path(gguf).name)


def upgrade_verdict(summaries: list[EvalSummary], verdict: Verdict) -> str:
    """Each run's pass count, then route 1's upgrade signal as :func:`helpers.decision.verdict.judge` decided it.

    The judgement is not made here: the bar (``gate.json``'s pass share and the
    required cases) and the verdict are the ones notebook 06's record shows, so
    the two notebooks cannot disagree. A constrained run's JSON passes are the
    runtime's grammar at work, so each is set beside its unconstrained twin.
    """
    lines = []
    for s in summaries:
        run = (
            _("{model} on {runtime} with enforced JSON passes {passed} of {cases}.")
            if s.constrained
            else _("{model} on {runtime} passes {passed} of {cases}.")
        )
        lines.append(run.format(model=s.model, runtime=s.runtime, passed=s.passed, cases=s.cases))
    lines.append(
        _(
            "The gate (data/eval_cases/gate.json): a run passes at {share:.0%} of the cases or more, "
            "with every required case ({cases})."
        ).format(share=verdict.pass_share, cases=", ".join(verdict.required_cases))
    )
    card = verdict.card("local_cpu")
    lines.append(_("Route 1's card: {signal}").format(signal=card.signal))
    lines.append(_("Verdict (the same judge as notebook 06): {headline}. {says}").format(headline=card.headline, says=card.says))
    free = [s for s in summaries if not s.constrained]
    for s in summaries:
        twin = next((f for f in free if (f.model, f.runtime) == (s.model, s.runtime)), None)
        if s.constrained and twin:
            lines.append(
                _(
                    "Enforcing the JSON schema on {runtime} changes {change:+d} passes: that is the runtime's grammar at work, "
                    "not the model, so compare constrained runs only with each other (notebook 04 does, on vLLM)."
                ).format(runtime=s.runtime, change=s.passed - twin.passed)
            )
    return "\n".join(lines)
