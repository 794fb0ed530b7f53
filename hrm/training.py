"""One training step of any arm: the only place the suite writes segment, backward and optimiser steps.

The training engine, the throughput suite, the tests and the timing cases all train through
`training_step`, so what they measure and check is the same step: no caller can forget an arm's
`on_optimizer_step` (TRM's EMA update) or leave gradients behind for the next step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from hrm.interface import Batch, ReasoningModel, SegmentOutput


def training_step(
    model: ReasoningModel,
    optimizers: Sequence[torch.optim.Optimizer],
    carry: Any,
    batch: Batch,
    *,
    on_backward: Callable[[torch.Tensor], None] | None = None,
) -> tuple[Any, SegmentOutput]:
    """One supervised segment for every slot, its backward, every optimiser's step; returns (carry, output).

    `on_backward(loss)` runs after backward and before the optimisers step, while the gradients are still
    there (the engine checks them for non-finite values and sets the learning rates of the step there).
    Gradients are released (`zero_grad(set_to_none=True)`) after each step, then the model's
    `on_optimizer_step` hook runs.
    """
    carry, output = model.train_segment(carry, batch)
    output.loss.backward()
    if on_backward is not None:
        on_backward(output.loss)
    for optimizer in optimizers:
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    model.on_optimizer_step()
    return carry, output
