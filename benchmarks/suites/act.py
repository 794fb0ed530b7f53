"""ACT suite: segments used with ACT halting vs a fixed segment budget, and exact accuracy vs the inference budget.

Covers every arm whose resolved halt_max_steps (the segment budget, Mmax) is above 1 (the arms with an outer
loop). The evaluated model is the accuracy suite's (first seed) when this invocation trained one with the same
config; otherwise it is trained here. It was trained with budget `act.halt_max_steps` (default: the model's),
and is evaluated
- in `act` mode at that budget (each example stops at its first halt): mean and histogram of segments used,
  exact accuracy, Q-halt accuracy, against `fixed` mode at the same budget (every example runs all of it);
- in `fixed` mode at every inference budget of `act.eval_halt_max_steps` (inference-time scaling).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from baselines.registry import build_arm
from benchmarks import plots
from benchmarks.config import RunConfig, check_non_negative
from benchmarks.context import SuiteContext, TrainedModel, case_model_config, prepare_task
from benchmarks.errors import BenchmarkError
from benchmarks.estimate import CostModel
from benchmarks.evaluation import Evaluation, evaluate_split
from benchmarks.progress import Work
from benchmarks.record import Record
from benchmarks.suite import Suite, format_metric, markdown_table, task_figures
from benchmarks.suites.accuracy import EVALUATION_METRICS, case_params, case_tags, trained_model
from benchmarks.tracking import run_name
from benchmarks.training_state import load_weights
from hrm.config import ModelConfig
from tasks.base import Task
from tasks.metric import Metric


@dataclass
class ActConfig:
    """The budget the evaluated model trains with, and the inference budgets of the scaling curve."""

    halt_max_steps: int = 0  # segment budget the evaluated model is trained with (0: the model's)
    eval_halt_max_steps: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # inference budgets (fixed mode)

    def __post_init__(self) -> None:
        check_non_negative(self, "act", ("halt_max_steps",))
        if not self.eval_halt_max_steps or min(self.eval_halt_max_steps) < 1:
            raise BenchmarkError(f"act.eval_halt_max_steps needs values >= 1, got {self.eval_halt_max_steps!r}")


def act_config(config: RunConfig, arm: str) -> RunConfig:
    """`config` with the arm trained at budget act.halt_max_steps (unchanged when that is 0)."""
    budget = config.suite("act").halt_max_steps
    return config.with_overrides([f"arm.{arm}.halt_max_steps={budget}"]) if budget else config


class ActSuite(Suite):
    name = "act"
    title = "ACT and inference-time scaling"
    note = ("`act`: each test example stops at its first halt decision; `fixed`: every example runs the whole "
            "segment budget (the reference's evaluation).")
    settings_class = ActConfig
    scales = {"cpu": {"act.eval_halt_max_steps": (1, 2, 4, 8, 16)}, "smoke": {"act.eval_halt_max_steps": (1, 2, 4)}}

    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        """Per task x outer-loop arm (first seed): the ACT-halting record, then one fixed-mode record per budget."""
        seed = ctx.seeds[0]
        settings = ctx.config.suite(self.name)
        for task in ctx.tasks:
            prepared = prepare_task(ctx.config, task)
            for arm in ctx.arms:
                if not _has_segments(case_model_config(ctx.config, task, arm, prepared.train)):
                    continue
                config = act_config(ctx.config, arm)
                model_config = case_model_config(config, task, arm, prepared.train)
                key = ("act", task, arm)
                with ctx.tracker.run(run_name(task, arm, f"seed {seed}", "act"), parent=ctx.parent,
                                     tags=case_tags("act", task, arm, seed)) as run:
                    run.log_params({**case_params(config, task, arm, model_config, seed),
                                    "act.eval_halt_max_steps": ",".join(map(str, settings.eval_halt_max_steps))})
                    trained = trained_model(ctx, config, task, arm, seed, self.name)
                    budget = model_config.halt_max_steps
                    if trained.diverged_at is not None:
                        run.fail(f"training diverged at step {trained.diverged_at}")
                        yield Record("act", task, arm, seed, {}, _params("act", budget, budget), "diverged",
                                     diverged_at_step=trained.diverged_at)
                        ctx.progress.finish(key, f"act: {task} / {arm}: training diverged")
                        continue
                    model = _load_model(arm, trained).to(ctx.device)

                    def evaluate(halt_max_steps: int, mode: str, model=model, dataset=prepared) -> Evaluation:
                        return evaluate_split(model, dataset.test, dataset.task, batch_size=ctx.config.train.batch_size,
                                              halt_max_steps=halt_max_steps, mode=mode, device=ctx.device)

                    halting = evaluate(budget, "act")
                    yield _record(task, arm, seed, "act", budget, budget, halting)
                    run.log_metrics({f"act_{name}": value for name, value in halting.metrics.items()})
                    for eval_budget in sorted({*settings.eval_halt_max_steps, budget}):
                        fixed = evaluate(eval_budget, "fixed")
                        yield _record(task, arm, seed, "fixed", eval_budget, budget, fixed)
                        run.log_metrics({f"fixed_{name}": value for name, value in fixed.metrics.items()},
                                        step=eval_budget)
                ctx.progress.finish(key, f"act: {task} / {arm}: {halting.metrics['mean_segments']:.2f} of {budget} "
                                         f"segments with ACT halting, exact {halting.metrics['exact_accuracy']:.3f}")

    def work(self, ctx: SuiteContext, costs: CostModel) -> list[Work]:
        """One item per task x outer-loop arm: training it when no earlier suite did, then its evaluations."""
        settings = ctx.config.suite(self.name)
        items = []
        for task in ctx.tasks:
            for arm in ctx.arms:
                if not _has_segments(costs.model_config(ctx.config, task, arm)):
                    continue
                config = act_config(ctx.config, arm)
                budget = costs.model_config(config, task, arm).halt_max_steps
                retrained = "accuracy" not in ctx.suites or config is not ctx.config
                segments = budget + sum({*settings.eval_halt_max_steps, budget})
                items.append(Work(("act", task, arm), (costs.case_s(config, task, arm) if retrained else 0.0)
                                  + costs.evaluation_s(config, task, arm, segments)))
        return items

    def metrics(self, tasks: list[Task]) -> list[Metric]:
        return [*(metric for task in tasks for metric in task.metrics()), *EVALUATION_METRICS]

    def report(self, records: list[Record], metrics: dict[str, Metric]) -> str:
        """ACT halting against the fixed budget it was trained with, then exact accuracy at each inference budget."""
        def exact(values: dict) -> str:
            return format_metric(metrics, "exact_accuracy", values.get("exact_accuracy"))

        fixed = {(r.task, r.arm, r.params["eval_halt_max_steps"]): r.metrics for r in records
                 if r.params["mode"] == "fixed"}
        halting = []
        for r in (r for r in records if r.params["mode"] == "act"):
            budget = r.params["eval_halt_max_steps"]
            if r.diverged:
                halting.append([r.task, r.arm, budget, r.diverged_text(), "-", "-", "-"])
                continue
            at_budget = fixed.get((r.task, r.arm, budget), {})
            segments = format_metric(metrics, "mean_segments", r.metrics.get("mean_segments"))
            halting.append([r.task, r.arm, budget, segments, exact(r.metrics), exact(at_budget),
                            format_metric(metrics, "q_halt_accuracy", r.metrics.get("q_halt_accuracy"))])
        budgets = sorted({key[2] for key in fixed})
        cases = list(dict.fromkeys(key[:2] for key in fixed))
        scaling = [[task, arm, *[exact(fixed.get((task, arm, b), {})) for b in budgets]] for task, arm in cases]
        return "\n\n".join([
            markdown_table(halting, ["task", "arm", "halt_max_steps", "mean segments (ACT)", "exact_accuracy (ACT)",
                                     "exact_accuracy (fixed budget)", "q_halt_accuracy (ACT)"]),
            "Exact accuracy against the inference budget (fixed mode; trained with the budget above):",
            markdown_table(scaling, ["task", "arm", *[f"eval_halt_max_steps={b}" for b in budgets]]),
        ])

    def figures(self, records: list[Record], directory: Path) -> list[tuple[str, Path]]:
        return task_figures(records, directory, [
            ("segments with ACT halting", plots.segments_histogram, "segments_histogram"),
            ("accuracy vs inference budget", plots.accuracy_vs_budget, "accuracy_vs_budget"),
        ])


def _has_segments(model_config: ModelConfig) -> bool:
    """Whether an arm runs more than one segment, so that it has segments to halt or to add (not single-pass)."""
    return model_config.halt_max_steps >= 2


def _load_model(arm: str, trained: TrainedModel):
    return load_weights(trained.checkpoint, build_arm(arm, trained.model_config))


def _params(mode: str, eval_budget: int, budget: int) -> dict:
    return {"mode": mode, "eval_halt_max_steps": eval_budget, "halt_max_steps": budget}


def _record(task: str, arm: str, seed: int, mode: str, eval_budget: int, budget: int,
            evaluation: Evaluation) -> Record:
    """One evaluation, with the histogram of segments used ([segments, examples] pairs) as its series."""
    histogram = np.bincount(evaluation.segments, minlength=eval_budget + 1)[1:]
    return Record("act", task, arm, seed, dict(evaluation.metrics), _params(mode, eval_budget, budget),
                  series={"segments_histogram": [[k + 1, int(count)] for k, count in enumerate(histogram)]})
