"""The ACT outer loop shared by every recurrent arm: slots, deep supervision, halting, evaluation (HRM.md 3).

`ACTModel` wraps any `RecurrentCore`. Each training call runs one segment for every slot of the batch;
slots that halted on the previous call are reset to the core's initial state and take the batch's new
example, the others keep their example and state.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from hrm.errors import ConfigError
from hrm.interface import Batch, EvalMode, EvalOutput, ReasoningModel, RecurrentCore, SegmentOutput, State
from hrm.loss import segment_loss

REQUIRED_KEYS = ("inputs", "labels", "puzzle_identifiers")


@dataclass
class ACTCarry:
    """Per-slot training state: the core's state, segments used, whether it finished, and its example."""

    state: State  # each [batch, prefix + seq, hidden], detached
    steps: torch.Tensor  # [batch] int32 segments run on the current example
    halted: torch.Tensor  # [batch] bool: finished at the last call, refilled at the next
    data: Batch  # the slot's current example (same keys and shapes as a batch)


def _autocast(device: torch.device):
    """bf16 autocast on CUDA (fp32 master weights); full fp32 elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _rows(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """mask [b] viewed to broadcast against `like` [b, ...]."""
    return mask.view((-1,) + (1,) * (like.ndim - 1))


class ACTModel(ReasoningModel):
    """Deep supervision with adaptive halting around a recurrent core.

    `config.halting`: "q_learning" (HRM) halts a slot when q_halt > q_continue once it has run Mmin
    segments and learns q_continue from an extra no-grad segment; "exact" (TRM) halts when q_halt > 0
    and learns only q_halt. Every slot halts at `config.halt_max_steps` (Mmax). During training Mmin is 1,
    or with probability `halt_exploration_prob` uniform in {2..Mmax} (exploration).
    """

    def __init__(self, core: RecurrentCore) -> None:
        super().__init__()
        self.core = core
        self.config = core.config
        # (rank, processes) when the batch is this process's slice of a data-parallel global batch: the
        # exploration draws are made for the global batch and sliced, as one process would make them.
        self.shard = (0, 1)

    def initial_carry(self, batch: Batch) -> ACTCarry:
        _check_batch(batch)
        size, device = batch["inputs"].shape[0], batch["inputs"].device
        return ACTCarry(
            state=self.core.initial_state(size, device),
            steps=torch.zeros(size, dtype=torch.int32, device=device),
            halted=torch.ones(size, dtype=torch.bool, device=device),
            data={k: torch.empty_like(v) for k, v in batch.items()},
        )

    def train_segment(self, carry: ACTCarry, batch: Batch) -> tuple[ACTCarry, SegmentOutput]:
        _check_batch(batch)
        reset = carry.halted
        initial = self.core.initial_state(reset.shape[0], reset.device)
        state = tuple(torch.where(_rows(reset, s), s0, s) for s0, s in zip(initial, carry.state, strict=True))
        steps = torch.where(reset, 0, carry.steps) + 1
        data = {k: torch.where(_rows(reset, v), v, carry.data[k]) for k, v in batch.items()}

        with _autocast(reset.device):
            state, logits, q_logits = self.core(state, data)
        q_halt, q_continue = q_logits.unbind(-1)
        halted, target = self._halt_and_target(state, data, steps, q_halt.detach(), q_continue.detach())
        loss, metrics, predictions = segment_loss(
            logits, data["labels"], q_halt, q_continue, target, halted, steps, self.config.loss_type
        )
        return ACTCarry(state, steps, halted, data), SegmentOutput(loss, metrics, predictions, halted)

    @torch.no_grad()
    def _halt_and_target(
        self, state: State, data: Batch, steps: torch.Tensor, q_halt: torch.Tensor, q_continue: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Training halting decision [b] bool and the q_continue target [b] (None for `exact` halting)."""
        max_steps = self.config.halt_max_steps
        last = steps >= max_steps
        if max_steps == 1:
            return last, None
        # Two draws from the global generator, rand then randint, as the reference makes them: same seed, same Mmin.
        # Under data parallelism the draws are the global batch's and this slice takes its part (`shard`).
        rank, processes = self.shard
        local = q_halt.shape[0]
        size, rows = processes * local, slice(rank * local, (rank + 1) * local)
        explore = torch.rand(size, dtype=q_halt.dtype, device=q_halt.device)[rows] < self.config.halt_exploration_prob
        draws = torch.randint(2, max_steps + 1, (size,), dtype=steps.dtype, device=steps.device)[rows]
        min_steps = torch.where(explore, draws, 1)
        halted = last | (self._wants_halt(q_halt, q_continue) & (steps >= min_steps))
        if self.config.halting == "exact":
            return halted, None
        # Bootstrapped target: the next segment's value from the new state, same example, no discount.
        with _autocast(steps.device):
            next_halt, next_continue = self.core(state, data)[2].unbind(-1)
        return halted, torch.sigmoid(torch.where(last, next_halt, torch.maximum(next_halt, next_continue)))

    def _wants_halt(self, q_halt: torch.Tensor, q_continue: torch.Tensor) -> torch.Tensor:
        if self.config.halting == "q_learning":
            return q_halt > q_continue
        return q_halt > 0

    @torch.no_grad()
    def evaluate(
        self, batch: Batch, halt_max_steps: int, mode: EvalMode = "fixed", record_segments: bool = False
    ) -> EvalOutput:
        """Run from the initial state; `fixed`: `halt_max_steps` segments for all, `act`: stop at the first halt.

        In `act` mode an example's prediction, q_halt logit and segment count freeze at its first halt; the
        batch stops once every example halted, so `segment_predictions` ([segments run, b, s]) may be shorter
        than `halt_max_steps`.
        """
        _check_batch(batch)
        if not isinstance(halt_max_steps, int) or halt_max_steps < 1:
            raise ConfigError(f"evaluate: halt_max_steps must be an integer >= 1, got {halt_max_steps!r}")
        if mode not in ("fixed", "act"):
            raise ConfigError(f"evaluate: mode must be 'fixed' or 'act', got {mode!r}")
        size, device = batch["inputs"].shape[0], batch["inputs"].device
        state = self.core.initial_state(size, device)
        running = torch.ones(size, dtype=torch.bool, device=device)
        segments = torch.zeros(size, dtype=torch.int64, device=device)
        predictions = q_final = None
        recorded: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for _ in range(halt_max_steps):
            with _autocast(device):
                state, logits, q_logits = self.core(state, batch)
            q_halt, q_continue = q_logits.unbind(-1)
            segment_predictions = logits.argmax(-1)
            halts = self._wants_halt(q_halt, q_continue)
            if record_segments:
                recorded.append((segment_predictions, q_halt.float(), halts))
            if predictions is None:
                predictions, q_final = segment_predictions, q_halt
            else:
                predictions = torch.where(running[:, None], segment_predictions, predictions)
                q_final = torch.where(running, q_halt, q_final)
            segments += running
            if mode == "act":
                running = running & ~halts
                if not running.any():
                    break
        output = EvalOutput(predictions=predictions, segments=segments, q_halt_logits=q_final)
        if record_segments:
            output.segment_predictions, output.segment_q_halt_logits, output.segment_halts = (
                torch.stack(parts) for parts in zip(*recorded, strict=True))
        return output

    def block_applications_per_segment(self) -> int:
        """The core's block applications per segment (the extra no-grad Q-target segment is not counted)."""
        return self.core.block_applications()


def _check_batch(batch: Batch) -> None:
    for key in REQUIRED_KEYS:
        if key not in batch:
            raise ConfigError(f"batch is missing {key!r} (has {sorted(batch)})")
    size = batch["inputs"].shape[0]
    for key, value in batch.items():
        if value.shape[0] != size:
            raise ConfigError(f"batch[{key!r}] has {value.shape[0]} rows, batch['inputs'] has {size}")
