"""What a case costs in seconds: one training step and one evaluation pass of a (task, arm), measured or counted.

`CostModel(probe=True)` measures them: it builds the arm at its resolved size, times training steps on a real
batch of the task's test split (after one warm-up step) and one fixed-budget evaluation of that batch (after a
two-segment warm-up), with the thread count the run's training processes use. That is what `--dry-run` and a
bare run's plan report: the estimate then follows this machine, not an assumed utilisation. A probe costs a few
seconds per (task, arm), more with `model.compile` (the warm-ups compile), whose compile time is not estimated.

`CostModel(probe=False)` counts instead: forward FLOPs of a segment (`benchmarks.flops`) at `ASSUMED_RATE`
FLOP/s, training as 3x the forward plus one forward for the Q-learning target. Only the ratios between items
matter to the progress bar, whose ETA uses the rate it measures, so the bar uses this free estimate.

Either way the estimate leaves out what no probe sees: data builds, checkpoints, drawings and the report.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from baselines.registry import build_arm
from benchmarks.config import RunConfig
from benchmarks.context import case_model_config, prepare_task
from benchmarks.evaluation import evaluation_budget, to_device
from benchmarks.flops import segment_forward_flops, synchronize
from hrm.config import ModelConfig
from hrm.optim import build_optimizers
from hrm.training import training_step
from tasks.dataset import test_batches

ASSUMED_RATE = 1e10  # FLOP/s of the counted estimate; its absolute value only scales the bar's total
PROBE_STEPS = 2  # timed training steps per probe, after one warm-up step


@dataclass(frozen=True)
class Costs:
    """Seconds of one training step at the case's batch size, and of evaluating one example for one segment."""

    step_s: float
    example_segment_s: float


class CostModel:
    """Per-(task, arm) costs under the RunConfig each call names, measured (`probe`) or counted, each found once."""

    def __init__(self, device: torch.device, *, probe: bool, threads: int = 0) -> None:
        self.device = device
        self.probe = probe
        self.threads = threads
        self.found: dict[tuple, Costs] = {}
        self.probe_s = 0.0  # seconds spent probing

    def model_config(self, config: RunConfig, task: str, arm: str) -> ModelConfig:
        return case_model_config(config, task, arm, prepare_task(config, task).train)

    def costs(self, config: RunConfig, task: str, arm: str, batch_size: int) -> Costs:
        """The costs at `batch_size`: measured (or counted) once at the task's training batch size and scaled in
        proportion (one probe per model, not per batch size)."""
        model_config = self.model_config(config, task, arm)
        measured_at = config.train_for(task).batch_size
        key = (task, arm, repr(model_config), measured_at)
        if key not in self.found:
            started = time.perf_counter()
            self.found[key] = (self._measure(config, task, arm, model_config, measured_at) if self.probe
                               else _counted(arm, model_config, measured_at))
            self.probe_s += time.perf_counter() - started
        found = self.found[key]
        return Costs(found.step_s * batch_size / measured_at, found.example_segment_s)

    def step_s(self, config: RunConfig, task: str, arm: str, batch_size: int) -> float:
        return self.costs(config, task, arm, batch_size).step_s

    def evaluation_s(self, config: RunConfig, task: str, arm: str, segments: int | None = None) -> float:
        """One evaluation of the whole test split at `segments` (default: the arm's evaluation budget)."""
        train = config.train_for(task)
        model_config = self.model_config(config, task, arm)
        segments = segments or evaluation_budget(model_config, train.eval_halt_max_steps)
        examples = len(prepare_task(config, task).test.inputs)
        return examples * segments * self.costs(config, task, arm, train.batch_size).example_segment_s

    def case_s(self, config: RunConfig, task: str, arm: str) -> float:
        """Training one case: its steps and its periodic and final evaluations."""
        train = config.train_for(task)
        evaluations = (train.steps // train.eval_interval if train.eval_interval else 0) + (
            0 if train.eval_interval and train.steps % train.eval_interval == 0 else 1)
        return (train.steps * self.step_s(config, task, arm, train.batch_size)
                + evaluations * self.evaluation_s(config, task, arm))

    def _measure(self, config: RunConfig, task: str, arm: str, model_config: ModelConfig, batch_size: int
                 ) -> Costs:
        prepared = prepare_task(config, task)
        batch = _batch(prepared.test, batch_size, self.device)
        with _threads(self.threads):
            torch.manual_seed(0)
            model = build_arm(arm, model_config).to(self.device)
            optimizers = build_optimizers(model, config.optim_for(task))
            model.train()
            carry = model.initial_carry(batch)
            carry, _ = training_step(model, optimizers, carry, batch)  # warm-up
            synchronize(self.device)
            started = time.perf_counter()
            for _ in range(PROBE_STEPS):
                carry, _ = training_step(model, optimizers, carry, batch)
            synchronize(self.device)
            step_s = (time.perf_counter() - started) / PROBE_STEPS
            model.eval()
            segments = evaluation_budget(model_config, config.train_for(task).eval_halt_max_steps)
            model.evaluate(batch, halt_max_steps=min(2, segments), mode="fixed")  # warm-up: with model.compile, the
            synchronize(self.device)  # first segment (from a broadcast initial state) and later ones compile here
            started = time.perf_counter()
            model.evaluate(batch, halt_max_steps=segments, mode="fixed")
            synchronize(self.device)
            evaluation_s = time.perf_counter() - started
        return Costs(step_s, evaluation_s / (len(batch["inputs"]) * segments))


def _counted(arm: str, model_config: ModelConfig, batch_size: int) -> Costs:
    with torch.device("meta"):
        model = build_arm(arm, model_config)
    forward = segment_forward_flops(model_config, model.block_applications_per_segment())
    target = 1 if model_config.halting == "q_learning" and model_config.halt_max_steps > 1 else 0
    return Costs(batch_size * forward * (3 + target) / ASSUMED_RATE, forward / ASSUMED_RATE)


def _batch(dataset, batch_size: int, device: torch.device) -> dict[str, torch.Tensor]:
    """A training-size batch from the test split (its first examples, repeated where it has fewer)."""
    batch = next(test_batches(dataset, min(batch_size, len(dataset.inputs))))[0]
    index = np.arange(batch_size) % len(batch["inputs"])
    return to_device({key: value[index] for key, value in batch.items()}, device)


@contextlib.contextmanager
def _threads(threads: int) -> Iterator[None]:
    """torch's CPU thread count set to `threads` for the body (0: left as it is)."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
