"""The lesson's script, as the lesson runs it::

    ROUTE=local_cpu python choose_openllm_runtime.py
    ROUTE=free_colab python choose_openllm_runtime.py
    ROUTE=rented_gpu VRAM_GB=24 NEEDS_SERVICE=yes python choose_openllm_runtime.py

It downloads nothing. It prints JSON with the profile and the decision, and
writes ``outputs/model_runtime_decision.json`` with the ``.md`` beside it. The
rule is ``helpers.decision``; ``python -m helpers.decide`` takes the same
fields as flags.
"""

from helpers.tooling.decide import main

if __name__ == "__main__":
    raise SystemExit(main(lesson=True))
