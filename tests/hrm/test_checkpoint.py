"""Reference models (sapientinc/HRM) in our terms: their configs and their state dicts."""

import pytest
import torch
from model_helpers import random_batch, reference_state_dict, tiny_config

from hrm.checkpoint import load_reference_checkpoint, load_reference_state_dict, model_config_from_reference
from hrm.errors import ConfigError
from hrm.layers import count_parameters
from hrm.model import build_hrm


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
    load_reference_state_dict(target, reference_state_dict(source, prefix))
    batch = random_batch(config, 3)
    expected = source.evaluate(batch, halt_max_steps=2)
    result = target.evaluate(batch, halt_max_steps=2)
    torch.testing.assert_close(result.q_halt_logits, expected.q_halt_logits)
    assert torch.equal(result.predictions, expected.predictions)
    assert target.core.z_H0.dtype == torch.float32


def test_learned_position_table_is_mapped():
    config = tiny_config(pos_encodings="learned")
    source, target = _trained_looking_pair(config)
    state = reference_state_dict(source)
    state["_orig_mod.model.inner.embed_pos.embedding_weight"] = source.core.embedding.positions.detach().clone()
    load_reference_state_dict(target, state)
    assert torch.equal(target.core.embedding.positions, source.core.embedding.positions)


def test_unknown_key_is_named():
    source, target = _trained_looking_pair(tiny_config())
    state = reference_state_dict(source)
    state["_orig_mod.model.inner.extra_head.weight"] = torch.zeros(2)
    with pytest.raises(ConfigError, match="extra_head"):
        load_reference_state_dict(target, state)


def test_missing_key_is_named():
    source, target = _trained_looking_pair(tiny_config())
    state = reference_state_dict(source)
    del state["_orig_mod.model.inner.L_level.layers.0.mlp.down_proj.weight"]
    with pytest.raises(ConfigError, match=r"L_level\.blocks\.0\.mlp\.down\.weight"):
        load_reference_state_dict(target, state)


def test_shape_mismatch_names_the_key_and_both_shapes():
    source = build_hrm(tiny_config(num_puzzle_identifiers=5))
    target = build_hrm(tiny_config(num_puzzle_identifiers=3))
    with pytest.raises(ConfigError, match=r"puzzle\.weight has shape \(5, 32\).*\(3, 32\)"):
        load_reference_state_dict(target, reference_state_dict(source))


def test_checkpoint_file_round_trip(tmp_path):
    source, target = _trained_looking_pair(tiny_config())
    path = tmp_path / "step_100"
    torch.save(reference_state_dict(source), path)
    load_reference_checkpoint(target, path)
    assert torch.equal(target.core.heads.q_head.weight, source.core.heads.q_head.weight)


def test_missing_checkpoint_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nowhere"):
        load_reference_checkpoint(build_hrm(tiny_config()), tmp_path / "nowhere")


# The `arch` section of a reference run's all_config.yaml (Sudoku), as pretrain.py writes it.
_ALL_CONFIG_ARCH = {
    "name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
    "loss": {"name": "losses@ACTLossHead", "loss_type": "stablemax_cross_entropy"},
    "halt_exploration_prob": 0.1, "halt_max_steps": 16, "H_cycles": 2, "L_cycles": 2, "H_layers": 4, "L_layers": 4,
    "hidden_size": 512, "num_heads": 8, "expansion": 4, "puzzle_emb_ndim": 512, "pos_encodings": "rope",
}
_SUDOKU_METADATA = {"vocab_size": 11, "seq_len": 81, "num_puzzle_identifiers": 1}


def test_reference_model_config_dict_becomes_the_same_network():
    arch = {"batch_size": 4, "seq_len": 81, "puzzle_emb_ndim": 192, "num_puzzle_identifiers": 3, "vocab_size": 11,
            "H_cycles": 2, "L_cycles": 3, "H_layers": 2, "L_layers": 1, "hidden_size": 96, "expansion": 4,
            "num_heads": 2, "pos_encodings": "learned", "halt_max_steps": 4, "halt_exploration_prob": 0.1,
            "forward_dtype": "float32"}
    config = model_config_from_reference(arch)
    assert (config.hidden_size, config.prefix_len, config.L_cycles, config.L_layers) == (96, 2, 3, 1)
    assert config.pos_encodings == "learned" and config.expansion == 4.0 and config.ffn_multiple == 256


def test_all_config_arch_section_takes_its_sizes_from_the_dataset_metadata():
    config = model_config_from_reference(_ALL_CONFIG_ARCH, **_SUDOKU_METADATA)
    assert count_parameters(build_hrm(config)) == 27_275_266
    assert config.loss_type == "stablemax" and config.halt_max_steps == 16


def test_reference_defaults_apply_to_absent_keys():
    arch = {k: v for k, v in _ALL_CONFIG_ARCH.items() if k != "puzzle_emb_ndim"}
    config = model_config_from_reference(arch, **_SUDOKU_METADATA)
    assert config.prefix_len == 0 and config.rope_theta == 10000.0 and config.rms_norm_eps == 1e-5


def test_missing_dataset_size_is_named():
    with pytest.raises(ConfigError, match="seq_len is missing"):
        model_config_from_reference(_ALL_CONFIG_ARCH, vocab_size=11, num_puzzle_identifiers=1)


def test_dataset_size_disagreeing_with_the_arch_is_named():
    with pytest.raises(ConfigError, match="vocab_size is 11 but the dataset's metadata says 12"):
        model_config_from_reference({**_ALL_CONFIG_ARCH, **_SUDOKU_METADATA}, vocab_size=12)


def test_missing_required_reference_key_is_named():
    arch = {k: v for k, v in _ALL_CONFIG_ARCH.items() if k != "L_cycles"}
    with pytest.raises(ConfigError, match="L_cycles is missing"):
        model_config_from_reference(arch, **_SUDOKU_METADATA)


def test_unknown_reference_key_is_named():
    with pytest.raises(ConfigError, match="mlp_t"):
        model_config_from_reference({**_ALL_CONFIG_ARCH, "mlp_t": True}, **_SUDOKU_METADATA)


@pytest.mark.parametrize(("key", "value"), [
    ("name", "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"),
    ("pos_encodings", "alibi"),
    ("forward_dtype", "float16"),
    ("causal", True),
    ("loss", {"name": "losses@ACTLossHead", "loss_type": "focal_loss"}),
])
def test_unsupported_reference_value_is_named(key, value):
    with pytest.raises(ConfigError, match=key if key != "loss" else "loss_type"):
        model_config_from_reference({**_ALL_CONFIG_ARCH, key: value}, **_SUDOKU_METADATA)


def test_out_of_range_reference_value_is_named_with_our_field():
    with pytest.raises(ConfigError, match=r"reference arch: ModelConfig\.halt_exploration_prob"):
        model_config_from_reference({**_ALL_CONFIG_ARCH, "halt_exploration_prob": 2.0}, **_SUDOKU_METADATA)
