"""Accuracy suite: train and evaluate every task x arm x seed; mean and spread over seeds.

`run_case` is the unit the sweep and the act suite reuse: one (task, arm, seed) trained and evaluated from
a RunConfig, its checkpoint, drawings and the task's own output files (e.g. ARC's submission.json) written
into the case's folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from baselines.registry import build_arm
from benchmarks import console, distributed, engine, interrupts, plots
from benchmarks.config import RunConfig
from benchmarks.context import (
    PreparedTask,
    SuiteContext,
    TrainedModel,
    case_model_config,
    model_params,
    prepare_task,
    train_settings,
    training_workers,
    worker_threads,
)
from benchmarks.estimate import CostModel
from benchmarks.evaluation import to_device
from benchmarks.progress import ProgressSender, RunProgress, Work
from benchmarks.record import Record
from benchmarks.statistics import across_seeds, over_examples
from benchmarks.suite import Suite, markdown_table, task_figures
from benchmarks.tracking import RunTarget, Tracker, flatten, run_name
from benchmarks.training_state import CHECKPOINT
from hrm.config import ModelConfig
from hrm.layers import count_parameters
from tasks.base import Task
from tasks.dataset import PuzzleDataset, test_batches
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
    tracking_error: str | None = None  # why the case's MLflow run stopped being tracked, if it did

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
    tracking: RunTarget | None = None,
    on_step: Callable[[int], None] | None = None,
) -> CaseResult:
    """Train arm `arm` on task `task` with model seed `seed`, evaluate it, and (with out_dir) checkpoint and draw.

    `on_eval(step, metrics)` is called at every periodic evaluation; what it raises propagates (pruning).
    `bar=False` reports progress as one line per evaluation instead of a terminal bar (for parallel workers).
    With `tracking`, the case is one MLflow run nested under the target's parent, created now and ended with
    the case: every resolved setting as params, curves streamed as they are measured, the final metrics, the
    drawings and output files, status FINISHED, FAILED (diverged) or KILLED (interrupted). `on_step(step)` runs
    after each training step (progress).
    """
    prepared = prepare_task(config, task)
    model_config = case_model_config(config, task, arm, prepared.train)
    tracker = tracking.open() if tracking is not None else Tracker(None)
    with tracker.run(run_name(task, arm, f"seed {seed}"), parent=tracking and tracking.parent_run_id,
                     tags=case_tags("accuracy", task, arm, seed)) as run:
        run.log_params(case_params(config, task, arm, model_config, seed))
        counts = {f"test_{metric.name}" for metric in prepared.task.metrics() if metric.kind == "count"}

        def stream(step: int, values: dict[str, float]) -> None:  # the curves; a count is no curve
            run.log_metrics({name: value for name, value in values.items() if name not in counts}, step=step)

        result = _train_and_evaluate(config, prepared, task, arm, seed, model_config, device=device, on_eval=on_eval,
                                     out_dir=out_dir, resume=resume, bar=bar, on_step=on_step, on_points=stream)
        run.log_metrics(result.metrics, step=int(result.metrics["steps_trained"]))
        for path in (*(image for _, image in result.images), *result.outputs):
            run.log_artifact(path)
        if result.diverged_at is not None:
            run.fail(f"diverged at step {result.diverged_at}")
    result.tracking_error = tracker.error
    return result


CHANCE = "chance_"  # the prefix of a chance level: `chance_exact_accuracy`, ...


def chance_levels(task: Task, dataset: PuzzleDataset) -> dict[str, float]:
    """What no learning scores: each of the task's proportions at the better of two trivial predictions, the
    input copied and every position set to the split's most frequent label token (`chance_<name>`).
    A model at these levels has learned nothing a report should count."""
    ignore = dataset.metadata.get("ignore_label_id")
    supervised = dataset.labels[(dataset.labels != ignore) & (dataset.labels >= 0)]
    common = np.bincount(supervised).argmax() if supervised.size else 0
    trivial = (dataset.inputs.astype(dataset.labels.dtype), np.full_like(dataset.labels, common))
    scores = [task.score(dataset, predictions) for predictions in trivial]
    proportions = [metric.name for metric in task.metrics() if metric.kind == "proportion"]
    return {f"{CHANCE}{name}": max(score[name] for score in scores) for name in proportions
            if all(name in score for score in scores)}


def case_tags(suite: str, task: str, arm: str, seed: int | None = None) -> dict[str, str]:
    """The tags that let the MLflow runs table filter a suite's runs by task, arm and seed."""
    tags = {"suite": suite, "task": task, "arm": arm}
    return tags if seed is None else {**tags, "seed": str(seed)}


