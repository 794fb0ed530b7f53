"""Optimisers and the learning-rate schedule (HRM.md section 5).

Dense weights: Adam-atan2 (or AdamW); puzzle embeddings: sparse sign-SGD touching only the rows of the
batch. `build_optimizers` finds every `PuzzleEmbedding` in any model, so baseline arms need nothing extra.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hrm.config import OptimConfig
from hrm.errors import ConfigError
from hrm.layers import PuzzleEmbedding


class AdamAtan2(torch.optim.Optimizer):
    """Adam-atan2 as the reference trains with it (the adam-atan2 0.0.3 kernel): no epsilon, decoupled decay.

    Per step t: `p *= 1 - lr * wd; m = lerp(m, g, 1 - b1); v = lerp(v, g * g, 1 - b2);
    p -= (lr / (1 - b1^t)) * atan2(m, sqrt(v) / sqrt(1 - b2^t))`. The first bias correction scales the step
    rather than m inside the atan2, so the first update moves atan(0.1) / 0.1 = 0.997 lr per weight, not pi/4 lr.
    """

    def __init__(self, params, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.95), weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group["betas"]
            lr, decay = group["lr"], group["weight_decay"]
            for p in params:
                if p.grad.is_sparse:
                    raise ConfigError("AdamAtan2 got a sparse gradient; puzzle embeddings belong to SparseSignSGD")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
            grads = [p.grad for p in params]
            exp_avg = [self.state[p]["exp_avg"] for p in params]
            exp_avg_sq = [self.state[p]["exp_avg_sq"] for p in params]
            steps = [self.state[p]["step"] for p in params]
            torch._foreach_mul_(params, 1 - lr * decay)
            torch._foreach_lerp_(exp_avg, grads, 1 - beta1)
            torch._foreach_lerp_(exp_avg_sq, torch._foreach_mul(grads, grads), 1 - beta2)
            denominators = torch._foreach_sqrt(exp_avg_sq)
            torch._foreach_div_(denominators, [math.sqrt(1 - beta2**t) for t in steps])
            for p, m, denominator, t in zip(params, exp_avg, denominators, steps, strict=True):
                p.add_(torch.atan2(m, denominator), alpha=-lr / (1 - beta1**t))
        return loss


class SparseSignSGD(torch.optim.Optimizer):
    """Sign-SGD with decoupled weight decay on the rows that received gradient, for sparse embeddings.

    For each row r present in the batch (gradients of repeated rows summed first):
    `w[r] <- w[r] * (1 - lr * wd) - lr * sign(grad[r])`. Other rows are untouched (no decay either).
    """

    def __init__(self, params, lr: float = 1e-4, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            lr, decay = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not p.grad.is_sparse:
                    raise ConfigError("SparseSignSGD needs a sparse gradient (a PuzzleEmbedding weight)")
                grad = p.grad.coalesce()
                rows = grad.indices()[0]
                updated = p.index_select(0, rows).mul_(1 - lr * decay).add_(grad.values().sign(), alpha=-lr)
                p.index_copy_(0, rows, updated)
        return loss


def split_parameters(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(dense trainable parameters, puzzle-embedding tables) of any model."""
    sparse = [m.weight for m in model.modules() if isinstance(m, PuzzleEmbedding)]
    sparse_ids = {id(p) for p in sparse}
    dense = [p for p in model.parameters() if p.requires_grad and id(p) not in sparse_ids]
    return dense, sparse


def build_optimizers(model: nn.Module, config: OptimConfig) -> list[torch.optim.Optimizer]:
    """The dense optimiser (config.optimizer) and, when the model has puzzle embeddings, the sparse sign-SGD.

    Each param group records its "base_lr" for `set_learning_rates`.
    """
    dense, sparse = split_parameters(model)
    betas = (config.beta1, config.beta2)
    if config.optimizer == "adam-atan2":
        weights = AdamAtan2(dense, lr=config.lr, betas=betas, weight_decay=config.weight_decay)
    else:
        weights = torch.optim.AdamW(dense, lr=config.lr, betas=betas, weight_decay=config.weight_decay, fused=True)
    optimizers: list[torch.optim.Optimizer] = [weights]
    if sparse:
        optimizers.append(SparseSignSGD(sparse, lr=config.puzzle_emb_lr, weight_decay=config.puzzle_emb_weight_decay))
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["base_lr"] = group["lr"]
    return optimizers


def learning_rate(step: int, config: OptimConfig, base_lr: float) -> float:
    """Linear warm-up over `config.warmup_steps`, then constant. `step` counts optimiser steps from 1."""
    if config.warmup_steps == 0:
        return base_lr
    return base_lr * min(1.0, step / config.warmup_steps)


def set_learning_rates(optimizers: list[torch.optim.Optimizer], step: int, config: OptimConfig) -> None:
    """Set every param group's lr for optimiser step `step` (1-based) from its "base_lr"."""
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config, group["base_lr"])
