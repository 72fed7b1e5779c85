"""The runtime notebook's views: the ladder, the runtimes, the seed's framework table rebuilt, and the roofline.

Numbers come from ``helpers.measured.ladder``, ``helpers.measured.landscape``, ``helpers.measured.handoff_rehearsal``
and ``helpers.fits.roofline``; the notebook measures through them and this module lays out what they returned.
Rows for frameworks that cannot run here carry the source of every claim and say "not run here".
"""

from __future__ import annotations

import json
import os
from typing import Any

from helpers.core.i18n import N_, _
from helpers.core.paths import output, relative
from helpers.fits import roofline
from helpers.machine.environment import detect_platform, machine_description
from helpers.machine.speed import DECODE_LABEL
from helpers.measured import ladder, landscape
from helpers.measured.handoff_rehearsal import RUNTIME as HANDOFF_RUNTIME
from helpers.measured.handoff_rehearsal import HandoffRehearsal
from helpers.measured.ladder import Ladder
from helpers.measured.landscape import LABELS, REQUESTS_PER_LEVEL, Landscape, RuntimeResult
from helpers.runtimes.llama_cpp import build as llama_build
from helpers.runtimes.llama_cpp import quantize as quantization

SEED = "deployment guide (seeds/003), framework table"
#: The guide's claims for the frameworks this machine cannot run, and why each is not run here.
NOT_RUN_HERE = [
    {"runtime": "TGI", "guide says": N_("Hugging Face; Rust + Python; CUDA; no CPU inference; GPTQ/AWQ/BnB; "
     "OpenAI API supported; continuous batching"), "why not here": N_("GPU server; no CPU build in scope"), "source": SEED},
    {"runtime": "TensorRT-LLM", "guide says": N_("NVIDIA; CUDA only; FP8/INT4/INT8; OpenAI API through Triton; "
     "inflight batching"), "why not here": N_("needs an NVIDIA GPU"), "source": SEED},
    {"runtime": "Ollama", "guide says": N_("Ollama Inc; Go + C++; CPU supported; GGUF; OpenAI API native; limited "
     "concurrency; lowest learning curve"), "why not here": N_("its installer downloads from ollama.com, which this "
     "machine cannot reach; the same GGUF runs here in llama.cpp's server"), "source": SEED},
    {"runtime": "SGLang", "guide says": N_("not in the guide's table; the lesson (seeds/002): use it when structured "
     "generation or agentic serving patterns matter"), "why not here": N_("PyPI's sglang 0.5.23 wheel (39 MB) "
     "requires cuda-python>=13, flashinfer_python[cu13] and flash-attn-4: a CUDA build, no CPU wheel"),
     "source": "lesson seeds/002; `pip download --no-deps sglang` and its METADATA, checked 2026-11-23"},
]  # fmt: skip
#: What the guide's table says of the frameworks that do run here, to set beside the measurement. Every cell of the
#: table (these, the "guide says" and "why not here" above) is English here and shown through ``_()``.
GUIDE_SAYS = {
    "transformers": N_("not in the guide's table"),
    "llama.cpp": N_("CPU inference: best; concurrency: limited"),
    "llama.cpp-server": N_("OpenAI API: through server mode; concurrency: limited"),
    "vllm": N_("CPU inference: not supported; continuous batching"),
}


def where(hardware: str) -> str:
    """The machine a figure came from, said against this runtime's: a cached figure is never passed off as measured here."""
    here = machine_description()
    if hardware == here:
        return _("{hardware} (this machine)").format(hardware=hardware)
    return _("{hardware}, not this runtime ({here})").format(hardware=hardware, here=here)


def ladder_note(measured: Ladder | None) -> None:
    """When and where :func:`helpers.measured.ladder.ladder_here`'s ladder was measured; or one sentence why there is none."""
    print(ladder.unavailable() if measured is None else ladder_provenance(measured))


def ladder_table(measured: Ladder | None) -> Any:
    import pandas as pd

    return None if measured is None else pd.DataFrame(ladder_rows(measured))


def ladder_rows(measured: Ladder) -> list[dict[str, Any]]:
    """The ladder as the guide's table, measured: size, memory, speed, eval passes, quality, and how weights are stored."""
    files = quantization.ladder_files()
    return [
        {
            "quant": r.quant,
            "file MB": r.file_mb,
            "predicted MB": r.predicted_mb,
            "peak RSS MB": r.peak_rss_mb,
            DECODE_LABEL: r.tokens_per_s,
            "eval passes": f"{r.cases_passed}/{r.cases}",
            "KL vs F16": r.kl_divergence,
            "top-1 agreement": f"{100 * r.top1_agreement:.1f}%",
            "stored as": ", ".join(
                f"{t} {100 * s:.0f}%" for t, s in quantization.weight_types(files[r.quant]).items() if s >= 0.05
            ),
        }
        for r in measured.rows
    ]


