"""The local API skeleton, called with the official openai client, bad requests included."""

from __future__ import annotations

import httpx
import openai
import pytest

from helpers.core.names import TINY_GPT2
from helpers.core.net import LOCALHOST, port_is_open
from helpers.runtimes.client import make_client
from helpers.runtimes.local_api import LocalAPIServer, load_served_model

pytestmark = pytest.mark.slow

MODEL = TINY_GPT2
HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def served():
    return load_served_model(MODEL)


@pytest.fixture(scope="module")
def server(served):
    with LocalAPIServer(served) as running:
        yield running


@pytest.fixture
def client(server):
    return make_client(server.base_url)


def test_binds_localhost_by_default(server):
    assert server.host == LOCALHOST == "127.0.0.1"


def test_models_and_health(server, client):
    (model,) = client.models.list().data
    assert model.id == MODEL and model.model_extra["max_model_len"] == 1024
    assert httpx.get(server.base_url.removesuffix("/v1") + "/health").status_code == 200


def test_chat_is_greedy_and_reports_usage(client):
    first = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8)
    second = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.usage.completion_tokens == 8 and first.choices[0].finish_reason == "length"


def test_stream_with_include_usage_ends_with_an_empty_choices_chunk(client):
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=HELLO, max_tokens=8, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 8
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8).choices[0].message.content


def test_missing_messages_is_400(server):
    response = httpx.post(server.base_url + "/chat/completions", json={"model": MODEL})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"


def test_unknown_model_is_404_naming_the_served_one(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="gpt-5", messages=HELLO)
    assert "This server serves: sshleifer/tiny-gpt2" in str(error.value)


def test_prompt_over_the_context_is_400_naming_the_limit(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "word " * 1100}], max_tokens=4)
    assert "maximum context length is 1024 tokens" in str(error.value)


def test_client_disconnect_mid_stream_does_not_crash_the_server(server, served, client):
    body = {"model": MODEL, "messages": HELLO, "max_tokens": 1000, "stream": True}
    with httpx.stream("POST", server.base_url + "/chat/completions", json=body) as response:
        for number, _ in enumerate(response.iter_lines()):
            if number == 3:
                break
    assert served.lock.acquire(timeout=60), "the abandoned generation never stopped"
    served.lock.release()
    assert client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=4).usage.completion_tokens == 4


def test_port_is_closed_after_stop(served):
    running = LocalAPIServer(served).start()
    assert port_is_open(running.host, running.port)
    running.stop()
    assert not port_is_open(running.host, running.port)
