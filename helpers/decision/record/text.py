"""Every sentence the record writes, in one place, with the numbers it is written from as placeholders.

Learner-facing text is kept here as whole sentences (not fragments glued in
code), so it can be read, checked and translated as a unit.
"""

from helpers.core.i18n import sentences

SCHEMA = "model_runtime_decision.schema.json"
SCHEMA_VERSION = 2
PAID_HOURS_BUDGET = 2
EVIDENCE_FIT = ("model_version", "command", "first_output", "eval_table", "stop_procedure")
#: Every sentence the record writes, in one place. Placeholders are filled from the decision and the verdict.
TEXT = {
    "because_workflow": "the estimator puts it at {need:.2f} GB of {kind} against {avail:g} GB available, and its random weights "
    "prove the loop (load, tokens, one prompt, the eval script, the local API) without claiming quality",
    "because_task": "the estimator puts it at {need:.2f} GB of {kind} against {avail:g} GB available, and it is the smallest "
    "catalogue model that covers {needs}",
    "because_met": "the fixed eval set already shows the upgrade signal of the {route} card ({rows})",
    "later_fit": "; it needs {need:.2f} GB of {kind}, so it runs once that much is available",
    "not_larger_not_met": "the fixed eval set does not show the upgrade signal of the {route} card: {says} ({rows})",
    "not_larger_unknown": "nothing shows yet that one is needed ({says}); run {run} first",
    "not_larger_met": ("{model} has no eval table of its own yet, and a larger model waits until it fails the required cases"),
    "not_larger_passes": "its own rows already pass the gate ({rows})",
    "not_larger_larger": "its own rows ({rows}) do not pass the gate yet while {larger} does: read these failures before "
    "paying for the larger model",
    "not_larger_scored": "its own rows ({rows}) are the evidence so far, and no larger model's table passes the gate either",
    "version_pinned": "{model}: SHA-256 {digest}, the digest setup pins and checks before the file goes on the shelf",
    "version": "{model}: SHA-256 {digest}, as the shelf manifest records it",
    "version_shelf": "run `make shelf` (it builds {folder} and records its SHA-256)",
    "version_hub": "record the hub revision of {model} (no shelf entry on this machine holds it)",
    "tables_of": "{model}: {tables}",
    "switch": "{model} failing {required}, or passing fewer than {share:.0%} of the fixed cases, while {other} passes them",
    "switch_none": "a catalogue model that fits this profile passing {required}",
    "nothing": (
        "For this project, I will start with no model yet using the fallback ({fallback}) because {why}. "
        "I will not use a larger model yet because none fits. "
        "I will switch only if the fixed eval set shows a catalogue model that fits passing {required}."
    ),
    "paragraph": (
        "For this project, I will start with {model} using {runtime} because {because}. "
        "I will not use a larger model yet because {not_larger}. "
        "I will switch only if the fixed eval set shows {switch}."
    ),
    "stop_paid": "within {hours} h of boot; notebook 04 writes the real stop to outputs/serving/shutdown_proof.json",
    "stop_free": "no paid resource: shut the kernel down (on Colab: Runtime → Disconnect and delete runtime)",
    "risk_workflow": "random weights: its answers are noise, so it covers none of the must-haves and proves the workflow only",
    "risk_small": "quality may be too weak for the target task; the fixed eval set will tell",
    "risk_large": "higher cost and slower iteration; it needs a planned GPU budget and a shutdown proof",
    "risk_no_fit": "it does not fit today: it needs {need:.2f} GB of {kind} against {avail:g} GB",
    "risk_licence": "its licence adds conditions: {note}",
    "hardware": (
        "the estimator predicts {need:.2f} GB of {kind} ({weights:.2f} weights + {kv:.2f} KV cache at {tokens:,} tokens "
        "+ {runtime:.2f} runtime) against {avail:g} GB available, so it {fits}; {disk:.2f} GB on disk"
    ),
}
TEXT = sentences(TEXT)  # read in the current language (helpers.core.i18n)
WHY_NOW = {
    "workflow": "prove the deployment loop on the machine you have before chasing larger models",
    "portable": "prove the notebook reruns on a GPU and saves its outputs before depending on a free GPU",
    "portable_cpu": "prove the notebook reruns and saves its outputs before depending on a free GPU",
    "serving": (
        "prove the endpoint, latency, eval and shutdown with a small model for cents before a 7B-class model costs dollars"
    ),
    "gpu_first": "prove the model answers on the GPU before paying for a service",
    "not_ready": "the GPU is below the 16 GB this course asks for serving, so prove the task on what fits first",
    "nothing_fits": "no catalogue model fits this profile (its memory and its must-haves), so the fallback is the honest start",
}
WHY_NOW = sentences(WHY_NOW)  # read in the current language (helpers.core.i18n)
