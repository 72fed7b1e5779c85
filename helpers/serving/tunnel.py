"""How a rented GPU is reached: its server on the GPU machine's loopback, an SSH tunnel to the laptop's."""

from __future__ import annotations

from helpers.core.i18n import N_, Sentence
from helpers.runtimes.client import host_port

BINDING_RULE = Sentence(
    N_(
        "Bind the server to 127.0.0.1 and reach it through an SSH tunnel. Never bind a public interface "
        "(0.0.0.0) without an API key, and never print or commit the key."
    )
)


def tunnel_command(user_at_host: str, port: int = 8000) -> str:
    """Forward the GPU machine's localhost-only port to this machine's localhost."""
    return f"ssh -N -L {port}:127.0.0.1:{port} {user_at_host}"


def tunnel_hint(base_url: str) -> str:
    """The tunnel command for the port in ``base_url``, for error messages."""
    return tunnel_command("user@gpu-host", int(host_port(base_url).rsplit(":", 1)[1]))
