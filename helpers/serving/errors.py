"""A client exception turned into one sentence that says what to do; keys never appear in it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV
from helpers.core.net import free_port
from helpers.runtimes.client import ServingError, host_port, make_client, normalize_base_url
from helpers.serving.readiness import key_rejected, served_models
from helpers.serving.tunnel import tunnel_hint


def explain(error: BaseException, base_url: str, *, api_key_env: str = API_KEY_ENV) -> ServingError:
    import openai

    where = host_port(base_url)
    if isinstance(error, (openai.APIConnectionError, httpx.ConnectError, httpx.ConnectTimeout)):
        return ServingError(
            _(
                "Cannot reach {where}. If the server runs on a rented GPU, open the tunnel first "
                "({tunnel}); if you just started it, it may still be booting."
            ).format(where=where, tunnel=tunnel_hint(base_url))
        )
    if isinstance(error, openai.AuthenticationError):
        return ServingError(key_rejected(base_url, api_key_env))
    if isinstance(error, openai.NotFoundError):
        served = ", ".join(served_models(base_url, api_key_env=api_key_env)) or _("none listed")
        return ServingError(
            _("{where} does not serve that model (404). Served models: {served}.").format(where=where, served=served)
        )
    if isinstance(error, openai.BadRequestError):
        limit = re.search(r"maximum context length is (\d+) tokens", str(error))
        if limit:
            return ServingError(
                _(
                    "The prompt is longer than the server's max_model_len of {limit} tokens (400). "
                    "Shorten it or lower max_tokens."
                ).format(limit=limit.group(1))
            )
        return ServingError(
            _("{where} refused the request (400): {message}").format(where=where, message=getattr(error, "message", error))
        )
    return ServingError(_("{kind} from {where}: {error}").format(kind=type(error).__name__, where=where, error=error))


@dataclass
class RehearsedFailure:
    """One mistake made on purpose, and what the server did about it."""

    case: str
    refused: bool
    message: str


def rehearse_failures(
    base_url: str, model: str, *, api_key_env: str = API_KEY_ENV, max_model_len: int | None = None
) -> list[RehearsedFailure]:
    """Make each learner mistake against the server; report every case, including a server that accepts it.

    A server that accepts a wrong key has no authentication, and one that answers
    any model name cannot tell you which model answered: both are findings.
    """
    import openai

    client = make_client(base_url, api_key_env=api_key_env)
    wrong = openai.OpenAI(base_url=normalize_base_url(base_url), api_key="not-the-key", max_retries=0, timeout=30)
    hello = [{"role": "user", "content": "hi"}]
    long_prompt = [{"role": "user", "content": "word " * ((max_model_len or 2048) + 500)}]
    nowhere = f"http://127.0.0.1:{free_port()}"
    cases = {
        _("wrong API key"): (
            base_url,
            lambda: wrong.chat.completions.create(model=model, messages=hello, max_tokens=1),
            _(
                "this server accepted a wrong key: it has no authentication. Anyone who reaches the port can use it; "
                "start it with a key ({variable} in vLLM's environment)."
            ).format(variable=api_key_env),
        ),
        _("unknown model"): (
            base_url,
            lambda: client.chat.completions.create(model="no-such-model", messages=hello, max_tokens=1),
            _(
                "this server answers any model name: a typo in the model is not caught, and a reply does not prove "
                "which model produced it. Check /v1/models before trusting results."
            ),
        ),
        _("prompt too long"): (
            base_url,
            lambda: client.chat.completions.create(model=model, messages=long_prompt, max_tokens=4),
            _(
                "this server accepted a prompt longer than its context: it truncates or slides the window "
                "silently, so answers may ignore the start of the prompt."
            ),
        ),
        _("nothing listening"): (
            nowhere,
            lambda: make_client(nowhere, api_key_env=api_key_env).models.list(),
            _("something answered on a port that should be closed."),
        ),
    }
    reports = []
    for case, (url, attempt, accepted) in cases.items():
        try:
            attempt()
        except Exception as error:
            reports.append(RehearsedFailure(case, True, str(explain(error, url, api_key_env=api_key_env))))
        else:
            reports.append(RehearsedFailure(case, False, accepted))
    return reports
