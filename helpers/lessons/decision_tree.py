"""Views for notebook 01: the guide's decision tree drawn from the kit's rule, and the lesson's ``choose()`` beside it.

The tree is generated, not typed: a hand-drawn tree could drift from the rule the record uses. :func:`decision_tree`
asks the rule for every profile of a small grid (route × GPU memory × service), then merges neighbouring GPU-memory
values whose answers below are all the same, so every leaf is a claim that ``tests/lessons/test_decision_tree.py``
re-checks against the rule. :func:`beside_the_rule` compares the lesson's own four-branch function with the kit's rule
on one profile, and its sentences are computed from the two answers, so they stay true when either changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from IPython.display import Markdown, display

from helpers.catalogue.runtimes import LEARNER_WORDS, RUNTIMES, runtime_for_word
from helpers.core.i18n import _
from helpers.decision import LESSON_EXAMPLE, ROUTES, Decision, Profile, choose
from helpers.decision.candidates import Candidate
from helpers.decision.profile import MIN_SERVING_VRAM_GB

#: GPU memory the grid tries, in GB: none, two cards below the rule's serving threshold, the threshold itself, and two
#: above it. A band in the tree is named by the smallest and largest of these it holds.
GRID_VRAM_GB = (0.0, 8.0, 15.0, float(MIN_SERVING_VRAM_GB), 24.0, 80.0)
SERVICE = (False, True)
Rule = Callable[[Profile], Decision]
Point = tuple[str, float, bool]  # route, GPU memory, service


@dataclass(frozen=True)
class Outcome:
    """What a leaf says: where to start (model, dtype, runtime), the next model, and the claim, as the rule decided."""

    start: str
    next: str
    claim_key: str

    @classmethod
    def of(cls, decision: Decision) -> Outcome:
        second = decision.candidate_2
        return cls(_step(decision.candidate_1), second.model.split("/")[-1] if second else _("none"), decision.claim_key)

    def __str__(self) -> str:
        return _("{start}; next: {next} [claim: {claim}]").format(start=self.start, next=self.next, claim=self.claim_key)


@dataclass(frozen=True)
class TreeNode:
    """One branch of the tree: its label, its children, and at a leaf the outcome and the profiles it covers."""

    label: str
    children: tuple[TreeNode, ...] = ()
    outcome: Outcome | None = None
    profiles: tuple[Profile, ...] = ()

    def leaves(self) -> list[TreeNode]:
        return [self] if self.outcome else [leaf for child in self.children for leaf in child.leaves()]


def _step(candidate: Candidate | None) -> str:
    if candidate is None:
        return _("none fits")
    return _("{model} {dtype} on {runtime}").format(
        model=candidate.model.split("/")[-1], dtype=candidate.dtype, runtime=_(candidate.runtime)
    )


def grid_profile(base: Profile, point: Point) -> Profile:
    route, vram, service = point
    return replace(base, route=route, available_vram_gb=vram, needs_service=service)


def _label(level: int, values: list[Any]) -> str:
    if level == 0:
        return _("route {route}").format(route=values[0])
    if level == 2:
        return _("service: yes") if values[0] else _("service: no")
    if len(values) == 1:
        return _("GPU memory {vram:g} GB").format(vram=values[0])
    tried = ", ".join(f"{v:g}" for v in values)
    return _("GPU memory {low:g} to {high:g} GB (tried {tried})").format(low=values[0], high=values[-1], tried=tried)


def _node(label: str, points: list[Point], answers: dict[Point, Outcome], level: int, base: Profile) -> TreeNode:
    """A leaf when every point below gives one answer; otherwise one child per value of the next field."""
    if len({answers[p] for p in points}) == 1:
        return TreeNode(label, outcome=answers[points[0]], profiles=tuple(grid_profile(base, p) for p in points))

    def below(value: Any) -> tuple[Outcome, ...]:
        return tuple(answers[p] for p in points if p[level] == value)

    groups: list[list[Any]] = []
    for value in dict.fromkeys(p[level] for p in points):
        if level == 1 and groups and below(groups[-1][-1]) == below(value):
            groups[-1].append(value)  # a neighbouring GPU memory whose answers are all the same: one band
        else:
            groups.append([value])
    children = tuple(
        _node(_label(level, group), [p for p in points if p[level] in group], answers, level + 1, base) for group in groups
    )
    return TreeNode(label, children)


def decision_tree(
    base: Profile = LESSON_EXAMPLE, *, rule: Rule = choose, vram_grid: tuple[float, ...] = GRID_VRAM_GB
) -> TreeNode:
    """The rule's answers for ``base`` on every route, GPU memory of the grid and service need, as a tree."""
    points = [(route, vram, service) for route in ROUTES for vram in vram_grid for service in SERVICE]
    answers = {point: Outcome.of(rule(grid_profile(base, point))) for point in points}
    return _node(_("Which route, how much GPU memory, and is a service needed?"), points, answers, 0, base)


