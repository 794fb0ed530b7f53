"""One segment: call order, the one-step gradient vs BPTT, detached state, activation memory (HRM.md 2)."""

import pytest
import torch
from model_helpers import random_batch, tiny_config

from hrm.memory import measure_activation_memory
from hrm.model import HRMCore, build_hrm


def _record_calls(core):
    calls = []
    for name, module in (("L", core.L_level), ("H", core.H_level)):
        module.register_forward_hook(lambda _m, _i, out, name=name: calls.append((name, out.requires_grad)))
    return calls


def _run(core, config):
    state = core.initial_state(2, torch.device("cpu"))
    return core(state, random_batch(config, 2))


def test_segment_runs_T_L_steps_then_one_H_step_N_times():
    config = tiny_config(H_cycles=3, L_cycles=2)
    core = HRMCore(config)
    calls = _record_calls(core)
    _run(core, config)
    assert "".join(name for name, _ in calls) == "LLH" * 3


def test_one_step_mode_differentiates_only_the_last_L_and_last_H_call():
    config = tiny_config(H_cycles=2, L_cycles=3, gradient_mode="one_step")
    core = HRMCore(config)
    calls = _record_calls(core)
    _run(core, config)
    assert [grad for _, grad in calls] == [False] * 6 + [True, True]
    assert calls[-2][0] == "L" and calls[-1][0] == "H"


def test_bptt_mode_differentiates_every_call():
    config = tiny_config(H_cycles=2, L_cycles=3, gradient_mode="bptt")
    core = HRMCore(config)
    calls = _record_calls(core)
    _run(core, config)
    assert [grad for _, grad in calls] == [True] * 8


def test_both_gradient_modes_compute_the_same_forward_values():
    config = tiny_config()
    torch.manual_seed(0)
    one_step = HRMCore(config)
    bptt = HRMCore(config.replace(gradient_mode="bptt"))
    bptt.load_state_dict(one_step.state_dict())
    (state_a, logits_a, q_a), (state_b, logits_b, q_b) = _run(one_step, config), _run(bptt, config)
    torch.testing.assert_close(logits_a, logits_b)
    torch.testing.assert_close(q_a, q_b)
    torch.testing.assert_close(state_a, state_b)


def test_returned_state_is_detached():
    config = tiny_config(gradient_mode="bptt")
    (z_H, z_L), logits, _ = _run(HRMCore(config), config)
    assert logits.requires_grad
    assert not z_H.requires_grad and not z_L.requires_grad


def test_block_applications_count_every_L_and_H_block():
    config = tiny_config(H_cycles=2, L_cycles=3, H_layers=2, L_layers=4)
    assert HRMCore(config).block_applications() == 2 * (3 * 4 + 2)


def _saved_bytes(mode, cycles, steps):
    torch.manual_seed(0)
    config = tiny_config(H_cycles=cycles, L_cycles=steps, gradient_mode=mode)
    return measure_activation_memory(build_hrm(config), random_batch(config, 4)).saved_bytes


def test_one_step_saved_bytes_do_not_depend_on_N_or_T():
    sizes = {_saved_bytes("one_step", n, t) for n, t in [(1, 1), (2, 2), (2, 4), (4, 8)]}
    assert len(sizes) == 1


def test_bptt_saved_bytes_grow_linearly_with_the_number_of_calls():
    pairs = [(1, 1), (2, 2), (2, 4), (4, 8)]
    calls = [n * t + n for n, t in pairs]  # L calls + H calls (H_layers == L_layers)
    sizes = [_saved_bytes("bptt", n, t) for n, t in pairs]
    per_call = (sizes[1] - sizes[0]) / (calls[1] - calls[0])
    assert per_call > 0
    for size, count in zip(sizes, calls, strict=True):
        assert size == sizes[0] + per_call * (count - calls[0])
    assert sizes[0] == _saved_bytes("one_step", 1, 1)  # one L and one H call: the same graph


@pytest.mark.parametrize("mode", ["one_step", "bptt"])
def test_gradients_reach_weights_embeddings_and_heads(mode):
    config = tiny_config(gradient_mode=mode)
    model = build_hrm(config)
    batch = random_batch(config, 4)
    _, out = model.train_segment(model.initial_carry(batch), batch)
    out.loss.backward()
    core = model.core
    for parameter in (core.embedding.tokens, core.embedding.puzzle.weight, core.heads.lm_head.weight,
                      core.heads.q_head.bias, core.L_level.blocks[0].attn.qkv.weight,
                      core.H_level.blocks[0].mlp.down.weight):
        assert parameter.grad is not None
