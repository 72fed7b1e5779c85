"""What the checker hands back: notes, each checked or not, and the lesson's pass criterion as a checklist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.core.i18n import SOURCE_LANGUAGE, _, speaking
from helpers.decision.exercise.text import SAY


@dataclass(frozen=True)
class Note:
    ok: bool
    text: str


@dataclass(frozen=True)
class Feedback:
    """The notes, each checked or not, and the lesson's pass criterion as a checklist."""

    notes: tuple[Note, ...]
    checklist: tuple[Note, ...]
    lang: str = SOURCE_LANGUAGE  # the language the notes were written in, and text() speaks

    @property
    def passed(self) -> bool:
        return all(item.ok for item in self.checklist)

    def text(self) -> str:
        lines = [f"[{'x' if n.ok else ' '}] {n.text}" for n in self.notes]
        with speaking(self.lang):
            lines += ["", _("The lesson's pass criterion: you can explain")]
            lines += [f"[{'x' if item.ok else ' '}] {item.text}" for item in self.checklist]
            return "\n".join(lines + ["", SAY["pass"] if self.passed else SAY["not_yet"]])

    def to_json(self) -> dict[str, Any]:
        """The feedback as the learner's record keeps it."""
        return {
            "passed": self.passed,
            "language": self.lang,
            "notes": [{"ok": n.ok, "text": n.text} for n in self.notes],
            "checklist": [{"ok": n.ok, "text": n.text} for n in self.checklist],
        }
