"""Is the server up, and what is it? ``/health``, then ``/v1/models`` and ``/version``, within a deadline.

``/health`` answers in three ways on vLLM: connection refused (still booting),
503 (the engine died), 200 (ready). Servers without ``/health`` (llama.cpp's)
answer 404, and then ``/v1/models`` decides. What could not be checked is
written down in ``notes`` rather than guessed.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import asdict, dataclass, field

import httpx

from helpers.core.i18n import _
from helpers.core.names import API_KEY_ENV
from helpers.runtimes.client import ServingError, api_key, host_port, normalize_base_url, server_root
from helpers.serving.tunnel import tunnel_hint


def key_rejected(base_url: str, api_key_env: str) -> str:
    return _(
        "{endpoint} rejected the API key (401). Set {variable} to the key the server was started with "
        "(in Colab: Secrets, with notebook access on)."
    ).format(endpoint=host_port(base_url), variable=api_key_env)


@dataclass
class Readiness:
    """What the server said once it was ready."""

    base_url: str
    ready_after_s: float
    served_models: list[str]
    max_model_len: int | None
    version: str | None
    has_health: bool
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Readiness:
        return cls(**data)

    def model_to_use(self, wanted: str) -> tuple[str, str | None]:
        """The served model to send requests to, and a note when it is not ``wanted``.

        A remote server serves what its launch command named; asking for another
        name gets a 404 on every request, so the served name wins.
        """
        if not self.served_models:
            raise ServingError(
                _(
                    "{endpoint}/v1/models lists no model: the server has nothing loaded. "
                    "Check its launch command (--model / --served-model-name) and its log."
                ).format(endpoint=host_port(self.base_url))
            )
        if wanted in self.served_models:
            return wanted, None
        chosen = self.served_models[0]
        return chosen, _("the server serves {chosen}, not {wanted}: requests use {chosen}").format(chosen=chosen, wanted=wanted)


def http_get(url: str, key: str = "", timeout_s: float = 5.0) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(url, headers=headers, timeout=timeout_s)


def served_models(base_url: str, *, api_key_env: str = API_KEY_ENV) -> list[str]:
    try:
        response = http_get(normalize_base_url(base_url) + "/models", api_key(api_key_env))
        return [m["id"] for m in response.json().get("data", [])] if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return []


def _answers(base_url: str, api_key_env: str) -> tuple[bool, bool]:
    """One poll: whether the server is up (``/health``, or ``/v1/models`` where there is none), and whether it has ``/health``.

    Refused or reset connections are a server still booting; a 503 is an engine that died.
    """
    has_health = True
    try:
        status = http_get(server_root(base_url) + "/health").status_code
        if status == 503:
            raise ServingError(
                _("{endpoint} answers /health with 503: the engine is dead. Restart the server and read its log.").format(
                    endpoint=host_port(base_url)
                )
            )
        if status == 404:
            has_health = False
            status = http_get(normalize_base_url(base_url) + "/models", api_key(api_key_env)).status_code
        return status in (200, 401), has_health
    except httpx.TransportError:
        return False, has_health  # refused or reset: still booting


def _describe(base_url: str, api_key_env: str, ready_after: float, has_health: bool) -> Readiness:
    """What a ready server serves (``/v1/models``) and is (``/version``), with a note for each thing it does not say."""
    notes = []
    models = http_get(normalize_base_url(base_url) + "/models", api_key(api_key_env))
    if models.status_code == 401:
        raise ServingError(key_rejected(base_url, api_key_env))
    data = models.json().get("data", [])
    version_response = http_get(server_root(base_url) + "/version")
    version = version_response.json().get("version") if version_response.status_code == 200 else None
    if not has_health:
        notes.append(_("no /health endpoint: readiness was judged from /v1/models"))
    if version is None:
        notes.append(_("no /version endpoint: not a vLLM server, so the server version is unknown"))
    lengths = [m.get("max_model_len") for m in data if m.get("max_model_len")]
    if not lengths:
        notes.append(_("/v1/models does not report max_model_len"))
    if not data:
        notes.append(_("/v1/models lists no model"))
    return Readiness(
        normalize_base_url(base_url),
        round(ready_after, 2),
        [m["id"] for m in data],
        lengths[0] if lengths else None,
        version,
        has_health,
        notes,
    )


def wait_until_ready(
    base_url: str,
    *,
    api_key_env: str = API_KEY_ENV,
    deadline_s: float = 300.0,
    poll_s: float = 1.0,
    process: subprocess.Popen | None = None,
) -> Readiness:
    """Poll until the server answers, within ``deadline_s``; say what it is and what could not be checked.

    ``process``, when given, is watched so a server that crashes during boot is
    reported at once instead of at the deadline.
    """
    start, has_health = time.monotonic(), True
    while True:
        if process is not None and process.poll() is not None:
            raise ServingError(
                _("The server process exited with code {code} while booting (engine dead). Read its log.").format(
                    code=process.returncode
                )
            )
        up, health = _answers(base_url, api_key_env)
        has_health = has_health and health
        if up:
            break
        if time.monotonic() - start > deadline_s:
            raise ServingError(
                _(
                    "No answer from {endpoint} within {seconds:.0f} s: the server may still be booting, "
                    "or the SSH tunnel is not open ({tunnel})."
                ).format(endpoint=host_port(base_url), seconds=deadline_s, tunnel=tunnel_hint(base_url))
            )
        time.sleep(poll_s)
    return _describe(base_url, api_key_env, time.monotonic() - start, has_health)
