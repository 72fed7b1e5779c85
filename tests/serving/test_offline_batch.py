"""vLLM's offline engine, run for real in ``.venv-vllm``: the batch it returns, and the sentence where it cannot run."""

from __future__ import annotations

import pytest

from helpers.core.names import SMOLLM2
from helpers.runtimes.client import ServingError
from helpers.serving import offline_batch
from helpers.shelf.models import SHELF_ENTRIES

CONVERSATIONS = [[{"role": "user", "content": "Say hello to a customer."}], [{"role": "user", "content": "Name a colour."}]]


def test_without_the_vllm_environment_it_says_why_and_refuses(monkeypatch, tmp_path):
    monkeypatch.setattr(offline_batch, "VLLM_PYTHON", tmp_path / "missing" / "python")
    assert "make setup" in offline_batch.unavailable()
    assert "did not start" in offline_batch.unavailable(beside_rehearsal=False)
    with pytest.raises(ServingError, match="offline engine was not run"):
        offline_batch.run_offline_batch(CONVERSATIONS, model_dir=tmp_path, served_name=SMOLLM2, dtype="float32", max_tokens=4)


@pytest.mark.slow
def test_the_offline_engine_generates_every_conversation_greedily():
    kwargs = {"model_dir": SHELF_ENTRIES[SMOLLM2].path, "served_name": SMOLLM2, "dtype": "float32", "max_tokens": 8}
    batch = offline_batch.run_offline_batch(CONVERSATIONS, **kwargs)
    assert batch.requests == 2 and 2 <= batch.output_tokens <= 16 and batch.first_text.strip()
    assert batch.load_s > 0 and batch.output_tokens_per_s == batch.output_tokens / batch.generate_s


@pytest.mark.slow
def test_a_folder_with_no_model_fails_with_the_engines_last_words(tmp_path):
    with pytest.raises(ServingError, match=r"offline run failed \(exit [1-9]"):
        offline_batch.run_offline_batch(CONVERSATIONS, model_dir=tmp_path, served_name=SMOLLM2, dtype="float32", max_tokens=4)
