"""OpenLLM Routes helpers: the logic behind the notebooks, importable so no cell copies code.

Importing the package quietens the progress bars and advisory warnings of the
libraries it drives, so notebook outputs show what the lesson is about and stay
the same from run to run.
"""

import os

for _name, _value in {
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TQDM_DISABLE": "1",
}.items():
    os.environ.setdefault(_name, _value)
