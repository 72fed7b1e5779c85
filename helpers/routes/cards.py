"""The route table: the lesson's three route cards, each once, with what the rule and the verdict read from it.

A route changes what the first proof can claim. Each card's first model and
runtime are the rule's code (``helpers.decision.rule``); this table holds what
the rule and the verdict read. The rule
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
    """One route card: its upgrade signal (the lesson's words), and the facts the rule and the verdict read for it."""

    route: str
    upgrade_signal: Sentence
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
            upgrade_signal=Sentence(N_("The loop is reproducible, but quality is too weak for the target task.")),
            runtimes=("transformers-cpu", "llama.cpp"),
            context_tokens=4096,
            evidence=(),
            run_to_fix=Sentence(N_("notebook 02_local_cpu_route (its eval tables on Transformers and llama.cpp)")),
        ),
        RouteCard(
            "free_colab",
            upgrade_signal=Sentence(N_("GPU is visible and fixed eval cases justify trying a larger model.")),
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
            upgrade_signal=Sentence(N_("Fixed eval cases pass and service behavior, not only one-off generation, matters.")),
            runtimes=("vllm",),
            context_tokens=8192,
            evidence=("benchmark",),
            run_to_fix=Sentence(N_("notebook 04_rented_gpu_route (its eval table, benchmark and shutdown proof)")),
            typical_vram_gb=24.0,
        ),
    )
}
ROUTES = tuple(ROUTE_CARDS)
