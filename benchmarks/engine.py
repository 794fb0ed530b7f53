"""The training engine shared by every arm and task: deep supervision with the ACT carry, through the one
model interface (`initial_carry`, `train_segment`, `evaluate`, `on_optimizer_step`).

    outcome = train(model, train_set, test_set, task, settings, seed=0, device=device, checkpoint_dir=dir)

Each step sets the warm-up + constant learning rate (`hrm.optim`), then runs one segment for every slot,
backpropagates and steps the optimisers in `hrm.training.training_step`, the one step every caller uses. At
checkpoint boundaries (every `checkpoint_interval` steps, or every evaluation) the engine saves the
`TrainingState` (model, optimisers, RNG states, sampler position and curves) and restarts the ACT carry,
so the checkpoint needs no carry and a resumed run replays exactly what an uninterrupted one does.

A non-finite loss or gradient ends the run as diverged at that step (`TrainOutcome.diverged_at`): nothing
is evaluated, so a diverged run can never be read as an accuracy. The check stays on the device and is read
at log points, evaluations and checkpoints (no host sync per step on CUDA). Every checkpoint stores the
settings it was trained with; resuming under other settings is refused, naming the ones that differ.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from benchmarks import distributed
from benchmarks.errors import BenchmarkError
from benchmarks.evaluation import Evaluation, evaluate_split, evaluation_budget, to_device
from benchmarks.training_state import CHECKPOINT, MetricWindow, Series, TrainingState
from hrm.config import OptimConfig
from hrm.interface import ReasoningModel
from hrm.optim import build_optimizers, set_learning_rates
from hrm.training import training_step
from tasks.base import Task
from tasks.dataset import PuzzleDataset, train_batches

log = logging.getLogger(__name__)
_OPERATIONAL = ("progress", "bar", "name")  # TrainSettings fields that do not change what a run computes
OnEval = Callable[[int, dict[str, float]], None]
OnPoints = Callable[[int, dict[str, float]], None]  # (step, {curve name: value}) as curve points are added


@dataclass
class TrainSettings:
    """What the engine needs from a RunConfig (see benchmarks.config.TrainConfig for the meaning)."""

    optim: OptimConfig
    batch_size: int
    steps: int
    eval_interval: int
    eval_mode: str
    eval_halt_max_steps: int
    checkpoint_interval: int
    log_interval: int
    early_stop_exact_accuracy: float
    progress: bool
    bar: bool = True  # a tqdm bar on a terminal; False prints one line per evaluation (parallel workers)
    name: str = "train"  # what the bar and the lines call this run

    @property
    def boundary_interval(self) -> int:
        """Steps between checkpoints (and carry restarts); 0 when there are none before the end."""
        return self.checkpoint_interval or self.eval_interval


@dataclass
class TrainOutcome:
    """Final test evaluation, curves and timing of one training run (no evaluation when it diverged)."""

    evaluation: Evaluation | None
    series: Series
    steps: int  # optimiser steps taken (fewer than asked when stopped early or diverged)
    train_wall_s: float  # time in training steps (evaluations excluded), summed over resumed parts
    early_stopped: bool
    diverged_at: int | None = None  # the first step whose loss or gradient was not finite

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


class _DivergenceWatch:
    """The first step with a non-finite loss or gradient, tracked on the device (0 = none yet)."""

    def __init__(self, device: torch.device, first: int | None = None) -> None:
        self.first = torch.tensor(first or 0, dtype=torch.int64, device=device)

    @torch.no_grad()
    def check(self, step: int, loss: torch.Tensor, parameters: list[torch.Tensor]) -> None:
        """Record `step` if `loss` or any gradient of `parameters` (dense or sparse) is NaN or infinite."""
        values = [p.grad._values() if p.grad.is_sparse else p.grad for p in parameters if p.grad is not None]
        finite = torch.isfinite(loss).all()
        if values:  # x * 0 is 0 for finite x and NaN for NaN or inf, so the norms of the products tell them apart
            finite = finite & torch.isfinite(torch.stack(torch._foreach_norm(torch._foreach_mul(values, 0.0)))).all()
        self.first = torch.where((self.first == 0) & ~finite, step, self.first)

    def diverged_at(self) -> int | None:
        first = int(self.first)
        return first or None


def case_settings(settings: TrainSettings) -> dict:
    """The training settings that determine what a run computes (for checkpoints and --resume checks)."""
    values = dataclasses.asdict(settings)
    return {key: value for key, value in values.items() if key not in _OPERATIONAL}


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (every device) so model init and exploration repeat exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(
    model: ReasoningModel,
    train_set: PuzzleDataset,
    test_set: PuzzleDataset,
    task: Task,
    settings: TrainSettings,
    *,
    seed: int,
    device: torch.device,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    on_eval: OnEval | None = None,
    on_points: OnPoints | None = None,
    on_step: Callable[[int], None] | None = None,
    case: dict | None = None,
) -> TrainOutcome:
    """Train `model` (already on `device`) for `settings.steps` steps and evaluate it on `test_set`.

    `on_eval(step, metrics)` runs after each periodic evaluation (after its checkpoint is saved); whatever
    it raises (e.g. optuna.TrialPruned) propagates. `on_points(step, values)` gets each step's new curve points
    as they are added (the training means at log points, `test_*` at evaluations; a resumed run's earlier points
    first), for live tracking; `on_step(step)` runs after every optimiser step, for progress. With `resume`,
    training continues from `checkpoint_dir/checkpoint.pt` when it exists, provided it was saved with the same
    settings: the training settings, the seed, and `case` (what else determines the run: the model, the task's
    data).
    """
    ranks = distributed.current()  # under torchrun: this rank trains its slice of every global batch
    model.shard = (ranks.rank, ranks.world)
    optimizers = build_optimizers(model, settings.optim)
    parameters = [p for group in optimizers for g in group.param_groups for p in g["params"]]
    identity = {"train": case_settings(settings), "seed": seed, **(case or {})}
    progress = TrainingState(identity)
    path = checkpoint_dir / CHECKPOINT if checkpoint_dir is not None else None
    if resume and path is not None and path.exists():
        progress = TrainingState.load(path, model, optimizers, identity)
        if not ranks.main:  # the saved log window is the global one, rank 0's from here
            progress.window = MetricWindow()
    watch = _DivergenceWatch(device, progress.diverged_at)

    def after_backward(loss: torch.Tensor, step: int) -> None:
        distributed.all_reduce_gradients(parameters, ranks)
        watch.check(step, loss, parameters)

    step, series, window = progress.step, progress.series, progress.window
    if on_points is not None:  # a resumed run's points so far, so that a new tracked run holds the whole curve
        for at, values in _points_by_step(series).items():
            on_points(at, values)

    def add_points(at: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            series.setdefault(name, []).append((at, value))
        if on_points is not None:
            on_points(at, values)
    model.train()
    batches = _batches(train_set, settings.batch_size, seed, progress.epoch, progress.position)
    show_bar = settings.progress and settings.bar and sys.stderr.isatty() and log.isEnabledFor(logging.INFO)
    bar = tqdm(total=settings.steps, initial=step, disable=not show_bar, desc=settings.name,
               dynamic_ncols=True, leave=False)
    carry, evaluation, evaluated_at = None, None, -1
    diverged_at = progress.diverged_at

    def save_checkpoint() -> None:
        """Bring `progress` up to the loop's step and window (`series` is the same object) and save it (on
        rank 0, with the log window summed over the ranks; every rank calls it)."""
        global_window = distributed.reduced_window(window, ranks)
        if ranks.main:
            progress.step, progress.window, progress.diverged_at = step, global_window, diverged_at
            progress.save(path, model, optimizers)

    while step < settings.steps and not progress.early and diverged_at is None:
        started = time.perf_counter()
        batch_np, progress.epoch, progress.position = next(batches)
        batch = distributed.shard(to_device(batch_np, device), ranks)
        if carry is None:
            carry = model.initial_carry(batch)
        step += 1
        set_learning_rates(optimizers, step, settings.optim)
        carry, output = training_step(model, optimizers, carry, batch,
                                      on_backward=lambda loss, step=step: after_backward(loss, step))
        window.add(output.loss / ranks.world, output.metrics)  # summed over the ranks: the global batch's mean
        elapsed = time.perf_counter() - started
        progress.wall += elapsed
        bar.update(1)
        if on_step is not None:
            on_step(step)

        logging_now = step % settings.log_interval == 0 or step == settings.steps
        evaluate_now = bool(settings.eval_interval and step % settings.eval_interval == 0)
        boundary = bool(settings.boundary_interval and step % settings.boundary_interval == 0)
        if logging_now or evaluate_now or boundary or step == settings.steps:
            diverged_at = watch.diverged_at()
        if diverged_at is not None:
            log.warning(f"  {settings.name}: diverged at step {diverged_at} (non-finite loss or gradient)")
            break
        if logging_now:
            means = distributed.reduced_window(window, ranks).means()
            add_points(step, means)
            bar.set_postfix(loss=f"{means['train_loss']:.3f}", exact=f"{means.get('train_exact_accuracy', 0):.2f}",
                            samples_s=f"{settings.batch_size / max(elapsed, 1e-9):.0f}")
            threshold = settings.early_stop_exact_accuracy
            progress.early = threshold > 0 and means.get("train_exact_accuracy", 0.0) >= threshold
            window = MetricWindow()
        if evaluate_now or step == settings.steps or progress.early:
            evaluation, evaluated_at = _evaluate(model, test_set, task, settings, device, ranks), step
            add_points(step, {f"test_{name}": value for name, value in evaluation.metrics.items()})
            if bar.disable and settings.progress:  # no terminal (a log file, CI): one line per evaluation
                test = evaluation.metrics
                log.info(f"  {settings.name}: step {step}/{settings.steps}: test exact {test['exact_accuracy']:.3f}, "
                         f"token {test['token_accuracy']:.3f}, {progress.wall:.0f} s training")
        if boundary or step == settings.steps or progress.early:
            if path is not None:
                save_checkpoint()
            carry = None
        if evaluated_at == step and on_eval is not None:
            on_eval(step, evaluation.metrics)
    bar.close()
    if diverged_at is not None:
        if path is not None:  # resuming a diverged case reports the divergence again instead of retraining
            save_checkpoint()
        return TrainOutcome(None, series, step, progress.wall, progress.early, diverged_at)
    if evaluated_at != step:  # resumed a run that had already finished
        evaluation = _evaluate(model, test_set, task, settings, device, ranks)
    return TrainOutcome(evaluation, series, step, progress.wall, progress.early)


def _points_by_step(series: Series) -> dict[int, dict[str, float]]:
    """The curves' points grouped by step, in step order."""
    points: dict[int, dict[str, float]] = {}
    for name, values in series.items():
        for step, value in values:
            points.setdefault(int(step), {})[name] = value
    return dict(sorted(points.items()))


