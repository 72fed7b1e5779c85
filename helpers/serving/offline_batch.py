"""vLLM's offline batch inference: the same engine with no server, the whole batch handed to it at once.

The guide's first vLLM example is not a server but ``LLM(...)`` and ``SamplingParams(...)`` in one Python process.
Notebook 04 runs exactly that, beside the server it benchmarked, so a learner sees what the HTTP layer and the
request-by-request arrival cost: the offline engine schedules every prompt from the first step. vLLM lives in
``.venv-vllm`` (its own torch), so :data:`OFFLINE_SCRIPT` runs there as a subprocess and the notebook prints it;
the job goes in on stdin and the figures come back as the last line of stdout, one JSON object.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from helpers.core.i18n import _
from helpers.core.paths import REPO_ROOT
from helpers.runtimes.client import ServingError
from helpers.serving.rehearsal import MAX_MODEL_LEN, VLLM_PYTHON, engine_environment

#: The script, as a learner would write it on a GPU machine with ``pip install vllm``.
OFFLINE_SCRIPT = """\
import json, sys, time
from vllm import LLM, SamplingParams

job = json.load(sys.stdin)
started = time.perf_counter()
llm = LLM(model=job["model_dir"], served_model_name=job["served_name"], dtype=job["dtype"],
          max_model_len=job["max_model_len"], enforce_eager=True, seed=0)
loaded = time.perf_counter()
params = SamplingParams(temperature=0, max_tokens=job["max_tokens"])  # greedy, as the eval gate decodes
outputs = llm.chat(job["conversations"], params, use_tqdm=False)  # every conversation scheduled at once
finished = time.perf_counter()
print(json.dumps({"load_s": loaded - started, "generate_s": finished - loaded,
                  "output_tokens": sum(len(out.outputs[0].token_ids) for out in outputs),
                  "first_text": outputs[0].outputs[0].text}))
"""


@dataclass(frozen=True)
class OfflineBatch:
    """One offline run: how many conversations, the tokens they produced, and the engine's load and generate times."""

    requests: int
    output_tokens: int
    load_s: float
    generate_s: float
    first_text: str

    @property
    def output_tokens_per_s(self) -> float:
        """Output tokens over the generate call alone: the model load is a one-off, as a server's boot is."""
        return self.output_tokens / self.generate_s


def unavailable(beside_rehearsal: bool = True) -> str | None:
    """Why the offline engine is not run here (one sentence), or ``None`` when it can run.

    It runs only beside the rehearsal server (``beside_rehearsal``): a server the notebook did not start may be a GPU
    elsewhere, and this machine's offline figure set beside it would compare two machines.
    """
    if not beside_rehearsal:
        return _(
            "vLLM's offline engine was not run: this notebook measured a server it did not start, so run the script "
            "above on that server's machine to set the two side by side."
        )
    if VLLM_PYTHON.exists():
        return None
    return _(
        "vLLM's offline engine was not run in this runtime: its CPU build lives in `.venv-vllm`, which only "
        "`make setup` creates; on a GPU machine, `pip install vllm` and run the script above as it is."
    )


def run_offline_batch(
    conversations: list[list[dict]], *, model_dir: Path, served_name: str, dtype: str, max_tokens: int,
    max_model_len: int = MAX_MODEL_LEN, timeout_s: float = 240.0,
) -> OfflineBatch:  # fmt: skip
    """:data:`OFFLINE_SCRIPT` in ``.venv-vllm`` on ``conversations``; a failed or silent run raises with its last words."""
    if why := unavailable():
        raise ServingError(why)
    job = {"model_dir": str(model_dir), "served_name": served_name, "dtype": dtype, "max_model_len": max_model_len,
           "max_tokens": max_tokens, "conversations": conversations}  # fmt: skip
    try:
        child = subprocess.run([str(VLLM_PYTHON), "-c", OFFLINE_SCRIPT], input=json.dumps(job), capture_output=True,
                               text=True, env=engine_environment(), cwd=REPO_ROOT, timeout=timeout_s)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ServingError(_("vLLM's offline run took longer than {seconds:g} s.").format(seconds=timeout_s)) from None
    results = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not results:
        tail = child.stderr.strip()[-600:]
        raise ServingError(_("vLLM's offline run failed (exit {code}): {tail}").format(code=child.returncode, tail=tail))
    figures = json.loads(results[-1])
    return OfflineBatch(len(conversations), figures["output_tokens"], round(figures["load_s"], 2),
                        round(figures["generate_s"], 3), figures["first_text"])  # fmt: skip
