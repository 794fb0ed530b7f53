"""Helpers for the baseline-arm tests: a toy task, tiny configs and a bounded training loop."""

from __future__ import annotations

import torch
from model_helpers import tiny_config

from baselines.registry import arm_config, build_arm
from hrm.config import ModelConfig, OptimConfig
from hrm.interface import Batch, ReasoningModel
from hrm.layers import TransformerBlock
from hrm.optim import build_optimizers
from hrm.training import training_step


def reverse_batch(config: ModelConfig, size: int, seed: int = 0) -> Batch:
    """`size` fixed examples of a toy task: labels are the inputs reversed (tokens 1..vocab-1)."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randint(1, config.vocab_size, (size, config.seq_len), generator=generator)
    return {
        "inputs": inputs,
        "labels": inputs.flip(-1),
        "puzzle_identifiers": torch.arange(size) % config.num_puzzle_identifiers,
    }


def build(name: str, seed: int = 0, **overrides) -> ReasoningModel:
    """Arm `name` at the tiny test config with its registry defaults, then `overrides`."""
    torch.manual_seed(seed)
    return build_arm(name, arm_config(name, tiny_config(), overrides))


def exact_accuracy(model: ReasoningModel, batch: Batch) -> float:
    """Fraction of examples fully right after `fixed` evaluation with the training Mmax."""
    result = model.evaluate(batch, halt_max_steps=model.config.halt_max_steps)
    return (result.predictions == batch["labels"]).all(-1).float().mean().item()


def train(model: ReasoningModel, batch: Batch, steps: int, lr: float = 1e-3, check_every: int = 0) -> int | None:
    """Train on the fixed `batch` for up to `steps` steps with Adam-atan2 (and sparse sign-SGD for the puzzle
    embeddings); with `check_every`, stop at the first check where every example is exactly right.

    Returns the step count at which 100% exact accuracy was reached (None if never, or when not checking).
    """
    optimizers = build_optimizers(model, OptimConfig(lr=lr, weight_decay=0.0, warmup_steps=0, puzzle_emb_lr=1e-2))
    carry = model.initial_carry(batch)
    for step in range(1, steps + 1):
        carry, _ = training_step(model, optimizers, carry, batch)
        if check_every and step % check_every == 0 and exact_accuracy(model, batch) == 1.0:
            return step
    return None


def count_block_calls(model: ReasoningModel, batch: Batch) -> int:
    """Transformer-block forward calls per example in one evaluated segment (forward hooks on every block)."""
    calls = 0

    def hook(module, inputs, output):
        nonlocal calls
        calls += 1

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, TransformerBlock)]
    try:
        model.evaluate(batch, halt_max_steps=1)
    finally:
        for handle in handles:
            handle.remove()
    return calls
