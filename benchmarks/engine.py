"""The training engine shared by every arm and task: deep supervision with the ACT carry, through the one
model interface (`initial_carry`, `train_segment`, `evaluate`, `on_optimizer_step`).

    outcome = train(model, train_set, test_set, task, settings, seed=0, device=device, checkpoint_dir=dir)

Each step runs one segment for every slot, backpropagates, sets the warm-up + constant learning rate
(`hrm.optim`) and steps the optimisers. At checkpoint boundaries (every `checkpoint_interval` steps, or every
evaluation) the engine saves model, optimisers, RNG states, sampler position and curves, and restarts the ACT
carry, so the checkpoint needs no carry and a resumed run replays exactly what an uninterrupted one does.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from benchmarks.errors import BenchmarkError
from benchmarks.evaluation import Evaluation, evaluate_split, to_device
from hrm.config import OptimConfig
from hrm.interface import ReasoningModel
from hrm.optim import build_optimizers, set_learning_rates
from tasks.base import Task
from tasks.dataset import PuzzleDataset, train_batches

CHECKPOINT = "checkpoint.pt"
OnEval = Callable[[int, dict[str, float]], None]
Series = dict[str, list[tuple[int, float]]]


@dataclass
class TrainSettings:
    """What the engine needs from a RunConfig (see benchmarks.config.TrainConfig for the meaning)."""

    optim: OptimConfig
    batch_size: int
    steps: int
    eval_interval: int
    eval_mode: str
    eval_max_segments: int
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
    """Final test evaluation, curves and timing of one training run."""

    evaluation: Evaluation
    series: Series
    steps: int  # optimiser steps taken (fewer than asked when stopped early)
    train_wall_s: float  # time in training steps (evaluations excluded), summed over resumed parts
    early_stopped: bool


@dataclass
class _Window:
    """Training metrics summed since the last log point (kept as tensors: no device sync per step)."""

    sums: dict[str, torch.Tensor | float] = field(default_factory=dict)
    steps: int = 0

    def add(self, loss: torch.Tensor, metrics: dict[str, torch.Tensor]) -> None:
        for key, value in {"loss": loss.detach(), **metrics}.items():
            self.sums[key] = self.sums.get(key, 0.0) + value.float()
        self.steps += 1

    def state(self) -> dict:
        return {"sums": {key: float(value) for key, value in self.sums.items()}, "steps": self.steps}

    def means(self) -> dict[str, float]:
        """train_loss per step, and each metric averaged over the examples that halted in the window."""
        sums = self.state()["sums"]
        count = sums.pop("count", 0.0)
        means = {"train_loss": sums.pop("loss", 0.0) / max(self.steps, 1)}
        if count:
            means.update({f"train_{key}": value / count for key, value in sums.items()})
        return means


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
) -> TrainOutcome:
    """Train `model` (already on `device`) for `settings.steps` steps and evaluate it on `test_set`.

    `on_eval(step, metrics)` runs after each periodic evaluation (after its checkpoint is saved); whatever
    it raises (e.g. optuna.TrialPruned) propagates. With `resume`, training continues from
    `checkpoint_dir/checkpoint.pt` when it exists.
    """
    optimizers = build_optimizers(model, settings.optim)
    step, epoch, position, wall, early = 0, 0, 0, 0.0, False
    series: Series = {}
    window = _Window()
    path = checkpoint_dir / CHECKPOINT if checkpoint_dir is not None else None
    if resume and path is not None and path.exists():
        step, epoch, position, wall, series, early, window = _load(path, model, optimizers)
    model.train()
    batches = _batches(train_set, settings.batch_size, seed, epoch, position)
    show_bar = settings.progress and settings.bar and sys.stderr.isatty()
    bar = tqdm(total=settings.steps, initial=step, disable=not show_bar, desc=settings.name,
               dynamic_ncols=True, leave=False)
    carry, evaluation, evaluated_at = None, None, -1
    while step < settings.steps and not early:
        started = time.perf_counter()
        batch_np, epoch, position = next(batches)
        batch = to_device(batch_np, device)
        if carry is None:
            carry = model.initial_carry(batch)
        carry, output = model.train_segment(carry, batch)
        output.loss.backward()
        step += 1
        set_learning_rates(optimizers, step, settings.optim)
        for optimizer in optimizers:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        model.on_optimizer_step()
        window.add(output.loss, output.metrics)
        elapsed = time.perf_counter() - started
        wall += elapsed
        bar.update(1)

        if step % settings.log_interval == 0 or step == settings.steps:
            means = window.means()
            for name, value in means.items():
                series.setdefault(name, []).append((step, value))
            bar.set_postfix(loss=f"{means['train_loss']:.3f}", exact=f"{means.get('train_exact_accuracy', 0):.2f}",
                            samples_s=f"{settings.batch_size / max(elapsed, 1e-9):.0f}")
            threshold = settings.early_stop_exact_accuracy
            early = threshold > 0 and means.get("train_exact_accuracy", 0.0) >= threshold
            window = _Window()
        evaluate_now = settings.eval_interval and step % settings.eval_interval == 0
        if evaluate_now or step == settings.steps or early:
            evaluation, evaluated_at = _evaluate(model, test_set, task, settings, device), step
            for name, value in evaluation.metrics.items():
                series.setdefault(f"test_{name}", []).append((step, value))
            if bar.disable and settings.progress:  # no terminal (a log file, CI): one line per evaluation
                test = evaluation.metrics
                print(f"  {settings.name}: step {step}/{settings.steps}: test exact {test['exact_accuracy']:.3f}, "
                      f"token {test['token_accuracy']:.3f}, {wall:.0f} s training", file=sys.stderr)
        boundary = settings.boundary_interval and step % settings.boundary_interval == 0
        if boundary or step == settings.steps or early:
            if path is not None:
                _save(path, model, optimizers, step, epoch, position, wall, series, early, window)
            carry = None
        if evaluated_at == step and on_eval is not None:
            on_eval(step, evaluation.metrics)
    bar.close()
    if evaluated_at != step:  # resumed a run that had already finished
        evaluation = _evaluate(model, test_set, task, settings, device)
    return TrainOutcome(evaluation, series, step, wall, early)


def _evaluate(model: ReasoningModel, dataset: PuzzleDataset, task: Task, settings: TrainSettings,
              device: torch.device) -> Evaluation:
    """The test evaluation at the configured inference Mmax (single-pass arms, Mmax 1, always run 1 segment)."""
    max_segments = settings.eval_max_segments or model.config.halt_max_steps
    if model.config.halt_max_steps == 1:
        max_segments = 1
    return evaluate_split(model, dataset, task, batch_size=settings.batch_size, max_segments=max_segments,
                          mode=settings.eval_mode, device=device)


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
            raise BenchmarkError(
                f"the training split has fewer examples ({len(dataset.inputs)}) than one batch ({batch_size}); "
                "lower train.batch_size or raise the task's training size"
            )
        epoch, position = epoch + 1, 0


def _save(path: Path, model: ReasoningModel, optimizers: list[torch.optim.Optimizer], step: int, epoch: int,
          position: int, wall: float, series: Series, early: bool, window: _Window) -> None:
    """Model, optimisers, RNG states, sampler position and curves; written atomically."""
    state = {
        "model": model.state_dict(),
        "optimizers": [optimizer.state_dict() for optimizer in optimizers],
        "step": step, "epoch": epoch, "position": position, "wall": wall, "series": series, "early": early,
        "window": window.state(),
        "rng": {
            "python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def _load(path: Path, model: ReasoningModel, optimizers: list[torch.optim.Optimizer]
          ) -> tuple[int, int, int, float, Series, bool, _Window]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        for optimizer, saved in zip(optimizers, state["optimizers"], strict=True):
            optimizer.load_state_dict(saved)
    except (OSError, RuntimeError, KeyError, ValueError) as error:
        raise BenchmarkError(f"cannot resume from {path}: {error}") from error
    rng = state["rng"]
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    series = {name: [tuple(point) for point in points] for name, points in state["series"].items()}
    window = _Window(dict(state["window"]["sums"]), state["window"]["steps"])
    return state["step"], state["epoch"], state["position"], state["wall"], series, state["early"], window
