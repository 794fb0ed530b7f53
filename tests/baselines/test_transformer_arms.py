"""The fixed-depth Transformer arms: parameter matching, compute matching, single pass, carried state."""

import pytest
import torch
from baseline_helpers import build, count_block_calls, reverse_batch
from model_helpers import tiny_config

from baselines.registry import arm_config, build_arm
from hrm.config import ModelConfig
from hrm.layers import TransformerBlock, count_parameters


def _parameter_shapes(model):
    return sorted(tuple(p.shape) for p in model.parameters())


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"H_layers": 2, "L_layers": 3},
        {"H_layers": 3, "L_layers": 1, "H_cycles": 3, "L_cycles": 1},
        {"pos_encodings": "learned"},
        {"puzzle_emb_dim": 0},
        {"puzzle_emb_dim": 80, "num_puzzle_identifiers": 5},
        {"hidden_size": 64, "num_heads": 4, "expansion": 2.0, "vocab_size": 13},
    ],
)
def test_transformer_parameter_count_equals_hrm(changes):
    shared = tiny_config(**changes)
    hrm = build_arm("hrm", arm_config("hrm", shared))
    for name in ("transformer", "transformer-act"):
        model = build_arm(name, arm_config(name, shared))
        assert count_parameters(model) == count_parameters(hrm)
        assert _parameter_shapes(model) == _parameter_shapes(hrm)


def test_transformer_parameter_count_equals_hrm_at_the_paper_config():
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        transformer = build_arm("transformer", arm_config("transformer", ModelConfig()))
    assert count_parameters(transformer) == 27_275_266  # HRM's count at the paper config (HRM.md section 1)


def test_only_hrm_and_transformer_act_hold_initial_state_buffers():
    hrm, transformer, transformer_act = build("hrm"), build("transformer"), build("transformer-act")
    assert {name for name, _ in hrm.named_buffers(recurse=True) if name.endswith("0")} == {"core.z_H0", "core.z_L0"}
    assert transformer.core.initial_state(2, torch.device("cpu")) == ()
    assert [name for name, _ in transformer_act.named_buffers() if name.endswith("h0")] == ["core.h0"]


@pytest.mark.parametrize("cycles", [(1, 1), (2, 2), (2, 3), (3, 1)])
def test_transformer_deep_applies_as_many_blocks_per_segment_as_hrm(cycles):
    N, T = cycles
    hrm = build("hrm", H_cycles=N, L_cycles=T, H_layers=1, L_layers=2)
    deep = build("transformer-deep", H_cycles=N, L_cycles=T, H_layers=1, L_layers=2)
    batch = reverse_batch(hrm.config, 2)
    expected = N * T * 2 + N * 1
    assert count_block_calls(hrm, batch) == count_block_calls(deep, batch) == expected
    assert hrm.block_applications_per_segment() == deep.block_applications_per_segment() == expected
    assert sum(isinstance(m, TransformerBlock) for m in deep.modules()) == expected  # all distinct blocks


@pytest.mark.parametrize("name", ["transformer", "transformer-act"])
def test_transformer_applies_h_layers_plus_l_layers_blocks_per_segment(name):
    model = build(name, H_layers=2, L_layers=3)
    assert count_block_calls(model, reverse_batch(model.config, 2)) == model.block_applications_per_segment() == 5


@pytest.mark.parametrize("name", ["transformer", "transformer-deep"])
def test_single_pass_arms_finish_every_example_in_one_segment(name):
    model = build(name)
    batch = reverse_batch(model.config, 4)
    _, output = model.train_segment(model.initial_carry(batch), batch)
    assert output.halted.all()
    assert output.metrics["count"].item() == 4


def test_single_pass_arm_is_stateless_across_evaluation_segments():
    model = build("transformer")
    result = model.evaluate(reverse_batch(model.config, 3), halt_max_steps=3, record_segments=True)
    assert torch.equal(result.segment_predictions[0], result.segment_predictions[2])


def test_transformer_act_continues_its_examples_in_the_outer_loop():
    model = build("transformer-act", halt_max_steps=4)
    batch = reverse_batch(model.config, 4)
    carry, output = model.train_segment(model.initial_carry(batch), batch)
    assert not output.halted.any()  # untrained Q head: q_halt == q_continue, no halt before Mmax
    carry, output = model.train_segment(carry, batch)
    assert carry.steps.tolist() == [2, 2, 2, 2]


def test_transformer_act_carries_its_detached_output_state_into_the_next_segment():
    core = build("transformer-act").core
    batch = reverse_batch(core.config, 3)
    start = core.initial_state(3, torch.device("cpu"))
    assert torch.equal(start[0], core.h0.expand(3, core.config.prefix_len + core.config.seq_len, -1))
    (h1,), logits1, _ = core(start, batch)
    assert not h1.requires_grad
    assert torch.equal(core.heads(h1)[0], logits1)  # what is carried is the hidden state the output was read from
    (h2,), logits2, _ = core((h1,), batch)
    x = core.embedding(batch["inputs"], batch["puzzle_identifiers"])
    expected = core.tower(h1, x, core.rotary())  # blocks(h_previous + x)
    torch.testing.assert_close(h2, expected, rtol=0, atol=0)
    assert not torch.equal(logits1, logits2)
