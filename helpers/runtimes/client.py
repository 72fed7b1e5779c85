"""The one client the kit uses for every OpenAI-compatible endpoint.

The local API skeleton, llama.cpp's server, the vLLM rehearsal server and a
rented GPU behind a tunnel are all reached the same way: the official ``openai``
client with an explicit timeout and no hidden retries. The API key comes from
an environment variable or Colab Secrets and is never printed.
"""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import urlsplit

from helpers.core.names import API_KEY_ENV

DEFAULT_TIMEOUT_S = 60.0


class ServingError(RuntimeError):
    """A serving problem explained: what happened, where, and what to try."""


def api_key(env_var: str = API_KEY_ENV) -> str:
    """The API key from an environment variable or, in Colab, from Colab Secrets; never printed.

    An empty string means "no key": servers started without a key accept it.
    """
    value = os.environ.get(env_var)
    if value:
        return value
    if "google.colab" in sys.modules:
        try:
            from google.colab import userdata  # type: ignore[import-not-found]

            return userdata.get(env_var) or ""
        except Exception:  # secret absent or notebook access not granted
            return ""
    return ""


def normalize_base_url(base_url: str) -> str:
    """``http://host:port`` or ``.../v1/`` both become ``http://host:port/v1``."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ServingError(f"base_url must start with http:// or https://; got {base_url!r}.")
    return url if url.endswith("/v1") else f"{url}/v1"


def server_root(base_url: str) -> str:
    """The server's root (where ``/health`` and ``/metrics`` live), without ``/v1``."""
    return normalize_base_url(base_url).removesuffix("/v1")


def host_port(base_url: str) -> str:
    """``host:port`` of an endpoint, for messages."""
    parts = urlsplit(normalize_base_url(base_url))
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def make_client(
    base_url: str, *, api_key_env: str = API_KEY_ENV, timeout_s: float = DEFAULT_TIMEOUT_S, asynchronous: bool = False
) -> Any:
    """An ``openai`` client with an explicit timeout and no hidden retries.

    ``max_retries=0`` matters for measurement: a silent retry would add a whole
    request's time to one sample's latency.
    """
    import openai

    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(base_url=normalize_base_url(base_url), api_key=api_key(api_key_env) or "no-key", timeout=timeout_s, max_retries=0)
