"""The route table: the lesson's three route cards, each once, with what the rule and the verdict read from it.

A route changes what the first proof can claim, so each card keeps the model,
the runtime, the evidence and the upgrade signal apart. The rule
(``helpers.decision.rule``) sizes a route's candidates at its ``context_tokens``;
the verdict (``helpers.decision.verdict``) reads the eval tables of its
``runtimes``, the extra ``evidence`` files it names, and says ``run_to_fix``
when it cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.i18n import N_, Sentence


@dataclass(frozen=True)
class RouteCard:
    """One route card: the lesson's four lines (in the lesson's English), and the kit's facts for judging it."""

    route: str
    first_model: str
    runtime: str
    first_proof: str
    upgrade_signal: Sentence
    proves: str
    runtimes: tuple[str, ...]
    context_tokens: int
    evidence: tuple[str, ...]
    run_to_fix: Sentence
    #: The GPU memory a route is shown with when a profile names none: a free Colab T4, a common rented 24 GB card.
    typical_vram_gb: float = 0.0


ROUTE_CARDS = {
    card.route: card
    for card in (
        RouteCard(
            "local_cpu",
            first_model="sshleifer/tiny-gpt2 or a small quantized model.",
            runtime="Transformers for inspection; llama.cpp or Ollama for quantized local tests.",
            first_proof="Environment, download, one prompt, eval script, and local API skeleton.",
            upgrade_signal=Sentence(N_("The loop is reproducible, but quality is too weak for the target task.")),
            proves="the workflow",
            runtimes=("transformers-cpu", "llama.cpp"),
            context_tokens=4096,
            evidence=(),
            run_to_fix=Sentence(N_("notebook 02_local_cpu_route (its eval tables on Transformers and llama.cpp)")),
        ),
        RouteCard(
            "free_colab",
            first_model="Tiny model first, then a small instruct model only if GPU is visible.",
            runtime="Transformers notebook with saved files that can be copied back locally.",
            first_proof="The notebook can rerun, outputs are saved, and GPU use is optional.",
            upgrade_signal=Sentence(N_("GPU is visible and fixed eval cases justify trying a larger model.")),
            proves="a portable notebook path",
            runtimes=("transformers-cuda",),
            context_tokens=4096,
            evidence=("colab_run",),
            run_to_fix=Sentence(
                N_("notebook 03_colab_gpu_route on Colab with a GPU runtime (Runtime → Change runtime type → GPU)")
            ),
            typical_vram_gb=15.0,
        ),
        RouteCard(
            "rented_gpu",
            first_model="Small instruct model before trying a 7B-class model.",
            runtime="vLLM or SGLang behind localhost or an SSH tunnel.",
            first_proof="Known VRAM, endpoint, eval table, latency note, and shutdown proof.",
            upgrade_signal=Sentence(N_("Fixed eval cases pass and service behavior, not only one-off generation, matters.")),
            proves="controlled serving and cost discipline",
            runtimes=("vllm",),
            context_tokens=8192,
            evidence=("benchmark",),
            run_to_fix=Sentence(N_("notebook 04_rented_gpu_route (its eval table, benchmark and shutdown proof)")),
            typical_vram_gb=24.0,
        ),
    )
}
ROUTES = tuple(ROUTE_CARDS)
