"""HRM's update schedule and its trajectory probe (for the claims on hierarchical convergence)."""

from __future__ import annotations

import torch
from model_helpers import random_batch, tiny_config

from hrm.model import build_hrm


def test_the_schedule_is_T_L_updates_then_one_H_update_per_cycle():
    model = build_hrm(tiny_config(H_cycles=2, L_cycles=3))
    assert model.core.schedule() == ["L", "L", "L", "H", "L", "L", "L", "H"]


def test_the_trajectory_ends_in_the_state_a_segment_returns():
    torch.manual_seed(0)
    config = tiny_config(H_cycles=3, L_cycles=2)
    model = build_hrm(config).eval()
    batch = random_batch(config, 4)
    start = model.core.initial_state(4, torch.device("cpu"))
    with torch.no_grad():
        (z_H, z_L), _, _ = model.core(start, batch)
    states = model.core.trajectory(start, batch)
    assert [module for module, _, _ in states] == model.core.schedule()
    assert torch.equal(states[-1][1], z_H) and torch.equal(states[-1][2], z_L)


def test_the_flat_trajectory_never_updates_z_H():
    config = tiny_config()
    model = build_hrm(config).eval()
    batch = random_batch(config, 2)
    start = model.core.initial_state(2, torch.device("cpu"))
    states = model.core.trajectory(start, batch, flat=True)
    assert len(states) == len(model.core.schedule()) and all(module == "L" for module, _, _ in states)
    assert all(torch.equal(z_H, start[0]) for _, z_H, _ in states)