def _evaluate(model: ReasoningModel, dataset: PuzzleDataset, task: Task, settings: TrainSettings,
              device: torch.device, ranks: distributed.Ranks) -> Evaluation:
    """The test evaluation at the arm's inference budget (`evaluation_budget`), split over the ranks."""
    return evaluate_split(model, dataset, task, batch_size=settings.batch_size,
                          halt_max_steps=evaluation_budget(model.config, settings.eval_halt_max_steps),
                          mode=settings.eval_mode, device=device, ranks=ranks)


def _batches(dataset: PuzzleDataset, batch_size: int, seed: int, epoch: int, position: int
             ) -> Iterator[tuple[dict[str, np.ndarray], int, int]]:
    """Training batches from (epoch, position) on, each with the (epoch, position) just after it."""
    while True:
        count = 0
        for index, batch in enumerate(train_batches(dataset, batch_size, seed, epoch)):
            count += 1
            if index >= position:
                yield batch, epoch, index + 1
        if count == 0:
            groups = len(dataset.group_indices) - 1
            raise BenchmarkError(
                f"one training epoch draws one puzzle from each of the split's {groups} groups, and they hold "
                f"fewer examples than one batch ({batch_size}; the split has {len(dataset.inputs)} examples in all); "
                "lower train.batch_size or raise the task's training size"
            )
        epoch, position = epoch + 1, 0
