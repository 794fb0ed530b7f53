"""FLOP counting (the MFU numerator) against the analytic count of the same segment."""

from __future__ import annotations

import torch

from baselines.registry import arm_config, build_arm
from benchmarks.flops import count_flops, matmul_flops_per_s, segment_forward_flops
from hrm.config import ModelConfig


def _batch(config: ModelConfig, size: int) -> dict[str, torch.Tensor]:
    inputs = torch.randint(1, config.vocab_size, (size, config.seq_len))
    return {"inputs": inputs, "labels": inputs.clone(), "puzzle_identifiers": torch.zeros(size, dtype=torch.long)}


def test_counted_flops_of_one_evaluated_segment_match_the_analytic_count():
    config = arm_config("hrm", ModelConfig(vocab_size=6, seq_len=16, hidden_size=32, num_heads=2, H_layers=1,
                                           L_layers=2, puzzle_emb_dim=32))
    model = build_arm("hrm", config).eval()
    counted = count_flops(lambda: model.evaluate(_batch(config, 3), halt_max_steps=1))
    analytic = 3 * segment_forward_flops(config, model.block_applications_per_segment())
    q_head = 3 * 2 * config.hidden_size * 2
    assert counted == analytic + q_head


def test_counted_training_flops_grow_with_bptt():
    config = ModelConfig(vocab_size=6, seq_len=16, hidden_size=32, num_heads=2, H_layers=1, L_layers=1,
                         puzzle_emb_dim=0, L_cycles=4)
    counts = {}
    for arm in ("hrm", "hrm-bptt"):
        model = build_arm(arm, arm_config(arm, config))
        batch = _batch(config, 2)

        def step(model=model, batch=batch):
            _, output = model.train_segment(model.initial_carry(batch), batch)
            output.loss.backward()

        counts[arm] = count_flops(step)
    assert counts["hrm-bptt"] > counts["hrm"] > 0


def test_matmul_rate_is_positive_on_cpu():
    assert matmul_flops_per_s(torch.device("cpu"), 64, repeats=2) > 0
