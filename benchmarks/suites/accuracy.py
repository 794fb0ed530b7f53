"""Accuracy suite: train and evaluate every task x arm x seed; mean and spread over seeds.

`run_case` is the unit the sweep and the act suite reuse: one (task, arm, seed) trained and evaluated from
a RunConfig, its checkpoint, drawings and the task's own output files (e.g. ARC's submission.json) written
into the case's folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from baselines.registry import build_arm
from benchmarks import distributed, engine, plots
from benchmarks.config import RunConfig
from benchmarks.context import (
    PreparedTask,
    SuiteContext,
    TrainedModel,
    case_model_config,
    model_params,
    prepare_task,
    train_settings,
)
from benchmarks.evaluation import to_device
from benchmarks.record import Record
from benchmarks.statistics import across_seeds
from benchmarks.suite import Suite, markdown_table, task_figures
from benchmarks.tracking import flatten
from benchmarks.training_state import CHECKPOINT
from hrm.config import ModelConfig
from hrm.layers import count_parameters
from tasks.base import Task
from tasks.dataset import test_batches
from tasks.metric import Metric

# What every evaluation reports besides the task's own scores, and what this suite adds (evaluation.py).
EVALUATION_METRICS = (
    Metric.info("mean_segments", "value", "segments used per test example"),
    Metric.proportion("q_halt_accuracy", "final halting logit has the sign of exact correctness", gated=False),
)
_OWN_METRICS = (
    *EVALUATION_METRICS,
    Metric.info("train_wall_s", "seconds", "time in training steps, evaluations excluded", per_device=True),
    Metric.info("steps_trained", "count", "optimiser steps taken"),
    Metric.info("parameters", "count", "trainable parameters (puzzle-embedding table included)"),
    Metric.info("block_applications", "value", "block applications per test example (per segment x segments)"),
    Metric.info("seeds", "count", "seeds that finished (seed aggregates)"),
)


@dataclass
class CaseResult:
    """One trained and evaluated (task, arm, seed)."""

    task: str
    arm: str
    seed: int
    metrics: dict[str, float]  # final test metrics (task.score's, mean_segments, q_halt_accuracy) and costs
    series: dict[str, list[tuple[int, float]]]  # training and test curves by step
    model_config: ModelConfig
    block_applications_per_segment: int
    block_applications: float | None  # per test example: per segment x mean segments used (None: diverged)
    checkpoint: Path | None = None  # weights of the final model (when out_dir was given)
    images: list[tuple[str, Path]] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)  # the task's own files from the final evaluation
    diverged_at: int | None = None  # first step with a non-finite loss or gradient; no test metrics then

    @property
    def status(self) -> str:
        return "ok" if self.diverged_at is None else "diverged"

    def headline(self) -> str:
        """One line for the console: the case and its result."""
        name = f"accuracy: {self.task} / {self.arm} / seed {self.seed}"
        if self.diverged_at is not None:
            return f"{name}: DIVERGED at step {self.diverged_at}"
        m = self.metrics
        return (f"{name}: test exact {m['exact_accuracy']:.3f}, token {m['token_accuracy']:.3f}, "
                f"{m['mean_segments']:.2f} segments, {m['train_wall_s']:.0f} s training")


def run_case(
    config: RunConfig,
    task: str,
    arm: str,
    seed: int,
    *,
    device: torch.device,
    on_eval: Callable[[int, dict[str, float]], None] | None = None,
    out_dir: Path | None = None,
    resume: bool = False,
    bar: bool = True,
) -> CaseResult:
    """Train arm `arm` on task `task` with model seed `seed`, evaluate it, and (with out_dir) checkpoint and draw.

    `on_eval(step, metrics)` is called at every periodic evaluation; what it raises propagates (pruning).
    `bar=False` reports progress as one line per evaluation instead of a terminal bar (for parallel workers).
    """
    if config.train.progress:
        print(f"accuracy: {task} / {arm} / seed {seed}", file=sys.stderr)
    prepared = prepare_task(config, task)
    model_config = case_model_config(config, task, arm, prepared.train)
    engine.seed_everything(seed)
    model = build_arm(arm, model_config).to(device)
    settings = dataclasses.replace(train_settings(config, task), bar=bar, name=f"{task}/{arm}/{seed}")
    case = {"arm": arm, "model": dataclasses.asdict(model_config),
            "task": {task: dataclasses.asdict(config.task_config(task))}, "data_seed": config.train.data_seed}
    outcome = engine.train(
        model, prepared.train, prepared.test, prepared.task, settings, seed=seed, device=device,
        checkpoint_dir=out_dir, resume=resume, on_eval=on_eval, case=case,
    )
    per_segment = model.block_applications_per_segment()
    metrics = {
        "train_wall_s": outcome.train_wall_s,
        "steps_trained": float(outcome.steps),
        "parameters": float(count_parameters(model)),
    }
    checkpoint = out_dir / CHECKPOINT if out_dir is not None else None
    if outcome.diverged:
        return CaseResult(task, arm, seed, metrics, outcome.series, model_config, per_segment, None, checkpoint,
                          diverged_at=outcome.diverged_at)
    metrics = {**outcome.evaluation.metrics, **metrics,
               "block_applications": per_segment * outcome.evaluation.metrics["mean_segments"]}
    result = CaseResult(task, arm, seed, metrics, outcome.series, model_config, per_segment,
                        metrics["block_applications"], checkpoint)
    if out_dir is not None and distributed.current().main:  # under torchrun, rank 0 writes the case's files
        evaluation = outcome.evaluation
        result.images = _draw(model, prepared, evaluation.predictions[0], device, out_dir, f"{task} / {arm}")
        result.outputs = prepared.task.write_outputs(prepared.test, evaluation.predictions,
                                                     evaluation.q_halt_logits, out_dir)
    return result


def _draw(model, prepared: PreparedTask, prediction, device: torch.device, out_dir: Path, title: str
          ) -> list[tuple[str, Path]]:
    """The first test example (input, target, prediction) and its prediction after each segment."""
    test = prepared.test
    sample = prepared.task.draw(out_dir / "sample.png", test.inputs[0], test.labels[0], prediction)
    first, _ = next(test_batches(test, 1))
    model.eval()
    output = model.evaluate(to_device(first, device), halt_max_steps=model.config.halt_max_steps, mode="fixed",
                            record_segments=True)
    strip = prepared.task.draw_segments(out_dir / "segments.png", test.inputs[0],
                                        output.segment_predictions[:, 0].cpu().numpy())
    return [(f"{title}: first test example", sample), (f"{title}: prediction after each segment", strip)]


def _log_cases(ctx: SuiteContext, results: Iterator[CaseResult]) -> Iterator[Record]:
    """Log each trained case as a nested MLflow run and yield its record (and the seeds' aggregate)."""
    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for result in results:
        task, arm, seed = result.task, result.arm, result.seed
        ctx.trained[(task, arm, seed)] = _trained_model(result)
        if seed == ctx.seeds[0]:
            ctx.images.extend(result.images)
        # Yielded before anything else, so that a stop from here on still finds the record with the runner.
        yield _record(result, seed, result.metrics, result.series, result.status, result.diverged_at)
        if ctx.config.train.progress:
            print(result.headline(), file=sys.stderr)
        with ctx.tracker.run(f"accuracy/{task}/{arm}/{seed}", parent=ctx.parent,
                             tags={"suite": "accuracy", "task": task, "arm": arm, "seed": str(seed),
                                   "scale": ctx.config.scale}) as run:
            run.log_params(_case_params(ctx.config, result))
            run.log_series(result.series)
            run.log_metrics(result.metrics, step=int(result.metrics["steps_trained"]))
            for path in (*(image for _, image in result.images), *result.outputs):
                run.log_artifact(path)
            if result.diverged_at is not None:
                run.fail(f"diverged at step {result.diverged_at}")
        group = groups.setdefault((task, arm), [])
        group.append(result)
        if len(group) == len(ctx.seeds) > 1:
            yield _aggregate(sorted(group, key=lambda case: ctx.seeds.index(case.seed)))


def _case_params(config: RunConfig, result: CaseResult) -> dict[str, str]:
    """Every resolved setting of a case as MLflow params: model.*, optim.*, train.* (this task's), task.* and
    the seed, so the runs table can compare cases by any of them."""
    case = config.case(result.task, result.arm)
    sections = {"model": result.model_config, "optim": case.optim, "train": case.train, "task": case.task_config}
    params = {}
    for section, values in sections.items():
        params.update(flatten(dataclasses.asdict(values), f"{section}."))
    return {**params, "seed": str(result.seed)}


def _trained_model(result: CaseResult) -> TrainedModel:
    return TrainedModel(result.model_config, result.checkpoint, result.diverged_at, result.metrics, result.series)


def trained_model(ctx: SuiteContext, config: RunConfig, task: str, arm: str, seed: int, suite: str) -> TrainedModel:
    """The accuracy suite's model for (task, arm, seed) when this invocation trained it with `config`'s model;
    else one trained now (in `cases/<suite>-<task>-<arm>-<seed>`, resumable) and kept for the next suite."""
    model_config = case_model_config(config, task, arm, prepare_task(config, task).train)
    trained = ctx.trained.get((task, arm, seed))
    if trained is None or trained.model_config != model_config or trained.checkpoint is None:
        out_dir = ctx.out_dir / "cases" / f"{suite}-{task}-{arm}-{seed}"
        trained = _trained_model(run_case(config, task, arm, seed, device=ctx.device, out_dir=out_dir,
                                          resume=ctx.resume))
        if config is ctx.config:
            ctx.trained[(task, arm, seed)] = trained
    return trained


def _train_cases(ctx: SuiteContext, plan: list[tuple[str, str, int]]) -> Iterator[CaseResult]:
    """The trained cases: in plan order in this process, or as they finish, `train.workers` at a time, in
    worker processes.

    Workers are spawned (no forked torch state), each with its own thread count; the datasets are built here
    first so that workers only read the cache. Stopping this process stops the workers; their checkpoints
    let `--resume` continue.
    """
    workers = min(ctx.config.train.workers, len(plan))
    jobs = [(ctx.config, task, arm, seed, ctx.device, ctx.out_dir / "cases" / f"accuracy-{task}-{arm}-{seed}",
             ctx.resume, workers <= 1) for task, arm, seed in plan]
    if workers <= 1:
        yield from map(_train_job, jobs)
        return
    for task in ctx.tasks:
        prepare_task(ctx.config, task)
    threads = ctx.config.train.threads or max(1, (os.cpu_count() or 1) // workers)
    pool = multiprocessing.get_context("spawn").Pool(workers, initializer=torch.set_num_threads,
                                                     initargs=(threads,))
    try:
        yield from pool.imap_unordered(_train_job, jobs)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _train_job(job: tuple) -> CaseResult:
    config, task, arm, seed, device, out_dir, resume, bar = job
    return run_case(config, task, arm, seed, device=device, out_dir=out_dir, resume=resume, bar=bar)


def _record(result: CaseResult, seed: int | None, metrics: dict[str, float], series: Any, status: str,
            diverged_at: int | list[list[int]] | None) -> Record:
    """A case's record (`diverged_at`: its step), or a seed aggregate's (`diverged_at`: [seed, step] pairs)."""
    points = {name: [list(point) for point in values] for name, values in series.items()} if series else None
    return Record("accuracy", result.task, result.arm, seed, metrics, model_params(result.model_config), status,
                  points, diverged_at)


def _aggregate(cases: list[CaseResult]) -> Record:
    """The seeds' record: each metric's mean over the seeds that finished, its sample standard deviation
    (`<name>_std`) and 95% Student-t interval (`<name>_ci_low`, `<name>_ci_high`) when two or more did, and
    `seeds`; "diverged" (with each diverged [seed, step]) when any
    seed diverged, so a mean over the survivors is never shown as the arm's result."""
    finished = [case.metrics for case in cases if case.diverged_at is None]
    metrics: dict[str, float] = {"seeds": float(len(finished))}
    for name in (finished[0] if finished else {}):
        values = [case_metrics[name] for case_metrics in finished]
        metrics[name] = statistics.fmean(values)
        if len(values) > 1:
            metrics[f"{name}_std"] = statistics.stdev(values)
        interval = across_seeds(values)
        if interval.has_interval:
            metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = interval.low, interval.high
    diverged = [[case.seed, case.diverged_at] for case in cases if case.diverged_at is not None]
    return _record(cases[0], None, metrics, None, "diverged" if diverged else "ok", diverged or None)


class AccuracySuite(Suite):
    """Train every task x arm x seed and evaluate it on the task's test split."""

    name = "accuracy"
    title = "Accuracy"
    note = ("Test-split metrics after training: with several seeds, the mean over seeds and its 95% interval "
            "(Student t over seeds) in brackets; n: test examples; seeds: the seeds behind each row; segments: mean "
            "segments used at evaluation; wall: training time without evaluations.")

    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        """Every task x arm x seed as it finishes, and one aggregate record (seed null) per task x arm once all
        its seeds have finished. The runner puts the records back in plan order."""
        plan = [(task, arm, seed) for task in ctx.tasks for arm in ctx.arms for seed in ctx.seeds]
        with contextlib.closing(_train_cases(ctx, plan)) as results:  # closing stops the workers on an error
            yield from _log_cases(ctx, results)

    def metrics(self, tasks: list[Task]) -> list[Metric]:
        scores = [metric for task in tasks for metric in task.metrics()]
        own = [*scores, *_OWN_METRICS]
        spread = [metric for metric in own if metric.name != "seeds"]
        return [*own, *(metric.spread() for metric in spread), *(metric.bound(side) for metric in spread
                                                                  for side in ("low", "high"))]

    def report(self, records: list[Record], metrics: dict[str, Metric]) -> str:
        """One table per task, the task's own proportions as columns; a seed aggregate replaces its seeds' rows."""
        seeds_per_case: dict[tuple, int] = {}
        for r in records:
            if r.seed is not None:
                seeds_per_case[(r.task, r.arm)] = seeds_per_case.get((r.task, r.arm), 0) + 1
        shown = [r for r in records if r.seed is None or seeds_per_case[(r.task, r.arm)] == 1]
        own = {metric.name for metric in _OWN_METRICS}
        tables = []
        for task in dict.fromkeys(r.task for r in shown):
            rows_of_task = [r for r in shown if r.task == task]
            present = {name for r in rows_of_task for name in r.metrics}
            columns = [name for name, metric in metrics.items() if name in present and name not in own
                       and metric.kind == "proportion" and not name.endswith("_std")]
            rows = []
            for r in rows_of_task:
                m = r.metrics
                seeds = f"{m['seeds']:.0f}" if "seeds" in m else "1"
                tail = [_cell(metrics, "examples", m), seeds, _cell(metrics, "mean_segments", m),
                        _cell(metrics, "parameters", m), _cell(metrics, "train_wall_s", m)]
                if r.diverged:
                    rows.append([r.arm, r.diverged_text(), *["-"] * (len(columns) - 1), "-", "-", "-", *tail[3:]])
                else:
                    rows.append([r.arm, *[_cell(metrics, name, m) for name in columns], *tail])
            headers = ["arm", *columns, "n", "seeds", "segments", "parameters", "wall"]
            tables.append(f"**{task}**\n\n" + markdown_table(rows, headers))
        return "\n\n".join(tables)

    def figures(self, records: list[Record], directory: Path) -> list[tuple[str, Path]]:
        return task_figures(records, directory, [("learning curves", plots.learning_curves, "learning_curves")])


def _cell(metrics: dict[str, Metric], name: str, values: dict[str, float]) -> str:
    """`name`'s value as declared, with its 95% interval over seeds when the record has one."""
    if name not in values:
        return "-"
    text = metrics[name].format(values[name]) if name in metrics else f"{values[name]:.4g}"
    low, high = values.get(f"{name}_ci_low"), values.get(f"{name}_ci_high")
    if low is None or high is None or name not in metrics:
        return text
    return f"{text} [{metrics[name].format(low)}, {metrics[name].format(high)}]"
