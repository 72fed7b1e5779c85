"""What notebook 03 prints: the GPU report, the route card's two steps, each step's score, and random weights named as such."""

from __future__ import annotations

from helpers.core.i18n import _
from helpers.decision import Profile
from helpers.decision.colab_plan import RoutePlan, colab_decision
from helpers.decision.evidence import gather
from helpers.decision.verdict import judge
from helpers.evals import EvalRow
from helpers.lessons.decision import show_card
from helpers.machine.gpu import GpuReport
from helpers.routes.free_colab import RunPlan, StepResult


def show_gpu_report(report: GpuReport) -> None:
    torch, driver = report.torch, report.driver
    print(f"platform:        {report.platform}")
    print(f"torch:           {torch.described}")
    print(f"cuda available:  {torch.cuda_available}")
    for gpu in torch.devices:
        print(
            f"gpu {gpu.index}:           {gpu.name}, capability {gpu.compute_capability}, "
            f"{gpu.free_gb} of {gpu.total_gb} GB free, bf16: {gpu.bf16}"
        )
    print(f"driver:          {driver.driver_version or 'not found'} (source: {driver.source})")
    for line in report.advice:
        print(_("advice:"), line)


def _show_plan(title: str, plan: RunPlan) -> None:
    print(title)
    print(f"  model:           {plan.model}" + (_(" (random weights)") if plan.random_weights else ""))
    print(f"  device:          {plan.device} ({plan.torch_dtype})")
    print(_("  why:             {reason}").format(reason=plan.reason))
    print(_("  this step proves {proves}").format(proves=plan.proves))
    print(_("  it does not:     {does_not_prove}").format(does_not_prove=plan.does_not_prove))


def show_route(route: RoutePlan) -> None:
    _show_plan(_("step 1 · tiny model first"), route.first)
    if route.second:
        _show_plan(_("step 2 · small instruct model (a GPU is visible)"), route.second)
    else:
        print(_("step 2 · skipped: {why}").format(why=route.skipped))


def show_step(result: StepResult, rows: list[EvalRow]) -> None:
    """The score, then one answer, labelled for what it is: a random-weight model's text is noise, never an answer."""
    summary, plan = result.eval, result.plan
    print(
        _("{model} on {runtime}: {passed} of {cases} cases passed").format(
            model=summary.model, runtime=summary.runtime, passed=summary.passed, cases=summary.cases
        )
    )
    sample = rows[0]
    if plan.random_weights:
        print(
            _("Its output for {case} is random-weight noise, not an answer; it proves only that generation ran.").format(
                case=repr(sample.case_id)
            )
        )
    else:
        answer = _("Its answer to {case} (passed): {output}") if sample.passed else _("Its answer to {case} (failed): {output}")
        print(answer.format(case=repr(sample.case_id), output=repr(sample.output[:200])))


def show_upgrade_verdict(report: GpuReport, profile: Profile) -> None:
    """Route 2's card judged by :func:`helpers.decision.verdict.judge` from what this run left in ``outputs/``.

    The profile is the project's, on route 2, with the free memory of the GPU this
    session sees (none: 0 GB), so the verdict speaks for this runtime, not for an
    imagined one, and for the same must-haves as the plan.
    """
    show_card(judge(colab_decision(report, profile), gather()).mine)