def _train_and_evaluate(config: RunConfig, prepared: PreparedTask, task: str, arm: str, seed: int,
                        model_config: ModelConfig, *, device: torch.device, on_eval, out_dir: Path | None,
                        resume: bool, bar: bool, on_step, on_points) -> CaseResult:
    engine.seed_everything(seed)
    model = build_arm(arm, model_config).to(device)
    settings = dataclasses.replace(train_settings(config, task), bar=bar, name=f"{task}/{arm}/{seed}")
    case = {"arm": arm, "model": dataclasses.asdict(model_config),
            "task": {task: dataclasses.asdict(config.task_config(task))}, "data_seed": config.train.data_seed}
    outcome = engine.train(
        model, prepared.train, prepared.test, prepared.task, settings, seed=seed, device=device,
        checkpoint_dir=out_dir, resume=resume, on_eval=on_eval, on_points=on_points, on_step=on_step, case=case,
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
    metrics = {**outcome.evaluation.metrics, **metrics, **chance_levels(prepared.task, prepared.test),
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


def _collect_cases(ctx: SuiteContext, results: Iterator[CaseResult]) -> Iterator[Record]:
    """Each trained case's record as it finishes (its headline on the progress display), and each task x arm's
    seed aggregate once all its seeds have. The cases logged their own MLflow runs while they trained."""
    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for result in results:
        task, arm, seed = result.task, result.arm, result.seed
        ctx.trained[(task, arm, seed)] = _trained_model(result)
        if seed == ctx.seeds[0]:
            ctx.images.extend(result.images)
        if result.tracking_error and ctx.tracker.error is None:  # a worker's store failed: say so in results.json
            ctx.tracker.error = result.tracking_error
        # Yielded before anything else, so that a stop from here on still finds the record with the runner.
        yield _record(result, seed, result.metrics, result.series, result.status, result.diverged_at)
        ctx.progress.finish(("accuracy", task, arm, seed), result.headline())
        group = groups.setdefault((task, arm), [])
        group.append(result)
        if len(group) == len(ctx.seeds) > 1:
            yield _aggregate(sorted(group, key=lambda case: ctx.seeds.index(case.seed)))


def case_params(config: RunConfig, task: str, arm: str, model_config: ModelConfig, seed: int | None = None
                ) -> dict[str, str]:
    """Every resolved setting of a case as MLflow params: model.*, optim.*, train.* (this task's), task.* and
    the seed, so the runs table can compare cases (and the other suites' runs) by any of them."""
    case = config.case(task, arm)
    sections = {"model": model_config, "optim": case.optim, "train": case.train, "task": case.task_config}
    params = {}
    for section, values in sections.items():
        params.update(flatten(dataclasses.asdict(values), f"{section}."))
    return params if seed is None else {**params, "seed": str(seed)}


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
    first so that workers only read the cache. Each case logs its own MLflow run and sends its progress
    through a queue to this process's display. Stopping this process stops the workers (their runs end
    KILLED); their checkpoints let `--resume` continue.
    """
    workers = training_workers(ctx.config, len(plan))
    target = ctx.tracker.target(ctx.parent)
    jobs = [(ctx.config, task, arm, seed, ctx.device, ctx.out_dir / "cases" / f"accuracy-{task}-{arm}-{seed}",
             ctx.resume, target) for task, arm, seed in plan]
    if workers <= 1:
        for job in jobs:
            yield _train_job(job, ctx.progress, bar=True)
        return
    for task in ctx.tasks:
        prepare_task(ctx.config, task)
    threads = worker_threads(ctx.config, workers)
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    ctx.progress.listen(queue)
    pool = spawn.Pool(workers, initializer=_start_worker, initargs=(threads, queue, console.verbosity()))
    try:
        yield from pool.imap_unordered(_worker_job, jobs)
        pool.close()
        pool.join()  # the workers exit on their own once the jobs are done
    finally:
        pool.terminate()
        pool.join()
        ctx.progress.stop_listening(queue)


_SENDER: ProgressSender | None = None  # a worker process's end of the progress queue


def _start_worker(threads: int, queue, verbosity: int) -> None:
    global _SENDER
    console.configure(verbosity)
    torch.set_num_threads(threads)
    _SENDER = ProgressSender(queue)


def _worker_job(job: tuple) -> CaseResult:
    """One case in a worker; a SIGTERM (the pool stopping) or Ctrl-C while it trains ends its run KILLED, an
    idle worker just exits."""
    with interrupts.handled():
        return _train_job(job, _SENDER, bar=False)


def _train_job(job: tuple, progress: RunProgress | ProgressSender | None, bar: bool) -> CaseResult:
    config, task, arm, seed, device, out_dir, resume, target = job
    key = ("accuracy", task, arm, seed)
    on_step = None if progress is None else (lambda step: progress.advance(key, step))
    return run_case(config, task, arm, seed, device=device, out_dir=out_dir, resume=resume, bar=bar,
                    tracking=target, on_step=on_step)


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
        if name.startswith(CHANCE):  # a property of the test split, the same for every seed
            continue
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
    note = ("Test-split metrics after training, each with its 95% interval in brackets: with several seeds the mean "
            "over seeds and its Student t interval (proportions clipped to [0, 1]); with one seed the Wilson "
            "interval over the n test examples (none for token accuracy: one example's tokens are not independent; "
            "none over seeds that all gave the same value). "
            "seeds: the seeds behind each row; segments: mean segments used at evaluation; wall: training time "
            "without evaluations. (chance): what no learning scores, the better of copying the input and "
            "predicting the most frequent label token everywhere; an arm at that level learned nothing.")

    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        """Every task x arm x seed as it finishes, and one aggregate record (seed null) per task x arm once all
        its seeds have finished. The runner puts the records back in plan order."""
        plan = [(task, arm, seed) for task in ctx.tasks for arm in ctx.arms for seed in ctx.seeds]
        with contextlib.closing(_train_cases(ctx, plan)) as results:  # closing stops the workers on an error
            yield from _collect_cases(ctx, results)

    def work(self, ctx: SuiteContext, costs: CostModel) -> list[Work]:
        """One item per task x arm x seed, advanced by training steps."""
        return [Work(("accuracy", task, arm, seed), costs.case_s(ctx.config, task, arm),
                     ctx.config.train_for(task).steps)
                for task in ctx.tasks for arm in ctx.arms for seed in ctx.seeds]

    def metrics(self, tasks: list[Task]) -> list[Metric]:
        scores = [metric for task in tasks for metric in task.metrics()]
        own = [*scores, *_OWN_METRICS]
        spread = [metric for metric in own if metric.name != "seeds"]
        chance = [Metric.info(f"{CHANCE}{metric.name}", "proportion", f"{metric.name} of the better trivial "
                              "prediction (the input copied, or the most frequent label token everywhere)")
                  for metric in scores if metric.kind == "proportion"]
        return [*own, *(metric.spread() for metric in spread), *(metric.bound(side) for metric in spread
                                                                  for side in ("low", "high")), *chance]

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
                       and metric.kind == "proportion" and not name.endswith(_OVER_SEEDS)
                       and not name.startswith(CHANCE)]
            chance = next((r.metrics for r in rows_of_task if any(k.startswith(CHANCE) for k in r.metrics)), {})
            per_table = _COLUMNS_PER_TABLE
            first, *more = [columns[i:i + per_table] for i in range(0, len(columns), per_table)] or [[]]
            rows = []
            for r in rows_of_task:
                m = r.metrics
                seeds = f"{m['seeds']:.0f}" if "seeds" in m else "1"
                tail = [_cell(metrics, "examples", m), seeds, _cell(metrics, "mean_segments", m),
                        _cell(metrics, "parameters", m), _cell(metrics, "train_wall_s", m)]
                if r.diverged:
                    rows.append([r.arm, r.diverged_text(), *["-"] * (len(first) - 1), "-", "-", "-", *tail[3:]])
                else:
                    rows.append([r.arm, *[_cell(metrics, name, m) for name in first], *tail])
            if chance:
                rows.append(_chance_row(metrics, chance, first, len(_CASE_COLUMNS)))
            headers = ["arm", *first, *_CASE_COLUMNS]
            tables.append(f"**{task}**\n\n" + markdown_table(rows, headers))
            for part in more:  # the task's further proportions, in tables of their own that fit a page
                extra = [[r.arm, *(["-"] * len(part) if r.diverged else [_cell(metrics, name, r.metrics)
                                                                         for name in part])] for r in rows_of_task]
                if chance:
                    extra.append(_chance_row(metrics, chance, part, 0))
                tables.append(f"**{task}** (continued)\n\n" + markdown_table(extra, ["arm", *part]))
        return "\n\n".join(tables)

    def figures(self, records: list[Record], directory: Path) -> list[tuple[str, Path]]:
        return task_figures(records, directory, [("learning curves", plots.learning_curves, "learning_curves")])

    def summary(self, records: list[Record], metrics: dict[str, Metric]) -> list[str]:
        """The report's accuracy tables, as they are in report.md."""
        return ["Accuracy (test split; with several seeds the mean [95% interval over seeds]):",
                self.report(records, metrics)] if records else []


def _chance_row(metrics: dict[str, Metric], chance: dict[str, float], columns: list[str], tail: int) -> list[str]:
    """The table row of the chance levels (`chance_levels`) under the arms' rows."""
    cells = [metrics[name].format(chance[f"{CHANCE}{name}"]) if f"{CHANCE}{name}" in chance else "-"
             for name in columns]
    return ["(chance)", *cells, *["-"] * tail]


_CASE_COLUMNS = ("n", "seeds", "segments", "parameters", "wall")  # after the metrics: what each row is over
_OVER_SEEDS = ("_std", "_ci_low", "_ci_high")  # the statistics over seeds a seed aggregate adds to each metric
_COLUMNS_PER_TABLE = 4  # metric columns per accuracy table, so a table with intervals fits a page


def _cell(metrics: dict[str, Metric], name: str, values: dict[str, float]) -> str:
    """`name`'s value as declared, with its 95% interval: over seeds when the record has one (a proportion's
    clipped to [0, 1]: with few seeds the Student t interval reaches past what a proportion can be), else a
    proportion's Wilson interval over the test examples of its one evaluation."""
    if name not in values:
        return "-"
    if name not in metrics:
        return f"{values[name]:.4g}"
    metric = metrics[name]
    low, high = values.get(f"{name}_ci_low"), values.get(f"{name}_ci_high")
    if low is None or high is None:
        single = over_examples(metric, values) if "seeds" not in values else None
        if single is None:
            return metric.format(values[name])
        low, high = single.low, single.high
    if metric.kind == "proportion":
        low, high = max(low, 0.0), min(high, 1.0)
    return f"{metric.format(values[name])} [{metric.format(low)}, {metric.format(high)}]"