def ladder_provenance(measured: Ladder) -> str:
    """When, where, with which llama.cpp build and under how much load the ladder was measured."""
    load = (
        _("load average {load}").format(load=measured.load_average)
        if measured.load_average is not None
        else _("load average not recorded")
    )
    first = _("Measured {when} on {where}, {threads} thread(s), {load} while decoding").format(
        when=measured.measured_at, where=where(measured.hardware), threads=measured.n_threads, load=load
    )
    return f"{first}\nllama.cpp: {measured.llama_cpp}\n" + _("source: {source}").format(source=_(measured.source))


def plot_ladder(measured: Ladder | None) -> Any:
    """Size against quality (KL, lower is better) and against speed, one point per level; nothing without a ladder."""
    import matplotlib.pyplot as plt

    if measured is None:
        return None
    fig, (quality, speed) = plt.subplots(1, 2, figsize=(10, 3.6))
    sizes = [r.file_mb for r in measured.rows]
    quality.plot(sizes, [max(r.kl_divergence, 1e-5) for r in measured.rows], "o-")
    quality.set(xlabel="file size (MB)", ylabel="KL vs F16 (nats, log)", yscale="log", title="smaller file, more divergence")
    speed.plot(sizes, [r.tokens_per_s for r in measured.rows], "s-", color="tab:green")
    speed.set(xlabel="file size (MB)", ylabel=DECODE_LABEL, title="smaller file, faster decode?")
    for r in measured.rows:
        quality.annotate(r.quant, (r.file_mb, max(r.kl_divergence, 1e-5)), fontsize=8, xytext=(3, 3), textcoords="offset points")
        speed.annotate(r.quant, (r.file_mb, r.tokens_per_s), fontsize=8, xytext=(3, 3), textcoords="offset points")
    fig.tight_layout()
    return fig


def _concurrency(r: RuntimeResult) -> str:
    if r.throughput_c4 is None or not r.throughput_c1:
        return _("n/a: in process, one call at a time")
    failed = f", {r.failures_c4} of {REQUESTS_PER_LEVEL} failed at c4" if r.failures_c4 else ""
    return f"{r.throughput_c1:.0f} → {r.throughput_c4:.0f} output tok/s (×{r.throughput_c4 / r.throughput_c1:.1f}{failed})"


def _output_mode(r: RuntimeResult) -> str:
    """Whether the JSON cases were really constrained: a server can accept ``response_format`` and ignore it."""
    if not r.constrained:
        return ""
    return (
        " (JSON enforced)"
        if r.capabilities is None or r.capabilities.json_schema == "enforced"
        else " (json_schema sent, ignored)"
    )


def landscape_note(land: Landscape) -> None:
    """When and where the runtimes were measured, and one line per runtime not run."""
    print(_("Measured {when} on {where}").format(when=land.measured_at, where=where(land.hardware)))
    for runtime, why in land.not_run.items():
        print(f"{LABELS[runtime]}: {_(why)}")


def runtime_table(land: Landscape) -> Any:
    import pandas as pd

    return pd.DataFrame(runtime_rows(land))


def runtime_rows(land: Landscape) -> list[dict[str, Any]]:
    """One row per runtime measured here: eval passes, speed, concurrency, memory, cold start, endpoint."""
    return [
        {
            "runtime": r.label,
            "dtype": r.dtype,
            "eval passes": f"{r.cases_passed}/{r.cases}{_output_mode(r)}",
            "TTFT ms": r.ttft_ms,
            DECODE_LABEL: r.decode_tokens_per_s,
            "throughput c1 → c4": _concurrency(r),
            "peak RSS MB": r.peak_rss_mb,
            "cold start s": r.cold_start_s,
            "load avg": r.load_average,
            "offers": ", ".join(r.capabilities.offers()) if r.capabilities else _("no endpoint"),
            "lacks": ", ".join(r.capabilities.lacks()) if r.capabilities else _("an endpoint of its own"),
        }
        for r in land.results
    ]


def framework_rows(land: Landscape) -> list[dict[str, Any]]:
    """The guide's framework table rebuilt: measured rows first, then the rows not run here with their sources."""
    measured = [
        {
            "runtime": r.label,
            "guide says": _(GUIDE_SAYS[r.runtime]),
            "measured here": _("{tps:.0f} tok/s decode, {passed}/{cases} passes, {mb:.0f} MB, concurrency {concurrency}").format(
                tps=r.decode_tokens_per_s, passed=r.cases_passed, cases=r.cases, mb=r.peak_rss_mb, concurrency=_concurrency(r)
            ),
            "source": _("measured on {hardware}, {date}").format(hardware=land.hardware, date=land.measured_at[:10]),
        }
        for r in land.results
    ]
    skipped = [
        {"runtime": LABELS[runtime], "guide says": _(GUIDE_SAYS[runtime]), "measured here": _not_run_here(why), "source": SEED}
        for runtime, why in land.not_run.items()
    ]
    return measured + skipped + [_not_run_row(row) for row in NOT_RUN_HERE]


def _not_run_row(row: dict[str, str]) -> dict[str, str]:
    """A row of :data:`NOT_RUN_HERE` as shown: the guide's claim and the reason in the learner's language."""
    guide, why = row["guide says"], row["why not here"]
    return {**row, "guide says": _(guide), "why not here": _(why), "measured here": _not_run_here(why)}


