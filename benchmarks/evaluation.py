"""Evaluate a model over a whole split and score it with the task (every example once, in order)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hrm.config import ModelConfig
from hrm.interface import EvalMode, ReasoningModel
from tasks.base import Task
from tasks.dataset import PuzzleDataset, test_batches


@dataclass
class Evaluation:
    """One pass over a split: per-example outputs and the metrics computed from them."""

    predictions: np.ndarray  # [examples, seq_len] token ids at each example's final segment
    q_halt_logits: np.ndarray  # [examples] halting logit at the final segment
    segments: np.ndarray  # [examples] segments each example used
    correct: np.ndarray  # [examples] bool: every supervised token right
    metrics: dict[str, float]  # task.score's metrics plus mean_segments and q_halt_accuracy


def evaluation_budget(model_config: ModelConfig, eval_halt_max_steps: int = 0) -> int:
    """The inference segment budget of an arm, the one rule every suite evaluates with: 1 for a single-pass
    arm (halt_max_steps 1), else `eval_halt_max_steps` (train.eval_halt_max_steps) or, when that is 0, the
    halt_max_steps it trained with."""
    if model_config.halt_max_steps == 1:
        return 1
    return eval_halt_max_steps or model_config.halt_max_steps


def to_device(batch: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    """A sampler's numpy batch as int64 tensors on `device`."""
    return {key: torch.from_numpy(value).to(device, non_blocking=True) for key, value in batch.items()}


def exact_correct(dataset: PuzzleDataset, predictions: np.ndarray) -> np.ndarray:
    """[examples] bool: the prediction matches every supervised label token of the dataset."""
    labels = dataset.labels
    supervised = np.ones_like(labels, dtype=bool)
    ignore = dataset.metadata.get("ignore_label_id")
    if ignore is not None:
        supervised = labels != ignore
    return np.all((predictions == labels) | ~supervised, axis=1)


@torch.no_grad()
def evaluate_split(
    model: ReasoningModel,
    dataset: PuzzleDataset,
    task: Task,
    *,
    batch_size: int,
    halt_max_steps: int,
    mode: EvalMode,
    device: torch.device,
) -> Evaluation:
    """Run `model.evaluate` on every example of `dataset` and score the predictions with `task.score`.

    `q_halt_accuracy` is the fraction of examples whose final halting logit has the sign of their exact
    correctness (the reference's Q-halt accuracy); `mean_segments` the mean segments used per example.
    """
    was_training = model.training
    model.eval()
    predictions, logits, segments = [], [], []
    for batch, real in test_batches(dataset, batch_size):
        output = model.evaluate(to_device(batch, device), halt_max_steps=halt_max_steps, mode=mode)
        predictions.append(output.predictions[:real])
        logits.append(output.q_halt_logits[:real].float())
        segments.append(output.segments[:real])
    model.train(was_training)
    predicted = torch.cat(predictions).cpu().numpy()
    q_halt = torch.cat(logits).cpu().numpy()
    used = torch.cat(segments).cpu().numpy()
    correct = exact_correct(dataset, predicted)
    metrics = {name: float(value) for name, value in task.score(dataset, predicted, q_halt).items()}
    metrics["mean_segments"] = float(used.mean())
    metrics["q_halt_accuracy"] = float(np.mean((q_halt >= 0) == correct))
    return Evaluation(predicted, q_halt, used, correct, metrics)
