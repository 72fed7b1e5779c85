"""OpenLLM Routes helpers: the logic behind the notebooks, importable so no cell copies code.

Importing the package quietens the progress bars and advisory warnings of the
libraries it drives, whether they were imported before or after it, so notebook
outputs show what the lesson is about and stay the same from run to run.
"""

import os
import sys

for _name, _value in {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

if "huggingface_hub" in sys.modules:  # imported first: its env var was read already
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
if "transformers" in sys.modules:
    from transformers.utils import logging as _transformers_logging

    _transformers_logging.disable_progress_bar()
    _transformers_logging.set_verbosity_error()
