"""The project profile: the lesson's five fields, the task fit's must-haves and nice-to-haves, and the machine's RAM.

A profile comes from code, from environment variables or flags
(:func:`parse_profile`), or from a saved record. Bad values are a
:class:`DecisionError` that names the field, its environment variable and what
is allowed, before anything is decided or written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from helpers.core.i18n import N_, _
from helpers.routes.cards import ROUTES

#: Who may see the data. Only ``public`` data may go to a cloud model API.
PRIVACY_LEVELS = ("public", "internal", "private_docs", "restricted")
CLOUD_ALLOWED = ("public",)
DEFAULT_TASK = "course assistant"
DEFAULT_RAM_GB = 8.0
MIN_SERVING_VRAM_GB = 16
LONG_CONTEXT_TOKENS = 32768
SMALL_INSTRUCT_MAX_PARAMS = 1.0e9

#: The task fit's vocabulary (the lesson's task list and its example project), each with what it means.
NEEDS = {
    "chat": "answers in a conversation",
    "extraction": "pulls fields out of text",
    "code": "reads and writes code",
    "multilingual": "works in more than one language",
    "long_context": f"reads {LONG_CONTEXT_TOKENS:,} tokens or more at once",
    "tool_calling": "calls tools or functions",
    "multimodal": "reads images or audio as well as text",
    "private_docs": "handles private documents that may not leave your machines",
    "zh_en_answers": "answers in Chinese and in English",
    "stable_json": "returns JSON that parses every time",
    "commercial_use": "may be used in a commercial product",
    "low_latency": "answers quickly",
    "openai_endpoint": "is reachable through an OpenAI-compatible endpoint",
}
#: Needs the weights cannot cover: privacy is met by running open weights on your machines, the rest by the runtime.
RUNTIME_NEEDS = ("private_docs", "low_latency", "openai_endpoint")

REJECTED_FOR_NOW = N_(  # English in the record; translated where shown
    "full fine-tuning and LoRA, because the fixed eval set has not yet shown which failures remain after prompt, RAG, schema "
    "and quantization choices"
)


GIGABYTES = N_("{field} ({env}) must be a number of gigabytes, 0 or more; got {value}.")


class DecisionError(ValueError):
    """A profile that cannot be used, naming the field and what is allowed."""


def _needs(field: str, env: str, values: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [v for v in values if v not in NEEDS]
    if unknown:
        raise DecisionError(
            _("{field} ({env}) has unknown values {values}. Use a comma-separated list of: {allowed}.").format(
                field=field, env=env, values=", ".join(map(repr, unknown)), allowed=", ".join(NEEDS)
            )
        )
    return tuple(dict.fromkeys(values))


def _memory(field: str, env: str, value: object) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value < 0:
        raise DecisionError(_(GIGABYTES).format(field=field, env=env, value=repr(value)))


@dataclass(frozen=True)
class Profile:
    """What the project needs and has. ``available_vram_gb`` is GPU memory; ``ram_gb`` is the machine's RAM."""

    task: str = DEFAULT_TASK
    route: str = "local_cpu"
    privacy: str = "private_docs"
    available_vram_gb: float = 0.0
    needs_service: bool = False
    ram_gb: float = DEFAULT_RAM_GB
    must_have: tuple[str, ...] = ()
    nice_to_have: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise DecisionError(
                _("route (ROUTE) must be one of {allowed}; got {value}.").format(
                    allowed=", ".join(ROUTES), value=repr(self.route)
                )
            )
        if self.privacy not in PRIVACY_LEVELS:
            raise DecisionError(
                _("privacy (PRIVACY) must be one of {allowed}; got {value}.").format(
                    allowed=", ".join(PRIVACY_LEVELS), value=repr(self.privacy)
                )
            )
        _memory("available_vram_gb", "VRAM_GB", self.available_vram_gb)
        _memory("ram_gb", "RAM_GB", self.ram_gb)
        if not isinstance(self.needs_service, bool):
            raise DecisionError(
                _("needs_service (NEEDS_SERVICE) must be yes or no; got {value}.").format(value=repr(self.needs_service))
            )
        if not isinstance(self.task, str) or not self.task.strip():
            raise DecisionError("task (TASK) must describe the project in a few words; got an empty string.")
        object.__setattr__(self, "must_have", _needs("must_have", "MUST_HAVE", tuple(self.must_have)))
        object.__setattr__(self, "nice_to_have", _needs("nice_to_have", "NICE_TO_HAVE", tuple(self.nice_to_have)))

    @property
    def cloud_allowed(self) -> bool:
        """Whether the data may leave for a cloud model API."""
        return self.privacy in CLOUD_ALLOWED and "private_docs" not in self.must_have

    @property
    def service_needed(self) -> bool:
        return self.needs_service or "openai_endpoint" in self.must_have

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "must_have": list(self.must_have), "nice_to_have": list(self.nice_to_have)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        return cls(**{**data, "must_have": tuple(data.get("must_have", ())), "nice_to_have": tuple(data.get("nice_to_have", ()))})


#: The lesson's example project: its must-haves and nice-to-haves, as this kit spells them.
LESSON_EXAMPLE = Profile(
    task="support-operations SOP assistant",
    must_have=("private_docs", "zh_en_answers", "stable_json"),
    nice_to_have=("low_latency", "long_context", "openai_endpoint"),
)
YES, NO = {"yes", "y", "true", "1", "on"}, {"no", "n", "false", "0", "off"}


def _number(values: Mapping[str, str | None], env: str, field: str, default: float) -> float:
    raw = values.get(env)
    try:
        return float(raw) if raw not in (None, "") else default
    except ValueError:
        raise DecisionError(_(GIGABYTES).format(field=field, env=env, value=repr(raw))) from None


def _list(raw: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (raw or "").split(",") if v.strip())


def parse_profile(values: Mapping[str, str | None]) -> Profile:
    """A profile from text (environment variables or flags): TASK, ROUTE, PRIVACY, VRAM_GB, NEEDS_SERVICE, RAM_GB,
    MUST_HAVE and NICE_TO_HAVE (comma-separated). Missing values take the lesson's defaults."""
    raw_service = (values.get("NEEDS_SERVICE") or "no").strip().lower()
    if raw_service not in YES | NO:
        raise DecisionError(f"needs_service (NEEDS_SERVICE) must be yes or no; got {values.get('NEEDS_SERVICE')!r}.")
    return Profile(
        task=values.get("TASK") or DEFAULT_TASK,
        route=values.get("ROUTE") or "local_cpu",
        privacy=values.get("PRIVACY") or "private_docs",
        available_vram_gb=_number(values, "VRAM_GB", "available_vram_gb", 0.0),
        needs_service=raw_service in YES,
        ram_gb=_number(values, "RAM_GB", "ram_gb", DEFAULT_RAM_GB),
        must_have=_list(values.get("MUST_HAVE")),
        nice_to_have=_list(values.get("NICE_TO_HAVE")),
    )
