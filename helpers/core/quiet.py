"""Quiet the progress bars and advisory warnings of the libraries the kit drives, when a model is about to load.

Notebook outputs should show what the lesson is about and stay the same from run
to run, so the functions that load models call :func:`quiet_libraries` first.
Importing a ``helpers`` module changes nothing: the environment is touched only
by that call. A library imported before the call has read its variables already,
so it is quietened through its own switch; this module never imports one.
"""

from __future__ import annotations

import os
import sys

QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def quiet_libraries() -> None:
    """Set :data:`QUIET_ENV` where unset, and quieten ``transformers`` and ``huggingface_hub`` if already imported."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    hub = sys.modules.get("huggingface_hub")
    if hub is not None:
        hub.utils.disable_progress_bars()
    transformers = sys.modules.get("transformers")
    if transformers is not None:
        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
