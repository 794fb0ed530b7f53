"""Optimisers and the learning-rate schedule (HRM.md section 5)."""

import math

import pytest
import torch
from model_helpers import random_batch, tiny_config
from torch import nn

from hrm.config import OptimConfig
from hrm.errors import ConfigError
from hrm.layers import PuzzleEmbedding
from hrm.model import build_hrm
from hrm.optim import AdamAtan2, SparseSignSGD, build_optimizers, learning_rate, set_learning_rates
from hrm.training import training_step


def test_adam_atan2_update_matches_the_formula_over_two_steps():
    """The adam-atan2 0.0.3 kernel's formula: the first bias correction scales the step, outside the atan2."""
    torch.manual_seed(0)
    p = nn.Parameter(torch.randn(5))
    grads = [torch.randn(5), torch.randn(5)]
    lr, wd, (b1, b2) = 0.1, 0.5, (0.9, 0.95)
    optimizer = AdamAtan2([p], lr=lr, betas=(b1, b2), weight_decay=wd)
    expected, m, v = p.detach().clone(), torch.zeros(5), torch.zeros(5)
    for t, g in enumerate(grads, start=1):
        p.grad = g.clone()
        optimizer.step()
        m, v = torch.lerp(m, g, 1 - b1), torch.lerp(v, g * g, 1 - b2)
        step = (lr / (1 - b1**t)) * torch.atan2(m, torch.sqrt(v) / math.sqrt(1 - b2**t))
        expected = expected * (1 - lr * wd) - step
    torch.testing.assert_close(p.detach(), expected)


def test_adam_atan2_first_step_moves_every_weight_by_atan_of_0_1_over_0_1_times_lr():
    p = nn.Parameter(torch.zeros(4))
    p.grad = torch.tensor([3.0, -1e-3, 1e-20, -7.0])
    AdamAtan2([p], lr=1e-2, betas=(0.9, 0.95), weight_decay=0.0).step()
    step = 1e-2 * math.atan(0.1) / 0.1  # 0.997 lr: m = 0.1 g, sqrt(v) / sqrt(1 - b2) = |g|
    torch.testing.assert_close(p.detach(), -step * p.grad.sign())


def test_adamw_is_selectable():
    model = build_hrm(tiny_config())
    optimizers = build_optimizers(model, OptimConfig(optimizer="adamw", weight_decay=0.1))
    assert isinstance(optimizers[0], torch.optim.AdamW)
    assert isinstance(build_optimizers(model, OptimConfig())[0], AdamAtan2)


def test_sparse_sign_sgd_updates_only_the_rows_in_the_batch():
    embedding = PuzzleEmbedding(5, 3)
    with torch.no_grad():
        embedding.weight.copy_(torch.arange(15.0).view(5, 3))
    before = embedding.weight.detach().clone()
    out = embedding(torch.tensor([1, 3, 1]))
    (out * torch.tensor([[1.0, -2.0, 0.0], [-1.0, 1.0, 3.0], [2.0, 1.0, 0.0]])).sum().backward()
    SparseSignSGD([embedding.weight], lr=0.1, weight_decay=0.5).step()
    after = embedding.weight.detach()
    for row in (0, 2, 4):
        assert torch.equal(after[row], before[row])
    # row 1: summed gradient (3, -1, 0); row 3: (-1, 1, 3)
    torch.testing.assert_close(after[1], before[1] * 0.95 - 0.1 * torch.tensor([1.0, -1.0, 0.0]))
    torch.testing.assert_close(after[3], before[3] * 0.95 - 0.1 * torch.tensor([-1.0, 1.0, 1.0]))


def test_sparse_sign_sgd_rejects_a_dense_gradient():
    p = nn.Parameter(torch.zeros(2, 2))
    p.grad = torch.ones(2, 2)
    with pytest.raises(ConfigError, match="sparse"):
        SparseSignSGD([p]).step()


def test_build_optimizers_finds_puzzle_embeddings_in_any_model():
    class Other(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(3, 3))
            self.table = PuzzleEmbedding(4, 3)

    model = Other()
    dense, sparse = build_optimizers(model, OptimConfig(puzzle_emb_lr=0.01))
    assert [p for group in sparse.param_groups for p in group["params"]] == [model.table.weight]
    dense_params = {id(p) for group in dense.param_groups for p in group["params"]}
    assert id(model.table.weight) not in dense_params and len(dense_params) == 2
    assert sparse.param_groups[0]["lr"] == 0.01


def test_model_without_puzzle_embeddings_gets_one_optimizer():
    assert len(build_optimizers(build_hrm(tiny_config(puzzle_emb_dim=0)), OptimConfig())) == 1


def test_learning_rate_warms_up_linearly_then_stays_constant():
    config = OptimConfig(warmup_steps=10)
    assert [learning_rate(s, config, 1.0) for s in (1, 5, 10, 11, 1000)] == [0.1, 0.5, 1.0, 1.0, 1.0]
    assert learning_rate(1, OptimConfig(warmup_steps=0), 2.0) == 2.0


def test_set_learning_rates_scales_each_optimizer_from_its_own_base():
    model = build_hrm(tiny_config())
    config = OptimConfig(lr=1e-3, puzzle_emb_lr=1e-2, warmup_steps=4)
    optimizers = build_optimizers(model, config)
    set_learning_rates(optimizers, 2, config)
    assert [o.param_groups[0]["lr"] for o in optimizers] == [5e-4, 5e-3]


def test_one_training_step_changes_only_batch_rows_of_the_puzzle_table():
    config = tiny_config(num_puzzle_identifiers=10)
    model = build_hrm(config)
    optimizers = build_optimizers(model, OptimConfig(warmup_steps=0))
    batch = random_batch(config, 4)
    batch["puzzle_identifiers"] = torch.tensor([2, 2, 7, 7])
    training_step(model, optimizers, model.initial_carry(batch), batch)
    changed = (model.core.embedding.puzzle.weight != 0).any(-1).nonzero().flatten().tolist()
    assert changed == [2, 7]
