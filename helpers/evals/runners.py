"""Runners: the one place the eval gate touches a runtime.

Each runner turns a case's chat messages into a :class:`~helpers.runtimes.transformers.Generation`,
greedily. Transformers and llama.cpp run in this process; :class:`OpenAIRunner`
drives any OpenAI-compatible endpoint by its ``base_url``: the local API
skeleton, llama.cpp's server, vLLM, Ollama (``http://localhost:11434/v1``) or
LM Studio (``http://localhost:1234/v1``).

Whether the output was *constrained* (the runtime enforced the case's JSON
schema through ``response_format``) is recorded per case, because a constrained
JSON pass and an unconstrained one are not the same test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

from helpers.core.names import API_KEY_ENV, SMOLLM2, TINY_GPT2
from helpers.evals.cases import Case
from helpers.runtimes.client import make_client
from helpers.runtimes.transformers import Generation, LoadedModel, generate, load
from helpers.shelf.models import gguf_for

RUNTIMES = ("transformers", "llama.cpp", "openai")


class Runner(Protocol):
    model: str
    runtime: str
    notes: list[str]

    def generate(self, case: Case) -> Generation: ...


class TransformersRunner:
    """Greedy generation with Transformers; a model name is loaded through the shelf, or pass a loaded one."""

    def __init__(self, model: str | LoadedModel, *, device: str = "cpu", dtype: str = "float32", runtime: str = "transformers"):
        self.loaded = model if isinstance(model, LoadedModel) else load(model, dtype=dtype, device=device)
        self.model, self.runtime, self.notes = self.loaded.name, runtime, []

    def generate(self, case: Case) -> Generation:
        return generate(self.loaded, case.messages, case.max_tokens)


class LlamaCppRunner:
    """Greedy generation with llama.cpp on a quantized GGUF, in this process.

    Without ``gguf_path`` it runs the shelf's GGUF for ``model_id`` and is named for the model in that file
    (the lesson's Qwen runs as its offline sibling).

    With ``structured_output=True`` the JSON cases are constrained by a grammar
    that llama.cpp builds from the case's schema, the in-process counterpart of
    ``response_format``.
    """

    def __init__(
        self,
        model_id: str,
        gguf_path: Path | str | None = None,
        *,
        n_ctx: int = 2048,
        structured_output: bool = False,
        runtime: str = "llama.cpp",
    ):
        from llama_cpp import Llama

        ran, shelf_gguf = (model_id, Path(gguf_path)) if gguf_path else gguf_for(model_id)
        self.model, self.runtime, self.structured_output, self.notes = ran, runtime, structured_output, []
        self.gguf_path = shelf_gguf
        self.llm = Llama(model_path=str(self.gguf_path), n_ctx=n_ctx, seed=0, verbose=False)

    def generate(self, case: Case) -> Generation:
        constrained = bool(self.structured_output and case.json_schema)
        extra = {"response_format": {"type": "json_object", "schema": case.json_schema}} if constrained else {}
        start = time.perf_counter()
        response = self.llm.create_chat_completion(case.messages, max_tokens=case.max_tokens, temperature=0.0, seed=0, **extra)
        seconds = time.perf_counter() - start
        text = response["choices"][0]["message"]["content"] or ""
        return Generation(text, response["usage"]["completion_tokens"], seconds, constrained)


def response_format(case: Case) -> dict[str, Any]:
    """The OpenAI ``response_format`` that enforces a case's JSON schema (vLLM honours ``strict``)."""
    name = case.case_id.replace("-", "_")
    return {"type": "json_schema", "json_schema": {"name": name, "schema": case.json_schema, "strict": True}}


class OpenAIRunner:
    """Any OpenAI-compatible endpoint; with ``structured_output``, JSON cases ask for ``response_format``.

    A server that rejects ``json_schema`` gets the JSON cases without enforced
    structure from then on; those rows say ``constrained=False`` and
    :attr:`notes` says why.
    """

    def __init__(self, client: Any, model: str, *, runtime: str = "openai-compatible", structured_output: bool = True):
        self.client, self.model, self.runtime, self.structured_output = client, model, runtime, structured_output
        self.notes: list[str] = []

    def _create(self, case: Case, constrained: bool) -> Any:
        extra = {"response_format": response_format(case)} if constrained else {}
        return self.client.chat.completions.create(
            model=self.model, messages=case.messages, max_tokens=case.max_tokens, temperature=0.0, seed=0, **extra
        )

    def generate(self, case: Case) -> Generation:
        import openai

        constrained = bool(self.structured_output and case.json_schema)
        start = time.perf_counter()
        try:
            response = self._create(case, constrained)
        except openai.APIStatusError as error:
            if not (constrained and "response_format" in str(error)):
                raise
            self.structured_output = constrained = False
            self.notes.append("the server rejected response_format json_schema, so JSON cases ran without enforced structure")
            start = time.perf_counter()
            response = self._create(case, False)
        seconds = time.perf_counter() - start
        tokens = response.usage.completion_tokens if response.usage else 0
        return Generation(response.choices[0].message.content or "", tokens, seconds, constrained)


def served_model(client: Any) -> str:
    """The first model an OpenAI-compatible server lists: what to ask for when no name is given."""
    models = client.models.list().data
    if not models:
        raise ValueError("The server lists no models at /v1/models; pass the model name explicitly.")
    return models[0].id


def make_runner(
    runtime: str,
    model: str | None = None,
    *,
    gguf: Path | str | None = None,
    base_url: str | None = None,
    api_key_env: str = API_KEY_ENV,
    structured_output: bool | None = None,
    label: str | None = None,
) -> Runner:
    """A runner by runtime name, as the CLI and notebooks ask for one.

    ``model=None`` means tiny-gpt2 on Transformers, SmolLM2 on llama.cpp, and
    the first model the server lists on ``openai``. ``structured_output=None``
    keeps each runtime's default: enforced JSON on an endpoint (as a production
    client would ask), free text in process. ``label`` names the runtime in
    tables (``vllm``, ``ollama``, ``llama.cpp-server``).
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r} is not one of {', '.join(RUNTIMES)}.")
    if runtime == "transformers":
        if structured_output:
            raise ValueError(
                "The Transformers runner cannot enforce a JSON schema; use llama.cpp or an endpoint for constrained runs."
            )
        return TransformersRunner(model or TINY_GPT2, runtime=label or "transformers")
    if runtime == "llama.cpp":
        return LlamaCppRunner(model or SMOLLM2, gguf, structured_output=bool(structured_output), runtime=label or "llama.cpp")
    if not base_url:
        raise ValueError("runtime 'openai' needs a base_url, e.g. http://127.0.0.1:8000/v1.")
    client = make_client(base_url, api_key_env=api_key_env)
    return OpenAIRunner(
        client,
        model or served_model(client),
        runtime=label or "openai-compatible",
        structured_output=structured_output is not False,
    )
