"""Route 2's plan: the route card's two steps, where step 2 is the decision rule applied to the detected GPU.

The route card says: *tiny model first, then a small instruct model only if a GPU
is visible*. :func:`plan_route` turns the GPU report into exactly that:

1. the tiny model, always, on whatever device was chosen: it proves the notebook
   reruns and saves its files (its weights are random, so its text is noise);
2. with a GPU, the decision rule's ``candidate_1`` for a ``free_colab`` profile
   whose GPU memory is what is free on that GPU: the same answer notebook 01's
   record gives for that memory, never a second rule. A gated model without a
   hub token, or an unreachable hub, is said in one sentence. With no GPU,
   step 2 is skipped and the plan says why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from helpers.core import names
from helpers.core.i18n import _
from helpers.core.net import hub_reachable
from helpers.decision.candidates import smallest_covering
from helpers.decision.profile import LESSON_EXAMPLE, SMALL_INSTRUCT_MAX_PARAMS, Profile
from helpers.decision.rule import COLAB_CONTEXT_TOKENS, Decision, choose
from helpers.machine.gpu import GpuReport
from helpers.routes.free_colab import RunPlan
from helpers.shelf.models import SHELF_ENTRIES, in_hub_cache

#: Models whose hub page asks the learner to accept a licence before a token can download them.
GATED = ("meta-llama/",)


@dataclass(frozen=True)
class RoutePlan:
    """Both steps; ``second`` is None when step 2 does not run, and ``skipped`` says why."""

    first: RunPlan
    second: RunPlan | None
    skipped: str = ""


def needs_token(model: str) -> bool:
    return model.startswith(GATED)


def has_hub_token(environ: dict[str, str] | None = None) -> bool:
    """A hub token: ``HF_TOKEN``, a ``huggingface-cli login`` file, or (through ``huggingface_hub``) Colab Secrets.

    With ``environ`` given, only that mapping and its ``HF_HOME`` are consulted (the tests use it).
    """
    env = os.environ if environ is None else environ
    token_file = Path(env.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "token"
    if env.get("HF_TOKEN") or token_file.exists():
        return True
    if environ is not None:
        return False
    try:
        from huggingface_hub import get_token
    except ImportError:
        return False
    return get_token() is not None


def loadable(model: str) -> bool:
    """Whether this session can load ``model``: on the shelf, in the hub cache, or with the hub reachable."""
    return model in SHELF_ENTRIES or in_hub_cache(model) or hub_reachable()


def _tiny(device: str, reason: str) -> RunPlan:
    return RunPlan(
        "tiny",
        names.TINY_GPT2,
        device,
        "float32",
        reason,
        proves=_("the notebook reruns end to end and saves its outputs, the same files a GPU run writes"),
        does_not_prove=_(
            "model quality: tiny-gpt2 has random weights, so its text is noise and its eval score is zero by design"
        ),
    )


def colab_decision(report: GpuReport, profile: Profile) -> Decision:
    """The rule on route 2 for this session: the project's profile with the free memory of the GPU torch sees (0 without one)."""
    gpu = report.first_gpu
    return choose(replace(profile, route="free_colab", available_vram_gb=gpu.free_gb if gpu else 0.0))


def _small_instruct(report: GpuReport, profile: Profile) -> tuple[RunPlan | None, str]:
    """Step 2 on the first GPU: the decision rule's candidate_1 for this GPU, or None and the one sentence that says why not."""
    gpu = report.first_gpu
    decision = colab_decision(report, profile)
    pick = decision.candidate_1
    if pick is None:
        smallest = smallest_covering(
            decision.profile, "transformers-cuda", gpu.free_gb, COLAB_CONTEXT_TOKENS, max_params=SMALL_INSTRUCT_MAX_PARAMS,
            must_fit=False,
        )  # fmt: skip
        if smallest is None:
            return None, _("no small instruct model in the catalogue covers the must-haves ({needs})").format(
                needs=", ".join(profile.must_have)
            )
        return None, _(
            "{gpu} has {free:g} GB free, but the smallest instruct candidate needs about "
            "{need:.1f} GB with a {tokens}-token KV cache; "
            "free GPU memory (restart the runtime) or use a larger GPU"
        ).format(gpu=gpu.name, free=gpu.free_gb, need=smallest.need_gb, tokens=smallest.context_tokens)
    if needs_token(pick.model) and not has_hub_token():
        return None, _(
            "{model}, the rule's candidate for this GPU, is gated on the hub: accept its licence on its model page, "
            "then add an HF_TOKEN in Colab Secrets and run again"
        ).format(model=pick.model)
    model = pick.model
    torch_dtype = "bfloat16" if gpu.bf16 else "float16"
    reason = _(
        "{model} is the decision rule's first Colab candidate (the smallest instruct model, at most {cap:g}B parameters, "
        "that covers the must-haves) and its weights, KV cache at {tokens} tokens and overhead fit {free:g} GB free on {gpu}"
    ).format(model=model, cap=SMALL_INSTRUCT_MAX_PARAMS / 1e9, tokens=pick.context_tokens, free=gpu.free_gb, gpu=gpu.name)
    if not loadable(model):
        reason += _("; the hub is unreachable and it is not cached, so the shelf's {model} runs instead").format(
            model=names.SMOLLM2
        )
        model = names.SMOLLM2
    plan = RunPlan(
        "small_instruct",
        model,
        "cuda",
        torch_dtype,
        reason,
        proves=_("a real instruct model runs on {gpu} in {dtype} and scores on the same fixed eval cases").format(
            gpu=gpu.name, dtype=torch_dtype
        ),
        does_not_prove=_("serving under load, latency percentiles or cost per token: that is route 3"),
    )
    return plan, ""


def plan_route(report: GpuReport, device: str, profile: Profile = LESSON_EXAMPLE) -> RoutePlan:
    """The route card's two steps for this session, from the GPU report, the chosen device and the project's profile."""
    if device == "cpu":
        why = _("device='cpu' was requested") if report.first_gpu else _("no GPU is visible to torch")
        first = _tiny("cpu", _("{why}, so the tiny model runs on the CPU").format(why=why))
        skipped = _("{why}: the route card runs the small instruct model only when a GPU is visible").format(why=why)
        return RoutePlan(first, None, skipped)
    first = _tiny("cuda", _("the tiny model runs first, on the GPU, to prove the notebook path before any download of size"))
    second, skipped = _small_instruct(report, profile)
    return RoutePlan(first, second, skipped)
