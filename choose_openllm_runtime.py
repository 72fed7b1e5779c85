"""The lesson's command: `ROUTE=rented_gpu VRAM_GB=24 NEEDS_SERVICE=yes python choose_openllm_runtime.py`.

Same as `python -m helpers.decide`; kept at the top level so the lesson's line runs as written.
"""

from helpers.decide import main

if __name__ == "__main__":
    raise SystemExit(main())
