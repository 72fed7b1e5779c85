"""A small OpenAI-compatible server around a Transformers model: the route-1 "local API skeleton".

It speaks the same protocol as vLLM, so the official ``openai`` client that
route 3 points at a rented GPU can be rehearsed here at zero cost:

* ``GET /health``: 200 while serving;
* ``GET /v1/models``: the served model, with ``max_model_len``;
* ``POST /v1/chat/completions``: greedy generation, plain or streamed as
  server-sent events, with ``stream_options.include_usage`` putting token
  counts in a last chunk whose ``choices`` is empty.

Bad requests get OpenAI-style error bodies (400 for a missing ``messages`` or an
over-long prompt, 404 for an unknown model), and the server keeps serving. A
client that disconnects mid-stream stops its generation, not the server.

It binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from helpers.core.net import LOCALHOST, free_port
from helpers.runtimes.transformers import LoadedModel, encode_messages, greedy_settings, load


def error_response(status: int, message: str, *, param: str | None = None, code: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status_code=status)


@dataclass
class ServedModel:
    """A loaded model and tokenizer, the name clients use, and how much context it has."""

    name: str
    model: Any
    tokenizer: Any
    max_model_len: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, *, name: str | None = None) -> ServedModel:
        """Serve a model already loaded (a notebook reuses the one it inspected) under ``name`` or its hub name."""
        return cls(name or loaded.name, loaded.model, loaded.tokenizer, loaded.max_context)


class _StopWhenSet:
    """A stopping criterion that ends generation once the client has gone."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
        return self.event.is_set()


def _validate(body: Any, served: ServedModel) -> JSONResponse | None:
    if not isinstance(body, dict):
        return error_response(400, "The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_response(400, "'messages' is a required property: a non-empty list of {role, content}.", param="messages")
    if not all(isinstance(m, dict) and isinstance(m.get("content"), str) and m.get("role") for m in messages):
        return error_response(400, "Each message needs a 'role' and a string 'content'.", param="messages")
    if body.get("model") != served.name:
        return error_response(
            404,
            f"The model '{body.get('model')}' does not exist. This server serves: {served.name}.",
            param="model",
            code="model_not_found",
        )
    return None


def _context_exceeded(served: ServedModel, prompt_tokens: int, max_tokens: int) -> JSONResponse | None:
    """vLLM's 400 for a prompt plus completion longer than the model's context; None when it fits."""
    if prompt_tokens + max_tokens <= served.max_model_len:
        return None
    return error_response(
        400,
        f"This model's maximum context length is {served.max_model_len} tokens. However, you requested "
        f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, {max_tokens} in the completion).",
        param="messages",
        code="context_length_exceeded",
    )


class _Completion:
    """One chat completion: greedy generation in a worker thread, its text read back through a streamer.

    The worker holds the model's lock, so requests generate one at a time; setting
    ``stop`` (a client that left) ends the generation at the next token.
    """

    def __init__(self, served: ServedModel, inputs: Any, max_tokens: int):
        from transformers import TextIteratorStreamer

        self.served, self.inputs, self.max_tokens = served, inputs, max_tokens
        self.prompt_tokens = int(inputs["input_ids"].shape[1])
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.stop = threading.Event()
        self.streamer = TextIteratorStreamer(served.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
        self.counted: dict[str, int] = {}
        self.worker = threading.Thread(target=self._generate, daemon=True)

    def _generate(self) -> None:
        from transformers import StoppingCriteriaList

        with self.served.lock:
            try:
                output = self.served.model.generate(
                    **self.inputs,
                    **greedy_settings(self.served.tokenizer, self.max_tokens),
                    streamer=self.streamer,
                    stopping_criteria=StoppingCriteriaList([_StopWhenSet(self.stop)]),
                )
                self.counted["completion"] = int(output.shape[1] - self.prompt_tokens)
            except Exception:  # the streamer must still end, or the reader waits for ever
                self.streamer.end()
                raise

    def usage(self) -> dict[str, int]:
        completion = self.counted.get("completion", 0)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }

    def finish_reason(self) -> str:
        return "length" if self.counted.get("completion", 0) >= self.max_tokens else "stop"

    def chunk(self, delta: dict[str, str], reason: str | None = None) -> str:
        payload = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.served.name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def usage_chunk(self) -> str:
        """``stream_options.include_usage``'s last chunk: the token counts, with an empty ``choices``."""
        payload = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.served.name,
            "choices": [],
            "usage": self.usage(),
        }
        return f"data: {json.dumps(payload)}\n\n"

    async def pieces(self) -> AsyncIterator[str]:
        iterator = iter(self.streamer)
        while True:
            piece = await asyncio.to_thread(next, iterator, None)
            if piece is None:
                return
            if piece:
                yield piece

    async def response(self) -> JSONResponse:
        """The whole completion in one body, once generation has finished."""
        text = "".join([piece async for piece in self.pieces()])
        await asyncio.to_thread(self.worker.join)
        return JSONResponse(
            {
                "id": self.id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.served.name,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": self.finish_reason()}
                ],
                "usage": self.usage(),
            }
        )

    async def events(self, include_usage: bool) -> AsyncIterator[str]:
        """The completion as server-sent events: a role chunk, one chunk per piece, the finish reason, ``[DONE]``."""
        try:
            yield self.chunk({"role": "assistant", "content": ""})
            async for piece in self.pieces():
                yield self.chunk({"content": piece})
            await asyncio.to_thread(self.worker.join)
            yield self.chunk({}, self.finish_reason())
            if include_usage:
                yield self.usage_chunk()
            yield "data: [DONE]\n\n"
        finally:
            self.stop.set()  # a client that left mid-stream ends its generation here


def create_app(served: ServedModel) -> FastAPI:
    """The FastAPI application; generation runs in a worker thread, one request at a time."""
    app = FastAPI(title="OpenLLM Routes local API", docs_url=None, redoc_url=None)
    created = int(time.time())

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": served.name,
                    "object": "model",
                    "created": created,
                    "owned_by": "openllm-routes",
                    "max_model_len": served.max_model_len,
                }
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> JSONResponse | StreamingResponse:
        try:
            body = await request.json()
        except ValueError:
            return error_response(400, "The request body is not valid JSON.")
        problem = _validate(body, served)
        if problem:
            return problem
        inputs = encode_messages(served.tokenizer, body["messages"])
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 16)
        too_long = _context_exceeded(served, int(inputs["input_ids"].shape[1]), max_tokens)
        if too_long:
            return too_long
        completion = _Completion(served, inputs, max_tokens)
        completion.worker.start()
        if not body.get("stream"):
            return await completion.response()
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(completion.events(include_usage), media_type="text/event-stream")

    return app


def load_served_model(model_id: str, *, name: str | None = None, dtype: str = "float32") -> ServedModel:
    """Load a model through the shelf resolver (:func:`helpers.runtimes.transformers.load`) and describe it for serving."""
    return ServedModel.from_loaded(load(model_id, dtype=dtype), name=name)


class LocalAPIServer:
    """Run the app with uvicorn in a background thread; ``with LocalAPIServer(...) as server:`` stops it on exit."""

    def __init__(self, served: ServedModel, *, host: str = LOCALHOST, port: int | None = None):
        self.host, self.port = host, port or free_port(host)
        config = uvicorn.Config(create_app(served), host=self.host, port=self.port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, timeout_s: float = 30.0) -> LocalAPIServer:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The local API did not start on {self.host}:{self.port} within {timeout_s:.0f} s.")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def __enter__(self) -> LocalAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
