"""Evaluate a model over a whole split and score it with the task (every example once, in order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from benchmarks import distributed
from benchmarks.distributed import Ranks
from hrm.config import ModelConfig
from hrm.interface import IGNORE_LABEL_ID, EvalMode, EvalOutput, ReasoningModel
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
    # With `per_segment`: exact and token accuracy of every example's prediction after each segment
    segment_exact: np.ndarray | None = None  # [halt_max_steps]
    segment_token: np.ndarray | None = None  # [halt_max_steps]


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
    per_segment: bool = False,
    on_batch: Callable[[int], None] | None = None,
    ranks: Ranks | None = None,
) -> Evaluation:
    """Run `model.evaluate` on every example of `dataset` and score the predictions with `task.score`.

    `q_halt_accuracy` is the fraction of examples whose final halting logit has the sign of their exact
    correctness (the reference's Q-halt accuracy); `mean_segments` the mean segments used per example.
    `per_segment` also scores the prediction after each of the `halt_max_steps` segments: every example then
    runs the whole budget, and in `act` mode its result is read at its first halt decision (what `act` mode's
    early stop returns, at the cost of the segments after it). `on_batch(examples)` is called after each batch.
    Under data parallelism (`ranks`) each rank evaluates its run of the batches and the outputs are gathered,
    so every rank returns the whole split's evaluation; every rank must call this.
    """
    ranks = ranks or Ranks()
    was_training = model.training
    model.eval()
    predictions, logits, segments = [], [], []
    exact_counts = torch.zeros(halt_max_steps if per_segment else 0, dtype=torch.int64, device=device)
    token_counts = torch.zeros_like(exact_counts)
    supervised_tokens = 0
    for batch, real in test_batches(dataset, batch_size, part=(ranks.rank, ranks.world)):
        batch = to_device(batch, device)
        if per_segment:
            output = model.evaluate(batch, halt_max_steps=halt_max_steps, mode="fixed", record_segments=True)
            supervised = batch["labels"][:real] != IGNORE_LABEL_ID
            right = output.segment_predictions[:, :real] == batch["labels"][:real]
            exact_counts += (right | ~supervised).all(-1).sum(-1)
            token_counts += (right & supervised).sum((1, 2))
            supervised_tokens += int(supervised.sum())
            if mode == "act":
                output = _at_first_halt(output)
        else:
            output = model.evaluate(batch, halt_max_steps=halt_max_steps, mode=mode)
        predictions.append(output.predictions[:real])
        logits.append(output.q_halt_logits[:real].float())
        segments.append(output.segments[:real])
        if on_batch is not None:
            on_batch(real)
    model.train(was_training)
    seq_len = dataset.inputs.shape[1]
    predicted = _joined(predictions, torch.empty((0, seq_len), dtype=torch.int64, device=device), ranks)
    q_halt = _joined(logits, torch.empty(0, device=device), ranks)
    used = _joined(segments, torch.empty(0, dtype=torch.int64, device=device), ranks)
    if per_segment:
        exact_counts, token_counts = distributed.summed(exact_counts, ranks), distributed.summed(token_counts, ranks)
        supervised_tokens = int(distributed.summed(torch.tensor(supervised_tokens, device=device), ranks))
    correct = exact_correct(dataset, predicted)
    metrics = {name: float(value) for name, value in task.score(dataset, predicted, q_halt).items()}
    metrics["mean_segments"] = float(used.mean())
    metrics["q_halt_accuracy"] = float(np.mean((q_halt >= 0) == correct))
    evaluation = Evaluation(predicted, q_halt, used, correct, metrics)
    if per_segment:
        evaluation.segment_exact = exact_counts.cpu().numpy() / len(predicted)
        evaluation.segment_token = token_counts.cpu().numpy() / max(supervised_tokens, 1)
    return evaluation


def _joined(parts: list[torch.Tensor], empty: torch.Tensor, ranks: Ranks) -> np.ndarray:
    """This rank's batches' rows (`empty` when it had none) joined with every other rank's, as a host array."""
    return distributed.gather_rows(torch.cat(parts) if parts else empty, ranks).cpu().numpy()


def _at_first_halt(output: EvalOutput) -> EvalOutput:
    """A fixed-mode output with recorded segments read as `act` mode returns it: each example's prediction and
    halting logit at its first halt decision (the last segment when it never halts)."""
    halts = output.segment_halts
    last = halts.shape[0] - 1
    first = torch.where(halts.any(0), halts.int().argmax(0), torch.full_like(halts[0], last, dtype=torch.int64))
    rows = torch.arange(halts.shape[1], device=halts.device)
    return EvalOutput(predictions=output.segment_predictions[first, rows],
                      segments=first + 1, q_halt_logits=output.segment_q_halt_logits[first, rows])