def render_tree(node: TreeNode, prefix: str = "") -> str:
    """The tree as text, drawn like the guide's (├──, └──); a leaf's outcome follows an arrow."""
    lines = [node.label + (f" → {node.outcome}" if node.outcome else "")] if not prefix else []
    for i, child in enumerate(node.children):
        last = i == len(node.children) - 1
        lines.append(prefix + ("└── " if last else "├── ") + child.label + (f" → {child.outcome}" if child.outcome else ""))
        if child.children:
            lines.append(render_tree(child, prefix + ("    " if last else "│   ")))
    return "\n".join(lines)


# --------------------------------------------------------------------------- the lesson's choose() beside the rule


@dataclass(frozen=True)
class Beside:
    """The lesson's answer and the kit's for one profile, with what the comparison found."""

    route: str
    lesson: Mapping[str, str]
    decision: Decision
    same_runtime: bool
    same_model: bool
    lesson_reads_memory: bool
    kit_reads_memory: bool

    def sentences(self) -> list[str]:
        """One sentence per field compared, each built from the two answers."""
        d, first = self.decision, self.decision.candidate_1
        runtime = (
            _("Runtime: the kit starts on {kit}, one of the runtimes the lesson names ({lesson}).")
            if self.same_runtime
            else _("Runtime: the lesson says {lesson}; the kit starts on {kit}, which the lesson does not name here.")
        )
        model = (
            _("Model: both start with {short}; the kit also names the next step, {next}.")
            if self.same_model
            else _("Model: the lesson leaves it open ({lesson}); the kit names {model}, and next {next}.")
        )
        stays, changes = _("stays the same"), _("changes")
        memory = _("Memory: from 0 to 80 GB of GPU memory, the lesson's answer {lesson} and the kit's {kit}.").format(
            lesson=changes if self.lesson_reads_memory else stays, kit=changes if self.kit_reads_memory else stays
        )
        if first:
            memory += " " + _("The kit's estimate puts {model} at {need:.2f} GB of the {avail:g} GB of {kind}.").format(
                model=first.model, need=first.need_gb, avail=first.memory_available_gb, kind=_(first.memory_kind)
            )
        return [
            runtime.format(kit=_(first.runtime) if first else _("none"), lesson=quoted(self.lesson["runtime"])),
            model.format(
                short=first.model.split("/")[-1] if first else _("none"),
                model=_step(first),
                next=_step(d.candidate_2),
                lesson=quoted(self.lesson["model"]),
            ),
            memory,
            _("Claim: the lesson says the run {lesson}; the kit says: {kit}").format(
                lesson=quoted(self.lesson["claim"]), kit=_(d.claim)
            ),
        ]


def quoted(words: str) -> str:
    """The lesson's own words, in quotation marks: its ``choose()`` is a notebook code cell, the same English in every
    edition, so the kit quotes what it returned rather than paraphrasing it (Chinese “...”, Japanese 「...」)."""
    return _("“{words}”").format(words=words)


def _runtimes_named(text: str, on_gpu: bool) -> set[str]:
    """The kit's runtime keys a lesson sentence names, read through the kit's table of learner words."""
    lowered = text.lower()
    return {runtime_for_word(word, on_gpu=on_gpu) for word in LEARNER_WORDS if word in lowered}


def beside_the_rule(
    lesson_choose: Callable[[dict[str, Any]], dict[str, str]], lesson_profile: dict[str, Any], *, rule: Rule = choose
) -> Beside:
    """Run the lesson's function and the kit's rule on one profile (the lesson's five fields) and compare them."""
    profile = Profile(
        task=lesson_profile["task"],
        route=lesson_profile["route"],
        privacy=lesson_profile["privacy"],
        available_vram_gb=lesson_profile["available_vram_gb"],
        needs_service=lesson_profile["needs_service"],
    )
    lesson, decision = lesson_choose(lesson_profile), rule(profile)
    first = decision.candidate_1
    on_gpu = bool(first) and not RUNTIMES[first.estimator_runtime].on_cpu
    named = _runtimes_named(lesson["runtime"], on_gpu)
    lesson_at = [lesson_choose({**lesson_profile, "available_vram_gb": vram}) for vram in (0.0, 80.0)]
    kit_at = [Outcome.of(rule(replace(profile, available_vram_gb=vram))) for vram in (0.0, 80.0)]
    return Beside(
        profile.route,
        lesson,
        decision,
        same_runtime=bool(first) and first.estimator_runtime in named,
        same_model=bool(first) and first.model.split("/")[-1].lower() in lesson["model"].lower(),
        lesson_reads_memory=lesson_at[0] != lesson_at[1],
        kit_reads_memory=kit_at[0] != kit_at[1],
    )


def show_beside(rows: list[Beside]) -> None:
    """One table of the two answers, then the computed sentences, one list per profile."""
    lines = [
        "| " + " | ".join([_("route"), _("lesson: model"), _("lesson: runtime"), _("kit: start"), _("kit: next")]) + " |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        d = row.decision
        lesson = [quoted(row.lesson["model"]), quoted(row.lesson["runtime"])]
        cells = [row.route, *lesson, _step(d.candidate_1), _step(d.candidate_2)]
        lines.append("| " + " | ".join(cells) + " |")
    for row in rows:
        lines += ["", f"**{row.route}**", ""] + [f"- {sentence}" for sentence in row.sentences()]
    display(Markdown("\n".join(lines)))
