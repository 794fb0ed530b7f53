"""TRM: recursion structure, gradient depth and memory, prefix length, EMA weights for evaluation."""

import dataclasses

import pytest
import torch
from baseline_helpers import build, count_block_calls, reverse_batch, train

from baselines import trm
from baselines.trm import TRMCore
from hrm import model as hrm_model
from hrm.act import ACTModel
from hrm.config import ModelConfig
from hrm.errors import ConfigError
from hrm.layers import TransformerBlock
from hrm.memory import measure_activation_memory


def _saved_bytes(**overrides) -> int:
    model = build("trm", **overrides)
    return measure_activation_memory(model, reverse_batch(model.config, 4)).saved_bytes


@pytest.mark.parametrize("cycles", [(1, 1), (3, 6), (2, 4)])
def test_trm_applies_t_recursions_of_n_plus_one_network_calls(cycles):
    T, n = cycles
    model = build("trm", H_cycles=T, L_cycles=n, L_layers=2)
    assert count_block_calls(model, reverse_batch(model.config, 2)) == T * (n + 1) * 2
    assert model.block_applications_per_segment() == T * (n + 1) * 2


def test_loop_names_give_each_arm_its_own_symbol_for_the_config_loop_fields():
    symbols = {arm: {field: name.split()[0] for field, name in names.items()}
               for arm, names in (("trm", trm.LOOP_NAMES), ("hrm", hrm_model.LOOP_NAMES))}
    assert symbols == {"trm": {"H_cycles": "T", "L_cycles": "n"}, "hrm": {"H_cycles": "N", "L_cycles": "T"}}
    assert set(trm.LOOP_NAMES) <= {f.name for f in dataclasses.fields(ModelConfig)}


def test_trm_is_one_network_of_l_layers_blocks():
    assert sum(isinstance(m, TransformerBlock) for m in build("trm").modules()) == 2
    assert sum(isinstance(m, TransformerBlock) for m in build("trm", L_layers=3).modules()) == 3


def test_trm_saved_bytes_grow_linearly_with_n():
    sizes = [_saved_bytes(H_cycles=2, L_cycles=n) for n in (1, 2, 3, 5)]
    steps = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
    assert steps[0] > 0
    assert steps == [steps[0], steps[0], 2 * steps[0]]


def test_trm_saved_bytes_do_not_grow_with_t():
    assert len({_saved_bytes(H_cycles=T, L_cycles=2) for T in (1, 2, 3, 5)}) == 1


def test_trm_first_recursions_carry_no_gradient():
    """T=2 from state s equals T=1 from s' = one no-grad recursion of s: same outputs, same gradients."""
    deep = build("trm", H_cycles=2, L_cycles=2)
    shallow = build("trm", H_cycles=1, L_cycles=2)
    shallow.load_state_dict(deep.state_dict())
    batch = reverse_batch(deep.config, 3)
    start = deep.core.initial_state(3, torch.device("cpu"))
    with torch.no_grad():
        after_one, _, _ = shallow.core(start, batch)
    outputs = []
    for core, state in ((deep.core, start), (shallow.core, after_one)):
        new_state, logits, q_logits = core(state, batch)
        (logits.square().sum() + q_logits.sum()).backward()
        outputs.append((new_state, logits, {n: p.grad for n, p in core.named_parameters() if p.grad is not None}))
    (state_a, logits_a, grads_a), (state_b, logits_b, grads_b) = outputs
    torch.testing.assert_close(logits_a, logits_b)
    torch.testing.assert_close(state_a, state_b)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 0
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name])


def test_trm_prefix_length_setting():
    model = build("trm")  # registry default: 16 prefix positions
    assert model.config.prefix_len == 16
    state = model.core.initial_state(2, torch.device("cpu"))
    assert all(s.shape == (2, 16 + model.config.seq_len, model.config.hidden_size) for s in state)
    assert build("trm", puzzle_emb_len=2).config.prefix_len == 2


def test_trm_prefix_too_short_for_the_puzzle_embedding_raises_config_error():
    with pytest.raises(ConfigError, match="puzzle_emb_len"):
        build("trm", puzzle_emb_len=1, puzzle_emb_dim=64)


def test_trm_ema_differs_from_live_weights_after_training_steps():
    model = build("trm", H_cycles=2, L_cycles=2, ema_decay=0.9)
    initial = {name: model.ema.average(name).clone() for name in model.ema.names}
    train(model, reverse_batch(model.config, 4), steps=3)
    params = dict(model.named_parameters())
    moved = [name for name in model.ema.names if not torch.equal(params[name], initial[name])]
    assert len(moved) > 0
    for name in moved:  # the average moved towards the live weights without reaching them
        assert not torch.equal(model.ema.average(name), params[name])
        assert not torch.equal(model.ema.average(name), initial[name])


def test_trm_ema_follows_the_formula():
    model = build("trm", H_cycles=1, L_cycles=1, ema_decay=0.75)
    name = "core.heads.lm_head.weight"
    average = model.ema.average(name).clone()
    train(model, reverse_batch(model.config, 4), steps=1)
    live = model.get_parameter(name).detach()
    torch.testing.assert_close(model.ema.average(name), 0.75 * average + 0.25 * live)


def test_trm_ema_leaves_puzzle_embeddings_out():
    model = build("trm")
    assert model.core.embedding.puzzle is not None
    assert "core.embedding.puzzle.weight" not in model.ema.names
    assert "core.heads.q_head.bias" in model.ema.names


def test_trm_evaluates_with_ema_weights_and_restores_live_weights():
    model = build("trm", H_cycles=2, L_cycles=2, ema_decay=0.9)
    batch = reverse_batch(model.config, 4)
    train(model, batch, steps=20)
    live = {k: v.clone() for k, v in model.state_dict().items()}

    result = model.evaluate(batch, halt_max_steps=2)

    for key, value in model.state_dict().items():
        assert torch.equal(value, live[key]), key
    averaged = ACTModel(TRMCore(model.config))
    averaged.core.load_state_dict({k.removeprefix("core."): v for k, v in live.items() if k.startswith("core.")})
    plain = averaged.evaluate(batch, halt_max_steps=2)  # live weights
    with torch.no_grad():
        for name in model.ema.names:
            averaged.get_parameter(name).copy_(model.ema.average(name))
    expected = averaged.evaluate(batch, halt_max_steps=2)  # EMA weights
    assert torch.equal(result.q_halt_logits, expected.q_halt_logits)
    assert torch.equal(result.predictions, expected.predictions)
    assert not torch.equal(result.q_halt_logits, plain.q_halt_logits)


def test_trm_ema_is_saved_and_resumed_with_the_state_dict():
    model = build("trm", H_cycles=1, L_cycles=1, ema_decay=0.5)
    train(model, reverse_batch(model.config, 4), steps=2)
    resumed = build("trm", seed=1, H_cycles=1, L_cycles=1, ema_decay=0.5)
    probe = "core.heads.lm_head.weight"
    assert not torch.equal(resumed.ema.average(probe), model.ema.average(probe))
    resumed.load_state_dict(model.state_dict())
    ema_keys = [key for key in model.state_dict() if key.startswith("ema.")]
    assert len(ema_keys) == len(model.ema.names)
    for name in model.ema.names:
        assert torch.equal(resumed.ema.average(name), model.ema.average(name))
