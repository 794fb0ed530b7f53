"""Loading state dicts in the reference implementation's naming (sapientinc/HRM)."""

import pytest
import torch

from hrm.checkpoint import load_reference_checkpoint, load_reference_state_dict
from hrm.errors import ConfigError
from hrm.fixtures import random_batch, tiny_config
from hrm.model import build_hrm


def _reference_state_dict(model, prefix="_orig_mod.model.inner."):
    """Our weights written under the reference's parameter names, initial states in bf16 as it saves them."""
    core = model.core
    names = {
        "embed_tokens.embedding_weight": core.embedding.tokens,
        "puzzle_emb.weights": core.embedding.puzzle.weight,
        "lm_head.weight": core.heads.lm_head.weight,
        "q_head.weight": core.heads.q_head.weight,
        "q_head.bias": core.heads.q_head.bias,
        "H_init": core.z_H0.to(torch.bfloat16),
        "L_init": core.z_L0.to(torch.bfloat16),
    }
    for level, module in (("H_level", core.H_level), ("L_level", core.L_level)):
        for i, block in enumerate(module.blocks):
            names[f"{level}.layers.{i}.self_attn.qkv_proj.weight"] = block.attn.qkv.weight
            names[f"{level}.layers.{i}.self_attn.o_proj.weight"] = block.attn.out.weight
            names[f"{level}.layers.{i}.mlp.gate_up_proj.weight"] = block.mlp.gate_up.weight
            names[f"{level}.layers.{i}.mlp.down_proj.weight"] = block.mlp.down.weight
    return {prefix + name: value.detach().clone() for name, value in names.items()}


def _trained_looking_pair(config):
    torch.manual_seed(0)
    source = build_hrm(config)
    with torch.no_grad():
        source.core.embedding.puzzle.weight.normal_()
        source.core.heads.q_head.weight.normal_()
        source.core.z_H0.copy_(source.core.z_H0.to(torch.bfloat16))  # representable after the bf16 round trip
        source.core.z_L0.copy_(source.core.z_L0.to(torch.bfloat16))
    torch.manual_seed(1)
    return source, build_hrm(config)


@pytest.mark.parametrize("prefix", ["_orig_mod.model.inner.", "model.inner.", ""])
def test_reference_state_dict_loads_and_reproduces_the_model(prefix):
    config = tiny_config()
    source, target = _trained_looking_pair(config)
    load_reference_state_dict(target, _reference_state_dict(source, prefix))
    batch = random_batch(config, 3)
    expected = source.evaluate(batch, max_segments=2)
    result = target.evaluate(batch, max_segments=2)
    torch.testing.assert_close(result.q_halt_logits, expected.q_halt_logits)
    assert torch.equal(result.predictions, expected.predictions)
    assert target.core.z_H0.dtype == torch.float32


def test_learned_position_table_is_mapped():
    config = tiny_config(pos_encodings="learned")
    source, target = _trained_looking_pair(config)
    state = _reference_state_dict(source)
    state["_orig_mod.model.inner.embed_pos.embedding_weight"] = source.core.embedding.positions.detach().clone()
    load_reference_state_dict(target, state)
    assert torch.equal(target.core.embedding.positions, source.core.embedding.positions)


def test_unknown_key_is_named():
    source, target = _trained_looking_pair(tiny_config())
    state = _reference_state_dict(source)
    state["_orig_mod.model.inner.extra_head.weight"] = torch.zeros(2)
    with pytest.raises(ConfigError, match="extra_head"):
        load_reference_state_dict(target, state)


def test_missing_key_is_named():
    source, target = _trained_looking_pair(tiny_config())
    state = _reference_state_dict(source)
    del state["_orig_mod.model.inner.L_level.layers.0.mlp.down_proj.weight"]
    with pytest.raises(ConfigError, match=r"L_level\.blocks\.0\.mlp\.down\.weight"):
        load_reference_state_dict(target, state)


def test_shape_mismatch_names_the_key_and_both_shapes():
    source = build_hrm(tiny_config(num_puzzle_identifiers=5))
    target = build_hrm(tiny_config(num_puzzle_identifiers=3))
    with pytest.raises(ConfigError, match=r"puzzle\.weight has shape \(5, 32\).*\(3, 32\)"):
        load_reference_state_dict(target, _reference_state_dict(source))


def test_checkpoint_file_round_trip(tmp_path):
    source, target = _trained_looking_pair(tiny_config())
    path = tmp_path / "step_100"
    torch.save(_reference_state_dict(source), path)
    load_reference_checkpoint(target, path)
    assert torch.equal(target.core.heads.q_head.weight, source.core.heads.q_head.weight)


def test_missing_checkpoint_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nowhere"):
        load_reference_checkpoint(build_hrm(tiny_config()), tmp_path / "nowhere")
