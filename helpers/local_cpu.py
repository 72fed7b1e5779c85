"""Route 1, local CPU: look inside a small model, time one prompt, and read the upgrade signal.

Each function answers one question the notebook asks, so its cells read like
sentences: how big is this model, measured and predicted; how does text become
tokens; how fast is one greedy prompt; and what do the fixed eval cases say
about upgrading.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from helpers import hardware
from helpers.paths import OUTPUTS


def size_against_prediction(model: Any, folder: Path | str) -> list[dict[str, Any]]:
    """Parameters, dtype, on-disk and in-memory size, each beside what the estimator predicted from config.json."""
    folder = Path(folder)
    shape = hardware.shape_from_config_file(folder / "config.json")
    dtype = hardware.normalize_dtype(str(next(model.parameters()).dtype).removeprefix("torch."))
    predicted = hardware.estimate(shape, dtype, context_tokens=0)
    parameters = sum(p.numel() for p in model.parameters())
    in_memory = sum(p.numel() * p.element_size() for p in model.parameters())
    on_disk = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    return [
        {"quantity": "parameters", "measured": f"{parameters:,}", "predicted": f"{predicted.parameters:,}"},
        {"quantity": "dtype", "measured": dtype, "predicted": predicted.dtype},
        {"quantity": "weights in memory", "measured": f"{in_memory / 1e6:.3f} MB", "predicted": f"{predicted.weight_bytes / 1e6:.3f} MB"},
        {"quantity": "weights on disk", "measured": f"{on_disk / 1e6:.3f} MB",
         "predicted": f"{hardware.parameter_count(shape) * hardware.BYTES_PER_PARAM[shape.file_dtype] / 1e6:.3f} MB"},
    ]


def token_pieces(tokenizer: Any, text: str) -> list[dict[str, Any]]:
    """How a text splits into token ids, and what each id decodes back to."""
    return [{"id": i, "decodes_to": tokenizer.decode([i])} for i in tokenizer.encode(text)]


def tokens_per_character(tokenizer: Any, samples: dict[str, str]) -> list[dict[str, Any]]:
    """Token counts per character: a byte-level English tokenizer spends far more on Chinese."""
    rows = []
    for language, text in samples.items():
        count = len(tokenizer.encode(text))
        rows.append({"language": language, "characters": len(text), "tokens": count, "tokens_per_char": round(count / len(text), 2)})
    return rows


def one_prompt(model: Any, tokenizer: Any, prompt: str, max_new_tokens: int) -> dict[str, Any]:
    """Greedy decoding of one prompt, with the time it took."""
    import torch

    inputs = tokenizer(prompt, return_tensors="pt")
    start = time.perf_counter()
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    seconds = time.perf_counter() - start
    new = output[0][inputs["input_ids"].shape[1]:]
    return {"text": tokenizer.decode(new, skip_special_tokens=True), "tokens": len(new), "seconds": seconds,
            "tokens_per_s": len(new) / seconds}


def plot_comparison(summaries: list[dict[str, Any]], path: Path | None = None) -> Any:
    """Pass rate and tokens/s for each model and runtime, side by side; saved beside the eval tables."""
    import matplotlib.pyplot as plt

    labels = [f"{s['model'].split('/')[-1]}\n{s['runtime']}" for s in summaries]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    left.bar(labels, [100 * s["pass_rate"] for s in summaries], color="#4c72b0")
    left.set_ylabel("fixed cases passed (%)")
    left.set_ylim(0, 100)
    right.bar(labels, [s["tokens_per_s"] for s in summaries], color="#dd8452")
    right.set_ylabel("output tokens/s (this CPU)")
    for axis in (left, right):
        axis.tick_params(axis="x", labelsize=8)
    figure.tight_layout()
    path = path or OUTPUTS / "evals" / "local_cpu_comparison.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return figure


def upgrade_verdict(summaries: list[dict[str, Any]], *, good_enough: float = 0.8) -> str:
    """The upgrade signal in words, generated from the pass rates: never hard-coded."""
    baseline, *upgrades = summaries
    best = max(upgrades, key=lambda s: s["pass_rate"]) if upgrades else baseline
    lines = [
        f"{baseline['model']} passes {baseline['passed']} of {baseline['cases']} fixed cases "
        f"on {baseline['runtime']}: the loop is reproducible"
        + (", but quality is too weak for the target task." if baseline["pass_rate"] < good_enough else ", and quality is enough.")
    ]
    for s in upgrades:
        lines.append(f"{s['model']} on {s['runtime']} passes {s['passed']} of {s['cases']}.")
    if best["pass_rate"] > baseline["pass_rate"]:
        lines.append(f"Upgrade signal: the same cases improve with {best['model']} on {best['runtime']}"
                     + (", and it clears the bar." if best["pass_rate"] >= good_enough else
                        f", but {best['pass_rate']:.0%} is still below the {good_enough:.0%} bar: a larger model is justified, on a GPU route."))
    else:
        lines.append("No upgrade signal: the larger model does not pass more cases, so keep the smaller one.")
    return "\n".join(lines)
