"""The one model interface every arm implements (HRM, its BPTT variant, Transformers, TRM).

A training loop only ever calls these methods, so it never special-cases an arm:

    carry = model.initial_carry(batch)            # every slot starts "halted": the first segment loads the batch
    for batch in batches:
        carry, out = model.train_segment(carry, batch)   # one supervised segment for every slot
        out.loss.backward(); optimizer steps; model.on_optimizer_step()   # all four: hrm.training.training_step
    result = model.evaluate(batch, halt_max_steps=M, mode="fixed" | "act")

A batch is a dict of tensors on the model's device:
    "inputs"             [batch, seq] int64 token ids
    "labels"             [batch, seq] int64 token ids; `IGNORE_LABEL_ID` marks unsupervised positions
    "puzzle_identifiers" [batch]      int64 puzzle-embedding rows
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from hrm.config import ModelConfig

Batch = dict[str, torch.Tensor]
EvalMode = Literal["fixed", "act"]
IGNORE_LABEL_ID = -100


@dataclass
class SegmentOutput:
    """What one supervised segment returns to the training loop.

    `metrics` holds sums over the examples that halted at this step (the reference's convention), with
    "count" the number of such examples; divide by it to get means. Keys every arm provides:
    count, token_accuracy, exact_accuracy, q_halt_accuracy, steps, lm_loss, q_halt_loss
    (and q_continue_loss where the arm learns a continue target).
    """

    loss: torch.Tensor  # scalar, differentiable, already divided by the batch size
    metrics: dict[str, torch.Tensor]
    predictions: torch.Tensor  # [batch, seq] argmax token ids
    halted: torch.Tensor  # [batch] bool: slots that finished their example at this step


@dataclass
class EvalOutput:
    """Result of evaluating one batch with a segment budget (`halt_max_steps`, Mmax)."""

    predictions: torch.Tensor  # [batch, seq] token ids at each example's final segment
    segments: torch.Tensor  # [batch] int64 segments each example used
    q_halt_logits: torch.Tensor  # [batch] halting logit at the final segment (confidence for voting)
    # When asked for (`record_segments`), each segment's raw outputs, whether or not the example had halted:
    segment_predictions: torch.Tensor | None = None  # [segments, batch, seq] argmax token ids
    segment_q_halt_logits: torch.Tensor | None = None  # [segments, batch] halting logits
    segment_halts: torch.Tensor | None = None  # [segments, batch] bool: the model's halt decision there


class ReasoningModel(nn.Module, abc.ABC):
    """Base class of every arm. Subclasses set `self.config` and implement the abstract methods."""

    config: ModelConfig

    @abc.abstractmethod
    def initial_carry(self, batch: Batch) -> Any:
        """A carry for `batch`'s size with every slot marked halted, so the next segment loads fresh examples."""

    @abc.abstractmethod
    def train_segment(self, carry: Any, batch: Batch) -> tuple[Any, SegmentOutput]:
        """Refill halted slots from `batch`, run one segment, return the new (detached) carry and the loss."""

    @abc.abstractmethod
    def evaluate(
        self, batch: Batch, halt_max_steps: int, mode: EvalMode = "fixed", record_segments: bool = False
    ) -> EvalOutput:
        """Run `batch` from the initial state for at most `halt_max_steps` segments (Mmax), without gradient.

        The budget has the name of `ModelConfig.halt_max_steps`, the Mmax a model trains with; evaluation
        takes it as an argument so inference may run with a different Mmax (inference-time scaling).
        `fixed` runs every example for exactly `halt_max_steps` segments (the reference's evaluation);
        `act` stops each example at its first halt decision (or at `halt_max_steps`).
        """

    @abc.abstractmethod
    def block_applications_per_segment(self) -> int:
        """Transformer-block applications one segment makes per example (the compute unit of the suite)."""

    def on_optimizer_step(self) -> None:
        """Hook called after every optimiser step (TRM updates its EMA weights here)."""


State = tuple[torch.Tensor, ...]


class RecurrentCore(nn.Module, abc.ABC):
    """The network one segment runs, wrapped by the shared ACT outer loop (`hrm.act.ACTModel`).

    HRM's two modules, the Transformer baselines and TRM's recursion are all cores; the ACT wrapper
    (slots, reset/refill, halting, Q-learning, evaluation) is written once and shared by every arm.
    A state is a tuple of tensors, each [batch, prefix + seq, hidden] (an empty tuple for stateless cores).
    """

    config: ModelConfig

    @abc.abstractmethod
    def initial_state(self, batch_size: int, device: torch.device) -> State:
        """The state a reset slot starts from."""

    @abc.abstractmethod
    def forward(self, state: State, batch: Batch) -> tuple[State, torch.Tensor, torch.Tensor]:
        """One segment: (detached new state, logits [batch, seq, vocab], q_logits [batch, 2] = (halt, continue))."""

    @abc.abstractmethod
    def block_applications(self) -> int:
        """Transformer-block applications per example in one segment."""