def _not_run_here(why: str) -> str:
    """``why`` is English (a literal marked with ``N_`` or a measured reason); it is translated here, where it is shown."""
    return _("not run here: {why}").format(why=_(why))


def roofline_table(rows: list[roofline.RooflineRow] | None) -> Any:
    """The rows of ``outputs/roofline.csv``: decode speed against the bandwidth ceiling; ``None`` says why there are none.

    ``None`` is :func:`helpers.measured.landscape.roofline_if_measured`'s answer where the ladder and the runtimes are not
    measured on this machine yet (notebook 02 runs before notebook 05 and must not start measuring).
    """
    if rows is None:
        print(_("The ladder and the runtimes are not measured on this machine yet (`make setup` measures them; "
                "a Colab runtime does not), so there is no roofline to show here."))  # fmt: skip
        return None
    import pandas as pd

    return pd.DataFrame([{**row.to_json(), "bytes_per_token": f"{row.bytes_per_token / 1e6:.1f} MB"} for row in rows])


def memory_check_table() -> Any:
    """The rows of ``outputs/memory_check.csv`` in MB: predicted beside measured peak memory, and the ×1.2 rule beside both.

    ``make run`` and ``make test`` write the file (``benchmarks/memory_check.py``); without it, one sentence says so.
    """
    path = output("memory_check")
    if not path.is_file():
        print(_("No memory check on this machine yet: `make run` writes {path} (a Colab runtime does not).").format(
            path=relative(path)
        ))  # fmt: skip
        return None
    import pandas as pd

    rows = pd.read_csv(path)
    for column in ("predicted", "measured", "rule_of_thumb"):
        rows[f"{column} MB"] = (rows.pop(f"{column}_bytes") / 1e6).round(0)
    return rows[["model", "runtime", "dtype", "predicted MB", "measured MB", "error_pct", "rule_of_thumb MB", "rule_error_pct"]]


def show_rehearsal(rehearsal: HandoffRehearsal | None) -> None:
    """Where the hand-off ran and what it replied, labelled with the server it really ran on; or one sentence why not."""
    if rehearsal is None:
        print(_(landscape.unavailable(HANDOFF_RUNTIME)))
        return
    print(
        _("Ran on: llama.cpp's server ({command}) at {base_url}, not Ollama").format(
            command="python -m llama_cpp.server", base_url=rehearsal.base_url
        )
    )
    print(_("Reply:"), rehearsal.reply)


def cold_start_line(rehearsal: HandoffRehearsal | None) -> None:
    if rehearsal is not None:
        print(_("cold start: {seconds:.1f} s; stopped").format(seconds=rehearsal.cold_start_s))


def llama_build_line() -> str:
    """Which llama.cpp build runs here: make's guarded build locally; in Colab, the wheel the first cell installed."""
    if landscape.unavailable("llama.cpp"):
        return _(landscape.NO_LLAMA_CPP)
    if detect_platform() == "local":
        return _("This environment runs {build}").format(build=_installed_build())
    from importlib.metadata import version

    source = os.environ.get("OPENLLM_ROUTES_LLAMA_WHEELS") or _("the prebuilt wheel index in helpers/tooling/bootstrap.py")
    return _(
        "This runtime runs llama-cpp-python {version}, the prebuilt wheel the first cell installed (from {source}); "
        "`make setup`'s faster guarded build is for local machines."
    ).format(version=version("llama-cpp-python"), source=source)


def _installed_build() -> str:
    """:func:`llama_build.installed_build` in the learner's language where its stamp records a passed decode test (the
    stamp keeps that sentence in English; its key and tokens say it again); any other stamp's sentence as it is."""
    stamp = json.loads(llama_build.STAMP.read_text(encoding="utf-8")) if llama_build.STAMP.is_file() else {}
    if not (stamp.get("passed") and stamp.get("tokens")):
        return llama_build.installed_build()
    return _("{installed}, because the {key} build decoded the same {count} greedy tokens as the portable build").format(
        installed=stamp["installed"], key=stamp["key"], count=len(stamp["tokens"])
    )


def plot_roofline(rows: list[roofline.RooflineRow]) -> Any:
    """Measured decode speed beside the ceiling, per runtime and precision."""
    import matplotlib.pyplot as plt

    labels = [f"{r.runtime} · {r.dtype}" for r in rows]  # horizontal bars: the long runtime names stay readable
    fig, ax = plt.subplots(figsize=(10, 0.4 * len(rows) + 1.4))
    ax.barh(labels, [r.ceiling_tokens_per_s for r in rows], color="lightgray", label="ceiling: bandwidth ÷ bytes per token")
    ax.barh(labels, [r.tokens_per_s for r in rows], color="tab:blue", label=f"measured {DECODE_LABEL}")
    ax.set(xlabel=DECODE_LABEL, title="decode speed against the memory-bandwidth ceiling")
    ax.invert_yaxis()  # the table's order, top to bottom
    ax.tick_params(axis="y", labelsize=9)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig
